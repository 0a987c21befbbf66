"""Native save/load and the word2vec C binary format."""
import json
import zipfile

import numpy as np
import pytest

from w2v import ModelFileError, Word2Vec


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_round_trip_is_exact(trained_models, tmp_path, optimizer):
    model = trained_models[optimizer]
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = Word2Vec.load(path)
    assert loaded.config == model.config
    assert loaded.index_to_key == model.index_to_key
    np.testing.assert_array_equal(loaded.counts, model.counts)
    np.testing.assert_array_equal(loaded.W_in, model.W_in)
    np.testing.assert_array_equal(loaded.W_out, model.W_out)
    if optimizer == "adam":
        for a, b in zip(loaded.adam_moments(), model.adam_moments()):
            np.testing.assert_array_equal(a, b)
    assert loaded.adam_step == model.adam_step and loaded.history == model.history
    assert loaded.most_similar("king") == model.most_similar("king")


def test_training_after_load_continues_as_without_saving(toy_corpus, tmp_path):
    a = Word2Vec(toy_corpus, workers=1, epochs=1, progress=False)
    a.save(tmp_path / "a.npz")
    b = Word2Vec.load(tmp_path / "a.npz")
    a.train(epochs=1, progress=False)
    b.train(toy_corpus, epochs=1, progress=False)
    np.testing.assert_array_equal(a.W_in, b.W_in)


def test_word2vec_binary_format(trained_models, tmp_path):
    model = trained_models["sgd"]
    path = tmp_path / "vectors.bin"
    model.save_word2vec_format(path)
    data = path.read_bytes()
    header, rest = data.split(b"\n", 1)
    assert header == f"{len(model)} {model.config.vector_size}".encode()
    dim = model.config.vector_size
    for i in range(3):                       # word, space, dim float32, newline
        word, rest = rest.split(b" ", 1)
        assert word.decode() == model.index_to_key[i]
        np.testing.assert_array_equal(np.frombuffer(rest[:4 * dim], "<f4"), model.W_in[i])
        assert rest[4 * dim:4 * dim + 1] == b"\n"
        rest = rest[4 * dim + 1:]
    text = tmp_path / "vectors.txt"
    model.save_word2vec_format(text, binary=False)
    lines = text.read_text().splitlines()
    assert len(lines) == len(model) + 1 and lines[1].split()[0] == model.index_to_key[0]


def test_bad_model_files(trained_models, tmp_path):
    good = tmp_path / "good.npz"
    trained_models["sgd"].save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="truncated.npz"):
        Word2Vec.load(truncated)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a model at all")
    with pytest.raises(ModelFileError):
        Word2Vec.load(garbage)
    with pytest.raises(FileNotFoundError):
        Word2Vec.load(tmp_path / "missing.npz")

    with np.load(good) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["meta_json"].tobytes())
    meta["format_version"] = 99
    newer = tmp_path / "newer.npz"
    np.savez(newer, **dict(arrays, meta_json=np.frombuffer(json.dumps(meta).encode(), np.uint8)))
    with pytest.raises(ModelFileError, match="newer"):
        Word2Vec.load(newer)
    lying = tmp_path / "lying.npz"
    np.savez(lying, **dict(arrays, W_in=arrays["W_in"][:-1]))
    with pytest.raises(ModelFileError, match="W_in"):
        Word2Vec.load(lying)


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, meta_json=np.array([{"evil": 1}], dtype=object))
    assert zipfile.is_zipfile(path)
    with pytest.raises(ModelFileError):
        Word2Vec.load(path)


@pytest.mark.parametrize("binary", [True, False])
def test_word2vec_format_reader_round_trips(trained_models, tmp_path, binary):
    from w2v.io import load_word2vec_format
    model = trained_models["adam"]
    path = tmp_path / "v"
    model.save_word2vec_format(path, binary=binary)
    words, vectors = load_word2vec_format(path, binary=binary)
    assert words == model.index_to_key
    if binary:
        np.testing.assert_array_equal(vectors, model.word_vecs)
    else:
        np.testing.assert_allclose(vectors, model.word_vecs, atol=1e-6)


def test_word2vec_reader_rejects_lying_and_truncated_files(trained_models, tmp_path):
    from w2v.io import load_word2vec_format
    good = tmp_path / "v.bin"
    trained_models["sgd"].save_word2vec_format(good)
    header, body = good.read_bytes().split(b"\n", 1)
    lying = tmp_path / "lying.bin"
    lying.write_bytes(b"999999999 100\n" + body)          # more rows than the file holds
    with pytest.raises(ModelFileError, match="more than"):
        load_word2vec_format(lying)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(header + b"\n" + body[: len(body) // 2])
    with pytest.raises(ModelFileError, match="truncated|more than"):
        load_word2vec_format(truncated)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a header\n")
    with pytest.raises(ModelFileError, match="header"):
        load_word2vec_format(garbage)
