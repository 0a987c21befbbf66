#!/usr/bin/env python
"""w2v on Spark against Spark MLlib's Word2Vec on the same local cluster and data, with
single-machine w2v for reference.

    python scripts/bench_spark.py                     # text8like, local[2], 5 epochs, every tool
    python scripts/bench_spark.py --tools spark-adam mllib --rounds-per-epoch 2

The corpus (default ../shared/data/text8like.xz) is decompressed once and cut into
1,000-word lines (scripts/bench.py's prepare_corpus), since Spark reads text a line a
record. Every tool runs in a fresh subprocess, one after the other:

- spark-adam, spark-sgd: w2v.spark.train on the lines file (`--partitions` partitions);
- mllib: pyspark.ml.feature.Word2Vec (skip-gram with hierarchical softmax, the only
  model it has), vectorSize 100, windowSize 5, minCount 5, maxIter = epochs,
  numPartitions = `--partitions`, on the same lines split on spaces;
- w2v-adam, w2v-sgd: single-machine w2v, `--partitions` threads, the same lines file.

wall s: from the start of training (reading the text and counting the vocabulary
included) to the model on the driver; the Spark session is started before the clock.
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


def start_spark(args):
    from pyspark.sql import SparkSession
    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (SparkSession.builder.master(args.master).appName("w2v-bench-spark")
             .config("spark.ui.enabled", "false")
             .config("spark.driver.memory", args.driver_memory)
             .config("spark.sql.shuffle.partitions", str(args.partitions))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_w2v_spark(optimizer, path, args):
    from w2v.spark import train
    spark = start_spark(args)
    params = {"optimizer": optimizer, "epochs": args.epochs}
    if args.lr is not None:
        params["lr" if optimizer == "adam" else "alpha"] = args.lr
    started = time.perf_counter()
    model = train(path, spark, num_partitions=args.partitions,
                  rounds_per_epoch=args.rounds_per_epoch, progress=False, **params)
    wall = time.perf_counter() - started
    spark.stop()
    return model.wv, wall, model.last_report.seconds


def run_mllib(path, args):
    import numpy as np
    from pyspark.ml.feature import Word2Vec as MLlibWord2Vec
    from pyspark.sql import functions as F

    from w2v import Config, WordVectors, build_corpus
    spark = start_spark(args)
    started = time.perf_counter()
    lines = spark.read.text(path).select(F.split(F.col("value"), " ").alias("tokens"))
    estimator = MLlibWord2Vec(vectorSize=100, windowSize=5, minCount=5, maxIter=args.epochs,
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
    return WordVectors(vectors, [w for w, _ in pairs]), wall, None


def run_w2v(optimizer, path, args):
    from w2v import Word2Vec
    params = {"optimizer": optimizer, "epochs": args.epochs, "workers": args.partitions}
    started = time.perf_counter()
    model = Word2Vec(**params).build_vocab(path)
    model.train(progress=False)
    return model.wv, time.perf_counter() - started, model.last_report.seconds


def child(tool, args):
    path = args.lines
    if tool.startswith("spark-"):
        wv, wall, train_s = run_w2v_spark(tool[6:], path, args)
    elif tool == "mllib":
        wv, wall, train_s = run_mllib(path, args)
    else:
        wv, wall, train_s = run_w2v(tool[4:], path, args)
    from w2v.evaluation import evaluate_analogies, evaluate_word_pairs
    result = {"tool": tool, "wall_s": wall, "train_s": train_s, "vocab_size": len(wv),
              "analogy": evaluate_analogies(wv, args.analogies, restrict_vocab=30000)["accuracy"],
              "ws353": evaluate_word_pairs(wv, args.pairs)["spearman"]}
    print("RESULT " + json.dumps(result), flush=True)


def label(tool, args) -> str:
    if tool.startswith("spark-"):
        return (f"w2v on Spark, {tool[6:]} ({args.partitions} partitions, "
                f"{args.rounds_per_epoch} round{'s' if args.rounds_per_epoch > 1 else ''}/epoch)")
    if tool == "mllib":
        return f"Spark MLlib Word2Vec (skip-gram + HS, {args.partitions} partitions)"
    return f"w2v single machine, {tool[4:]} ({args.partitions} threads)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", default=os.path.join(DATA, "text8like.xz"))
    parser.add_argument("--tools", nargs="*", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=2,
                        help="Spark partitions (w2v and MLlib); threads of single-machine w2v")
    parser.add_argument("--rounds-per-epoch", type=int, default=1)
    parser.add_argument("--lr", type=float, default=None,
                        help="w2v on Spark: starting lr (adam) / alpha (sgd); default: w2v's")
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

    if not os.path.exists(args.corpus):
        print(f"corpus {args.corpus} not found: nothing to benchmark (give --corpus)")
        return 0
    sys.path.insert(0, HERE)
    from bench import prepare_corpus          # scripts/bench.py: decompresses once, cuts lines
    os.makedirs(args.work, exist_ok=True)
    corpus = prepare_corpus(args.corpus, args.work)
    results = []
    for tool in args.tools:
        command = [sys.executable, os.path.abspath(__file__), "--child", tool,
                   "--lines", corpus["lines1000"], "--epochs", str(args.epochs),
                   "--master", args.master, "--partitions", str(args.partitions),
                   "--rounds-per-epoch", str(args.rounds_per_epoch),
                   "--driver-memory", args.driver_memory,
                   "--analogies", args.analogies, "--pairs", args.pairs]
        if args.lr is not None:
            command += ["--lr", str(args.lr)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not lines:
            print(f"{tool} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
            continue
        result = json.loads(lines[-1][7:])
        results.append(result)
        print(f"{tool}: wall {result['wall_s']:.1f} s, analogy {100 * result['analogy']:.1f}%, "
              f"WS353 {result['ws353']:.3f}", file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    rows = ["| tool | wall s | analogy % | WS353 |", "| --- | ---: | ---: | ---: |"]
    for r in results:
        rows.append(f"| {label(r['tool'], args)} | {r['wall_s']:.1f} | {100 * r['analogy']:.1f} | "
                    f"{r['ws353']:.3f} |")
    rows.append("")
    rows.append(f"{os.path.basename(args.corpus)} in 1,000-word lines: {corpus['tokens']:,} words; "
                f"{args.epochs} epochs; master {args.master}; "
                f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
                f"python {platform.python_version()}.")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
