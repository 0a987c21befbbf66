"""Benchmarks of the vector queries and of the native file's memory-mapping.

    python scripts/bench_vectors.py queries [--sizes 70000x100 2000000x300] [--repeats 5]
    python scripts/bench_vectors.py mmap --rows 2000000 --dim 300 [--dir /tmp] [--repeats 3]

queries: the time of one most_similar on a matrix of the given shape as w2v does it now
(V @ q divided by norms computed at the query, so that edits of V are seen) against a
cache of unit vectors (what w2v did before: a copy of V at unit length, stale after an
edit). Each repeat runs the variants back to back; medians are printed.

mmap: writes a WordVectors file of `rows` x `dim` random float32 vectors, then, each in a
fresh process, alternating, opens it with WordVectors.load(mmap="r") and with
WordVectors.load() (read): the seconds to open, the process's resident memory after
opening (anonymous and file-backed), and the same after one query over every row.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def memory_mb():
    """(resident, anonymous, file-backed) memory of this process in MB (Linux)."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields


def bench_queries(sizes, repeats):
    from w2v.vectors import WordVectors
    for size in sizes:
        rows, dim = (int(x) for x in size.split("x"))
        rng = np.random.default_rng(0)
        vectors = rng.standard_normal((rows, dim), dtype=np.float32)
        words = [f"w{i}" for i in range(rows)]
        wv = WordVectors(vectors, words)
        start = time.perf_counter()
        unit = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        cache_seconds = time.perf_counter() - start
        query = unit[1]
        timings = {"matrix product V @ q": [], "norms of V": [],
                   "most_similar now (norms per query)": [],
                   "cached unit vectors (before)": []}
        for _ in range(repeats):
            for name, run in (
                    ("matrix product V @ q", lambda: vectors @ query),
                    ("norms of V", lambda: np.sqrt(np.einsum("ij,ij->i", vectors, vectors))),
                    ("most_similar now (norms per query)", lambda: wv.most_similar("w1")),
                    ("cached unit vectors (before)", lambda: _cached_top(unit, query))):
                start = time.perf_counter()
                run()
                timings[name].append(time.perf_counter() - start)
        base = statistics.median(timings["cached unit vectors (before)"])
        print(f"\n{rows:,} x {dim}: medians of {repeats} (building the cache once: "
              f"{cache_seconds * 1e3:.0f} ms, {unit.nbytes / 2**20:.0f} MB)")
        for name, values in timings.items():
            median = statistics.median(values)
            print(f"  {name:38s} {median * 1e3:9.1f} ms  {median / base:5.2f}x the cached query")
        del vectors, unit, wv


def _cached_top(unit, query, topn=10):
    scores = unit @ query
    best = np.argpartition(-scores, topn)[:topn]
    return best[np.argsort(-scores[best])]


def write_big_file(path, rows, dim):
    from w2v.vectors import WordVectors
    rng = np.random.default_rng(0)
    vectors = np.empty((rows, dim), dtype=np.float32)
    for lo in range(0, rows, 100_000):
        vectors[lo:lo + 100_000] = rng.standard_normal((min(100_000, rows - lo), dim),
                                                       dtype=np.float32)
    words = [f"w{i:07d}" for i in range(rows)]
    start = time.perf_counter()
    WordVectors(vectors, words, np.arange(rows, 0, -1, dtype=np.int64)).save(path)
    return time.perf_counter() - start


def open_once(path, mmap):
    """Run in a child: open, report time and memory, query, report again (JSON)."""
    from w2v.vectors import WordVectors
    before = memory_mb()
    start = time.perf_counter()
    wv = WordVectors.load(path, mmap=mmap)
    opened = time.perf_counter() - start
    after_open = memory_mb()
    start = time.perf_counter()
    wv.most_similar(wv.index_to_key[0], topn=10)
    queried = time.perf_counter() - start
    after_query = memory_mb()
    print(json.dumps({"mmap": mmap, "open_s": opened, "query_s": queried, "before": before,
                      "after_open": after_open, "after_query": after_query}))


def bench_mmap(rows, dim, directory, repeats, keep):
    path = os.path.join(directory, f"bench_vectors_{rows}x{dim}.npz")
    if not os.path.exists(path):
        seconds = write_big_file(path, rows, dim)
        print(f"wrote {path}: {os.path.getsize(path) / 2**30:.2f} GiB in {seconds:.1f} s")
    results = {"r": [], None: []}
    for _ in range(repeats):
        for mmap in ("r", None):
            out = subprocess.run([sys.executable, __file__, "_open", path, str(mmap)],
                                 check=True, capture_output=True, text=True).stdout
            results[mmap].append(json.loads(out.strip().splitlines()[-1]))
    print(f"\n{rows:,} x {dim} float32 ({os.path.getsize(path) / 2**30:.2f} GiB), medians of "
          f"{repeats} fresh processes, alternating; memory in MB above the interpreter's")
    print(f"{'load':12s} {'open s':>8s} {'RSS':>8s} {'anon':>8s} {'file':>8s} | "
          f"{'query s':>8s} {'RSS':>8s} {'anon':>8s} {'file':>8s}")
    for mmap, runs in results.items():
        def med(key, field=None):
            return statistics.median(r[key] if field is None else r[key][field] - r["before"][field]
                                     for r in runs)
        label = "mmap='r'" if mmap else "read"
        print(f"{label:12s} {med('open_s'):8.2f} "
              f"{med('after_open', 'VmRSS'):8.0f} {med('after_open', 'RssAnon'):8.0f} "
              f"{med('after_open', 'RssFile'):8.0f} | {med('query_s'):8.2f} "
              f"{med('after_query', 'VmRSS'):8.0f} {med('after_query', 'RssAnon'):8.0f} "
              f"{med('after_query', 'RssFile'):8.0f}")
    if not keep:
        os.unlink(path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_open"]:
        return open_once(argv[1], None if argv[2] == "None" else argv[2])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    q = sub.add_parser("queries")
    q.add_argument("--sizes", nargs="+", default=["70000x100", "2000000x300"])
    q.add_argument("--repeats", type=int, default=5)
    m = sub.add_parser("mmap")
    m.add_argument("--rows", type=int, default=2_000_000)
    m.add_argument("--dim", type=int, default=300)
    m.add_argument("--dir", default="/tmp")
    m.add_argument("--repeats", type=int, default=3)
    m.add_argument("--keep", action="store_true", help="keep the file for another run")
    args = parser.parse_args(argv)
    if args.what == "queries":
        bench_queries(args.sizes, args.repeats)
    else:
        bench_mmap(args.rows, args.dim, args.dir, args.repeats, args.keep)


if __name__ == "__main__":
    main()
