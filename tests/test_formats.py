"""word2vec C binary/text and fastText .vec files: round trips, detection, odd words."""
import numpy as np
import pytest

from w2v import ModelFileError, WordVectors, load_vectors
from w2v.io import load_word2vec_format, vector_format_of


def small_vectors():
    rng = np.random.default_rng(0)
    words = ["the", "king", "queen", "straße", "東京", "naïve"]
    return words, rng.normal(0, 1, (len(words), 7)).astype(np.float32)


@pytest.mark.parametrize("name,expected", [("v.bin", "word2vec-bin"), ("v.txt", "word2vec"),
                                           ("v.vec", "vec"), ("vectors", "word2vec-bin")])
def test_round_trip_by_file_name(tmp_path, name, expected):
    words, vectors = small_vectors()
    WordVectors(vectors, words).save_word2vec_format(tmp_path / name)
    assert vector_format_of(tmp_path / name) == expected
    loaded = load_vectors(tmp_path / name)
    assert loaded.index_to_key == words
    if expected == "word2vec-bin":
        np.testing.assert_array_equal(loaded.vectors, vectors)
    else:
        np.testing.assert_allclose(loaded.vectors, vectors, atol=1e-6)


def test_format_is_sniffed_from_content_when_the_name_does_not_tell(tmp_path):
    words, vectors = small_vectors()
    WordVectors(vectors, words).save_word2vec_format(tmp_path / "v.txt")
    (tmp_path / "v.txt").rename(tmp_path / "plain")
    assert vector_format_of(tmp_path / "plain") == "word2vec"
    assert load_vectors(tmp_path / "plain").index_to_key == words


def test_reads_fasttext_vec_layout(tmp_path):
    # fastText writes a space after the last number of each row.
    path = tmp_path / "ft.vec"
    path.write_bytes(b"2 3\n</s> 0.1 -0.2 0.3 \nhello 1 2 3 \n")
    wv = load_vectors(path)
    assert wv.index_to_key == ["</s>", "hello"]
    np.testing.assert_allclose(wv["hello"], [1, 2, 3])


def test_binary_rows_may_start_with_a_newline(tmp_path):
    # Some writers end rows without a newline, others put it before the next word.
    rows = np.arange(6, dtype="<f4").reshape(2, 3)
    path = tmp_path / "v.bin"
    path.write_bytes(b"2 3\n" + b"a " + rows[0].tobytes() + b"b " + rows[1].tobytes())
    words, vectors = load_word2vec_format(path)
    assert words == ["a", "b"]
    np.testing.assert_array_equal(vectors, rows)


def latin1_file(tmp_path):
    rows = np.ones((3, 2), dtype="<f4")
    path = tmp_path / "latin1.bin"
    path.write_bytes(b"3 2\n" + b"".join(w + b" " + r.tobytes() + b"\n" for w, r in
                                          zip([b"caf\xe9", b"na\xefve", b"ok"], rows)))
    return path


def test_invalid_utf8_word_is_an_error_that_names_it_and_the_choices(tmp_path):
    with pytest.raises(ModelFileError, match=r"word 0 \(b'caf\\xe9'\) is not valid UTF-8.*unicode_errors"):
        load_vectors(latin1_file(tmp_path))


@pytest.mark.parametrize("errors,expected", [("replace", "caf\ufffd"), ("ignore", "caf"),
                                             ("surrogateescape", "caf\udce9")])
def test_invalid_utf8_word_with_an_explicit_choice(tmp_path, errors, expected):
    wv = load_vectors(latin1_file(tmp_path), unicode_errors=errors)
    assert wv.index_to_key[0] == expected and wv.index_to_key[2] == "ok"


def test_surrogateescape_round_trips_the_original_bytes(tmp_path):
    wv = load_vectors(latin1_file(tmp_path), unicode_errors="surrogateescape")
    assert wv.index_to_key[0].encode("utf-8", "surrogateescape") == b"caf\xe9"


def test_unknown_error_handler_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unicode_errors='lenient' is not an error handler"):
        load_vectors(latin1_file(tmp_path), unicode_errors="lenient")


def test_words_made_equal_by_replacement_are_reported(tmp_path):
    rows = np.ones((2, 2), dtype="<f4")
    path = tmp_path / "dup.bin"
    path.write_bytes(b"2 2\n" + b"a\xff " + rows[0].tobytes() + b"\n" + b"a\xfe " + rows[1].tobytes())
    with pytest.warns(UserWarning, match="1 word\\(s\\) occur more than once"):
        wv = load_vectors(path, unicode_errors="replace")
    assert wv.index("a\ufffd") == 0 and len(wv) == 2


def test_text_row_with_missing_numbers_names_the_line(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("2 3\na 1.5 2.5 3.5\nb 1.5 2.5\n")
    with pytest.raises(ModelFileError, match="line 3 has 2 numbers, expected 3"):
        load_vectors(path)


def test_model_writes_vec_and_text_by_name(trained_models, tmp_path):
    model = trained_models["sgd"]
    model.save_word2vec_format(tmp_path / "m.vec")
    assert (tmp_path / "m.vec").read_bytes().split(b"\n")[1].split(b" ")[0] == \
        model.index_to_key[0].encode()
    np.testing.assert_allclose(load_vectors(tmp_path / "m.vec").vectors, model.word_vecs, atol=1e-6)
