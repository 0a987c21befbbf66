#!/usr/bin/env python
"""w2v on Spark against Spark MLlib's Word2Vec on the same local cluster and data, with
single-machine w2v for reference.

    python scripts/bench_spark.py                      # text8like, local[2], the default runs
    python scripts/bench_spark.py --runs spark-sgd spark-sgd:rounds=2 mllib:epochs=1 --partitions 2 32

A run is TOOL[:key=value,...]. Tools:

- spark-adam, spark-sgd: w2v.spark.train on the lines file, `--partitions` partitions;
  keys: epochs, rounds (rounds_per_epoch) and any w2v.Config field (alpha, lr, ...);
- mllib: pyspark.ml.feature.Word2Vec (skip-gram with hierarchical softmax, the only
  model it has), vectorSize 100, windowSize 5, minCount 5, maxIter = epochs,
  numPartitions = `--partitions`, seed 1, its default stepSize 0.025; key: epochs;
- sim-adam, sim-sgd: w2v.spark.train_in_process, the same partitions, tasks and merge as
  spark-* without Spark (the tasks one after the other on one core): the quality of P
  partitions measured fast; keys as spark-*, and merge / moment_merge;
- w2v-adam, w2v-sgd: single-machine w2v with `--threads` threads; keys as spark-*.

Runs of spark-*, sim-* and mllib are repeated for every `--partitions` P, every run for
every `--seeds` seed; the table gives the mean over seeds (and the spread of analogy).

Everything else is w2v's defaults (CBOW, 100 dimensions, window 5, 5 negatives, sample
1e-3, min_count 5) and `--epochs` epochs. The corpus (default
../shared/data/text8like.xz) is decompressed once and cut into 1,000-word lines
(scripts/bench.py's prepare_corpus): Spark reads text a line a record. Every run is a
fresh subprocess, one after the other.

wall s: from the start of training (reading the text and counting the vocabulary
included) to the vectors on the driver; the Spark session is started before the clock.
Analogy: Google questions-words within the 30,000 most frequent words; WS353: Spearman.
Per round (w2v on Spark and sim-*, the mean over rounds): MB broadcast (the state: tables
and Adam moments), MB the partitions sent back (changed rows, all partitions together)
and MB the driver received after Spark combined them, the driver's merge seconds. Peak
MB: the largest resident memory of the run's process (the driver) and of its children
(Spark's JVM and Python workers, the largest one).
MLlib does not report counts, so its words are ranked by w2v's exact counts of the same
file for the 30,000 cut (outside the clock).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
TOOLS = ("spark-adam", "spark-sgd", "sim-adam", "sim-sgd", "mllib", "w2v-adam", "w2v-sgd")
# w2v.spark's defaults (blend, block momentum, default_rounds) against MLlib and one machine
DEFAULT_RUNS = ("spark-sgd", "spark-adam", "mllib", "w2v-sgd", "w2v-adam")


def parse_run(text: str):
    tool, _, rest = text.partition(":")
    if tool not in TOOLS:
        raise argparse.ArgumentTypeError(f"unknown tool {tool!r}: one of {', '.join(TOOLS)}")
    options = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"{text!r}: options are key=value")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return tool, options


def start_spark(args):
    from pyspark.sql import SparkSession
    os.environ["PYSPARK_PYTHON"] = sys.executable          # executors run this interpreter
    spark = (SparkSession.builder.master(args.master).appName("w2v-bench-spark")
             .config("spark.ui.enabled", "false")
             .config("spark.driver.memory", args.driver_memory)
             .config("spark.sql.shuffle.partitions", str(args.partitions))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def round_costs(model) -> dict:
    costs = model.round_costs
    return {key: sum(c[key] for c in costs) / len(costs)
            for key in ("broadcast_bytes", "sent_bytes", "returned_bytes", "merge_s")}


def run_w2v_spark(optimizer, path, epochs, options, args):
    from w2v.spark import train
    spark = start_spark(args)
    rounds = options.pop("rounds", None)
    started = time.perf_counter()
    model = train(path, spark, optimizer=optimizer, epochs=epochs, num_partitions=args.partitions,
                  rounds_per_epoch=rounds, progress=False, seed=args.seed, **options)
    wall = time.perf_counter() - started
    spark.stop()
    return model.wv, wall, round_costs(model), model.state.all_finite()


def run_simulated(optimizer, path, epochs, options, args):
    from w2v.spark import train_in_process
    rounds = options.pop("rounds", None)
    started = time.perf_counter()
    model = train_in_process(path, optimizer=optimizer, epochs=epochs, rounds_per_epoch=rounds,
                             num_partitions=args.partitions, seed=args.seed, **options)
    wall = time.perf_counter() - started
    return model.wv, wall, round_costs(model), model.state.all_finite()


def run_mllib(path, epochs, options, args):
    import numpy as np
    from pyspark.ml.feature import Word2Vec as MLlibWord2Vec
    from pyspark.sql import functions as F

    from w2v import Config, WordVectors, build_corpus
    if options:
        raise ValueError(f"mllib takes only epochs, not {sorted(options)}")
    spark = start_spark(args)
    started = time.perf_counter()
    lines = spark.read.text(path).select(F.split(F.col("value"), " ").alias("tokens"))
    estimator = MLlibWord2Vec(vectorSize=100, windowSize=5, minCount=5, maxIter=epochs,
                              numPartitions=args.partitions, seed=args.seed, inputCol="tokens",
                              outputCol="vector")
    fitted = estimator.fit(lines)
    pairs = [(row["word"], row["vector"].toArray()) for row in fitted.getVectors().collect()]
    wall = time.perf_counter() - started
    spark.stop()
    _, vocab = build_corpus(path, Config())          # exact counts, for the frequency order
    rank = vocab.key_to_index
    pairs.sort(key=lambda p: rank.get(p[0], len(rank)))
    vectors = np.stack([v for _, v in pairs]).astype(np.float32)
    return WordVectors(vectors, [w for w, _ in pairs]), wall


def run_w2v(optimizer, path, epochs, options, args):
    from w2v import Word2Vec
    for key in ("rounds", "merge", "moment_merge"):
        options.pop(key, None)
    started = time.perf_counter()
    model = Word2Vec(optimizer=optimizer, epochs=epochs, workers=args.threads, seed=args.seed,
                     **options)
    model.build_vocab(path).train(progress=False)
    return model.wv, time.perf_counter() - started, None, model.state.all_finite()


def child(run, args):
    args.partitions = args.partitions[0]
    tool, options = parse_run(run)
    epochs = options.pop("epochs", args.epochs)
    costs, finite = None, None
    if tool.startswith("spark-"):
        wv, wall, costs, finite = run_w2v_spark(tool[6:], args.lines, epochs, options, args)
    elif tool.startswith("sim-"):
        wv, wall, costs, finite = run_simulated(tool[4:], args.lines, epochs, options, args)
    elif tool == "mllib":
        wv, wall = run_mllib(args.lines, epochs, options, args)
    else:
        wv, wall, costs, finite = run_w2v(tool[4:], args.lines, epochs, options, args)
    import resource

    from w2v.evaluation import evaluate_analogies, evaluate_word_pairs
    result = {"run": run, "partitions": args.partitions, "seed": args.seed, "epochs": epochs,
              "wall_s": wall, "vocab_size": len(wv), "finite": finite, "costs": costs,
              "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "children_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
              "analogy": evaluate_analogies(wv, args.analogies, restrict_vocab=30000)["accuracy"],
              "ws353": evaluate_word_pairs(wv, args.pairs)["spearman"]}
    print("RESULT " + json.dumps(result), flush=True)


def label(run: str, partitions: int, args) -> str:
    tool, options = parse_run(run)
    options.pop("epochs", None)
    rounds = options.pop("rounds", None)
    extra = ", ".join([f"{k} {v}" for k, v in options.items()]
                      + ([f"{rounds} rounds/epoch"] if rounds and tool[:4] in ("spar", "sim-") else []))
    if tool.startswith("spark-"):
        text = f"w2v on Spark, {tool[6:]}, {partitions} partitions"
    elif tool.startswith("sim-"):
        text = f"w2v.spark simulated, {tool[4:]}, {partitions} partitions"
    elif tool == "mllib":
        text = f"Spark MLlib Word2Vec (skip-gram, HS), {partitions} partitions"
    else:
        text = f"w2v single machine, {tool[4:]}, {args.threads} threads"
    return f"{text}{', ' + extra if extra else ''}"


def table(results, args) -> str:
    groups = {}
    for r in results:
        groups.setdefault((r["run"], r["partitions"]), []).append(r)
    rows = ["| run | epochs | seeds | wall s | analogy % | WS353 | MB broadcast / sent / received "
            "a round | merge s a round | peak MB driver / child | finite |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    mean = lambda xs: sum(xs) / len(xs)     # noqa: E731
    for (run, partitions), rs in groups.items():
        analogies = [100 * r["analogy"] for r in rs]
        spread = f" ({min(analogies):.1f}-{max(analogies):.1f})" if len(rs) > 1 else ""
        costs = [r["costs"] for r in rs if r.get("costs")]
        if costs:
            mb = lambda key: mean([c[key] for c in costs]) / 1e6     # noqa: E731
            traffic = f"{mb('broadcast_bytes'):.1f} / {mb('sent_bytes'):.1f} / {mb('returned_bytes'):.1f}"
            merge = f"{mean([c['merge_s'] for c in costs]):.2f}"
        else:
            traffic = merge = ""
        peak = f"{max(r['peak_mb'] for r in rs):.0f} / {max(r['children_peak_mb'] for r in rs):.0f}"
        finite = "" if rs[0].get("finite") is None else ("yes" if all(r["finite"] for r in rs) else "NO")
        rows.append(f"| {label(run, partitions, args)} | {rs[0]['epochs']} | {len(rs)} | "
                    f"{mean([r['wall_s'] for r in rs]):.1f} | {mean(analogies):.1f}{spread} | "
                    f"{mean([r['ws353'] for r in rs]):.3f} | {traffic} | {merge} | {peak} | {finite} |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", default=os.path.join(DATA, "text8like.xz"))
    parser.add_argument("--runs", nargs="*", default=list(DEFAULT_RUNS), type=str,
                        help="TOOL[:key=value,...] each; see the module docstring")
    parser.add_argument("--epochs", type=int, default=5, help="of every run without epochs=")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, nargs="+", default=[2],
                        help="Spark partitions (w2v, its simulator and MLlib): each run for each")
    parser.add_argument("--threads", type=int, default=2, help="threads of single-machine w2v")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1], help="each run for each seed")
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--analogies", default=os.path.join(DATA, "questions-words.txt"))
    parser.add_argument("--pairs", default=os.path.join(DATA, "wordsim353.tsv"))
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "w2v-bench"))
    parser.add_argument("--json", default=None, help="also write every run's figures here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--lines", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args)
    for run in args.runs:
        try:
            parse_run(run)
        except argparse.ArgumentTypeError as error:
            parser.error(str(error))

    if not os.path.exists(args.corpus):
        print(f"corpus {args.corpus} not found: nothing to benchmark (give --corpus)")
        return 0
    sys.path.insert(0, HERE)
    from bench import prepare_corpus          # scripts/bench.py: decompresses once, cuts lines
    os.makedirs(args.work, exist_ok=True)
    corpus = prepare_corpus(args.corpus, args.work)
    results = []
    jobs = [(run, partitions, seed) for run in args.runs
            for partitions in (args.partitions if not run.startswith("w2v-") else [args.threads])
            for seed in args.seeds]
    for run, partitions, seed in jobs:
        command = [sys.executable, os.path.abspath(__file__), "--child", run,
                   "--lines", corpus["lines1000"], "--epochs", str(args.epochs),
                   "--master", args.master, "--partitions", str(partitions),
                   "--threads", str(args.threads), "--seed", str(seed),
                   "--driver-memory", args.driver_memory,
                   "--analogies", args.analogies, "--pairs", args.pairs]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not lines:
            why = (f"killed by signal {-done.returncode}" + (" (SIGKILL: out of memory?)"
                                                            if done.returncode == -9 else "")
                   if done.returncode < 0 else f"exit status {done.returncode}")
            print(f"{run} (P={partitions}, seed {seed}) failed, {why}; its stderr ends:\n"
                  f"{done.stderr[-3000:]}", file=sys.stderr)
            continue
        result = json.loads(lines[-1][7:])
        results.append(result)
        print(f"{run} P={partitions} seed {seed}: {result['epochs']} epochs, wall "
              f"{result['wall_s']:.1f} s, analogy {100 * result['analogy']:.1f}%, WS353 "
              f"{result['ws353']:.3f}", file=sys.stderr, flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
    rows = [table(results, args), ""]
    rows.append(f"{os.path.basename(args.corpus)} in 1,000-word lines: {corpus['tokens']:,} words; "
                f"master {args.master}; {platform.processor() or platform.machine()}, "
                f"{os.cpu_count()} cores; python {platform.python_version()}.")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
