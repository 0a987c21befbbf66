#!/usr/bin/env python
"""Time-to-quality frontier: every tool and model at several epoch counts on one corpus,
tools alternating, with training seconds, analogy accuracy and WS353 for each run.

    python scripts/bench_frontier.py                                # text8like, the default set
    python scripts/bench_frontier.py --configs w2v-cbow-sgd gensim-cbow --epochs 1 2 5
    python scripts/bench_frontier.py --from-json frontier.json --plot frontier.png   # redraw
    python scripts/bench_frontier.py --from-json all.json rerun.json   # rerun.json's points win

A user picks a time budget, not an epoch count; the frontier of a tool is the best
quality any of its configurations reached within each budget. w2v dominates when, for
every peer run (t, q), some w2v run took at most t seconds and reached at least q, on
both measures; the script lists the peer runs where that fails.

Each run is one `scripts/bench.py` child (a fresh process: same settings as the
side-by-side table, 100 dims, window 5, 5 negatives, sample 1e-3, min_count 5, 2 threads).
Epoch counts run from small to large; a configuration whose run took longer than
--max-train-s stops there (its larger epoch counts would only extend the chart past
every other tool's budget), and the table says so. Figures are medians over --repeats.
The picture needs matplotlib (`pip install ".[plot]"`).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

from w2v.io import atomic_write

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (the side-by-side benchmark: one run of one tool)

# name -> (bench.py tool, model, longest n-gram: 0 = no subwords)
CONFIGS = {
    "w2v-cbow-adam": ("w2v-adam", "cbow", 0),
    "w2v-cbow-sgd": ("w2v-sgd", "cbow", 0),
    "w2v-sg-adam": ("w2v-adam", "sg", 0),
    "w2v-sg-sgd": ("w2v-sgd", "sg", 0),
    "w2v-cbow-sgd-subwords": ("w2v-sgd", "cbow", 6),
    "w2v-sg-sgd-subwords": ("w2v-sgd", "sg", 6),
    "gensim-cbow": ("gensim-file", "cbow", 0),
    "gensim-sg": ("gensim-file", "sg", 0),
    "fasttext-cbow": ("fasttext", "cbow", 0),
    "fasttext-cbow-subwords": ("fasttext", "cbow", 6),
    "fasttext-sg": ("fasttext", "sg", 0),
    "fasttext-sg-subwords": ("fasttext", "sg", 6),
    "word2vec-c-cbow": ("word2vec-c", "cbow", 0),
    "word2vec-c-sg": ("word2vec-c", "sg", 0),
}
DEFAULT_CONFIGS = ("w2v-cbow-adam", "w2v-cbow-sgd", "w2v-sg-sgd", "w2v-cbow-sgd-subwords",
                   "gensim-cbow", "gensim-sg", "fasttext-cbow", "fasttext-cbow-subwords",
                   "fasttext-sg", "word2vec-c-cbow", "word2vec-c-sg")
MEASURES = (("analogy", "analogy accuracy (30k words)"), ("ws353", "WS353 Spearman"))


def is_w2v(config: str) -> bool:
    return config.startswith("w2v-")


def medians(runs):
    """One point per (config, epochs): medians of train seconds and of both measures."""
    groups = {}
    for run in runs:
        groups.setdefault((run["config"], run["epochs"]), []).append(run)
    points = []
    order = list(CONFIGS)
    for (config, epochs), group in sorted(groups.items(),
                                          key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        point = {"config": config, "epochs": epochs, "runs": len(group)}
        for key in ("train_s", "cpu_s", "analogy", "ws353"):
            values = [r[key] for r in group if r.get(key) is not None]
            point[key] = statistics.median(values) if values else None
        points.append(point)
    return points


def frontier(points, measure, seconds="train_s"):
    """The best `measure` reached within each budget: (seconds, value) steps, ascending."""
    steps, best = [], None
    for p in sorted((p for p in points if p.get(measure) is not None), key=lambda p: p[seconds]):
        if best is None or p[measure] > best:
            best = p[measure]
            steps.append((p[seconds], best))
    return steps


def undominated(points, measure, seconds="train_s"):
    """Peer points that no w2v point matches: none took <= their time with >= their value."""
    ours = [p for p in points if is_w2v(p["config"]) and p.get(measure) is not None]
    misses = []
    for peer in points:
        if is_w2v(peer["config"]) or peer.get(measure) is None:
            continue
        if not any(p[seconds] <= peer[seconds] and p[measure] >= peer[measure] for p in ours):
            misses.append(peer)
    return misses


def table(points, stopped) -> str:
    epochs = sorted({p["epochs"] for p in points})
    configs = list(dict.fromkeys(p["config"] for p in points))
    cell = {(p["config"], p["epochs"]): p for p in points}
    rows = ["| configuration | " + " | ".join(f"{e} ep" for e in epochs) + " |",
            "| --- |" + " ---: |" * len(epochs)]
    for config in configs:
        cells = []
        for e in epochs:
            p = cell.get((config, e))
            if p is None:
                cells.append("stopped" if config in stopped and e > stopped[config] else "-")
            else:
                cells.append(f"{p['train_s']:.0f} s, {100 * (p['analogy'] or 0):.1f}%, "
                             f"{p['ws353'] or 0:.3f}")
        rows.append(f"| {config} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def report(points, stopped) -> str:
    lines = ["Each cell: training seconds, analogy %, WS353 (medians over repeats).", "",
             table(points, stopped), ""]
    for measure, label in MEASURES:
        misses = undominated(points, measure)
        if not misses:
            lines.append(f"{label}: w2v's frontier dominates every peer run.")
        else:
            lines.append(f"{label}: w2v has no run as fast and as good as: " + "; ".join(
                f"{p['config']} {p['epochs']} ep ({p['train_s']:.0f} s, "
                f"{100 * p[measure] if measure == 'analogy' else p[measure]:.{1 if measure == 'analogy' else 3}f})"
                for p in misses))
    return "\n".join(lines)


def plot(points, path) -> str:
    try:
        import matplotlib
    except ImportError:
        raise SystemExit('the picture needs matplotlib: pip install ".[plot]"') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    configs = list(dict.fromkeys(p["config"] for p in points))
    for ax, (measure, label) in zip(axes, MEASURES):
        scale = 100 if measure == "analogy" else 1
        for config in configs:
            line = sorted((p for p in points if p["config"] == config and p.get(measure) is not None),
                          key=lambda p: p["epochs"])
            if not line:
                continue
            ax.plot([p["train_s"] for p in line], [scale * p[measure] for p in line],
                    marker="o", markersize=3, linewidth=2 if is_w2v(config) else 1,
                    linestyle="-" if is_w2v(config) else "--", label=config)
            last = line[-1]
            ax.annotate(f"{last['epochs']}", (last["train_s"], scale * last[measure]),
                        fontsize=7, xytext=(3, 0), textcoords="offset points")
        ax.set_xscale("log")
        ax.set(xlabel="training seconds (log scale)",
               ylabel=label + (" %" if measure == "analogy" else ""),
               title=f"{label} against training time")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower right")
    epochs = ", ".join(str(e) for e in sorted({p["epochs"] for p in points}))
    fig.text(0.5, -0.02, f"points: {epochs} epochs (the last of each line labelled); solid: "
             f"w2v, dashed: peers", ha="center", fontsize=8)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def one_run(config, epochs, corpus, args):
    tool, model, maxn = CONFIGS[config]
    result = bench.run_child(tool, corpus, args, epochs=epochs, model=model, minn=args.minn,
                             maxn=maxn, bucket=args.bucket)
    if result is not None:
        result.update(config=config, epochs=epochs)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", default=os.path.join(bench.DATA, "text8like.xz"))
    parser.add_argument("--configs", nargs="*", default=list(DEFAULT_CONFIGS),
                        choices=tuple(CONFIGS), metavar="CONFIG",
                        help=f"any of {', '.join(CONFIGS)} (those not installed are skipped)")
    parser.add_argument("--epochs", nargs="*", type=int, default=[1, 2, 3, 5, 10, 15])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-train-s", type=float, default=600.0,
                        help="a configuration stops at the epoch count whose run took longer")
    parser.add_argument("--word2vec-bin", default=None, help="path of a word2vec C binary")
    parser.add_argument("--minn", type=int, default=3, help="subwords: shortest n-gram")
    parser.add_argument("--bucket", type=int, default=2_000_000, help="subword hash buckets")
    parser.add_argument("--analogies", default=os.path.join(bench.DATA, "questions-words.txt"))
    parser.add_argument("--pairs", default=os.path.join(bench.DATA, "wordsim353.tsv"))
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "w2v-bench"))
    parser.add_argument("--json", default="frontier.json",
                        help="every run's figures, rewritten after each run")
    parser.add_argument("--plot", default="frontier.png", help="the picture ('' for none)")
    parser.add_argument("--from-json", nargs="*", default=None,
                        help="no training: table and picture from earlier --json files (a "
                             "later file's runs replace the same configuration and epochs "
                             "of an earlier one: points re-run on a quieter machine)")
    args = parser.parse_args()
    if any(e < 1 for e in args.epochs) or args.repeats < 1:
        parser.error("--epochs and --repeats must be >= 1")

    if args.from_json:
        runs, stopped = [], {}
        for path in args.from_json:       # a later file's runs replace an earlier one's
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
            redone = {(r["config"], r["epochs"]) for r in saved["runs"]}
            runs = [r for r in runs if (r["config"], r["epochs"]) not in redone] + saved["runs"]
            stopped.update(saved.get("stopped", {}))
    else:
        if not os.path.exists(args.corpus):
            print(f"corpus {args.corpus} not found: nothing to benchmark (give --corpus)")
            return 0
        os.makedirs(args.work, exist_ok=True)
        corpus = bench.prepare_corpus(args.corpus, args.work)
        configs = [c for c in args.configs if bench.available(CONFIGS[c][0], args)]
        skipped = [c for c in args.configs if c not in configs]
        if skipped:
            print(f"not installed, skipped: {', '.join(skipped)}", file=sys.stderr)
        runs, stopped = [], {}
        for repeat in range(args.repeats):
            for step, epochs in enumerate(sorted(args.epochs)):
                shift = (repeat + step) % max(len(configs), 1)   # tools alternate
                for config in configs[shift:] + configs[:shift]:
                    if config in stopped and epochs > stopped[config]:
                        continue
                    result = one_run(config, epochs, corpus, args)
                    if result is None:
                        continue
                    result["repeat"] = repeat
                    runs.append(result)
                    print(f"[{repeat + 1}/{args.repeats}] {config} {epochs} ep: "
                          f"{result['train_s']:.1f} s ({result['cpu_s']:.1f} CPU s), analogy "
                          f"{100 * result.get('analogy', 0):.1f}%, WS353 "
                          f"{result.get('ws353', float('nan')):.3f}", file=sys.stderr, flush=True)
                    if result["train_s"] > args.max_train_s:
                        stopped[config] = min(stopped.get(config, epochs), epochs)
                    with atomic_write(args.json) as f:
                        f.write(json.dumps({"runs": runs, "stopped": stopped,
                                            "corpus": corpus, "workers": args.workers},
                                           indent=1).encode("utf-8"))
    points = medians(runs)
    print(report(points, stopped))
    if args.plot and points:
        print(f"picture: {plot(points, args.plot)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
