"""gensim's KeyedVectors API on WordVectors and model.wv, queries that follow the array,
and the native format's save / load / memory-mapping.

Each gensim name is checked against gensim's own answer on the same vectors when gensim
is installed (pip install ".[bench]"); those tests skip otherwise.
"""
import io
import struct
import warnings
import zipfile

import numpy as np
import pytest

from w2v import ModelFileError, Word2Vec, WordVectors, load_vectors
from w2v.evaluation import (correlation_pvalue, evaluate_analogies, evaluate_word_analogies,
                            regularized_beta)

# gensim's own warnings while it answers (its most_similar_cosmul calls its deprecated
# init_sims; its add_vector warns that growing by one is slow).
pytestmark = [pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:Adding single vectors:UserWarning")]


@pytest.fixture(scope="module")
def model(trained_models):
    return trained_models["adam"]


@pytest.fixture()
def wv(model):
    """A private copy of the model's vectors, safe to edit."""
    return WordVectors(model.W_in.copy(), list(model.index_to_key), model.counts.copy())


def gensim_kv(wv):
    gensim_models = pytest.importorskip("gensim.models", reason="gensim is not installed")
    kv = gensim_models.KeyedVectors(wv.vector_size)
    kv.add_vectors(list(wv.index_to_key), wv.vectors.copy())
    return kv


def assert_same_neighbours(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------- queries follow the array
def test_an_in_place_edit_of_w_in_is_seen_by_the_next_query(toy_corpus):
    model = Word2Vec(toy_corpus, workers=1, epochs=1, progress=False)
    assert model.wv.vectors is model.W_in
    king, queen = model.key_to_index["king"], model.key_to_index["queen"]
    assert model.similarity("king", "queen") < 0.999
    model.W_in[queen] = 3 * model.W_in[king]            # queen now points where king does
    assert model.most_similar("king", topn=1) == [("queen", pytest.approx(1.0, abs=1e-6))]
    assert model.similarity("king", "queen") == pytest.approx(1.0, abs=1e-6)
    assert model.wv.get_vector("queen", norm=True) == pytest.approx(
        model.W_in[king] / np.linalg.norm(model.W_in[king]), abs=1e-6)
    assert model.wv.rank("king", "queen") == 1
    model.word_vecs[queen] = -model.W_in[king]           # and now the opposite way
    assert model.similarity("king", "queen") == pytest.approx(-1.0, abs=1e-6)
    assert "queen" not in [w for w, _ in model.most_similar("king", topn=20)]


def test_a_new_array_assigned_to_w_in_is_seen_too(toy_corpus):
    model = Word2Vec(toy_corpus, workers=1, epochs=1, progress=False)
    model.W_in = model.W_in[::-1].copy()                 # rows reversed
    assert model.wv.vectors is model.W_in
    np.testing.assert_array_equal(model["king"], model.W_in[model.key_to_index["king"]])


def test_evaluation_follows_the_array(toy_corpus, toy_questions):
    model = Word2Vec(toy_corpus, workers=1, epochs=5, seed=3, progress=False)
    good = evaluate_analogies(model, toy_questions, restrict_vocab=None)["accuracy"]
    saved = model.W_in.copy()
    model.W_in[:] = np.random.default_rng(0).normal(size=model.W_in.shape)
    assert evaluate_analogies(model, toy_questions, restrict_vocab=None)["accuracy"] < good
    model.W_in[:] = saved
    assert evaluate_analogies(model, toy_questions, restrict_vocab=None)["accuracy"] == good


def test_training_more_is_seen_without_vectors_changed(toy_corpus):
    model = Word2Vec(toy_corpus, workers=1, epochs=1, progress=False)
    first = model.wv.most_similar("king", topn=None).copy()
    model.train(epochs=1, progress=False)
    np.testing.assert_allclose(model.wv.most_similar("king", topn=None),
                               model.wv.cosine_similarities(model["king"], model.W_in), atol=1e-6)
    assert not np.allclose(first, model.wv.most_similar("king", topn=None))


def test_norms_and_normed_vectors_are_computed_from_the_array(wv):
    np.testing.assert_allclose(wv.norms, np.linalg.norm(wv.vectors, axis=1), rtol=1e-6)
    wv.vectors[0] *= 10
    wv.fill_norms()                                       # accepted, nothing to do
    np.testing.assert_allclose(wv.norms[0], np.linalg.norm(wv.vectors[0]), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(wv.get_normed_vectors(), axis=1), 1, rtol=1e-6)


def test_a_zero_vector_has_similarity_zero(wv):
    wv.vectors[5] = 0
    word = wv.index_to_key[5]
    assert wv.similarity(word, "king") == 0.0
    assert wv.most_similar("king", topn=None)[5] == 0.0
    assert np.all(np.isfinite(wv.most_similar(word, topn=None)))


def test_the_cosine_kernel_against_numpy():
    from w2v._similarity import row_cosines
    rng = np.random.default_rng(3)
    for rows, dim in [(1, 1), (7, 3), (100, 100), (33, 301)]:
        matrix = rng.normal(size=(rows, dim)).astype(np.float32)
        matrix[0] = 0                                                  # a zero row: 0
        query = rng.normal(size=dim).astype(np.float32)
        query /= np.linalg.norm(query)
        norms = np.linalg.norm(matrix.astype(np.float64), axis=1)
        expected = np.divide(matrix.astype(np.float64) @ query, norms, out=np.zeros(rows),
                             where=norms > 0)
        out = row_cosines(matrix, query, np.empty(rows, np.float32))
        np.testing.assert_allclose(out, expected, atol=2e-6)
        matrix.setflags(write=False)                                   # mapped files are read-only
        np.testing.assert_allclose(row_cosines(matrix, query, np.empty(rows, np.float32)), out)
    assert row_cosines(np.zeros((0, 4), np.float32), np.zeros(4, np.float32),
                       np.empty(0, np.float32)).shape == (0,)
    with pytest.raises(ValueError, match="query of 3 dims for rows of 4"):
        row_cosines(np.zeros((2, 4), np.float32), np.zeros(3, np.float32), np.empty(2, np.float32))
    with pytest.raises(ValueError, match="out holds 1 values for 2 rows"):
        row_cosines(np.zeros((2, 4), np.float32), np.zeros(4, np.float32), np.empty(1, np.float32))


def test_queries_split_across_threads_give_the_same_answer(wv, monkeypatch):
    import w2v.vectors
    one = wv.most_similar("king", topn=None)
    monkeypatch.setattr(w2v.vectors, "PARALLEL_QUERY_FLOATS", 1000)
    monkeypatch.setattr(w2v.vectors.os, "cpu_count", lambda: 7)
    np.testing.assert_array_equal(wv.most_similar("king", topn=None), one)
    float64 = WordVectors(wv.vectors.astype(np.float64), wv.index_to_key)   # the NumPy path
    np.testing.assert_allclose(float64.most_similar("king", topn=None), one, atol=1e-6)


# ---------------------------------------------------------- gensim, name by name
def test_most_similar_as_gensim(wv):
    kv = gensim_kv(wv)
    for kwargs in [dict(positive=["king"]), dict(positive="king", topn=3),
                   dict(positive=["king", "woman"], negative=["man"], topn=5),
                   dict(positive=["paris"], restrict_vocab=50),
                   dict(positive=[("king", 2.0), "woman"], negative=[("man", 0.5)]),
                   dict(positive=[wv["king"] * 2, "woman"], negative=["man"]),
                   dict(positive=[7, 12], topn=4),
                   dict(positive=["king"], clip_start=10, clip_end=60),
                   dict(negative=["king"], topn=3)]:
        assert_same_neighbours(wv.most_similar(**kwargs), kv.most_similar(**kwargs))
    assert wv.most_similar("king", topn=0) == kv.most_similar("king", topn=0) == []


def test_topn_none_returns_every_similarity_as_gensim(wv):
    kv = gensim_kv(wv)
    for kwargs in [dict(positive=["king"]), dict(positive=["king"], restrict_vocab=40),
                   dict(positive=["king", "woman"], negative=["man"])]:
        ours, theirs = wv.most_similar(topn=None, **kwargs), kv.most_similar(topn=None, **kwargs)
        assert isinstance(ours, np.ndarray) and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wv.most_similar_cosmul(["king"], ["man"], topn=None),
                               kv.most_similar_cosmul(["king"], ["man"], topn=None), rtol=1e-5)


def test_similar_by_word_key_and_vector_as_gensim(wv):
    kv = gensim_kv(wv)
    assert_same_neighbours(wv.similar_by_word("queen", topn=4), kv.similar_by_word("queen", topn=4))
    assert_same_neighbours(wv.similar_by_key("queen", restrict_vocab=30),
                           kv.similar_by_key("queen", restrict_vocab=30))
    vector = wv["king"] - wv["man"] + wv["woman"]
    ours, theirs = wv.similar_by_vector(vector, topn=5), kv.similar_by_vector(vector, topn=5)
    assert_same_neighbours(ours, theirs)
    assert ours[0][0] in ("king", "queen")               # no word is excluded for a vector


def test_most_similar_cosmul_as_gensim(wv):
    kv = gensim_kv(wv)
    for positive, negative in [(["king", "woman"], ["man"]), (["paris"], []),
                               (["france", "tokyo"], ["paris"])]:
        assert_same_neighbours(wv.most_similar_cosmul(positive, negative, topn=5),
                               kv.most_similar_cosmul(positive, negative, topn=5))
    vector = wv["woman"] * 0.3
    assert_same_neighbours(wv.most_similar_cosmul([vector, "king"], ["man"]),
                           kv.most_similar_cosmul([vector, "king"], ["man"]))


def test_restrict_vocab_is_honoured_by_most_similar_cosmul(wv):
    assert all(wv.key_to_index[w] < 30 for w, _ in wv.most_similar_cosmul("king", topn=5,
                                                                           restrict_vocab=30))


def test_similarity_distance_and_distances_as_gensim(wv):
    kv = gensim_kv(wv)
    assert wv.similarity("king", "queen") == pytest.approx(kv.similarity("king", "queen"), rel=1e-5)
    assert wv.distance("king", "queen") == pytest.approx(kv.distance("king", "queen"), rel=1e-5)
    np.testing.assert_allclose(wv.distances("king"), kv.distances("king"), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wv.distances("king", ["queen", "man", "paris"]),
                               kv.distances("king", ["queen", "man", "paris"]), rtol=1e-5)
    vector = wv["queen"] + 0.5
    np.testing.assert_allclose(wv.distances(vector, ["king", "cat"]),
                               kv.distances(vector, ["king", "cat"]), rtol=1e-5)
    np.testing.assert_allclose(WordVectors.cosine_similarities(vector, wv.vectors[:20]),
                               kv.cosine_similarities(vector, wv.vectors[:20]), rtol=1e-5)


def test_n_similarity_as_gensim(wv):
    kv = gensim_kv(wv)
    for a, b in [(["king", "queen"], ["man", "woman"]), (["paris"], ["france", "tokyo", "japan"])]:
        assert wv.n_similarity(a, b) == pytest.approx(kv.n_similarity(a, b), rel=1e-5)
    with pytest.raises(ZeroDivisionError):
        wv.n_similarity([], ["king"])
    with pytest.raises(KeyError, match="zzz"):
        wv.n_similarity(["king", "zzz"], ["queen"])


def test_rank_closer_than_and_most_similar_to_given_as_gensim(wv):
    kv = gensim_kv(wv)
    for a, b in [("king", "queen"), ("paris", "cat"), ("man", "woman")]:
        assert wv.closer_than(a, b) == kv.closer_than(a, b)
        assert wv.rank(a, b) == kv.rank(a, b)
    assert wv.relative_cosine_similarity("king", "queen") == pytest.approx(
        kv.relative_cosine_similarity("king", "queen"), rel=1e-5)
    candidates = ["cat", "queen", "paris", "man"]
    assert wv.most_similar_to_given("king", candidates) == kv.most_similar_to_given("king", candidates)
    assert wv.rank("king", wv.most_similar("king", topn=1)[0][0]) == 1


@pytest.mark.parametrize("kwargs", [{}, {"pre_normalize": False}, {"post_normalize": True},
                                    {"weights": [2.0, -1.0, 0.5]},
                                    {"weights": np.array([1.0, 1.0, 3.0]), "post_normalize": True}])
def test_get_mean_vector_as_gensim(wv, kwargs):
    kv = gensim_kv(wv)
    keys = ["king", wv["man"] * 2, 9]
    np.testing.assert_allclose(wv.get_mean_vector(keys, **kwargs),
                               kv.get_mean_vector(keys, **kwargs), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(wv.get_mean_vector(["king", "zzz"]),
                               kv.get_mean_vector(["king", "zzz"]), rtol=1e-5)
    with pytest.raises(KeyError, match="zzz"):
        wv.get_mean_vector(["king", "zzz"], ignore_missing=False)


def test_get_vector_get_index_and_has_index_for_as_gensim(wv):
    kv = gensim_kv(wv)
    np.testing.assert_array_equal(wv.get_vector("king"), kv.get_vector("king"))
    np.testing.assert_allclose(wv.get_vector("king", norm=True), kv.get_vector("king", norm=True),
                               rtol=1e-6)
    np.testing.assert_array_equal(wv.get_vector(3), kv.get_vector(3))
    for key in ["king", 3, np.int64(4), len(wv), -1, "zzz"]:
        assert wv.has_index_for(key) == kv.has_index_for(key)
        assert wv.get_index(key, default=-7) == kv.get_index(key, default=-7)
    with pytest.raises(KeyError):
        wv.get_index("zzz")
    with pytest.raises(KeyError):
        wv.get_vector(len(wv))                            # gensim's KeyError, not IndexError


def test_doesnt_match_and_rank_by_centrality_as_gensim(wv):
    kv = gensim_kv(wv)
    words = ["france", "germany", "italy", "queen"]
    assert wv.doesnt_match(words) == kv.doesnt_match(words)
    ranked_ours, ranked_theirs = wv.rank_by_centrality(words), kv.rank_by_centrality(words)
    assert [w for _, w in ranked_ours] == [w for _, w in ranked_theirs]
    np.testing.assert_allclose([s for s, _ in ranked_ours], [s for s, _ in ranked_theirs], rtol=1e-5)
    with pytest.warns(UserWarning, match="zzz"):
        assert wv.doesnt_match(words + ["zzz"]) == kv.doesnt_match(words + ["zzz"])


def test_add_vectors_as_gensim(wv):
    kv = gensim_kv(wv)
    rng = np.random.default_rng(1)
    new = rng.normal(size=(3, wv.vector_size)).astype(np.float32)
    for target in (wv, kv):
        target.add_vectors(["newa", "king", "newb"], new)             # king kept
    np.testing.assert_array_equal(wv.vectors, kv.vectors)
    assert wv.index_to_key == kv.index_to_key
    for target in (wv, kv):
        target.add_vectors(["king", "newc"], new[:2], replace=True)   # king replaced
    np.testing.assert_array_equal(wv.vectors, kv.vectors)
    assert wv.add_vector("newd", new[2]) == kv.add_vector("newd", new[2]) == len(wv) - 1
    np.testing.assert_array_equal(wv.vectors, kv.vectors)
    assert_same_neighbours(wv.most_similar("newa"), kv.most_similar("newa"))
    assert wv.count("newa") == 0 and wv.count("king") > 0


def test_adding_words_one_at_a_time_grows_in_place(wv):
    n = len(wv)
    rows = np.random.default_rng(2).normal(size=(200, wv.vector_size)).astype(np.float32)
    for i, row in enumerate(rows):
        wv.add_vector(f"w{i}", row)
        wv[f"w{i}"][0] = row[0]                                       # a view, as before
    assert len(wv) == n + 200 and wv.vectors.shape == (n + 200, wv.vector_size)
    np.testing.assert_array_equal(wv.vectors[n:], rows)
    assert wv.vectors.base is wv._spare                               # amortised growth
    wv["w0"] = rows[1]                                                # __setitem__ replaces
    np.testing.assert_array_equal(wv["w0"], rows[1])


def test_a_models_vectors_refuse_new_words_saying_what_to_do(model):
    with pytest.raises(ValueError, match="build_vocab"):
        model.wv.add_vector("brandnew", np.zeros(model.config.vector_size, np.float32))
    assert "brandnew" not in model


def test_evaluate_word_analogies_as_gensim(wv, toy_questions):
    kv = gensim_kv(wv)
    for kwargs in [{}, {"restrict_vocab": 100}, {"dummy4unknown": True, "restrict_vocab": 100},
                   {"case_insensitive": False}]:
        assert wv.evaluate_word_analogies(toy_questions, **kwargs) == \
            kv.evaluate_word_analogies(toy_questions, **kwargs)


def test_evaluate_word_analogies_on_a_mixed_case_vocabulary_as_gensim(tmp_path):
    """A query word in another spelling is passed over, as gensim does."""
    rng = np.random.default_rng(5)
    words = ["a", "b", "c", "d", "A", "B", "C", "D", "e", "E", "f", "g"]
    vectors = rng.normal(size=(len(words), 6)).astype(np.float32)
    vectors[4] = vectors[1] - vectors[0] + vectors[2] + 0.01        # "A" answers a:b = c:?
    vectors[7] = vectors[5] - vectors[4] + vectors[6] + 0.01
    wv = WordVectors(vectors, words)
    kv = gensim_kv(wv)
    lines = [": mixed"] + [" ".join(q) for q in
                           [("a", "b", "c", "d"), ("A", "B", "C", "D"), ("a", "c", "e", "g"),
                            ("b", "d", "f", "g"), ("e", "f", "g", "a"), ("c", "a", "b", "E")]]
    path = tmp_path / "q.txt"
    path.write_text("\n".join(lines) + "\n")
    for case_insensitive in (True, False):
        assert wv.evaluate_word_analogies(path, case_insensitive=case_insensitive) == \
            kv.evaluate_word_analogies(str(path), case_insensitive=case_insensitive)


def test_evaluate_word_analogies_with_cosmul(wv, toy_questions):
    score, sections = wv.evaluate_word_analogies(toy_questions,
                                                 similarity_function="most_similar_cosmul")
    expected = sum(1 for line in open(toy_questions) if line.strip() and not line.startswith(":"))
    correct = 0
    for a, b, c, d in sections[-1]["correct"] + sections[-1]["incorrect"]:
        correct += wv.most_similar_cosmul([b.lower(), c.lower()], [a.lower()], topn=1)[0][0] == d.lower()
    assert correct == len(sections[-1]["correct"]) and len(sections[-1]["correct"]) <= expected
    with pytest.raises(ValueError, match="similarity_function"):
        wv.evaluate_word_analogies(toy_questions, similarity_function="cosine")


def test_evaluate_word_pairs_as_gensim(wv, tmp_path):
    kv = gensim_kv(wv)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# word pairs\nking\tqueen\t9\nking\tapples\t1\ncat\tcats\t8\n"
                     "paris\tfrance\t7\nboy\tgirl\t8.5\nzzz\tking\t3\nman\twoman\t8\n")
    for dummy in (False, True):
        pearson, spearman, oov = wv.evaluate_word_pairs(pairs, dummy4unknown=dummy)
        g_pearson, g_spearman, g_oov = kv.evaluate_word_pairs(str(pairs), dummy4unknown=dummy)
        assert pearson[0] == pytest.approx(g_pearson[0], abs=1e-5)
        assert pearson.pvalue == pytest.approx(g_pearson[1], rel=1e-4)
        assert spearman.statistic == pytest.approx(g_spearman[0], abs=1e-6)
        assert spearman[1] == pytest.approx(g_spearman[1], rel=1e-4)
        assert oov == pytest.approx(g_oov)


def test_p_values_as_scipy():
    stats = pytest.importorskip("scipy.stats", reason="scipy is not installed")
    special = pytest.importorskip("scipy.special")
    for x, a, b in [(0.3, 2.0, 0.5), (0.99, 10.0, 0.5), (0.01, 0.5, 0.5), (0.5, 150.0, 0.5),
                    (0.7, 3.0, 4.0)]:
        assert regularized_beta(x, a, b) == pytest.approx(special.betainc(a, b, x), rel=1e-9, abs=1e-15)
    rng = np.random.default_rng(0)
    for n in (3, 10, 353):
        x = rng.normal(size=n)
        y = x + rng.normal(size=n) * 2
        result = stats.pearsonr(x, y)
        assert correlation_pvalue(result[0], n) == pytest.approx(result[1], rel=1e-6)
        result = stats.spearmanr(x, y)
        assert correlation_pvalue(result[0], n) == pytest.approx(result[1], rel=1e-6)
    assert np.isnan(correlation_pvalue(0.5, 2))


def test_module_function_and_method_agree(model, toy_questions):
    score, sections = evaluate_word_analogies(model, toy_questions, restrict_vocab=30000)
    result = evaluate_analogies(model, toy_questions, restrict_vocab=30000)
    assert score == result["accuracy"] and len(sections[-1]["correct"]) == result["correct"]


# ---------------------------------------------------- load_word2vec_format options
@pytest.fixture()
def text_file(wv, tmp_path):
    path = tmp_path / "v.txt"
    wv.save_word2vec_format(path)
    return path


def test_limit_datatype_and_no_header_as_gensim(wv, text_file, tmp_path):
    gensim_models = pytest.importorskip("gensim.models", reason="gensim is not installed")
    KeyedVectors = gensim_models.KeyedVectors
    binary = tmp_path / "v.bin"
    wv.save_word2vec_format(binary)
    for path, is_binary in ((text_file, False), (binary, True)):
        for kwargs in [dict(limit=10), dict(datatype=np.float64), dict(datatype=np.float16, limit=3)]:
            ours = load_vectors(path, **kwargs)
            theirs = KeyedVectors.load_word2vec_format(str(path), binary=is_binary, **kwargs)
            assert ours.index_to_key == theirs.index_to_key
            assert ours.vectors.dtype == theirs.vectors.dtype
            np.testing.assert_array_equal(ours.vectors, theirs.vectors)
        assert len(load_vectors(path, limit=0)) == 0          # gensim reads everything for 0
    headerless = tmp_path / "noheader.txt"
    headerless.write_bytes(text_file.read_bytes().split(b"\n", 1)[1])
    for limit in (None, 5):
        ours = load_vectors(headerless, no_header=True, limit=limit)
        theirs = KeyedVectors.load_word2vec_format(str(headerless), no_header=True, limit=limit)
        assert ours.index_to_key == theirs.index_to_key
        np.testing.assert_array_equal(ours.vectors, theirs.vectors)


def test_fvocab_gives_the_counts(wv, text_file, tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"{w} {c}\n" for w, c in zip(wv.index_to_key, wv.counts)))
    loaded = WordVectors.load_word2vec_format(text_file, fvocab=vocab)
    np.testing.assert_array_equal(loaded.counts, wv.counts)
    assert loaded.get_vecattr("king", "count") == wv.count("king")


# ------------------------------------------------------------- native format, mmap
def member_data_offsets(path):
    """(name, offset of the member's data in the file) for every member."""
    data = open(path, "rb").read()
    offsets = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            fields = struct.unpack("<4s5H3L2H", data[info.header_offset:info.header_offset + 30])
            offsets.append((info.filename, info.header_offset + 30 + fields[-2] + fields[-1]))
    return offsets


def test_native_members_are_stored_and_aligned_and_numpy_still_reads_them(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    offsets = member_data_offsets(path)
    assert {name for name, _ in offsets} >= {"W_in.npy", "W_out.npy", "meta_json.npy"}
    assert all(offset % 64 == 0 for _, offset in offsets)
    with zipfile.ZipFile(path) as zf:
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
        assert zf.testzip() is None                        # CRCs right
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["W_in"], model.W_in)


def test_word_vectors_save_and_load_round_trip(wv, tmp_path):
    path = tmp_path / "v.npz"
    wv.save(path)
    for mmap in (None, "r"):
        loaded = WordVectors.load(path, mmap=mmap)
        assert loaded.index_to_key == wv.index_to_key
        np.testing.assert_array_equal(loaded.vectors, wv.vectors)
        np.testing.assert_array_equal(loaded.counts, wv.counts)
        assert isinstance(loaded.vectors, np.memmap) == (mmap == "r")
        assert_same_neighbours(loaded.most_similar("king"), wv.most_similar("king"))
    assert load_vectors(path).index_to_key == wv.index_to_key          # load_vectors knows it too


def test_mapped_arrays_are_read_only_views_of_the_file(wv, tmp_path):
    path = tmp_path / "v.npz"
    wv.save(path)
    loaded = WordVectors.load(path, mmap="r")
    assert not loaded.vectors.flags.writeable
    with pytest.raises(ValueError):
        loaded.vectors[0, 0] = 1.0
    offset = dict(member_data_offsets(path))["vectors.npy"]
    with open(path, "rb") as f:                        # the array starts after its .npy header
        f.seek(offset)
        np.lib.format.read_magic(f)
        np.lib.format.read_array_header_1_0(f)
        assert loaded.vectors.offset == f.tell() and f.tell() % 64 == 0
    raw = np.frombuffer(open(path, "rb").read(), dtype=np.uint8)
    start = loaded.vectors.offset
    np.testing.assert_array_equal(raw[start:start + wv.vectors.nbytes].view(np.float32)
                                  .reshape(wv.vectors.shape), wv.vectors)


def test_word2vec_load_mapped_answers_queries_and_refuses_to_train(model, tmp_path, toy_corpus):
    path = tmp_path / "m.npz"
    model.save(path)
    mapped = Word2Vec.load(path, mmap="r")
    assert isinstance(mapped.W_in, np.memmap) and isinstance(mapped.W_out, np.memmap)
    got, expected = mapped.most_similar("king"), model.most_similar("king")
    assert [w for w, _ in got] == [w for w, _ in expected]   # a trained model's W_in is strided:
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-6)  # sums differ in the last bit
    with pytest.raises(ValueError, match="read-only.*mmap='r'.*Word2Vec.load"):
        mapped.train(toy_corpus, epochs=1, progress=False)
    assert WordVectors.load(path, mmap="r").index_to_key == model.index_to_key   # W_in of a model


def test_files_written_before_alignment_still_load(model, tmp_path):
    path, old = tmp_path / "m.npz", tmp_path / "old.npz"
    model.save(path)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    np.savez(old, **arrays)                                # the previous writer's layout
    np.testing.assert_array_equal(Word2Vec.load(old).W_in, model.W_in)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = Word2Vec.load(old, mmap="r")
    np.testing.assert_array_equal(loaded.W_in, model.W_in)
    np.testing.assert_array_equal(loaded.W_out, model.W_out)
    mapped = isinstance(loaded.W_in, np.memmap)
    assert mapped or any("could not be memory-mapped" in str(w.message) for w in caught)


def test_each_loader_names_the_other_for_the_other_kind_of_file(model, wv, tmp_path):
    wv.save(tmp_path / "v.npz")
    with pytest.raises(ModelFileError, match="word vectors.*WordVectors.load"):
        Word2Vec.load(tmp_path / "v.npz")


@pytest.mark.parametrize("mmap", [None, "r"])
def test_empty_and_float64_vectors_round_trip(tmp_path, mmap):
    for vectors, words in [(np.zeros((0, 3), np.float32), []),
                           (np.arange(6, dtype=np.float64).reshape(2, 3), ["a", "b"])]:
        WordVectors(vectors, words).save(tmp_path / "v.npz")
        loaded = WordVectors.load(tmp_path / "v.npz", mmap=mmap)
        assert loaded.index_to_key == words and loaded.vectors.dtype == vectors.dtype
        np.testing.assert_array_equal(loaded.vectors, vectors)


# -------------------------------------------------- words that are not valid UTF-8
def latin1_vectors(tmp_path):
    rows = np.arange(6, dtype="<f4").reshape(3, 2)
    data = b"3 2\n" + b"".join(w + b" " + r.tobytes() + b"\n" for w, r in
                               zip([b"caf\xe9", b"na\xefve", b"ok"], rows))
    path = tmp_path / "latin1.bin"
    path.write_bytes(data)
    return path, data


def test_surrogateescape_words_save_back_to_the_same_bytes(tmp_path):
    path, data = latin1_vectors(tmp_path)
    wv = load_vectors(path, unicode_errors="surrogateescape")
    wv.save_word2vec_format(tmp_path / "again.bin")
    assert (tmp_path / "again.bin").read_bytes() == data
    wv.save_word2vec_format(tmp_path / "again.txt")
    text = (tmp_path / "again.txt").read_bytes()
    assert text.split(b"\n")[1].startswith(b"caf\xe9 ") and text.split(b"\n")[2].startswith(b"na\xefve ")
    assert load_vectors(tmp_path / "again.txt", unicode_errors="surrogateescape").index_to_key == \
        wv.index_to_key


def test_surrogateescape_words_are_stored_in_native_files(tmp_path):
    path, _ = latin1_vectors(tmp_path)
    wv = load_vectors(path, unicode_errors="surrogateescape")
    wv.save(tmp_path / "v.npz")
    assert WordVectors.load(tmp_path / "v.npz").index_to_key == wv.index_to_key
    model = Word2Vec.from_pretrained(wv)
    model.save(tmp_path / "m.npz")
    assert Word2Vec.load(tmp_path / "m.npz").index_to_key == wv.index_to_key


def test_a_lone_surrogate_that_stands_for_no_byte_is_refused_clearly(tmp_path):
    wv = WordVectors(np.ones((2, 2), np.float32), ["ok", "bad\ud800"])
    for save, name in ((wv.save_word2vec_format, "v.bin"), (wv.save, "v.npz")):
        with pytest.raises(ValueError, match=r"word 'bad\\ud800' cannot be stored"):
            save(tmp_path / name)
        assert not (tmp_path / name).exists()


def test_gensim_loads_our_surrogateescape_output_as_it_loads_the_original(tmp_path):
    gensim_models = pytest.importorskip("gensim.models", reason="gensim is not installed")
    path, _ = latin1_vectors(tmp_path)
    load_vectors(path, unicode_errors="surrogateescape").save_word2vec_format(tmp_path / "a.bin")
    ours = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "a.bin"), binary=True,
                                                           unicode_errors="replace")
    theirs = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=True,
                                                             unicode_errors="replace")
    assert ours.index_to_key == theirs.index_to_key


def test_buffer_written_by_the_aligned_writer_is_a_valid_zip():
    from w2v.io import _write_aligned_npz
    buffer = io.BytesIO()
    arrays = {"a": np.arange(5, dtype=np.int64), "b": np.ones((3, 4), np.float32, order="F"),
              "c": np.zeros(0, np.uint8)}
    _write_aligned_npz(buffer, arrays)
    buffer.seek(0)
    with np.load(buffer) as npz:
        for name, array in arrays.items():
            np.testing.assert_array_equal(npz[name], array)


@pytest.mark.parametrize("words,errors", [
    (["a", "", "b\u00e9", "\u4e2d\u6587", ""], "strict"), (["x"], "strict"), ([], "strict"),
    (["caf\udce9", "ok", "na\udcefve"], "surrogateescape"), (["a\nb", "c", "\n"], "strict"),
    (["", ""], "strict")])
def test_stored_words_decode_back_exactly(words, errors):
    from w2v.io import decode_words, encode_words
    blob, ends = encode_words(words, errors)
    assert decode_words(blob, ends, "f", errors) == words
