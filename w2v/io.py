"""Files: the native model format and word2vec C's vector formats.

The native format is an uncompressed .npz (a zip of .npy arrays) plus one JSON
document, written atomically and read with allow_pickle=False: loading a model never
runs code from the file.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from contextlib import contextmanager
from typing import Dict, Sequence

import numpy as np

MODEL_FORMAT = "w2v-model"
MODEL_FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A model or vector file is unreadable, truncated, inconsistent or of a newer format."""


@contextmanager
def atomic_write(path, mode: str = "wb"):
    """Write to a temporary file beside `path`, fsync, then rename over `path`."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + os.path.basename(path) + "-", dir=directory)
    try:
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


# ------------------------------------------------------------------- native model
def encode_words(words: Sequence[str]):
    """Words as one UTF-8 byte array plus the end offset of each word."""
    encoded = [w.encode("utf-8") for w in words]
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def decode_words(blob: np.ndarray, ends: np.ndarray, path) -> list:
    if ends.ndim != 1 or (ends.size and (ends[-1] != blob.size or np.any(np.diff(ends) < 0)
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


def load_arrays(path):
    """(arrays, meta) from a native model file, validated for format and version."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"model path is a directory: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"model file not found: {path}") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise ModelFileError(f"{path}: not a readable w2v model file ({e})") from None
    if "meta_json" not in arrays:
        raise ModelFileError(f"{path}: not a w2v model file (no metadata)")
    try:
        meta = json.loads(arrays.pop("meta_json").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{path}: corrupted metadata ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path}: not a w2v model file")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > MODEL_FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format version {version!r} is newer than this w2v "
                             f"reads ({MODEL_FORMAT_VERSION}); upgrade w2v")
    return arrays, meta


# -------------------------------------------------------------- word2vec C formats
def save_word2vec_format(path, words: Sequence[str], vectors: np.ndarray, binary: bool = True) -> None:
    """Write vectors as word2vec C does: a "count dims" header line, then per word
    `word` + space + dims float32 (binary, then a newline) or %f-style text."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"{len(words)} words but vectors of shape {vectors.shape}")
    for word in words:
        if not word or any(ch.isspace() for ch in word):
            raise ValueError(f"word {word!r} cannot be written: empty or contains whitespace")
    with atomic_write(path) as f:
        f.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode("utf-8"))
        little = vectors.astype("<f4", copy=False)
        for word, row in zip(words, little):
            if binary:
                f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
            else:
                f.write((word + " " + " ".join(f"{x:.6f}" for x in row) + "\n").encode("utf-8"))


def load_word2vec_format(path, binary: bool = True, unicode_errors: str = "strict"):
    """(words, float32 vectors) from a word2vec C text or binary file.

    The header's counts are checked against the file's size before anything is
    allocated, so a lying header is an error, not a huge allocation.
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        header = f.readline(200).split()
        try:
            count, dim = int(header[0]), int(header[1])
        except (IndexError, ValueError):
            raise ModelFileError(f"{path}: header should be 'count dims', got {header!r}") from None
        if count < 0 or dim < 1 or (binary and count * (dim * 4 + 2) > size) or \
                (not binary and count * (dim + 1) * 2 > size):
            raise ModelFileError(f"{path}: header says {count} vectors of {dim} dims, more than "
                                 f"the file's {size} bytes can hold")
        words, vectors = [], np.empty((count, dim), dtype=np.float32)
        for i in range(count):
            if binary:
                word = bytearray()
                while True:
                    ch = f.read(1)
                    if ch == b" " or ch == b"":
                        break
                    if ch != b"\n":          # some writers put the newline before the word
                        word += ch
                row = f.read(4 * dim)
                if len(row) != 4 * dim:
                    raise ModelFileError(f"{path}: truncated at vector {i} of {count}")
                vectors[i] = np.frombuffer(row, dtype="<f4")
            else:
                parts = f.readline().rstrip(b"\n").split(b" ")
                parts = [p for p in parts if p]
                if len(parts) != dim + 1:
                    raise ModelFileError(f"{path}: line {i + 2} has {len(parts) - 1} numbers, "
                                         f"expected {dim}")
                word = parts[0]
                try:
                    vectors[i] = np.array(parts[1:], dtype=np.float32)
                except ValueError:
                    raise ModelFileError(f"{path}: line {i + 2} holds a value that is not a number") from None
            try:
                words.append(bytes(word).decode("utf-8", errors=unicode_errors))
            except UnicodeDecodeError:
                raise ModelFileError(f"{path}: word {i} is not valid UTF-8; pass "
                                     f"unicode_errors='replace' or 'ignore'") from None
    return words, vectors
