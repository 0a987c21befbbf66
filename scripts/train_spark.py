#!/usr/bin/env python
"""Train word2vec CBOW on a Spark cluster: spark-submit scripts/train_spark.py PATH... -o model.npz

PATH: text files Spark can read (local, hdfs://, s3a://, globs, .gz/.bz2), one sentence
a line. Trains with w2v.spark.train and writes the model (native .npz, and optionally
word2vec vectors) on the driver. Every hyperparameter of w2v.Config is a flag, as in
scripts/train.py. Run with plain python, it starts a local Spark (--master, default local[*]).
"""
import argparse
import logging
import sys
import time


def build_parser() -> argparse.ArgumentParser:
    from w2v.cli import add_config_flags
    parser = argparse.ArgumentParser(prog="train_spark.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="text files to train on")
    parser.add_argument("-o", "--output", required=True, help="model file to write (.npz), on the driver")
    parser.add_argument("--save-vectors", metavar="PATH", default=None,
                        help="also write word2vec C binary vectors (text if PATH ends in .txt)")
    parser.add_argument("--rounds-per-epoch", type=int, default=None,
                        help="synchronisations per epoch, rows merged over partitions each round "
                             "(default: 10 up to 8 partitions, 20 beyond; runs under 5 "
                             "epochs get 5 epochs' worth of rounds)")
    parser.add_argument("--num-partitions", type=int, default=None,
                        help="training tasks a round (default: the cluster's cores)")
    parser.add_argument("--master", default=None,
                        help="Spark master when not given by spark-submit (default: local[*])")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_flags(parser)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from pyspark.sql import SparkSession

    from w2v.cli import config_from_args
    from w2v.spark import train
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    config = config_from_args(args)
    spark = SparkSession.getActiveSession()
    own_session = spark is None
    if own_session:
        builder = SparkSession.builder.appName("w2v")
        if args.master:
            builder = builder.master(args.master)
        spark = builder.getOrCreate()
    try:
        started = time.perf_counter()
        model = train(args.paths, spark, config=config, rounds_per_epoch=args.rounds_per_epoch,
                      num_partitions=args.num_partitions, progress=not args.no_progress)
        seconds = time.perf_counter() - started
        model.save(args.output)
        if args.save_vectors:
            model.save_word2vec_format(args.save_vectors,
                                       binary=not args.save_vectors.endswith(".txt"))
    finally:
        if own_session:
            spark.stop()
    report = model.last_report
    print(f"vocabulary {len(model):,} words; {report.words:,} words trained in "
          f"{len(report.epochs)} epochs on {report.workers} partitions; {seconds:.1f} s in all")
    print("loss per epoch: " + ", ".join(f"{e.loss:.4f}" for e in report.epochs))
    print(f"model written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
