"""The word2vec family in one core: skip-gram and hierarchical softmax beside CBOW.

Kernels of single steps are in test_kernels.py; here: the Huffman tree, the examples a
sentence gives (checked against word2vec's loops in NumPy), and training end to end for
every model and optimizer."""
import heapq
from functools import partial

import numpy as np
import pytest

from w2v import Config, Word2Vec
from w2v.core import train as core
from w2v.evaluation import evaluate_analogies

from reference import huffman_word2vec, train_sentence_hs

MODELS = {"cbow-ns": {}, "cbow-hs": {"hs": True, "negative": 0},
          "cbow-both": {"hs": True}, "sg-ns": {"sg": True},
          "sg-hs": {"sg": True, "hs": True, "negative": 0}, "sg-both": {"sg": True, "hs": True},
          "sg-ns-pairs": {"sg": True, "shared_negatives": False}}


# ------------------------------------------------------------------ Huffman tree
def paths_of(counts):
    starts, codes, points = core.build_huffman_tree(np.asarray(counts))
    return [(codes[a:b].tolist(), points[a:b].tolist()) for a, b in zip(starts[:-1], starts[1:])]


@pytest.mark.parametrize("counts", [
    [5, 3], [10, 10, 10, 10], [9, 7, 7, 7, 3, 3, 1, 1, 1], [100, 50, 20, 20, 5, 5, 5, 2, 1, 1, 0, 0],
    sorted(np.random.default_rng(1).integers(0, 30, 300).tolist(), reverse=True),
    sorted(np.random.default_rng(2).zipf(1.3, 2000).clip(max=10**6).tolist(), reverse=True),
])
def test_huffman_tree_is_word2vecs(counts):
    got = paths_of(counts)
    assert got == huffman_word2vec(counts)
    n = len(counts)
    codes = ["".join(map(str, c)) for c, _ in got]
    # a prefix code over the whole tree: Kraft's sum is exactly 1, no code prefixes another
    assert sum(2.0 ** -len(c) for c in codes) == pytest.approx(1.0)
    ordered = sorted(codes)
    assert not any(b.startswith(a) for a, b in zip(ordered, ordered[1:]))
    # every path starts at the root (the last inner node) and stays among the n - 1
    assert all(p[0] == n - 2 and 0 <= min(p) and max(p) <= n - 2 for _, p in got)
    # optimal: the weighted path length equals Huffman's cost (heapq)
    heap = list(counts)
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    assert sum(c * len(code) for c, code in zip(counts, codes)) == cost


def test_frequent_words_get_short_codes():
    starts, _, _ = core.build_huffman_tree(np.array([1000, 100, 10, 1, 1]))
    lengths = np.diff(starts)
    assert lengths[0] == 1 and list(lengths) == sorted(lengths)


def test_unsorted_counts_get_the_codes_of_their_sorted_order():
    counts = np.array([4, 9, 1, 9, 2, 7])             # a grown vocabulary, pretrained words
    order = np.argsort(-counts, kind="stable")
    by_sorted = paths_of(counts[order])
    got = paths_of(counts)
    assert [got[w] for w in order] == by_sorted


def test_huffman_tree_rejects_bad_counts():
    with pytest.raises(ValueError, match="at least 2"):
        core.build_huffman_tree(np.array([3]))
    with pytest.raises(ValueError, match=">= 0"):
        core.build_huffman_tree(np.array([1, -3]))


# ------------------------------------------------- a sentence's examples, against word2vec
@pytest.mark.parametrize("hot_rows", [0, 3, 64])        # none, the top 3 nodes, all 8
@pytest.mark.parametrize("sg", [False, True])
def test_a_sentence_trains_as_word2vecs_loops(sg, hot_rows):
    rng = np.random.default_rng(5)
    vocab, dim, window, lr = 9, 8, 2, 0.05
    counts = np.array([30, 20, 12, 9, 7, 5, 3, 2, 1])
    W_in = rng.normal(0, 0.3, (vocab, dim)).astype(np.float32)
    W_hs = rng.normal(0, 0.3, (vocab - 1, dim)).astype(np.float32)
    sentence = [3, 0, 8, 1, 1, 5, 2, 7, 0, 4, 6]
    ref_in, ref_hs = W_in.astype(np.float64), W_hs.astype(np.float64)
    ref_loss = train_sentence_hs(ref_in, ref_hs, sentence, window, lr, huffman_word2vec(counts), sg)
    arrays = core.TrainingArrays(
        tables={"in": W_in, "hs": W_hs}, moments=None, keep_prob=np.ones(vocab, np.float32),
        ids=np.array(sentence, np.int32), sentence_starts=np.array([0, len(sentence)], np.int64),
        huffman=core.build_huffman_tree(counts), sg=sg, window=window, negative=0, hs=True,
        shrink_windows=False, hot_hs_rows=hot_rows, hot_sync_windows=4)
    words, windows, loss, _ = core.train_chunk(arrays, core.Worker(arrays, 1, 0), 0, 1, lr, lr)
    assert (words, windows) == (len(sentence), len(sentence))
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(W_in, ref_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(W_hs, ref_hs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_one_thread_trains_the_same_with_or_without_hot_row_copies(toy_corpus, monkeypatch,
                                                                    model, optimizer):
    """A thread's own copies of the hot output rows change nothing on one thread: every
    sync finds the shared rows as it left them (hot_rows.pxd)."""
    real = core.TrainingArrays
    runs = []
    for hot, sync in ((0, 1), (64, 7), (5000, 1)):
        monkeypatch.setattr(core, "TrainingArrays", partial(real, hot_hs_rows=hot,
                                                            hot_sync_windows=sync))
        runs.append(Word2Vec(toy_corpus, optimizer=optimizer, workers=1, seed=3, epochs=1,
                             progress=False, **MODELS[model]))
    for run in runs[1:]:
        for name, table in runs[0].tables().items():
            np.testing.assert_array_equal(table, run.tables()[name], err_msg=name)
        assert run.history[0]["loss"] == runs[0].history[0]["loss"]


@pytest.mark.parametrize("model", ["cbow-hs", "sg-both"])
def test_two_threads_merge_their_hot_row_copies_into_a_good_model(toy_corpus, toy_questions,
                                                                   monkeypatch, model):
    """Two threads, each with its copies of the Huffman rows nearest the root, merged
    every 2 windows (many merges while the other thread moves the same rows)."""
    monkeypatch.setattr(core, "TrainingArrays", partial(core.TrainingArrays, hot_sync_windows=2))
    trained = Word2Vec(toy_corpus, optimizer="sgd", workers=2, seed=7, chunk_words=500,
                       progress=False, **MODELS[model])
    assert trained.state.all_finite()
    assert evaluate_analogies(trained, toy_questions, restrict_vocab=None)["accuracy"] >= 0.9


def test_hot_row_settings_are_checked():
    arrays = dict(tables={"in": np.zeros((3, 4), np.float32), "hs": np.zeros((2, 4), np.float32)},
                  moments=None, keep_prob=np.ones(3, np.float32), ids=np.zeros(2, np.int32),
                  sentence_starts=np.array([0, 2], np.int64), negative=0, hs=True,
                  huffman=core.build_huffman_tree(np.array([3, 2, 1])))
    for bad in (dict(hot_hs_rows=-1), dict(hot_sync_windows=0)):
        with pytest.raises(ValueError, match="hot_hs_rows >= 0 and hot_sync_windows >= 1"):
            core.TrainingArrays(**arrays, **bad)


# ------------------------------------------------------------------ end to end
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_model_solves_the_planted_analogies(toy_corpus, toy_questions, model, optimizer):
    trained = Word2Vec(toy_corpus, optimizer=optimizer, workers=1, seed=7, progress=False,
                       **MODELS[model])
    result = evaluate_analogies(trained, toy_questions, restrict_vocab=None)
    assert result["accuracy"] >= 0.9, result["sections"]
    losses = [h["loss"] for h in trained.history]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("model", ["sg-both", "cbow-hs", "sg-ns-pairs"])
def test_one_worker_is_bit_for_bit_reproducible(toy_corpus, model, optimizer):
    runs = [Word2Vec(toy_corpus, optimizer=optimizer, workers=1, seed=3, epochs=1,
                     progress=False, **MODELS[model]) for _ in range(2)]
    for a, b in zip(runs[0].tables().values(), runs[1].tables().values()):
        np.testing.assert_array_equal(a, b)
    assert runs[0].history[0]["loss"] == runs[1].history[0]["loss"]


def test_tables_follow_the_losses(toy_corpus):
    n = None
    for name, params in MODELS.items():
        model = Word2Vec(workers=1, optimizer="adam", **params).build_vocab(toy_corpus)
        n = len(model)
        assert (model.W_out is not None) == (model.config.negative > 0), name
        assert (model.W_hs is not None) == model.config.hs, name
        if model.config.hs:
            assert model.W_hs.shape == (n - 1, model.config.vector_size)
        assert len(model.adam_moments()) == 2 * len(model.tables())


@pytest.mark.parametrize("model", ["sg-both", "cbow-hs"])
def test_saved_models_load_and_continue(toy_corpus, tmp_path, model):
    trained = Word2Vec(toy_corpus, optimizer="adam", workers=1, epochs=1, progress=False,
                       **MODELS[model])
    trained.save(tmp_path / "m.npz")
    loaded = Word2Vec.load(tmp_path / "m.npz")
    assert loaded.config == trained.config
    for name in trained.tables():
        np.testing.assert_array_equal(loaded.tables()[name], trained.tables()[name])
    assert loaded.most_similar("king", topn=3) == trained.most_similar("king", topn=3)
    loaded.train(toy_corpus, epochs=1, progress=False)
    assert len(loaded.history) == 2


def test_growing_the_vocabulary_rebuilds_the_tree(toy_corpus):
    model = Word2Vec(toy_corpus, hs=True, negative=0, workers=1, epochs=1, progress=False)
    old = len(model)
    model.build_vocab([["zebra", "zebra", "king"]] * 6, update=True)
    assert len(model) == old + 1 and model.W_hs.shape == (old, model.config.vector_size)
    assert not np.any(model.W_hs)              # a new tree: its node vectors start again
    model.train(epochs=1, progress=False)
    assert np.isfinite(model.history[-1]["loss"])


def test_gensim_style_flags_and_errors():
    assert Config(sg=1, hs=0).sg is True and Config(sg=1, hs=0).hs is False
    with pytest.raises(ValueError, match="no loss"):
        Config(negative=0)
    with pytest.raises(ValueError, match="at least 2 words"):
        Word2Vec([["a", "a"]], min_count=1, hs=True, progress=False)


# ------------------------------------------------------- every feature with every model
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_frozen_pretrained_rows_stay_while_the_output_tables_learn(toy_corpus, optimizer):
    source = Word2Vec(toy_corpus, workers=1, epochs=1, progress=False)
    model = Word2Vec.from_pretrained(source, freeze=True, sg=True, hs=True, workers=1,
                                     optimizer=optimizer, epochs=1)
    before = model.W_in.copy()
    model.train(toy_corpus, progress=False)
    np.testing.assert_array_equal(model.W_in, before)
    assert np.any(model.W_hs) and np.any(model.W_out)


@pytest.mark.parametrize("model", ["sg-both", "cbow-hs"])
def test_padding_row_and_max_norm_hold_for_every_model(toy_corpus, model):
    trained = Word2Vec(toy_corpus, workers=1, epochs=1, padding_idx=3, max_norm=0.5,
                       progress=False, **MODELS[model])
    assert not np.any(trained.W_in[3])
    # renormalised on every lookup; the last update may push a row past by one step only
    assert np.linalg.norm(trained.W_in, axis=1).max() < 0.55


def test_the_command_line_trains_skip_gram_with_hierarchical_softmax(toy_corpus, tmp_path):
    from w2v.cli import main
    out = tmp_path / "sg.npz"
    assert main(["train", toy_corpus, "-o", str(out), "--sg", "--hs", "--negative", "0",
                 "--epochs", "2", "--workers", "1", "--quiet"]) == 0
    model = Word2Vec.load(out)
    assert model.config.sg and model.config.hs and model.W_out is None
    assert model.analogy("man", "king", "woman")[0][0] == "queen"
    vectors = tmp_path / "sg.bin"
    assert main(["export", str(out), "--format", "word2vec-bin", "-o", str(vectors)]) == 0
    from w2v import load_vectors
    np.testing.assert_array_equal(load_vectors(vectors).vectors, model.W_in)


def test_learning_rate_defaults_follow_the_model():
    from w2v.config import MODEL_DEFAULTS
    cbow, sg = Config(), Config(sg=True)
    assert (cbow.alpha, sg.alpha) == (MODEL_DEFAULTS["alpha"]["cbow"],
                                      MODEL_DEFAULTS["alpha"]["skip-gram"])
    assert cbow.alpha != sg.alpha
    assert cbow.replace(sg=True).alpha == sg.alpha          # still the model's default
    assert Config(alpha=0.1).replace(sg=True).alpha == 0.1  # chosen: kept
    saved = Config.from_dict(sg.to_dict())                  # saved with the model: concrete
    assert saved == sg and saved.to_dict()["alpha"] == sg.alpha
    # hierarchical softmax alone has its own (measured) rate per model; with negatives too
    # a model keeps its own
    sg_hs = Config(sg=True, hs=True, negative=0)
    assert sg_hs.alpha == MODEL_DEFAULTS["alpha"]["skip-gram, hs only"] != sg.alpha
    assert Config(sg=True, hs=True).alpha == sg.alpha
    cbow_hs = Config(hs=True, negative=0)
    assert cbow_hs.alpha == MODEL_DEFAULTS["alpha"]["cbow, hs only"] != cbow.alpha
    assert Config(hs=True).alpha == cbow.alpha
    assert cbow_hs.replace(negative=5).alpha == cbow.alpha
    assert sg.replace(hs=True, negative=0).alpha == sg_hs.alpha
    assert sg_hs.replace(negative=5).alpha == sg.alpha
    assert sg_hs.lr == sg.lr                                  # no own value: the model's


def test_negative_sampling_exponent_follows_the_model_and_optimizer():
    from w2v.config import MODEL_DEFAULTS
    table = MODEL_DEFAULTS["ns_exponent"]
    assert Config().ns_exponent == Config(optimizer="sgd").ns_exponent == table["cbow"]
    assert Config(sg=True, optimizer="sgd").ns_exponent == table["skip-gram"]
    sg_adam = Config(sg=True)                                # adam is the default optimizer
    assert sg_adam.ns_exponent == table["skip-gram, adam"] != table["skip-gram"]
    assert sg_adam.replace(optimizer="sgd").ns_exponent == table["skip-gram"]
    assert Config(sg=True, optimizer="sgd").replace(optimizer="adam").ns_exponent == \
        table["skip-gram, adam"]
    assert Config(sg=True, ns_exponent=0.6).replace(optimizer="sgd").ns_exponent == 0.6
    saved = Config.from_dict(sg_adam.to_dict())              # saved with the model: concrete
    assert saved.to_dict()["ns_exponent"] == table["skip-gram, adam"]


def test_skipgram_shares_negatives_by_default():
    # chosen by measurement (README, "Models"); --no-shared-negatives gives word2vec's loop
    from w2v.cli import build_train_parser, config_from_args
    assert Config(sg=True).shared_negatives is True
    args = build_train_parser().parse_args(["corpus.txt", "--sg", "--no-shared-negatives"])
    assert config_from_args(args).shared_negatives is False


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_state_keeps_rows_beside_their_moments(toy_corpus, tmp_path, optimizer):
    model = Word2Vec(optimizer=optimizer, workers=1, epochs=1, hs=True).build_vocab(toy_corpus)
    state = model.state
    assert model.word_vecs is model.W_in is state.tables["in"]
    for name, block in state.blocks.items():
        assert np.shares_memory(block, state.tables[name])
        assert block.shape[1] == (3 if optimizer == "adam" else 1)
    assert model.W_in.flags.c_contiguous == (optimizer == "sgd")
    model.train(progress=False)
    model.save(tmp_path / "m.npz")
    loaded = Word2Vec.load(tmp_path / "m.npz")        # packed again, values unchanged
    assert loaded.state.blocks is not None
    for name, table in model.tables().items():
        np.testing.assert_array_equal(loaded.tables()[name], table)
    for a, b in zip(loaded.adam_moments() or (), model.adam_moments() or ()):
        np.testing.assert_array_equal(a, b)
