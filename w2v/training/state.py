"""The training state: the arrays training updates in place, and the optimizer's step count.

The trainer trains it, checkpoints save and restore it, the model owns it and answers
queries from its W_in: it sits below all three, so none of them imports another to reach it.

Tables, by the core's names:

- "in": W_in, the word vectors (the model's `word_vecs`);
- "out": W_out, negative sampling's output vectors (when negative > 0);
- "hs": W_hs, hierarchical softmax's inner-node vectors, one per inner node of the
  Huffman tree (vocabulary size - 1; when hs).

With Adam every table row lives beside its two moments: one array of shape (rows, 3, dim)
holds them ("a block"), and the table and its moments are strided views of it, so that an
Adam row update touches one contiguous piece of memory (CBOW + Adam spent about 20% less
CPU time than with three separate arrays, measured one-threaded on a busy machine). With
SGD a block is (rows, 1, dim) and its table is C-contiguous. A state read from a file keeps
the file's separate arrays (the core accepts any row stride shared by a table and its
moments) until `interleave()` packs them.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

TABLE_FILE_NAMES = {"in": "W_in", "out": "W_out", "hs": "W_hs"}


def moment_file_names(table: str) -> Tuple[str, str]:
    return f"adam_m_{table}", f"adam_v_{table}"


def table_rows(config, n_words: int) -> Dict[str, int]:
    """The tables a config trains and their rows, for a vocabulary of n_words (with
    subwords, W_in holds the words' rows then the `bucket` n-gram rows, as fastText)."""
    rows = {"in": n_words + (config.bucket if config.subwords else 0)}
    if config.negative:
        rows["out"] = n_words
    if config.hs:
        rows["hs"] = n_words - 1
    return rows


class StateError(ValueError):
    """Arrays that do not make a training state for this config (shape, dtype, missing)."""


class TrainingState:
    """Tables ({"in": W_in, ...}), Adam's moments ({"in": (m, v), ...} or None) and the
    number of Adam steps taken (its bias correction)."""

    def __init__(self, tables: Dict[str, np.ndarray], moments: Optional[Dict[str, tuple]] = None,
                 adam_step: int = 0, blocks: Optional[Dict[str, np.ndarray]] = None):
        self.tables = tables
        self.moments = moments
        self.adam_step = adam_step
        self.blocks = blocks            # the arrays holding each table with its moments, if packed

    # ------------------------------------------------------------ making one
    @classmethod
    def zeros(cls, rows: Dict[str, int], dim: int, adam: bool) -> "TrainingState":
        """Zero tables (and moments), each table packed with its moments in one block."""
        blocks = {name: np.zeros((n, 3 if adam else 1, dim), dtype=np.float32)
                  for name, n in rows.items()}
        return cls._of_blocks(blocks, adam, 0)

    @classmethod
    def _of_blocks(cls, blocks, adam: bool, adam_step: int) -> "TrainingState":
        tables = {name: block[:, 0] for name, block in blocks.items()}
        moments = {name: (block[:, 1], block[:, 2]) for name, block in blocks.items()} if adam else None
        return cls(tables, moments, adam_step, blocks)

    @classmethod
    def for_config(cls, config, n_words: int, w_in: Optional[np.ndarray]) -> "TrainingState":
        """A fresh state: W_in from `w_in` (None: zeros, for the caller to fill), every
        other table and moment zero."""
        state = cls.zeros(table_rows(config, n_words), config.vector_size,
                          config.optimizer == "adam")
        if w_in is not None:
            state.tables["in"][...] = w_in
        return state

    @classmethod
    def from_file_arrays(cls, arrays: Dict[str, np.ndarray], config, n_words: int,
                         adam_step: int = 0, in_rows: Optional[int] = None) -> "TrainingState":
        """The state stored in a model file's arrays (file names: W_in, adam_m_in, ...),
        checked against the config: StateError names what is missing or misshapen.
        in_rows: W_in has this many rows, not the config's (a W_in cut to the rows training
        can reach: `gather_in_rows`)."""
        adam = config.optimizer == "adam"
        tables, moments = {}, {} if adam else None
        rows = table_rows(config, n_words)
        if in_rows is not None:
            rows["in"] = in_rows
        for name, n in rows.items():
            shape = (n, config.vector_size)
            names = (TABLE_FILE_NAMES[name],) + (moment_file_names(name) if adam else ())
            found = []
            for file_name in names:
                a = arrays.get(file_name)
                if a is None or a.shape != shape or a.dtype != np.float32:
                    raise StateError(f"{file_name} should be float32 of shape {shape}, found "
                                     f"{None if a is None else (a.dtype, a.shape)}")
                found.append(a)
            tables[name] = found[0]
            if adam:
                moments[name] = (found[1], found[2])
        return cls(tables, moments, adam_step)

    def file_arrays(self) -> Dict[str, np.ndarray]:
        """The arrays to store, by their file names."""
        arrays = {TABLE_FILE_NAMES[name]: table for name, table in self.tables.items()}
        for name, pair in (self.moments or {}).items():
            arrays.update(zip(moment_file_names(name), pair))
        return arrays

    # ------------------------------------------------------------ the arrays
    @property
    def adam(self) -> bool:
        return self.moments is not None

    def storage(self) -> List[np.ndarray]:
        """The contiguous arrays holding everything: the blocks, or the separate arrays."""
        if self.blocks is not None:
            return list(self.blocks.values())
        return list(self.tables.values()) + [m for pair in (self.moments or {}).values() for m in pair]

    def arrays_of(self, name: str) -> List[np.ndarray]:
        """The storage arrays whose rows are table `name`'s rows: its block, or the table
        and its moments."""
        if self.blocks is not None:
            return [self.blocks[name]]
        return [self.tables[name]] + list((self.moments or {}).get(name, ()))

    def all_finite(self) -> bool:
        """No NaN or inf anywhere (no big temporary: a float64 sum of finite float32
        values cannot overflow)."""
        return all(np.isfinite(a.sum(dtype=np.float64)) for a in self.storage())

    def interleave(self) -> None:
        """Pack each table with its moments into one block (a copy), if not already."""
        if self.blocks is not None:
            return
        blocks = {}
        for name, table in self.tables.items():
            parts = (table,) + (self.moments[name] if self.adam else ())
            blocks[name] = np.stack([np.asarray(p, dtype=np.float32) for p in parts], axis=1)
        fresh = self._of_blocks(blocks, self.adam, self.adam_step)
        self.tables, self.moments, self.blocks = fresh.tables, fresh.moments, fresh.blocks

    def grow(self, rows: Dict[str, int], new_in_rows: np.ndarray,
             in_insert_at: Optional[int] = None) -> None:
        """Add rows: `new_in_rows` to W_in, zeros to the other tables and every moment
        (new words start with no optimizer history). Tables absent from `rows` are dropped,
        tables new in `rows` start at zero. New rows go at the end, except W_in's with
        in_insert_at: there (a subword model's new words go between the old words and
        the n-gram rows, which move down with their moments)."""
        dim = self.tables["in"].shape[1]
        width = 3 if self.adam else 1
        blocks = {}
        for name, n in rows.items():
            block = np.zeros((n, width, dim), dtype=np.float32)
            old = self.tables.get(name)
            parts = (old,) + tuple(self.moments[name]) if self.adam and old is not None else (old,)
            if name == "in" and in_insert_at is not None:
                added = len(new_in_rows)
                if not 0 <= in_insert_at <= len(old) or len(old) + added != n:
                    raise StateError(f"cannot insert {added} rows at {in_insert_at} into "
                                     f"{len(old)} to make {n}")
                for k, part in enumerate(parts):
                    block[:in_insert_at, k] = part[:in_insert_at]
                    block[in_insert_at + added:, k] = part[in_insert_at:]
                block[in_insert_at:in_insert_at + added, 0] = new_in_rows
                blocks[name] = block
                continue
            if old is not None:
                kept = min(len(old), n)
                for k, part in enumerate(parts):
                    block[:kept, k] = part[:kept]
            if name == "in":
                block[len(old):, 0] = new_in_rows
            blocks[name] = block
        fresh = self._of_blocks(blocks, self.adam, self.adam_step)
        self.tables, self.moments, self.blocks = fresh.tables, fresh.moments, fresh.blocks

    def gather_in_rows(self, rows: np.ndarray) -> "TrainingState":
        """A state whose W_in (and its moments) is a copy of these rows of this one's, in
        this order; the other tables are this state's own arrays (not copies)."""
        tables = dict(self.tables, **{"in": self.tables["in"][rows]})
        moments = None
        if self.moments is not None:
            moments = dict(self.moments, **{"in": tuple(m[rows] for m in self.moments["in"])})
        return TrainingState(tables, moments, self.adam_step)

    def scatter_in_rows(self, part: "TrainingState", rows: np.ndarray) -> None:
        """Write back a state from `gather_in_rows(rows)`: its W_in rows (and moments) into
        these rows, and its Adam step count."""
        self.tables["in"][rows] = part.tables["in"]
        for mine, theirs in zip((self.moments or {}).get("in", ()), (part.moments or {}).get("in", ())):
            mine[rows] = theirs
        self.adam_step = part.adam_step

    def reset(self, name: str) -> None:
        """Table `name` and its moments back to zero (in place)."""
        self.tables[name][...] = 0
        for m in (self.moments or {}).get(name, ()):
            m[...] = 0

    def copy_from(self, other: "TrainingState") -> None:
        """Overwrite every table and moment, in place, with `other`'s (a rollback)."""
        if other.tables.keys() != self.tables.keys():
            raise StateError(f"tables {sorted(other.tables)} cannot replace {sorted(self.tables)}")
        for name, table in self.tables.items():
            np.copyto(table, other.tables[name])
            for mine, theirs in zip((self.moments or {}).get(name, ()),
                                    (other.moments or {}).get(name, ())):
                np.copyto(mine, theirs)
        self.adam_step = other.adam_step
