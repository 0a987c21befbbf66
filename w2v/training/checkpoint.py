"""Checkpoints: the whole training state, saved atomically while training, and resume.

A checkpoint is a native model file (`Word2Vec.load` reads it as a model) that also
holds the state of the run it was taken from:

- `rng_states`: the RNG state of every training thread;
- `meta["checkpoint"]`: the epochs of the run, the epoch and first sentence not yet
  trained, that epoch's tally so far, the run's figures so far, and the corpus it was
  trained on (path, size, mtime, token count and a hash of the id stream).

Besides the model's own state (vocabulary and counts, W_in, W_out, Adam moments and
step, config, history, train_runs). Checkpoints are taken between chunks, when no
thread is training: every chunk before the position is trained, none after it.

Files are DIR/checkpoint-NNNNNN.npz written by `atomic_write` (temporary file, fsync,
rename), so a kill at any moment leaves every earlier checkpoint intact; the newest two
are kept, the older one removed only once the new one is complete. With workers=1 a
resumed run is bit-for-bit the run that was interrupted.

    model = Word2Vec(corpus, checkpoint_dir="ckpt", checkpoint_every="1 epoch")
    ... killed ...
    model = Word2Vec.resume("ckpt")        # reads the corpus again, checks it is the same
    model.train()                          # finishes the interrupted run
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import re
import time
import weakref
from dataclasses import dataclass, fields
from typing import List, Optional, Tuple

import numpy as np

from w2v.config import Config, parse_interval
from w2v.data.corpus import build_corpus
from w2v.io import ModelFileError, load_arrays
from w2v.subwords import reachable_rows
from w2v.training.report import EpochStats
from w2v.training.state import StateError, TrainingState

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "w2v-checkpoint"
CHECKPOINT_VERSION = 1
KEEP = 2                     # checkpoints kept in the directory: the newest and the one before
# Config fields a resumed run may change: how it runs, not what it computes.
OVERRIDABLE = ("workers", "checkpoint_every", "rollback_on_divergence")
_NAME = re.compile(r"checkpoint-(\d{6,})\.npz")


class CheckpointError(ValueError):
    """A checkpoint cannot be written or resumed; the message says which and why."""


def list_checkpoints(directory) -> List[Tuple[int, str]]:
    """(sequence number, path) of the checkpoints in `directory`, oldest first."""
    found = []
    for name in os.listdir(directory):
        match = _NAME.fullmatch(name)
        if match:
            found.append((int(match.group(1)), os.path.join(directory, name)))
    return sorted(found)


def _fingerprint(corpus) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(memoryview(np.ascontiguousarray(corpus.ids)).cast("B"))
    digest.update(memoryview(np.ascontiguousarray(corpus.sentence_starts)).cast("B"))
    return digest.hexdigest()


def corpus_identity(corpus) -> dict:
    """What tells this corpus from another: its id stream's hash, and for a file its
    path, size and modification time (to say what changed)."""
    source = corpus.stats.source
    source = os.fsdecode(source) if isinstance(source, bytes) else source
    identity = {"source": source, "tokens": corpus.stats.tokens, "n_words": corpus.n_words,
                "n_sentences": corpus.n_sentences, "fingerprint": _fingerprint(corpus),
                "path": None, "size": None, "mtime": None}
    if os.path.isfile(source):
        info = os.stat(source)
        identity.update(path=os.path.abspath(source), size=info.st_size, mtime=info.st_mtime)
    return identity


# ------------------------------------------------------------------------- writing
class CheckpointWriter:
    """Saves a trainer's state into a directory when `checkpoint_every` says so."""

    def __init__(self, directory, trainer, resuming: bool = False, continuing: bool = False):
        """resuming: the run checkpointed there goes on; continuing: the checkpoints there
        are this model's own, from an earlier train() call (numbering goes on)."""
        self.directory = os.fspath(directory)
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise NotADirectoryError(f"checkpoint directory {self.directory} is a file")
        os.makedirs(self.directory, exist_ok=True)
        self.trainer = weakref.proxy(trainer)     # the trainer owns this: no reference cycle
        existing = list_checkpoints(self.directory)
        if existing and not (resuming or continuing):
            names = ", ".join(os.path.basename(p) for _, p in existing)
            raise CheckpointError(
                f"{self.directory} already holds checkpoints ({names}) of another run: continue "
                f"it with --resume (Word2Vec.resume), or use an empty directory")
        self.sequence = existing[-1][0] if existing else 0
        self.kind, self.amount = parse_interval(trainer.model.config.checkpoint_every)
        self.last_time = time.monotonic()
        # The newest checkpoint of this run: the good state to roll back to.
        self.last_path = trainer.resumed_from if resuming else None
        self.last_position = trainer.start[:2] if resuming else None
        self._identity = None

    def time_due(self) -> bool:
        return self.kind == "seconds" and time.monotonic() - self.last_time >= self.amount

    def begin(self) -> None:
        """A fresh run saves its starting state: a kill before the first interval loses
        nothing but the time, and a divergence has a state to roll back to."""
        if self.last_path is None:
            self.save(*self.trainer.start, strict=True)   # a bad directory fails at once

    def after_epoch(self, epochs_done: int) -> None:
        if (epochs_done == self.trainer.epochs or self.time_due()
                or (self.kind == "epochs" and epochs_done % self.amount == 0)):
            self.save(epochs_done, 0, None)

    def save(self, epoch: int, sentence: int, tally: Optional[dict],
             only_if_finite: bool = False, strict: bool = False) -> Optional[str]:
        """Write the state at (epoch, sentence); tally: that epoch's figures so far.

        A write that fails (disk full, ...) is logged and training goes on: the previous
        checkpoint is intact and the next one is tried at the next interval.
        """
        trainer, model = self.trainer, self.trainer.model
        if self.last_position == (epoch, sentence):
            return self.last_path                   # nothing trained since
        if not model.state.all_finite():
            if only_if_finite:
                return None
            raise trainer._diverged("the arrays hold NaN or inf values")
        if self._identity is None:
            self._identity = corpus_identity(trainer.corpus)
        report = trainer.report
        state = {
            "format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION,
            "epochs": trainer.epochs, "epoch": epoch, "sentence": sentence,
            "tally": tally, "history_start": trainer.history_start,
            "report": {"raw_words": report.raw_words, "words": report.words,
                       "windows": report.windows, "seconds": report.seconds},
            "workers": trainer.workers, "corpus": self._identity, "saved_at": time.time(),
        }
        rng = np.array([s.get_rng_state() for s in trainer.thread_states], dtype=np.uint64)
        self.sequence += 1
        path = os.path.join(self.directory, f"checkpoint-{self.sequence:06d}.npz")
        try:
            model.save(path, extra_arrays={"rng_states": rng}, extra_meta={"checkpoint": state})
        except OSError as e:
            self.sequence -= 1
            if strict:
                raise
            logger.error("could not write the checkpoint %s (%s); training goes on, the last "
                         "checkpoint is %s", path, e, self.last_path)
            self.last_time = time.monotonic()
            return None
        self.last_path, self.last_position, self.last_time = path, (epoch, sentence), time.monotonic()
        for _, old in list_checkpoints(self.directory)[:-KEEP]:
            try:
                os.unlink(old)
            except OSError:
                pass
        logger.info("checkpoint %s: %d of %d epochs done%s", path, epoch, trainer.epochs,
                    f", and epoch {epoch + 1} up to sentence {sentence:,}" if sentence else "")
        return path


# ----------------------------------------------------------------------- rollback
class GoodState:
    """The last state known to be good, for rolling back a run whose loss turned NaN/inf.

    With checkpoints it is the newest checkpoint of the run; without, a copy of the
    arrays taken at the start of every epoch, spilled to an unlinked temporary file
    (the page cache holds it, not the process: peak memory stays one model) and read
    back only to roll back. `rollback_on_divergence=False`: no copy, no rollback.

    Only what training can move is copied: with subwords, the W_in rows of the words and
    of the n-grams they have (on text8like 362,000 of 2,068,000 rows; the other bucket
    rows keep their initial values until the vocabulary changes), which made the copy of
    a subword model's 0.8 GB state about 5 times smaller.
    """

    CHUNK_ROWS = 65_536                 # rows gathered at a time (bounded temporaries)

    def __init__(self, trainer):
        # The trainer owns this; a strong reference back would make a cycle that keeps a
        # finished Trainer, and the arrays it holds, until the garbage collector runs (a
        # Spark executor running task after task grew by a model copy a task).
        self.trainer = weakref.proxy(trainer)
        self.spill = None             # the temporary file holding the copy
        self.adam_step = 0
        self.history_len = 0
        self.curve_len = 0
        self.checked_all = False      # every row checked finite once this run
        self.moving_in_rows = None    # with subwords: the W_in rows training can move

    def _pieces(self):
        """(array, rows): the storage arrays, with the rows training can move (None: all)."""
        model = self.trainer.model
        if self.moving_in_rows is None and self.trainer.input_rows is not None:
            self.moving_in_rows = reachable_rows(self.trainer.input_rows)
        state, moving = model.state, self.moving_in_rows
        in_arrays = state.arrays_of("in") if moving is not None else []
        return [(a, moving if any(a is b for b in in_arrays) else None) for a in state.storage()]

    def _chunks(self, array, rows):
        """The piece's contents, a bounded chunk at a time (views or gathered copies)."""
        if rows is None:
            yield None, array
            return
        for start in range(0, len(rows), self.CHUNK_ROWS):
            index = rows[start:start + self.CHUNK_ROWS]
            yield index, array[index]

    def remember(self) -> None:
        trainer, model = self.trainer, self.trainer.model
        if not model.config.rollback_on_divergence or trainer.checkpoints is not None:
            return
        pieces = self._pieces()
        if self.checked_all:          # the rows training moves; the others cannot change
            finite = all(np.isfinite(chunk.sum(dtype=np.float64))
                         for a, rows in pieces for _, chunk in self._chunks(a, rows))
        else:
            finite = model.state.all_finite()
        if not finite:
            raise trainer._diverged("the arrays hold NaN or inf values")
        self.checked_all = True
        if self.spill is None:
            self.spill = tempfile.TemporaryFile(prefix="w2v-good-state-")
        self.spill.seek(0)
        for a, rows in pieces:
            for _, chunk in self._chunks(a, rows):
                self.spill.write(memoryview(np.ascontiguousarray(chunk)).cast("B"))
        self.spill.flush()
        self.adam_step, self.history_len = model.adam_step, len(model.history)
        self.curve_len = len(model.loss_curve)

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None

    def restore(self) -> str:
        """Put the good state back in place (same arrays); say what was done."""
        trainer, model = self.trainer, self.trainer.model
        if not model.config.rollback_on_divergence:
            return "rollback_on_divergence is off: the arrays now hold NaN or inf values"
        path = trainer.checkpoints.last_path if trainer.checkpoints is not None else None
        if path is not None:
            try:
                arrays, meta = load_arrays(path)
                good = TrainingState.from_file_arrays(arrays, model.config, len(model.vocab),
                                                      meta.get("adam_step", 0))
                model.state.copy_from(good)
            except (OSError, ModelFileError, StateError) as e:
                return f"it could not be rolled back to the checkpoint {path} ({e})"
            model.history = list(meta.get("history", []))
            model.loss_curve = [tuple(point) for point in meta.get("loss_curve", [])]
            epoch, sentence = trainer.checkpoints.last_position
            return (f"the model was rolled back to the checkpoint {path} (epoch {epoch}, "
                    f"sentence {sentence} of the run)")
        if self.spill is not None:
            self.spill.seek(0)
            for a, rows in self._pieces():
                for index, chunk in self._chunks(a, rows):
                    good = np.empty_like(chunk) if index is not None else chunk
                    view = memoryview(good).cast("B")
                    if self.spill.readinto(view) != len(view):
                        return "the copy of the good state could not be read back"
                    if index is not None:
                        a[index] = good
            model.state.adam_step = self.adam_step
            del model.history[self.history_len:]
            del model.loss_curve[self.curve_len:]
            return f"the model was rolled back to the start of epoch {self.history_len + 1}"
        return "no good state was kept: the arrays hold NaN or inf values"


# ------------------------------------------------------------------------ resuming
@dataclass
class ResumeState:
    """Where an interrupted run stands; Trainer(resume=...) continues from it."""
    directory: str
    path: str
    epochs: int              # epochs of the interrupted train() call
    epoch: int               # the epoch to continue (0-based within the run)
    sentence: int            # its first sentence not yet trained
    tally: Optional[dict]    # that epoch's figures so far
    rng_states: list
    history_start: int       # model.history[history_start:] are the run's complete epochs
    report: dict

    @property
    def finished(self) -> bool:
        """The checkpoint was taken after the run's last epoch: nothing is left to train."""
        return self.epoch >= self.epochs

    def apply(self, trainer) -> None:
        if not np.any(trainer.bounds == self.sentence):
            raise CheckpointError(f"{self.path}: sentence {self.sentence} is not a chunk boundary "
                                  f"of this corpus (chunk_words differs?)")
        for thread, state in zip(trainer.thread_states, self.rng_states):
            thread.set_rng_state(int(state))
        trainer.start = (self.epoch, self.sentence, self.tally)
        trainer.history_start = self.history_start
        trainer.resumed_from = self.path
        report = trainer.report
        report.epochs = [EpochStats(**h) for h in trainer.model.history[self.history_start:]]
        for name in ("raw_words", "words", "windows", "seconds"):
            setattr(report, name, self.report[name])


def resume(directory, corpus, load_model, **overrides):
    """The model of the run checkpointed in `directory`, ready to finish it with train()
    (Word2Vec.resume calls this with its own `load` as `load_model`).

    corpus: the same corpus (default: the file the checkpoint names); it is read again
    and must give the same vocabulary and id stream. overrides: only OVERRIDABLE fields
    may differ from the checkpoint's config; naming another one with a different value
    is a CheckpointError (a resumed run keeps the hyperparameters it started with).
    The newest readable checkpoint is used; a damaged newest one falls back to the one
    before, with a warning.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"checkpoint directory not found: {directory}")
    found = list_checkpoints(directory)
    if not found:
        raise CheckpointError(f"{directory}: no checkpoint to resume (no checkpoint-NNNNNN.npz)")
    problems = []
    for _, path in reversed(found):
        try:
            model, state = _load_checkpoint(path, load_model)
            break
        except (ModelFileError, CheckpointError) as e:
            problems.append(str(e))
            logger.warning("%s; trying the checkpoint before it", e)
    else:
        raise CheckpointError(f"{directory}: no readable checkpoint ({'; '.join(problems)})")
    for name in os.listdir(directory):                # left by a writer that was killed
        if name.startswith(".tmp-checkpoint-"):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass

    config = model.config
    known = {f.name for f in fields(Config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise TypeError(f"unknown hyperparameter(s): {', '.join(unknown)}")
    conflicts = [f"{name}={value!r} (the checkpoint has {getattr(config, name)!r})"
                 for name, value in overrides.items()
                 if name not in OVERRIDABLE and getattr(config, name) != value]
    if conflicts:
        raise CheckpointError(
            f"cannot resume {path} with {', '.join(conflicts)}: a resumed run keeps the "
            f"hyperparameters it started with (only {', '.join(OVERRIDABLE)} may change)")
    model.config = config.replace(**{k: v for k, v in overrides.items() if k in OVERRIDABLE})

    identity = state["corpus"]
    if corpus is None:
        corpus = identity.get("path")
        if corpus is None:
            raise CheckpointError(f"{path} was trained on {identity.get('source')}, not a file: "
                                  f"pass the same sentences as `corpus`")
    if isinstance(corpus, (str, bytes, os.PathLike)) and identity.get("size") is not None \
            and os.path.isfile(corpus) and os.path.getsize(corpus) != identity["size"]:
        raise CheckpointError(
            f"{os.fspath(corpus)} has {os.path.getsize(corpus):,} bytes, but {path} was trained "
            f"on {identity['path']} of {identity['size']:,} bytes: not the same corpus")
    prepared, vocab = build_corpus(corpus, model.config)
    if (vocab.index_to_key != model.vocab.index_to_key
            or not np.array_equal(vocab.counts, model.vocab.counts)
            or _fingerprint(prepared) != identity.get("fingerprint")):
        raise CheckpointError(
            f"{prepared.stats.source} is not the corpus {path} was trained on "
            f"({identity.get('source')}, {identity.get('tokens')} tokens): its words, counts "
            f"or order differ")
    model.corpus = prepared
    model.resume_state = ResumeState(
        directory=directory, path=path, epochs=state["epochs"], epoch=state["epoch"],
        sentence=state["sentence"], tally=state["tally"], rng_states=state["rng_states"],
        history_start=state["history_start"], report=state["report"])
    if model.resume_state.finished:
        logger.info("%s: the run is finished (%d of %d epochs): train() has nothing left to do; "
                    "train(epochs=N) afterwards trains more", path, state["epochs"], state["epochs"])
    else:
        logger.info("resuming %s: epoch %d of %d, sentence %d", path, state["epoch"] + 1,
                    state["epochs"], state["sentence"])
    return model


def _load_checkpoint(path, load_model):
    """(model, checked run state) from one checkpoint file."""
    model = load_model(path)
    arrays, meta = load_arrays(path, names=("rng_states", "meta_json"))
    state = meta.get("checkpoint")

    def bad(what):
        return CheckpointError(f"{path}: not a usable checkpoint ({what})")

    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise bad("a model file without a training state")
    version = state.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise bad(f"format version {version!r}")
    if version > CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version} is newer than this "
                              f"w2v reads ({CHECKPOINT_VERSION}); upgrade w2v")

    def whole(name, low, high):
        value = state.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad(f"{name}={value!r}, expected an integer in [{low}, {high}]")
        return value

    epochs = whole("epochs", 1, 2**31)
    whole("epoch", 0, epochs)
    whole("sentence", 0, 2**62)
    whole("history_start", 0, len(model.history))
    tally, report = state.get("tally"), state.get("report")
    if tally is not None and not (isinstance(tally, dict) and set(tally) == {
            "words", "windows", "loss", "lr", "seconds"} and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in tally.values())):
        raise bad("tally")
    if not (isinstance(report, dict) and all(
            isinstance(report.get(k), (int, float)) and not isinstance(report.get(k), bool)
            for k in ("raw_words", "words", "windows", "seconds"))):
        raise bad("report")
    names = {f.name for f in fields(EpochStats)}
    if not all(set(h) == names for h in model.history):
        raise bad("history records")
    if not isinstance(state.get("corpus"), dict):
        raise bad("corpus identity")
    rng = arrays.get("rng_states")
    if rng is None or rng.ndim != 1 or rng.dtype != np.uint64 or rng.size < 1 or not rng.all():
        raise bad("rng_states should hold one nonzero uint64 per thread")
    state["rng_states"] = rng.tolist()
    return model, state
