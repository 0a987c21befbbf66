"""w2v: fast word2vec CBOW with negative sampling, a Cython core and in-place lazy Adam or SGD."""
import os as _os

try:
    from w2v.training.checkpoint import CheckpointError
    from w2v.config import Config
    from w2v.data.cache import CorpusCacheError
    from w2v.data.corpus import Corpus, CorpusError, build_corpus
    from w2v.io import ModelFileError
    from w2v.models.word2vec import Word2Vec
    from w2v.training.report import EpochStats, TrainingDiverged, TrainingReport
    from w2v.training.trainer import Trainer
    from w2v.vectors import WordVectors, load_vectors
    from w2v.data.vocab import Vocab
except ModuleNotFoundError as _missing:
    if not (_missing.name or "").startswith("w2v."):
        raise
    # Typically: `python -m w2v` or `python -m pytest` from the repository root, where
    # the source folder (without its compiled modules) shadows the installed package.
    raise ImportError(
        f"w2v's compiled module {_missing.name} is not built in {_os.path.dirname(__file__)}: "
        f"Python imported this source folder (the current directory comes first on sys.path), "
        f"not an installed w2v. Build the modules here with `python setup.py build_ext "
        f"--inplace` (or `pip install -e .`), or run the command from another directory, or "
        f"use the installed `w2v` command and plain `pytest`.") from None

__version__ = "0.1.0"
__all__ = ["CheckpointError", "Config", "Corpus", "CorpusCacheError", "CorpusError", "EpochStats",
           "ModelFileError", "Trainer", "TrainingDiverged", "TrainingReport", "Vocab", "Word2Vec", "WordVectors",
           "build_corpus", "load_vectors"]
