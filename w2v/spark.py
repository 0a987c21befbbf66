"""Word2vec (CBOW or skip-gram, negative sampling and/or hierarchical softmax, subword
n-grams) on Apache Spark, with the same Cython core (`pip install "w2v[spark]"`).

    from w2v.spark import train
    model = train("hdfs:///corpus/*.txt", spark=spark, epochs=5)   # or an RDD / a DataFrame
    model.save("model.npz")        # the same Word2Vec as single-machine training returns

How a run goes (the driver decides, the executors train):

1. Sentences: an RDD of token lists, a DataFrame column (text, split on whitespace, or
   array<string>), or text files Spark reads (local, HDFS, S3; one sentence a line).
2. Vocabulary: counted with Spark (exact counts, reduceByKey), words under `min_count`
   dropped on the executors, the rest collected and ordered as `Vocab` does (count
   descending, ties in code point order), cut at `max_final_vocab`, broadcast.
3. Id stream: every partition is turned into int32 id blocks by `build_corpus` (long
   lines split, words outside the vocabulary dropped), then cut at sentence boundaries
   into `num_partitions` parts of equal size (a shuffle of the ids, not of the text) and
   persisted (memory and disk): the text is read twice in all, whatever the epochs.
4. Rounds: `epochs` x `rounds_per_epoch` (by default 10 an epoch, 20 beyond 8
   partitions, more for runs under 5 epochs: `default_rounds`). In round k of an epoch,
   every partition trains the k-th slice of its id stream (by word position) with the
   `Trainer` (one thread: Spark gives the parallelism), starting from the broadcast
   W_in, W_out and Adam moments. The learning rate decays linearly over the global
   progress, round by round, as in single-machine training. A partition sends back only
   the rows it changed, in blocks of rows; Spark sums each block over the partitions and
   counts who touched each row, and the driver merges every touched row by `spark_merge`
   (see `merged_rows`, `blend_rows`): "mean" over the partitions that touched it (Spark
   MLlib's scheme), "sum" of their changes, or "blend" of the two by how often a task
   updates the row (the default); or "own", row ownership: each round in P sub-rounds,
   in each of which a partition trains only the target words it owns (`owned_words`),
   so that every output row has one writer (the input rows merge by blend). Adam's
   moments merge by `spark_moment_merge`.
   Untouched rows keep their values. With subwords only the W_in rows that the words
   and their n-grams reach are broadcast and trained (`reachable_in_rows`: the tasks
   read a subword table renumbered into them); the other bucket rows keep their
   initial values, as on one machine. Then block momentum (`BlockMomentum`,
   `spark_block_momentum`; for SGD by default 0.7 x (1 - 1/P)) adds a share of the
   previous round's move: with it and the default rounds SGD keeps its quality to 32
   partitions far better than the mean (docs/benchmarks.md, "On Spark: many
   partitions"). With Adam, `batch_words` is the whole cluster's minibatch
   (`spark_split_batch`): each task steps every batch_words / P windows, so that a round
   makes as many optimizer steps as one machine would, each from about as many windows.

`train_in_process` runs the same partitions, tasks and merge without Spark, one task
after the other: what P executors compute, measured on one machine.

Memory: the driver holds the model, one serialised copy for the broadcast and the
merged rows of one or two result partitions at a time (streamed); a task holds the
broadcast model, its own copy, the blocks it sends and 1/rounds of its partition's ids.
Neither grows with the corpus: the id stream lives in Spark's storage (memory, then disk).

Seeds: the initial vectors come from `seed` as in single-machine training; each
partition and round draws from its own seed derived from (seed, run, round, partition),
so a run is reproducible for a fixed partitioning.
"""
from __future__ import annotations

import logging
import math
import os
import time
from collections import Counter
from dataclasses import asdict
from functools import partial
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from w2v.config import Config
from w2v.data.corpus import Corpus, CorpusError, CorpusStats, build_corpus
from w2v.models.word2vec import Word2Vec
from w2v.subwords import reachable_rows
from w2v.training.report import EpochStats, TrainingDiverged, TrainingReport
from w2v.training.state import TrainingState
from w2v.training.trainer import Trainer, linear_schedule
from w2v.data.vocab import Vocab

logger = logging.getLogger(__name__)

INSTALL_HINT = ('w2v.spark needs pyspark: pip install "w2v[spark]" (Spark 4 also needs Java 17 '
                'or newer on the driver and the executors)')
BLOCK_WORDS = 1 << 20          # ids per persisted record of a partition's id stream
MERGE_BLOCK_BYTES = 1 << 21    # about this many bytes per block of rows sent back for merging
_TOTALS = None                 # key of the (tokens, lines) record while counting: never a word
_STATS = -1                    # first key element of a partition's statistics after a round
# "blend": a row a task updates u times in a round weighs s = u / (u + BLEND_HALF) toward the
# mean (measured at 10, 100, 1000 on text8like at 32 partitions: 100 was the best that stayed finite)
BLEND_HALF = 100.0

# rounds by default (default_rounds): 10 an epoch up to MANY_PARTITIONS partitions, 20
# beyond, and in a run of fewer than MIN_EPOCHS_OF_ROUNDS epochs as many as that many
# epochs would have, so a short run synchronises as often as the 5-epoch runs the rules
# were measured on (docs/benchmarks.md, "On Spark: many partitions")
DEFAULT_ROUNDS = 10
MANY_PARTITIONS = 8
MANY_PARTITIONS_ROUNDS = 20
MIN_EPOCHS_OF_ROUNDS = 5

# Adam with the defaults (blend, spark_split_batch, 10 rounds an epoch) was measured to
# keep its quality up to this many partitions (97% / 100% at 8; 93% / 99% at 16 with 20
# rounds: docs/benchmarks.md, "On Spark: many partitions")
ADAM_KEPT_PARTITIONS = 8

# spark_block_momentum=None: AUTO_MOMENTUM x (1 - 1/P) for SGD with the blend merge
# (0 on one partition), measured at P = 2, 8, 32 (docs/benchmarks.md, "On Spark: many partitions");
# Adam: 0 (momentum made it worse).
AUTO_MOMENTUM = 0.7


def _pyspark():
    try:
        import pyspark
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return pyspark


# ------------------------------------------------------------------------ sentences
def _split_line(raw: bytes, encoding: str, errors: str) -> List[str]:
    return raw.decode(encoding, errors).split()


def _split_text(text) -> List[str]:
    return [] if text is None else text.split()


def _tokens_or_empty(tokens) -> list:
    return [] if tokens is None else list(tokens)


def sentences_rdd(data, spark=None, *, column: Optional[str] = None,
                  config: Optional[Config] = None):
    """An RDD of token lists from `data`:

    - an RDD of token lists, as it is;
    - a DataFrame: `column` (default: its only column), text split on whitespace or
      array<string> taken as tokens; nulls are empty sentences;
    - a path or a list of paths Spark's textFile reads (local, hdfs://, s3a://, globs,
      .gz/.bz2), one sentence a line, decoded with config.encoding / encoding_errors.
    """
    _pyspark()
    from pyspark import RDD
    from pyspark.sql import DataFrame, SparkSession

    config = config or Config()
    if isinstance(data, RDD):
        return data
    if isinstance(data, DataFrame):
        from pyspark.sql.types import ArrayType, StringType
        names = data.columns
        if column is None:
            if len(names) != 1:
                raise ValueError(f"the DataFrame has columns {names}: name the one holding the "
                                 f"text with column=")
            column = names[0]
        if column not in names:
            raise ValueError(f"column={column!r} is not a column of the DataFrame {names}")
        kind = data.schema[column].dataType
        if isinstance(kind, StringType):
            to_tokens = _split_text
        elif isinstance(kind, ArrayType) and isinstance(kind.elementType, StringType):
            to_tokens = _tokens_or_empty
        else:
            raise TypeError(f"column {column!r} is {kind.simpleString()}: expected text "
                            f"(string) or tokens (array<string>)")
        return data.select(column).rdd.map(lambda row: to_tokens(row[0]))
    if isinstance(data, (str, os.PathLike)) or (
            isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, os.PathLike))
                                                             for p in data)):
        paths = [os.fspath(data)] if isinstance(data, (str, os.PathLike)) else [os.fspath(p) for p in data]
        if spark is None:
            spark = SparkSession.getActiveSession()
            if spark is None:
                raise ValueError("no active SparkSession to read the files with: pass spark=")
        lines = spark.sparkContext.textFile(",".join(paths), use_unicode=False)
        return lines.map(partial(_split_line, encoding=config.encoding, errors=config.encoding_errors))
    raise TypeError(f"cannot train on a {type(data).__name__}: pass an RDD of token lists, a "
                    f"DataFrame (with column=), or a path / list of paths to text files")


def _check_first(rdd) -> None:
    """Clear errors, on the driver, for an empty RDD and for one of lines, not token lists."""
    first = rdd.take(1)
    if not first:
        raise ValueError("the RDD is empty: there are no sentences to train on")
    if isinstance(first[0], (str, bytes)):
        raise TypeError(f"the RDD holds {type(first[0]).__name__} items, not token lists: split "
                        f"them first (rdd.map(str.split)) or pass the path of the text files")


# ----------------------------------------------------------------------- vocabulary
def _count_partition(sentences: Iterable) -> Iterable:
    counts: Counter = Counter()
    tokens = lines = 0
    for sentence in sentences:
        if isinstance(sentence, (str, bytes)):
            raise TypeError(f"a sentence is a {type(sentence).__name__}, not a list of tokens")
        if not isinstance(sentence, (list, tuple)):
            sentence = list(sentence)
        counts.update(sentence)
        tokens += len(sentence)
        lines += 1
    bad = next((w for w in counts if type(w) is not str), None)
    if bad is not None:
        raise TypeError(f"tokens must be str, got {type(bad).__name__} {bad!r}")
    yield from counts.items()
    yield _TOTALS, (tokens, lines)


def _add_counts(a, b):
    return (a[0] + b[0], a[1] + b[1]) if isinstance(a, tuple) else a + b


def _is_totals(pair) -> bool:
    return pair[0] is _TOTALS


def _kept_word(pair, min_count: int) -> bool:
    return pair[0] is not _TOTALS and pair[1] >= min_count


def _vocab_order(pair):
    return (-pair[1], pair[0])


def count_vocab(sentences, config: Config) -> Tuple[Vocab, CorpusStats]:
    """Exact word counts with Spark; returns (Vocab, stats of the corpus).

    Only words seen at least min_count times reach the driver (at most max_final_vocab
    of them, chosen on the executors when it is set).
    """
    if config.max_vocab_size is not None:
        raise ValueError(f"max_vocab_size={config.max_vocab_size} bounds the memory of counting "
                         f"on one machine; w2v.spark counts exactly with Spark: use min_count or "
                         f"max_final_vocab to bound the vocabulary")
    counted = sentences.mapPartitions(_count_partition).reduceByKey(_add_counts).persist()
    try:
        totals = counted.filter(_is_totals).collect()
        tokens, lines = totals[0][1] if totals else (0, 0)
        kept = counted.filter(partial(_kept_word, min_count=config.min_count))
        if config.max_final_vocab is not None:
            pairs = kept.takeOrdered(config.max_final_vocab, key=_vocab_order)
        else:
            pairs = kept.collect()
    finally:
        counted.unpersist()
    stats = CorpusStats("<spark sentences>", lines=lines, tokens=tokens)
    if tokens == 0:
        raise CorpusError(f"the corpus has no tokens ({lines:,} sentences, all empty)")
    words = [w for w, _ in pairs]
    vocab = Vocab.from_counts(words, [c for _, c in pairs], config.min_count, config.max_final_vocab)
    if len(vocab) == 0:
        raise CorpusError(f"empty vocabulary: no word occurs at least min_count={config.min_count} "
                          f"times in {tokens:,} tokens")
    stats.kept_tokens = vocab.total_count
    return vocab, stats


# ------------------------------------------------------------------------ id stream
def _encode_partition(sentences: Iterable, setup) -> Iterable:
    """(ids, sentence_starts, lines_split, extra_pieces) blocks of about BLOCK_WORDS tokens."""
    config, vocab, _ = _setup_of(setup)
    config = config.replace(corpus_cache=None)     # blocks in memory: Spark persists them
    batch, words = [], 0

    def encode(batch):
        corpus, _ = build_corpus(batch, config, vocab=vocab)
        return corpus.ids, corpus.sentence_starts, corpus.stats.lines_split, corpus.stats.extra_pieces

    for sentence in sentences:
        if not isinstance(sentence, (list, tuple)):
            sentence = list(sentence)
        batch.append(sentence)
        words += len(sentence)
        if words >= BLOCK_WORDS:
            yield encode(batch)
            batch, words = [], 0
    if batch:
        yield encode(batch)


def _partition_size(index: int, blocks: Iterable) -> Iterable:
    """(index, words, sentences, lines split, extra pieces, longest sentence) of a partition."""
    words = sentences = split = extra = longest = 0
    for block in blocks:
        ids, starts = block[0], block[1]
        words += len(ids)
        sentences += len(starts) - 1
        if len(block) > 2:
            split += block[2]
            extra += block[3]
        if len(starts) > 1:
            longest = max(longest, int(np.diff(starts).max()))
    yield index, words, sentences, split, extra, longest


def _part_start(part: int, total: int, parts: int) -> int:
    """First word position of part `part` of `parts` equal ranges of [0, total): a
    sentence belongs to the part its first word falls in (first * parts // total)."""
    return -(-part * total // parts)


def cut_into_parts(index: int, blocks: Iterable, offsets: Sequence[int], total: int,
                   parts: int) -> Iterable:
    """Cut a partition's blocks where sentences change part (of the whole id stream):
    ((part, position of the first word), (ids, sentence_starts)) pieces."""
    offset = offsets[index]
    for block in blocks:
        ids, starts = block[0], block[1]
        if len(starts) > 1:
            part = (offset + starts[:-1]) * parts // total
            cuts = np.concatenate(([0], np.flatnonzero(np.diff(part)) + 1, [len(part)]))
            for lo, hi in zip(cuts[:-1], cuts[1:]):
                a, b = int(starts[lo]), int(starts[hi])
                yield (int(part[lo]), offset + a), (ids[a:b], starts[lo:hi + 1] - a)
        offset += len(ids)


def _part_of_key(key) -> int:
    return key[0]


def _value(pair):
    return pair[1]


def balance(encoded, sizes: Sequence[int], parts: int):
    """The id stream in `parts` partitions of equal words (to a sentence), in corpus
    order: a shuffle of the compact ids, not of the text."""
    offsets = np.concatenate(([0], np.cumsum(sizes))).tolist()
    return (encoded.mapPartitionsWithIndex(partial(cut_into_parts, offsets=offsets,
                                                   total=int(offsets[-1]), parts=parts))
            .repartitionAndSortWithinPartitions(parts, partitionFunc=_part_of_key)
            .map(_value))


def round_slice(blocks: Iterable, partition_words: int, part: int, parts: int) -> Corpus:
    """The sentences of a partition whose first word lies in the part-th of `parts`
    equal ranges of its word positions, as one Corpus. Every sentence falls in
    exactly one part; parts keep the partition's order."""
    lo, hi = _part_start(part, partition_words, parts), _part_start(part + 1, partition_words, parts)
    ids_pieces, start_pieces, offset, kept = [], [], 0, 0
    for block in blocks:
        ids, starts = block[0], block[1]
        if offset >= hi:
            break
        first = offset + starts[:-1]
        i0, i1 = np.searchsorted(first, lo, "left"), np.searchsorted(first, hi, "left")
        if i1 > i0:
            a, b = int(starts[i0]), int(starts[i1])
            ids_pieces.append(ids[a:b])
            start_pieces.append(starts[i0:i1] - a + kept)
            kept += b - a
        offset += len(ids)
    ids = np.concatenate(ids_pieces) if ids_pieces else np.zeros(0, dtype=np.int32)
    starts = np.concatenate(start_pieces + [np.array([kept], dtype=np.int64)]).astype(np.int64)
    return Corpus(np.ascontiguousarray(ids, dtype=np.int32), starts,
                  CorpusStats(f"<partition slice {part + 1}/{parts}>", lines=len(starts) - 1,
                              tokens=kept, kept_tokens=kept))


# ---------------------------------------------------------------- rows, merge
def array_groups(state: TrainingState) -> List[List[np.ndarray]]:
    """The arrays merged together, one group per table of the training state (W_in, W_out,
    W_hs: each group indexed by its table's rows): the table and its Adam moments."""
    return [[table, *((state.moments or {}).get(name, ()))] for name, table in state.tables.items()]


def block_rows(arrays: Sequence[np.ndarray]) -> int:
    return max(1, MERGE_BLOCK_BYTES // (len(arrays) * arrays[0].shape[1] * 4))


def changed_blocks(group: int, new: Sequence[np.ndarray], old: Sequence[np.ndarray]) -> Iterable:
    """((group, block), (touched int32[rows], rows float32[rows, arrays, dim])) for every
    block of rows where a row of any array differs from before; untouched rows are 0."""
    n, dim = new[0].shape
    changed = np.zeros(n, dtype=bool)
    for a, b in zip(new, old):
        changed |= (a != b).any(axis=1)
    size = block_rows(new)
    for block, lo in enumerate(range(0, n, size)):
        hi = min(lo + size, n)
        mask = changed[lo:hi]
        if not mask.any():
            continue
        rows = np.zeros((hi - lo, len(new), dim), dtype=np.float32)
        for j, a in enumerate(new):
            rows[mask, j] = a[lo:hi][mask]
        yield (group, block), (mask.astype(np.int32), rows)


def merge_kinds(group_size: int, moment_merge: str) -> Tuple[str, ...]:
    """How each array of a group combines over partitions: "add" (sums, for "mean" and
    "sum") or "max" (Adam's second moment under moment_merge="max")."""
    kinds = ["add"] * group_size
    if group_size == 3 and moment_merge == "max":
        kinds[2] = "max"
    return tuple(kinds)


def add_blocks(a, b, kinds: Sequence[str] = ()):
    """Combine two partitions' blocks of rows and their touch counts (reduceByKey): rows
    summed, or their elementwise maximum for the arrays whose kind is "max"."""
    np.add(a[0], b[0], out=a[0])
    if "max" not in kinds:
        np.add(a[1], b[1], out=a[1])
        return a
    for j, kind in enumerate(kinds):
        (np.maximum if kind == "max" else np.add)(a[1][:, j], b[1][:, j], out=a[1][:, j])
    return a


def merged_rows(start: np.ndarray, touched: np.ndarray, combined: np.ndarray, rule: str) -> np.ndarray:
    """The merged value of rows touched by `touched` (> 0) partitions, from their values at
    the start of the round and `combined` over those partitions (a sum, or for "max" a
    maximum):

    - "mean": the mean of the partitions' rows (Spark MLlib's rule);
    - "sum": the start row plus the sum of the partitions' changes, as if their updates
      had all been applied to one copy (what Hogwild threads do on one machine);
    - "max": the maximum (Adam's second moment, which is never negative).
    """
    if rule == "mean":
        return combined / touched[:, None].astype(np.float32)
    if rule == "sum":
        return start + (combined - touched[:, None].astype(np.float32) * start)
    if rule == "max":
        return combined
    raise ValueError(f"merge rule {rule!r} is not one of mean, sum, max")


def updates_per_row(config: Config, counts: np.ndarray, words: float, huffman=None,
                    subword_table=None) -> dict:
    """About how many times one task updates each row of each table ({"in": float64[rows],
    ...}) when it trains `words` words of the id stream (before subsampling): from the words' frequencies, the
    subsampling, the mean window (window + 1 context words with shrinking windows) and
    the negative sampler's distribution. Used by the "blend" merge rule. With subwords
    (`subword_table`: (starts, rows) of Word2Vec.subword_table) a word's update moves
    its own row and each of its n-gram rows, so an n-gram row gets the updates of every
    word that holds it (a row held twice by a word, twice); "in" then has one entry per
    row up to the largest row the table names."""
    from w2v.data.sampling import keep_probabilities
    counts = np.asarray(counts, dtype=np.float64)
    kept = counts * keep_probabilities(counts, config.sample)
    occurrences = kept / counts.sum() * words                  # kept by subsampling
    context = (config.window + 1) if config.shrink_windows else 2 * config.window
    positives = occurrences * (context if config.sg else 1)     # times a word is a target
    rows = {"in": occurrences * context}
    if subword_table is not None:
        starts, input_rows = subword_table
        rows["in"] = np.bincount(input_rows, weights=np.repeat(rows["in"], np.diff(starts)),
                                 minlength=len(counts))
    if config.negative:
        q = counts ** config.ns_exponent
        rows["out"] = positives + positives.sum() * config.negative * q / q.sum()
    if config.hs:
        starts, _, points = huffman
        lengths = np.diff(starts)
        rows["hs"] = np.bincount(points, weights=np.repeat(positives, lengths),
                                 minlength=len(counts) - 1)
    return rows


def blend_rows(start: np.ndarray, touched: np.ndarray, sums: np.ndarray,
               updates: np.ndarray, half: float) -> np.ndarray:
    """"blend": start + the sum of the partitions' changes / (1 + (k - 1) s), with k the
    partitions that touched the row and s = u / (u + half) from u, the updates a task
    makes to the row in a round: a row each task updates rarely moves by the sum of the
    changes (they add up, as on one machine), one each task updates often by their mean
    (each task already took it where the data pulls it; adding the changes overshoots)."""
    k = touched[:, None].astype(np.float32)
    share = (updates / (updates + half)).astype(np.float32)[:, None]
    return start + (sums - k * start) / (1 + (k - 1) * share)


def array_rules(group_size: int, merge: str, moment_merge: str) -> Tuple[str, ...]:
    """The rule of each array of a group: the table's, then Adam's m and v. "own" merges
    by blend: an output row then has one writer, and blend of one row is that row."""
    if merge == "own":
        merge = "blend"
    if group_size == 1:
        return (merge,)
    if moment_merge == "max":
        return (merge, "mean", "max")
    return (merge, moment_merge, moment_merge)


def merge_block(arrays: Sequence[np.ndarray], block: int, touched: np.ndarray,
                combined: np.ndarray, merge: str = "mean", moment_merge: str = "mean",
                updates: Optional[np.ndarray] = None, half: float = 0.0) -> int:
    """Set every touched row of `arrays` (a group: a table and its Adam moments, still
    as broadcast) to its merged value (`merged_rows`; "blend": `blend_rows` with the
    table's `updates` per row). Returns how many rows changed."""
    lo = block * block_rows(arrays)
    mask = touched > 0
    rows = np.flatnonzero(mask) + lo
    counts = touched[mask]
    for j, (a, rule) in enumerate(zip(arrays, array_rules(len(arrays), merge, moment_merge))):
        if rule == "blend":
            a[rows] = blend_rows(a[rows], counts, combined[mask, j], updates[rows], half)
        else:
            a[rows] = merged_rows(a[rows], counts, combined[mask, j], rule)
    return len(rows)


def merge_reference(start: Sequence[np.ndarray], partitions: Sequence[Sequence[np.ndarray]],
                    merge: str = "mean", moment_merge: str = "mean") -> List[np.ndarray]:
    """The merge of whole groups, the plain way (for tests): `start` is a group as
    broadcast, `partitions` the group as each partition left it. A row is touched by a
    partition where any of its arrays differs from the start."""
    rules = array_rules(len(start), merge, moment_merge)
    touched = np.stack([np.any([(a != b).any(axis=1) for a, b in zip(p, start)], axis=0)
                        for p in partitions])                      # [partitions, rows]
    out = []
    for j, rule in enumerate(rules):
        result = start[j].copy()
        for row in np.flatnonzero(touched.any(axis=0)):
            who = np.flatnonzero(touched[:, row])
            values = np.stack([partitions[p][j][row] for p in who]).astype(np.float64)
            if rule == "mean":
                result[row] = values.mean(axis=0)
            elif rule == "sum":
                result[row] = start[j][row] + (values - start[j][row]).sum(axis=0)
            else:
                result[row] = values.max(axis=0)
        out.append(result)
    return out


# -------------------------------------------------------------- one partition, one round
def reachable_in_rows(model: Word2Vec) -> Optional[np.ndarray]:
    """A subword model's W_in rows that training can reach, sorted: the words' rows and
    their n-grams' rows (None without subwords). Only these travel to the tasks and back:
    the rest of the bucket keeps its initial values (on text8like 362,000 of 2,068,000
    rows, so a round broadcasts 5.7 times fewer bytes than the whole W_in)."""
    if not model.config.subwords:
        return None
    return reachable_rows(model.subword_table())


def renumbered_table(table: Tuple[np.ndarray, np.ndarray],
                     reachable: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The subword table (starts, rows) with each row replaced by its position in
    `reachable`: the input rows of a W_in cut to those rows."""
    starts, rows = table
    return starts, np.searchsorted(reachable, rows).astype(np.int32)


def task_setup(model: Word2Vec) -> dict:
    """What every task reads, broadcast once a run: the config, the vocabulary and, with
    subwords, the subword table renumbered into the reachable rows (`reachable_in_rows`)."""
    value = {"config": model.config.to_dict(), "words": model.vocab.index_to_key,
             "counts": model.vocab.counts}
    reachable = reachable_in_rows(model)
    if reachable is not None:
        value["input_rows"] = renumbered_table(model.subword_table(), reachable)
    return value


def _setup_of(setup):
    value = setup.value
    return (Config.from_dict(value["config"]), Vocab(value["words"], value["counts"]),
            value.get("input_rows"))


def task_batch_words(config: Config, partitions: int) -> int:
    """The windows an Adam step of one task averages: batch_words / partitions (at least
    1) with spark_split_batch, else batch_words (and batch_words for SGD, which has no
    minibatch). With P tasks from the same state a row touched by all of them moves by
    about the mean of their moves (blend, mean), so a task must make as many steps as
    one machine would to move it as far; P tasks of batch_words / P windows together
    still average batch_words windows a step."""
    if not config.spark_split_batch or config.optimizer != "adam":
        return config.batch_words
    return max(1, round(config.batch_words / partitions))


def round_seed(seed: int, run: int, round_index: int, partition: int,
               sub_round: Optional[int] = None) -> int:
    """The seed of one partition in one round (and sub-round, with spark_merge="own"):
    distinct, reproducible, in [0, 2**63)."""
    key = [seed, run, round_index, partition] + ([] if sub_round is None else [sub_round])
    state = np.random.SeedSequence(key).generate_state(2, np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def owned_words(vocab_size: int, partition: int, sub_round: int, partitions: int) -> np.ndarray:
    """Row ownership (spark_merge="own"): the words whose output rows `partition` owns in
    `sub_round`: ids congruent to partition + sub_round modulo `partitions` (ids go by
    frequency, so every block holds as many frequent words as rare ones). Over
    `partitions` sub-rounds every partition owns every word once, and in each sub-round
    every word has one owner."""
    return np.arange(vocab_size) % partitions == (partition + sub_round) % partitions


def _train_round(index: int, blocks: Iterable, *, setup, state, sizes: Sequence[int],
                 round_index: int, part: int, parts: int, lr_range: Tuple[float, float],
                 step0: int, run: int, sub_round: Optional[int] = None) -> Iterable:
    """One partition's task in one round (Spark's, and the in-process simulator's): train
    its slice from the broadcast state; ((group, block), (touched, rows)) for every block
    of rows it changed, then ((_STATS, index), (words, windows, loss sum, Adam steps)).
    sub_round (spark_merge="own"): train only the target words the partition owns in it
    (`owned_words`), negatives drawn among them."""
    corpus = round_slice(blocks, sizes[index], part, parts)
    words = windows = steps = sent = 0
    loss = 0.0
    trainable = corpus.n_words > 1 and np.diff(corpus.sentence_starts).max() >= 2
    if trainable:
        config, vocab, input_rows = _setup_of(setup)
        seed = round_seed(config.seed, run, round_index, index, sub_round)
        owned = None if sub_round is None else owned_words(len(vocab), index, sub_round, len(sizes))
        # No rollback copy here: on divergence the partition sends no rows and the
        # driver keeps the broadcast state, which is the good one.
        model = Word2Vec(config=config.replace(seed=seed, workers=1, rollback_on_divergence=False,
                                               batch_words=task_batch_words(config, len(sizes))))
        model.vocab = vocab
        arrays = state.value
        in_rows = None if input_rows is None else len(arrays["W_in"])   # W_in cut to its reachable rows
        model.state = TrainingState.from_file_arrays(
            {name: array.copy() for name, array in arrays.items()}, config, len(vocab), step0,
            in_rows=in_rows)
        try:
            Trainer(model, corpus, epochs=1, progress=False, lr_range=lr_range,
                    input_rows=input_rows, owned_targets=owned).train()
            diverged = False
        except TrainingDiverged:
            diverged = True
        epochs = model.last_report.epochs if model.last_report is not None else []
        if epochs:
            words, windows = epochs[0].words, epochs[0].windows
            loss = epochs[0].loss * epochs[0].windows
        steps = model.state.adam_step - step0
        if diverged:
            loss = math.nan
        if not diverged:
            new = array_groups(model.state)
            old = array_groups(TrainingState.from_file_arrays(arrays, config, len(vocab),
                                                              in_rows=in_rows))
            for group, (new_arrays, old_arrays) in enumerate(zip(new, old)):
                for key, value in changed_blocks(group, new_arrays, old_arrays):
                    sent += value[0].nbytes + value[1].nbytes
                    yield key, value
    yield (_STATS, index), (words, windows, loss, steps, sent)


def _combine_all(pairs: Iterable, combine, merged: dict) -> dict:
    for key, value in pairs:
        merged[key] = combine(merged[key], value) if key in merged else value
    return merged


class _Shared:
    """A value every partition reads, in this process (what a Spark broadcast is)."""

    def __init__(self, value):
        self.value = value

    def destroy(self) -> None:
        self.value = None


class _SparkRounds:
    """Runs a round's tasks on Spark: each partition of the persisted id stream is one
    task, blocks are combined by reduceByKey and streamed to the driver."""

    def __init__(self, encoded):
        self.encoded = encoded
        self.sc = encoded.context

    def share(self, value):
        return self.sc.broadcast(value)

    def run(self, task, combine, partitions: int) -> Iterable:
        merged = self.encoded.mapPartitionsWithIndex(task).reduceByKey(combine,
                                                                       numPartitions=partitions)
        return merged.toLocalIterator(prefetchPartitions=True)


class _LocalRounds:
    """Runs a round's tasks one after the other in this process, on the same partitions
    Spark would have: the in-process simulator of `train_in_process`."""

    def __init__(self, partitions: Sequence[list]):
        self.partitions = partitions

    def share(self, value):
        return _Shared(value)

    def run(self, task, combine, partitions: int) -> Iterable:
        merged: dict = {}
        for index, blocks in enumerate(self.partitions):
            _combine_all(task(index, iter(blocks)), combine, merged)
        return merged.items()


def _partitions_of(corpus: Corpus, parts: int) -> List[list]:
    """The id stream of `corpus` cut into `parts` partitions exactly as `balance` cuts
    Spark's (by word position, at sentence boundaries, in corpus order)."""
    total = corpus.n_words
    pieces = sorted(cut_into_parts(0, iter([(corpus.ids, corpus.sentence_starts)]), [0], total, parts),
                    key=lambda piece: piece[0])
    partitions = [[] for _ in range(parts)]
    for (part, _), value in pieces:
        partitions[part].append(value)
    return partitions


def _check_merge(merge: Optional[str], moment_merge: Optional[str], config: Config) -> Config:
    changes = {name: value for name, value in (("spark_merge", merge),
                                                ("spark_moment_merge", moment_merge))
               if value is not None}
    return config.replace(**changes) if changes else config


def default_rounds(partitions: int, epochs: int = MIN_EPOCHS_OF_ROUNDS) -> int:
    """Rounds an epoch for rounds_per_epoch=None: DEFAULT_ROUNDS (10) up to MANY_PARTITIONS
    (8) partitions, MANY_PARTITIONS_ROUNDS (20) beyond, and for runs of fewer than
    MIN_EPOCHS_OF_ROUNDS (5) epochs as many more as keep the run's rounds at 5 epochs'
    (1 epoch at 8 partitions: 50 rounds). In a round the P copies train apart from the
    same state and the merge keeps only part of their moves: with more partitions, or
    fewer rounds in a run, less of the training survives (docs/benchmarks.md, "On Spark:
    many partitions"). A round costs a broadcast of the model and a shuffle of about P
    models' worth of rows."""
    per_epoch = DEFAULT_ROUNDS if partitions <= MANY_PARTITIONS else MANY_PARTITIONS_ROUNDS
    return max(per_epoch, -(-per_epoch * MIN_EPOCHS_OF_ROUNDS // max(epochs, 1)))


def quality_warning(config: Config, partitions: int, rounds_per_epoch: int,
                    epochs: int = MIN_EPOCHS_OF_ROUNDS) -> Optional[str]:
    """Why this configuration is known to train worse vectors than one machine, or None
    (measured with `train_in_process`: docs/benchmarks.md, "On Spark: many partitions")."""
    if partitions < 4:
        return None
    momentum = block_momentum(config, partitions)
    rounds = default_rounds(partitions, epochs)
    if (config.optimizer == "sgd" and config.spark_merge == "blend" and momentum > 0
            and rounds_per_epoch >= rounds):
        return None          # the recipe measured to keep SGD's quality (README)
    if config.optimizer == "adam":
        recipe = (config.spark_merge == "blend" and config.spark_split_batch and momentum == 0
                  and rounds_per_epoch >= rounds)
        if config.spark_merge == "own":
            known = ("row ownership was no better than blend at 32 partitions (27.0% and 27.6% "
                     "analogy with 64 sub-rounds an epoch against blend's 28.0% and 28.7% with "
                     "40 rounds and one machine's 29.9% and 30.3%); blend is the default")
        elif recipe and partitions <= ADAM_KEPT_PARTITIONS:
            return None      # measured at 8 partitions: 97% analogy, 100% WS353 (README)
        elif recipe:
            known = ("Adam keeps most of its quality to 8 partitions and less beyond (32 "
                     "partitions, 20 rounds an epoch: 86% of one machine's analogy accuracy, "
                     "100% of its WS353; 16 partitions: 93% and 99%); use optimizer='sgd' "
                     "(blend with block momentum, 20 rounds an epoch: 98% of one machine's "
                     "analogy accuracy and WS353 at 32 partitions)")
        else:
            known = ("Adam needs spark_merge='blend', spark_split_batch=True, no block momentum "
                     f"and {rounds} rounds an epoch at {partitions} partitions and {epochs} "
                     "epoch(s) (8 partitions: 10.1% analogy with them, 5.1% with whole "
                     "minibatches a task, against 10.8% on one machine)")
    else:
        known = {"mean": "a row touched by k partitions moves about 1/k as far as on one machine "
                         "(32 partitions: 0.8% analogy against 13.3% on one machine)",
                 "sum": "the partitions' changes to frequent rows add up and overshoot (32 "
                        "partitions: training exploded)",
                 "blend": f"blend needs block momentum and {rounds} rounds an epoch at "
                          f"{partitions} partitions and {epochs} epoch(s) (8 partitions, 1 "
                          f"epoch: 2.3% analogy with 10 rounds, 10.4% with 50, against 12.7% "
                          f"on one machine; 32 partitions, 5 epochs, text8like: 91% of one "
                          f"machine's analogy accuracy with 10 rounds, 98% with 20, 3.4% "
                          f"analogy without momentum on 4 M words against 13.1%)",
                 "own": "row ownership without block momentum (32 partitions, 4 M words: "
                        "10.5% analogy with 32 sub-rounds an epoch, against 12.9% with blend, "
                        "block momentum and 10 rounds, and 13.1% on one machine)"}[config.spark_merge]
        known += ("; the defaults (spark_merge='blend', spark_block_momentum=None, "
                  "rounds_per_epoch=None) keep most of it")
    return (f"{partitions} partitions with optimizer={config.optimizer!r}, "
            f"spark_merge={config.spark_merge!r}, block momentum {momentum:.2f}, "
            f"{rounds_per_epoch} round(s) an epoch: quality is known to fall below one "
            f"machine's: {known}; or use fewer partitions, and check the vectors")


def train_in_process(data, *, model: Optional[Word2Vec] = None, epochs: Optional[int] = None,
                     rounds_per_epoch: Optional[int] = None, num_partitions: int = 2,
                     merge: Optional[str] = None, moment_merge: Optional[str] = None,
                     progress: bool = False, callbacks: Sequence[Callable] = (),
                     config: Optional[Config] = None, **params) -> Word2Vec:
    """What `train` computes with `num_partitions` partitions, without Spark: the same
    partitions, seeds, tasks and merge, the tasks run one after the other in this
    process (one core). For measuring how quality depends on partitions and merge rules
    on one machine; `data` is what `Word2Vec.build_vocab` takes (a path, sentences).
    With the same seed and partitions it returns the model Spark would."""
    from tqdm.auto import tqdm

    if model is not None:
        raise TypeError("train_in_process starts a fresh model")
    if config is None:
        config = Config(**params)
    elif params:
        config = config.replace(**params)
    config = _check_merge(merge, moment_merge, config)
    epochs = config.epochs if epochs is None else epochs
    _check_counts(epochs, rounds_per_epoch, num_partitions)
    corpus, vocab = build_corpus(data, config)
    model = Word2Vec(config=config)
    model.vocab = vocab
    model._init_weights()
    partitions = _partitions_of(corpus, num_partitions)
    sizes = [sum(len(ids) for ids, _ in blocks) for blocks in partitions]
    setup = _Shared(task_setup(model))
    _run_rounds(model, _LocalRounds(partitions), setup, sizes, corpus.stats, epochs,
                rounds_per_epoch, list(callbacks), progress, tqdm)
    return model


def _check_counts(epochs, rounds_per_epoch, num_partitions) -> None:
    for name, value, allowed in (("epochs", epochs, ">= 1"),
                                 ("rounds_per_epoch", rounds_per_epoch, ">= 1 (or None: by the partitions)"),
                                 ("num_partitions", num_partitions, ">= 1 (or None: the cluster's cores)")):
        if value is None and name != "epochs":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} is out of range: must be an integer {allowed}")


# --------------------------------------------------------------------------- driver
def train(data, spark=None, *, column: Optional[str] = None, model: Optional[Word2Vec] = None,
          epochs: Optional[int] = None, rounds_per_epoch: Optional[int] = None,
          num_partitions: Optional[int] = None, merge: Optional[str] = None,
          moment_merge: Optional[str] = None, progress: bool = True,
          callbacks: Sequence[Callable] = (), config: Optional[Config] = None,
          **params) -> Word2Vec:
    """Train on Spark and return a `w2v.Word2Vec` (save, query, export as usual): every
    model of Word2Vec (sg, hs, cbow_mean, ...) with the same hyperparameters.

    data: an RDD of token lists, a DataFrame (`column`: text or array<string>), or a
      path / list of paths of text files (one sentence a line) read with `spark`.
    model: continue training this model (its vocabulary and config); otherwise the
      vocabulary is counted with Spark and a model made from `config` / `**params`
      (the same hyperparameters as Word2Vec; `workers` is ignored: one thread a task).
    epochs: passes over the data (default: config.epochs).
    rounds_per_epoch: synchronisations per epoch (default None: `default_rounds`, 10
      up to 8 partitions, 20 beyond, more for runs of under 5 epochs so that a run has
      5 epochs' worth of rounds); each round every partition trains
      1/rounds_per_epoch of its data, then rows are merged. More rounds keep more
      quality at many partitions and cost a broadcast each.
    num_partitions: train with this many partitions, each one task a round (default:
      the cluster's default parallelism, its cores). The id stream is cut into that many
      parts of equal size, whatever the partitions of the input.
    merge, moment_merge: how rows touched by several partitions are merged after a
      round (default: config.spark_merge, config.spark_moment_merge; see `merged_rows`).
    callbacks: f(model, epoch_stats) after each epoch.

    After training, model.round_costs lists each round's seconds, bytes broadcast, bytes
    the partitions sent and the driver received, and the driver's merge time.
    """
    pyspark = _pyspark()
    from tqdm.auto import tqdm

    if model is not None:
        if config is not None or params:
            raise TypeError("train(model=...) continues with the model's own config: give "
                            "hyperparameters when making the model")
        if model.vocab is None:
            raise ValueError("the model has no vocabulary: build it first, or pass no model")
        config = model.config
    elif config is None:
        config = Config(**params)
    elif params:
        config = config.replace(**params)
    if config.corpus_cache is not None:
        raise ValueError("corpus_cache is a single-machine setting: on Spark the id stream is "
                         "persisted by Spark (memory, then disk); leave corpus_cache unset")
    if model is not None and (merge is not None or moment_merge is not None):
        model.config = config = _check_merge(merge, moment_merge, config)
    else:
        config = _check_merge(merge, moment_merge, config)
    epochs = config.epochs if epochs is None else epochs
    _check_counts(epochs, rounds_per_epoch, num_partitions)
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callback {cb!r} is not callable (expected f(model, epoch_stats))")

    sentences = sentences_rdd(data, spark, column=column, config=config)
    if isinstance(data, pyspark.RDD):
        _check_first(sentences)
    sc = sentences.context
    started = time.perf_counter()

    # vocabulary, model
    continued = model is not None
    if not continued:
        vocab, stats = count_vocab(sentences, config)
        model = Word2Vec(config=config)
        model.vocab = vocab
        model._init_weights()
    else:
        vocab = model.vocab
        stats = CorpusStats("<spark sentences>")
    logger.info("vocabulary: %d words (%.1f s)", len(vocab), time.perf_counter() - started)

    # id stream, persisted
    setup = sc.broadcast(task_setup(model))
    encoded = sentences.mapPartitions(partial(_encode_partition, setup=setup))
    encoded = encoded.persist(pyspark.StorageLevel.MEMORY_AND_DISK)
    balanced = None
    try:
        sizes = sorted(encoded.mapPartitionsWithIndex(_partition_size).collect())
        n_words = sum(s[1] for s in sizes)
        stats.lines_split = sum(s[3] for s in sizes)
        stats.extra_pieces = sum(s[4] for s in sizes)
        if continued:                      # no counting pass: the id stream is all we know
            stats.kept_tokens = n_words
        elif n_words != stats.kept_tokens:
            raise CorpusError(f"the data changed between the counting pass and the id pass "
                              f"({stats.kept_tokens:,} then {n_words:,} vocabulary words): make "
                              f"the RDD deterministic, or cache it")
        if n_words == 0:
            raise CorpusError("no vocabulary words in the data to train on")
        if max(s[5] for s in sizes) < 2:
            raise ValueError("no sentence has two or more vocabulary words, so there is no "
                             "context window to train on")
        parts = num_partitions or sc.defaultParallelism
        balanced = balance(encoded, [s[1] for s in sizes], parts)
        balanced = balanced.persist(pyspark.StorageLevel.MEMORY_AND_DISK)
        sizes = sorted(balanced.mapPartitionsWithIndex(_partition_size).collect())
        encoded.unpersist()
        words_per_partition = [s[1] for s in sizes]
        if stats.lines_split:
            logger.warning("%d lines longer than max_sentence_length=%d words were split into %d "
                           "pieces (nothing dropped)", stats.lines_split, config.max_sentence_length,
                           stats.lines_split + stats.extra_pieces)
        logger.info("id stream: %d words in %d partitions (%.1f s since start)", n_words,
                    len(sizes), time.perf_counter() - started)
        _run_rounds(model, _SparkRounds(balanced), setup, words_per_partition, stats, epochs,
                    rounds_per_epoch, callbacks, progress, tqdm)
    finally:
        encoded.unpersist()
        if balanced is not None:
            balanced.unpersist()
        setup.destroy()
    return model


def block_momentum(config: Config, partitions: int) -> float:
    """The block momentum a run with `partitions` partitions uses (BlockMomentum)."""
    if config.spark_block_momentum is not None:
        return float(config.spark_block_momentum)
    if config.optimizer != "sgd" or config.spark_merge != "blend":
        return 0.0
    return AUTO_MOMENTUM * (1.0 - 1.0 / partitions)


class BlockMomentum:
    """Block momentum (BMUF: Chen & Huo 2016, blockwise model-update filtering) over the
    rounds: with W the parameters before a round and G the change the merge made to them,
    the round ends at W + D, D = momentum x D_previous + G. The merge of P partitions
    moves a row about 1/P as far as one machine would (the mean); momentum near
    1 - 1/P carries on a direction the rounds agree on for about P rounds, so a steady
    direction gets P times the merged step while the rounds' noise averages out.
    Parameters only (Adam's moments keep their merged values); the driver keeps a copy of
    the parameters and the running D (two more of each table). momentum=0: nothing."""

    def __init__(self, state: TrainingState, momentum: float):
        self.state, self.momentum = state, float(momentum)
        self.start: Dict[str, np.ndarray] = {}
        self.moves: Dict[str, np.ndarray] = {}

    def before_round(self) -> None:
        if self.momentum:
            self.start = {name: np.array(t) for name, t in self.state.tables.items()}

    def after_round(self) -> None:
        if not self.momentum:
            return
        for name, table in self.state.tables.items():
            start = self.start[name]
            move = self.moves.get(name)
            change = table - start
            if move is None:
                move = self.moves[name] = change
            else:
                move *= self.momentum
                move += change
            np.add(start, move, out=table)
        self.start = {}


def _run_rounds(model: Word2Vec, executor, setup, sizes: List[int], stats: CorpusStats,
                epochs: int, rounds: Optional[int], callbacks, progress: bool, tqdm) -> None:
    config = model.config
    if rounds is None:
        rounds = default_rounds(len(sizes), epochs)
    warning = quality_warning(config, len(sizes), rounds, epochs)
    if warning:
        logger.warning(warning)
    if config.optimizer == "adam":
        lr_start, lr_end = config.lr, config.min_lr
    else:
        lr_start, lr_end = config.alpha, config.min_alpha
    total_rounds = epochs * rounds
    # spark_merge="own": each round in P sub-rounds; in each a partition trains its slice
    # for the target words it owns (owned_words), so every output row has one writer
    own = config.spark_merge == "own"               # Config.validate: negative sampling only
    subs = len(sizes) if own else 1
    run = model.train_runs
    # The rounds train `state`: the model's, or with subwords a copy whose W_in holds only
    # the reachable rows (what is broadcast), written back at each epoch's end.
    reachable = reachable_in_rows(model)
    state = model.state if reachable is None else model.state.gather_in_rows(reachable)
    groups = array_groups(state)
    updates, half = [None] * len(groups), 0.0
    if config.spark_merge in ("blend", "own"):
        per_task = updates_per_row(config, model.vocab.counts, sum(sizes) / len(sizes) / rounds / subs,
                                   model.huffman_tree() if config.hs else None,
                                   None if reachable is None else
                                   renumbered_table(model.subword_table(), reachable))
        updates = [per_task[name] for name in model.state.tables]
        half = BLEND_HALF
    kinds = merge_kinds(len(groups[0]), config.spark_moment_merge)
    combine = partial(add_blocks, kinds=kinds) if "max" in kinds else add_blocks
    report = TrainingReport(workers=len(sizes))
    model.round_costs = []
    momentum = BlockMomentum(state, block_momentum(config, len(sizes)))
    logger.info("%d partitions, %d rounds an epoch, merge %r, block momentum %.3f", len(sizes),
                rounds, config.spark_merge, momentum.momentum)
    bar = tqdm(total=total_rounds * subs, unit="round", disable=not progress, dynamic_ncols=True)
    try:
        for epoch in range(epochs):
            tally = {"words": 0, "windows": 0, "loss": 0.0}
            epoch_started = time.perf_counter()
            lr1 = lr_start
            for part, sub in [(p, s) for p in range(rounds) for s in range(subs)]:
                round_index = epoch * rounds + part
                lr0 = linear_schedule(lr_start, lr_end, (round_index + sub / subs) / total_rounds)
                lr1 = linear_schedule(lr_start, lr_end, (round_index + (sub + 1) / subs) / total_rounds)
                round_started = time.perf_counter()
                momentum.before_round()
                arrays = state.file_arrays()
                shared = executor.share(arrays)
                broadcast_s = time.perf_counter() - round_started
                cost = {"broadcast_bytes": sum(a.nbytes for a in arrays.values()),
                        "returned_bytes": 0, "sent_bytes": 0, "merge_s": 0.0, "rows_merged": 0}
                try:
                    task = partial(_train_round, setup=setup, state=shared, sizes=sizes,
                                   round_index=round_index, part=part, parts=rounds,
                                   lr_range=(lr0, lr1), step0=state.adam_step, run=run,
                                   sub_round=sub if own else None)
                    steps = 0
                    for key, value in executor.run(task, combine, len(sizes)):
                        if key[0] == _STATS:
                            tally["words"] += value[0]
                            tally["windows"] += value[1]
                            tally["loss"] += value[2]
                            steps = max(steps, value[3])
                            cost["sent_bytes"] += value[4]
                        else:
                            merge_started = time.perf_counter()
                            cost["rows_merged"] += merge_block(
                                groups[key[0]], key[1], *value, merge=config.spark_merge,
                                moment_merge=config.spark_moment_merge, updates=updates[key[0]],
                                half=half)
                            cost["merge_s"] += time.perf_counter() - merge_started
                            cost["returned_bytes"] += value[0].nbytes + value[1].nbytes
                finally:
                    shared.destroy()
                momentum.after_round()
                state.adam_step += steps
                cost["seconds"] = time.perf_counter() - round_started
                model.round_costs.append(cost)
                logger.info("round %d/%d: %.1f s (broadcast %.1f s, merge %.1f s, %d rows)",
                            round_index + 1, total_rounds, cost["seconds"], broadcast_s,
                            cost["merge_s"], cost["rows_merged"])
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{tally['loss'] / max(tally['windows'], 1):.4f}",
                                lr=f"{lr1:.2e}", refresh=False)
                if not math.isfinite(tally["loss"]):
                    raise TrainingDiverged(
                        f"training diverged in round {round_index + 1} (epoch {len(model.history) + 1}): "
                        f"the loss is {tally['loss']}; lower the learning rate "
                        f"({'lr' if config.optimizer == 'adam' else 'alpha'}={lr_start}), use fewer "
                        f"partitions (each task then trains more words a round), or "
                        f"spark_merge='mean' with spark_block_momentum=0 (it cannot diverge, "
                        f"but learns slowly with many partitions)")
            epoch_stats = EpochStats(
                epoch=len(model.history) + 1,
                loss=tally["loss"] / tally["windows"] if tally["windows"] else float("nan"),
                words=tally["words"], windows=tally["windows"],
                seconds=time.perf_counter() - epoch_started, lr=lr1)
            report.epochs.append(epoch_stats)
            report.words += epoch_stats.words
            report.windows += epoch_stats.windows
            report.seconds += epoch_stats.seconds
            report.raw_words += stats.tokens or stats.kept_tokens
            model.history.append(asdict(epoch_stats))
            if reachable is not None:
                model.state.scatter_in_rows(state, reachable)
                model.vectors_changed()
            logger.info("epoch %d: loss %.4f, %d words, %.1f s", epoch_stats.epoch, epoch_stats.loss,
                        epoch_stats.words, epoch_stats.seconds)
            for callback in callbacks:
                callback(model, epoch_stats)
    finally:
        bar.close()
        if reachable is not None:
            model.state.scatter_in_rows(state, reachable)
        model.train_runs += 1
        model.last_report = report
        model.vectors_changed()
