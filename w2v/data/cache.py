"""The id stream in a file: written while the text is encoded, memory-mapped for training.

A corpus cache holds everything `build_corpus` makes from a text: the int32 id
stream, the int64 sentence starts, the vocabulary (words and counts) and the
corpus statistics, behind a header that says what it was built from:

    bytes 0..4095   MAGIC, then the header as one line of JSON, padded with spaces
    4096..          ids (int32), sentence starts (int64, 8-aligned), counts (int64),
                    word lengths (int32), the words' UTF-8 bytes

The header is written last and the file is written under a temporary name and
renamed, so a run that stops while writing leaves no cache behind. Reading checks
the magic, the format version, the file's size against the header and a CRC-32 of
everything after the header; this module only reads and writes the format (the
policy, reuse or rebuild, is `w2v.data.corpus`'s).
"""
from __future__ import annotations

import hashlib
import json
import os
import zlib
from typing import List, Optional, Tuple

import numpy as np

MAGIC = b"w2v corpus cache\n"
FORMAT_VERSION = 1
HEADER_BYTES = 4096
CRC_BLOCK = 1 << 24          # bytes checked at a time when a cache is opened


class CorpusCacheError(ValueError):
    """A corpus cache file that cannot be used; the message names the file and the problem."""


def vocab_fingerprint(words: List[str], counts) -> str:
    """A hash of the vocabulary's words in id order and their counts."""
    digest = hashlib.blake2b(digest_size=16)
    for word in words:
        data = word.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(4, "little"))
        digest.update(data)
    digest.update(np.ascontiguousarray(counts, dtype="<i8").tobytes())
    return digest.hexdigest()


def source_identity(path) -> dict:
    """What tells a corpus file from another version of it: path, size, modification time."""
    stat = os.stat(path)
    return {"path": os.path.abspath(os.fsdecode(path)), "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns}


def _pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data).cast("B")
    while len(view):
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


class IdStreamWriter:
    """Writes a cache file: raw ids appended while the text is read, then (optionally)
    rewritten in place, front to back, as the final ids; then the rest, header last.

    The final ids never run ahead of the raw ones they come from, so a raw piece is
    always read before the final ids overwrite it.
    """

    def __init__(self, path: str):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.raw_ids = 0          # raw ids appended so far
        self.final_ids = 0        # final ids written so far (in order, from the start)
        self.crc = 0

    def append(self, ids: np.ndarray) -> None:
        _pwrite_all(self.fd, np.ascontiguousarray(ids, dtype="<i4"), HEADER_BYTES + 4 * self.raw_ids)
        self.raw_ids += len(ids)

    def read(self, start: int, n: int) -> np.ndarray:
        """Raw ids [start, start + n), a copy in memory."""
        data = os.pread(self.fd, 4 * n, HEADER_BYTES + 4 * start)
        if len(data) != 4 * n:
            raise OSError(f"{self.path}: short read of the id stream ({len(data)} of {4 * n} bytes)")
        return np.frombuffer(data, dtype="<i4").astype(np.int32, copy=False)

    def write_final(self, ids: np.ndarray) -> None:
        """The next final ids; they must not pass the raw ids already read."""
        data = np.ascontiguousarray(ids, dtype="<i4")
        _pwrite_all(self.fd, data, HEADER_BYTES + 4 * self.final_ids)
        self.crc = zlib.crc32(memoryview(data).cast("B"), self.crc)
        self.final_ids += len(ids)

    def finish(self, sentence_starts: np.ndarray, words: List[str], counts: np.ndarray,
               meta: dict) -> None:
        """Write the sentence starts, the vocabulary and the header; close the file."""
        offset = HEADER_BYTES + 4 * self.final_ids
        offset += -offset % 8
        sections = {}
        encoded = [w.encode("utf-8", "surrogatepass") for w in words]
        parts = [("sentence_starts", np.ascontiguousarray(sentence_starts, dtype="<i8")),
                 ("counts", np.ascontiguousarray(counts, dtype="<i8")),
                 ("word_lengths", np.array([len(w) for w in encoded], dtype="<i4")),
                 ("words", np.frombuffer(b"".join(encoded), dtype=np.uint8))]
        if offset != HEADER_BYTES + 4 * self.final_ids:      # the alignment gap is zeros
            gap = np.zeros(offset - HEADER_BYTES - 4 * self.final_ids, dtype=np.uint8)
            _pwrite_all(self.fd, gap, HEADER_BYTES + 4 * self.final_ids)
            self.crc = zlib.crc32(gap, self.crc)
        for name, array in parts:
            sections[name] = [offset, int(array.size)]
            _pwrite_all(self.fd, array, offset)
            self.crc = zlib.crc32(memoryview(array).cast("B"), self.crc)
            offset += array.nbytes
        os.ftruncate(self.fd, offset)
        header = dict(meta, format_version=FORMAT_VERSION, n_ids=self.final_ids,
                      ids_offset=HEADER_BYTES, sections=sections, file_bytes=offset,
                      crc32=self.crc, vocab_fingerprint=vocab_fingerprint(words, counts))
        header["header_crc32"] = _header_crc(header)
        text = MAGIC + json.dumps(header, sort_keys=True).encode("utf-8") + b"\n"
        if len(text) > HEADER_BYTES:
            raise CorpusCacheError(f"{self.path}: cache header of {len(text)} bytes does not fit "
                                   f"in {HEADER_BYTES} (a source path that long?)")
        os.fsync(self.fd)             # the data is on disk before the header says it is there
        _pwrite_all(self.fd, text.ljust(HEADER_BYTES, b" "), 0)
        os.fsync(self.fd)
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def discard(self) -> None:
        """Close and delete the unfinished file."""
        self.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def _header_crc(header: dict) -> int:
    fields = {k: v for k, v in header.items() if k != "header_crc32"}
    return zlib.crc32(json.dumps(fields, sort_keys=True).encode("utf-8"))


# -------------------------------------------------------------------- reading
def read_header(path) -> Optional[dict]:
    """The header of the cache at `path`; None if it is a cache of another format
    version (to be rebuilt); CorpusCacheError if the file is not a cache or is damaged."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise CorpusCacheError(f"corpus cache {path} is a directory, not a file")
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    if not head.startswith(MAGIC):
        if head.strip(b"\0 ") == b"" and head:
            raise CorpusCacheError(f"corpus cache {path}: the header is blank (an unfinished "
                                   f"or damaged cache); delete the file to rebuild it")
        raise CorpusCacheError(f"corpus cache {path} is not a w2v corpus cache (no "
                               f"{MAGIC.strip().decode()!r} header); it is left untouched: "
                               f"give another corpus_cache path")
    line = head[len(MAGIC):].split(b"\n", 1)[0]
    try:
        header = json.loads(line.decode("utf-8"))
        version = header["format_version"]
    except (ValueError, KeyError, TypeError):
        raise CorpusCacheError(f"corpus cache {path}: the header is damaged (not the JSON "
                               f"w2v writes); delete the file to rebuild it") from None
    if version != FORMAT_VERSION:
        return None
    if header.get("header_crc32") != _header_crc(header):
        raise CorpusCacheError(f"corpus cache {path}: the header is damaged (its CRC-32 does "
                               f"not match); delete the file to rebuild it")
    try:
        n_ids = int(header["n_ids"])
        sections = {k: (int(v[0]), int(v[1])) for k, v in header["sections"].items()}
        file_bytes, crc = int(header["file_bytes"]), int(header["crc32"])
        expected = {"sentence_starts", "counts", "word_lengths", "words"}
        if set(sections) != expected or n_ids < 0 or header["ids_offset"] != HEADER_BYTES:
            raise ValueError
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        raise CorpusCacheError(f"corpus cache {path}: the header is damaged (fields missing "
                               f"or malformed); delete the file to rebuild it") from None
    size = os.path.getsize(path)
    if size != file_bytes:
        raise CorpusCacheError(f"corpus cache {path} is {'truncated' if size < file_bytes else 'longer than its header says'}: "
                               f"{size:,} bytes where its header says {file_bytes:,}; delete "
                               f"the file to rebuild it")
    header.update(n_ids=n_ids, sections=sections, file_bytes=file_bytes, crc32=crc)
    return header


def open_stream(path, header: dict, verify: bool = True
                ) -> Tuple[np.ndarray, np.ndarray, List[str], np.ndarray]:
    """(ids, sentence_starts, words, counts) of a cache whose header read_header returned:
    the ids and starts memory-mapped read-only, after the layout and (with `verify`, for a
    file this process did not just write) the CRC-32 are checked."""
    path = os.fspath(path)
    sections = header["sections"]

    def damaged(what):
        return CorpusCacheError(f"corpus cache {path} is damaged ({what}); delete the file to "
                                f"rebuild it")

    end = HEADER_BYTES + 4 * header["n_ids"]
    layout = [("sentence_starts", 8), ("counts", 8), ("word_lengths", 4), ("words", 1)]
    position = end + (-end % 8)
    for name, width in layout:
        start, count = sections[name]
        if start != position or count < 0:
            raise damaged(f"the {name} section is not where the layout puts it")
        position = start + width * count
    if position != header["file_bytes"]:
        raise damaged("its sections do not add up to the file's size")
    whole = np.memmap(path, dtype=np.uint8, mode="r")
    crc = 0
    for start in range(HEADER_BYTES, len(whole) if verify else 0, CRC_BLOCK):
        crc = zlib.crc32(whole[start:start + CRC_BLOCK], crc)
    if verify and crc != header["crc32"]:
        raise damaged("its CRC-32 does not match the header's: the data changed after it was written")

    def section(name, dtype):
        start, count = sections[name]
        return np.ndarray((count,), dtype=dtype, buffer=whole, offset=start)

    ids = np.ndarray((header["n_ids"],), dtype=np.int32, buffer=whole, offset=HEADER_BYTES)
    starts = section("sentence_starts", np.int64)
    counts = np.array(section("counts", np.int64))
    lengths = section("word_lengths", np.int32)
    if len(lengths) != len(counts) or (len(lengths) and lengths.min() < 0) \
            or int(lengths.sum()) != sections["words"][1]:
        raise damaged("the word lengths do not match the words")
    data = bytes(section("words", np.uint8))
    ends = np.cumsum(lengths)
    words = [data[e - n:e].decode("utf-8", "surrogatepass") for e, n in zip(ends.tolist(), lengths.tolist())]
    if len(starts) < 1 or starts[0] != 0 or starts[-1] != len(ids):
        raise damaged("the sentence starts do not run from 0 to the number of ids")
    if vocab_fingerprint(words, counts) != header["vocab_fingerprint"]:
        raise damaged("the vocabulary does not match its fingerprint")
    return ids, starts, words, counts
