"""Files: the native model format and word2vec C's vector formats.

The native format is an uncompressed .npz (a zip of .npy arrays) plus one JSON
document, written atomically and read without unpickling: loading a model never runs
code from the file. Each member is stored (not compressed) with its array data aligned
to 64 bytes in the file (the zip local header's extra field is padded, as Android's
zipalign does), so np.load still reads the file and a reader can map an array
straight from it (np.memmap at the member's data offset, read-only, shared between
processes).
"""
from __future__ import annotations

import codecs
import io
import json
import os
import math
import struct
import tempfile
import threading
import warnings
import zipfile
from contextlib import contextmanager
from typing import Dict, Optional, Sequence

import numpy as np

MODEL_FORMAT = "w2v-model"            # Word2Vec.save: everything to query or train on
VECTORS_FORMAT = "w2v-vectors"        # WordVectors.save: vectors, words, counts
MODEL_FORMAT_VERSION = 1
FORMAT_NAMES = {MODEL_FORMAT: "a w2v model (Word2Vec.save)",
                VECTORS_FORMAT: "w2v word vectors (WordVectors.save)"}
MMAP_MODES = (None, "r")
ARRAY_ALIGNMENT = 64                  # where each member's data starts in a native file
_ALIGNMENT_EXTRA_ID = 0xD935          # zipalign's extra-field id: 2 bytes alignment, then padding
_ZIP_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


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
def encode_words(words: Sequence[str], errors: str = "strict"):
    """Words as one UTF-8 byte array plus the end offset of each word.

    errors="surrogateescape" writes words read with that handler (from a file that was
    not UTF-8) back as their original bytes."""
    encoded = []
    for word in words:
        try:
            encoded.append(word.encode("utf-8", errors))
        except UnicodeEncodeError as e:
            raise ValueError(f"word {word!r} cannot be stored: {e.reason} (a lone surrogate "
                             f"that does not stand for a byte)") from None
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends


def decode_words(blob: np.ndarray, ends: np.ndarray, path, errors: str = "strict") -> list:
    if ends.ndim != 1 or ends.dtype.kind != "i" or blob.dtype != np.uint8 or blob.ndim != 1 \
            or (ends.size and (ends[-1] != blob.size or np.any(np.diff(ends) < 0)
                                          or ends[0] < 0)) or (not ends.size and blob.size):
        raise ModelFileError(f"{path}: word offsets do not match the word data")
    try:
        if ends.size and not np.any(blob == ord("\n")):
            # Fast path (millions of words): one decode of the words joined by newlines,
            # then str.split. A newline byte never comes out of decoding other bytes.
            joined = np.full(blob.size + ends.size, ord("\n"), dtype=np.uint8)
            keep = np.ones(joined.size, dtype=bool)
            keep[ends + np.arange(ends.size)] = False
            joined[keep] = blob
            return joined[:-1].tobytes().decode("utf-8", errors).split("\n")
        data = blob.tobytes()
        starts = np.concatenate(([0], ends[:-1]))
        return [data[s:e].decode("utf-8", errors) for s, e in zip(starts.tolist(), ends.tolist())]
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{path}: a vocabulary word is not valid UTF-8 ({e})") from None


def vocabulary_arrays(words: Sequence[str]):
    """(arrays, meta) storing `words` in a native file. Words that hold bytes escaped by
    unicode_errors="surrogateescape" are stored as those bytes, and the metadata says
    so ("words_errors"), so that they load back equal."""
    try:
        blob, ends = encode_words(words)
        meta = {}
    except ValueError:
        blob, ends = encode_words(words, errors="surrogateescape")
        meta = {"words_errors": "surrogateescape"}
    return {"words_utf8": blob, "word_ends": ends}, meta


def vocabulary_from(arrays: Dict[str, np.ndarray], meta: dict, path) -> list:
    """The words stored by vocabulary_arrays, or a ModelFileError."""
    errors = meta.get("words_errors", "strict")
    if errors not in ("strict", "surrogateescape"):
        raise ModelFileError(f"{path}: words_errors should be 'strict' or 'surrogateescape', "
                             f"got {errors!r}")
    return decode_words(arrays["words_utf8"], arrays["word_ends"], path, errors)


def save_arrays(path, arrays: Dict[str, np.ndarray], meta: dict,
                file_format: str = MODEL_FORMAT) -> None:
    """Write arrays and a JSON document as a native file, atomically, each array stored
    and aligned so that it can be memory-mapped (see _write_aligned_npz)."""
    meta = dict(meta, format=file_format, format_version=MODEL_FORMAT_VERSION)
    payload = {"meta_json": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)}
    payload.update(arrays)
    with atomic_write(path) as f:
        _write_aligned_npz(f, payload)


def _npy_header(array: np.ndarray) -> bytes:
    """The .npy header numpy writes for `array` (padded to a multiple of 64 bytes)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, np.lib.format.header_data_from_array_1_0(array))
    return buffer.getvalue()


def _write_aligned_npz(f, arrays: Dict[str, np.ndarray]) -> None:
    """An uncompressed .npz whose members' data start at multiples of ARRAY_ALIGNMENT.

    The .npy header is itself a multiple of 64 bytes, so the array data is aligned too.
    The padding goes in the zip local header's extra field as one record of zipalign's
    kind (id 0xD935: the alignment, then zero bytes), which zip readers skip.
    """
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            array = np.asarray(array)
            if array.dtype.hasobject:
                raise TypeError(f"array {name!r} holds Python objects: not storable")
            if not (array.flags.c_contiguous or array.flags.f_contiguous):
                array = np.ascontiguousarray(array)
            header = _npy_header(array)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            info.file_size = len(header) + array.nbytes
            zip64 = info.file_size * 1.05 > zipfile.ZIP64_LIMIT   # zipfile's own rule
            start = f.tell()
            info.extra, info.CRC, info.compress_size = b"", 0, 0     # as zipfile sets them
            unpadded = start + len(info.FileHeader(zip64))
            padding = -(unpadded + 6) % ARRAY_ALIGNMENT        # a record is >= 6 bytes
            info.extra = struct.pack("<HHH", _ALIGNMENT_EXTRA_ID, 2 + padding,
                                     ARRAY_ALIGNMENT) + bytes(padding)
            with zf.open(info, "w", force_zip64=zip64) as member:
                if f.tell() % ARRAY_ALIGNMENT:
                    raise RuntimeError(f"internal error: member {name!r} would start at "
                                       f"offset {f.tell()}, not a multiple of {ARRAY_ALIGNMENT}")
                member.write(header)
                data = array.reshape(-1, order="A").view(np.uint8)
                for lo in range(0, data.size, 1 << 24):             # 16 MiB at a time
                    member.write(memoryview(data[lo:lo + (1 << 24)]))


def is_native_file(path) -> bool:
    """True when `path` is a zip file (a native model or vectors file, or damaged one)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def load_arrays(path, names=None, mmap: Optional[str] = None,
                file_formats: Sequence[str] = (MODEL_FORMAT,)):
    """(arrays, meta) from a native file, validated for format and version.

    names: read only these arrays (and the metadata); default all.
    mmap: None reads the arrays into memory; "r" maps each array read-only from the
    file where its member allows (stored, its data aligned for its dtype: every file
    this version writes), and reads the others, with a warning naming them.
    file_formats: the formats accepted (meta["format"]); another w2v format is a
    ModelFileError saying what the file holds.

    The file may come from a stranger: nothing is unpickled, and every size read from
    it is checked against the file's length before anything is mapped or allocated.
    A mapped array's CRC is not checked (that would read it all).
    """
    if mmap not in MMAP_MODES:
        raise ValueError(f"mmap={mmap!r}: use None (read into memory) or 'r' (map read-only)")
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"model path is a directory: {path}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: {path}")
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        try:
            arrays = _read_npz(f, size, path, None if names is None else set(names) | {"meta_json"},
                               mmap=mmap)
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
    if not isinstance(meta, dict) or meta.get("format") not in file_formats:
        found = meta.get("format") if isinstance(meta, dict) else None
        found = found if isinstance(found, str) else None
        wanted = " or ".join(FORMAT_NAMES.get(x, x) for x in file_formats)
        if found in FORMAT_NAMES:
            loader = "WordVectors.load" if found == VECTORS_FORMAT else "Word2Vec.load"
            raise ModelFileError(f"{path}: holds {FORMAT_NAMES[found]}, not {wanted}: "
                                 f"load it with {loader}")
        raise ModelFileError(f"{path}: not a w2v model file")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid model format version {version!r}")
    if version > MODEL_FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format version {version!r} is newer than this w2v "
                             f"reads ({MODEL_FORMAT_VERSION}); upgrade w2v")
    return arrays, meta


def _read_npz(f, size: int, path, names=None, mmap: Optional[str] = None) -> Dict[str, np.ndarray]:
    """The arrays of an uncompressed .npz, each size checked before it is allocated.

    np.load would trust a .npy header's shape and allocate it before finding the data
    missing; here the shapes must fit in the members and the members in the file.
    """
    arrays = {}
    not_mapped = []
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
            if mmap is not None and name != "meta_json.npy":
                array = _map_member(f, size, path, info)
                if array is not None:
                    arrays[name[:-4]] = array
                    continue
                not_mapped.append(name[:-4])
            with zf.open(info) as member:
                shape, fortran, dtype = _read_npy_header(member, path, name)
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
    if not_mapped:
        warnings.warn(f"{path}: {', '.join(not_mapped)} could not be memory-mapped (written by "
                      f"an older w2v or another program: not aligned in the file) and were "
                      f"read into memory; save the file again to map them", stacklevel=4)
    return arrays


def _read_npy_header(member, path, name):
    """(shape, fortran_order, dtype) of a .npy stream positioned at its start."""
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
    return shape, fortran, dtype


def _map_member(f, size: int, path, info: zipfile.ZipInfo):
    """The array of a stored member mapped read-only from the file, or None when its
    data is not aligned for its dtype (or is in Fortran order) and must be read.
    Every offset and size is checked against the file first."""
    name = info.filename
    f.seek(info.header_offset)
    local = f.read(_ZIP_LOCAL_HEADER.size)
    if len(local) != _ZIP_LOCAL_HEADER.size:
        raise ModelFileError(f"{path}: member {name!r}: its local header lies past the end "
                             f"of the file")
    fields = _ZIP_LOCAL_HEADER.unpack(local)
    if fields[0] != b"PK\x03\x04":
        raise ModelFileError(f"{path}: member {name!r}: bad local header")
    name_length, extra_length = fields[-2], fields[-1]
    local_name = f.read(name_length)
    if local_name.decode("cp437") != info.orig_filename \
            and local_name.decode("utf-8", "replace") != info.orig_filename:
        raise ModelFileError(f"{path}: member {name!r}: its local header names another file")
    data_start = info.header_offset + _ZIP_LOCAL_HEADER.size + name_length + extra_length
    if data_start + info.file_size > size or info.compress_size != info.file_size:
        raise ModelFileError(f"{path}: member {name!r} extends past the end of the file")
    f.seek(data_start)
    shape, fortran, dtype = _read_npy_header(f, path, name)
    array_start = f.tell()
    nbytes = dtype.itemsize * math.prod(shape)
    if array_start + nbytes != data_start + info.file_size:
        raise ModelFileError(f"{path}: member {name!r} says shape {shape} ({nbytes} bytes), "
                             f"not what its {info.file_size} bytes hold")
    if nbytes == 0:
        return np.zeros(shape, dtype=dtype)
    if (fortran and len(shape) > 1) or array_start % dtype.alignment:
        return None
    return np.memmap(f, dtype=dtype, mode="r", offset=array_start, shape=shape)


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
    the numbers as text, space separated (text; also fastText's .vec).

    Words are written in UTF-8; a word read with unicode_errors="surrogateescape" is
    written back as the bytes it was read from."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"{len(words)} words but vectors of shape {vectors.shape}")
    for word in words:
        if not word or any(ch.isspace() for ch in word):
            raise ValueError(f"word {word!r} cannot be written: empty or contains whitespace")
    blob, ends = encode_words(words, errors="surrogateescape")
    data = blob.tobytes()
    starts = [0] + ends[:-1].tolist()
    with atomic_write(path) as f:
        f.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode("utf-8"))
        little = vectors.astype("<f4", copy=False)
        if binary:
            for start, end, row in zip(starts, ends.tolist(), little):
                f.write(data[start:end] + b" " + row.tobytes() + b"\n")
        else:
            row_format = " ".join(["%.6f"] * vectors.shape[1])
            for start, end, row in zip(starts, ends.tolist(), little.tolist()):
                f.write(data[start:end] + b" " + (row_format % tuple(row)).encode("ascii") + b"\n")


def load_word2vec_format(path, binary: Optional[bool] = None, unicode_errors: str = "strict",
                         limit: Optional[int] = None, datatype=np.float32, no_header: bool = False,
                         encoding: str = "utf8"):
    """(words, vectors) from a word2vec C binary or text file (or fastText .vec).

    `binary=None` decides from the name (.bin / .txt, .vec) or else the content.
    Words that are not valid in `encoding` raise ModelFileError unless `unicode_errors`
    says what to do ("replace", "ignore", "backslashreplace", "surrogateescape", ...).
    limit: read the first `limit` vectors only. datatype: the vectors' dtype (a float
    type; text is parsed straight into it). no_header: a text file without the
    "count dims" line (its rows are counted first, as gensim does).
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
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"encoding={encoding!r} is not a known text encoding") from None
    try:
        datatype = np.dtype(datatype)
    except TypeError:
        raise ValueError(f"datatype={datatype!r} is not a numpy dtype") from None
    if datatype.kind != "f":
        raise ValueError(f"datatype={datatype} is not a floating point type (use np.float16, "
                         f"np.float32 or np.float64)")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer))
                              or limit < 0):
        raise ValueError(f"limit={limit!r} is out of range: must be an integer >= 0 (or None)")
    if os.path.isdir(path):
        raise IsADirectoryError(f"vector file path is a directory: {path}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"vector file not found: {path}")
    if no_header:
        if binary:
            raise ValueError("no_header=True is for text files: a binary word2vec file always "
                             "has a header")
        binary = False
    else:
        binary = vector_format_of(path, binary) == "word2vec-bin"
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if no_header:
            count, dim = _count_text_rows(f, limit, path)
            header_line = b""
        else:
            header_line = f.readline(200)
            header = header_line.split()
            try:
                if len(header) != 2:
                    raise ValueError
                count, dim = int(header[0]), int(header[1])
            except ValueError:
                raise ModelFileError(f"{path}: header should be 'count dims', got "
                                     f"{header_line[:80]!r}") from None
        if count < 0 or not 1 <= dim < 2**31:
            raise ModelFileError(f"{path}: header says {count} vectors of {dim} dims")
        if limit is not None:
            count = min(count, int(limit))
        body = size - len(header_line)
        if (binary and count * (dim * 4 + 2) > body) or (not binary and count * (dim + 1) * 2 > body):
            raise ModelFileError(f"{path}: header says {count} vectors of {dim} dims, more than "
                                 f"the file's {size} bytes can hold")
        if binary:
            raw_words, vectors = _read_binary_rows(f, count, dim, path)
            vectors = vectors.astype(datatype, copy=False)
        else:
            raw_words, vectors = _read_text_rows(f, count, dim, path, datatype,
                                                 first_line=1 if no_header else 2)
    words = []
    for i, word in enumerate(raw_words):
        try:
            words.append(word.decode(encoding, errors=unicode_errors))
        except UnicodeDecodeError as e:
            raise ModelFileError(f"{path}: word {i} ({bytes(word)[:40]!r}) is not valid "
                                 f"{'UTF-8' if codecs.lookup(encoding).name == 'utf-8' else encoding} "
                                 f"({e.reason}); pass unicode_errors='replace', 'ignore' or "
                                 f"'surrogateescape' (--unicode-errors replace) to read it") from None
    return words, vectors


def _count_text_rows(f, limit, path):
    """(rows, dims) of a text vector file without a header: rows up to `limit`, dims
    from the first row. The file is left at its start."""
    first = f.readline()
    if not first.strip():
        raise ModelFileError(f"{path}: no_header=True but the first line holds no vector")
    dim = len(first.split()) - 1
    count = 1
    while limit is None or count < limit:
        line = f.readline()
        if not line:
            break
        if line.strip():
            count += 1
    f.seek(0)
    if limit == 0:
        count = 0
    return count, dim


def read_vocab_counts(path, words: Sequence[str], encoding: str = "utf8",
                      unicode_errors: str = "strict") -> np.ndarray:
    """The counts of `words` from a "word count" per line file (word2vec's -save-vocab,
    gensim's fvocab). A word of `words` missing from the file is an error naming it."""
    path = os.fspath(path)
    counts: Dict[str, int] = {}
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            parts = line.decode(encoding, unicode_errors).split()
            if not parts:
                continue
            try:
                if len(parts) != 2 or int(parts[1]) < 0:
                    raise ValueError
                counts[parts[0]] = int(parts[1])
            except ValueError:
                raise ModelFileError(f"{path}:{number}: expected 'word count', got "
                                     f"{line[:80]!r}") from None
    missing = [w for w in words if w not in counts]
    if missing:
        raise ModelFileError(f"{path}: {len(missing)} word(s) of the vectors have no count "
                             f"(first: {missing[0]!r})")
    return np.array([counts[w] for w in words], dtype=np.int64)


def _read_binary_rows(f, count: int, dim: int, path):
    """`count` rows of `word` + space + `dim` float32 (+ newline), read a block at a
    time so that `limit` does not read the whole file."""
    vectors = np.empty((count, dim), dtype=np.float32)
    words = []
    row_bytes = 4 * dim
    data, pos = b"", 0
    block = max(1 << 20, 4 * (row_bytes + 100))
    for i in range(count):
        while True:
            while pos < len(data) and data[pos] in b"\n\r":   # the newline after a row, if any
                pos += 1
            space = data.find(b" ", pos, pos + 10_000)
            if space >= 0 and space + 1 + row_bytes <= len(data):
                break
            if space < 0 and len(data) - pos >= 10_000:
                raise ModelFileError(f"{path}: corrupted at vector {i} of {count} (no word "
                                     f"ends within 10,000 bytes)")
            more = f.read(block)
            if not more:
                if space < 0:
                    raise ModelFileError(f"{path}: truncated or corrupted at vector {i} of {count} "
                                         f"(no word ends before the end of the file)")
                raise ModelFileError(f"{path}: truncated at vector {i} of {count}")
            data, pos = data[pos:] + more, 0
        words.append(data[pos:space])
        vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + row_bytes
    return words, vectors


def _read_text_rows(f, count: int, dim: int, path, dtype=np.float32, first_line: int = 2):
    vectors = np.empty((count, dim), dtype=dtype)
    words = []
    line_number = first_line - 1
    for i in range(count):
        line = f.readline()
        line_number += 1
        while first_line == 1 and line and not line.strip():     # blank lines, no header
            line = f.readline()
            line_number += 1
        parts = line.split()
        if len(parts) != dim + 1:
            if not line:
                raise ModelFileError(f"{path}: ends after {i} of the {count} rows its header says")
            raise ModelFileError(f"{path}: line {line_number} has {max(len(parts) - 1, 0)} "
                                 f"numbers, expected {dim}")
        words.append(parts[0])
        try:
            vectors[i] = np.array(parts[1:], dtype=dtype)
        except ValueError:
            raise ModelFileError(f"{path}: line {line_number} holds a value that is not a "
                                 f"number") from None
    return words, vectors
