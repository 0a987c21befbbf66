"""Small models trained by the `fasttext` package (pip fasttext-numpy2), the reference
for subword compatibility tests. Tests that use them skip, saying why, without it."""
import functools
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY_CORPUS = os.path.join(ROOT, "data", "toy_corpus.txt")


def fasttext_module():
    """The fasttext package, or a skip naming what to install."""
    return pytest.importorskip("fasttext", reason="the fasttext package is not installed "
                                                  "(pip install fasttext-numpy2)")


@functools.lru_cache(maxsize=None)
def _trained(model, loss, minn, maxn, bucket, dim, epoch):
    fasttext = fasttext_module()
    for attempt in range(3):
        try:
            return fasttext.train_unsupervised(TOY_CORPUS, model=model, loss=loss, minn=minn,
                                               maxn=maxn, bucket=bucket, dim=dim, epoch=epoch,
                                               lr=0.025, minCount=2, thread=1, verbose=0)
        except RuntimeError as e:
            # fasttext-numpy2's training sometimes stops with "Encountered NaN" on this
            # small corpus (always without subwords, here): try again, then skip
            if "NaN" not in str(e):
                raise
    pytest.skip("the fasttext package's training stopped with 'Encountered NaN' three "
                "times on the toy corpus")


def toy_fasttext_model(model="skipgram", loss="ns", minn=3, maxn=6, bucket=20011, dim=16,
                       epoch=1):
    """A fastText model trained on data/toy_corpus.txt (cached per argument set)."""
    if not os.path.exists(TOY_CORPUS):
        pytest.skip("data/toy_corpus.txt missing: run scripts/make_toy_corpus.py")
    return _trained(model, loss, minn, maxn, bucket, dim, epoch)
