"""End-to-end training on the toy corpus: quality, determinism, in-place updates."""
import numpy as np
import pytest

from w2v import Trainer, Word2Vec
from w2v.evaluation import evaluate_analogies


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_both_optimizers_solve_the_planted_analogies(trained_models, toy_questions, optimizer):
    result = evaluate_analogies(trained_models[optimizer], toy_questions, restrict_vocab=None)
    assert result["answered"] == 528 and result["skipped"] == 0
    assert result["accuracy"] >= 0.9, result["sections"]


def test_an_untrained_model_does_not_solve_them(toy_corpus, toy_questions):
    model = Word2Vec(workers=1).build_vocab(toy_corpus)
    assert evaluate_analogies(model, toy_questions, restrict_vocab=None)["accuracy"] < 0.1


def test_two_workers_train_as_well(toy_corpus, toy_questions):
    model = Word2Vec(toy_corpus, workers=2, progress=False)
    assert model.last_report.workers == 2
    assert evaluate_analogies(model, toy_questions, restrict_vocab=None)["accuracy"] >= 0.9


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_one_worker_with_a_seed_is_bit_for_bit_reproducible(toy_corpus, optimizer):
    runs = [Word2Vec(toy_corpus, optimizer=optimizer, workers=1, seed=3, epochs=2,
                     progress=False) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].W_in, runs[1].W_in)
    np.testing.assert_array_equal(runs[0].W_out, runs[1].W_out)
    assert [e["loss"] for e in runs[0].history] == [e["loss"] for e in runs[1].history]
    other = Word2Vec(toy_corpus, optimizer=optimizer, workers=1, seed=4, epochs=2, progress=False)
    assert not np.array_equal(runs[0].W_in, other.W_in)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_word_vecs_is_W_in_updated_in_place(toy_corpus, optimizer):
    model = Word2Vec(optimizer=optimizer, workers=1, epochs=1).build_vocab(toy_corpus)
    W_in, W_out = model.W_in, model.W_out
    moments = model.adam_moments()
    before = W_in.copy()
    model.train(progress=False)
    assert model.word_vecs is W_in and model.W_in is W_in and model.W_out is W_out
    assert not np.array_equal(before, W_in)          # the same array, changed in place
    assert np.abs(W_out).sum() > 0                    # W_out starts at zero and learns
    if optimizer == "adam":
        assert all(m is n for m, n in zip(moments, model.adam_moments()))
        assert np.abs(moments[1]).sum() > 0
        assert model.adam_step > 0
    else:
        assert moments is None


def test_callbacks_history_and_report(toy_corpus):
    seen = []
    model = Word2Vec(toy_corpus, workers=1, epochs=3, progress=False,
                     callbacks=[lambda m, stats: seen.append((m, stats))])
    assert [s.epoch for _, s in seen] == [1, 2, 3] and all(m is model for m, _ in seen)
    losses = [s.loss for _, s in seen]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    report = model.last_report
    assert report.words == 3 * model.corpus.n_words
    assert report.raw_words == 3 * model.corpus.stats.tokens
    assert report.words_per_second > 0 and report.windows > 0
    # the epoch loss is the exact mean over the windows trained
    assert len(model.history) == 3 and model.history[0]["loss"] == seen[0][1].loss


def test_adam_steps_count_minibatches(toy_corpus):
    model = Word2Vec(workers=1, epochs=1, batch_words=50, chunk_words=1000000)
    model.build_vocab(toy_corpus)
    model.train(progress=False)
    windows = model.last_report.windows
    assert model.adam_step == -(-windows // 50)      # one chunk: ceil(windows / batch)


def test_training_continues_and_learning_rate_decays(toy_corpus):
    model = Word2Vec(toy_corpus, workers=1, epochs=2, progress=False)
    lrs = [e["lr"] for e in model.history]
    assert lrs[0] > lrs[1] == pytest.approx(model.config.min_lr)
    model.train(epochs=1, progress=False)
    assert len(model.history) == 3 and model.train_runs == 2


def test_training_errors(toy_corpus):
    with pytest.raises(RuntimeError, match="build_vocab"):
        Word2Vec().train()
    model = Word2Vec(workers=1).build_vocab(toy_corpus)
    with pytest.raises(ValueError, match="epochs"):
        model.train(epochs=0)
    with pytest.raises(TypeError, match="callable"):
        model.train(callbacks=[3])
    with pytest.raises(ValueError, match="no sentence has two"):
        Word2Vec([["a"], ["a"], ["b"], ["b"]], min_count=1, progress=False)


def test_trainer_can_be_used_directly(toy_corpus):
    model = Word2Vec(workers=1, epochs=1).build_vocab(toy_corpus)
    assert Trainer(model, model.corpus, progress=False).train() is model
    assert model.history and model.last_report.epochs[0].windows > 0


def test_full_windows_option_trains_and_differs(toy_corpus):
    shrunk = Word2Vec(toy_corpus, workers=1, epochs=1, seed=5, progress=False)
    full = Word2Vec(toy_corpus, workers=1, epochs=1, seed=5, shrink_windows=False, progress=False)
    assert full.config.shrink_windows is False
    assert full.last_report.windows > 0 and shrunk.last_report.windows > 0
    assert not np.array_equal(full.W_in, shrunk.W_in)
    assert full.analogy("man", "king", "woman")[0][0] == "queen"


def test_a_prepared_corpus_is_reused_without_reading(toy_corpus):
    first = Word2Vec(workers=1).build_vocab(toy_corpus)
    second = Word2Vec(optimizer="sgd", workers=1, epochs=1)
    second.build_vocab(first.corpus, vocab=first.vocab).train(progress=False)
    assert second.corpus is first.corpus and second.vocab is first.vocab
    assert second.history


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_lr_range_replaces_the_schedule_of_a_run(toy_corpus, optimizer):
    model = Word2Vec(optimizer=optimizer, workers=1, epochs=2, seed=3).build_vocab(toy_corpus)
    config = model.config
    default = (config.lr, config.min_lr) if optimizer == "adam" else (config.alpha, config.min_alpha)
    W_in = model.W_in.copy()
    Trainer(model, model.corpus, progress=False, lr_range=default).train()
    same = Word2Vec(optimizer=optimizer, workers=1, epochs=2, seed=3, corpus=toy_corpus, progress=False)
    np.testing.assert_array_equal(model.W_in, same.W_in)      # the default range: no change
    model.W_in[:] = W_in
    model.history.clear()
    Trainer(model, model.corpus, epochs=2, progress=False, lr_range=(0.004, 0.002)).train()
    assert [e["lr"] for e in model.history] == pytest.approx([0.003, 0.002])
    for bad in [(0, 0.1), (0.1, -1), (float("nan"), 0.1), (0.1,), "ab"]:
        with pytest.raises(ValueError, match="lr_range"):
            Trainer(model, model.corpus, progress=False, lr_range=bad)
