"""w2v.spark: the pieces alone (no Spark needed), then real training on a local[2] cluster.

The cluster tests need pyspark (`pip install ".[spark]"`) and Java 17+; without them they
are skipped, saying which is missing. W2V_REQUIRE_SPARK=1 (set by .ci/run when it could
install both) turns those skips into failures.
"""
import os
import re
import shutil
import subprocess
import sys
from functools import partial

import numpy as np
import pytest

from w2v import Config, CorpusError, Word2Vec, build_corpus
from w2v.evaluation import evaluate_analogies
from w2v.training.state import TrainingState
from w2v.training.trainer import Trainer
from w2v.spark import (AUTO_MOMENTUM, BlockMomentum, add_blocks, array_groups, blend_rows,
                       block_momentum, changed_blocks, cut_into_parts, default_rounds,
                       merge_block, merge_kinds, merge_reference, merged_rows, owned_words,
                       quality_warning,
                       reachable_in_rows, renumbered_table, round_seed, round_slice,
                       train_in_process, updates_per_row)

REQUIRED = os.environ.get("W2V_REQUIRE_SPARK", "0") not in ("", "0")


# ------------------------------------------------------------- pieces, without Spark
def make_blocks(rng, n_blocks=4):
    blocks = []
    for _ in range(n_blocks):
        lengths = rng.integers(1, 30, size=rng.integers(0, 40))
        starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        blocks.append((rng.integers(0, 100, size=starts[-1]).astype(np.int32), starts, 0, 0))
    return blocks


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 500])
def test_round_slices_cover_every_sentence_once_in_order(parts):
    rng = np.random.default_rng(parts)
    blocks = make_blocks(rng)
    sentences = [ids[s[i]:s[i + 1]].tolist() for ids, s, _, _ in blocks for i in range(len(s) - 1)]
    words = sum(len(b[0]) for b in blocks)
    seen = []
    for part in range(parts):
        corpus = round_slice(iter(blocks), words, part, parts)
        assert corpus.sentence_starts[0] == 0 and corpus.sentence_starts[-1] == corpus.n_words
        assert corpus.ids.dtype == np.int32 and corpus.sentence_starts.dtype == np.int64
        s = corpus.sentence_starts
        seen += [corpus.ids[s[i]:s[i + 1]].tolist() for i in range(corpus.n_sentences)]
    assert seen == sentences


@pytest.mark.parametrize("parts", [1, 2, 3, 8])
def test_partitions_are_cut_into_equal_parts_in_corpus_order(parts):
    rng = np.random.default_rng(parts)
    inputs = [make_blocks(rng, n_blocks=int(rng.integers(0, 4))) for _ in range(5)]   # skewed
    sizes = [sum(len(b[0]) for b in blocks) for blocks in inputs]
    offsets = np.concatenate(([0], np.cumsum(sizes))).tolist()
    pieces = [piece for index, blocks in enumerate(inputs)
              for piece in cut_into_parts(index, iter(blocks), offsets, offsets[-1], parts)]
    pieces.sort(key=lambda piece: piece[0])                 # what Spark's shuffle does
    def sentences(blocks):
        return [ids[s[i]:s[i + 1]].tolist() for ids, s, *_ in blocks for i in range(len(s) - 1)]
    assert sentences([v for _, v in pieces]) == sentences([b for bl in inputs for b in bl])
    longest = max(max(np.diff(b[1]), default=0) for bl in inputs for b in bl)
    for part in range(parts):
        words = sum(len(v[0]) for k, v in pieces if k[0] == part)
        assert abs(words - offsets[-1] / parts) <= longest


def test_merge_rules_on_a_few_rows():
    start = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    touched = np.array([2, 1])
    # partition rows: row 0 -> [2, 2] and [4, 3]; row 1 -> [5, 4]
    sums = np.array([[6.0, 5.0], [5.0, 4.0]], dtype=np.float32)
    np.testing.assert_allclose(merged_rows(start, touched, sums, "mean"), [[3, 2.5], [5, 4]])
    # start + the changes: row 0 + (1, 0) + (3, 1); row 1 + (2, 0)
    np.testing.assert_allclose(merged_rows(start, touched, sums, "sum"), [[5, 3], [5, 4]])
    maxima = np.array([[4.0, 3.0], [5.0, 4.0]], dtype=np.float32)
    np.testing.assert_array_equal(merged_rows(start, touched, maxima, "max"), maxima)
    with pytest.raises(ValueError, match="'median' is not one of"):
        merged_rows(start, touched, sums, "median")


@pytest.mark.parametrize("merge, moment_merge", [("mean", "mean"), ("sum", "mean"),
                                                 ("sum", "sum"), ("sum", "max"), ("mean", "max")])
def test_blocks_merged_on_the_driver_equal_the_plain_merge(merge, moment_merge):
    """changed_blocks (partitions) -> add_blocks (Spark's reduce) -> merge_block (driver)
    computes merge_reference's rows for every rule."""
    rng = np.random.default_rng(0)
    n, dim = 5000, 8                         # several blocks of rows
    start = rng.standard_normal((n, dim)).astype(np.float32)
    moments = {name: (rng.standard_normal((n, dim)).astype(np.float32),
                      rng.random((n, dim), dtype=np.float32)) for name in ("in", "out")}
    old = array_groups(TrainingState({"in": start, "out": start * 2}, moments))
    partitions = []
    for p in range(3):
        rows = rng.choice(n, size=1500, replace=False)
        new = [[a.copy() for a in group] for group in old]
        for group in new:
            group[0][rows] += rng.standard_normal((len(rows), dim)).astype(np.float32)
            group[1][rows] += p + 1
            group[2][rows] = rng.random((len(rows), dim), dtype=np.float32)    # v >= 0
        partitions.append(new)
    combine = partial(add_blocks, kinds=merge_kinds(3, moment_merge))
    merged = {}
    for new in partitions:
        for group in (0, 1):
            for key, value in changed_blocks(group, new[group], old[group]):
                merged[key] = combine(merged[key], value) if key in merged else value
    result = [[a.copy() for a in group] for group in old]
    for (group, block), (counts, sums) in merged.items():
        merge_block(result[group], block, counts, sums, merge, moment_merge)
    for group in (0, 1):
        expected = merge_reference(old[group], [p[group] for p in partitions], merge, moment_merge)
        for got, want in zip(result[group], expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_blend_moves_rare_rows_by_the_sum_and_frequent_rows_by_the_mean():
    start = np.zeros((3, 2), dtype=np.float32)
    touched = np.array([4, 4, 1])
    sums = np.full((3, 2), 8.0, dtype=np.float32)            # 4 partitions moved each by 2
    updates = np.array([0.0, 1e9, 5.0])
    got = blend_rows(start, touched, sums, updates, half=10.0)
    np.testing.assert_allclose(got[0], merged_rows(start[:1], touched[:1], sums[:1], "sum")[0])
    np.testing.assert_allclose(got[1], merged_rows(start[1:2], touched[1:2], sums[1:2], "mean")[0],
                               rtol=1e-6)
    np.testing.assert_allclose(got[2], sums[2])              # one partition: its row
    # k = 4, s = 5 / 15: the sum divided by 1 + 3 / 3
    np.testing.assert_allclose(blend_rows(start, touched, sums, np.full(3, 5.0), 10.0)[0], 4.0)


@pytest.mark.parametrize("params", [dict(), dict(sg=True), dict(hs=True, negative=0),
                                    dict(sample=0, shrink_windows=False)])
def test_updates_per_row_add_up_to_the_updates_of_a_task(params):
    config = Config(**params)
    counts = np.array([500, 300, 100, 50, 20, 5], dtype=np.int64)
    model = Word2Vec(config=config)
    from w2v.data.vocab import Vocab
    model.vocab = Vocab.from_counts(list("abcdef"), counts, 1, None)
    huffman = model.huffman_tree() if config.hs else None
    words = 1000.0
    rows = updates_per_row(config, counts, words, huffman)
    context = config.window + 1 if config.shrink_windows else 2 * config.window
    from w2v.data.sampling import keep_probabilities
    words *= (counts * keep_probabilities(counts, config.sample)).sum() / counts.sum()
    assert rows["in"].sum() == pytest.approx(words * context)
    targets = words * (context if config.sg else 1)
    if config.negative:
        assert rows["out"].sum() == pytest.approx(targets * (1 + config.negative))
    if config.hs:
        starts = huffman[0]
        expected = (rows["in"] / context * (context if config.sg else 1) * np.diff(starts)).sum()
        assert rows["hs"].sum() == pytest.approx(expected) and len(rows["hs"]) == 5
    assert np.all(np.diff(rows["in"]) <= 0)                  # frequent words: more updates


def test_an_ngram_row_gets_the_updates_of_every_word_that_holds_it():
    config = Config(maxn=3, bucket=7, sample=0)
    counts = np.array([40, 30, 20, 10], dtype=np.int64)
    # word i's own row, then n-gram rows: word 0 and 2 share row 4, word 1 holds row 6 twice
    table = (np.array([0, 2, 5, 7, 8]), np.array([0, 4, 1, 6, 6, 2, 4, 3], dtype=np.int32))
    rows = updates_per_row(config, counts, 100.0, subword_table=table)["in"]
    plain = updates_per_row(config, counts, 100.0)["in"]
    assert len(rows) == 7
    np.testing.assert_allclose(rows[:4], plain)                 # each word's own row
    np.testing.assert_allclose(rows[4], plain[0] + plain[2])
    assert rows[5] == 0                                         # a row no word reaches
    np.testing.assert_allclose(rows[6], 2 * plain[1])


def test_only_the_reachable_rows_of_a_subword_model_travel(toy_corpus):
    model = Word2Vec(toy_corpus, maxn=4, bucket=3000, epochs=1, seed=1, progress=False)
    starts, rows = model.subword_table()
    reachable = reachable_in_rows(model)
    assert reachable[:len(model.vocab)].tolist() == list(range(len(model.vocab)))
    assert len(reachable) < model.W_in.shape[0] and np.all(np.diff(reachable) > 0)
    new_starts, new_rows = renumbered_table((starts, rows), reachable)
    np.testing.assert_array_equal(reachable[new_rows], rows)
    cut = model.state.gather_in_rows(reachable)
    assert cut.tables["out"] is model.state.tables["out"]
    np.testing.assert_array_equal(cut.tables["in"], model.W_in[reachable])
    for m in cut.moments["in"]:
        m += 1.0
    cut.tables["in"][:] = 7.0
    before = model.W_in.copy()
    model.state.scatter_in_rows(cut, reachable)
    assert np.all(model.W_in[reachable] == 7.0)
    others = np.setdiff1d(np.arange(len(before)), reachable)
    np.testing.assert_array_equal(model.W_in[others], before[others])
    assert np.all(model.state.moments["in"][0][reachable] == cut.moments["in"][0])


@pytest.mark.parametrize("params", [dict(), dict(sg=True, optimizer="sgd")])
def test_subword_models_train_in_process_and_answer_unseen_words(toy_corpus, toy_questions, params):
    model = train_in_process(toy_corpus, num_partitions=3, maxn=5, bucket=4000, epochs=3,
                             seed=2, **params)
    initial = Word2Vec(config=model.config)
    initial.vocab = model.vocab
    initial._init_weights()
    reachable = reachable_in_rows(model)
    others = np.setdiff1d(np.arange(model.W_in.shape[0]), reachable)
    np.testing.assert_array_equal(model.W_in[others], initial.W_in[others])   # never trained
    moved = (model.W_in[reachable] != initial.W_in[reachable]).any(axis=1)
    assert moved.mean() > 0.9
    assert model.round_costs[0]["broadcast_bytes"] == len(reachable) * 400 * (
        3 if model.config.optimizer == "adam" else 1) + model.W_out.nbytes * (
        3 if model.config.optimizer == "adam" else 1)
    assert evaluate_analogies(model, toy_questions, restrict_vocab=None)["accuracy"] >= 0.8
    assert "queenly" not in model.vocab
    assert model.wv.most_similar("queenly", topn=1)[0][0] == "queen"


def test_the_simulator_cuts_partitions_as_spark_does(toy_corpus):
    from w2v.spark import _partitions_of
    corpus, _ = build_corpus(toy_corpus, Config())
    for parts in (1, 3, 32):
        partitions = _partitions_of(corpus, parts)
        assert len(partitions) == parts
        ids = np.concatenate([ids for blocks in partitions for ids, _ in blocks])
        np.testing.assert_array_equal(ids, corpus.ids)
        sizes = [sum(len(ids) for ids, _ in blocks) for blocks in partitions]
        assert max(sizes) - min(sizes) <= 2 * int(np.diff(corpus.sentence_starts).max())


def test_many_partitions_get_a_warning_unless_the_measured_recipe_is_used():
    sgd = Config(optimizer="sgd")
    assert (sgd.spark_merge, sgd.spark_block_momentum) == ("blend", None)
    assert [default_rounds(p) for p in (1, 2, 8, 9, 16, 32, 256)] == [10, 10, 10, 20, 20, 20, 20]
    assert [default_rounds(8, e) for e in (1, 2, 3, 5, 10)] == [50, 25, 17, 10, 10]
    assert [default_rounds(32, e) for e in (1, 2, 5, 10)] == [100, 50, 20, 20]
    assert quality_warning(sgd, 32, 20) is None                     # the defaults
    assert quality_warning(sgd, 8, 10) is None
    assert quality_warning(sgd, 8, 50, epochs=1) is None
    assert "50 rounds an epoch at 8 partitions and 1 epoch" in quality_warning(sgd, 8, 10, epochs=1)
    for config, rounds in ((sgd, 1), (sgd, 10), (sgd.replace(spark_block_momentum=0.0), 20),
                           (sgd.replace(spark_merge="mean"), 20), (sgd.replace(spark_merge="sum"), 20),
                           (Config(optimizer="adam"), 20),
                           (Config(optimizer="adam", spark_split_batch=False), 20),
                           (sgd.replace(spark_merge="own"), 1), (Config(spark_merge="own"), 1)):
        assert "quality is known to fall" in quality_warning(config, 32, rounds)
        assert quality_warning(config, 2, rounds) is None
    assert "20 rounds an epoch at 16 partitions" in quality_warning(sgd, 16, 10)
    adam = Config(optimizer="adam")
    assert quality_warning(adam, 8, 10) is None                     # measured to hold at 8
    assert "spark_split_batch" in quality_warning(adam.replace(spark_split_batch=False), 8, 10)
    assert "row ownership" in quality_warning(adam.replace(spark_merge="own"), 32, 1)
    with pytest.raises(ValueError, match="spark_merge='avg' is out of range"):
        Config(spark_merge="avg")
    with pytest.raises(ValueError, match="spark_moment_merge"):
        Config(spark_moment_merge="min")


def test_block_momentum_adds_the_previous_moves_to_each_round():
    rng = np.random.default_rng(4)
    start = {"in": rng.normal(size=(5, 3)).astype(np.float32),
             "out": rng.normal(size=(4, 3)).astype(np.float32)}
    state = TrainingState({k: v.copy() for k, v in start.items()}, None, 0)
    momentum = BlockMomentum(state, 0.75)
    expected = {k: v.astype(np.float64) for k, v in start.items()}
    moves = {k: np.zeros_like(v) for k, v in expected.items()}
    for _ in range(4):
        momentum.before_round()
        changes = {k: rng.normal(size=v.shape) for k, v in start.items()}
        for k, table in state.tables.items():      # what the merge does to the tables
            table += changes[k].astype(np.float32)
        momentum.after_round()
        for k in expected:                          # D = 0.75 D + G; W = W + D
            moves[k] = 0.75 * moves[k] + changes[k]
            expected[k] += moves[k]
            np.testing.assert_allclose(state.tables[k], expected[k], rtol=1e-5, atol=1e-5)
    off = BlockMomentum(state, 0.0)
    before = {k: v.copy() for k, v in state.tables.items()}
    off.before_round()
    state.tables["in"] += 1
    off.after_round()
    np.testing.assert_array_equal(state.tables["in"], before["in"] + 1)


def test_block_momentum_is_chosen_from_the_partitions_for_sgd_with_blend():
    sgd = Config(optimizer="sgd", spark_merge="blend")
    assert block_momentum(sgd, 1) == 0.0                     # one partition: one machine
    assert block_momentum(sgd, 2) == pytest.approx(AUTO_MOMENTUM / 2)
    assert block_momentum(sgd, 32) == pytest.approx(AUTO_MOMENTUM * 31 / 32)
    assert block_momentum(Config(optimizer="adam", spark_merge="blend"), 32) == 0.0
    assert block_momentum(Config(optimizer="sgd", spark_merge="mean"), 32) == 0.0
    assert block_momentum(sgd.replace(spark_block_momentum=0.25), 32) == 0.25
    with pytest.raises(ValueError, match=r"spark_block_momentum=1.0 is out of range"):
        Config(spark_block_momentum=1.0).validate()


def test_adam_tasks_split_the_minibatch_so_a_round_makes_one_machines_steps(toy_corpus):
    from w2v.spark import task_batch_words
    adam = Config(optimizer="adam", batch_words=1000)
    assert [task_batch_words(adam, p) for p in (1, 2, 8, 32, 5000)] == [1000, 500, 125, 31, 1]
    assert task_batch_words(adam.replace(spark_split_batch=False), 32) == 1000
    assert task_batch_words(adam.replace(optimizer="sgd"), 32) == 1000   # no minibatch
    with pytest.raises(ValueError, match="spark_split_batch"):
        Config(spark_split_batch="yes").validate()
    steps = {}
    for parts, split in ((1, True), (4, True), (4, False)):
        model = train_in_process(toy_corpus, num_partitions=parts, epochs=1, rounds_per_epoch=1,
                                 optimizer="adam", batch_words=200, spark_split_batch=split)
        steps[parts, split] = model.state.adam_step       # the most steps a task made
    assert steps[4, True] == pytest.approx(steps[1, True], rel=0.1)
    assert steps[4, False] == pytest.approx(steps[1, True] / 4, rel=0.1)


def test_each_word_has_one_owner_a_sub_round_and_every_partition_owns_it_once():
    for parts in (1, 3, 32):
        owners = np.array([[owned_words(100, p, s, parts) for p in range(parts)]
                           for s in range(parts)])               # sub-round x partition x word
        np.testing.assert_array_equal(owners.sum(axis=1), 1)   # one owner a sub-round
        np.testing.assert_array_equal(owners.sum(axis=0), 1)   # each partition owns it once
        assert owners[0, 0].sum() in (100 // parts, -(-100 // parts))


@pytest.mark.parametrize("params", [dict(), dict(sg=True, optimizer="sgd"),
                                    dict(maxn=4, bucket=2000)])
def test_a_task_with_owned_targets_moves_only_their_output_rows(toy_corpus, params):
    def trained(owned):
        model = Word2Vec(workers=1, seed=4, progress=False, **params)
        model.build_vocab(toy_corpus)
        corpus, _ = build_corpus(toy_corpus, model.config, vocab=model.vocab)
        start = {name: table.copy() for name, table in model.state.tables.items()}
        Trainer(model, corpus, epochs=1, progress=False, owned_targets=owned).train()
        return model, start, corpus

    everything, _, _ = trained(None)
    all_owned, _, _ = trained(np.ones(len(everything.vocab), bool))      # the same run
    for name, table in everything.state.tables.items():
        np.testing.assert_array_equal(table, all_owned.state.tables[name], err_msg=name)
    owned = np.arange(len(everything.vocab)) % 3 == 1
    model, start, corpus = trained(owned)
    moved = (model.state.tables["out"] != start["out"]).any(axis=1)
    assert moved[owned].all() and not moved[~owned].any()     # targets and negatives owned
    words = len(model.vocab)                      # the words' own rows (not n-gram buckets)
    assert (model.state.tables["in"][:words] != start["in"][:words]).any(axis=1).mean() > 0.9
    windows = model.last_report.epochs[0].windows
    assert 0.2 < windows / everything.last_report.epochs[0].windows < 0.45   # about a third


def test_owned_targets_and_the_own_merge_refuse_what_they_cannot_do(toy_corpus):
    model = Word2Vec(workers=1, progress=False)
    model.build_vocab(toy_corpus)
    corpus, _ = build_corpus(toy_corpus, model.config, vocab=model.vocab)
    for owned, match in ((np.zeros(len(model.vocab), bool), "at least one"),
                         (np.ones(3, bool), "one entry per word")):
        with pytest.raises(ValueError, match=match):
            Trainer(model, corpus, progress=False, owned_targets=owned)
    for params in (dict(hs=True, negative=0), dict(hs=True), dict(sg=True, maxn=4, bucket=100)):
        with pytest.raises(ValueError, match="own"):
            train_in_process(toy_corpus, num_partitions=2, merge="own", epochs=1, **params)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_row_ownership_trains_every_target_once_a_round(toy_corpus, toy_questions, optimizer):
    one = train_in_process(toy_corpus, num_partitions=1, epochs=1, rounds_per_epoch=1,
                           optimizer=optimizer, seed=3)
    model = train_in_process(toy_corpus, num_partitions=4, merge="own", epochs=3,
                             rounds_per_epoch=1, optimizer=optimizer, seed=3)
    assert len(model.round_costs) == 3 * 4                   # P sub-rounds a round
    assert model.history[0]["windows"] == pytest.approx(one.history[0]["windows"], rel=0.02)
    assert model.state.all_finite()
    assert evaluate_analogies(model, toy_questions, restrict_vocab=None)["accuracy"] >= 0.9


def test_the_default_rounds_follow_the_partitions():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(30)]
    sentences = [[words[i] for i in rng.integers(0, 30, 40)] for _ in range(60)]
    for parts, epochs, rounds in ((2, 5, 10), (9, 5, 20), (2, 2, 25)):
        model = train_in_process(sentences, num_partitions=parts, epochs=epochs, min_count=1,
                                 optimizer="sgd", seed=1)
        assert len(model.round_costs) == rounds * epochs
    model = train_in_process(sentences, num_partitions=9, epochs=1, min_count=1,
                             rounds_per_epoch=3, optimizer="sgd", seed=1)
    assert len(model.round_costs) == 3


def test_round_seeds_differ_and_repeat():
    seeds = {round_seed(1, run, r, p) for run in range(2) for r in range(10) for p in range(10)}
    assert len(seeds) == 200 and all(0 <= s < 2**63 for s in seeds)
    assert round_seed(1, 0, 3, 4) == round_seed(1, 0, 3, 4) != round_seed(2, 0, 3, 4)
    subs = {round_seed(1, 0, 3, 4, sub) for sub in range(10)}
    assert len(subs | {round_seed(1, 0, 3, 4)}) == 11


def test_a_clear_error_without_pyspark(monkeypatch):
    import w2v.spark
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ImportError, match=re.escape('pip install "w2v[spark]"')):
        w2v.spark.train([["a", "b"]])


# ------------------------------------------------------------------- local cluster
def _java_problem():
    """Why a local Spark cannot start here, or None."""
    java = shutil.which("java")               # Spark's launcher prefers $JAVA_HOME/bin/java
    if os.environ.get("JAVA_HOME"):
        java = os.path.join(os.environ["JAVA_HOME"], "bin", "java")
        if not os.path.exists(java):
            return f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java"
    if java is None:
        return "no Java: Spark needs Java 17+ (java not on PATH and no JAVA_HOME)"
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.SubprocessError) as error:
        return f"{java} -version failed: {error}"
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if match:
        major = int(match.group(2)) if match.group(1) == "1" else int(match.group(1))
        if major < 17:
            return f"{java} is Java {major}; Spark 4 needs Java 17+"
    return None


@pytest.fixture(scope="session")
def spark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        reason = 'pyspark is not installed: pip install ".[spark]" to run the Spark tests'
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    problem = _java_problem()
    if problem:
        if REQUIRED:
            pytest.fail(problem)
        pytest.skip(problem)
    import tempfile

    from pyspark.sql import SparkSession
    os.environ["PYSPARK_PYTHON"] = sys.executable          # executors run this interpreter
    # Python workers start in the JVM's working directory and put it first on sys.path:
    # started from the repository root they would import the source tree's w2v (no
    # compiled extensions in a fresh checkout) instead of the installed package.
    here = os.getcwd()
    os.chdir(tempfile.mkdtemp(prefix="w2v-spark-"))
    try:
        session = (SparkSession.builder.master("local[2]").appName("w2v-tests")
                   .config("spark.ui.enabled", "false")
                   .config("spark.driver.memory", "1g")
                   .config("spark.sql.shuffle.partitions", "2")
                   .config("spark.default.parallelism", "2")
                   .getOrCreate())
    finally:
        os.chdir(here)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def toy_sentences(toy_corpus):
    with open(toy_corpus, encoding="utf-8") as f:
        return [line.split() for line in f]


@pytest.fixture(scope="session")
def spark_model(spark, toy_corpus):
    from w2v.spark import train
    return train(toy_corpus, spark, num_partitions=2, seed=7, progress=False)


def test_training_on_a_local_cluster_solves_the_planted_analogies(spark_model, toy_questions):
    model = spark_model
    assert isinstance(model, Word2Vec) and model.config.optimizer == "adam"
    result = evaluate_analogies(model, toy_questions, restrict_vocab=None)
    assert result["answered"] == 528 and result["accuracy"] >= 0.9, result["sections"]
    assert model.analogy("man", "king", "woman")[0][0] == "queen"
    assert len(model.history) == 5 and model.history[-1]["lr"] == pytest.approx(model.config.min_lr)
    losses = [e["loss"] for e in model.history]
    assert losses[-1] < losses[0]
    assert model.last_report.workers == 2 and model.adam_step > 0
    assert model.last_report.words == 5 * int(model.counts.sum())


def test_the_model_saves_loads_and_exports_as_usual(spark_model, tmp_path):
    spark_model.save(tmp_path / "m.npz")
    loaded = Word2Vec.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.W_in, spark_model.W_in)
    np.testing.assert_array_equal(loaded.adam_moments()[3], spark_model.adam_moments()[3])
    assert loaded.most_similar("king", topn=3) == spark_model.most_similar("king", topn=3)
    spark_model.save_word2vec_format(tmp_path / "v.bin")
    assert (tmp_path / "v.bin").stat().st_size > 0


def test_vocabulary_counts_are_exact(spark, toy_corpus, toy_sentences):
    from w2v.spark import count_vocab, sentences_rdd
    rdd = spark.sparkContext.parallelize(toy_sentences, 3)
    for params in ({"min_count": 400}, {"min_count": 2, "max_final_vocab": 50}):
        config = Config(**params)
        _, expected = build_corpus(toy_corpus, config)
        vocab, stats = count_vocab(rdd, config)
        assert vocab.index_to_key == expected.index_to_key
        np.testing.assert_array_equal(vocab.counts, expected.counts)
        assert stats.tokens == sum(map(len, toy_sentences)) and stats.lines == len(toy_sentences)
    # the same from text files and from a DataFrame of text or of tokens
    config = Config()
    _, expected = build_corpus(toy_corpus, config)
    some = toy_sentences[:3000]
    _, expected_some = build_corpus(some, config)
    text = spark.createDataFrame([(" ".join(s),) for s in some], ["text"])
    tokens = spark.createDataFrame([(s, 1) for s in some], ["tokens", "n"])
    for source, want in ((sentences_rdd(toy_corpus, spark), expected),
                         (sentences_rdd(text), expected_some),
                         (sentences_rdd(tokens, column="tokens"), expected_some)):
        vocab, _ = count_vocab(source, config)
        assert vocab.index_to_key == want.index_to_key
        np.testing.assert_array_equal(vocab.counts, want.counts)


def test_sgd_from_a_dataframe_with_rounds_and_continued_training(spark, toy_sentences, toy_questions):
    from w2v.spark import train
    df = spark.createDataFrame([(" ".join(s),) for s in toy_sentences], ["text"]).repartition(2)
    model = train(df, optimizer="sgd", rounds_per_epoch=2, epochs=4, num_partitions=3, seed=3,
                  progress=False)
    assert evaluate_analogies(model, toy_questions, restrict_vocab=None)["accuracy"] >= 0.9
    assert model.last_report.workers == 3
    assert [e["epoch"] for e in model.history] == [1, 2, 3, 4]
    W_in = model.W_in
    train(df, model=model, epochs=1, progress=False)
    assert len(model.history) == 5 and model.train_runs == 2 and model.W_in is W_in


def test_a_seeded_run_is_reproducible(spark, toy_sentences):
    from w2v.spark import train
    rdd = spark.sparkContext.parallelize(toy_sentences[:2000], 2)
    runs = [train(rdd, epochs=1, rounds_per_epoch=2, seed=5, progress=False) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].W_in, runs[1].W_in)
    np.testing.assert_array_equal(runs[0].W_out, runs[1].W_out)
    other = train(rdd, epochs=1, rounds_per_epoch=2, seed=6, progress=False)
    assert not np.array_equal(other.W_in, runs[0].W_in)


def test_bad_input_gets_a_clear_error(spark, toy_sentences):
    from w2v.spark import train
    sc = spark.sparkContext
    rdd = sc.parallelize(toy_sentences[:200], 2)
    with pytest.raises(ValueError, match="RDD is empty"):
        train(sc.parallelize([], 2), progress=False)
    with pytest.raises(TypeError, match="not token lists"):
        train(sc.parallelize(["a b c"], 1), progress=False)
    with pytest.raises(CorpusError, match="empty vocabulary.*min_count=100000"):
        train(rdd, min_count=100000, progress=False)
    with pytest.raises(ValueError, match="no sentence has two"):
        train(sc.parallelize([["a"], ["b"]] * 5, 2), min_count=1, progress=False)
    for name, value in (("rounds_per_epoch", 0), ("epochs", 0), ("num_partitions", 0),
                        ("rounds_per_epoch", 1.5)):
        with pytest.raises(ValueError, match=name):
            train(rdd, progress=False, **{name: value})
    with pytest.raises(ValueError, match="max_vocab_size"):
        train(rdd, max_vocab_size=1000, progress=False)
    df = spark.createDataFrame([("a b", 1)], ["text", "n"])
    with pytest.raises(ValueError, match="name the one"):
        train(df, progress=False)
    with pytest.raises(ValueError, match="'nope' is not a column"):
        train(df, column="nope", progress=False)
    with pytest.raises(TypeError, match="column 'n' is bigint"):
        train(df, column="n", progress=False)
    with pytest.raises(TypeError, match="cannot train on a dict"):
        train({}, spark, progress=False)


def test_the_spark_submit_script_writes_a_model(spark, toy_corpus, tmp_path, capsys):
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "scripts", "train_spark.py")
    spec = importlib.util.spec_from_file_location("train_spark", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "toy.npz"
    assert script.main([toy_corpus, "-o", str(out), "--epochs", "1", "--no-progress",
                        "--num-partitions", "2", "--vector-size", "20"]) == 0
    assert Word2Vec.load(out).W_in.shape[1] == 20
    assert "model written to" in capsys.readouterr().out
    assert spark.sparkContext._jsc is not None          # the test's own session still runs


@pytest.mark.parametrize("merge, extra", [("mean", {}), ("sum", {}),
                                          ("blend", dict(maxn=4, bucket=3000)), ("own", {})])
def test_the_in_process_simulator_computes_what_spark_does(spark, toy_corpus, merge, extra):
    from w2v.spark import train
    params = dict(epochs=1, rounds_per_epoch=2, num_partitions=2, seed=11, merge=merge,
                  vector_size=20, progress=False, **extra)
    on_spark = train(toy_corpus, spark, **params)
    in_process = train_in_process(toy_corpus, **params)
    assert on_spark.vocab.index_to_key == in_process.vocab.index_to_key
    for name, array in on_spark.state.file_arrays().items():
        np.testing.assert_array_equal(array, in_process.state.file_arrays()[name], err_msg=name)
    assert on_spark.history[0]["words"] == in_process.history[0]["words"]
    assert on_spark.round_costs[0]["broadcast_bytes"] == in_process.round_costs[0]["broadcast_bytes"]


@pytest.mark.parametrize("params", [dict(sg=True), dict(hs=True, negative=0),
                                    dict(sg=True, hs=True, optimizer="sgd"),
                                    dict(maxn=5, bucket=4000), dict(sg=True, maxn=5, bucket=4000)])
def test_every_model_trains_on_spark(spark, toy_corpus, toy_questions, params):
    from w2v.spark import train
    model = train(toy_corpus, spark, epochs=3, num_partitions=2, seed=2, progress=False, **params)
    for name, value in params.items():
        assert getattr(model.config, name) == value
    assert model.state.all_finite()
    if model.config.hs:
        assert "hs" in model.state.tables
    assert evaluate_analogies(model, toy_questions, restrict_vocab=None)["accuracy"] >= 0.8
    if model.config.subwords:                    # an unseen word, from its n-grams
        assert model.wv.most_similar("queenly", topn=1)[0][0] == "queen"
