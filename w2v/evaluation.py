"""Standard quality measures: Google analogy accuracy and word-pair correlation.

They follow gensim's KeyedVectors.evaluate_word_analogies / evaluate_word_pairs and
agree with them on the same vectors: analogies are searched among the
`restrict_vocab` most frequent words, questions with a word outside them are skipped
(and counted), total accuracy is correct / answered. With case_insensitive=True a
word stands for its most frequent spelling, and an answer that is a query word in
another spelling is passed over, as gensim does.

Two shapes: `evaluate_analogies` / `evaluate_word_pairs` return w2v's dicts;
`evaluate_word_analogies` / `evaluate_word_pairs_gensim` (also the WordVectors methods
of gensim's names) return gensim's tuples.
"""
from __future__ import annotations

import itertools
import math
import os
from typing import Dict, List, NamedTuple, Optional

import numpy as np

SIMILARITY_FUNCTIONS = {"most_similar": "3cosadd", "most_similar_cosmul": "3cosmul"}
_CANDIDATES = 5      # gensim looks at most_similar's top 5 for an answer that is no query word


def _words_of(vectors):
    """The WordVectors of a model, or the vectors themselves."""
    return vectors.wv if hasattr(vectors, "wv") else vectors


def _lookup(wv, restrict_vocab: Optional[int], case_insensitive: bool):
    """(word -> row among the first `restrict_vocab` words, that number, each row's
    canonical row): with case_insensitive the keys are upper case and the most frequent
    spelling wins; a row's canonical row is that of its upper-case form."""
    if restrict_vocab is not None and (isinstance(restrict_vocab, bool) or
                                       not isinstance(restrict_vocab, (int, np.integer))
                                       or restrict_vocab < 1):
        raise ValueError(f"restrict_vocab={restrict_vocab!r} is out of range: must be >= 1 "
                         f"(or None for every word)")
    limit = len(wv) if restrict_vocab is None else min(int(restrict_vocab), len(wv))
    words = wv.index_to_key[:limit]
    if not case_insensitive:
        return {w: i for i, w in enumerate(words)}, limit, np.arange(limit)
    lookup: Dict[str, int] = {}
    for i, w in enumerate(words):
        lookup.setdefault(w.upper(), i)
    canonical = np.fromiter((lookup[w.upper()] for w in words), dtype=np.int64, count=limit)
    return lookup, limit, canonical


def _unit_rows(wv, limit: int) -> np.ndarray:
    """The first `limit` vectors at unit length, from the array as it is now."""
    rows = wv.vectors[:limit]
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))[:, None]
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def _read_lines(path, encoding: str = "utf-8"):
    path = os.fspath(path)
    with open(path, encoding=encoding) as f:
        for number, line in enumerate(f, 1):
            yield number, line.rstrip("\r\n")


def _read_analogies(path, lookup, case_insensitive: bool):
    """Sections [{"section", "questions": [(words, ids or None)]}] of a questions file:
    `: name` headers, then `a b c d` lines; ids None when a word is not in `lookup`."""
    sections: List[dict] = []
    for number, line in _read_lines(path):
        if not line.strip():
            continue
        if line.startswith(":"):
            sections.append({"section": line[1:].strip(), "questions": []})
            continue
        words = line.split()
        if len(words) != 4:
            raise ValueError(f"{path}:{number}: expected 4 words, got {len(words)}: {line!r}")
        if not sections:
            sections.append({"section": "(no section)", "questions": []})
        sections[-1].setdefault("raw", []).append(tuple(words))
        if case_insensitive:
            words = [w.upper() for w in words]
        ids = [lookup.get(w) for w in words]
        sections[-1]["questions"].append((tuple(words), None if None in ids else ids))
    return sections


def _predict(unit: np.ndarray, canonical: np.ndarray, questions: np.ndarray, method: str,
             cosmul_epsilon: float, batch_size: int, extra: Optional[np.ndarray] = None) -> np.ndarray:
    """The canonical row answered to each question (rows a, b, c; -1 for none).

    The best-scoring row other than a, b, c; when that row is a query word in another
    spelling, the first of the top 5 that is not (or the 5th), as gensim's evaluation.
    extra: unit vectors of query words outside the candidates (unseen words' n-gram
    vectors), rows len(unit) + i of the questions; never answers.
    """
    predicted = np.full(len(questions), -1, dtype=np.int64)
    if not len(questions):
        return predicted
    queries = unit if extra is None or not len(extra) else np.concatenate((unit, extra))
    n = len(unit)
    batch_size = max(1, min(batch_size, (1 << 26) // max(n, 1)))   # <= 256 MB of scores
    for lo in range(0, len(questions), batch_size):
        q = questions[lo:lo + batch_size]
        a, b, c = q[:, 0], q[:, 1], q[:, 2]
        if method == "3cosadd":
            query = queries[b] - queries[a] + queries[c]
            norms = np.linalg.norm(query, axis=1, keepdims=True)
            query = np.divide(query, norms, out=np.zeros_like(query), where=norms > 0)
            scores = query @ unit.T
        else:
            cos = lambda ids: (1 + queries[ids] @ unit.T) / 2   # noqa: E731
            scores = cos(b) * cos(c) / (cos(a) + cosmul_epsilon)
        rows = np.arange(len(q))
        for ids in (a, b, c):
            inside = ids < n
            scores[rows[inside], ids[inside]] = -np.inf
        best = np.argmax(scores, axis=1)
        answer = canonical[best]
        answer[scores[rows, best] == -np.inf] = -1
        clash = (answer == a) | (answer == b) | (answer == c)
        for row in np.flatnonzero(clash).tolist():
            ranked = np.argsort(-scores[row], kind="stable")[:_CANDIDATES]
            ranked = [i for i in ranked.tolist() if scores[row, i] > -np.inf]
            answer[row] = -1
            for i in ranked:
                answer[row] = canonical[i]
                if canonical[i] not in (a[row], b[row], c[row]):
                    break
        predicted[lo:lo + batch_size] = answer
    return predicted


def _analogy_sections(vectors, path, restrict_vocab, case_insensitive, method, cosmul_epsilon,
                      batch_size, oov_ngrams: bool = False):
    """Sections of the questions file with, per question, True / False (answered
    right / wrong) or None (a word outside the vocabulary). oov_ngrams: subword vectors
    give a query word (a, b, c) outside the candidates its vector (an unseen word's from
    its n-grams); such questions are listed in each section's "by_ngrams"."""
    if method not in ("3cosadd", "3cosmul"):
        raise ValueError(f"method={method!r}: use '3cosadd' or '3cosmul'")
    wv = _words_of(vectors)
    lookup, limit, canonical = _lookup(wv, restrict_vocab, case_insensitive)
    sections = _read_analogies(path, lookup, case_insensitive)
    extra: List[np.ndarray] = []
    extra_rows: Dict[str, int] = {}
    if oov_ngrams and hasattr(wv, "has_vector"):
        for s in sections:
            s["by_ngrams"] = []
            for number, ((words, ids), raw) in enumerate(zip(s["questions"], s["raw"])):
                if ids is not None or words[3] not in lookup:
                    continue
                if not all(w in lookup or wv.has_vector(r) for w, r in zip(words[:3], raw[:3])):
                    continue
                filled = []
                for w, r in zip(words[:3], raw[:3]):
                    if w in lookup:
                        filled.append(lookup[w])
                        continue
                    if w not in extra_rows:
                        extra_rows[w] = limit + len(extra)
                        extra.append(_unit_vector(np.asarray(wv.vector(r), dtype=np.float32)))
                    filled.append(extra_rows[w])
                s["questions"][number] = (words, filled + [lookup[words[3]]])
                s["by_ngrams"].append(raw)
    answered = [ids for s in sections for _, ids in s["questions"] if ids is not None]
    q = np.array(answered, dtype=np.int64).reshape(-1, 4)
    unit = _unit_rows(wv, limit)
    extra_unit = np.array(extra, dtype=unit.dtype).reshape(-1, unit.shape[1])
    predicted = _predict(unit, canonical, q, method, cosmul_epsilon, batch_size, extra_unit)
    hits = iter((predicted == q[:, 3]).tolist())
    for s in sections:
        s["results"] = [None if ids is None else next(hits) for _, ids in s["questions"]]
    return sections


def evaluate_analogies(vectors, path, restrict_vocab: Optional[int] = 30000,
                       case_insensitive: bool = True, method: str = "3cosadd",
                       batch_size: int = 2048, oov_ngrams: bool = False) -> dict:
    """Accuracy on analogy questions `a b c d` (a is to b as c is to d), `: section` headers.

    method: "3cosadd" (argmax cos(x, b - a + c), as most_similar) or "3cosmul"
    (Levy & Goldberg: argmax cos'(x,b) cos'(x,c) / (cos'(x,a) + 1e-3), cos' = (1+cos)/2).
    Candidates for d are the first restrict_vocab words; a question whose words are not
    all among them is skipped, unless oov_ngrams=True and the vectors have subwords
    (w2v.vectors.SubwordVectors): then a, b, c outside the candidates get their vectors
    (an unseen word's from its n-grams, as fastText gives it) and only d must be a
    candidate; those questions are counted in "oov_answered".
    Returns {"accuracy", "correct", "answered", "skipped", "sections": [...]}.
    """
    sections = _analogy_sections(vectors, path, restrict_vocab, case_insensitive, method,
                                 1e-3, batch_size, oov_ngrams)
    out = []
    for s in sections:
        results = s["results"]
        correct, answered = sum(r is True for r in results), sum(r is not None for r in results)
        out.append({"section": s["section"], "correct": correct, "answered": answered,
                    "skipped": len(results) - answered,
                    "accuracy": correct / answered if answered else 0.0})
    correct = sum(s["correct"] for s in out)
    answered = sum(s["answered"] for s in out)
    result = {"accuracy": correct / answered if answered else 0.0, "correct": correct,
              "answered": answered, "skipped": sum(s["skipped"] for s in out), "sections": out}
    if oov_ngrams:
        result["oov_answered"] = sum(len(s.get("by_ngrams", ())) for s in sections)
    return result


def evaluate_word_analogies(vectors, analogies, restrict_vocab: Optional[int] = 300000,
                            case_insensitive: bool = True, dummy4unknown: bool = False,
                            similarity_function: str = "most_similar", batch_size: int = 2048):
    """gensim's KeyedVectors.evaluate_word_analogies: (accuracy, sections).

    Each section is {"section": name, "correct": [(a, b, c, expected), ...],
    "incorrect": [...]} (words upper-cased when case_insensitive), the last one
    "Total accuracy" holding them all. dummy4unknown=True counts questions with a word
    outside the vocabulary as incorrect instead of skipping them.
    similarity_function: "most_similar" (3CosAdd) or "most_similar_cosmul" (3CosMul,
    with most_similar_cosmul's 1e-6); gensim 4.4 accepts this argument and ignores it.
    """
    if similarity_function not in SIMILARITY_FUNCTIONS:
        raise ValueError(f"similarity_function={similarity_function!r}: use "
                         f"{' or '.join(map(repr, SIMILARITY_FUNCTIONS))}")
    sections = _analogy_sections(vectors, analogies, restrict_vocab, case_insensitive,
                                 SIMILARITY_FUNCTIONS[similarity_function], 1e-6, batch_size)
    out = []
    for s in sections:
        correct, incorrect = [], []
        for (words, _), result in zip(s["questions"], s["results"]):
            if result is True:
                correct.append(words)
            elif result is False or dummy4unknown:
                incorrect.append(words)
        out.append({"section": s["section"], "correct": correct, "incorrect": incorrect})
    total = {"section": "Total accuracy",
             "correct": list(itertools.chain.from_iterable(s["correct"] for s in out)),
             "incorrect": list(itertools.chain.from_iterable(s["incorrect"] for s in out))}
    out.append(total)
    counted = len(total["correct"]) + len(total["incorrect"])
    return (len(total["correct"]) / counted if counted else 0.0), out


# ---------------------------------------------------------------- word pairs
class CorrelationResult(NamedTuple):
    """A correlation and its two-sided p-value, as scipy's result objects (which gensim
    returns): r[0] / r.statistic, r[1] / r.pvalue."""
    statistic: float
    pvalue: float


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


def correlation_pvalue(r: float, n: int) -> float:
    """Two-sided p-value of a correlation r over n pairs under independence: Student's t
    with n - 2 degrees of freedom, P = I_{1-r^2}((n-2)/2, 1/2) (as scipy's pearsonr and
    spearmanr)."""
    if n < 3 or math.isnan(r):
        return float("nan")
    return regularized_beta(max(0.0, 1.0 - r * r), (n - 2) / 2.0, 0.5)


def regularized_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1, by its
    continued fraction (evaluated with the modified Lentz method)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1.0) / (a + b + 2.0):      # the fraction converges fast on the other side
        return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b
    return math.exp(log_front) * _beta_fraction(x, a, b) / a


def _beta_fraction(x: float, a: float, b: float) -> float:
    """1 / (1 + d1 / (1 + d2 / (1 + ...))) with the coefficients d_k of I_x(a, b)."""
    tiny, f = 1e-300, 1e-300
    c, d = f, 0.0
    for k in range(0, 10_000):
        if k == 0:
            numerator = 1.0
        elif k % 2:                              # d_{2m+1}
            m = (k - 1) // 2
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:                                    # d_{2m}
            m = k // 2
            numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + numerator * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + numerator / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return f


def _unit_vector(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _word_pair_scores(vectors, path, delimiter, restrict_vocab, case_insensitive, encoding,
                      dummy4unknown, subwords=None):
    """(model similarities, human scores, pairs with an unknown word). subwords: a list
    to make subword vectors (w2v.vectors.SubwordVectors) answer pairs with a word outside
    the vocabulary from its n-grams, appending each such pair to the list."""
    wv = _words_of(vectors)
    lookup, limit, _ = _lookup(wv, restrict_vocab, case_insensitive)
    unit = _unit_rows(wv, limit)
    model_scores, human_scores = [], []
    oov = 0
    by_ngrams = subwords is not None and hasattr(wv, "has_vector")
    for number, line in _read_lines(path, encoding):
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
        if (a not in lookup or b not in lookup) and by_ngrams and \
                all(w in lookup or wv.has_vector(word) for w, word in zip((a, b), parts[:2])):
            first, second = (unit[lookup[w]] if w in lookup else _unit_vector(wv.vector(word))
                             for w, word in zip((a, b), parts[:2]))
            model_scores.append(float(first @ second))
            human_scores.append(score)
            subwords.append((parts[0], parts[1]))
            continue
        if a not in lookup or b not in lookup:
            oov += 1
            if dummy4unknown:
                model_scores.append(0.0)
                human_scores.append(score)
            continue
        model_scores.append(float(unit[lookup[a]] @ unit[lookup[b]]))
        human_scores.append(score)
    return model_scores, human_scores, oov


def evaluate_word_pairs(vectors, path, restrict_vocab: Optional[int] = 300000,
                        case_insensitive: bool = True, delimiter: str = "\t",
                        oov_ngrams: bool = False) -> dict:
    """Correlation of cosine similarity with human scores over `word1 word2 score` lines
    (`#` comments). Pairs with a word outside the vocabulary are skipped and counted.
    Returns {"spearman", "pearson", "pairs", "oov", "oov_ratio"} (oov_ratio a fraction).
    oov_ngrams=True: subword vectors answer pairs with an unseen word from its n-grams
    (as fastText would), counted in "oov_answered" (they are in "pairs", not "oov")."""
    answered = [] if oov_ngrams else None
    model_scores, human_scores, oov = _word_pair_scores(
        vectors, path, delimiter, restrict_vocab, case_insensitive, "utf-8", False, answered)
    total = oov + len(model_scores)
    return {"spearman": spearman(model_scores, human_scores) if len(model_scores) > 1 else float("nan"),
            "pearson": pearson(model_scores, human_scores) if len(model_scores) > 1 else float("nan"),
            "pairs": len(model_scores), "oov": oov,
            "oov_ratio": oov / total if total else 0.0,
            **({"oov_answered": len(answered)} if oov_ngrams else {})}


def evaluate_word_pairs_gensim(vectors, pairs, delimiter: str = "\t", encoding: str = "utf8",
                               restrict_vocab: Optional[int] = 300000,
                               case_insensitive: bool = True, dummy4unknown: bool = False):
    """gensim's KeyedVectors.evaluate_word_pairs: (pearson, spearman, oov_ratio), each
    correlation a (statistic, pvalue) CorrelationResult, oov_ratio in percent.
    dummy4unknown=True scores pairs with an unknown word 0 instead of skipping them
    (and oov_ratio is then oov / pairs used, as gensim)."""
    model_scores, human_scores, oov = _word_pair_scores(
        vectors, pairs, delimiter, restrict_vocab, case_insensitive, encoding, dummy4unknown)
    if not human_scores:
        raise ValueError(f"no word pair of {pairs} could be scored: all hold a word outside "
                         f"the vocabulary")
    n = len(human_scores)
    r_pearson = pearson(human_scores, model_scores) if n > 1 else float("nan")
    r_spearman = spearman(human_scores, model_scores) if n > 1 else float("nan")
    oov_ratio = 100.0 * oov / (n if dummy4unknown else n + oov)
    return (CorrelationResult(r_pearson, correlation_pvalue(r_pearson, n)),
            CorrelationResult(r_spearman, correlation_pvalue(r_spearman, n)),
            oov_ratio)
