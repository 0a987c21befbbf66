"""Facebook fastText's binary model files (.bin): reading and writing unsupervised models.

Layout (fastText 0.9, little-endian, as FastText::saveModel writes it):
    int32 magic 793712314, int32 version (12)
    Args: int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn,
          maxn, lrUpdateRate; float64 t
    Dictionary: int32 size, nwords, nlabels; int64 ntokens, pruneidx_size; then per
          entry the word's bytes, a NUL, int64 count, int8 type (0 word, 1 label);
          then pruneidx_size (int32, int32) pairs
    uint8 quantised (0), input matrix: int64 rows (nwords + bucket), int64 cols (dim),
          rows x cols float32
    uint8 quantised (0), output matrix: int64 rows (nwords), int64 cols, float32 data

The file may come from a stranger: every count is checked against the file's size
before anything is allocated, and any inconsistency is a ModelFileError naming it. The
input matrix (2.4 GB for 2M buckets x 300 dims, 7 GB in cc.en.300.bin) is memory-mapped
read-only from the file, never read into a second copy.
"""
from __future__ import annotations

import mmap as mmap_module
import os
import struct
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from w2v.io import ModelFileError, atomic_write

FASTTEXT_MAGIC = 793712314
FASTTEXT_VERSION = 12                 # what fastText 0.9 writes; 11 reads the same way
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODELS = {1: "cbow", 2: "sg", 3: "sup"}
EOS = "</s>"
_ARGS = struct.Struct("<12id")
_DICT_HEADER = struct.Struct("<3i2q")
_MATRIX_HEADER = struct.Struct("<2q")
_ENTRY_TAIL = struct.Struct("<qb")
MAX_DIM = 1 << 20                      # a sanity bound: no real model has more dimensions


@dataclass
class FastTextArgs:
    """fastText's Args as saved in a .bin file (its names)."""
    dim: int = 100
    ws: int = 5
    epoch: int = 5
    minCount: int = 5
    neg: int = 5
    wordNgrams: int = 1
    loss: str = "ns"
    model: str = "sg"
    bucket: int = 2_000_000
    minn: int = 3
    maxn: int = 6
    lrUpdateRate: int = 100
    t: float = 1e-4


@dataclass
class FastTextModel:
    """The contents of an unsupervised fastText .bin: args, words in fastText's order
    with their counts, the input matrix (words then buckets) and the output matrix."""
    args: FastTextArgs
    words: List[str]
    counts: np.ndarray
    input_matrix: np.ndarray           # (nwords + bucket) x dim float32, maybe mapped
    output_matrix: np.ndarray          # nwords x dim float32
    ntokens: int = 0
    version: int = FASTTEXT_VERSION
    has_subwords: bool = field(default=True)   # False: pruneidx_size 0 (no n-gram rows used)

    @property
    def nwords(self) -> int:
        return len(self.words)

    @property
    def ngram_matrix(self) -> np.ndarray:
        return self.input_matrix[self.nwords:]


def is_fasttext_bin(path) -> bool:
    """True when the file starts with fastText's magic number."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and struct.unpack("<i", head)[0] == FASTTEXT_MAGIC


class _Reader:
    """Bounds-checked reads from a memory-mapped file."""

    def __init__(self, buffer, path):
        self.buffer, self.path, self.pos, self.size = buffer, path, 0, len(buffer)

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.size:
            raise ModelFileError(f"{self.path}: truncated fastText file: {what} needs {n} bytes "
                                 f"at offset {self.pos}, the file has {self.size}")

    def unpack(self, fmt: struct.Struct, what: str):
        self.need(fmt.size, what)
        values = fmt.unpack_from(self.buffer, self.pos)
        self.pos += fmt.size
        return values


def read_fasttext_bin(path, mmap: Optional[str] = "r") -> FastTextModel:
    """An unsupervised fastText model from its .bin file. mmap="r" (default) maps the
    input matrix read-only from the file; "c" maps it copy-on-write (writable, changes
    stay in memory); None reads it into memory."""
    if mmap not in (None, "r", "c"):
        raise ValueError(f"mmap={mmap!r}: use 'r' (read-only map), 'c' (copy-on-write) or None")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"model path is a directory: {path}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: {path}")
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < 8:
            raise ModelFileError(f"{path}: not a fastText model (only {size} bytes)")
        buffer = mmap_module.mmap(f.fileno(), 0, access=mmap_module.ACCESS_READ)
    try:
        return _parse(buffer, path, size, mmap)
    finally:
        buffer.close()


def _parse(buffer, path, size, mmap) -> FastTextModel:
    r = _Reader(buffer, path)
    magic, version = r.unpack(struct.Struct("<2i"), "the header")
    if magic != FASTTEXT_MAGIC:
        raise ModelFileError(f"{path}: not a fastText .bin model (magic number {magic}, "
                             f"expected {FASTTEXT_MAGIC})")
    if version > FASTTEXT_VERSION or version < 11:
        raise ModelFileError(f"{path}: fastText file format version {version}; this reader "
                             f"knows versions 11 and 12")
    values = r.unpack(_ARGS, "the arguments")
    (dim, ws, epoch, min_count, neg, word_ngrams, loss, model, bucket, minn, maxn,
     lr_update_rate, t) = values
    if model not in MODELS or loss not in LOSSES:
        raise ModelFileError(f"{path}: unknown fastText model {model} or loss {loss}")
    if MODELS[model] == "sup":
        raise ModelFileError(f"{path}: a supervised (classification) fastText model; only "
                             f"unsupervised models (cbow, skipgram) can be read")
    if not 1 <= dim <= MAX_DIM:
        raise ModelFileError(f"{path}: dim {dim} out of range [1, {MAX_DIM}]")
    if bucket < 0 or minn < 0 or maxn < 0:
        raise ModelFileError(f"{path}: bucket {bucket}, minn {minn}, maxn {maxn} must be >= 0")
    args = FastTextArgs(dim=dim, ws=ws, epoch=epoch, minCount=min_count, neg=neg,
                        wordNgrams=word_ngrams, loss=LOSSES[loss], model=MODELS[model],
                        bucket=bucket, minn=minn, maxn=maxn, lrUpdateRate=lr_update_rate, t=t)
    n_entries, nwords, nlabels, ntokens, pruneidx_size = r.unpack(_DICT_HEADER, "the dictionary")
    if nwords < 0 or nlabels < 0 or n_entries != nwords + nlabels:
        raise ModelFileError(f"{path}: dictionary of {n_entries} entries with {nwords} words "
                             f"and {nlabels} labels")
    if nlabels:
        raise ModelFileError(f"{path}: the dictionary holds {nlabels} labels: a supervised "
                             f"model, which this reader does not read")
    if pruneidx_size > 0:
        raise ModelFileError(f"{path}: a pruned (quantised) dictionary; quantised models "
                             f"(.ftz) cannot be read")
    if pruneidx_size < -1:
        raise ModelFileError(f"{path}: invalid pruneidx_size {pruneidx_size}")
    if nwords + bucket >= 2**31:
        raise ModelFileError(f"{path}: {nwords} words + {bucket} buckets exceed 2**31 rows")
    # each entry takes at least 10 bytes: check before reading (or allocating) any
    r.need(nwords * (1 + _ENTRY_TAIL.size), f"a dictionary of {nwords} words")
    words, counts = _read_words(buffer, r, nwords, path)
    # the matrices: a quantisation flag, rows, cols, data
    input_matrix = _read_matrix(r, path, "input", nwords + bucket, dim, mmap)
    output_rows = nwords
    output_matrix = _read_matrix(r, path, "output", output_rows, dim, None)
    if r.pos != size:
        raise ModelFileError(f"{path}: {size - r.pos} unexpected bytes after the output matrix")
    return FastTextModel(args=args, words=words, counts=counts, input_matrix=input_matrix,
                         output_matrix=output_matrix, ntokens=ntokens, version=version,
                         has_subwords=pruneidx_size != 0)


def _read_words(buffer, r: _Reader, nwords: int, path):
    words: List[str] = []
    counts = np.empty(nwords, dtype=np.int64)
    seen = set()
    find, pos = buffer.find, r.pos
    for i in range(nwords):
        end = find(b"\0", pos)
        if end < 0 or end + 1 + _ENTRY_TAIL.size > r.size:
            raise ModelFileError(f"{path}: truncated fastText file: dictionary entry {i} of "
                                 f"{nwords} runs past the end")
        word = buffer[pos:end].decode("utf-8", "surrogateescape")
        count, entry_type = _ENTRY_TAIL.unpack_from(buffer, end + 1)
        if entry_type != 0:
            raise ModelFileError(f"{path}: dictionary entry {i} ({word!r:.40}) is a label, not "
                                 f"a word: a supervised model")
        if count < 0:
            raise ModelFileError(f"{path}: word {word!r:.40} has a negative count {count}")
        if word in seen:
            raise ModelFileError(f"{path}: the word {word!r:.40} occurs twice in the dictionary")
        seen.add(word)
        words.append(word)
        counts[i] = count
        pos = end + 1 + _ENTRY_TAIL.size
    r.pos = pos
    return words, counts


def _read_matrix(r: _Reader, path, name: str, rows: int, dim: int, mmap) -> np.ndarray:
    (quantised,) = r.unpack(struct.Struct("<B"), f"the {name} matrix flag")
    if quantised:
        raise ModelFileError(f"{path}: the {name} matrix is quantised (a .ftz model); only "
                             f"full-precision models can be read")
    m, n = r.unpack(_MATRIX_HEADER, f"the {name} matrix shape")
    if m != rows or n != dim:
        raise ModelFileError(f"{path}: the {name} matrix is {m} x {n}, expected {rows} x {dim} "
                             f"(words + buckets x dim)")
    r.need(m * n * 4, f"the {name} matrix ({m} x {n} float32)")
    offset = r.pos
    r.pos += m * n * 4
    if mmap is not None and m * n:
        return np.memmap(r.path, dtype="<f4", mode=mmap, offset=offset, shape=(m, n))
    return np.frombuffer(r.buffer, dtype="<f4", count=m * n, offset=offset).reshape(m, n).copy()


def write_fasttext_bin(path, model: FastTextModel) -> None:
    """Write `model` as fastText 0.9 writes a .bin (version 12), atomically; the input
    matrix is written in blocks (no copy of it is made)."""
    args = model.args
    nwords = len(model.words)
    dim = int(args.dim)
    inverse_losses = {v: k for k, v in LOSSES.items()}
    inverse_models = {v: k for k, v in MODELS.items()}
    if args.loss not in inverse_losses or args.model not in ("cbow", "sg"):
        raise ValueError(f"cannot write a fastText model with loss {args.loss!r} and model "
                         f"{args.model!r}")
    if model.input_matrix.shape != (nwords + args.bucket, dim):
        raise ValueError(f"the input matrix should be {nwords + args.bucket} x {dim}, got "
                         f"{model.input_matrix.shape}")
    if model.output_matrix.shape != (nwords, dim):
        raise ValueError(f"the output matrix should be {nwords} x {dim}, got "
                         f"{model.output_matrix.shape}")
    counts = np.asarray(model.counts, dtype=np.int64)
    if counts.shape != (nwords,):
        raise ValueError(f"{nwords} words need {nwords} counts")
    entries = []
    for word, count in zip(model.words, counts.tolist()):
        data = word.encode("utf-8", "surrogateescape")
        if b"\0" in data:
            raise ValueError(f"word {word!r:.40} holds a NUL byte: it cannot be stored in a "
                             f"fastText file")
        entries.append(data + b"\0" + _ENTRY_TAIL.pack(count, 0))
    with atomic_write(path) as f:
        f.write(struct.pack("<2i", FASTTEXT_MAGIC, FASTTEXT_VERSION))
        f.write(_ARGS.pack(dim, args.ws, args.epoch, args.minCount, args.neg, args.wordNgrams,
                           inverse_losses[args.loss], inverse_models[args.model], args.bucket,
                           args.minn, args.maxn, args.lrUpdateRate, float(args.t)))
        f.write(_DICT_HEADER.pack(nwords, nwords, 0, int(model.ntokens),
                                  -1 if model.has_subwords else 0))
        f.write(b"".join(entries))
        for matrix in (model.input_matrix, model.output_matrix):
            f.write(b"\0" + _MATRIX_HEADER.pack(matrix.shape[0], dim))
            block = max(1, (16 << 20) // (4 * dim))
            for start in range(0, matrix.shape[0], block):
                f.write(np.ascontiguousarray(matrix[start:start + block], dtype="<f4").tobytes())
