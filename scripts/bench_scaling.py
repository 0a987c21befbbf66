#!/usr/bin/env python
"""Thread scaling of w2v: one epoch on text8like with 1 and 2 (or more) worker threads.

    python scripts/bench_scaling.py [--threads 1 2] [--repeats 3]

Prints words/s per optimizer and thread count (median of repeats) and the speed-up
over one thread. The vocabulary is built once; each run trains fresh vectors.
"""
import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.path.join(DATA, "text8like.xz"))
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    if not os.path.exists(args.corpus):
        print(f"{args.corpus} not found: nothing to benchmark")
        return 0
    from w2v import Word2Vec
    from w2v.data.corpus import build_corpus
    from w2v.config import Config
    from bench import prepare_corpus          # scripts/bench.py: decompresses once, to a temp folder
    work = os.path.join(tempfile.gettempdir(), "w2v-bench")
    os.makedirs(work, exist_ok=True)
    path = prepare_corpus(args.corpus, work)["plain"]
    corpus, vocab = build_corpus(path, Config())
    rows = []
    for optimizer in ("sgd", "adam"):
        speed = {}
        for threads in args.threads:
            runs = []
            for _ in range(args.repeats):
                model = Word2Vec(optimizer=optimizer, workers=threads, epochs=args.epochs)
                model.build_vocab(corpus, vocab=vocab).train(progress=False)
                runs.append(model.last_report.words_per_second)
            speed[threads] = statistics.median(runs)
            base = speed[args.threads[0]]
            rows.append(f"| {optimizer} | {threads} | {speed[threads] / 1e6:.2f} M | "
                        f"{speed[threads] / base:.2f}x |")
            print(rows[-1], file=sys.stderr, flush=True)
    print("| optimizer | threads | words/s | speed-up |\n| --- | ---: | ---: | ---: |")
    print("\n".join(rows))
    print(f"\n{os.path.basename(path)}, {args.epochs} epoch(s) a run, median of {args.repeats} runs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
