"""w2v: fast word2vec CBOW with negative sampling, a Cython core and in-place lazy Adam or SGD."""
from w2v.training.checkpoint import CheckpointError
from w2v.config import Config
from w2v.data.corpus import Corpus, CorpusError, build_corpus
from w2v.data.phrases import Phrases
from w2v.io import ModelFileError
from w2v.models.word2vec import Word2Vec
from w2v.training.report import EpochStats, TrainingDiverged, TrainingReport
from w2v.training.trainer import Trainer
from w2v.vectors import WordVectors, load_vectors
from w2v.data.vocab import Vocab

__version__ = "0.1.0"
__all__ = ["CheckpointError", "Config", "Corpus", "CorpusError", "EpochStats", "ModelFileError",
           "Phrases", "Trainer", "TrainingDiverged", "TrainingReport", "Vocab", "Word2Vec", "WordVectors",
           "build_corpus", "load_vectors"]
