"""Standard quality measures: Google analogy accuracy and word-pair correlation.

They follow gensim's KeyedVectors.evaluate_word_analogies / evaluate_word_pairs:
analogies are searched among the `restrict_vocab` most frequent words, questions with
a word outside them are skipped (and counted), total accuracy is correct / answered.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional

import numpy as np

from w2v.vectors import WordVectors


def _words_of(vectors) -> WordVectors:
    return vectors.wv if hasattr(vectors, "wv") else vectors


def _lookup(wv: WordVectors, restrict_vocab: Optional[int], case_insensitive: bool) -> Dict[str, int]:
    limit = len(wv) if restrict_vocab is None else min(restrict_vocab, len(wv))
    words = wv.index_to_key[:limit]
    if not case_insensitive:
        return {w: i for i, w in enumerate(words)}
    lookup: Dict[str, int] = {}
    for i, w in enumerate(words):          # the most frequent spelling wins
        lookup.setdefault(w.upper(), i)
    return lookup


def _read_lines(path):
    path = os.fspath(path)
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            yield number, line.rstrip("\n")


def evaluate_analogies(vectors, path, restrict_vocab: Optional[int] = 30000,
                       case_insensitive: bool = True, method: str = "3cosadd",
                       batch_size: int = 2048) -> dict:
    """Accuracy on analogy questions `a b c d` (a is to b as c is to d), `: section` headers.

    method: "3cosadd" (argmax cos(x, b - a + c), as most_similar) or "3cosmul"
    (Levy & Goldberg: argmax cos'(x,b) cos'(x,c) / (cos'(x,a) + 1e-3), cos' = (1+cos)/2).
    Returns {"accuracy", "correct", "answered", "skipped", "sections": [...]}.
    """
    if method not in ("3cosadd", "3cosmul"):
        raise ValueError(f"method={method!r}: use '3cosadd' or '3cosmul'")
    wv = _words_of(vectors)
    lookup = _lookup(wv, restrict_vocab, case_insensitive)
    unit = wv.unit_vectors()[:max(lookup.values(), default=-1) + 1]
    sections: List[dict] = []
    questions: List[List[int]] = []
    section_of: List[int] = []
    skipped = 0
    for number, line in _read_lines(path):
        if not line.strip():
            continue
        if line.startswith(":"):
            sections.append({"section": line[1:].strip(), "correct": 0, "answered": 0, "skipped": 0})
            continue
        words = line.split()
        if len(words) != 4:
            raise ValueError(f"{path}:{number}: expected 4 words, got {len(words)}: {line!r}")
        if not sections:
            sections.append({"section": "(no section)", "correct": 0, "answered": 0, "skipped": 0})
        if case_insensitive:
            words = [w.upper() for w in words]
        ids = [lookup.get(w) for w in words]
        if None in ids:
            sections[-1]["skipped"] += 1
            skipped += 1
            continue
        questions.append(ids)
        section_of.append(len(sections) - 1)
    q = np.array(questions, dtype=np.int64).reshape(-1, 4)
    predicted = np.empty(len(q), dtype=np.int64)
    for lo in range(0, len(q), batch_size):
        a, b, c = (q[lo:lo + batch_size, k] for k in range(3))
        if method == "3cosadd":
            query = unit[b] - unit[a] + unit[c]
            query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
            scores = query @ unit.T
        else:
            cos = lambda ids: (1 + unit[ids] @ unit.T) / 2   # noqa: E731
            scores = cos(b) * cos(c) / (cos(a) + 1e-3)
        rows = np.arange(len(a))
        for ids in (a, b, c):
            scores[rows, ids] = -np.inf
        predicted[lo:lo + batch_size] = np.argmax(scores, axis=1)
    hits = predicted == q[:, 3] if len(q) else np.zeros(0, bool)
    for hit, s in zip(hits.tolist(), section_of):
        sections[s]["answered"] += 1
        sections[s]["correct"] += int(hit)
    for s in sections:
        s["accuracy"] = s["correct"] / s["answered"] if s["answered"] else 0.0
    correct, answered = int(hits.sum()), int(len(q))
    return {"accuracy": correct / answered if answered else 0.0, "correct": correct,
            "answered": answered, "skipped": skipped, "sections": sections}


def rankdata(x) -> np.ndarray:
    """Ranks from 1, ties given their average rank (as scipy.stats.rankdata)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    boundaries = np.flatnonzero(np.diff(sorted_x)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(x)]))
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def pearson(x, y) -> float:
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    y = np.asarray(y, dtype=np.float64) - np.mean(y)
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom > 0 else float("nan")


def spearman(x, y) -> float:
    return pearson(rankdata(x), rankdata(y))


def evaluate_word_pairs(vectors, path, restrict_vocab: Optional[int] = 300000,
                        case_insensitive: bool = True, delimiter: str = "\t") -> dict:
    """Correlation of cosine similarity with human scores over `word1 word2 score` lines
    (`#` comments). Pairs with a word outside the vocabulary are skipped and counted."""
    wv = _words_of(vectors)
    lookup = _lookup(wv, restrict_vocab, case_insensitive)
    unit = wv.unit_vectors()
    model_scores, human_scores = [], []
    oov = 0
    for number, line in _read_lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(delimiter)
        if len(parts) != 3:
            raise ValueError(f"{path}:{number}: expected 'word1{delimiter}word2{delimiter}score'")
        a, b = (p.upper() if case_insensitive else p for p in parts[:2])
        try:
            score = float(parts[2])
        except ValueError:
            raise ValueError(f"{path}:{number}: score {parts[2]!r} is not a number") from None
        if a not in lookup or b not in lookup:
            oov += 1
            continue
        model_scores.append(float(unit[lookup[a]] @ unit[lookup[b]]))
        human_scores.append(score)
    total = oov + len(model_scores)
    return {"spearman": spearman(model_scores, human_scores) if len(model_scores) > 1 else float("nan"),
            "pearson": pearson(model_scores, human_scores) if len(model_scores) > 1 else float("nan"),
            "pairs": len(model_scores), "oov": oov,
            "oov_ratio": oov / total if total else 0.0}
