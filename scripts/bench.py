#!/usr/bin/env python
"""Side-by-side benchmark: w2v (adam, sgd) and the peers that are installed, same corpus,
same model and settings (100 dims, window 5, sample 1e-3, min_count 5, 5 epochs; 5
negatives, or hierarchical softmax with --model *-hs).

    python scripts/bench.py                          # text8like from ../shared/data, all tools found
    python scripts/bench.py --tools w2v-adam w2v-sgd --repeats 3
    python scripts/bench.py --model sg --word2vec-bin ~/word2vec/bin/word2vec
    python scripts/bench.py --model sg --tools w2v-sgd w2v-sgd:shared_negatives=false gensim-file
    python scripts/bench.py --tools w2v-sgd fasttext gensim-file --minn 3 --maxn 6  # subwords

--model: cbow (default), sg (skip-gram), cbow-hs, sg-hs (hierarchical softmax, no
negatives). Every peer runs the same model: gensim sg=1 / hs=1 negative=0, fastText
skipgram / loss hs (minn=maxn=0: no subwords), word2vec C -cbow 0 / -hs 1 -negative 0;
with --maxn > 0 gensim runs its FastText (min_n, max_n, bucket) and fastText its n-grams;
each keeps its own learning rate for the model (gensim and word2vec C: alpha 0.025 for
skip-gram, 0.025 / 0.05 for CBOW; fastText: lr 0.05), as their users get it. A w2v tool
may carry Config fields: w2v-sgd:alpha=0.05,shared_negatives=false.

Peers come from `pip install .[bench]` (gensim, fasttext); word2vec C only when its
binary is given. Every run is a fresh subprocess (so peak RSS is its own); runs
alternate between tools so machine noise hits all alike; figures are medians over
repeats. words/s = raw corpus words x epochs / training seconds; CPU s = CPU time
(user + system, all threads; word2vec C's and fastText's include their vocabulary
scan) of training, which other jobs on a shared machine do not inflate as they do the
wall clock: "by CPU" compares the work each tool needs per word. Analogy: Google
questions-words restricted to the 30,000 most frequent words (gensim's
restrict_vocab=30000); WS353: Spearman of cosine with human scores.
"""
import argparse
import json
import lzma
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from w2v.io import atomic_write

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
TOOLS = ("w2v-adam", "w2v-sgd", "gensim", "gensim-file", "fasttext", "word2vec-c")
MODELS = {"cbow": {"sg": False, "hs": False}, "sg": {"sg": True, "hs": False},
          "cbow-hs": {"sg": False, "hs": True}, "sg-hs": {"sg": True, "hs": True}}


def parse_tool(text: str) -> str:
    """Check a TOOL[:key=value,...] argument (options only for w2v tools)."""
    tool, options = tool_options(text)
    if tool not in TOOLS:
        raise argparse.ArgumentTypeError(f"unknown tool {tool!r}: one of {', '.join(TOOLS)}")
    if options and not tool.startswith("w2v-"):
        raise argparse.ArgumentTypeError(f"{text!r}: only w2v tools take key=value options")
    return text


def peak_rss_mb(pid="self") -> float:
    """Peak resident memory of this process image. VmHWM, not ru_maxrss: on Linux the
    latter also counts the parent's memory at the time of the fork."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_seconds() -> float:
    """CPU time (user + system, every thread) of this process and of its reaped children:
    on a machine shared with other jobs, the work a run did, which waiting does not inflate."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def count_tokens(path) -> int:
    """Whitespace-separated tokens in a file, read in blocks (the file may be one line)."""
    tokens, carry = 0, b""
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 24)
            if not block:
                return tokens + len(carry.split())
            block = carry + block
            cut = max(block.rfind(b" "), block.rfind(b"\n"))
            if cut < 0:
                carry = block
                continue
            tokens += len(block[:cut].split())
            carry = block[cut:]


def prepare_corpus(path: str, work: str) -> dict:
    """Plain text of the corpus, plus a copy cut into 1,000-word lines for gensim's
    corpus_file mode (which keeps only the first 10,000 words of a line)."""
    plain = path
    if path.endswith(".xz"):
        plain = os.path.join(work, os.path.basename(path)[:-3])
        if not os.path.exists(plain):
            print(f"decompressing {path} -> {plain}", file=sys.stderr)
            with lzma.open(path, "rb") as src, open(plain + ".part", "wb") as dst:
                while True:
                    block = src.read(1 << 24)
                    if not block:
                        break
                    dst.write(block)
            os.replace(plain + ".part", plain)
    lines = os.path.join(work, os.path.basename(plain) + ".lines1000")
    if not os.path.exists(lines):
        with open(plain, encoding="utf-8") as src, open(lines + ".part", "w", encoding="utf-8") as dst:
            buffer = []
            for line in src:
                buffer.extend(line.split())
                full = len(buffer) - len(buffer) % 1000
                for start in range(0, full, 1000):
                    dst.write(" ".join(buffer[start:start + 1000]) + "\n")
                buffer = buffer[full:]
            if buffer:
                dst.write(" ".join(buffer) + "\n")
        os.replace(lines + ".part", lines)
    return {"plain": plain, "lines1000": lines, "tokens": count_tokens(plain)}


# ------------------------------------------------------------------ one tool, one run
def tool_options(text: str):
    tool, _, rest = text.partition(":")
    options = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return tool, options


def run_w2v(optimizer, corpus, args, options):
    from w2v import Word2Vec
    model_params = MODELS[args.model]
    params = dict(sg=model_params["sg"], hs=model_params["hs"],
                  negative=0 if model_params["hs"] else 5)
    if args.maxn:
        params.update(minn=args.minn, maxn=args.maxn, bucket=args.bucket)
    params.update(options)
    started = time.perf_counter()
    model = Word2Vec(optimizer=optimizer, workers=args.workers, epochs=args.epochs, **params)
    model.build_vocab(corpus["plain"])
    vocab_s = time.perf_counter() - started
    # the whole train() call, as the peers' training is timed: with the per-epoch copy of
    # the state kept for rolling back a divergence (0.8 GB with subwords) and the setup
    started, cpu = time.perf_counter(), cpu_seconds()
    model.train(progress=False)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    args.subword_vectors = lambda: model.wv           # SubwordVectors when maxn > 0
    return model.wv, vocab_s, seconds, cpu


def facebook_bin_vectors(save, work):
    """A peer's subword model as w2v's SubwordVectors (its .bin written by `save`, read
    back: every unseen word gets the vector the peer gives it, as tested)."""
    from w2v import load_vectors
    path = os.path.join(work, "peer-subwords.bin")
    save(path)
    return load_vectors(path)


def _gensim_vectors(model):
    from w2v import WordVectors
    return WordVectors(model.wv.vectors, list(model.wv.index_to_key))


def run_gensim(corpus, args, corpus_file):
    """gensim's Word2Vec, or its FastText when subwords are asked for (--maxn)."""
    from gensim.models import FastText as GensimFastText, Word2Vec as GensimWord2Vec
    from gensim.models.word2vec import Text8Corpus
    sg, hs = MODELS[args.model]["sg"], MODELS[args.model]["hs"]
    params = dict(sg=int(sg), vector_size=100, window=5, negative=0 if hs else 5, hs=int(hs),
                  sample=1e-3, min_count=5, workers=args.workers, epochs=args.epochs)
    if args.maxn:
        params.update(min_n=args.minn, max_n=args.maxn, bucket=args.bucket)
    model = (GensimFastText if args.maxn else GensimWord2Vec)(**params)
    # What a gensim user streams a text8-style file with: 10,000-word sentences.
    sentences = Text8Corpus(corpus["plain"], max_sentence_length=10000)
    started = time.perf_counter()
    if corpus_file:
        model.build_vocab(corpus_file=corpus["lines1000"])
    else:
        model.build_vocab(sentences)
    vocab_s = time.perf_counter() - started
    started, cpu = time.perf_counter(), cpu_seconds()
    if corpus_file:
        model.train(corpus_file=corpus["lines1000"], total_examples=model.corpus_count,
                    total_words=model.corpus_total_words, epochs=args.epochs)
    else:
        model.train(sentences, total_examples=model.corpus_count, epochs=args.epochs)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if args.maxn:
        from gensim.models.fasttext import save_facebook_model
        args.subword_vectors = lambda: facebook_bin_vectors(
            lambda path: save_facebook_model(model, path), args.work)
    return _gensim_vectors(model), vocab_s, seconds, cpu


def run_fasttext(corpus, args):
    import fasttext
    import numpy as np
    from w2v import WordVectors
    started, cpu = time.perf_counter(), cpu_seconds()
    sg, hs = MODELS[args.model]["sg"], MODELS[args.model]["hs"]
    model = fasttext.train_unsupervised(corpus["plain"], model="skipgram" if sg else "cbow",
                                        dim=100, ws=5, neg=5, loss="hs" if hs else "ns",
                                        t=1e-3, minCount=5, epoch=args.epochs,
                                        minn=args.minn if args.maxn else 0, maxn=args.maxn,
                                        bucket=args.bucket if args.maxn else 0,
                                        thread=args.workers, verbose=0)
    total, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if args.maxn:
        args.subword_vectors = lambda: facebook_bin_vectors(model.save_model, args.work)
    words = model.get_words()
    vectors = np.stack([model.get_word_vector(w) for w in words]).astype(np.float32)
    return WordVectors(vectors, words), None, total, cpu  # fastText does not time its vocabulary apart


def run_word2vec_c(corpus, args, work):
    from w2v import WordVectors
    from w2v.io import load_word2vec_format
    out = os.path.join(work, "word2vec-c.bin")
    started, cpu = time.perf_counter(), cpu_seconds()
    sg, hs = MODELS[args.model]["sg"], MODELS[args.model]["hs"]
    process = subprocess.Popen([args.word2vec_bin, "-train", corpus["plain"], "-output", out,
                                "-cbow", "0" if sg else "1", "-size", "100", "-window", "5",
                                "-negative", "0" if hs else "5", "-hs", "1" if hs else "0",
                                "-sample", "1e-3", "-threads", str(args.workers), "-binary", "1",
                                "-iter", str(args.epochs), "-min-count", "5",
                                "-alpha", "0.025" if sg else "0.05"],
                               stdout=subprocess.DEVNULL)
    rss = 0.0
    while process.poll() is None:          # its own peak memory, read while it runs
        rss = max(rss, peak_rss_mb(process.pid))
        time.sleep(0.05)
    total, cpu = time.perf_counter() - started, cpu_seconds() - cpu   # the reaped binary's too
    if process.returncode != 0:
        raise RuntimeError(f"word2vec exited with {process.returncode}")
    args.word2vec_rss = rss
    words, vectors = load_word2vec_format(out, binary=True)
    return WordVectors(vectors, words), None, total, cpu


def child(tool, args):
    corpus = json.loads(args.corpus_info)
    name = tool
    tool, options = tool_options(tool)
    if tool.startswith("w2v-"):
        wv, vocab_s, train_s, cpu_s = run_w2v(tool[4:], corpus, args, options)
    elif tool in ("gensim", "gensim-file"):
        wv, vocab_s, train_s, cpu_s = run_gensim(corpus, args, corpus_file=tool == "gensim-file")
    elif tool == "fasttext":
        wv, vocab_s, train_s, cpu_s = run_fasttext(corpus, args)
    else:
        wv, vocab_s, train_s, cpu_s = run_word2vec_c(corpus, args, args.work)
    rss = args.word2vec_rss if tool == "word2vec-c" else peak_rss_mb()
    result = {"tool": name, "vocab_s": vocab_s, "train_s": train_s, "cpu_s": cpu_s,
              "cpu_words_per_s": corpus["tokens"] * args.epochs / cpu_s, "peak_rss_mb": rss,
              "words_per_s": corpus["tokens"] * args.epochs / train_s, "vocab_size": len(wv)}
    from w2v.evaluation import evaluate_analogies, evaluate_word_pairs
    if os.path.exists(args.analogies):
        result["analogy"] = evaluate_analogies(wv, args.analogies, restrict_vocab=30000)["accuracy"]
    if os.path.exists(args.pairs):
        result["ws353"] = evaluate_word_pairs(wv, args.pairs)["spearman"]
    if args.maxn and getattr(args, "subword_vectors", None):
        # subwords also answer questions with a word outside the vocabulary (after the
        # peak memory above was read: a peer's model is written and read back for this)
        vectors = args.subword_vectors()
        if os.path.exists(args.analogies):
            found = evaluate_analogies(vectors, args.analogies, restrict_vocab=30000, oov_ngrams=True)
            result["analogy_ngrams"], result["analogy_oov_answered"] = \
                found["accuracy"], found["oov_answered"]
        if os.path.exists(args.pairs):
            found = evaluate_word_pairs(vectors, args.pairs, oov_ngrams=True)
            result["ws353_ngrams"], result["ws353_oov_answered"] = \
                found["spearman"], found["oov_answered"]
            result["ws353_pairs"] = found["pairs"]
    print("RESULT " + json.dumps(result), flush=True)


# ------------------------------------------------------------------------- driver
def available(tool, args) -> bool:
    tool = tool.partition(":")[0]
    if tool.startswith("w2v-"):
        return True
    if tool == "word2vec-c":
        return bool(args.word2vec_bin)
    module = {"gensim": "gensim", "gensim-file": "gensim", "fasttext": "fasttext"}[tool]
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def run_child(tool, corpus, args, *, epochs, model, minn, maxn, bucket):
    """One run of one tool in a fresh process (its own peak memory); its figures, or None
    (the failure printed) if it failed. args: workers, analogies, pairs, work, word2vec_bin."""
    command = [sys.executable, os.path.abspath(__file__), "--child", tool,
               "--corpus-info", json.dumps(corpus), "--workers", str(args.workers),
               "--epochs", str(epochs), "--model", model, "--minn", str(minn),
               "--maxn", str(maxn), "--bucket", str(bucket), "--analogies", args.analogies,
               "--pairs", args.pairs, "--work", args.work]
    if args.word2vec_bin:
        command += ["--word2vec-bin", args.word2vec_bin]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        print(f"{tool} ({model}, {epochs} epochs) failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1][7:])


def fmt(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def table(results, tools, args, corpus) -> str:
    def median(tool, key):
        values = [r[key] for r in results if r["tool"] == tool and r.get(key) is not None]
        return statistics.median(values) if values else None

    reference = "gensim-file" if median("gensim-file", "words_per_s") else "gensim"
    base = median(reference, "words_per_s")
    cpu_base = median(reference, "cpu_words_per_s")
    rows = [f"| tool | vocab s | train s | words/s | vs {reference} | CPU s | vs {reference} "
            f"by CPU | peak RSS MB | analogy % | WS353 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def ratio(value, reference_value):
        return fmt(reference_value and value and value / reference_value, ".2f") + \
            ("x" if reference_value and value else "")

    for tool in tools:
        wps, cpu_wps = median(tool, "words_per_s"), median(tool, "cpu_words_per_s")
        rows.append("| {} | {} | {} | {} M | {} | {} | {} | {} | {} | {} |".format(
            tool, fmt(median(tool, "vocab_s"), ".1f"), fmt(median(tool, "train_s"), ".1f"),
            fmt(wps and wps / 1e6, ".2f"), ratio(wps, base), fmt(median(tool, "cpu_s"), ".1f"),
            ratio(cpu_wps, cpu_base), fmt(median(tool, "peak_rss_mb"), ".0f"),
            fmt(median(tool, "analogy") and 100 * median(tool, "analogy"), ".1f"),
            fmt(median(tool, "ws353"), ".3f")))
    n = max(sum(r["tool"] == t for r in results) for t in tools)
    if any(median(tool, "ws353_ngrams") is not None for tool in tools):
        rows += ["", "With unseen words answered from their n-grams (oov_ngrams=True):", "",
                 "| tool | analogy % | questions answered by n-grams | WS353 | pairs answered "
                 "by n-grams |", "| --- | ---: | ---: | ---: | ---: |"]
        for tool in tools:
            rows.append("| {} | {} | {} | {} | {} of {} |".format(
                tool, fmt(median(tool, "analogy_ngrams") and 100 * median(tool, "analogy_ngrams"),
                          ".1f"), fmt(median(tool, "analogy_oov_answered"), ".0f"),
                fmt(median(tool, "ws353_ngrams"), ".3f"), fmt(median(tool, "ws353_oov_answered"),
                                                             ".0f"),
                fmt(median(tool, "ws353_pairs"), ".0f")))
    rows.append("")
    rows.append(f"{os.path.basename(corpus['plain'])}: {corpus['tokens']:,} words; model "
                f"{args.model}; {args.epochs} "
                f"epochs; {args.workers} threads; medians of {n} run(s) each; "
                f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
                f"python {platform.python_version()}.")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--corpus", default=os.path.join(DATA, "text8like.xz"))
    parser.add_argument("--tools", nargs="*", default=None, type=parse_tool,
                        help=f"any of {', '.join(TOOLS)}, w2v ones with :key=value options; "
                             f"default: every tool that is installed")
    parser.add_argument("--model", choices=tuple(MODELS), default="cbow",
                        help="the model every tool trains")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--word2vec-bin", default=None, help="path of a word2vec C binary")
    parser.add_argument("--minn", type=int, default=3, help="subwords (with --maxn > 0): "
                                                            "shortest n-gram, w2v and fastText")
    parser.add_argument("--maxn", type=int, default=0, help="longest n-gram; 0: no subwords")
    parser.add_argument("--bucket", type=int, default=2_000_000, help="subword hash buckets")
    parser.add_argument("--analogies", default=os.path.join(DATA, "questions-words.txt"))
    parser.add_argument("--pairs", default=os.path.join(DATA, "wordsim353.tsv"))
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "w2v-bench"))
    parser.add_argument("--json", default=None, help="also write every run's figures here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--corpus-info", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args)

    if not os.path.exists(args.corpus):
        print(f"corpus {args.corpus} not found: nothing to benchmark (give --corpus)")
        return 0
    os.makedirs(args.work, exist_ok=True)
    corpus = prepare_corpus(args.corpus, args.work)
    tools = [t for t in (args.tools or TOOLS) if available(t, args)]
    skipped = [t for t in (args.tools or TOOLS) if t not in tools]
    if skipped:
        print(f"not installed, skipped: {', '.join(skipped)}", file=sys.stderr)
    results = []
    for repeat in range(args.repeats):
        order = tools[repeat % len(tools):] + tools[:repeat % len(tools)]
        for tool in order:
            result = run_child(tool, corpus, args, epochs=args.epochs, model=args.model,
                               minn=args.minn, maxn=args.maxn, bucket=args.bucket)
            if result is None:
                continue
            result["repeat"] = repeat
            results.append(result)
            print(f"[{repeat + 1}/{args.repeats}] {tool}: train {result['train_s']:.1f} s "
                  f"({result['cpu_s']:.1f} CPU s), "
                  f"{result['words_per_s'] / 1e6:.2f} M words/s, "
                  f"analogy {100 * result.get('analogy', 0):.1f}%, "
                  f"WS353 {result.get('ws353', float('nan')):.3f}", file=sys.stderr, flush=True)
    if args.json:
        with atomic_write(args.json) as f:
            f.write(json.dumps(results, indent=1).encode("utf-8"))
    print(table(results, tools, args, corpus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
