"""The figures of a training run, and the error of a run whose loss diverged."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import List


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

    @property
    def words_per_second(self) -> float:
        """Raw corpus words x epochs / training seconds (the usual word2vec figure)."""
        return self.raw_words / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["words_per_second"] = self.words_per_second
        return d
