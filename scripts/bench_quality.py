#!/usr/bin/env python
"""Quality of w2v settings over several seeds: analogy accuracy and WS353 Spearman.

    python scripts/bench_quality.py --set optimizer=sgd ns_exponent=0.5 --seeds 1 2 3
    python scripts/bench_quality.py --set optimizer=sgd --set optimizer=sgd alpha=0.075

Each --set is one configuration (any w2v.Config field as name=value; values are read as
JSON, else kept as text); each is trained once per seed on the same corpus (default
../shared/data/text8like.xz, decompressed once to --work) and evaluated as
scripts/bench.py does: Google analogies within the 30,000 most frequent words, WS353.
Single runs differ by about a point of analogy accuracy between seeds (threads are
not deterministic either), so defaults are chosen on means over seeds, not one run.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import DATA, prepare_corpus  # noqa: E402


def parse_setting(items):
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--set takes name=value pairs, got {item!r}")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", dest="settings", nargs="+", action="append", required=True,
                        metavar="NAME=VALUE", help="one configuration; repeat for more")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--corpus", default=os.path.join(DATA, "text8like.xz"))
    parser.add_argument("--analogies", default=os.path.join(DATA, "questions-words.txt"))
    parser.add_argument("--pairs", default=os.path.join(DATA, "wordsim353.tsv"))
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "w2v-bench"))
    args = parser.parse_args()
    for path in (args.corpus, args.analogies, args.pairs):
        if not os.path.exists(path):
            print(f"{path} not found: nothing to measure")
            return 0
    from w2v import Word2Vec
    from w2v.evaluation import evaluate_analogies, evaluate_word_pairs
    os.makedirs(args.work, exist_ok=True)
    corpus = prepare_corpus(args.corpus, args.work)["plain"]
    settings = [parse_setting(items) for items in args.settings]
    rows = []
    for params in settings:
        analogy, spearman = [], []
        for seed in args.seeds:
            model = Word2Vec(corpus, progress=False, **dict(params, seed=seed))
            analogy.append(100 * evaluate_analogies(model, args.analogies,
                                                    restrict_vocab=30000)["accuracy"])
            spearman.append(evaluate_word_pairs(model, args.pairs)["spearman"])
            print(f"{json.dumps(params)} seed {seed}: {analogy[-1]:.1f}% {spearman[-1]:.3f} "
                  f"({model.last_report.seconds:.0f} s)", flush=True)
        rows.append((params, analogy, spearman))
    print("\n| setting | seeds | analogy % | mean | WS353 | mean |\n| --- | --- | --- | ---: | --- | ---: |")
    for params, analogy, spearman in rows:
        print(f"| {' '.join(f'{k}={v}' for k, v in params.items()) or 'defaults'} | "
              f"{' '.join(map(str, args.seeds))} | {' '.join(f'{a:.1f}' for a in analogy)} | "
              f"{statistics.mean(analogy):.1f} | {' '.join(f'{s:.3f}' for s in spearman)} | "
              f"{statistics.mean(spearman):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
