"""Phrases: learn multi-word expressions (new_york, bank_of_america) and join them.

    phrases = Phrases("corpus.txt", min_count=5, threshold=10, passes=2)
    phrases.transform_file("corpus.txt", "corpus_phrases.txt")   # joined text
    Word2Vec("corpus.txt", phrases=phrases)                       # joined while read
    phrases.save("corpus.phrases"); Phrases.load("corpus.phrases")

Learning counts words and phrase candidates in compiled code (w2v/data/_phrases.pyx)
on the id stream of the byte scanner (w2v/data/_scan.pyx): no Python string per
token. A candidate is a word, any number of connector words, and the next word
(gensim's `connector_words`, so that "bank of america" can form). Candidates are
scored once the corpus has been read:

- scoring="default": word2phrase's and gensim's `(count(a b) - min_count) /
  (count(a) * count(b)) * N`. gensim takes N = the number of distinct entries it
  counted (words plus candidates); word2phrase takes N = the number of tokens. w2v
  follows gensim (so that gensim's thresholds, default 10, carry over and the phrases
  found are the same); scoring="word2phrase" is word2phrase's choice (N = tokens, and a
  word seen fewer than min_count times never joins; its default threshold is 100).
- scoring="npmi": normalised pointwise mutual information of a and b,
  log(p(a b) / (p(a) p(b))) / -log(p(a b)) with p(x) = count(x) / tokens, in [-1, 1];
  only candidates seen min_count times. Default threshold 0.5.

A candidate scoring above `threshold` is a phrase. Joining goes left to right as
gensim's: a phrase's last word does not start another one. passes=2 learns again on
the joined text (new_york_times from new_york + times), and so on.

max_vocab_size bounds the candidates held while counting: when words plus candidates
exceed it, candidates seen fewer than 1, 2, ... times are dropped (gensim's and
word2vec's pruning, applied to candidates only: word counts stay exact); how many
were dropped is logged and kept in `stats`, never silent.
"""
from __future__ import annotations

import itertools
import logging
import math
import os
import sys
import time
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from w2v.config import Config
from w2v.data._phrases import CandidateCounter, PhraseJoiner, SequenceTable, render
from w2v.data._scan import TokenCounter
from w2v.data.corpus import (BLOCK_CHARS, CorpusError, _batches, _is_path, _is_utf8,
                             _locate_decode_error, _nul_error, _source_name, byte_pieces)
from w2v.io import (PHRASES_FORMAT, ModelFileError, atomic_write, load_arrays, save_arrays,
                    vocabulary_arrays, vocabulary_from)

logger = logging.getLogger(__name__)

# gensim's ENGLISH_CONNECTOR_WORDS: articles, some prepositions and conjunctions
ENGLISH_CONNECTOR_WORDS = frozenset("a an the for of with without at from to in on by and or".split())
SCORINGS = ("default", "npmi", "word2phrase")
DEFAULT_THRESHOLDS = {"default": 10.0, "npmi": 0.5, "word2phrase": 100.0}
_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_ENDS = np.zeros(0, dtype=np.int64)


@dataclass
class PassStats:
    """What one pass of learning saw and found."""
    tokens: int = 0            # tokens read (after joining the phrases of earlier passes)
    lines: int = 0
    words: int = 0             # distinct non-connector words
    candidates: int = 0        # distinct candidates kept to be scored
    prunes: int = 0            # times max_vocab_size made the counter drop rare candidates
    pruned: int = 0            # candidates dropped by those prunes
    phrases: int = 0           # phrases found
    seconds: float = 0.0


@dataclass
class ApplyStats:
    """What joining did: tokens in and out, and how many phrase tokens were formed."""
    source: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    lines: int = 0
    joined: int = 0            # phrase tokens written
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{self.source}: {self.lines:,} lines, {self.tokens_in:,} tokens in, "
                f"{self.tokens_out:,} out, {self.joined:,} phrase tokens formed")


# ------------------------------------------------------------------ reading
class _Reader:
    """Blocks of (ids, line_ends) from a source, with ids in a word table: the table's
    words keep their ids (0..len-1), new words get the next ones in order of first
    appearance. UTF-8 files go through the byte scanner; other sources are tokenised
    by w2v.data.corpus and mapped with a dict."""

    def __init__(self, source, words: Sequence[str], index: Dict[str, int], config: Config,
                 progress=None, foreign: bool = False):
        self.source, self.words, self.index = source, words, index
        self.config, self.encoding = config, config.encoding
        self.tokens = self.lines = 0
        self.progress = progress              # called with bytes read (files), or None
        self._counter = None                  # the byte path's TokenCounter
        self._provisional = None              # the token path's word -> id
        # foreign=True (byte path only): words outside the table are not added to it;
        # each block's get block-local ids from len(words) on, and self.foreign is
        # (block bytes, starts, lengths) of the last block's (TokenCounter.scan_known)
        self.foreign_ids = foreign and self.byte_path
        self.foreign = None

    @property
    def byte_path(self) -> bool:
        return _is_path(self.source) and _is_utf8(self.encoding)

    def blocks(self) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        if self.byte_path:
            yield from self._byte_blocks()
        else:
            yield from self._token_blocks()

    def n_words(self) -> int:
        """Words known so far: the table's and the new ones."""
        if self._counter is not None:
            return self._counter.n_words
        return len(self.words) + (len(self._provisional) if self._provisional is not None else 0)

    def new_words(self, start: int) -> List[str]:
        """The new words from id `start` (>= len(words)) on, decoded."""
        if self._counter is not None:
            out = []
            for raw in self._counter.word_bytes(start):
                try:
                    out.append(raw.decode("utf-8"))
                except UnicodeDecodeError as e:
                    line, offset = _locate_decode_error(self.source, "utf-8")
                    raise CorpusError(
                        f"{os.fspath(self.source)}: bytes that are not valid utf-8 on line {line} "
                        f"(byte offset {offset}: {e.reason})") from None
            return out
        if self._provisional is None:
            return []
        return list(itertools.islice(self._provisional, start - len(self.words), None))

    def new_word_bytes(self, start: int) -> List[bytes]:
        if self._counter is not None:
            return self._counter.word_bytes(start)
        return [w.encode("utf-8", "surrogateescape") for w in self.new_words(start)]

    def _byte_blocks(self):
        counter = self._counter = TokenCounter()
        if self.words:
            seeds = [_seed_bytes(w, i) for i, w in enumerate(self.words)]
            counter.scan(np.frombuffer(b"\n".join(seeds) + b"\n", dtype=np.uint8))
            if counter.n_words != len(self.words):
                raise RuntimeError("phrase word table did not seed the scanner one to one")
        base = counter.tokens
        for piece, done, has_nul in byte_pieces(self.source, BLOCK_CHARS):
            if has_nul:
                raise _nul_error(self.source, "utf-8")
            before = counter.tokens
            if self.foreign_ids:
                ids, ends, starts, lengths = counter.scan_known(piece, len(self.words))
                self.foreign = (piece, starts, lengths)
            else:
                ids, ends = counter.scan(piece)
            self.tokens = counter.tokens - base
            self.lines += len(ends)
            if self.progress is not None:
                self.progress(done)
            yield ids, ends - before

    def _token_blocks(self):
        provisional = self._provisional = defaultdict()
        provisional.default_factory = itertools.count(len(self.words)).__next__
        index = self.index
        config = self.config

        def id_of(token):
            found = index.get(token)
            return provisional[token] if found is None else found

        for tokens, ends in _batches(self.source, config):
            ids = np.fromiter(map(id_of, tokens), dtype=np.int32, count=len(tokens))
            self.tokens += len(tokens)
            self.lines += len(ends)
            if len(self.words) + len(provisional) >= 2**31 - 1:
                raise CorpusError(f"{_source_name(self.source)}: more than 2**31 - 2 distinct words")
            yield ids, np.asarray(ends, dtype=np.int64)


def _seed_bytes(word: str, i: int) -> bytes:
    """A table word as the scanner will see it in a file; a word that cannot appear in
    a file as one token (empty, or holding whitespace) gets a NUL-marked stand-in, since
    a file with a NUL byte is refused."""
    raw = word.encode("utf-8", "surrogateescape")
    if not raw or len(raw.split()) != 1 or raw.split()[0] != raw or len(word.split()) != 1:
        return b"\0w2v-unmatchable-%d" % i
    return raw


def _join_through(joiners: Sequence[PhraseJoiner], ids, ends, final: bool = False):
    for joiner in joiners:
        ids, ends = joiner.join(ids, ends, final)
    return ids, ends


class _JoinedTextWriter:
    """The second stage of Phrases.transform_file: joins phrases in blocks of ids (in
    order: the joiners carry open candidates from block to block), renders them as text
    and writes it. Words new to the phrase model arrive with their block, as bytes."""

    def __init__(self, phrases: "Phrases"):
        self.joiners = phrases._make_joiners()
        words = [w.encode("utf-8", "surrogateescape") for w in phrases.words]
        self.arena = bytearray(b"".join(words))
        self.offsets = np.concatenate(([0], np.cumsum([len(w) for w in words], dtype=np.int64)))
        self.is_phrase = phrases._phrase_flags().view(np.uint8)
        self.line_open = False
        self.tokens_out = self.joined = 0

    def write(self, f, ids, ends, new_words: List[bytes], final: bool, foreign=None) -> None:
        """foreign: (block, starts, lengths) of the block's foreign ids (see _Reader)."""
        if new_words:
            self.arena.extend(b"".join(new_words))
            self.offsets = np.concatenate((self.offsets, self.offsets[-1] + np.cumsum(
                [len(b) for b in new_words], dtype=np.int64)))
        ids, ends = _join_through(self.joiners, ids, ends, final)
        block, starts, lengths = foreign if foreign is not None else (None, None, None)
        text, self.line_open, joined = render(
            ids, ends, np.frombuffer(self.arena, dtype=np.uint8), self.offsets, self.line_open,
            self.is_phrase, None if block is None else np.frombuffer(block, dtype=np.uint8),
            starts, lengths)
        f.write(text)
        self.tokens_out += len(ids)
        self.joined += joined


# ------------------------------------------------------------------- model
class Phrases:
    """A phrase model: learn it from a corpus (file path, .gz/.bz2/.xz, or an iterable
    of token lists), then join phrases in text (`transform_file`, `sentences`,
    `phrases[tokens]`) or while training (`Word2Vec(corpus, phrases=phrases)`).

    Parameters (gensim's names and defaults): min_count=5, threshold (None: 10 for
    "default", 0.5 for "npmi", 100 for "word2phrase"), max_vocab_size=40_000_000,
    delimiter="_", scoring ("default", "npmi" or "word2phrase"), connector_words
    (e.g. ENGLISH_CONNECTOR_WORDS), passes=1 (2: phrases of up to four words, ...).
    encoding: of corpus files. progress: a progress bar on stderr while reading files.
    """

    def __init__(self, sentences=None, *, min_count: int = 5, threshold: Optional[float] = None,
                 max_vocab_size: Optional[int] = 40_000_000, delimiter: str = "_",
                 scoring: str = "default", connector_words: Iterable[str] = frozenset(),
                 passes: int = 1, encoding: str = "utf-8", progress: bool = False):
        self.min_count, self.max_vocab_size, self.delimiter = min_count, max_vocab_size, delimiter
        self.scoring, self.passes, self.encoding = scoring, passes, encoding
        if isinstance(connector_words, str):
            raise TypeError("connector_words must be a collection of words, not a string")
        self.connector_words = frozenset(connector_words)
        self.threshold = DEFAULT_THRESHOLDS.get(scoring, 0.0) if threshold is None else threshold
        self._validate()
        self.words: List[str] = sorted(self.connector_words)    # connectors first: ids < n_connectors
        self.n_connectors = len(self.words)
        # per pass: {"parts", "offsets", "phrase_ids", "scores", "counts"}
        self.pass_phrases: List[Dict[str, np.ndarray]] = []
        self.stats: List[PassStats] = []
        self.source = None
        self._joiners: Optional[List[PhraseJoiner]] = None    # one per pass, copied for each use
        self._index: Optional[Dict[str, int]] = None          # word -> id, built on first use
        self._config: Optional[Config] = None                 # for the readers, built on first use
        if sentences is not None:
            self.learn(sentences, progress=progress)

    def _validate(self) -> None:
        if self.scoring not in SCORINGS:
            raise ValueError(f"scoring={self.scoring!r}: unknown scoring, use one of {SCORINGS}")
        for name in ("min_count", "passes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}={value!r} is out of range: an integer >= 1")
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise ValueError(f"threshold={t!r} is out of range: a finite number")
        if self.scoring == "npmi" and not -1 <= t <= 1:
            raise ValueError(f"threshold={t!r} is out of range for scoring='npmi': in [-1, 1]")
        if self.scoring != "npmi" and t <= 0:
            raise ValueError(f"threshold={t!r} is out of range for scoring={self.scoring!r}: > 0")
        v = self.max_vocab_size
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2):
            raise ValueError(f"max_vocab_size={v!r} is out of range: an integer >= 2 (or None)")
        if not isinstance(self.delimiter, str) or any(c.isspace() for c in self.delimiter):
            raise ValueError(f"delimiter={self.delimiter!r}: a string without whitespace "
                             f"(a phrase must stay one token in a text file)")
        bad = [w for w in self.connector_words if not isinstance(w, str) or len(w.split()) != 1
               or w.split()[0] != w]
        if bad:
            raise ValueError(f"connector_words: {bad[0]!r} is not a single token")
        _is_utf8(self.encoding)                # unknown encodings are a ValueError

    # ---------------------------------------------------------------- learning
    def learn(self, sentences, progress: bool = False) -> "Phrases":
        """Learn the phrases of `sentences` (passes times; earlier passes' phrases joined)."""
        if self.pass_phrases:
            raise RuntimeError("this Phrases model has learned already: make a new one")
        if self.passes > 1 and not _is_path(sentences) and iter(sentences) is sentences:
            raise TypeError(f"passes={self.passes} reads the corpus {self.passes} times: pass a "
                            f"file path or a list, not a one-shot iterator")
        self.source = _source_name(sentences)
        index = {w: i for i, w in enumerate(self.words)}
        for number in range(self.passes):
            self._learn_pass(sentences, index, number, progress)
        self._compact()
        total = sum(len(p["scores"]) for p in self.pass_phrases)
        if total == 0:
            logger.warning("%s: no phrases found (min_count=%d, threshold=%g, scoring=%s)",
                           self.source, self.min_count, self.threshold, self.scoring)
        return self

    def _learn_pass(self, sentences, index: Dict[str, int], number: int, progress: bool) -> None:
        start = time.perf_counter()
        stats = PassStats()
        reader = _Reader(sentences, self.words, index, self._reading_config(),
                         _progress_bar(sentences, f"pass {number + 1}/{self.passes}")
                         if progress else None)
        joiners = self._make_joiners()
        counter = CandidateCounter(self.n_connectors)
        counts = np.zeros(len(self.words), dtype=np.int64)
        min_reduce = 1
        for block in itertools.chain(reader.blocks(), [None]):
            if block is None:      # the end: release what the joiners hold back
                ids, ends = _join_through(joiners, _EMPTY_IDS, _EMPTY_ENDS, final=True)
            else:
                ids, ends = _join_through(joiners, *block)
            if not len(ids):
                continue
            stats.tokens += len(ids)
            grown = np.bincount(ids, minlength=len(counts))
            grown[:len(counts)] += counts
            counts = grown
            counter.count(ids, ends)
            if self.max_vocab_size is not None:
                words = int(np.count_nonzero(counts[self.n_connectors:]))
                while words + len(counter.table) > self.max_vocab_size and len(counter.table):
                    stats.pruned += counter.table.prune(min_reduce + 1)
                    min_reduce += 1
                    stats.prunes += 1
        if reader.progress is not None:
            reader.progress(None)
        stats.lines = reader.lines
        new = reader.new_words(len(self.words))
        for w in new:
            index[w] = len(self.words)
            self.words.append(w)
        counts = np.concatenate((counts, np.zeros(len(self.words) - len(counts), dtype=np.int64)))
        counts[:self.n_connectors] = 0         # connectors are not counted, as in gensim
        if stats.tokens == 0:
            raise CorpusError(f"{self.source}: empty corpus: no tokens to learn phrases from")
        if stats.prunes:
            logger.warning("%s: pass %d: %d phrase candidates seen fewer than %d times were dropped "
                           "(%d prunes) to stay under max_vocab_size=%d; their counts are lost",
                           self.source, number + 1, stats.pruned, min_reduce, stats.prunes,
                           self.max_vocab_size)
        stats.words = int(np.count_nonzero(counts))
        stats.candidates = len(counter.table)
        new_parts, new_offsets, chosen_counts, chosen_scores = counter.table.select(
            counts, SCORINGS.index(self.scoring), float(stats.words + stats.candidates),
            float(stats.tokens), int(self.min_count), float(self.threshold))
        del counter
        n_chosen = len(chosen_scores)
        phrase_ids = np.empty(n_chosen, dtype=np.int64)
        words, delimiter = self.words, self.delimiter
        for k in range(n_chosen):
            text = delimiter.join([words[p] for p in new_parts[new_offsets[k]:new_offsets[k + 1]]])
            found = index.get(text)
            if found is None:
                found = index[text] = len(words)
                words.append(text)
            phrase_ids[k] = found
        self.pass_phrases.append({"parts": new_parts, "offsets": new_offsets,
                                  "phrase_ids": phrase_ids, "scores": chosen_scores,
                                  "counts": chosen_counts})
        self._tables_changed()
        stats.phrases = n_chosen
        stats.seconds = time.perf_counter() - start
        self.stats.append(stats)
        logger.info("%s: pass %d: %d tokens, %d words, %d candidates, %d phrases (%.1f s)",
                    self.source, number + 1, stats.tokens, stats.words, stats.candidates,
                    stats.phrases, stats.seconds)

    def _compact(self) -> None:
        """Keep only the words phrases need (connectors, parts, phrases), renumbered."""
        used = np.zeros(len(self.words), dtype=bool)
        used[:self.n_connectors] = True
        for p in self.pass_phrases:
            used[p["parts"]] = True
            used[p["phrase_ids"]] = True
        remap = np.cumsum(used) - 1
        self.words = [w for w, u in zip(self.words, used.tolist()) if u]
        for p in self.pass_phrases:
            p["parts"] = remap[p["parts"]].astype(np.int32)
            p["phrase_ids"] = remap[p["phrase_ids"]].astype(np.int64)
        self._tables_changed()

    def _tables_changed(self) -> None:
        """Drop what is built from words and phrases (after learning or renumbering)."""
        self._joiners = self._index = None

    def _word_index(self) -> Dict[str, int]:
        """word -> id of the table's words, built once (readers only look it up)."""
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    def _reading_config(self) -> Config:
        """The Config the corpus readers take (encoding), built once."""
        if self._config is None or self._config.encoding != self.encoding:
            self._config = Config(encoding=self.encoding)
        return self._config

    def _make_joiners(self) -> List[PhraseJoiner]:
        """A fresh joiner per pass (the tables and their filters are built once and shared)."""
        if self._joiners is None:
            self._joiners = []
            for p in self.pass_phrases:
                table = SequenceTable()
                table.insert(p["parts"], p["offsets"], p["phrase_ids"])
                self._joiners.append(PhraseJoiner(table, self.n_connectors))
        return [PhraseJoiner(j.table, self.n_connectors, j.filter) for j in self._joiners]

    # ------------------------------------------------------------- inspecting
    def __len__(self) -> int:
        return sum(len(p["scores"]) for p in self.pass_phrases)

    def __repr__(self) -> str:
        return (f"Phrases({len(self)} phrases, passes={len(self.pass_phrases)}, scoring="
                f"{self.scoring!r}, min_count={self.min_count}, threshold={self.threshold})")

    def phrases(self) -> List[Tuple[str, float, int, int]]:
        """(phrase, score, count, pass) of every phrase, highest score first within a pass."""
        out = []
        for number, p in enumerate(self.pass_phrases):
            order = np.argsort(-p["scores"], kind="stable")
            out.extend((self.words[p["phrase_ids"][k]], float(p["scores"][k]),
                        int(p["counts"][k]), number + 1) for k in order.tolist())
        return out

    @property
    def phrasegrams(self) -> Dict[str, float]:
        """{phrase: score}, as gensim's FrozenPhrases.phrasegrams (all passes)."""
        return {phrase: score for phrase, score, _, _ in self.phrases()}

    def top(self, n: int = 10, pass_number: Optional[int] = None) -> List[Tuple[str, float]]:
        """The n highest-scoring phrases (of one pass, 1-based, or of all)."""
        found = [(p, s) for p, s, _, k in self.phrases() if pass_number in (None, k)]
        return sorted(found, key=lambda x: -x[1])[:n]

    def summary(self) -> str:
        lines = [f"{self.source}: {len(self)} phrases (scoring={self.scoring}, min_count="
                 f"{self.min_count}, threshold={self.threshold:g}"
                 + (f", {len(self.connector_words)} connector words" if self.connector_words else "")
                 + ")"]
        for number, s in enumerate(self.stats, 1):
            text = (f"  pass {number}: {s.tokens:,} tokens, {s.words:,} words, {s.candidates:,} "
                    f"candidates, {s.phrases:,} phrases, {s.seconds:.1f} s")
            if s.prunes:
                text += f"; {s.pruned:,} candidates pruned ({s.prunes} prunes, max_vocab_size)"
            lines.append(text)
        return "\n".join(lines)

    # ---------------------------------------------------------------- joining
    def __getitem__(self, sentence):
        """The tokens of one sentence (a list of str) with phrases joined; given a corpus
        (an iterable of sentences), the joined sentences, lazily, as gensim does."""
        if isinstance(sentence, str):
            raise TypeError("give a list of tokens (or an iterable of them), not a string")
        if isinstance(sentence, (list, tuple)) and all(isinstance(t, str) for t in sentence):
            return next(iter(self.sentences([list(sentence)])), [])
        return self.sentences(sentence)

    def sentences(self, source, progress: bool = False) -> "PhrasedSentences":
        """The sentences of `source` (file or iterable of token lists) with phrases joined,
        re-iterable, one list of tokens per line: what Word2Vec reads for phrases=."""
        return PhrasedSentences(self, source, progress)

    def _joined_blocks(self, source, progress=None):
        """(reader, generator of joined (ids, line_ends) blocks) of `source`."""
        reader = _Reader(source, self.words, self._word_index(), self._reading_config(), progress)
        joiners = self._make_joiners()

        def blocks():
            for ids, ends in reader.blocks():
                yield _join_through(joiners, ids, ends)
            yield _join_through(joiners, _EMPTY_IDS, _EMPTY_ENDS, final=True)
        return reader, blocks()

    def build_corpus(self, source, config: Config):
        """(Corpus, Vocab) of `source` with phrases joined, straight from the joined id
        stream (no token strings, no intermediate file): what Word2Vec.build_vocab does
        with phrases=. The vocabulary follows config (min_count, max_final_vocab) as
        w2v.data.corpus.build_corpus; its token counts are those of the joined text."""
        from w2v.data.corpus import Corpus, CorpusStats, _IdChunks, _compact, _vocab_and_remap
        stats = CorpusStats(f"{_source_name(source)} (phrases joined)")
        reader, blocks = self._joined_blocks(source)
        chunks, ends, counts, position = _IdChunks(), [], np.zeros(0, dtype=np.int64), 0
        for ids, line_ends in blocks:
            chunks.append(ids)
            ends.append(line_ends + position)
            position += len(ids)
            grown = np.bincount(ids, minlength=len(counts))
            grown[:len(counts)] += counts
            counts = grown
        line_ends = np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)
        if position > (line_ends[-1] if len(line_ends) else 0):
            line_ends = np.concatenate((line_ends, [position]))    # an unterminated last line
        words = list(self.words) + reader.new_words(len(self.words))
        counts = np.concatenate((counts, np.zeros(len(words) - len(counts), dtype=np.int64)))
        stats.tokens, stats.lines = position, len(line_ends)
        vocab, remap = _vocab_and_remap(words, counts, config, stats)
        if len(vocab) == 0:
            raise CorpusError(f"{stats.source}: empty vocabulary: no word occurs at least "
                              f"min_count={config.min_count} times in {stats.tokens:,} tokens")
        ids, sentence_starts = _compact(chunks, remap, line_ends, config.max_sentence_length, stats)
        corpus = Corpus(ids, sentence_starts, stats)      # in memory (corpus_cache not used here)
        logger.info(stats.summary())
        return corpus, vocab

    def transform_file(self, source, output, progress: bool = False) -> ApplyStats:
        """Write `source` (a file or iterable of token lists) to the text file `output`
        with phrases joined: one line per line, tokens separated by one space, every
        token kept. Returns the counts (tokens in and out, phrase tokens formed).

        Two stages overlap: this thread reads and scans block k + 1 while a second one
        joins, renders and writes block k (the compiled loops run without the GIL), in
        order; at most two blocks wait between them."""
        start = time.perf_counter()
        stats = ApplyStats(_source_name(source))
        output = os.fspath(output)
        if _is_path(source) and os.path.exists(output) and os.path.exists(os.fspath(source)) \
                and os.path.samefile(output, os.fspath(source)):
            raise ValueError(f"output {output} is the corpus itself: write to another file")
        bar = _progress_bar(source, "joining") if progress else None
        reader = _Reader(source, self.words, self._word_index(), self._reading_config(), bar,
                         foreign=True)
        writer = _JoinedTextWriter(self)
        in_flight: "deque[Future]" = deque()
        known = len(self.words)           # words the writer has been given
        with atomic_write(output) as f, ThreadPoolExecutor(max_workers=1) as pool:
            try:
                for block in itertools.chain(reader.blocks(), [None]):
                    new_words = reader.new_word_bytes(known)     # copied before the next scan
                    known += len(new_words)
                    final = block is None
                    ids, ends = (_EMPTY_IDS, _EMPTY_ENDS) if final else block
                    foreign, reader.foreign = reader.foreign, None
                    in_flight.append(pool.submit(writer.write, f, ids, ends, new_words, final,
                                                 foreign))
                    while len(in_flight) > (0 if final else 2):
                        in_flight.popleft().result()
            finally:
                for pending in in_flight:          # an error: let the writer stop first
                    pending.cancel()
                wait(in_flight)
        if bar is not None:
            bar(None)
        stats.tokens_out, stats.joined = writer.tokens_out, writer.joined
        stats.tokens_in, stats.lines = reader.tokens, reader.lines
        stats.seconds = time.perf_counter() - start
        logger.info(stats.summary())
        return stats

    def _phrase_flags(self) -> np.ndarray:
        is_phrase = np.zeros(len(self.words), dtype=bool)
        for p in self.pass_phrases:
            is_phrase[p["phrase_ids"]] = True
        return is_phrase

    # ------------------------------------------------------------------ files
    def save(self, path) -> None:
        """Save to a native w2v file (an .npz with JSON metadata; no pickle)."""
        arrays, meta = vocabulary_arrays(self.words)
        for number, p in enumerate(self.pass_phrases):
            for name in ("parts", "offsets", "phrase_ids", "scores", "counts"):
                arrays[f"pass{number}_{name}"] = np.ascontiguousarray(p[name])
        meta.update(params=self.params(), n_connectors=self.n_connectors,
                    passes_learned=len(self.pass_phrases), source=self.source,
                    stats=[asdict(s) for s in self.stats])
        save_arrays(path, arrays, meta, file_format=PHRASES_FORMAT)

    def params(self) -> dict:
        return {"min_count": int(self.min_count), "threshold": float(self.threshold),
                "max_vocab_size": None if self.max_vocab_size is None else int(self.max_vocab_size),
                "delimiter": self.delimiter, "scoring": self.scoring,
                "connector_words": sorted(self.connector_words), "passes": int(self.passes),
                "encoding": self.encoding}

    @classmethod
    def load(cls, path) -> "Phrases":
        """A phrase model saved by save(); a damaged or foreign file is a ModelFileError."""
        arrays, meta = load_arrays(path, file_formats=(PHRASES_FORMAT,))
        path = os.fspath(path)
        try:
            model = cls(**meta["params"])
        except (TypeError, ValueError, KeyError) as e:
            raise ModelFileError(f"{path}: bad phrase model parameters ({e})") from None
        try:
            words = vocabulary_from(arrays, meta, path)
        except KeyError as e:
            raise ModelFileError(f"{path}: missing array {e}") from None
        n_conn, n_passes = meta.get("n_connectors"), meta.get("passes_learned")
        for name, value in (("n_connectors", n_conn), ("passes_learned", n_passes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ModelFileError(f"{path}: {name} should be an integer >= 0, got {value!r}")
        if words[:n_conn] != sorted(model.connector_words) or len(set(words)) != len(words):
            raise ModelFileError(f"{path}: the word table does not match the connector words")
        model.words, model.source = words, meta.get("source")
        stats = meta.get("stats", [])
        try:
            model.stats = [PassStats(**s) for s in stats]
        except TypeError:
            raise ModelFileError(f"{path}: bad pass statistics") from None
        n = len(words)
        for number in range(n_passes):
            try:
                p = {name: arrays[f"pass{number}_{name}"] for name in
                     ("parts", "offsets", "phrase_ids", "scores", "counts")}
            except KeyError as e:
                raise ModelFileError(f"{path}: missing array {e}") from None
            k = len(p["scores"])
            ok = (p["parts"].dtype == np.int32 and p["offsets"].dtype == np.int64
                  and p["phrase_ids"].dtype == np.int64 and p["scores"].dtype == np.float64
                  and p["counts"].dtype == np.int64
                  and all(a.ndim == 1 for a in p.values())
                  and len(p["offsets"]) == k + 1 and len(p["phrase_ids"]) == k == len(p["counts"])
                  and p["offsets"][0] == 0 and p["offsets"][-1] == len(p["parts"])
                  and np.all(np.diff(p["offsets"]) >= 2)
                  and np.all((p["parts"] >= 0) & (p["parts"] < n))
                  and np.all((p["phrase_ids"] >= n_conn) & (p["phrase_ids"] < n)))
            if not ok:
                raise ModelFileError(f"{path}: phrase arrays of pass {number + 1} are inconsistent")
            model.pass_phrases.append({name: np.array(a) for name, a in p.items()})
        try:
            model._make_joiners()
        except ValueError as e:
            raise ModelFileError(f"{path}: {e}") from None
        return model

    # ----------------------------------------------------------------- gensim
    def to_gensim(self):
        """gensim's FrozenPhrases with these phrasegrams (one pass; needs gensim)."""
        try:
            from gensim.models.phrases import FrozenPhrases, npmi_scorer, original_scorer
        except ImportError:
            raise ImportError("to_gensim needs gensim: pip install gensim") from None
        if len(self.pass_phrases) != 1:
            raise ValueError("gensim's FrozenPhrases holds one pass: export each pass's model")
        frozen = FrozenPhrases.__new__(FrozenPhrases)
        frozen.threshold, frozen.min_count, frozen.delimiter = self.threshold, self.min_count, self.delimiter
        frozen.scoring = npmi_scorer if self.scoring == "npmi" else original_scorer
        frozen.connector_words = self.connector_words
        frozen.phrasegrams = self.phrasegrams
        return frozen


    @classmethod
    def from_gensim(cls, model) -> "Phrases":
        """A one-pass Phrases holding the phrasegrams of gensim's Phrases or FrozenPhrases
        (default or npmi scoring). gensim keeps phrases as delimiter-joined strings, so
        each is split on the delimiter into its words."""
        try:
            from gensim.models.phrases import npmi_scorer, original_scorer
        except ImportError:
            raise ImportError("from_gensim needs gensim: pip install gensim") from None
        grams = model.phrasegrams if hasattr(model, "phrasegrams") else model.export_phrases()
        scorer = getattr(model, "scoring", original_scorer)
        if scorer not in (original_scorer, npmi_scorer):
            raise ValueError("gensim model with a custom scoring function: only the default and "
                             "npmi scorings have a w2v equivalent")
        phrases = cls(min_count=int(model.min_count), threshold=float(model.threshold),
                      delimiter=model.delimiter,
                      scoring="npmi" if scorer is npmi_scorer else "default",
                      connector_words=model.connector_words)
        words, delimiter = phrases.words, phrases.delimiter
        index = {w: i for i, w in enumerate(words)}

        def id_of(word):
            if word not in index:
                index[word] = len(words)
                words.append(word)
            return index[word]
        parts, offsets, phrase_ids, scores = [], [0], [], []
        for phrase, score in grams.items():
            pieces = phrase.split(delimiter) if delimiter else list(phrase)
            if len(pieces) < 2:
                continue
            parts.extend(id_of(w) for w in pieces)
            offsets.append(len(parts))
            scores.append(float(score))
        for phrase in grams:
            pieces = phrase.split(delimiter) if delimiter else list(phrase)
            if len(pieces) >= 2:
                phrase_ids.append(id_of(phrase))
        phrases.pass_phrases = [{"parts": np.array(parts, dtype=np.int32),
                                 "offsets": np.array(offsets, dtype=np.int64),
                                 "phrase_ids": np.array(phrase_ids, dtype=np.int64),
                                 "scores": np.array(scores, dtype=np.float64),
                                 "counts": np.zeros(len(scores), dtype=np.int64)}]
        phrases.stats = [PassStats(phrases=len(scores))]
        phrases.source = f"<gensim {type(model).__name__}>"
        phrases._make_joiners()
        return phrases


class PhrasedSentences:
    """A corpus with phrases joined, one token list per line, re-iterable."""

    def __init__(self, phrases: Phrases, source, progress: bool = False):
        self.phrases, self.source, self.progress = phrases, source, progress
        self.name = _source_name(source)

    def __repr__(self) -> str:
        return f"<{self.name} with {len(self.phrases)} phrases joined>"

    def __iter__(self) -> Iterator[List[str]]:
        reader, blocks = self.phrases._joined_blocks(self.source)
        words = self.phrases.words
        known = len(words)
        new_words: List[str] = []         # the source's words the phrase model lacks, id known + k
        line: List[str] = []
        for ids, ends in blocks:
            if reader.n_words() > known + len(new_words):
                new_words.extend(reader.new_words(known + len(new_words)))
            if new_words:
                tokens = [words[i] if i < known else new_words[i - known] for i in ids.tolist()]
            else:
                tokens = [words[i] for i in ids.tolist()]
            start = 0
            for end in ends.tolist():
                line.extend(tokens[start:end])
                yield line
                line, start = [], end
            line.extend(tokens[start:])
        if line:
            yield line


def _progress_bar(source, what: str):
    """A callback(bytes read) drawing a tqdm bar for a file source (None closes it)."""
    if not _is_path(source):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    size = os.path.getsize(os.fspath(source)) if os.path.exists(os.fspath(source)) else None
    compressed = os.path.splitext(os.fspath(source))[1].lower() in (".gz", ".bz2", ".xz")
    bar = tqdm(total=None if compressed else size, unit="B", unit_scale=True, desc=what,
               file=sys.stderr, dynamic_ncols=True, leave=False)
    state = {"done": 0}

    def update(done):
        if done is None:
            bar.close()
            return
        bar.update(done - state["done"])
        state["done"] = done
    return update
