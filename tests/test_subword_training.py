"""Training with subwords (fastText's model in the core): a sentence against fastText's
loops in NumPy, the step with n-gram rows for both optimizers, every model end to end on
the toy corpus (planted analogies; unseen inflections next to their stems), save/load,
the .bin round trip with the fasttext package, and continuing a fastText model."""
import numpy as np
import pytest

from fasttext_models import fasttext_module, toy_fasttext_model
from reference import example_adam, example_sgd, huffman_word2vec, train_sentence_subwords_hs
from w2v import Config, Word2Vec
from w2v.core import train as core
from w2v.evaluation import evaluate_analogies
from w2v.subwords import subword_table
from w2v.vectors import SubwordVectors

RTOL, ATOL = 2e-4, 1e-6
HELD_OUT = {"horses": "horse", "cooked": "cook", "trees": "tree", "painted": "paint"}
MODELS = {"cbow-ns-adam": {}, "sg-ns-sgd": {"sg": True, "optimizer": "sgd"},
          "sg-hs-adam": {"sg": True, "hs": True, "negative": 0},
          "cbow-hs-sgd": {"hs": True, "negative": 0, "optimizer": "sgd"}}


# ------------------------------------------------------------ against the reference
@pytest.mark.parametrize("sg", [False, True])
def test_a_sentence_with_subwords_trains_as_fasttexts_loops(sg):
    rng = np.random.default_rng(5)
    words = ["the", "king", "kings", "queen", "ruled", "rules", "a", "land", "lands"]
    bucket, dim, window, lr = 13, 8, 2, 0.05
    starts, rows = subword_table(words, 2, 4, bucket)
    input_rows = [rows[a:b].tolist() for a, b in zip(starts[:-1], starts[1:])]
    assert any(len(set(r)) < len(r) for r in input_rows)         # repeated rows occur
    counts = np.array([30, 20, 12, 9, 7, 5, 3, 2, 1])
    W_in = rng.normal(0, 0.3, (len(words) + bucket, dim)).astype(np.float32)
    W_hs = rng.normal(0, 0.3, (len(words) - 1, dim)).astype(np.float32)
    sentence = [3, 0, 8, 1, 1, 5, 2, 7, 0, 4, 6]
    ref_in, ref_hs = W_in.astype(np.float64), W_hs.astype(np.float64)
    ref_loss = train_sentence_subwords_hs(ref_in, ref_hs, sentence, window, lr,
                                          huffman_word2vec(counts), sg, input_rows)
    arrays = core.TrainingArrays(
        tables={"in": W_in, "hs": W_hs}, moments=None, keep_prob=np.ones(len(words), np.float32),
        ids=np.array(sentence, np.int32), sentence_starts=np.array([0, len(sentence)], np.int64),
        huffman=core.build_huffman_tree(counts), input_rows=(starts, rows), sg=sg,
        centre_inputs=sg, window=window, negative=0, hs=True, shrink_windows=False)
    words_done, windows, loss, _ = core.train_chunk(arrays, core.Worker(arrays, 1, 0), 0, 1, lr, lr)
    assert (words_done, windows) == (len(sentence), len(sentence))
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(W_in, ref_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(W_hs, ref_hs, rtol=1e-4, atol=1e-6)


def _tables(seed):
    rng = np.random.default_rng(seed)
    return {"in": rng.normal(0, 0.3, (30, 6)).astype(np.float32),
            "out": rng.normal(0, 0.3, (8, 6)).astype(np.float32),
            "hs": rng.normal(0, 0.3, (7, 6)).astype(np.float32)}


# a word's rows (own row, then n-gram rows, one repeated) in a CBOW group; a centre
# word's rows against a context target (fastText's skip-gram)
SUBWORD_EXAMPLES = [([[2, 11, 17, 11, 25, 5, 14, 20]], [("out", 3, 1), ("out", 6, 0), ("hs", 2, 1)]),
                    ([[4, 12, 12, 29]], [("out", 1, 1), ("out", 7, 0), ("out", 2, 0)])]


def test_subword_step_with_sgd_matches_reference():
    for groups, outputs in SUBWORD_EXAMPLES:
        tables = _tables(1)
        ref = {k: v.astype(np.float64) for k, v in tables.items()}
        loss = core.py_train_example(tables, groups, outputs, 0.1, "sgd")
        assert loss == pytest.approx(example_sgd(ref, groups, outputs, 0.1), rel=RTOL)
        for k in tables:
            np.testing.assert_allclose(tables[k], ref[k], rtol=RTOL, atol=ATOL, err_msg=k)


def test_subword_step_with_adam_matches_reference():
    tables = _tables(2)
    rng = np.random.default_rng(3)
    moments = {k: (rng.normal(0, 0.01, v.shape).astype(np.float32),
                   np.abs(rng.normal(0, 0.001, v.shape)).astype(np.float32))
               for k, v in tables.items()}
    ref = {k: v.astype(np.float64) for k, v in tables.items()}
    ref_moments = {k: (m.astype(np.float64), v.astype(np.float64)) for k, (m, v) in moments.items()}
    loss = core.py_adam_minibatch(tables, moments, SUBWORD_EXAMPLES, 0.01, 4)
    assert loss == pytest.approx(example_adam(ref, ref_moments, SUBWORD_EXAMPLES, 0.01, 4),
                                 rel=RTOL)
    for k in tables:
        np.testing.assert_allclose(tables[k], ref[k], rtol=RTOL, atol=ATOL, err_msg=k)
        np.testing.assert_allclose(moments[k][0], ref_moments[k][0], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(moments[k][1], ref_moments[k][1], rtol=RTOL, atol=1e-9)


# ------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def held_out_corpus(tmp_path_factory, toy_corpus):
    """The toy corpus without the sentences holding the inflections of HELD_OUT."""
    path = tmp_path_factory.mktemp("subwords") / "held_out.txt"
    with open(toy_corpus) as f:
        path.write_text("".join(line for line in f if not set(HELD_OUT) & set(line.split())))
    return path


@pytest.fixture(scope="module")
def subword_models(held_out_corpus):
    return {name: Word2Vec(held_out_corpus, minn=3, maxn=6, bucket=20000, workers=1, seed=7,
                           progress=False, **params) for name, params in MODELS.items()}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_subword_model_solves_the_planted_analogies(subword_models, toy_questions, name):
    model = subword_models[name]
    assert model.W_in.shape == (len(model) + 20000, 100)
    result = evaluate_analogies(model, toy_questions, restrict_vocab=None)
    assert result["accuracy"] >= 0.9, result["sections"]
    losses = [h["loss"] for h in model.history]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_unseen_inflections_land_next_to_their_stems(subword_models, name):
    model = subword_models[name]
    assert isinstance(model.wv, SubwordVectors)
    near = 0
    for unseen, stem in HELD_OUT.items():
        assert unseen not in model
        near += stem in [w for w, _ in model.most_similar(unseen, topn=3)]
    assert near >= 3, name


def test_subword_vectors_follow_training_and_save_load(subword_models, held_out_corpus, tmp_path):
    model = subword_models["cbow-ns-adam"]
    starts, rows = model.subword_table()
    king = model.vocab.key_to_index["king"]
    np.testing.assert_allclose(model["king"], model.W_in[rows[starts[king]:starts[king + 1]]]
                               .mean(axis=0), rtol=1e-5, atol=1e-7)
    model.save(tmp_path / "m.npz")
    loaded = Word2Vec.load(tmp_path / "m.npz")
    assert (loaded.config.minn, loaded.config.maxn, loaded.config.bucket) == (3, 6, 20000)
    np.testing.assert_array_equal(loaded["horses"], model["horses"])
    mapped = Word2Vec.load(tmp_path / "m.npz", mmap="r")
    np.testing.assert_array_equal(mapped["horses"], model["horses"])
    before = model["horses"].copy()
    loaded.train(held_out_corpus, epochs=1, progress=False)
    assert not np.array_equal(loaded["horses"], before)      # queries follow training


@pytest.mark.parametrize("name", ["sg-ns-sgd", "cbow-hs-sgd"])
def test_a_saved_facebook_model_loads_in_fasttext_with_the_same_vectors(subword_models, tmp_path,
                                                                        name):
    fasttext = fasttext_module()
    model = subword_models[name]
    model.save_facebook_model(tmp_path / "m.bin")
    ft = fasttext.load_model(str(tmp_path / "m.bin"))
    assert ft.get_words() == list(model.index_to_key)
    for word in list(model.index_to_key) + list(HELD_OUT) + ["queendom", "été"]:
        np.testing.assert_allclose(ft.get_word_vector(word), model[word], rtol=1e-5, atol=1e-6)


def test_continuing_a_fasttext_model(tmp_path, toy_corpus):
    ft = toy_fasttext_model(model="skipgram", minn=3, maxn=6, bucket=20011)
    ft.save_model(str(tmp_path / "ft.bin"))
    model = Word2Vec.from_pretrained(tmp_path / "ft.bin", epochs=1, workers=1, optimizer="sgd")
    c = model.config
    assert (c.sg, c.hs, c.minn, c.maxn, c.bucket, c.vector_size) == (True, False, 3, 6, 20011, 16)
    np.testing.assert_array_equal(model.W_out, ft.get_output_matrix())
    for word in ["king", "kingdoms"]:
        np.testing.assert_allclose(model[word], ft.get_word_vector(word), rtol=1e-5, atol=1e-6)
    before = model["kingdoms"].copy()
    model.train(toy_corpus, progress=False)
    assert np.all(np.isfinite(model.W_in)) and not np.array_equal(model["kingdoms"], before)
    with pytest.raises(ValueError, match="maxn=5, but the fastText model has 6"):
        Word2Vec.from_pretrained(tmp_path / "ft.bin", maxn=5)


def test_subword_options_and_their_errors(toy_corpus):
    assert not Config().subwords and Config(maxn=6).subwords
    with pytest.raises(ValueError, match=r"minn=7 is out of range: must be in \[1, maxn=6\]"):
        Config(minn=7, maxn=6).validate()
    with pytest.raises(ValueError, match=r"bucket=0 is out of range"):
        Config(maxn=6, bucket=0).validate()
    with pytest.raises(ValueError, match="maxn=-1 is out of range"):
        Config(maxn=-1).validate()
    with pytest.raises(KeyError, match="without n-grams"):
        Word2Vec(toy_corpus, minn=5, maxn=5, bucket=500, epochs=1, workers=1,
                 progress=False)["a"]


def test_the_command_line_trains_and_queries_a_subword_model(toy_corpus, tmp_path):
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def run(*args):
        done = subprocess.run([sys.executable, *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout
    run(os.path.join(root, "scripts", "train.py"), toy_corpus, "--minn", "3", "--maxn", "6",
        "--bucket", "5000", "--epochs", "1", "--workers", "1", "--no-progress", "-o", "m.npz")
    out = run("-m", "w2v", "similar", "m.npz", "horsez", "-n", "3")
    assert out.startswith("horsez:") and len(out.splitlines()) == 4
    run("-m", "w2v", "export", "m.npz", "--format", "fasttext-bin", "-o", "m.bin")
    model = Word2Vec.load(tmp_path / "m.npz")
    again = SubwordVectors.load_facebook(tmp_path / "m.bin")
    np.testing.assert_allclose(again["horsez"], model["horsez"], rtol=1e-6, atol=1e-7)


def test_word_pair_evaluation_answers_unseen_words_from_their_ngrams(subword_models, tmp_path):
    from w2v.evaluation import evaluate_word_pairs
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("horse\thorses\t9\nking\tqueen\t8\ncooked\tcook\t9\nking\tapple\t1\n"
                     "tree\tzzq\t2\n")
    model = subword_models["cbow-ns-adam"]
    plain = evaluate_word_pairs(model, pairs)
    assert (plain["pairs"], plain["oov"]) == (2, 3) and "oov_answered" not in plain
    both = evaluate_word_pairs(model, pairs, oov_ngrams=True)
    assert (both["pairs"], both["oov"], both["oov_answered"]) == (5, 0, 3)
    assert both["spearman"] > 0.5


def test_analogy_evaluation_answers_unseen_query_words_from_their_ngrams(subword_models, tmp_path):
    from w2v.evaluation import evaluate_analogies
    model = subword_models["cbow-ns-adam"]
    words = model.wv.index_to_key
    known = words[:40]
    unseen = ["zzqhorse", "qqxking"]
    assert not any(w in model.wv.key_to_index for w in unseen)
    questions = tmp_path / "q.txt"
    lines = [f"{known[0]} {known[1]} {known[2]} {known[3]}",      # all in the vocabulary
             f"{unseen[0]} {known[1]} {known[2]} {known[3]}",     # an unseen query word
             f"{known[0]} {unseen[1]} {unseen[0]} {known[4]}",    # two, one repeated
             f"{known[0]} {known[1]} {known[2]} {unseen[1]}",     # unseen answer: skipped
             "horses horse cooked cook"]                          # held-out inflections
    questions.write_text(": s\n" + "\n".join(lines) + "\n")
    plain = evaluate_analogies(model, questions, restrict_vocab=None)
    assert (plain["answered"], plain["skipped"]) == (1, 4) and "oov_answered" not in plain
    both = evaluate_analogies(model, questions, restrict_vocab=None, oov_ngrams=True)
    assert (both["answered"], both["skipped"], both["oov_answered"]) == (4, 1, 3)
    # against a direct computation: argmax over the vocabulary of cos(x, b - a + c), x not a, b, c
    unit = model.wv.vectors / np.linalg.norm(model.wv.vectors, axis=1, keepdims=True)
    expected = 0
    for line in lines[:3] + lines[4:]:
        a, b, c, d = line.split()
        q = [model.wv[w] / np.linalg.norm(model.wv[w]) for w in (a, b, c)]
        query = q[1] - q[0] + q[2]
        scores = unit @ (query / np.linalg.norm(query))
        for w in (a, b, c):
            if w in model.wv.key_to_index:
                scores[model.wv.key_to_index[w]] = -np.inf
        expected += words[int(np.argmax(scores))] == d
    assert both["correct"] == expected, (both["correct"], expected)
    assert expected >= 1        # something to get right, so a wrong vector would show


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_growing_a_subword_model_moves_the_ngram_rows_with_what_they_learned(
        held_out_corpus, toy_corpus, toy_questions, optimizer):
    model = Word2Vec(held_out_corpus, minn=3, maxn=6, bucket=3000, workers=1, seed=3,
                     progress=False, optimizer=optimizer)
    old_words = list(model.wv.index_to_key)
    n_old = len(old_words)
    before = {w: model[w].copy() for w in ("horse", "cook", "horses", "cooked")}  # 2 unseen
    W_in_before = model.W_in.copy()
    moments_before = [m.copy() for m in model.state.moments["in"]] if optimizer == "adam" else []
    model.build_vocab(toy_corpus, update=True)            # adds the held-out inflections
    added = [w for w in model.wv.index_to_key if w not in set(old_words)]
    assert set(HELD_OUT) <= set(added) and model.wv.index_to_key[:n_old] == old_words
    n = len(model.wv.index_to_key)
    assert model.W_in.shape == (n + 3000, 100)
    np.testing.assert_array_equal(model.W_in[:n_old], W_in_before[:n_old])        # words kept
    np.testing.assert_array_equal(model.W_in[n:], W_in_before[n_old:])            # n-grams moved
    for old_m, new_m in zip(moments_before, (model.state.moments or {}).get("in", ())):
        np.testing.assert_array_equal(new_m[:n_old], old_m[:n_old])
        np.testing.assert_array_equal(new_m[n:], old_m[n_old:])
        assert not new_m[n_old:n].any()                                           # fresh words
    for word in ("horse", "cook"):        # known words: the same vector (same rows, same values)
        np.testing.assert_allclose(model[word], before[word], rtol=1e-6, atol=1e-7)
    model.train(toy_corpus)
    assert np.isfinite(model.history[-1]["loss"])
    result = evaluate_analogies(model, toy_questions, restrict_vocab=None)
    assert result["accuracy"] >= 0.9
