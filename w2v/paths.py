"""Where a command's outputs go, checked before any work starts.

Two rules guard the user's files:

* no output ever replaces an input of the same command (the corpus, the model, the
  vectors, the checkpoints it reads): `check_output_file` / `check_output_dir` refuse
  such a path with an OutputPathError naming both;
* a name the user did not give (a default output name) never replaces an existing
  file: `unused_name` picks the next free name ("toy-2.w2v.npz") and the caller says so.

An explicit output path that exists is replaced, atomically (w2v.io.atomic_write),
unless it is an input. Every output is checked before training starts (its directory
exists and is writable, it is not a directory where a file is written, ...), so a
long run never ends in a write that cannot happen; `save_or_rescue` covers the write
that fails anyway (a full disk): the model goes to another file and the error says where.
"""
from __future__ import annotations

import os
import tempfile
from typing import Callable, Iterable, Optional, Tuple

Input = Tuple[str, str]          # (path, what it is: "corpus", "model", ...)


class OutputPathError(ValueError):
    """An output that must not be written there (it is an input of the command). Paths
    that cannot be written raise the usual OSErrors (FileNotFoundError, ...)."""


def same_file(a, b) -> bool:
    """Whether two paths name the same file (links and relative paths resolved)."""
    a, b = os.fspath(a), os.fspath(b)
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)


def _existing_ancestor(path: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    while directory and not os.path.exists(directory):
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return directory


def check_output_file(path, what: str, inputs: Iterable[Input] = ()) -> str:
    """`path` as a file this command may write: not an input (OutputPathError), its
    directory existing and writable (an OSError saying which). Returns the path."""
    path = os.fspath(path)
    if not path:
        raise OutputPathError(f"the {what} path is empty")
    for source, kind in inputs:
        if source is not None and same_file(path, source):
            raise OutputPathError(f"refusing to write the {what} to {path}: it is the {kind} "
                                  f"this command reads; choose another name")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write the {what} to {path}: it is a directory; "
                              f"give a file name")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write the {what} to {path}: directory {directory} "
                                f"does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write the {what} to {path}: directory {directory} "
                              f"is not writable")
    if os.path.exists(path) and not os.access(path, os.W_OK) and not os.access(directory, os.W_OK):
        raise PermissionError(f"cannot replace {path} (the {what}): permission denied")
    return path


def check_output_dir(path, what: str, inputs: Iterable[Input] = (),
                     files: Iterable[str] = ()) -> str:
    """`path` as a directory this command may create or write into: not a file, its
    nearest existing ancestor writable, and none of `files` (the names it will write
    there) an input. Returns the path."""
    path = os.fspath(path)
    if not path:
        raise OutputPathError(f"the {what} path is empty")
    inputs = list(inputs)
    for source, kind in inputs:
        if source is not None and same_file(path, source):
            raise OutputPathError(f"refusing to use {path} as the {what}: it is the {kind} "
                                  f"this command reads")
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise NotADirectoryError(f"cannot use {path} as the {what}: it is a file, not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"cannot write into {path} (the {what}): not writable")
    else:
        ancestor = _existing_ancestor(path)
        if not os.path.isdir(ancestor):
            raise NotADirectoryError(f"cannot create the {what} {path}: {ancestor} is not a directory")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise PermissionError(f"cannot create the {what} {path}: {ancestor} is not writable")
    if os.path.isdir(path):
        for name in files:
            check_output_file(os.path.join(path, name), f"{what} file {name}", inputs)
    return path


def unused_name(path, is_dir: bool = False) -> str:
    """`path` if nothing exists there, else the first free "stem-2.ext", "stem-3.ext", ...
    (for names like "toy.w2v.npz" the number goes before the first dot: "toy-2.w2v.npz")."""
    path = os.fspath(path)
    if not os.path.lexists(path):
        return path
    directory, name = os.path.split(path)
    if is_dir:
        stem, ext = name, ""
    else:
        stem, dot, ext = name.partition(".")
        if not stem:                           # ".hidden"
            stem, ext = name, ""
        ext = dot + ext
    number = 2
    while True:
        candidate = os.path.join(directory, f"{stem}-{number}{ext}")
        if not os.path.lexists(candidate):
            return candidate
        number += 1


def default_name(path, is_dir: bool = False, say: Optional[Callable[[str], None]] = None,
                   what: str = "output") -> str:
    """A default output name that replaces nothing: `path`, or the next free name, in
    which case `say` is told."""
    chosen = unused_name(path, is_dir=is_dir)
    if chosen != os.fspath(path) and say is not None:
        say(f"{path} exists: writing the {what} to {chosen} instead (name it explicitly to "
            f"replace it)")
    return chosen


def save_or_rescue(save: Callable[[str], None], path, what: str = "model",
                   suffix: str = ".w2v.npz") -> str:
    """save(path); when that write fails (a full disk, a directory gone), save() again
    to a rescue file (the current directory, else the temporary one) and raise an
    OSError that says both what failed and where the work is. Returns the path written."""
    path = os.fspath(path)
    try:
        save(path)
        return path
    except OSError as first:
        for directory in (os.getcwd(), tempfile.gettempdir()):
            rescue = unused_name(os.path.join(directory, f"w2v-rescued-{what}{suffix}"))
            try:
                save(rescue)
            except OSError:
                continue
            raise OSError(f"could not write the {what} to {path} ({first}); it was saved to "
                          f"{rescue} instead") from None
        raise OSError(f"could not write the {what} to {path} ({first}), nor to a rescue file in "
                      f"{os.getcwd()} or {tempfile.gettempdir()}: the {what} is lost") from None
