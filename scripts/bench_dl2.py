#!/usr/bin/env python
"""The CBOW of "Deep Learning from Scratch 2", chapter 4, on Penn Treebank: w2v against a
plain NumPy implementation of the same recipe.

    python scripts/bench_dl2.py            # reads ../shared/data/ptb.train.txt.xz
    python scripts/bench_dl2.py --repeats 5   # the book's recipe 5 times (seeds 1..5): medians

Recipe (the book's): the training text as one stream with <eos> at line ends, every
word kept (no min_count, no subsampling), a fixed window of 5 words each side, 100
dimensions, 5 negatives from unigram^0.75, minibatches of 100 windows, Adam with
lr 0.001, 10 epochs. The NumPy version does what the book does: dense gradients of
the whole matrices (np.add.at) and a dense Adam over all of W_in and W_out every
step. It is timed on a slice of minibatches and extrapolated to the 10 epochs.
Quality: Google analogies within PTB's vocabulary, WS353 Spearman, and the book's
probes.
"""
import argparse
import lzma
import os
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
WINDOW, DIM, NEGATIVE, BATCH, LR, EPOCHS = 5, 100, 5, 100, 0.001, 10


def read_ptb(path):
    """The book's ptb.load_data: newlines become <eos>, one stream of words."""
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read().replace("\n", " <eos> ").split()


# ------------------------------------------------------------ NumPy, as the book does
class NumpyCBOW:
    def __init__(self, vocab_size, counts, seed=0):
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.W_in = (0.01 * rng.standard_normal((vocab_size, DIM))).astype(np.float32)
        self.W_out = (0.01 * rng.standard_normal((vocab_size, DIM))).astype(np.float32)
        self.m = [np.zeros_like(self.W_in), np.zeros_like(self.W_out)]
        self.v = [np.zeros_like(self.W_in), np.zeros_like(self.W_out)]
        self.t = 0
        p = counts.astype(np.float64) ** 0.75
        self.p = p / p.sum()

    def step(self, contexts, targets):
        """One minibatch: forward, backward into dense gradients, dense Adam."""
        batch = len(targets)
        negatives = self.rng.choice(len(self.p), size=(batch, NEGATIVE), p=self.p)
        outputs = np.concatenate([targets[:, None], negatives], axis=1)
        labels = np.zeros(outputs.shape, dtype=np.float32)
        labels[:, 0] = 1
        h = self.W_in[contexts].mean(axis=1)                     # B x D
        rows = self.W_out[outputs]                                # B x (1+k) x D
        p = 1 / (1 + np.exp(-np.einsum("bd,bkd->bk", h, rows)))
        loss = -np.mean(np.sum(labels * np.log(p + 1e-7) + (1 - labels) * np.log(1 - p + 1e-7), 1))
        g = (p - labels) / batch
        dh = np.einsum("bk,bkd->bd", g, rows) / contexts.shape[1]
        grads = [np.zeros_like(self.W_in), np.zeros_like(self.W_out)]
        np.add.at(grads[1], outputs, g[:, :, None] * h[:, None, :])
        np.add.at(grads[0], contexts, np.repeat(dh[:, None, :], contexts.shape[1], axis=1))
        self.t += 1
        lr_t = LR * np.sqrt(1 - 0.999 ** self.t) / (1 - 0.9 ** self.t)
        for param, grad, m, v in zip((self.W_in, self.W_out), grads, self.m, self.v):
            m += (1 - 0.9) * (grad - m)
            v += (1 - 0.999) * (grad * grad - v)
            param -= lr_t * m / (np.sqrt(v) + 1e-7)
        return loss


def numpy_seconds_per_batch(ids, vocab_size, counts, batches):
    model = NumpyCBOW(vocab_size, counts)
    offsets = np.concatenate([np.arange(-WINDOW, 0), np.arange(1, WINDOW + 1)])
    positions = np.arange(WINDOW, len(ids) - WINDOW)
    order = np.random.default_rng(1).permutation(positions)
    model.step(ids[order[:BATCH, None] + offsets], ids[order[:BATCH]])    # warm up
    started = time.perf_counter()
    for b in range(1, batches + 1):
        chosen = order[b * BATCH:(b + 1) * BATCH]
        model.step(ids[chosen[:, None] + offsets], ids[chosen])
    return (time.perf_counter() - started) / batches, len(positions)


# --------------------------------------------------------------------------- w2v
def train_w2v(stream, **params):
    from w2v import Word2Vec
    model = Word2Vec(**params)
    started = time.perf_counter()
    # one stream, as the book; in 10,000-word pieces (max_sentence_length) so that the
    # threads can share it out
    piece = model.config.max_sentence_length
    model.build_vocab([stream[start:start + piece] for start in range(0, len(stream), piece)])
    model.train(progress=False)
    return model, time.perf_counter() - started


def report(name, model, seconds, args, probes=True):
    from w2v.evaluation import evaluate_analogies, evaluate_word_pairs
    analogies = evaluate_analogies(model, args.analogies, restrict_vocab=None)
    pairs = evaluate_word_pairs(model, args.pairs)
    r = model.last_report
    print(f"\n## {name}: {r.seconds:.2f} s training ({seconds:.2f} s with the vocabulary), "
          f"{r.words_per_second / 1e6:.2f} M words/s, final loss {r.epochs[-1].loss:.3f}")
    print(f"analogy {100 * analogies['accuracy']:.2f}% of {analogies['answered']} questions "
          f"within the vocabulary; WS353 Spearman {pairs['spearman']:.3f} "
          f"({pairs['pairs']} pairs, {pairs['oov']} out of vocabulary)")
    if not probes:
        return analogies["accuracy"], pairs["spearman"], r.seconds
    for word in ("you", "year", "car", "toyota"):
        if word in model:
            print(f"  {word}: " + ", ".join(f"{w} {s:.2f}" for w, s in model.most_similar(word, topn=5)))
    for a, b, c in (("king", "man", "queen"), ("take", "took", "go"), ("car", "cars", "child"),
                    ("good", "better", "bad")):
        if all(w in model for w in (a, b, c)):
            answers = ", ".join(f"{w} {s:.2f}" for w, s in model.analogy(a, b, c, topn=3))
            print(f"  {a}:{b} = {c}:?  ->  {answers}")
    return analogies["accuracy"], pairs["spearman"], r.seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.path.join(DATA, "ptb.train.txt.xz"))
    parser.add_argument("--analogies", default=os.path.join(DATA, "questions-words.txt"))
    parser.add_argument("--pairs", default=os.path.join(DATA, "wordsim353.tsv"))
    parser.add_argument("--numpy-batches", type=int, default=30,
                        help="minibatches the NumPy version is timed on")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1,
                        help="train the book's recipe this many times (seeds 1, 2, ...) and "
                             "report the medians; the machine's noise is 10-20%% between runs")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats={args.repeats} is out of range: must be >= 1")
    if not os.path.exists(args.corpus):
        print(f"{args.corpus} not found: nothing to benchmark")
        return 0
    stream = read_ptb(args.corpus)
    print(f"PTB train: {len(stream):,} tokens with <eos>")

    recipe = dict(window=WINDOW, shrink_windows=False, vector_size=DIM, negative=NEGATIVE,
                  ns_exponent=0.75, batch_words=BATCH, optimizer="adam", lr=LR, min_lr=LR,
                  epochs=EPOCHS, sample=0.0, min_count=1, workers=args.workers, seed=1)
    runs = []
    for repeat in range(args.repeats):
        run_model, seconds = train_w2v(stream, **dict(recipe, seed=1 + repeat))
        runs.append(report(f"w2v, the book's recipe (seed {1 + repeat})", run_model, seconds,
                           args, probes=repeat == 0))
        if repeat == 0:
            model = run_model
    book_quality = tuple(statistics.median(run[i] for run in runs) for i in range(3))
    if args.repeats > 1:
        print(f"\n## the book's recipe over {args.repeats} runs: training seconds "
              + " ".join(f"{run[2]:.2f}" for run in runs)
              + f" (median {book_quality[2]:.2f}); analogy % "
              + " ".join(f"{100 * run[0]:.2f}" for run in runs)
              + f" (median {100 * book_quality[0]:.2f}); WS353 "
              + " ".join(f"{run[1]:.3f}" for run in runs) + f" (median {book_quality[1]:.3f})")
    tuned, seconds = train_w2v(stream, **dict(recipe, shrink_windows=True, lr=0.01, min_lr=0.0001,
                                              sample=1e-3, ns_exponent=0.5))
    report("w2v, recipe with w2v's defaults for the rest (shrunk windows, lr 0.01 -> 1e-4, "
           "sample 1e-3, unigram^0.5)", tuned, seconds, args)

    vocab = model.vocab
    ids = np.array([vocab.key_to_index[w] for w in stream], dtype=np.int64)
    per_batch, windows = numpy_seconds_per_batch(ids, len(vocab), vocab.counts, args.numpy_batches)
    total = per_batch * EPOCHS * (windows // BATCH)
    print(f"\n## NumPy, dense as the book: {per_batch:.4f} s per minibatch (timed on "
          f"{args.numpy_batches}), {EPOCHS} epochs x {windows // BATCH:,} minibatches -> "
          f"{total:,.0f} s extrapolated")
    medians = f", medians of {args.repeats} runs" if args.repeats > 1 else ""
    print(f"\nw2v trains the book's recipe {total / book_quality[2]:,.0f}x faster than the NumPy "
          f"version ({book_quality[2]:.2f} s against {total:,.0f} s{medians}); the book reports 1.6% "
          f"analogy and WS353 0.147 for its model, w2v reaches {100 * book_quality[0]:.2f}% "
          f"and {book_quality[1]:.3f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
