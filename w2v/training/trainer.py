"""The training loop: Python decides what to train, the Cython core does the arithmetic.

Each epoch the corpus is cut into chunks of about `chunk_words` words at sentence
boundaries. `workers` threads pull chunks in order and train each one in a single
nogil call into the core, updating the shared arrays in place without locks (Hogwild).
Every thread owns a `core.Worker`: its RNG (seeded from seed + thread id) and
scratch buffers. The learning rate decays linearly with the position in the corpus,
so the schedule does not depend on thread timing; with workers=1 a run is
bit-for-bit reproducible.
"""
from __future__ import annotations

import logging
import math
import numbers
import queue
import signal
import sys
import threading
import time
from dataclasses import asdict
from typing import Callable, Sequence, Tuple

import numpy as np

from w2v.core import train as core
from w2v.data.corpus import Corpus
from w2v.data.sampling import NegativeSampler, keep_probabilities
from w2v.training.checkpoint import CheckpointWriter, GoodState
from w2v.training.report import EpochStats, ProgressLog, TrainingDiverged, TrainingReport

logger = logging.getLogger(__name__)


CURVE_POINTS_PER_EPOCH = 100


def chunk_bounds(sentence_starts: np.ndarray, chunk_words: int) -> np.ndarray:
    """Sentence indices that cut the corpus into chunks of about chunk_words words."""
    n_sentences = len(sentence_starts) - 1
    targets = np.arange(chunk_words, int(sentence_starts[-1]), chunk_words)
    cuts = np.searchsorted(sentence_starts, targets, side="left")
    return np.unique(np.concatenate(([0], cuts, [n_sentences]))).astype(np.int64)


def linear_schedule(start: float, end: float, fraction: float) -> float:
    return start + (end - start) * min(max(fraction, 0.0), 1.0)


class Trainer:
    """Trains `model` on `corpus` for `epochs` passes; see the module docstring.

    lr_range=(start, end), if given, replaces the config's schedule (lr -> min_lr, or
    alpha -> min_alpha): the learning rate goes linearly from start to end over this
    run. A caller that trains one slice of a longer schedule (w2v.spark's rounds) passes
    the rates at the slice's two ends.

    input_rows=(starts, rows), if given, replaces the model's subword table
    (Word2Vec.subword_table) as each word's input rows: w2v.spark's tasks train a W_in
    cut to the rows training can reach, with the table renumbered into it.

    owned_targets: a boolean array, one entry per word, or None: train only the windows
    whose target (centre word) is marked, and draw negatives only among the marked words,
    so that no other output row moves (w2v.spark's row ownership, spark_merge="own").
    """

    def __init__(self, model, corpus: Corpus, *, epochs: int | None = None, progress: bool = True,
                 callbacks: Sequence[Callable] = (), lr_range: Tuple[float, float] | None = None,
                 checkpoint_dir=None, resume=None, continuing: bool = False, input_rows=None,
                 owned_targets=None):
        """checkpoint_dir: save the training state there (see w2v.training.checkpoint); resume: the
        ResumeState of an interrupted run (from w2v.training.checkpoint.resume) to continue;
        continuing: checkpoint_dir holds this model's own checkpoints of an earlier call."""
        config = model.config
        self.model = model
        self.corpus = corpus
        if resume is not None and epochs is not None and epochs != resume.epochs:
            raise ValueError(f"epochs={epochs!r}: this model resumes an interrupted run of "
                             f"{resume.epochs} epochs; call train() without epochs")
        self.epochs = config.epochs if epochs is None else epochs
        if resume is not None:
            self.epochs = resume.epochs
        if isinstance(self.epochs, numbers.Integral) and not isinstance(self.epochs, bool):
            self.epochs = int(self.epochs)            # np.int64 too
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs={self.epochs!r} is out of range: must be >= 1")
        self.progress = progress
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not callable(cb):
                raise TypeError(f"callback {cb!r} is not callable (expected f(model, epoch_stats))")
        if corpus.n_words == 0:
            raise ValueError(f"{corpus.stats.source}: no vocabulary words to train on")
        if corpus.ids.min() < 0 or corpus.ids.max() >= len(model.vocab):
            raise IndexError("corpus ids outside the model's vocabulary")
        if np.diff(corpus.sentence_starts).max() < 2:
            raise ValueError(f"{corpus.stats.source}: no sentence has two or more vocabulary "
                             f"words, so there is no context window to train on")
        self.workers = config.resolved_workers
        if config.optimizer == "adam":
            self.lr_start, self.lr_end = config.lr, config.min_lr
        else:
            self.lr_start, self.lr_end = config.alpha, config.min_alpha
        if lr_range is not None:
            try:
                start, end = (float(x) for x in lr_range)
            except (TypeError, ValueError):
                start = end = math.nan
            if not (math.isfinite(start) and math.isfinite(end) and start > 0 and end >= 0):
                raise ValueError(f"lr_range={lr_range!r} is out of range: start must be > 0, "
                                 f"end >= 0, both finite")
            self.lr_start, self.lr_end = start, end
        if input_rows is not None and not config.subwords:
            raise ValueError("input_rows is a subword table: this model has no subwords (maxn=0)")
        self.input_rows = None                 # each word's input rows with subwords (CSR)
        if config.subwords:
            self.input_rows = input_rows if input_rows is not None else model.subword_table()
        self.keep_prob = keep_probabilities(model.vocab.counts, config.sample)
        target_mask = None
        counts = model.vocab.counts
        if owned_targets is not None:
            target_mask = np.ascontiguousarray(owned_targets, dtype=np.uint8)
            if target_mask.shape != (len(model.vocab),) or not target_mask.any():
                raise ValueError("owned_targets must mark at least one word, one entry per word")
            if not config.targets_own_their_rows:
                raise ValueError("owned_targets is for negative sampling (a Huffman path's rows "
                                 "are shared by many words) and not for skip-gram with subwords "
                                 "(its targets are the context words)")
            counts = np.where(target_mask, counts, 0)
        sampler = NegativeSampler(counts, config.ns_exponent) if config.negative else None
        self.arrays = core.TrainingArrays(
            tables=model.tables(), moments=model.table_moments(), keep_prob=self.keep_prob,
            ids=corpus.ids, sentence_starts=corpus.sentence_starts,
            alias_prob=sampler and sampler.alias_prob, alias_index=sampler and sampler.alias_index,
            huffman=model.huffman_tree() if config.hs else None,
            input_rows=self.input_rows,
            centre_inputs=config.subwords and config.sg, sg=config.sg, window=config.window, negative=config.negative, hs=config.hs,
            cbow_mean=config.cbow_mean, shrink_windows=config.shrink_windows,
            shared_negatives=config.shared_negatives, optimizer=config.optimizer,
            beta1=config.beta1, beta2=config.beta2, eps=config.eps,
            batch_windows=config.batch_words, freeze=config.freeze,
            frozen_rows=-1 if model.frozen_rows is None else model.frozen_rows,
            padding_idx=config.resolved_padding_idx(len(model.vocab)),
            max_norm=config.max_norm or 0.0, norm_type=config.norm_type,
            context_cache=config.context_cache and config.subwords, target_mask=target_mask)
        self.bounds = chunk_bounds(corpus.sentence_starts, config.chunk_words)
        # Every run of train() on the same model draws fresh random numbers.
        run_seed = config.seed + 1_000_003 * model.train_runs
        self.thread_states = [core.Worker(self.arrays, run_seed, t) for t in range(self.workers)]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pause = threading.Event()         # set: threads stop taking chunks (checkpoint)
        self._interrupt = threading.Event()     # Ctrl-C seen: stop at the next chunk boundary
        self._forced = False                    # a second Ctrl-C: stopped wherever it was
        self._interrupted_epoch = None
        # Where the run starts: (epoch, first sentence, that epoch's tally so far).
        self.start = (0, 0, None)
        self.history_start = len(model.history)
        self.report = TrainingReport(workers=self.workers)
        self.resumed_from = None                # the checkpoint this run continues
        if resume is not None:
            resume.apply(self)
        self._position = self.start             # the last consistent point reached
        self.checkpoints = None if checkpoint_dir is None else \
            CheckpointWriter(checkpoint_dir, self, resuming=resume is not None, continuing=continuing)
        self.good_state = GoodState(self)

    # ------------------------------------------------------------------ epochs
    def train(self):
        """Run the epochs; returns the model (its `last_report` holds the figures)."""
        from tqdm.auto import tqdm

        model, corpus = self.model, self.corpus
        report = self.report
        total = self.epochs * corpus.n_words
        start_epoch, start_sentence, start_tally = self.start
        done = start_epoch * corpus.n_words + int(corpus.sentence_starts[start_sentence])
        # A bar where one can be drawn; elsewhere (a file, a pipe, progress off) log lines.
        show_bar = self.progress and _is_terminal(sys.stderr)
        bar = tqdm(total=total, initial=min(done, total), unit="w", unit_scale=True,
                   disable=not show_bar, dynamic_ncols=True, smoothing=0.1)
        self.log = None if show_bar else ProgressLog(self.epochs, corpus.n_words)
        report.logged_epochs = self.log is not None
        restore_ctrl_c = self._catch_ctrl_c()
        try:
            if self.checkpoints is not None:
                self.checkpoints.begin()
            for epoch in range(start_epoch, self.epochs):
                if self._interrupt.is_set():
                    raise KeyboardInterrupt
                bar.set_description(f"epoch {epoch + 1}/{self.epochs}")
                self.good_state.remember()
                if epoch == start_epoch:
                    stats = self._run_epoch(epoch, bar, start_sentence, start_tally)
                else:
                    stats = self._run_epoch(epoch, bar)
                report.epochs.append(stats)
                report.words += stats.words
                report.windows += stats.windows
                report.seconds += stats.seconds
                report.raw_words += corpus.stats.tokens
                model.history.append(asdict(stats))
                if self.log is not None:
                    self.log.epoch_done(epoch + 1, stats)
                self._position = (epoch + 1, 0, None)
                if stats.windows and not math.isfinite(stats.loss):
                    raise self._diverged(f"mean loss is {stats.loss}")
                if not stats.windows:
                    logger.warning(
                        "%s: epoch %d trained nothing: subsampling (sample=%g) dropped every "
                        "word of its %d-word corpus, or no sentence kept two words; lower sample "
                        "(0 turns it off)", corpus.stats.source, stats.epoch, model.config.sample,
                        corpus.n_words)
                for callback in self.callbacks:
                    callback(model, stats)
                if self.checkpoints is not None:
                    self.checkpoints.after_epoch(epoch + 1)
        except TrainingDiverged as error:
            # The arrays were updated in place by every thread: roll them back.
            raise TrainingDiverged(f"{error}; {self.good_state.restore()}") from None
        except KeyboardInterrupt:
            report.interrupted = True
            if self.checkpoints is not None and not self._forced:
                self.checkpoints.save(*self._position, only_if_finite=True)
            stats = self._interrupted_epoch
            if stats is not None and stats.words:
                report.epochs.append(stats)
                report.words += stats.words
                report.windows += stats.windows
                report.seconds += stats.seconds
                report.raw_words += round(corpus.stats.tokens * stats.words / corpus.n_words)
                model.history.append(asdict(stats))
            raise
        finally:
            restore_ctrl_c()
            self.good_state.close()
            bar.close()
            model.train_runs += 1
            model.last_report = report
            model.vectors_changed()
        return model

    def _catch_ctrl_c(self):
        """Make Ctrl-C ask the run to stop at the next chunk boundary, where the state is
        consistent (a second Ctrl-C stops at once). Returns the function that undoes it.

        Only in the main thread, and only over Python's default handler."""
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
            return lambda: None

        def handler(signum, frame):
            if self._interrupt.is_set():
                self._forced = True
                raise KeyboardInterrupt
            self._interrupt.set()
        signal.signal(signal.SIGINT, handler)
        return lambda: signal.signal(signal.SIGINT, signal.default_int_handler)

    def _diverged(self, what: str) -> TrainingDiverged:
        name = "lr" if self.model.config.optimizer == "adam" else "alpha"
        return TrainingDiverged(f"training diverged in epoch {len(self.model.history) + 1}: "
                                f"{what}; lower the learning rate ({name}={self.lr_start})")

    def _run_epoch(self, epoch: int, bar, first_sentence: int = 0, tally=None) -> EpochStats:
        n_chunks = len(self.bounds) - 1
        starts = self.corpus.sentence_starts
        corpus_words = self.corpus.n_words
        total_words = self.epochs * corpus_words
        results: "queue.Queue" = queue.Queue()
        next_chunk = [int(np.searchsorted(self.bounds, first_sentence))]

        def work(state):
            try:
                while not self._stop.is_set() and not self._pause.is_set():
                    with self._lock:
                        chunk = next_chunk[0]
                        if chunk >= n_chunks:
                            break
                        next_chunk[0] += 1
                        step0 = self.model.state.adam_step
                    first, end = int(self.bounds[chunk]), int(self.bounds[chunk + 1])
                    done_before = epoch * corpus_words + int(starts[first])
                    done_after = epoch * corpus_words + int(starts[end])
                    lr0 = linear_schedule(self.lr_start, self.lr_end, done_before / total_words)
                    lr1 = linear_schedule(self.lr_start, self.lr_end, done_after / total_words)
                    words, windows, loss, steps = core.train_chunk(
                        self.arrays, state, first, end, lr0, lr1, step0)
                    with self._lock:
                        self.model.state.adam_step += steps
                    results.put((words, windows, loss, lr1))
            except BaseException as error:  # handed to the main thread
                results.put(error)
            finally:
                results.put(None)

        started = time.perf_counter()
        if self.log is not None:
            self.log.epoch_begins()
        tally = dict(tally) if tally else {"words": 0, "windows": 0, "loss": 0.0,
                                           "lr": self.lr_start, "seconds": 0.0}
        seconds_before = tally["seconds"]
        # The loss curve: a point every ~1% of an epoch, (words trained in the model's
        # life, mean loss of the windows since the previous point).
        curve = self.model.loss_curve
        words_before = sum(h["words"] for h in self.model.history)
        segment = {"words": 0, "windows": 0, "loss": 0.0}
        segment_words = max(1, corpus_words // CURVE_POINTS_PER_EPOCH)
        error = None

        def take(item):
            nonlocal error
            if isinstance(item, BaseException):
                error = error or item
                self._stop.set()
                return
            if not math.isfinite(item[2]) and error is None:
                # Stop at once: every further update would spread the NaN/inf.
                error = self._diverged(f"a chunk's loss is {item[2]}")
                self._stop.set()
            tally["words"] += item[0]
            tally["windows"] += item[1]
            tally["loss"] += item[2]
            tally["lr"] = item[3]
            bar.update(item[0])
            if self.log is not None:
                self.log.during(epoch, tally["words"], tally["windows"], tally["loss"], tally["lr"])
            segment["words"] += item[0]
            segment["windows"] += item[1]
            segment["loss"] += item[2]
            if segment["words"] >= segment_words:
                end_segment()

        def end_segment():
            if segment["windows"]:
                curve.append((words_before + tally["words"], segment["loss"] / segment["windows"]))
            segment.update(words=0, windows=0, loss=0.0)

        def stats(complete):
            return EpochStats(epoch=len(self.model.history) + 1,
                              loss=tally["loss"] / tally["windows"] if tally["windows"] else float("nan"),
                              words=tally["words"], windows=tally["windows"],
                              seconds=seconds_before + time.perf_counter() - started,
                              lr=tally["lr"], complete=complete)

        def position():
            """(epoch, next sentence, tally): all chunks before it are trained, none after."""
            return epoch, int(self.bounds[next_chunk[0]]), dict(tally, seconds=stats(False).seconds)

        while True:     # one pass per stretch between mid-epoch checkpoints
            self._pause.clear()
            threads = []
            try:
                if self._interrupt.is_set():
                    raise KeyboardInterrupt
                for state in self.thread_states:
                    thread = threading.Thread(target=work, args=(state,), daemon=True,
                                              name=f"w2v-worker-{state.thread_id}")
                    thread.start()
                    threads.append(thread)
                running = len(threads)
                while running:
                    if self._interrupt.is_set():
                        raise KeyboardInterrupt
                    try:
                        item = results.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    if item is None:
                        running -= 1
                        continue
                    take(item)
                    bar.set_postfix(loss=f"{tally['loss'] / max(tally['windows'], 1):.4f}",
                                    lr=f"{tally['lr']:.2e}", refresh=False)
                    if self.checkpoints is not None and self.checkpoints.time_due():
                        self._pause.set()
            except KeyboardInterrupt:
                # Ctrl-C: every thread finishes the chunk it is on, and that work is counted.
                self._stop.set()
                for t in threads:
                    t.join()
                while not results.empty():
                    item = results.get()
                    if item is not None:
                        take(item)
                end_segment()
                self._interrupted_epoch = stats(complete=False)
                if error is None and not self._forced:
                    self._position = position()
                raise
            for t in threads:
                t.join()
            if error is not None:
                raise error
            if not self._pause.is_set() or next_chunk[0] >= n_chunks:
                break
            self._position = position()
            self.checkpoints.save(*self._position)
        end_segment()
        return stats(complete=True)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):     # no isatty, or closed
        return False
