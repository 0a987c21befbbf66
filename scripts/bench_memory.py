#!/usr/bin/env python
"""Peak memory of w2v against what it must hold: the model arrays and the id stream.

    python scripts/bench_memory.py [--corpus ../shared/data/enwiki70m.txt.xz] [--optimizer sgd]

Builds the vocabulary (streaming the file, decompressing on the fly) and trains one
epoch, then prints the peak resident memory (VmHWM) next to W_in + W_out (+ Adam
moments) + the int32 id stream.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))


def peak_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.path.join(DATA, "enwiki70m.txt.xz"))
    parser.add_argument("--optimizer", default="sgd", choices=("sgd", "adam"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-rollback", action="store_true",
                        help="rollback_on_divergence=False: no copy of the arrays at epoch starts")
    args = parser.parse_args()
    if not os.path.exists(args.corpus):
        print(f"{args.corpus} not found: nothing to measure")
        return 0
    from w2v import Word2Vec
    started = time.perf_counter()
    model = Word2Vec(optimizer=args.optimizer, workers=args.workers, epochs=1,
                     rollback_on_divergence=not args.no_rollback)
    model.build_vocab(args.corpus)
    build_s, build_peak = time.perf_counter() - started, peak_mb()
    model.train(progress=False)
    report = model.last_report
    arrays = sum(a.nbytes for a in (model.W_in, model.W_out) + (model.adam_moments() or ()))
    ids = model.corpus.ids.nbytes + model.corpus.sentence_starts.nbytes
    print(f"{os.path.basename(args.corpus)}: {model.corpus.stats.tokens:,} tokens, "
          f"{len(model.vocab):,} words; vocabulary and id stream in {build_s:.1f} s "
          f"(peak {build_peak:.0f} MB); one {args.optimizer} epoch at "
          f"{report.words_per_second / 1e6:.2f} M words/s")
    # The rollback copy (rollback_on_divergence) goes to a temporary file, not memory.
    print(f"peak RSS {peak_mb():.0f} MB = model arrays {arrays / 2**20:.0f} MB"
          + f" + id stream {ids / 2**20:.0f} MB + {peak_mb() - (arrays + ids) / 2**20:.0f} MB"
          + ("" if model.config.rollback_on_divergence else "   (--no-rollback)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
