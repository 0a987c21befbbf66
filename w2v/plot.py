"""Pictures of a model (optional extra `plot`: matplotlib): the training loss, and a
2-D PCA map of word vectors with their labels. Files are PNGs, written atomically."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence

import numpy as np

from w2v.io import atomic_write


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError('plots need matplotlib: pip install "w2v[plot]"') from None
    matplotlib.use("Agg")                      # files only, no screen needed
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path) -> str:
    path = os.fspath(path)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=120, bbox_inches="tight")
    return path


def plot_loss(model, path) -> str:
    """Mean loss per epoch (left) and along training, ~100 points an epoch (right)."""
    if not model.history:
        raise ValueError("the model has no training history to plot: train it first")
    plt = _pyplot()
    fig, (per_epoch, per_step) = plt.subplots(1, 2, figsize=(11, 4))
    epochs = [h["epoch"] for h in model.history]
    losses = [h["loss"] for h in model.history]
    per_epoch.plot(epochs, losses, marker="o")
    per_epoch.set(title="mean loss per epoch", xlabel="epoch",
                  ylabel="negative-sampling loss per window")
    per_epoch.set_xticks(epochs)
    if model.loss_curve:
        words, curve = zip(*model.loss_curve)
        per_step.plot(np.asarray(words) / 1e6, curve, linewidth=1)
        per_step.set(title="loss along training", xlabel="words trained (millions)",
                     ylabel="mean loss since the previous point")
    else:
        per_step.text(0.5, 0.5, "no per-step losses recorded", ha="center", va="center")
    for ax in (per_epoch, per_step):
        ax.grid(alpha=0.3)
    c = model.config
    fig.suptitle(f"{c.optimizer}, {len(model):,} words, {c.vector_size} dims")
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """The rows projected on their two principal components."""
    centred = np.asarray(vectors, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    return centred @ components[:2].T


def words_to_map(wv, words: Optional[Sequence[str]] = None, top: int = 100,
                 skip: int = 0) -> List[str]:
    """The words plot_words maps, checked: all known, at least 3."""
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"top={top!r}: the number of words to map must be >= 1")
    if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise ValueError(f"skip={skip!r}: the number of words to skip must be >= 0")
    if words:
        missing = [w for w in words if w not in wv]
        if missing:
            raise KeyError(f"not in the vocabulary: {', '.join(map(repr, missing))}")
        chosen: List[str] = list(words)
    else:
        chosen = list(wv.index_to_key[skip:skip + top])
    if len(chosen) < 3:
        raise ValueError(f"a PCA map needs at least 3 words, got {len(chosen)}")
    return chosen


def plot_words(vectors, path, words: Optional[Sequence[str]] = None, top: int = 100,
               skip: int = 0) -> str:
    """A labelled 2-D PCA map of `words`, or of the `top` most frequent words after
    skipping the first `skip` (stop words). Unit vectors, so the map shows directions."""
    wv = vectors.wv if hasattr(vectors, "wv") else vectors
    chosen = words_to_map(wv, words, top, skip)
    points = pca_2d(wv.unit_vectors()[[wv.index(w) for w in chosen]])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 10))
    ax.scatter(points[:, 0], points[:, 1], s=8, color="tab:blue")
    for (x, y), word in zip(points, chosen):
        ax.annotate(word, (x, y), fontsize=8, xytext=(2, 2), textcoords="offset points")
    ax.set(title=f"PCA of {len(chosen)} word vectors", xlabel="component 1", ylabel="component 2")
    ax.grid(alpha=0.3)
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def plot_model(model, directory, words: Optional[Sequence[str]] = None, top: int = 100,
               skip: int = 0) -> List[str]:
    """loss.png (when the model has a history) and words.png in `directory`; the words
    are checked before anything is written."""
    words_to_map(model.wv if hasattr(model, "wv") else model, words, top, skip)
    os.makedirs(directory, exist_ok=True)
    written = []
    if getattr(model, "history", None):
        written.append(plot_loss(model, os.path.join(directory, "loss.png")))
    written.append(plot_words(model, os.path.join(directory, "words.png"), words, top, skip))
    return written
