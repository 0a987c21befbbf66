"""Phrases (w2v.data.phrases): counts and scores against a direct Counter computation,
joining against a plain-Python greedy join, gensim's Phrases when installed, files,
passes, connector words, streaming across blocks, and bad input."""
import logging
import math
import os
import tempfile
from collections import Counter

import numpy as np
import pytest

import w2v.data.phrases as phrases_module
from w2v import CorpusError, ModelFileError, Phrases, Word2Vec
from w2v.data.phrases import ENGLISH_CONNECTOR_WORDS

CONNECTORS = frozenset({"of", "the", "with", "for", "in", "to"})


def read_sentences(path):
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f]


@pytest.fixture(scope="module")
def toy_sentences(toy_corpus):
    return read_sentences(toy_corpus)


# ------------------------------------------------------------------ references
def reference_phrasegrams(sentences, min_count, threshold, scoring="default",
                          connectors=frozenset(), delimiter="_"):
    """The phrases and scores, counted with Counters straight from the definitions."""
    words, candidates, total = Counter(), Counter(), 0
    for sentence in sentences:
        start, between = None, []
        for w in sentence:
            total += 1
            if w in connectors:
                if start is not None:
                    between.append(w)
                continue
            words[w] += 1
            if start is not None:
                candidates[(start, *between, w)] += 1
            start, between = w, []
    n_entries = len(words) + len(candidates)
    found = {}
    for candidate, count in candidates.items():
        a, b = words[candidate[0]], words[candidate[-1]]
        if scoring == "default":
            score = (count - min_count) / (a * b) * n_entries
        elif scoring == "word2phrase":
            score = (count - min_count) / (a * b) * total if min(a, b) >= min_count else -math.inf
        else:
            pa, pb, pab = a / total, b / total, count / total
            score = math.log(pab / (pa * pb)) / -math.log(pab) if count >= min_count else -math.inf
        if score > threshold:
            found[delimiter.join(candidate)] = score
    return found


def reference_join(sentence, phrase_set, connectors=frozenset(), delimiter="_"):
    """Greedy left-to-right joining, written from the rule in the docstring."""
    out, start, between = [], None, []
    for w in sentence:
        if w in connectors:
            if start is None:
                out.append(w)
            else:
                between.append(w)
            continue
        if start is not None:
            candidate = delimiter.join([start, *between, w])
            if candidate in phrase_set:
                out.append(candidate)
                start, between = None, []
                continue
            out.extend([start, *between])
        start, between = w, []
    if start is not None:
        out.extend([start, *between])
    return out


def assert_same_phrasegrams(found, expected):
    assert set(found) == set(expected)
    for phrase, score in expected.items():
        assert found[phrase] == pytest.approx(score, rel=1e-12)


# ------------------------------------------------------------------ learning
@pytest.mark.parametrize("scoring,threshold", [("default", 2.0), ("npmi", 0.2),
                                               ("word2phrase", 20.0)])
@pytest.mark.parametrize("connectors", [frozenset(), CONNECTORS])
def test_scores_match_a_direct_counter_computation(toy_corpus, toy_sentences, scoring, threshold,
                                                   connectors):
    model = Phrases(toy_corpus, min_count=5, threshold=threshold, scoring=scoring,
                    connector_words=connectors)
    expected = reference_phrasegrams(toy_sentences, 5, threshold, scoring, connectors)
    assert expected, "the toy corpus should give some phrases at this threshold"
    assert_same_phrasegrams(model.phrasegrams, expected)
    assert len(model) == len(expected)


def test_file_and_token_lists_give_the_same_model(toy_corpus, toy_sentences):
    from_file = Phrases(toy_corpus, min_count=3, threshold=1.0, connector_words=CONNECTORS)
    from_lists = Phrases(toy_sentences, min_count=3, threshold=1.0, connector_words=CONNECTORS)
    assert from_file.phrasegrams == from_lists.phrasegrams


def test_connector_words_form_longer_phrases():
    sentences = [["the", "bank", "of", "america", "said", "so"], ["bank", "of", "america", "is"]] * 5
    model = Phrases(sentences, min_count=1, threshold=0.5, connector_words=ENGLISH_CONNECTOR_WORDS)
    assert "bank_of_america" in model.phrasegrams
    assert model[["the", "bank", "of", "america"]] == ["the", "bank_of_america"]
    plain = Phrases(sentences, min_count=1, threshold=0.5)
    assert "bank_of_america" not in plain.phrasegrams


def test_sentence_after_sentence_leaves_the_model_as_it_was(tmp_path):
    """phrases[sentence] one call per sentence, as gensim users do: words a sentence brings
    are its own (not added to the model for the next call); files and lists agree."""
    sentences = [["new", "york", "is", "big"], ["new", "york", "times"]] * 5
    model = Phrases(sentences, min_count=1, threshold=0.5)
    words = list(model.words)
    assert model[["zork", "new", "york"]] == ["zork", "new_york"]
    assert model[["new", "zork", "york", "zork"]] == ["new", "zork", "york", "zork"]
    assert model[["big", "new", "york", "new"]] == ["big", "new_york", "new"]
    assert model.words == words and "zork" not in model._word_index()
    assert list(model.sentences([["zork", "new", "york"], ["qux"]])) == [["zork", "new_york"], ["qux"]]
    (tmp_path / "c.txt").write_text("zork new york\nqux new york\n")
    assert list(model.sentences(tmp_path / "c.txt")) == [["zork", "new_york"], ["qux", "new_york"]]
    assert model[["qux", "new", "york"]] == ["qux", "new_york"]
    assert model.words == words and "qux" not in model._word_index()


def test_joining_matches_the_greedy_rule_and_keeps_every_token(toy_corpus, toy_sentences, tmp_path):
    model = Phrases(toy_corpus, min_count=5, threshold=2.0, connector_words=CONNECTORS)
    phrase_set = set(model.phrasegrams)
    expected = [reference_join(s, phrase_set, CONNECTORS) for s in toy_sentences]
    assert sum(t in phrase_set for s in expected for t in s) > 0
    assert list(model.sentences(toy_corpus)) == [s for s in expected]
    assert list(model.sentences(toy_sentences)) == expected
    out = tmp_path / "joined.txt"
    stats = model.transform_file(toy_corpus, out)
    assert read_sentences(out) == expected
    # nothing dropped, only joined: splitting the phrases gives the input back
    assert [[w for t in s for w in t.split("_")] for s in expected] == toy_sentences
    assert stats.tokens_in == sum(map(len, toy_sentences))
    assert stats.tokens_out == sum(map(len, expected))
    assert stats.joined == sum(t in phrase_set for s in expected for t in s)


def test_blocks_do_not_cut_phrases(toy_corpus, tmp_path, monkeypatch):
    """A phrase that runs across the reader's blocks (one long line) is found and joined."""
    words = " ".join(open(toy_corpus, encoding="utf-8").read().split())
    one_line = tmp_path / "one_line.txt"
    one_line.write_text(words, encoding="utf-8")             # no final newline
    whole = Phrases(one_line, min_count=5, threshold=2.0, connector_words=CONNECTORS)
    whole_out = tmp_path / "whole.txt"
    whole.transform_file(one_line, whole_out)
    monkeypatch.setattr(phrases_module, "BLOCK_CHARS", 37)
    pieces = Phrases(one_line, min_count=5, threshold=2.0, connector_words=CONNECTORS)
    assert pieces.phrasegrams == whole.phrasegrams
    pieces_out = tmp_path / "pieces.txt"
    pieces.transform_file(one_line, pieces_out)
    assert pieces_out.read_bytes() == whole_out.read_bytes()
    assert not whole_out.read_bytes().endswith(b"\n")
    expected = reference_join(words.split(), set(whole.phrasegrams), CONNECTORS)
    assert whole_out.read_text(encoding="utf-8").split() == expected


def test_joining_a_file_with_new_words_in_many_blocks_keeps_order_and_words(
        toy_corpus, toy_sentences, tmp_path, monkeypatch):
    """transform_file scans and writes in two threads: with words the model never saw
    arriving in many small blocks, the text equals the token-list path's, line by line."""
    model = Phrases(toy_sentences[:300], min_count=3, threshold=1.0, connector_words=CONNECTORS,
                    passes=2)
    lines = [f"zzunseen{i % 7} " + " ".join(s) + f" q{i}" for i, s in enumerate(toy_sentences)]
    source = tmp_path / "with_new_words.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(phrases_module, "BLOCK_CHARS", 53)
    out = tmp_path / "joined.txt"
    stats = model.transform_file(source, out)
    expected = [" ".join(s) for s in model.sentences([l.split() for l in lines])]
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert stats.tokens_in == sum(len(l.split()) for l in lines)
    assert stats.tokens_out == sum(len(l.split()) for l in expected)
    assert stats.joined == sum(t in model.phrasegrams for l in expected for t in l.split()) > 0


def test_two_passes_equal_learning_again_on_the_joined_text(toy_sentences):
    params = dict(min_count=3, threshold=1.0, connector_words=CONNECTORS)
    first = Phrases(toy_sentences, **params)
    joined = list(first.sentences(toy_sentences))
    second = Phrases(joined, **params)
    both = Phrases(toy_sentences, passes=2, **params)
    assert both.phrasegrams == {**first.phrasegrams, **second.phrasegrams}
    assert [p for p, *_ in both.phrases() if p.count("_") >= 2], "no phrase of 3+ words"
    assert list(both.sentences(toy_sentences)) == list(second.sentences(joined))


def test_save_and_load_round_trip(toy_corpus, toy_sentences, tmp_path):
    model = Phrases(toy_corpus, min_count=3, threshold=1.0, connector_words=CONNECTORS, passes=2)
    path = tmp_path / "toy.phrases"
    model.save(path)
    loaded = Phrases.load(path)
    assert loaded.phrasegrams == model.phrasegrams
    assert loaded.params() == model.params()
    assert list(loaded.sentences(toy_sentences[:200])) == list(model.sentences(toy_sentences[:200]))
    assert loaded.summary() == model.summary()


def test_max_vocab_size_prunes_and_says_so(toy_corpus, caplog):
    with caplog.at_level(logging.WARNING):
        model = Phrases(toy_corpus, min_count=5, threshold=2.0, max_vocab_size=3000)
    assert model.stats[0].prunes > 0 and model.stats[0].pruned > 0
    assert "max_vocab_size" in caplog.text and "dropped" in caplog.text
    assert "pruned" in model.summary()


# ------------------------------------------------------------------ training
def test_word2vec_trains_on_phrases_without_a_file(toy_corpus, tmp_path):
    phrases = Phrases(toy_corpus, min_count=5, threshold=2.0)
    top = phrases.top(1)[0][0]
    model = Word2Vec(toy_corpus, phrases=phrases, epochs=1, workers=1, progress=False, min_count=1)
    assert top in model.wv.key_to_index
    path = tmp_path / "p.phrases"
    phrases.save(path)
    by_path = Word2Vec(toy_corpus, phrases=str(path), epochs=1, workers=1, progress=False,
                       min_count=1)
    assert by_path.wv.index_to_key == model.wv.index_to_key


def test_phrase_analogies_are_case_insensitive(tmp_path):
    from w2v import WordVectors
    words = ["new_york", "new_york_times", "baltimore", "baltimore_sun", "boston", "boston_globe"]
    rng = np.random.default_rng(0)
    base = rng.normal(size=(3, 20))
    offset = rng.normal(size=20)
    vectors = np.vstack([np.vstack([b, b + offset]) for b in base]).astype(np.float32)
    wv = WordVectors(vectors, words)
    questions = tmp_path / "q.txt"
    questions.write_text(": newspapers\nNew_York New_York_Times Baltimore Baltimore_Sun\n"
                         "Baltimore Baltimore_Sun Boston Boston_Globe\n")
    from w2v.evaluation import evaluate_analogies
    result = evaluate_analogies(wv, questions)
    assert result["answered"] == 2 and result["correct"] == 2
    assert evaluate_analogies(wv, questions, case_insensitive=False)["answered"] == 0


# ------------------------------------------------------------------ bad input
def test_bad_parameters_are_clear_errors():
    with pytest.raises(ValueError, match="scoring"):
        Phrases(scoring="pmi")
    with pytest.raises(ValueError, match=r"threshold.*\[-1, 1\]"):
        Phrases(scoring="npmi", threshold=2)
    with pytest.raises(ValueError, match="threshold"):
        Phrases(threshold=0)
    with pytest.raises(ValueError, match="min_count"):
        Phrases(min_count=0)
    with pytest.raises(ValueError, match="delimiter"):
        Phrases(delimiter=" ")
    with pytest.raises(ValueError, match="passes"):
        Phrases(passes=0)
    with pytest.raises(TypeError, match="connector_words"):
        Phrases(connector_words="of the")


def test_bad_corpora_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(CorpusError, match="empty corpus"):
        Phrases(empty)
    with pytest.raises(CorpusError, match="empty corpus"):
        Phrases([])
    with pytest.raises(FileNotFoundError):
        Phrases(tmp_path / "missing.txt")
    with pytest.raises(TypeError, match="not a list of tokens"):
        Phrases(["a sentence as a string"])
    with pytest.raises(TypeError, match="one-shot iterator"):
        Phrases(iter([["a", "b"]]), passes=2)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"a b\0c d\n")
    with pytest.raises(CorpusError, match="NUL"):
        Phrases(binary)


def test_corrupt_phrase_files_are_model_file_errors(toy_corpus, tmp_path):
    model = Phrases(toy_corpus, min_count=5, threshold=2.0)
    path = tmp_path / "toy.phrases"
    model.save(path)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.phrases"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        Phrases.load(truncated)
    junk = tmp_path / "junk.phrases"
    junk.write_bytes(b"not a zip file at all")
    with pytest.raises(ModelFileError):
        Phrases.load(junk)
    with pytest.raises(ModelFileError, match="Phrases.load"):
        Word2Vec.load(path)
    w2v_model = tmp_path / "model.npz"
    Word2Vec(toy_corpus, epochs=1, workers=1, progress=False).save(w2v_model)
    with pytest.raises(ModelFileError, match="Word2Vec.load"):
        Phrases.load(w2v_model)
    # arrays that point outside the word table
    from w2v.io import load_arrays, save_arrays, PHRASES_FORMAT
    arrays, meta = load_arrays(path, file_formats=(PHRASES_FORMAT,))
    arrays["pass0_parts"] = arrays["pass0_parts"] + 10**6
    bad = tmp_path / "bad.phrases"
    save_arrays(bad, arrays, {k: v for k, v in meta.items() if k not in ("format", "format_version")},
                file_format=PHRASES_FORMAT)
    with pytest.raises(ModelFileError, match="inconsistent"):
        Phrases.load(bad)


# ------------------------------------------------------------------ gensim
@pytest.mark.parametrize("scoring,threshold", [("default", 2.0), ("npmi", 0.2)])
def test_same_phrases_and_joins_as_gensim(toy_sentences, scoring, threshold):
    gensim_phrases = pytest.importorskip("gensim.models.phrases")
    ours = Phrases(toy_sentences, min_count=5, threshold=threshold, scoring=scoring,
                   connector_words=CONNECTORS)
    theirs = gensim_phrases.Phrases(toy_sentences, min_count=5, threshold=threshold,
                                    scoring=scoring, connector_words=CONNECTORS)
    assert_same_phrasegrams(ours.phrasegrams, theirs.export_phrases())
    frozen = theirs.freeze()
    assert list(ours.sentences(toy_sentences)) == [frozen[s] for s in toy_sentences]
    exported = ours.to_gensim()
    assert [exported[s] for s in toy_sentences[:300]] == [frozen[s] for s in toy_sentences[:300]]


# ------------------------------------------------------------------ command line
def test_cli_phrases_then_train_with_them(toy_corpus, tmp_path, capsys):
    from w2v.cli import main
    out = tmp_path / "joined.txt"
    assert main(["phrases", toy_corpus, "-o", str(out), "--threshold", "2", "--passes", "2",
                 "--connector-words", "english", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "phrases" in text and "top phrases:" in text and "phrase tokens formed" in text
    model_path = tmp_path / "joined.npz"
    phrases = Phrases.load(model_path)
    assert phrases.passes == 2 and len(phrases) > 0
    assert read_sentences(out) == list(phrases.sentences(toy_corpus))
    # apply a saved model to another file
    again = tmp_path / "again.txt"
    assert main(["phrases", toy_corpus, "-o", str(again), "--model", str(model_path),
                 "--quiet"]) == 0
    assert again.read_bytes() == out.read_bytes()
    trained = tmp_path / "model.npz"
    assert main(["train", toy_corpus, "--phrases", str(model_path), "--epochs", "1",
                 "--workers", "1", "--min-count", "1", "-o", str(trained), "--quiet"]) == 0
    model = Word2Vec.load(trained)
    assert phrases.top(1)[0][0] in model.wv.key_to_index


def test_cli_bad_phrase_options_are_one_line_errors(toy_corpus, tmp_path, capsys):
    from w2v.cli import main
    assert main(["phrases", toy_corpus, "-o", str(tmp_path / "x.txt"), "--scoring", "npmi",
                 "--threshold", "3"]) == 1
    assert "threshold" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"junk")
    assert main(["train", toy_corpus, "--phrases", str(bad), "--quiet"]) == 1
    assert "bad.npz" in capsys.readouterr().err


# ------------------------------------------------------------------ property
def test_random_corpora_match_the_references():
    """Random small corpora (few distinct words, so that candidates repeat): the phrases
    equal the Counter computation and joining equals the greedy rule, for both scorings."""
    pytest.importorskip("hypothesis")
    from hypothesis import given, settings, strategies as st

    vocabulary = ["a", "b", "c", "d", "of", "the", "x_y", "é"]
    corpus = st.lists(st.lists(st.sampled_from(vocabulary), max_size=12), min_size=1, max_size=25)

    @settings(max_examples=int(os.environ.get("W2V_FUZZ_EXAMPLES", 60)), deadline=None,
              derandomize=True, database=None)
    @given(corpus, st.sampled_from(["default", "npmi"]), st.booleans())
    def check(sentences, scoring, with_connectors):
        if not any(sentences):
            return
        connectors = frozenset({"of", "the"}) if with_connectors else frozenset()
        threshold = 0.0 if scoring == "npmi" else 0.5
        model = Phrases(sentences, min_count=1, threshold=threshold, scoring=scoring,
                        connector_words=connectors)
        expected = reference_phrasegrams(sentences, 1, threshold, scoring, connectors)
        assert set(model.phrasegrams) == set(expected)
        joined = list(model.sentences(sentences))
        assert joined == [reference_join(s, set(expected), connectors) for s in sentences]
        # a file holding words the model never saw (its "foreign" words), in tiny blocks
        lines = [" ".join(s + ["new%d" % (i % 3)] if i % 2 else ["new"] + s)
                 for i, s in enumerate(sentences)]
        with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
            patch.setattr(phrases_module, "BLOCK_CHARS", 7)
            source, out = os.path.join(folder, "in.txt"), os.path.join(folder, "out.txt")
            with open(source, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            model.transform_file(source, out)
            with open(out, encoding="utf-8") as f:
                assert [l.split() for l in f.read().splitlines()] == [
                    reference_join(l.split(), set(expected), connectors) for l in lines]

    check()


def test_gensim_phrasegrams_round_trip(toy_sentences):
    gensim_phrases = pytest.importorskip("gensim.models.phrases")
    theirs = gensim_phrases.Phrases(toy_sentences, min_count=5, threshold=2.0,
                                    connector_words=CONNECTORS)
    imported = Phrases.from_gensim(theirs)
    assert_same_phrasegrams(imported.phrasegrams, theirs.export_phrases())
    frozen = theirs.freeze()
    assert list(imported.sentences(toy_sentences[:500])) == [frozen[s] for s in toy_sentences[:500]]
    again = Phrases.from_gensim(imported.to_gensim())
    assert again.phrasegrams == imported.phrasegrams


def test_the_direct_corpus_equals_reading_the_joined_sentences(toy_corpus):
    from w2v import Config, build_corpus
    phrases = Phrases(toy_corpus, min_count=5, threshold=2.0, passes=2,
                      connector_words=CONNECTORS)
    config = Config(min_count=3, max_sentence_length=7)
    direct, direct_vocab = phrases.build_corpus(toy_corpus, config)
    through, through_vocab = build_corpus(phrases.sentences(toy_corpus), config)
    assert direct_vocab.index_to_key == through_vocab.index_to_key
    assert np.array_equal(direct_vocab.counts, through_vocab.counts)
    assert np.array_equal(direct.ids, through.ids)
    assert np.array_equal(direct.sentence_starts, through.sentence_starts)
    assert direct.stats.kept_tokens == through.stats.kept_tokens
