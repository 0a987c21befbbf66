#!/usr/bin/env python
"""Memory of w2v against what it must hold: the model arrays and the id stream.

    python scripts/bench_memory.py [--corpus ../shared/data/enwiki70m.txt.xz] [--optimizer sgd]
    python scripts/bench_memory.py --make-big BIG.txt [--copies 14]
    python scripts/bench_memory.py --mapped BIG.txt --cache BIG.ids [--train-seconds 300]
    python scripts/bench_memory.py --speed [--corpus ../shared/data/text8like.xz] [--rounds 3]

The first form builds the vocabulary (streaming the file, decompressing on the fly)
and trains one epoch with the id stream in memory, then prints the peak resident
memory (VmHWM) next to W_in + W_out (+ Adam moments) + the int32 id stream.

--make-big writes enwiki70m `--copies` times into one file (14 copies: ~1 billion
tokens, 5.8 GB; generate it in a scratch folder, never in the repository).

--mapped measures a corpus larger than one wants in memory: one process writes the
corpus cache (`corpus_cache`), a second reuses it and trains from the memory-mapped
file (for --train-seconds, then stops as Ctrl-C would, or --epochs in full). Each
reports its peak anonymous memory (RssAnon from /proc/self/status, sampled every
50 ms): what the process holds beyond mapped files, against the model arrays.

--speed trains one epoch from the id stream in memory and one from the mapped cache,
alternating, --rounds times (fresh vectors each time), and prints words/s and the
ratio, round by round and the median.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
MB = 2 ** 20


def status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def peak_mb() -> float:
    return status_kb("VmHWM") / 1024.0


class AnonPeak:
    """The highest RssAnon seen, sampled by a thread every `interval` seconds."""

    def __init__(self, interval: float = 0.05):
        self.peak_kb = status_kb("RssAnon")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval):
        while not self._stop.wait(interval):
            self.peak_kb = max(self.peak_kb, status_kb("RssAnon"))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, status_kb("RssAnon"))
        return self.peak_kb / 1024.0


def model_arrays_bytes(model) -> int:
    return sum(a.nbytes for a in (model.W_in, model.W_out) + (model.adam_moments() or ()))


# ------------------------------------------------------------ in memory (default)
def in_memory(args) -> int:
    from w2v import Word2Vec
    started = time.perf_counter()
    model = Word2Vec(optimizer=args.optimizer, workers=args.workers, epochs=1,
                     rollback_on_divergence=not args.no_rollback)
    model.build_vocab(args.corpus)
    build_s, build_peak = time.perf_counter() - started, peak_mb()
    model.train(progress=False)
    report = model.last_report
    arrays = model_arrays_bytes(model)
    ids = model.corpus.ids.nbytes + model.corpus.sentence_starts.nbytes
    print(f"{os.path.basename(args.corpus)}: {model.corpus.stats.tokens:,} tokens, "
          f"{len(model.vocab):,} words; vocabulary and id stream in {build_s:.1f} s "
          f"(peak {build_peak:.0f} MB); one {args.optimizer} epoch at "
          f"{report.words_per_second / 1e6:.2f} M words/s")
    # The rollback copy (rollback_on_divergence) goes to a temporary file, not memory.
    print(f"peak RSS {peak_mb():.0f} MB = model arrays {arrays / MB:.0f} MB"
          + f" + id stream {ids / MB:.0f} MB + {peak_mb() - (arrays + ids) / MB:.0f} MB"
          + ("" if model.config.rollback_on_divergence else "   (--no-rollback)"))
    return 0


# ----------------------------------------------------------- the big corpus file
def make_big(args) -> int:
    if not os.path.exists(args.corpus):
        print(f"{args.corpus} not found: nothing to copy")
        return 1
    from w2v.data.corpus import open_text
    started = time.perf_counter()
    with open(args.make_big, "wb") as out:
        for _ in range(args.copies):
            with open_text(args.corpus) as text:
                while True:
                    block = text.buffer.read(1 << 24)
                    if not block:
                        break
                    out.write(block)
            out.write(b"\n")
    print(f"{args.make_big}: {args.copies} copies of {os.path.basename(args.corpus)}, "
          f"{os.path.getsize(args.make_big) / 2**30:.2f} GiB in {time.perf_counter() - started:.0f} s")
    return 0


# ---------------------------------------------------------- the mapped id stream
def phase(args) -> int:
    """One process of --mapped: 'build' writes the cache, 'train' reuses it and trains."""
    from w2v import Word2Vec
    # a shell's background job starts with Ctrl-C ignored: restore it, the time limit sends it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    config = dict(optimizer=args.optimizer, workers=args.workers, epochs=args.epochs,
                  corpus_cache=args.cache, min_count=args.min_count)
    watch = AnonPeak()
    anon_start = status_kb("RssAnon") / 1024.0
    started = time.perf_counter()
    model = Word2Vec(**config)
    model.build_vocab(args.mapped)
    result = {"phase": args.phase, "build_s": time.perf_counter() - started,
              "tokens": model.corpus.stats.tokens, "ids": model.corpus.n_words,
              "vocab": len(model.vocab), "cache_bytes": os.path.getsize(args.cache),
              "id_stream_bytes": model.corpus.ids.nbytes + model.corpus.sentence_starts.nbytes,
              "anon_start_mb": anon_start, "arrays_bytes": model_arrays_bytes(model),
              "mapped": model.corpus.cache_path is not None}
    if args.phase == "train":
        timer = None
        if args.train_seconds:
            timer = threading.Timer(args.train_seconds, os.kill, (os.getpid(), signal.SIGINT))
            timer.start()
        try:
            model.train(progress=False)
        except KeyboardInterrupt:
            pass
        finally:
            if timer is not None:
                timer.cancel()
        report = model.last_report
        result.update(train_s=report.seconds, trained_words=report.raw_words,
                      words_per_second=report.words_per_second, interrupted=report.interrupted)
    result["anon_peak_mb"] = watch.stop()
    result["rss_peak_mb"] = peak_mb()
    print("RESULT " + json.dumps(result))
    return 0


def mapped(args) -> int:
    if not os.path.exists(args.mapped):
        print(f"{args.mapped} not found: make it with --make-big")
        return 1
    if args.cache is None:
        raise SystemExit("--mapped needs --cache PATH (a file beside the corpus, not in the repository)")
    results = {}
    for name in args.phases:
        if name == "build" and os.path.exists(args.cache) and not args.rebuild:
            print(f"{args.cache} exists: reusing it (--rebuild to write it again)")
            continue
        command = [sys.executable, os.path.abspath(__file__), "--phase", name,
                   "--mapped", args.mapped, "--cache", args.cache, "--optimizer", args.optimizer,
                   "--workers", str(args.workers), "--epochs", str(args.epochs),
                   "--train-seconds", str(args.train_seconds), "--min-count", str(args.min_count)]
        if name == "build" and os.path.exists(args.cache):
            os.unlink(args.cache)
        run = subprocess.run(command, capture_output=True, text=True)
        lines = [l for l in run.stdout.splitlines() if l.startswith("RESULT ")]
        if run.returncode or not lines:
            print(run.stdout + run.stderr)
            return 1
        results[name] = json.loads(lines[-1][len("RESULT "):])
    for name, r in results.items():
        arrays = r["arrays_bytes"] / MB
        line = (f"{name}: {r['tokens']:,} tokens, {r['vocab']:,} words, id stream "
                f"{r['id_stream_bytes'] / MB:,.0f} MB (cache file {r['cache_bytes'] / MB:,.0f} MB); "
                f"vocabulary + id stream {'written' if name == 'build' else 'reused'} in "
                f"{r['build_s']:.1f} s")
        if name == "train":
            line += (f"; trained {r['trained_words']:,} words in {r['train_s']:.0f} s "
                     f"({r['words_per_second'] / 1e6:.2f} M words/s"
                     f"{', stopped by the time limit' if r['interrupted'] else ''})")
        print(line)
        print(f"  peak RssAnon {r['anon_peak_mb']:,.0f} MB = model arrays {arrays:,.0f} MB + "
              f"{r['anon_peak_mb'] - arrays:,.0f} MB (interpreter and libraries at start: "
              f"{r['anon_start_mb']:.0f} MB); peak RSS with mapped pages {r['rss_peak_mb']:,.0f} MB")
    return 0


# ----------------------------------------------------------------- words/s
def speed(args) -> int:
    if not os.path.exists(args.corpus):
        print(f"{args.corpus} not found: nothing to benchmark")
        return 0
    from w2v import Config, Word2Vec, build_corpus
    sys.path.insert(0, HERE)
    from bench import prepare_corpus          # scripts/bench.py: decompresses once, to a temp folder
    work = os.path.join(tempfile.gettempdir(), "w2v-bench")
    os.makedirs(work, exist_ok=True)
    path = prepare_corpus(args.corpus, work)["plain"]
    cache = args.cache or os.path.join(work, os.path.basename(path) + ".ids")
    started = time.perf_counter()
    memory, vocab = build_corpus(path, Config())
    memory_s = time.perf_counter() - started
    started = time.perf_counter()
    written, _ = build_corpus(path, Config(corpus_cache=cache))
    written_s = time.perf_counter() - started
    del written
    started = time.perf_counter()
    mapped_corpus, _ = build_corpus(path, Config(corpus_cache=cache))
    reused_s = time.perf_counter() - started
    print(f"{os.path.basename(path)}: {memory.stats.tokens:,} tokens; id stream in memory "
          f"{memory_s:.1f} s, written to the cache {written_s:.1f} s, cache reused {reused_s:.1f} s")
    # words/s of wall time, and words per CPU second (all threads): on a busy machine the
    # second moves less with what else runs
    speeds = {"memory": [], "mapped": []}
    cpu = {"memory": [], "mapped": []}
    for r in range(args.rounds):
        order = ("memory", "mapped") if r % 2 == 0 else ("mapped", "memory")
        for name in order:
            corpus = memory if name == "memory" else mapped_corpus
            model = Word2Vec(optimizer=args.optimizer, workers=args.workers, epochs=1, seed=r + 1)
            model.build_vocab(corpus, vocab=vocab)
            cpu_before = time.process_time()
            model.train(progress=False)
            cpu[name].append(model.last_report.raw_words / (time.process_time() - cpu_before))
            speeds[name].append(model.last_report.words_per_second)
        print(f"round {r + 1}: memory {speeds['memory'][-1] / 1e6:.3f}, mapped "
              f"{speeds['mapped'][-1] / 1e6:.3f} M words/s, mapped/memory "
              f"{speeds['mapped'][-1] / speeds['memory'][-1]:.3f}; per CPU second "
              f"{cpu['memory'][-1] / 1e6:.3f}, {cpu['mapped'][-1] / 1e6:.3f} M words, "
              f"{cpu['mapped'][-1] / cpu['memory'][-1]:.3f}")
    for figures, unit in ((speeds, "M words/s"), (cpu, "M words per CPU second")):
        ratios = [b / a for a, b in zip(figures["memory"], figures["mapped"])]
        print(f"median: memory {statistics.median(figures['memory']) / 1e6:.3f}, mapped "
              f"{statistics.median(figures['mapped']) / 1e6:.3f} {unit}; mapped/memory ratio "
              f"median {statistics.median(ratios):.3f} (range {min(ratios):.3f}-"
              f"{max(ratios):.3f}); {args.optimizer}, {args.workers} threads, one epoch a run")
    if not args.cache:
        os.unlink(cache)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=None, help="default: enwiki70m (text8like for --speed)")
    parser.add_argument("--optimizer", default="sgd", choices=("sgd", "adam"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-rollback", action="store_true",
                        help="rollback_on_divergence=False: no copy of the arrays at epoch starts")
    parser.add_argument("--make-big", metavar="OUT", help="write --copies copies of the corpus to OUT")
    parser.add_argument("--copies", type=int, default=14)
    parser.add_argument("--mapped", metavar="TEXT", help="train from a corpus cache of TEXT")
    parser.add_argument("--cache", metavar="PATH", help="the corpus cache file")
    parser.add_argument("--rebuild", action="store_true", help="--mapped: write the cache again")
    parser.add_argument("--phases", nargs="+", choices=("build", "train"), default=["build", "train"],
                        help="--mapped: write the cache (build), train from it (train), or both")
    parser.add_argument("--train-seconds", type=float, default=300,
                        help="--mapped: stop training after this long (0: run --epochs in full)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--speed", action="store_true", help="words/s, memory against mapped")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--phase", choices=("build", "train"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    default = "text8like.xz" if args.speed else "enwiki70m.txt.xz"
    args.corpus = args.corpus or os.path.join(DATA, default)
    if args.phase:
        return phase(args)
    if args.make_big:
        return make_big(args)
    if args.mapped:
        return mapped(args)
    if args.speed:
        return speed(args)
    if not os.path.exists(args.corpus):
        print(f"{args.corpus} not found: nothing to measure")
        return 0
    return in_memory(args)


if __name__ == "__main__":
    sys.exit(main())
