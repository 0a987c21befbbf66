"""Reading a corpus and turning it into the compact id stream the trainer uses.

A corpus is a text file (plain, .gz, .bz2 or .xz; one sentence per line, tokens split
on whitespace) or any iterable of token lists. It is tokenised once: the result is a
`Corpus`, an int32 array of word ids plus the offsets where sentences start, so later
epochs never touch text again. Lines longer than `max_sentence_length` are split into
consecutive pieces (never truncated) and the number of splits is reported.
"""
from __future__ import annotations

import bz2
import codecs
import ctypes
import dataclasses
import functools
import gzip
import io
import itertools
import logging
import lzma
import os
import tempfile
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

import numpy as np

from w2v.data._scan import TokenCounter
from w2v.config import Config
from w2v.data.cache import (CorpusCacheError, IdStreamWriter, open_stream, read_header,
                            source_identity, vocab_fingerprint)
from w2v.data.vocab import Vocab, prune_counts

logger = logging.getLogger(__name__)

BLOCK_CHARS = 1 << 20        # characters (bytes on the UTF-8 path) read from a file at a time
BATCH_TOKENS = 1 << 18       # tokens converted to ids at a time
PRUNE_CHECK_TOKENS = 10000   # with max_vocab_size, the vocabulary is checked this often
CHUNK_IDS = 1 << 22          # ids kept per array while reading (16 MB, mapped on its own)


class _IdChunks:
    """The id stream while it is being read, in order: in memory, in arrays of
    CHUNK_IDS ids, until it would pass `budget_ids`; from then on in a file
    (`open_file()` gives its IdStreamWriter), the chunks so far written out first.

    Chunks are large enough that the allocator maps each one separately, so memory
    goes back to the system as soon as a chunk is released (small arrays would leave
    the freed heap behind in the process's resident memory).
    """

    def __init__(self, budget_ids: Optional[int] = None, open_file=None):
        self.chunks: List[np.ndarray] = []
        self.filled = CHUNK_IDS
        self.n_ids = 0
        self.budget_ids = budget_ids
        self.open_file = open_file
        self.file = None             # the IdStreamWriter, once the stream went to a file

    def append(self, ids: np.ndarray) -> None:
        if self.file is None and self.budget_ids is not None \
                and self.n_ids + len(ids) > self.budget_ids:
            writer = self.open_file(self.n_ids + len(ids))
            for piece in self.pieces():
                writer.append(piece)
            self.file = writer
        self.n_ids += len(ids)
        if self.file is not None:
            self.file.append(ids)
            return
        start = 0
        while start < len(ids):
            if self.filled == CHUNK_IDS:
                self.chunks.append(np.empty(CHUNK_IDS, dtype=np.int32))
                self.filled = 0
            n = min(len(ids) - start, CHUNK_IDS - self.filled)
            self.chunks[-1][self.filled:self.filled + n] = ids[start:start + n]
            self.filled += n
            start += n

    def pieces(self):
        """Yield the ids in order, in pieces of at most BATCH_TOKENS; a chunk in memory
        is released after it is handed out, a file is read a piece at a time."""
        if self.file is not None:
            for start in range(0, self.file.raw_ids, BATCH_TOKENS):
                yield self.file.read(start, min(BATCH_TOKENS, self.file.raw_ids - start))
            return
        while self.chunks:
            chunk = self.chunks.pop(0)
            end = self.filled if not self.chunks else CHUNK_IDS
            for start in range(0, end, BATCH_TOKENS):
                yield chunk[start:min(start + BATCH_TOKENS, end)]
            del chunk
        self.filled = CHUNK_IDS

    def discard(self) -> None:
        self.chunks = []
        if self.file is not None:
            self.file.discard()


class CorpusError(ValueError):
    """The corpus cannot be read or is unusable; the message names the file and the problem."""


@dataclass
class CorpusStats:
    source: str
    lines: int = 0            # lines (sentences) read
    tokens: int = 0           # tokens read, in the vocabulary or not
    kept_tokens: int = 0      # tokens of vocabulary words: the length of the id stream
    lines_split: int = 0      # lines longer than max_sentence_length ...
    extra_pieces: int = 0     # ... and the pieces their splits added
    vocab_prunes: int = 0     # times max_vocab_size made the counter drop rare words

    def summary(self) -> str:
        text = (f"{self.source}: {self.lines:,} lines, {self.tokens:,} tokens, "
                f"{self.kept_tokens:,} in vocabulary")
        if self.lines_split:
            text += (f"; {self.lines_split:,} lines longer than max_sentence_length split "
                     f"into {self.lines_split + self.extra_pieces:,} pieces")
        if self.vocab_prunes:
            text += f"; vocabulary pruned {self.vocab_prunes} times to stay under max_vocab_size"
        return text


@dataclass
class Corpus:
    """A tokenised corpus: word ids, and where each sentence starts (plus a final end)."""
    ids: np.ndarray              # int32, every id in [0, vocab_size)
    sentence_starts: np.ndarray  # int64, n_sentences + 1 offsets into ids, from 0 to len(ids)
    stats: CorpusStats
    cache_path: Optional[str] = None   # the file ids and sentence_starts are mapped from

    @property
    def n_sentences(self) -> int:
        return len(self.sentence_starts) - 1

    @property
    def n_words(self) -> int:
        return len(self.ids)


# ------------------------------------------------------------------------ reading
def open_text(path, encoding: str = "utf-8", errors: str = "strict") -> io.TextIOBase:
    """Open a corpus file for reading text, decompressing .gz, .bz2 and .xz."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"corpus file not found: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"corpus path is a directory, not a file: {path}")
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(
        os.path.splitext(path)[1].lower())
    try:
        raw = opener(path, "rb") if opener else open(path, "rb", buffering=1 << 20)
    except PermissionError:
        raise PermissionError(f"corpus file not readable (permission denied): {path}") from None
    return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="\n")


def _file_batches(path, encoding: str, errors: str) -> Iterator[Tuple[List[str], List[int]]]:
    """Yield (tokens, line_ends): line_ends index into tokens where a line closes.

    A line may run across batches (text8 is one 100 MB line); it is closed only by a
    newline or the end of the file.
    """
    tokens: List[str] = []
    ends: List[int] = []
    carry = ""               # a token possibly cut by the block boundary
    pending: List[str] = []  # blocks without whitespace: a token longer than a block
    line_open = False        # tokens were added since the last line end
    with open_text(path, encoding, errors) as f:
        while True:
            try:
                block = f.read(BLOCK_CHARS)
            except UnicodeDecodeError as e:
                line, offset = _locate_decode_error(path, encoding)
                raise CorpusError(
                    f"{os.fspath(path)}: bytes that are not valid {encoding} on line {line} "
                    f"(byte offset {offset}: {e.reason}); pass encoding_errors='replace' "
                    f"or 'ignore' (--encoding-errors replace) to read it anyway") from None
            except (EOFError, OSError, lzma.LZMAError) as e:
                raise CorpusError(f"{os.fspath(path)}: cannot read: {e}") from None
            if not block:
                break
            if "\0" in block:
                if errors == "strict":
                    raise _nul_error(path, encoding)
                block = block.replace("\0", "\ufffd" if errors == "replace" else "")
            if not _has_space(block):
                pending.append(block)          # joined once, not copied block after block
                continue
            block = carry + "".join(pending) + block
            carry, pending = "", []
            lines = block.split("\n")
            for line in lines[:-1]:
                tokens.extend(line.split())
                ends.append(len(tokens))
                line_open = False
            tail = lines[-1]
            if tail:
                parts = tail.split()
                if parts and not tail[-1].isspace():
                    carry = parts.pop()
                if parts:
                    tokens.extend(parts)
                    line_open = True
            if len(tokens) >= BATCH_TOKENS:
                yield tokens, ends
                tokens, ends = [], []
    if carry or pending:
        tokens.append(carry + "".join(pending))
        line_open = True
    if line_open:
        ends.append(len(tokens))
    yield tokens, ends


def _has_space(block: str) -> bool:
    return not block or len(block.split(None, 1)) != 1 or block[0].isspace() or block[-1].isspace()


def _nul_error(path, encoding: str) -> "CorpusError":
    line, offset, unit = _locate_nul(path, encoding)
    return CorpusError(
        f"{os.fspath(path)}: NUL byte on line {line} ({unit} offset {offset}): not {encoding} "
        f"text (a binary or UTF-16 file?); pass the right encoding (--encoding), or "
        f"encoding_errors='replace' or 'ignore' (--encoding-errors replace) to read it anyway")


def _locate_nul(path, encoding: str) -> Tuple[int, int, str]:
    """(line, offset, 'byte' or 'character') of the first NUL in the file."""
    line, offset = 1, 0
    utf8 = _is_utf8(encoding)
    with open_text(path, "latin-1" if utf8 else encoding, "replace") as f:
        while True:
            piece = f.buffer.read(1 << 16) if utf8 else f.read(1 << 16)
            if not piece:
                return line, offset, "byte" if utf8 else "character"
            at = piece.find(b"\0" if utf8 else "\0")
            if at >= 0:
                return line + piece.count(b"\n" if utf8 else "\n", 0, at), offset + at, \
                    "byte" if utf8 else "character"
            line += piece.count(b"\n" if utf8 else "\n")
            offset += len(piece)


def _locate_decode_error(path, encoding: str) -> Tuple[int, int]:
    """(line number, byte offset) of the first bytes that do not decode."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    line, offset = 1, 0
    with open_text(path, "latin-1") as f:        # any byte decodes; for decompression only
        raw = f.buffer
        while True:
            piece = raw.read(1 << 16)
            if not piece:
                return line, offset
            try:
                decoder.decode(piece)
            except UnicodeDecodeError as e:
                start = max(e.start, 0)
                return line + piece[:start].count(b"\n"), offset + start
            line += piece.count(b"\n")
            offset += len(piece)


def _iterable_batches(sentences) -> Iterator[Tuple[List[str], List[int]]]:
    tokens: List[str] = []
    ends: List[int] = []
    for number, sentence in enumerate(sentences):
        if isinstance(sentence, (str, bytes)):
            raise TypeError(
                f"corpus item {number} is a {type(sentence).__name__}, not a list of tokens; "
                f"pass a file path to read a file, or split each line into tokens")
        tokens.extend(sentence)
        ends.append(len(tokens))
        if len(tokens) >= BATCH_TOKENS:
            _check_tokens(tokens)
            yield tokens, ends
            tokens, ends = [], []
    _check_tokens(tokens)
    yield tokens, ends


def _check_tokens(tokens: List[str]) -> None:
    types = set(map(type, tokens))
    if types - {str}:
        bad = next(t for t in tokens if type(t) is not str)
        raise TypeError(f"tokens must be str, got {type(bad).__name__} {bad!r}")


def _is_path(source) -> bool:
    return isinstance(source, (str, bytes, os.PathLike))


def _batches(source, config: Config):
    if _is_path(source):
        return _file_batches(source, config.encoding, config.encoding_errors)
    return _iterable_batches(source)


def _source_name(source) -> str:
    return os.fspath(source) if _is_path(source) else f"<{type(source).__name__} of sentences>"


# ----------------------------------------------------------------------- building
def build_corpus(source, config: Config, vocab: Optional[Vocab] = None,
                 grow: Optional[Vocab] = None) -> Tuple[Corpus, Vocab]:
    """Tokenise `source` once and return (corpus, vocab).

    With no `vocab` one is built (exact counts, min_count, max_vocab_size pruning,
    max_final_vocab); with one, words outside it are dropped from the id stream.
    With `grow`, the vocabulary is `grow`'s words in their order (their counts plus
    this corpus's), then this corpus's new words that pass min_count, most frequent
    first (gensim's build_vocab(update=True)); max_final_vocab caps the total.
    """
    if isinstance(source, Corpus):
        if vocab is None:
            raise ValueError("a prepared Corpus needs the Vocab it was built with")
        return source, vocab
    if vocab is not None and grow is not None:
        raise ValueError("give either a fixed vocab or one to grow, not both")
    stats = CorpusStats(_source_name(source))
    cache = None if config.corpus_cache is None else os.fspath(config.corpus_cache)
    request = None
    if cache is not None:
        request = _cache_request(source, config, vocab, grow)
        reused = _reuse_cache(cache, request, vocab)
        if reused is not None:
            return reused
    chunks = _new_id_chunks(config, stats, cache)
    try:
        if vocab is None and config.max_vocab_size is None:
            remap, line_ends, vocab = _count_and_encode(source, config, stats, chunks, grow)
        else:
            if vocab is None:
                if not _is_path(source) and iter(source) is source:
                    raise TypeError("max_vocab_size needs two passes over the corpus: pass a file "
                                    "path or a list, not a one-shot iterator")
                vocab = _count_with_pruning(source, config, stats, grow)
                stats = CorpusStats(stats.source, vocab_prunes=stats.vocab_prunes)
            remap, line_ends = _encode(source, config, vocab, stats, chunks)
        if len(vocab) == 0:
            raise CorpusError(
                f"{stats.source}: empty vocabulary: no word occurs at least min_count="
                f"{config.min_count} times in {stats.tokens:,} tokens")
        ids, sentence_starts = _compact(chunks, remap, line_ends, config.max_sentence_length, stats)
        del remap, line_ends
        if chunks.file is None:
            corpus = Corpus(ids, sentence_starts, stats)
        else:
            corpus = _finish_cache(chunks.file, sentence_starts, vocab, stats, request, cache)
    except BaseException:
        chunks.discard()
        raise
    _return_freed_memory()
    logger.info(stats.summary())
    return corpus, vocab


# ------------------------------------------------------------------ id stream files
def available_memory() -> Optional[int]:
    """Bytes of memory available to a new process (Linux: MemAvailable), None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _new_id_chunks(config: Config, stats: CorpusStats, cache: Optional[str]) -> _IdChunks:
    """Where the id stream goes while the text is read: the corpus cache if one is given;
    else memory, until it passes the memory budget (corpus_memory_fraction of the memory
    available now), then a temporary file."""
    if cache is not None:
        logger.info("writing the id stream to the corpus cache %s", cache)
        chunks = _IdChunks()
        chunks.file = IdStreamWriter(f"{cache}.{os.getpid()}.partial")
        return chunks
    available = available_memory()
    if available is None:
        return _IdChunks()
    budget = int(config.corpus_memory_fraction * available)

    def open_file(n_ids: int) -> IdStreamWriter:
        fd, path = tempfile.mkstemp(prefix="w2v-ids-", suffix=".partial")
        os.close(fd)
        logger.warning(
            "%s: the id stream passed its memory budget after %s tokens (%.0f MB: "
            "corpus_memory_fraction=%g of the %.0f MB available): it goes to the temporary "
            "file %s and is memory-mapped for training (corpus_cache=PATH chooses the file "
            "and keeps it for later runs)", stats.source, f"{n_ids:,}", budget / 2**20,
            config.corpus_memory_fraction, available / 2**20, path)
        return IdStreamWriter(path)
    return _IdChunks(budget // 4, open_file)


def _finish_cache(writer: IdStreamWriter, sentence_starts: np.ndarray, vocab: Vocab,
                  stats: CorpusStats, request: Optional[dict], cache: Optional[str]) -> Corpus:
    """Complete the file the id stream was written to and map it: to `cache` (renamed into
    place), or a temporary file, deleted as soon as it is mapped."""
    meta = {"request": request, "stats": dataclasses.asdict(stats)}
    writer.finish(sentence_starts, vocab.index_to_key, vocab.counts, meta)
    del sentence_starts
    # Mapped before it is renamed (or deleted): the mapping is of the file written here,
    # whatever another process does to the path next.
    header = read_header(writer.path)
    ids, sentence_starts, _, _ = open_stream(writer.path, header, verify=False)
    if cache is not None:
        os.replace(writer.path, cache)
        logger.info("corpus cache %s written: %s ids, %.0f MB", cache, f"{len(ids):,}",
                    header["file_bytes"] / 2**20)
    else:
        try:
            os.unlink(writer.path)   # the mapping keeps the data until the corpus is released
        except OSError:
            pass
    return Corpus(ids, sentence_starts, stats, cache_path=cache)


def _cache_request(source, config: Config, vocab: Optional[Vocab], grow: Optional[Vocab]) -> dict:
    """What a corpus cache must have been built from to be reused."""
    if vocab is not None:
        wanted_vocab = {"given": vocab_fingerprint(vocab.index_to_key, vocab.counts)}
    else:
        wanted_vocab = {"min_count": config.min_count, "max_vocab_size": config.max_vocab_size,
                        "max_final_vocab": config.max_final_vocab,
                        "grown_from": None if grow is None else
                        vocab_fingerprint(grow.index_to_key, grow.counts)}
    return {"source": source_identity(source) if _is_path(source) else None,
            "vocab": wanted_vocab, "max_sentence_length": config.max_sentence_length,
            "encoding": config.encoding, "encoding_errors": config.encoding_errors}


def _what_changed(old: dict, new: dict) -> str:
    old_source, new_source = old.get("source") or {}, new["source"]
    if old_source.get("path") != new_source["path"]:
        return f"it was built from {old_source.get('path')}, not {new_source['path']}"
    if old_source != new_source:
        return (f"{new_source['path']} changed since it was built (size {old_source.get('size')} "
                f"-> {new_source['size']} bytes, mtime_ns {old_source.get('mtime_ns')} -> "
                f"{new_source['mtime_ns']})")
    if old.get("vocab") != new["vocab"]:
        return (f"it holds another vocabulary: built with {old.get('vocab')}, "
                f"wanted {new['vocab']}")
    changed = [f"{k} {old.get(k)!r} -> {new[k]!r}" for k in new if old.get(k) != new[k]]
    return "settings changed: " + ", ".join(changed)


def _reuse_cache(cache: str, request: dict, vocab: Optional[Vocab]):
    """(corpus, vocab) from the corpus cache if it matches `request`; None to rebuild it.
    A file that is not a cache, or a damaged one, is an error (never overwritten)."""
    if not os.path.exists(cache):
        return None
    header = read_header(cache)
    if header is None:
        logger.warning("corpus cache %s was written in another format version: rebuilding it", cache)
        return None
    if request["source"] is None:
        logger.warning("corpus cache %s: the corpus is not a file, so the cache cannot be "
                       "checked against it: rebuilding it", cache)
        return None
    old = header.get("request")
    given = request["vocab"].get("given")
    if isinstance(old, dict) and given is not None and header.get("vocab_fingerprint") == given:
        old = dict(old, vocab=request["vocab"])    # built or given, it holds this vocabulary
    if not isinstance(old, dict) or old != request:
        logger.warning("corpus cache %s is stale (%s): rebuilding it", cache,
                       _what_changed(old if isinstance(old, dict) else {}, request))
        return None
    ids, sentence_starts, words, counts = open_stream(cache, header)
    try:
        stats = CorpusStats(**header["stats"])
    except TypeError:
        raise CorpusCacheError(f"corpus cache {cache}: the header's corpus statistics are "
                               f"damaged; delete the file to rebuild it") from None
    if vocab is None:
        vocab = Vocab(words, counts)
    logger.info("corpus cache %s reused: %s ids of %s, memory-mapped", cache,
                f"{len(ids):,}", stats.source)
    logger.info(stats.summary())
    return Corpus(ids, sentence_starts, stats, cache_path=cache), vocab


@functools.lru_cache(maxsize=None)
def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (macOS, musl, Windows)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, TypeError, AttributeError):
        return None


def _return_freed_memory() -> None:
    """Give the heap that reading the text freed back to the operating system.

    glibc keeps freed small blocks for reuse, so without this the text buffers of the
    build stay resident through training (30 MB on enwiki70m, measured with
    scripts/bench_memory.py). Elsewhere a no-op."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        raise ValueError(f"encoding={encoding!r}: unknown text encoding") from None


def choose_vocab(words: List[str], counts, config: Config, grow: Optional[Vocab] = None) -> Vocab:
    """The vocabulary from a corpus's (words, counts): min_count and max_final_vocab,
    or `grow` extended by the new words (see build_corpus)."""
    if grow is None:
        return Vocab.from_counts(words, counts, config.min_count, config.max_final_vocab)
    counts = np.asarray(counts, dtype=np.int64)
    known = np.fromiter((w in grow.key_to_index for w in words), dtype=bool, count=len(words))
    old_counts = grow.counts.copy()
    for i in np.flatnonzero(known).tolist():
        old_counts[grow.key_to_index[words[i]]] += counts[i]
    room = None
    if config.max_final_vocab is not None:
        room = max(config.max_final_vocab - len(grow), 0)
    new = Vocab.from_counts([w for w, k in zip(words, known) if not k], counts[~known],
                            config.min_count, room)
    return Vocab(grow.index_to_key + new.index_to_key, np.concatenate((old_counts, new.counts)))


def _vocab_and_remap(words: List[str], counts: np.ndarray, config: Config, stats: CorpusStats,
                     grow: Optional[Vocab] = None):
    """The vocabulary from (words, counts), and provisional id -> final id (-1: dropped)."""
    vocab = choose_vocab(words, counts, config, grow)
    final_id = dict(zip(vocab.index_to_key, range(len(vocab))))
    remap = np.fromiter((final_id.get(w, -1) for w in words), dtype=np.int32, count=len(words))
    stats.kept_tokens = int(counts[remap >= 0].sum())
    return vocab, remap


def byte_pieces(path, block_chars: Optional[int] = None) -> Iterator[Tuple[np.ndarray, int, bool]]:
    """(piece, bytes read so far, NUL in it) for the bytes of a file (decompressed): each
    piece ends on a token boundary (ASCII whitespace) or at the end of the file, so that
    the byte scanner can take it whole; a token longer than a block waits for the next
    boundary (its blocks are joined once, not copied block after block). One copy of
    the bytes per piece; a piece is a uint8 array over its own bytes object. Blocks of
    block_chars bytes (BLOCK_CHARS when None) are read at a time."""
    block_chars = BLOCK_CHARS if block_chars is None else block_chars
    carry = b""
    pending: List[bytes] = []
    done = 0
    with open_text(path, "latin-1") as text:         # latin-1: only for its byte stream
        raw = text.buffer
        while True:
            try:
                block = raw.read(block_chars)
            except (EOFError, OSError, lzma.LZMAError) as e:
                raise CorpusError(f"{os.fspath(path)}: cannot read: {e}") from None
            except Exception as e:                    # other decompressors' errors
                raise CorpusError(f"{os.fspath(path)}: cannot read: {e}") from None
            done += len(block)
            if block:
                # carry holds no boundary, so the cut is the new block's last one
                cut = max(block.rfind(b" "), block.rfind(b"\n"), block.rfind(b"\t"), block.rfind(b"\r"))
                if cut < 0:                           # no boundary yet: one long token
                    pending.append(block)
                    continue
                piece = b"".join([carry, *pending, memoryview(block)[:cut + 1]])
                carry = block[cut + 1:]
            else:
                piece, carry = carry + b"".join(pending), b""
            pending = []
            yield np.frombuffer(piece, dtype=np.uint8), done, b"\0" in piece
            if not block:
                break


def _scan_utf8_file(path, config: Config, stats: CorpusStats, chunks: _IdChunks,
                    grow: Optional[Vocab] = None):
    """The fast path for UTF-8 files: words are counted as bytes by the Cython
    TokenCounter (no Python string per token) and decoded once each at the end."""
    counter = TokenCounter()
    ends = []
    nul = False
    for piece, _, has_nul in byte_pieces(path):
        if has_nul:
            if config.encoding_errors == "strict":
                raise _nul_error(path, "utf-8")
            nul = True
        ids, line_ends = counter.scan(piece)
        chunks.append(ids)
        ends.append(line_ends)
    line_ends = np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)
    if counter.tokens > (line_ends[-1] if len(line_ends) else 0):
        line_ends = np.concatenate((line_ends, [counter.tokens]))     # an unterminated last line
    counts = counter.counts_array()
    words, bad = [], []
    for i, w in enumerate(counter.word_bytes()):
        try:
            words.append(w.decode("utf-8"))
        except UnicodeDecodeError as e:
            if config.encoding_errors == "strict":
                line, offset = _locate_decode_error(path, "utf-8")
                raise CorpusError(
                    f"{os.fspath(path)}: bytes that are not valid utf-8 on line {line} (byte "
                    f"offset {offset}: {e.reason}); pass encoding_errors='replace' or 'ignore' "
                    f"(--encoding-errors replace) to read it anyway") from None
            words.append(w.decode("utf-8", config.encoding_errors))
            bad.append(i)
        if nul and "\0" in words[-1]:
            words[-1] = words[-1].replace("\0", "\ufffd" if config.encoding_errors == "replace" else "")
            bad.append(i)
    if bad:
        bad = np.unique(bad)
        logger.warning("%s: %d tokens (%d distinct words) held invalid utf-8 or NUL bytes, "
                       "read with encoding_errors=%r", os.fspath(path),
                       int(counts[bad].sum()), len(bad), config.encoding_errors)
    stats.tokens, stats.lines = counter.tokens, len(line_ends)
    unique = dict.fromkeys(words)
    if len(unique) == len(words) and "" not in unique:
        vocab, remap = _vocab_and_remap(words, counts, config, stats, grow)
        return remap, line_ends, vocab
    # 'replace' or 'ignore' made different byte strings the same word (or nothing):
    # merge them, and drop tokens that decoded to nothing.
    unique.pop("", None)
    index = {w: i for i, w in enumerate(unique)}
    merged = np.array([index.get(w, -1) for w in words], dtype=np.int64)
    merged_counts = np.zeros(len(index), dtype=np.int64)
    np.add.at(merged_counts, merged[merged >= 0], counts[merged >= 0])
    stats.tokens -= int(counts[merged < 0].sum())
    vocab, remap = _vocab_and_remap(list(index), merged_counts, config, stats, grow)
    merged_remap = np.full(len(merged), -1, dtype=np.int32)
    merged_remap[merged >= 0] = remap[merged[merged >= 0]]     # (every word may be gone)
    remap = merged_remap
    return remap, line_ends, vocab


def _count_and_encode(source, config: Config, stats: CorpusStats, chunks: _IdChunks,
                      grow: Optional[Vocab] = None):
    """One pass: give every new word a provisional id, count by bincount, then remap."""
    if _is_path(source) and _is_utf8(config.encoding):
        return _scan_utf8_file(source, config, stats, chunks, grow)
    provisional = defaultdict()
    provisional.default_factory = itertools.count().__next__
    line_ends = array("q")
    counts = np.zeros(0, dtype=np.int64)
    for tokens, ends in _batches(source, config):
        ids = np.fromiter(map(provisional.__getitem__, tokens), dtype=np.int32, count=len(tokens))
        chunks.append(ids)
        grown = np.bincount(ids, minlength=len(provisional))
        grown[:len(counts)] += counts
        counts = grown
        line_ends.extend(stats.tokens + e for e in ends)
        stats.tokens += len(tokens)
        if len(provisional) >= 2**31 - 1:
            raise CorpusError(f"{stats.source}: more than 2**31 - 2 distinct words; "
                              f"set max_vocab_size")
    stats.lines = len(line_ends)
    words = list(provisional)             # insertion order == provisional id order
    del provisional
    counts = np.concatenate((counts, np.zeros(len(words) - len(counts), dtype=np.int64)))
    vocab, remap = _vocab_and_remap(words, counts, config, stats, grow)
    return remap, np.frombuffer(line_ends, dtype=np.int64), vocab


def _count_with_pruning(source, config: Config, stats: CorpusStats,
                        grow: Optional[Vocab] = None) -> Vocab:
    """word2vec's counting with a bounded dictionary: when it holds more than
    max_vocab_size words, drop those counted <= min_reduce so far (min_reduce = 1, 2, ...)."""
    counts: Counter = Counter()
    min_reduce = 1
    for tokens, ends in _batches(source, config):
        for start in range(0, len(tokens), PRUNE_CHECK_TOKENS):
            counts.update(tokens[start:start + PRUNE_CHECK_TOKENS])
            while len(counts) > config.max_vocab_size:
                prune_counts(counts, min_reduce + 1)
                min_reduce += 1
                stats.vocab_prunes += 1
    if stats.vocab_prunes:
        logger.warning("%s: vocabulary pruned %d times to stay under max_vocab_size=%d; counts "
                       "of words seen <= %d times before a prune are lower bounds", stats.source,
                       stats.vocab_prunes, config.max_vocab_size, min_reduce)
    words = list(counts)
    return choose_vocab(words, [counts[w] for w in words], config, grow)


def _encode(source, config: Config, vocab: Vocab, stats: CorpusStats, chunks: _IdChunks):
    """Map tokens to the ids of a fixed vocabulary, -1 for words outside it."""
    get = vocab.key_to_index.get
    line_ends = array("q")
    for tokens, ends in _batches(source, config):
        ids = np.fromiter(map(get, tokens, itertools.repeat(-1)), dtype=np.int32, count=len(tokens))
        chunks.append(ids)
        stats.kept_tokens += int(np.count_nonzero(ids >= 0))
        line_ends.extend(stats.tokens + e for e in ends)
        stats.tokens += len(tokens)
    stats.lines = len(line_ends)
    return None, np.frombuffer(line_ends, dtype=np.int64)


def _compact(chunks: _IdChunks, remap: Optional[np.ndarray], line_ends: np.ndarray,
             max_sentence_length: int, stats: CorpusStats) -> Tuple[Optional[np.ndarray], np.ndarray]:
    """Assemble the id stream from the chunks (through `remap` if given), dropping
    out-of-vocabulary ids (-1) and empty lines; split long lines into pieces.

    Returns (ids, sentence_starts). In memory each chunk is released as soon as it is
    copied, so the peak is about one id stream; in a file the ids are rewritten in place,
    front to back, and ids is None (the caller finishes the file).
    """
    writer = chunks.file
    ids = None if writer is not None else np.empty(stats.kept_tokens, dtype=np.int32)
    kept_ends = np.zeros(len(line_ends), dtype=np.int64)   # line ends counted in kept ids
    position, offset = 0, 0
    for piece in chunks.pieces():
        chunk = piece if remap is None else remap[piece]
        keep = chunk >= 0
        n_kept = int(np.count_nonzero(keep))
        kept = chunk if n_kept == len(chunk) else chunk[keep]
        if writer is not None:
            writer.write_final(kept)
        else:
            ids[position:position + n_kept] = kept
        # the line ends in (offset, offset + len(chunk)]
        lo, hi = np.searchsorted(line_ends, (offset, offset + len(chunk)), side="right")
        ends = line_ends[lo:hi] - offset
        if n_kept == len(chunk):
            kept_ends[lo:hi] = position + ends
        else:
            kept_ends[lo:hi] = position + np.cumsum(keep)[ends - 1]
        position += n_kept
        offset += len(chunk)
    assert position == stats.kept_tokens, "vocabulary counts and the id stream disagree"
    line_ends = kept_ends
    line_starts = np.concatenate(([0], line_ends[:-1])).astype(np.int64)
    lengths = line_ends - line_starts
    nonempty = lengths > 0
    line_starts, lengths = line_starts[nonempty], lengths[nonempty]
    pieces = (lengths + max_sentence_length - 1) // max_sentence_length
    stats.lines_split = int(np.count_nonzero(pieces > 1))
    stats.extra_pieces = int(pieces.sum() - pieces.size)
    first_piece = np.cumsum(pieces) - pieces
    piece_index = np.arange(int(pieces.sum()), dtype=np.int64) - np.repeat(first_piece, pieces)
    starts = np.repeat(line_starts, pieces) + piece_index * max_sentence_length
    sentence_starts = np.concatenate((starts, [position])).astype(np.int64)
    if stats.lines_split:
        logger.warning("%s: %d lines longer than max_sentence_length=%d words were split into "
                       "%d pieces (nothing dropped)", stats.source, stats.lines_split,
                       max_sentence_length, stats.lines_split + stats.extra_pieces)
    return ids, sentence_starts
