"""Every hyperparameter of w2v, its default and its allowed range, in one place.

The config is saved with the model (as JSON), so a loaded model says exactly how it
was trained. Names follow gensim and word2vec C where those exist.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import os
import re
from dataclasses import dataclass, field
from typing import Optional, Tuple

OPTIMIZERS = ("adam", "sgd")
# Defaults that depend on the model, {field: {model: value}} (model_of() names the model): a
# field left at None takes the value for its model (and a config made from it by
# replace(sg=...) takes the new model's). Chosen on text8like (5 epochs, 2 threads; README
# "Choosing the defaults"): CBOW sgd alpha 0.075 (34.7% / 0.659 over 3 seeds, against
# 33.9% / 0.627 at 0.05); skip-gram sgd alpha 0.05 (39.6% / 0.687 against 37.3% / 0.661 at
# 0.025 and 37.2% / 0.680 at 0.075); hierarchical softmax alone, alpha 0.03 for CBOW
# (28.4% / 0.625 over seeds 1-6 against 27.9% / 0.623 at 0.025 and 25.7% / 0.620 at 0.075)
# and 0.025 for skip-gram (docs/benchmarks.md, "Hierarchical softmax's learning rate").
MODEL_DEFAULTS = {"alpha": {"cbow": 0.075, "skip-gram": 0.05, "cbow, hs only": 0.03,
                            "skip-gram, hs only": 0.025},
                  "lr": {"cbow": 0.01, "skip-gram": 0.01},
                  # 0.5 as fastText (word2vec and gensim: 0.75), but 0.75 for skip-gram with
                  # Adam: 39.3 / 40.2% against 36.2 / 37.1% at 0.5 (seeds 1-2, WS353 0.657 /
                  # 0.661 against 0.659 / 0.658), and 1.15x faster (its negatives repeat more
                  # within a minibatch); skip-gram sgd is level (39.3 / 39.8% against 38.8 /
                  # 39.9%, WS353 0.681 / 0.667 against 0.683 / 0.691), so it keeps 0.5
                  "ns_exponent": {"cbow": 0.5, "skip-gram": 0.5, "skip-gram, adam": 0.75}}


def model_of(sg, hs, negative, field: str, optimizer: str = "adam") -> str:
    """The most specific model MODEL_DEFAULTS[field] has a value for: "<model>, hs only"
    (hierarchical softmax without negatives), then "<model>, <optimizer>", then "<model>"."""
    model = "skip-gram" if sg else "cbow"
    try:
        hs_only = bool(hs) and int(negative) == 0
    except (TypeError, ValueError):       # validate() names the bad value
        hs_only = False
    specific = ([model + ", hs only"] if hs_only else []) + [f"{model}, {optimizer}"]
    return next((key for key in specific if key in MODEL_DEFAULTS[field]), model)


ENCODING_ERRORS = ("strict", "replace", "ignore")
SPARK_MERGES = ("mean", "sum", "blend", "own")
SPARK_MOMENT_MERGES = ("mean", "sum", "max")


def _param(default, help):
    """A config field with its command-line help text kept next to its default."""
    return field(default=default, metadata={"help": help})


_INTERVAL = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*[- ]?\s*(epochs?|s|secs?|seconds?|m|mins?|"
                       r"minutes?|h|hours?)\s*", re.IGNORECASE)
_SECONDS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60,
            "mins": 60, "minute": 60, "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600}


def parse_interval(value, name: str = "checkpoint_every") -> Tuple[str, float]:
    """("epochs", n) or ("seconds", s) from '2 epochs', '1-epoch', '600s', '10min', '1.5h'."""
    match = _INTERVAL.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{name}={value!r} is out of range: a number and a unit, "
                         f"e.g. '2 epochs', '600s', '10min' or '1h'")
    amount, unit = float(match.group(1)), match.group(2).lower()
    if not math.isfinite(amount):
        raise ValueError(f"{name}={value!r} is out of range: a finite number")
    if unit.startswith("epoch"):
        if amount != int(amount) or amount < 1:
            raise ValueError(f"{name}={value!r} is out of range: a whole number of epochs >= 1")
        return "epochs", int(amount)
    if not amount > 0:
        raise ValueError(f"{name}={value!r} is out of range: a time > 0")
    return "seconds", amount * _SECONDS[unit]


@dataclass
class Config:
    # Model: the architecture (CBOW or skip-gram) and its loss(es)
    sg: bool = _param(False, "skip-gram: each context word predicts the centre word (False: "
                             "CBOW, the context words together predict it)")
    hs: bool = _param(False, "hierarchical softmax over word2vec's Huffman tree of the "
                             "vocabulary (with negative > 0 both losses train, as word2vec does)")
    negative: int = _param(5, "negative samples per target word (0: none; then hs must be on)")
    # True (Ji et al. 2016): on text8like, skip-gram sgd alpha 0.05 38.7% / 0.686 (3 seeds)
    # against 34.5% / 0.646 per pair at word2vec's alpha 0.025, and 1.4x faster; adam 37.1% /
    # 0.658 against 37.4% / 0.658 per pair, 2.2x faster (README, "Models"). CBOW ignores it.
    shared_negatives: bool = _param(True, "skip-gram: one draw of negatives per centre word, "
                                          "shared by its context words (False: a fresh draw "
                                          "for every pair, as word2vec)")
    vector_size: int = _param(100, "dimensions of each word vector")
    window: int = _param(5, "max context words each side; shrunk at random per position")
    # 0.5 as fastText (word2vec and gensim: 0.75) for CBOW: on text8like, 3 seeds each, sgd
    # 34.7% / 0.659 (with alpha 0.075) against 33.9% / 0.627, adam 32.1% / 0.657
    # against 31.7% / 0.646 (analogy / WS353; see README, Results). Skip-gram: MODEL_DEFAULTS.
    ns_exponent: Optional[float] = _param(None, "negatives are drawn from unigram counts ** "
                                                "ns_exponent (word2vec and gensim: 0.75)")
    cbow_mean: bool = _param(True, "average the context rows (False: sum them)")
    shrink_windows: bool = _param(True, "draw each position's window size from 1..window, as "
                                        "word2vec does (False: always the full window)")
    context_cache: bool = _param(True, "CBOW with subwords: read each context word's input "
                                       "rows once while it is within reach and move them once "
                                       "when it leaves (False: every window reads and moves "
                                       "them, as fastText)")

    # Subwords: fastText's character n-grams (maxn=0: none, plain word2vec)
    minn: int = _param(3, "subwords: shortest character n-gram of <word> (fastText's -minn)")
    maxn: int = _param(0, "subwords: longest character n-gram; 0 turns subwords off "
                          "(fastText's default: 6)")
    bucket: int = _param(2_000_000, "subwords: hash buckets (W_in rows) the n-grams share "
                                    "(fastText's -bucket)")

    # The input embedding W_in, with torch.nn.Embedding's options
    freeze: bool = _param(False, "keep W_in fixed (pretrained vectors); only W_out trains")
    padding_idx: Optional[int] = _param(None, "a W_in row that is never updated (zero when "
                                              "initialised here); negative counts from the end")
    max_norm: Optional[float] = _param(None, "W_in rows longer than this are rescaled in "
                                             "place when looked up")
    norm_type: float = _param(2.0, "the p of the p-norm for max_norm")

    # Vocabulary and corpus
    min_count: int = _param(5, "words seen fewer times are dropped")
    max_vocab_size: Optional[int] = _param(None, "prune rare words while counting, as word2vec does")
    max_final_vocab: Optional[int] = _param(None, "keep only this many most frequent words")
    sample: float = _param(1e-3, "subsampling threshold for frequent words (0: off)")
    max_sentence_length: int = _param(10000, "longer lines are split into pieces of this many words")
    encoding: str = _param("utf-8", "text encoding of corpus files")
    encoding_errors: str = _param("strict", "what to do with bytes that are not valid `encoding`")
    corpus_cache: Optional[str] = _param(None, "a file for the id stream: written while the text "
                                               "is encoded, memory-mapped for training, reused "
                                               "by later runs on the same corpus and vocabulary")
    corpus_memory_fraction: float = _param(0.5, "without corpus_cache, an id stream larger than "
                                                "this fraction of the available memory goes to "
                                                "a temporary file, memory-mapped")

    # Optimisation
    optimizer: str = _param("adam", "\"adam\": lazy (sparse) Adam; \"sgd\": word2vec's SGD")
    epochs: int = _param(5, "passes over the corpus")
    lr: Optional[float] = _param(None, "adam: learning rate at the start, decayed linearly to "
                                       "min_lr")
    min_lr: float = _param(0.0001, "adam: learning rate at the end of training")
    beta1: float = _param(0.9, "adam: decay of the first moment")
    beta2: float = _param(0.999, "adam: decay of the second moment")
    eps: float = _param(1e-8, "adam: added to the root of the second moment")
    batch_words: int = _param(1000, "adam: windows per optimizer step (gradients averaged per row)")
    alpha: Optional[float] = _param(None, "sgd: learning rate at the start, decayed linearly to "
                                          "min_alpha (word2vec's: 0.05 CBOW, 0.025 skip-gram)")
    min_alpha: float = _param(0.0001, "sgd: learning rate at the end of training")

    # Spark (w2v.spark): how the partitions' rows are merged after every round
    spark_merge: str = _param("blend", "w2v.spark: a row touched by several partitions becomes "
                                       "\"mean\": the mean of their rows; \"sum\": the start "
                                       "row plus the sum of their changes; \"blend\": the sum "
                                       "for rows a task updates rarely, the mean for rows it "
                                       "updates often; \"own\": row ownership, each round "
                                       "in P sub-rounds in which a partition trains only the "
                                       "target words it owns (output rows exact, input rows "
                                       "by blend; negative sampling only) (see README, Spark)")
    spark_moment_merge: str = _param("mean", "w2v.spark, adam: the moments of such a row become "
                                             "\"mean\": their mean; \"sum\": start plus the sum of "
                                             "changes; \"max\": m their mean, v their maximum")
    spark_block_momentum: Optional[float] = _param(
        None, "w2v.spark: block momentum (BMUF): a round moves the parameters by its merged "
              "change plus this times the previous round's move; 0: off; None: 0.7 x (1 - "
              "1/partitions) for sgd with the blend merge, else 0 (see README, Spark)")
    spark_split_batch: bool = _param(
        True, "w2v.spark, adam: batch_words is the minibatch of the whole cluster: each of P "
              "tasks steps every batch_words / P windows, so a round makes as many optimizer "
              "steps as one machine would; False: each task steps every batch_words windows")

    # Execution
    workers: Optional[int] = _param(None, "training threads; None: all cores")
    seed: int = _param(1, "seed of the initial vectors and of every thread's RNG (seed + thread id)")
    chunk_words: int = _param(10000, "words a thread trains per call into the core (progress granularity)")
    checkpoint_every: str = _param("1 epoch", "with a checkpoint directory: how often the training "
                                              "state is saved, in epochs or time ('2 epochs', "
                                              "'600s', '10min', '1h')")
    rollback_on_divergence: bool = _param(True, "if the loss turns NaN/inf, restore the model to the "
                                                "last epoch start (or checkpoint); without checkpoints "
                                                "this keeps one copy of the arrays in memory")

    def __post_init__(self):
        # fields left to the model's default (see MODEL_DEFAULTS), remembered so that
        # replace(sg=..., hs=...) gives the other model its own default
        self._by_model = tuple(name for name in MODEL_DEFAULTS if getattr(self, name) is None)
        for name in self._by_model:
            setattr(self, name, MODEL_DEFAULTS[name][model_of(self.sg, self.hs, self.negative,
                                                              name, self.optimizer)])
        # gensim's recipes pass sg=1, hs=0, cbow_mean=1: 0 and 1 mean False and True;
        # NumPy's integers and floats (epochs=np.int64(5)) are numbers like any other
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, numbers.Integral) and not isinstance(value, bool) and \
                    type(value).__name__ != "bool_" and f.type not in (bool, "bool"):
                setattr(self, f.name, value := int(value))
            elif isinstance(value, numbers.Real) and not isinstance(value, (int, float)):
                setattr(self, f.name, value := float(value))
            if f.type in (bool, "bool") and not isinstance(value, bool) and \
                    type(value).__name__ in ("int", "bool_", "int64", "int32") and value in (0, 1):
                setattr(self, f.name, bool(value))
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> "Config":
        def need(cond, name, allowed):
            if not cond:
                raise ValueError(f"{name}={getattr(self, name)!r} is out of range: {allowed}")

        def is_int(name):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an integer, got {value!r}")

        def is_num(name):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{name}={value!r} is out of range: must be finite")

        for name in ("vector_size", "window", "negative", "min_count", "max_sentence_length",
                     "epochs", "batch_words", "chunk_words", "seed"):
            is_int(name)
        for name in ("ns_exponent", "sample", "lr", "min_lr", "beta1", "beta2", "eps",
                     "alpha", "min_alpha"):
            is_num(name)
        need(self.vector_size >= 1, "vector_size", "must be >= 1")
        need(self.window >= 1, "window", "must be >= 1")
        need(self.negative >= 0, "negative", "must be >= 0")
        need(self.min_count >= 1, "min_count", "must be >= 1")
        need(self.max_sentence_length >= 1, "max_sentence_length", "must be >= 1")
        for name in ("minn", "maxn", "bucket"):
            is_int(name)
        need(self.maxn >= 0, "maxn", "must be >= 0 (0 turns subwords off)")
        if self.maxn > 0:
            need(1 <= self.minn <= self.maxn, "minn", f"must be in [1, maxn={self.maxn}]")
            need(1 <= self.bucket < 2**31, "bucket", "must be in [1, 2**31)")
        need(self.sample >= 0, "sample", "must be >= 0 (0 turns subsampling off)")
        need(self.epochs >= 1, "epochs", "must be >= 1")
        need(self.optimizer in OPTIMIZERS, "optimizer", f"one of {OPTIMIZERS}")
        need(self.lr > 0, "lr", "must be > 0")
        need(0 <= self.min_lr <= self.lr, "min_lr", f"must be in [0, lr={self.lr}]")
        need(0 <= self.beta1 < 1, "beta1", "must be in [0, 1)")
        need(0 <= self.beta2 < 1, "beta2", "must be in [0, 1)")
        need(self.eps > 0, "eps", "must be > 0")
        need(self.batch_words >= 1, "batch_words", "must be >= 1")
        need(self.alpha > 0, "alpha", "must be > 0")
        need(0 <= self.min_alpha <= self.alpha, "min_alpha", f"must be in [0, alpha={self.alpha}]")
        need(self.chunk_words >= 1, "chunk_words", "must be >= 1")
        need(isinstance(self.freeze, bool), "freeze", "True or False")
        if self.padding_idx is not None:
            is_int("padding_idx")
        if self.max_norm is not None:
            is_num("max_norm")
            need(self.max_norm > 0, "max_norm", "must be > 0 (or None for no limit)")
        if not (isinstance(self.norm_type, (int, float)) and not isinstance(self.norm_type, bool)):
            raise TypeError(f"norm_type must be a number, got {self.norm_type!r}")
        need(self.norm_type > 0, "norm_type", "must be > 0 (inf for the max norm)")
        need(0 <= self.seed < 2**63, "seed", "must be in [0, 2**63)")
        need(isinstance(self.cbow_mean, bool), "cbow_mean", "True or False")
        for name in ("sg", "hs", "shared_negatives", "spark_split_batch", "context_cache"):
            need(isinstance(getattr(self, name), bool), name, "True or False")
        if self.negative == 0 and not self.hs:
            raise ValueError("negative=0 and hs=False leave no loss to train: set negative > 0 "
                             "(negative sampling) or hs=True (hierarchical softmax), or both")
        need(isinstance(self.shrink_windows, bool), "shrink_windows", "True or False")
        is_num("corpus_memory_fraction")
        need(0 <= self.corpus_memory_fraction <= 1, "corpus_memory_fraction",
             "must be in [0, 1] (0: always a file)")
        if self.corpus_cache is not None:
            if not isinstance(self.corpus_cache, (str, os.PathLike)) or not os.fspath(self.corpus_cache):
                raise TypeError(f"corpus_cache must be a file path, got {self.corpus_cache!r}")
            self.corpus_cache = os.fspath(self.corpus_cache)
        need(self.encoding_errors in ENCODING_ERRORS, "encoding_errors", f"one of {ENCODING_ERRORS}")
        need(self.spark_merge in SPARK_MERGES, "spark_merge", f"one of {SPARK_MERGES}")
        need(self.spark_moment_merge in SPARK_MOMENT_MERGES, "spark_moment_merge",
             f"one of {SPARK_MOMENT_MERGES}")
        if self.spark_merge == "own" and not self.targets_own_their_rows:
            raise ValueError("spark_merge='own' (row ownership) is for negative sampling without "
                             "hs: a Huffman path's rows are shared by many target words; nor for "
                             "skip-gram with subwords, whose targets are the context words")
        if self.spark_block_momentum is not None:
            is_num("spark_block_momentum")
            need(0 <= self.spark_block_momentum < 1, "spark_block_momentum",
                 "must be in [0, 1) (or None: chosen from the partitions)")
        need(isinstance(self.rollback_on_divergence, bool), "rollback_on_divergence", "True or False")
        parse_interval(self.checkpoint_every, "checkpoint_every")
        for name in ("max_vocab_size", "max_final_vocab", "workers"):
            value = getattr(self, name)
            if value is not None:
                is_int(name)
                need(value >= 1, name, "must be >= 1 (or None for no limit)"
                     if name != "workers" else "must be >= 1 (or None for all cores)")
        if self.max_vocab_size is not None:
            need(self.max_vocab_size >= 2, "max_vocab_size", "must be >= 2")
        return self

    # ---------------------------------------------------------------- helpers
    @property
    def subwords(self) -> bool:
        """True when words have character n-gram rows (maxn > 0)."""
        return self.maxn > 0

    @property
    def targets_own_their_rows(self) -> bool:
        """Whether training only some target words moves only those words' output rows,
        as row ownership (w2v.spark, spark_merge="own") needs: negative sampling alone
        (a Huffman path's rows serve many words), and not skip-gram with subwords (whose
        targets are the context words)."""
        return not self.hs and not (self.subwords and self.sg)

    def resolved_padding_idx(self, vocab_size: int) -> int:
        """padding_idx as a row of a vocab_size-row W_in, -1 for none; IndexError if outside."""
        if self.padding_idx is None:
            return -1
        row = self.padding_idx + vocab_size if self.padding_idx < 0 else self.padding_idx
        if not 0 <= row < vocab_size:
            raise IndexError(f"padding_idx={self.padding_idx} out of range for a vocabulary "
                             f"of {vocab_size} words: must be in [-{vocab_size}, {vocab_size})")
        return row

    @property
    def resolved_workers(self) -> int:
        """Threads to train with: `workers`, or every core this process may use."""
        if self.workers is not None:
            return self.workers
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)

    @classmethod
    def check_names(cls, names) -> None:
        """A TypeError naming each unknown hyperparameter and the nearest known one."""
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(names) - set(known))
        if unknown:
            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise TypeError(f"unknown hyperparameter(s): {', '.join(hints)}; the known ones "
                            f"are the fields of w2v.Config")

    def replace(self, **changes) -> "Config":
        self.check_names(changes)
        for name in self._by_model:            # still the model's default, whichever model
            changes.setdefault(name, None)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Config":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(sorted(unknown))}")
        return cls(**values)
