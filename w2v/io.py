"""Files: the native model format and word2vec C's vector formats.

The native format is an uncompressed .npz (a zip of .npy arrays) plus one JSON
document, written atomically and read with allow_pickle=False: loading a model never
runs code from the file.
"""
from __future__ import annotations

import codecs
import json
import os
import math
import tempfile
import threading
import zipfile
from contextlib import contextmanager
from typing import Dict, Optional, Sequence

import numpy as np

MODEL_FORMAT = "w2v-model"
MODEL_FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model or vector file is unreadable, truncated, inconsistent or of a newer format."""


_umask_lock = threading.Lock()


def _default_file_mode() -> int:
    """0o666 less the process umask: the mode open() would give a new file."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_write(path, mode: str = "wb"):
    """Write to a temporary file beside `path`, fsync, then rename over `path`.

    Readers see the old file or the complete new one, never a part: a crash or kill
    leaves at most a stray `.tmp-*` file. The file gets the usual permissions (not
    mkstemp's 0600), and the directory is fsynced so the rename survives a power cut.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path}: it is a directory")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + os.path.basename(path) + "-", dir=directory)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _default_file_mode())
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    if os.name == "nt":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass                     # some file systems cannot fsync a directory
    finally:
        os.close(fd)


# ------------------------------------------------------------------- native model
def encode_words(words: Sequence[str]):
    """Words as one UTF-8 byte array plus the end offset of each word."""
    encoded = [w.encode("utf-8") for w in words]
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def decode_words(blob: np.ndarray, ends: np.ndarray, path) -> list:
    if ends.ndim != 1 or ends.dtype.kind != "i" or blob.dtype != np.uint8 \
            or (ends.size and (ends[-1] != blob.size or np.any(np.diff(ends) < 0)
                                          or ends[0] < 0)):
        raise ModelFileError(f"{path}: word offsets do not match the word data")
    data = blob.tobytes()
    starts = np.concatenate(([0], ends[:-1]))
    try:
        return [data[s:e].decode("utf-8") for s, e in zip(starts.tolist(), ends.tolist())]
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{path}: a vocabulary word is not valid UTF-8 ({e})") from None


def save_arrays(path, arrays: Dict[str, np.ndarray], meta: dict) -> None:
    meta = dict(meta, format=MODEL_FORMAT, format_version=MODEL_FORMAT_VERSION)
    payload = dict(arrays)
    payload["meta_json"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path) as f:
        np.savez(f, **payload)


def load_arrays(path, names=None):
    """(arrays, meta) from a native model file, validated for format and version.

    names: read only these arrays (and the metadata); default all.

    The file may come from a stranger: nothing is unpickled, and every size read from
    it is checked against the file's length before anything is allocated.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"model path is a directory: {path}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: {path}")
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        try:
            arrays = _read_npz(f, size, path, None if names is None else set(names) | {"meta_json"})
            meta = json.loads(arrays.pop("meta_json").tobytes().decode("utf-8")) \
                if "meta_json" in arrays else None
        except ModelFileError:
            raise
        except Exception as e:
            # The bytes are untrusted: whatever a damaged zip, .npy header or JSON
            # document makes the parsers raise means the same thing, a bad file.
            raise ModelFileError(f"{path}: not a readable w2v model file "
                                 f"({type(e).__name__}: {e})") from None
    if meta is None:
        raise ModelFileError(f"{path}: not a w2v model file (no metadata)")
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path}: not a w2v model file")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid model format version {version!r}")
    if version > MODEL_FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format version {version!r} is newer than this w2v "
                             f"reads ({MODEL_FORMAT_VERSION}); upgrade w2v")
    return arrays, meta


def _read_npz(f, size: int, path, names=None) -> Dict[str, np.ndarray]:
    """The arrays of an uncompressed .npz, each size checked before it is allocated.

    np.load would trust a .npy header's shape and allocate it before finding the data
    missing; here the shapes must fit in the members and the members in the file.
    """
    arrays = {}
    with zipfile.ZipFile(f) as zf:
        infos = zf.infolist()
        claimed = sum(info.file_size for info in infos)
        if claimed > size:
            raise ModelFileError(f"{path}: its members claim {claimed} bytes, more than the "
                                 f"file's {size}")
        for info in infos:
            name = info.filename
            if not name.endswith(".npy") or name[:-4] in arrays:
                raise ModelFileError(f"{path}: unexpected member {name!r} (not a w2v model file)")
            if names is not None and name[:-4] not in names:
                continue
            if info.compress_type != zipfile.ZIP_STORED:
                raise ModelFileError(f"{path}: member {name!r} is compressed; w2v writes and "
                                     f"reads uncompressed .npz only")
            with zf.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
                else:
                    raise ModelFileError(f"{path}: member {name!r} has .npy version {version}")
                if dtype.hasobject:
                    raise ModelFileError(f"{path}: member {name!r} holds Python objects; w2v "
                                         f"never unpickles")
                nbytes = dtype.itemsize * math.prod(shape)
                if nbytes > info.file_size:
                    raise ModelFileError(f"{path}: member {name!r} says shape {shape} "
                                         f"({nbytes} bytes), more than its {info.file_size} bytes")
                buffer = bytearray(nbytes)
                view, got = memoryview(buffer), 0
                while got < nbytes:
                    n = member.readinto(view[got:])
                    if not n:
                        raise ModelFileError(f"{path}: member {name!r} is truncated")
                    got += n
                if member.read(1):
                    raise ModelFileError(f"{path}: member {name!r} has bytes after its array")
                array = np.frombuffer(buffer, dtype=dtype).reshape(shape, order="F" if fortran else "C")
                arrays[name[:-4]] = np.ascontiguousarray(array)
    return arrays


# -------------------------------------------------------------- word2vec C formats
VECTOR_FORMATS = ("word2vec-bin", "word2vec", "vec")   # binary, text, fastText text


def vector_format_of(path, binary: Optional[bool] = None, sniff: bool = True) -> str:
    """The vector format for `path`: from `binary` if given, else the file name
    (.bin: binary; .txt, .vec: text), else (with `sniff`, for reading) the file's
    content; binary when nothing tells."""
    if binary is not None:
        return "word2vec-bin" if binary else "word2vec"
    name = os.fspath(path).lower()
    if name.endswith(".vec"):
        return "vec"
    if name.endswith((".txt", ".tsv")):
        return "word2vec"
    if name.endswith(".bin") or not sniff or not os.path.exists(path):
        return "word2vec-bin"
    return "word2vec" if _looks_like_text_vectors(path) else "word2vec-bin"


def _looks_like_text_vectors(path) -> bool:
    """True when the line after the header is a word and `dims` numbers."""
    with open(path, "rb") as f:
        header = f.readline(200).split()
        line = f.readline(1 << 20).split()
    try:
        dim = int(header[1])
        if len(line) != dim + 1:
            return False
        [float(x) for x in line[1:]]
    except (IndexError, ValueError):
        return False
    return True


def save_word2vec_format(path, words: Sequence[str], vectors: np.ndarray, binary: bool = True) -> None:
    """Write vectors as word2vec C does: a "count dims" header line, then per word
    `word` + space + dims little-endian float32 + newline (binary) or the word and
    the numbers as text, space separated (text; also fastText's .vec)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"{len(words)} words but vectors of shape {vectors.shape}")
    for word in words:
        if not word or any(ch.isspace() for ch in word):
            raise ValueError(f"word {word!r} cannot be written: empty or contains whitespace")
    with atomic_write(path) as f:
        f.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode("utf-8"))
        little = vectors.astype("<f4", copy=False)
        if binary:
            for word, row in zip(words, little):
                f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            row_format = " ".join(["%.6f"] * vectors.shape[1])
            for word, row in zip(words, little.tolist()):
                f.write((word + " " + row_format % tuple(row) + "\n").encode("utf-8"))


def load_word2vec_format(path, binary: Optional[bool] = None, unicode_errors: str = "strict"):
    """(words, float32 vectors) from a word2vec C binary or text file (or fastText .vec).

    `binary=None` decides from the name (.bin / .txt, .vec) or else the content.
    Words that are not valid UTF-8 raise ModelFileError unless `unicode_errors` says
    what to do ("replace", "ignore", "backslashreplace", "surrogateescape", ...).
    The header's counts are checked against the file's size before anything is
    allocated, so a lying header is an error, not a huge allocation.
    """
    path = os.fspath(path)
    try:
        codecs.lookup_error(unicode_errors)
    except LookupError:
        raise ValueError(f"unicode_errors={unicode_errors!r} is not an error handler: use "
                         f"'strict', 'replace', 'ignore', 'backslashreplace' or "
                         f"'surrogateescape'") from None
    if os.path.isdir(path):
        raise IsADirectoryError(f"vector file path is a directory: {path}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"vector file not found: {path}")
    binary = vector_format_of(path, binary) == "word2vec-bin"
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        header_line = f.readline(200)
        header = header_line.split()
        try:
            if len(header) != 2:
                raise ValueError
            count, dim = int(header[0]), int(header[1])
        except ValueError:
            raise ModelFileError(f"{path}: header should be 'count dims', got "
                                 f"{header_line[:80]!r}") from None
        body = size - len(header_line)
        if count < 0 or not 1 <= dim < 2**31 or (binary and count * (dim * 4 + 2) > body) or \
                (not binary and count * (dim + 1) * 2 > body):
            raise ModelFileError(f"{path}: header says {count} vectors of {dim} dims, more than "
                                 f"the file's {size} bytes can hold")
        if binary:
            raw_words, vectors = _read_binary_rows(f.read(), count, dim, path)
        else:
            raw_words, vectors = _read_text_rows(f, count, dim, path)
    words = []
    for i, word in enumerate(raw_words):
        try:
            words.append(word.decode("utf-8", errors=unicode_errors))
        except UnicodeDecodeError as e:
            raise ModelFileError(f"{path}: word {i} ({bytes(word)[:40]!r}) is not valid UTF-8 "
                                 f"({e.reason}); pass unicode_errors='replace', 'ignore' or "
                                 f"'surrogateescape' to read it") from None
    return words, vectors


def _read_binary_rows(data: bytes, count: int, dim: int, path):
    vectors = np.empty((count, dim), dtype=np.float32)
    words = []
    row_bytes, pos = 4 * dim, 0
    for i in range(count):
        while pos < len(data) and data[pos] in b"\n\r":   # the newline after a row, if any
            pos += 1
        space = data.find(b" ", pos, pos + 10_000)
        if space < 0:
            raise ModelFileError(f"{path}: truncated or corrupted at vector {i} of {count} "
                                 f"(no word ends at byte {pos})")
        if space + 1 + row_bytes > len(data):
            raise ModelFileError(f"{path}: truncated at vector {i} of {count}")
        words.append(data[pos:space])
        vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + row_bytes
    return words, vectors


def _read_text_rows(f, count: int, dim: int, path):
    vectors = np.empty((count, dim), dtype=np.float32)
    words = []
    for i in range(count):
        line = f.readline()
        parts = line.split()
        if len(parts) != dim + 1:
            if not line:
                raise ModelFileError(f"{path}: ends after {i} of the {count} rows its header says")
            raise ModelFileError(f"{path}: line {i + 2} has {max(len(parts) - 1, 0)} numbers, "
                                 f"expected {dim}")
        words.append(parts[0])
        try:
            vectors[i] = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            raise ModelFileError(f"{path}: line {i + 2} holds a value that is not a number") from None
    return words, vectors
