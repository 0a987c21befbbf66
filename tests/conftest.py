import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_DATA = os.path.join(ROOT, "..", "shared", "data")


@pytest.fixture(scope="session")
def toy_corpus():
    path = os.path.join(ROOT, "data", "toy_corpus.txt")
    assert os.path.exists(path), "data/toy_corpus.txt missing: run scripts/make_toy_corpus.py"
    return path


@pytest.fixture(scope="session")
def toy_questions():
    return os.path.join(ROOT, "data", "toy_questions.txt")


@pytest.fixture(scope="session")
def trained_models(toy_corpus):
    """One model per optimizer trained on the toy corpus (shared to keep the suite fast)."""
    from w2v import Word2Vec
    return {opt: Word2Vec(toy_corpus, optimizer=opt, workers=1, seed=7, progress=False)
            for opt in ("adam", "sgd")}


@pytest.fixture
def small_corpus(toy_corpus, tmp_path):
    """The first 3,000 lines of the toy corpus as tmp_path/c2.txt: a quick corpus in a
    folder of its own."""
    import pathlib
    path = pathlib.Path(tmp_path) / "c2.txt"
    with open(toy_corpus, encoding="utf-8") as f:
        path.write_text("".join(f.readlines()[:3000]), encoding="utf-8")
    return path
