"""The figures of a training run, and the error of a run whose loss diverged."""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, List

logger = logging.getLogger("w2v.training")


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite."""


@dataclass
class EpochStats:
    epoch: int          # 1-based, counted over the model's whole life
    loss: float         # mean negative-sampling loss per trained window
    words: int          # vocabulary words read (before subsampling)
    windows: int        # windows trained (after subsampling)
    seconds: float
    lr: float           # learning rate reached at the end of the epoch
    complete: bool = True   # False for an epoch stopped by Ctrl-C


@dataclass
class TrainingReport:
    epochs: List[EpochStats] = field(default_factory=list)
    raw_words: int = 0          # corpus tokens x epochs, out-of-vocabulary ones included
    words: int = 0              # vocabulary words read
    windows: int = 0
    seconds: float = 0.0
    workers: int = 1
    interrupted: bool = False
    logged_epochs: bool = False     # each epoch was logged as it ended (no progress bar)

    @property
    def words_per_second(self) -> float:
        """Raw corpus words x epochs / training seconds (the usual word2vec figure)."""
        return self.raw_words / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["words_per_second"] = self.words_per_second
        return d


class ProgressLog:
    """Progress as log lines (logger "w2v.training", level INFO) where no progress bar is
    drawn, because the output is a file or a pipe or the bar is off: a line when each
    epoch ends, and one every `every` seconds within a long epoch, as gensim and word2vec
    C report."""

    def __init__(self, epochs: int, epoch_words: int, every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        self.epochs = epochs
        self.epoch_words = max(1, epoch_words)
        self.every = every
        self.clock = clock
        self.epoch_started = self.last = clock()

    def epoch_begins(self) -> None:
        self.epoch_started = self.last = self.clock()

    def during(self, epoch: int, words: int, windows: int, loss: float, lr: float) -> None:
        """Within epoch `epoch` (0-based): `words` read so far, mean loss over `windows`."""
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        elapsed = max(now - self.epoch_started, 1e-9)
        logger.info("epoch %d/%d: %5.1f%%, %.2f M words/s, loss %.4f, lr %.2e", epoch + 1,
                    self.epochs, 100.0 * min(words / self.epoch_words, 1.0), words / elapsed / 1e6,
                    loss / windows if windows else float("nan"), lr)

    def epoch_done(self, of_run: int, stats: EpochStats) -> None:
        logger.info("epoch %d/%d done: loss %.4f, %s words, %.1f s, %.2f M words/s, lr %.2e",
                    of_run, self.epochs, stats.loss, f"{stats.words:,}", stats.seconds,
                    stats.words / max(stats.seconds, 1e-9) / 1e6, stats.lr)
