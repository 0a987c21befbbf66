#!/usr/bin/env python
"""Phrase detection, w2v against gensim's Phrases: learning, joining, memory, output.

    python scripts/bench_phrases.py [--corpus ../shared/data/text8like.xz] [--repeats 2]
    python scripts/bench_phrases.py --corpus ../shared/data/enwiki70m.txt.xz --no-gensim
    python scripts/bench_phrases.py --train      # + CBOW on the phrased text, analogies

The corpus is first written (once, into --workdir) in lines of 1,000 words, so that
both tools read the same sentences (gensim's LineSentence). Each measurement runs in a
child process of its own, the tools alternating, and reports wall time, CPU time (user
+ system: less disturbed by a busy machine) and peak resident memory (VmHWM). Both
tools use min_count=5, threshold=10 (gensim's defaults); the phrases found and the
joined text are compared.

--train: learn two passes of phrases with w2v, train CBOW (w2v's defaults) on the
joined text and on the plain text (sgd unless --optimizer adam), and report the phrase-analogy accuracy
(questions-phrases.txt, every phrase in the vocabulary, case-insensitive) with how many
questions were answerable, and the word-analogy accuracy (30,000 most frequent words)
and WS353 Spearman of both.
"""
import argparse
import json
import lzma
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))

W2V_CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
from w2v import Phrases
corpus, out, model_path, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
t0, c0 = time.perf_counter(), cpu()
phrases = Phrases(corpus, **params)
t1, c1 = time.perf_counter(), cpu()
phrases.transform_file(corpus, out)
t2, c2 = time.perf_counter(), cpu()
phrases.save(model_path)
peak = int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]) / 1024
print(json.dumps({{"learn_s": t1 - t0, "learn_cpu": c1 - c0, "apply_s": t2 - t1,
                  "apply_cpu": c2 - c1, "peak_mb": peak, "phrases": len(phrases)}}))
"""

GENSIM_CHILD = r"""
import json, resource, sys, time
from gensim.models.phrases import Phrases
from gensim.models.word2vec import LineSentence
corpus, out, grams_path, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime
t0, c0 = time.perf_counter(), cpu()
model = Phrases(LineSentence(corpus), **params)
t1, c1 = time.perf_counter(), cpu()
frozen = model.freeze()
del model
t2, c2 = time.perf_counter(), cpu()
with open(out, "w", encoding="utf-8") as f:
    for sentence in LineSentence(corpus):
        f.write(" ".join(frozen[sentence]) + "\n")
t3, c3 = time.perf_counter(), cpu()
json.dump(frozen.phrasegrams, open(grams_path, "w"))
peak = int([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]) / 1024
print(json.dumps({"learn_s": t2 - t0, "learn_cpu": c2 - c0, "apply_s": t3 - t2,
                  "apply_cpu": c3 - c2, "peak_mb": peak, "phrases": len(frozen.phrasegrams)}))
"""


def lines_of_1000(corpus: str, workdir: str) -> str:
    """The corpus in lines of 1,000 words (written once)."""
    name = os.path.basename(corpus)
    for ext in (".xz", ".txt"):
        name = name[: -len(ext)] if name.endswith(ext) else name
    path = os.path.join(workdir, name + ".1000.txt")
    if os.path.exists(path):
        return path
    opener = lzma.open if corpus.endswith(".xz") else open
    tmp = path + ".tmp"
    with opener(corpus, "rt", encoding="utf-8") as f, open(tmp, "w", encoding="utf-8") as out:
        words, carry = [], ""
        while True:
            block = f.read(1 << 24)
            text = carry + block
            carry = ""
            if block:                       # keep a word cut by the block end for later
                cut = max(text.rfind(" "), text.rfind("\n"))
                text, carry = (text[:cut], text[cut:]) if cut >= 0 else ("", text)
            words.extend(text.split())
            n = len(words) - len(words) % 1000 if block else len(words)
            for i in range(0, n, 1000):
                out.write(" ".join(words[i:i + 1000]) + "\n")
            words = words[n:]
            if not block:
                break
    os.replace(tmp, path)
    return path


def run_child(code: str, *args) -> dict:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def same_phrases(w2v_model_path: str, gensim_grams_path: str) -> str:
    sys.path.insert(0, ROOT)
    from w2v import Phrases
    ours = Phrases.load(w2v_model_path).phrasegrams
    theirs = json.load(open(gensim_grams_path))
    differ = [p for p in set(ours) | set(theirs)
              if p not in ours or p not in theirs or abs(ours[p] - theirs[p]) > 1e-9 * abs(theirs[p])]
    return "identical" if not differ else f"{len(differ)} differ, e.g. {sorted(differ)[:5]}"


def files_equal(a: str, b: str) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 24), fb.read(1 << 24)
            if x != y:
                return False
            if not x:
                return True


def speed(args, corpus: str) -> None:
    params = {"min_count": args.min_count, "threshold": args.threshold}
    w2v_code = W2V_CHILD.format(root=ROOT)
    outs = {tool: os.path.join(args.workdir, f"joined.{tool}.txt") for tool in ("w2v", "gensim")}
    model_path = os.path.join(args.workdir, "bench.phrases.npz")
    grams_path = os.path.join(args.workdir, "gensim.phrasegrams.json")
    results = {"w2v": [], "gensim": []}
    tools = ["w2v"] + ([] if args.no_gensim else ["gensim"])
    for repeat in range(args.repeats):
        for tool in (tools if repeat % 2 == 0 else tools[::-1]):
            if tool == "w2v":
                r = run_child(w2v_code, corpus, outs["w2v"], model_path, json.dumps(params))
            else:
                r = run_child(GENSIM_CHILD, corpus, outs["gensim"], grams_path, json.dumps(params))
            results[tool].append(r)
            print(f"  run {repeat + 1} {tool}: learn {r['learn_s']:.1f} s ({r['learn_cpu']:.1f} s cpu), "
                  f"apply {r['apply_s']:.1f} s ({r['apply_cpu']:.1f} s cpu), peak {r['peak_mb']:.0f} MB, "
                  f"{r['phrases']:,} phrases", flush=True)
    med = {tool: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
           for tool, runs in results.items() if runs}
    print(f"\n{os.path.basename(corpus)}, min_count={args.min_count}, threshold={args.threshold}, "
          f"medians of {args.repeats}:")
    print("| tool | learn s (cpu s) | apply s (cpu s) | peak MB | phrases |")
    print("| --- | --- | --- | --- | --- |")
    for tool, m in med.items():
        print(f"| {tool} | {m['learn_s']:.1f} ({m['learn_cpu']:.1f}) | {m['apply_s']:.1f} "
              f"({m['apply_cpu']:.1f}) | {m['peak_mb']:.0f} | {m['phrases']:,.0f} |")
    if "gensim" in med:
        w, g = med["w2v"], med["gensim"]
        print(f"speed-up: learn {g['learn_s'] / w['learn_s']:.1f}x wall, "
              f"{g['learn_cpu'] / w['learn_cpu']:.1f}x cpu; apply {g['apply_s'] / w['apply_s']:.1f}x "
              f"wall, {g['apply_cpu'] / w['apply_cpu']:.1f}x cpu; peak memory "
              f"{w['peak_mb'] / g['peak_mb']:.2f} of gensim's")
        print(f"phrases: {same_phrases(model_path, grams_path)}; joined text: "
              f"{'identical' if files_equal(outs['w2v'], outs['gensim']) else 'DIFFERENT'}")


def train_and_evaluate(args, corpus: str) -> None:
    sys.path.insert(0, ROOT)
    from w2v import Phrases, Word2Vec
    from w2v.evaluation import evaluate_analogies, evaluate_word_pairs
    questions = os.path.join(DATA, "questions-phrases.txt")
    words = os.path.join(DATA, "questions-words.txt")
    pairs = os.path.join(DATA, "wordsim353.tsv")
    started = time.perf_counter()
    phrases = Phrases(corpus, min_count=args.min_count, threshold=args.threshold, passes=2)
    print(phrases.summary())
    print(f"phrases learned in {time.perf_counter() - started:.1f} s")
    for label, source_phrases in (("with phrases (2 passes)", phrases), ("plain", None)):
        started = time.perf_counter()
        model = Word2Vec(corpus, phrases=source_phrases, workers=args.workers, progress=False,
                         seed=args.seed, optimizer=args.optimizer)
        seconds = time.perf_counter() - started
        ph = evaluate_analogies(model, questions, restrict_vocab=None)
        total = ph["answered"] + ph["skipped"]
        wa = evaluate_analogies(model, words, restrict_vocab=30000)
        ws = evaluate_word_pairs(model, pairs) if os.path.exists(pairs) else None
        ws_text = "" if ws is None else f", WS353 {_spearman(ws):.3f}"
        print(f"{label}: {len(model.vocab):,} words, {model.corpus.n_words:,} tokens, vocabulary "
              f"+ training {seconds:.0f} s; phrase analogies "
              f"{100 * ph['accuracy']:.1f}% of {ph['answered']:,} answerable (of {total:,}); "
              f"word analogies {100 * wa['accuracy']:.1f}% of {wa['answered']:,}{ws_text}",
              flush=True)


def _spearman(result):
    if isinstance(result, dict):
        return result.get("spearman", float("nan"))
    return result[1][0] if isinstance(result, tuple) else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.path.join(DATA, "text8like.xz"))
    parser.add_argument("--workdir", default="/tmp/w2v-bench-phrases")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=10.0)
    parser.add_argument("--no-gensim", action="store_true", help="time w2v only")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed comparison")
    parser.add_argument("--train", action="store_true", help="train CBOW with and without phrases")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--optimizer", default="sgd", choices=("sgd", "adam"))
    args = parser.parse_args()
    if not os.path.exists(args.corpus):
        print(f"{args.corpus} not found: nothing to measure")
        return 0
    if not args.no_gensim:
        try:
            import gensim  # noqa: F401
        except ImportError:
            print("gensim not installed: timing w2v only")
            args.no_gensim = True
    os.makedirs(args.workdir, exist_ok=True)
    corpus = lines_of_1000(args.corpus, args.workdir)
    if not args.no_speed:
        speed(args, corpus)
    if args.train:
        train_and_evaluate(args, corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
