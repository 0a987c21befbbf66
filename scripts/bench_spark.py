#!/usr/bin/env python
"""w2v on Spark against Spark MLlib's Word2Vec on the same local cluster and data, with
single-machine w2v for reference.

    python scripts/bench_spark.py                      # text8like, local[2], the default runs
    python scripts/bench_spark.py --runs spark-adam spark-sgd:alpha=0.1,rounds=2 mllib:epochs=1

A run is TOOL[:key=value,...]. Tools:

- spark-adam, spark-sgd: w2v.spark.train on the lines file, `--partitions` partitions;
  keys: epochs, rounds (rounds_per_epoch) and any w2v.Config field (alpha, lr, ...);
- mllib: pyspark.ml.feature.Word2Vec (skip-gram with hierarchical softmax, the only
  model it has), vectorSize 100, windowSize 5, minCount 5, maxIter = epochs,
  numPartitions = `--partitions`, seed 1, its default stepSize 0.025; key: epochs;
- w2v-adam, w2v-sgd: single-machine w2v with `--partitions` threads; keys as spark-*.

Everything else is w2v's defaults (CBOW, 100 dimensions, window 5, 5 negatives, sample
1e-3, min_count 5) and `--epochs` epochs. The corpus (default
../shared/data/text8like.xz) is decompressed once and cut into 1,000-word lines
(scripts/bench.py's prepare_corpus): Spark reads text a line a record. Every run is a
fresh subprocess, one after the other.

wall s: from the start of training (reading the text and counting the vocabulary
included) to the vectors on the driver; the Spark session is started before the clock.
Analogy: Google questions-words within the 30,000 most frequent words; WS353: Spearman.
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
TOOLS = ("spark-adam", "spark-sgd", "mllib", "w2v-adam", "w2v-sgd")
# With P partitions, averaging a row over the partitions that touched it moves it 1/P as
# far as P sequential updates would: SGD gets alpha x P (2 x 0.05), Adam half-size
# minibatches (twice the steps); two rounds an epoch (measured in the README).
DEFAULT_RUNS = ("spark-sgd:alpha=0.1,rounds=2", "spark-adam:batch_words=500,rounds=2", "mllib",
                "w2v-sgd", "w2v-adam", "spark-sgd:alpha=0.1,rounds=2,epochs=10",
                "spark-adam:batch_words=500,rounds=2,epochs=10")


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


def run_w2v_spark(optimizer, path, epochs, options, args):
    from w2v.spark import train
    spark = start_spark(args)
    rounds = options.pop("rounds", 1)
    started = time.perf_counter()
    model = train(path, spark, optimizer=optimizer, epochs=epochs, num_partitions=args.partitions,
                  rounds_per_epoch=rounds, progress=False, **options)
    wall = time.perf_counter() - started
    spark.stop()
    return model.wv, wall


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
                              numPartitions=args.partitions, seed=1, inputCol="tokens",
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
    options.pop("rounds", None)
    started = time.perf_counter()
    model = Word2Vec(optimizer=optimizer, epochs=epochs, workers=args.partitions, **options)
    model.build_vocab(path).train(progress=False)
    return model.wv, time.perf_counter() - started


def child(run, args):
    tool, options = parse_run(run)
    epochs = options.pop("epochs", args.epochs)
    if tool.startswith("spark-"):
        wv, wall = run_w2v_spark(tool[6:], args.lines, epochs, options, args)
    elif tool == "mllib":
        wv, wall = run_mllib(args.lines, epochs, options, args)
    else:
        wv, wall = run_w2v(tool[4:], args.lines, epochs, options, args)
    from w2v.evaluation import evaluate_analogies, evaluate_word_pairs
    result = {"run": run, "epochs": epochs, "wall_s": wall, "vocab_size": len(wv),
              "analogy": evaluate_analogies(wv, args.analogies, restrict_vocab=30000)["accuracy"],
              "ws353": evaluate_word_pairs(wv, args.pairs)["spearman"]}
    print("RESULT " + json.dumps(result), flush=True)


def label(run: str, args) -> str:
    tool, options = parse_run(run)
    options.pop("epochs", None)
    rounds = options.pop("rounds", None)
    extra = ", ".join([f"{k} {v}" for k, v in options.items()]
                      + ([f"{rounds} rounds/epoch"] if rounds and tool.startswith("spark-") else []))
    if tool.startswith("spark-"):
        text = f"w2v on Spark, {tool[6:]}, {args.partitions} partitions"
    elif tool == "mllib":
        text = f"Spark MLlib Word2Vec (skip-gram, HS), {args.partitions} partitions"
    else:
        text = f"w2v single machine, {tool[4:]}, {args.partitions} threads"
    return f"{text}{', ' + extra if extra else ''}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", default=os.path.join(DATA, "text8like.xz"))
    parser.add_argument("--runs", nargs="*", default=list(DEFAULT_RUNS), type=str,
                        help="TOOL[:key=value,...] each; see the module docstring")
    parser.add_argument("--epochs", type=int, default=5, help="of every run without epochs=")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=2,
                        help="Spark partitions (w2v and MLlib); threads of single-machine w2v")
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
    for run in args.runs:
        command = [sys.executable, os.path.abspath(__file__), "--child", run,
                   "--lines", corpus["lines1000"], "--epochs", str(args.epochs),
                   "--master", args.master, "--partitions", str(args.partitions),
                   "--driver-memory", args.driver_memory,
                   "--analogies", args.analogies, "--pairs", args.pairs]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not lines:
            print(f"{run} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
            continue
        result = json.loads(lines[-1][7:])
        results.append(result)
        print(f"{run}: {result['epochs']} epochs, wall {result['wall_s']:.1f} s, analogy "
              f"{100 * result['analogy']:.1f}%, WS353 {result['ws353']:.3f}", file=sys.stderr,
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    rows = ["| run | epochs | wall s | analogy % | WS353 |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in results:
        rows.append(f"| {label(r['run'], args)} | {r['epochs']} | {r['wall_s']:.1f} | "
                    f"{100 * r['analogy']:.1f} | {r['ws353']:.3f} |")
    rows.append("")
    rows.append(f"{os.path.basename(args.corpus)} in 1,000-word lines: {corpus['tokens']:,} words; "
                f"master {args.master}; {platform.processor() or platform.machine()}, "
                f"{os.cpu_count()} cores; python {platform.python_version()}.")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
