"""Word2Vec: the model (vocabulary, training state, config) and its API."""
from __future__ import annotations

import logging
import os
from typing import Callable, Optional, Sequence

import numpy as np

from w2v.config import Config
from w2v.data.corpus import Corpus, build_corpus
from w2v.data.phrases import Phrases
from w2v.data.vocab import Vocab
from w2v.io import ModelFileError, load_arrays, save_arrays, vocabulary_arrays, vocabulary_from
from w2v.paths import check_output_file
from w2v.training.checkpoint import resume
from w2v.training.state import StateError, TrainingState, table_rows
from w2v.training.trainer import Trainer
from w2v.vectors import SubwordVectors, WordVectors

logger = logging.getLogger(__name__)


class Word2Vec:
    """word2vec: CBOW or skip-gram (sg=True), negative sampling and/or hierarchical
    softmax (hs=True), trained with lazy Adam or word2vec's SGD.

        model = Word2Vec("corpus.txt", vector_size=100, epochs=5)   # builds vocab, trains
        model.most_similar("king")

    `word_vecs` is W_in itself: the array the optimizer updates in place. The arrays
    live in `model.state` (a w2v.training.state.TrainingState).

    phrases: a w2v.Phrases model (or the path of a saved one): every corpus this model
    reads has its phrases joined (new_york) as it is read, without an intermediate file.
    """

    def __init__(self, corpus=None, *, config: Optional[Config] = None, progress: bool = True,
                 callbacks: Sequence[Callable] = (), checkpoint_dir=None, phrases=None, **params):
        Config.check_names(params)
        if config is None:
            config = Config(**params)
        elif params:
            config = config.replace(**params)
        self.config = config
        self.vocab: Optional[Vocab] = None
        self.corpus: Optional[Corpus] = None     # the id stream of the last corpus prepared
        self.state: Optional[TrainingState] = None   # the tables, Adam's moments and steps
        self.train_runs = 0
        self.history: list = []                   # one dict of EpochStats per epoch trained
        self.loss_curve: list = []                # (words trained so far, mean loss) ~100 per epoch
        self.last_report = None
        self.resume_state = None                  # set by Word2Vec.resume: the run train() finishes
        # freeze=True keeps W_in's first `frozen_rows` rows fixed (None: all of them): the
        # rows the model had when words were added by build_vocab(update=True), which train
        self.frozen_rows: Optional[int] = None
        self._checkpointed_in = None              # the directory this model's train() checkpoints in
        self._wv: Optional[WordVectors] = None
        # How train() runs unless it is told otherwise: given here, honoured by every
        # later train() call too (a train() argument overrides progress; callbacks add up;
        # two different checkpoint directories are refused).
        self.progress = _check_bool(progress, "progress")
        self.callbacks = _check_callbacks(callbacks)
        self.checkpoint_dir = checkpoint_dir
        if phrases is not None and not isinstance(phrases, Phrases):
            phrases = Phrases.load(phrases)
        self.phrases: Optional[Phrases] = phrases
        if corpus is not None:
            self.build_vocab(corpus)
            self.train()

    # ---------------------------------------------------------------- training
    def build_vocab(self, corpus, vocab: Optional[Vocab] = None, update: bool = False) -> "Word2Vec":
        """Read the corpus once: vocabulary, counts and id stream; fresh weights.

        `corpus` may also be a `Corpus` prepared earlier (by build_corpus or another
        model's build_vocab), given with its `vocab`: nothing is read again.

        update=True keeps everything learned and grows the vocabulary instead: known
        words keep their rows and ids and add this corpus's counts; new words seen
        min_count times get fresh rows at the end (zero optimizer state), as gensim's
        build_vocab(update=True); in a subword model they go after the old words and the
        n-gram rows move down with what they learned. Then train() continues on this corpus.
        """
        if (not update and vocab is None and self.phrases is not None
                and not isinstance(corpus, Corpus) and self.config.max_vocab_size is None
                and self.config.corpus_cache is None   # a cache is written by build_corpus
                and self.config.encoding == self.phrases.encoding
                and self.config.encoding_errors == "strict"):
            # the joined id stream becomes the corpus directly (no token strings)
            self.corpus, self.vocab = self.phrases.build_corpus(corpus, self.config)
            self._init_weights()
            return self
        corpus = self._phrased(corpus)
        if not update:
            self.corpus, self.vocab = build_corpus(corpus, self.config, vocab=vocab)
            self._init_weights()
            return self
        if self.vocab is None:
            raise RuntimeError("build_vocab(update=True) needs a model with a vocabulary: "
                               "train one, load one or use from_pretrained first")
        if vocab is not None or isinstance(corpus, Corpus):
            raise ValueError("build_vocab(update=True) reads the corpus itself: pass text or "
                             "sentences, not a prepared Corpus or Vocab")
        old_size = len(self.vocab)
        self.corpus, self.vocab = build_corpus(corpus, self.config, grow=self.vocab)
        self._grow_weights(old_size)
        return self

    def _phrased(self, corpus):
        """`corpus` with the model's phrases joined as it is read (a prepared Corpus as is)."""
        if getattr(self, "phrases", None) is None or corpus is None or isinstance(corpus, Corpus):
            return corpus
        return self.phrases.sentences(corpus)

    def _grow_weights(self, old_size: int) -> None:
        """New rows for words added by build_vocab(update=True); old rows unchanged."""
        n, dim = len(self.vocab), self.config.vector_size
        # A stream of its own per growth, so new rows differ from the first ones.
        rng = np.random.default_rng([self.config.seed, old_size])
        fresh = rng.random((n - old_size, dim), dtype=np.float32)
        fresh -= 0.5
        fresh /= dim
        had_hs = self.config.hs and np.any(self.W_hs)
        if self.config.freeze and self.frozen_rows is None:
            self.frozen_rows = old_size
        if self.config.freeze:
            logger.info("freeze: the first %d word vectors stay fixed; the %d words added now "
                        "train", self.frozen_rows, n - self.frozen_rows)
        # a subword model's n-gram rows follow the word rows (row vocab_size + hash %
        # bucket, as fastText): the new words' rows go before them and they move down,
        # keeping what they learned and their moments
        self.state.grow(table_rows(self.config, n), fresh,
                        in_insert_at=old_size if self.config.subwords else None)
        if self.config.hs:
            # The Huffman tree of the grown vocabulary shares no inner node with the old
            # one (every code can change), so its node vectors start again from zero; the
            # word vectors keep everything they learned.
            self.state.reset("hs")
            if had_hs:
                logger.warning("build_vocab(update=True): the Huffman tree is rebuilt for %d words; "
                               "hierarchical softmax's node vectors (W_hs) restart from zero, the "
                               "word vectors are kept", n)
        self._wv = None

    def _init_weights(self, w_in: Optional[np.ndarray] = None) -> None:
        """A fresh training state for the vocabulary: W_in from `w_in` or word2vec's
        random init, every other table and Adam's moments zero."""
        n, dim = len(self.vocab), self.config.vector_size
        if self.config.hs and n < 2:
            raise ValueError(f"hierarchical softmax needs at least 2 words; the vocabulary has {n}")
        self.state = TrainingState.for_config(self.config, n, w_in)
        if w_in is None:
            # word2vec's init, uniform in [-0.5, 0.5) / dim, with subwords for the n-gram
            # rows too (fastText draws them all alike); drawn in blocks straight into the
            # table (the same numbers as one draw) so that no second W_in is made
            rng = np.random.default_rng(self.config.seed)
            table = self.state.tables["in"]
            block_rows = max(1, (64 << 20) // (4 * dim))
            for start in range(0, len(table), block_rows):
                block = rng.random((min(block_rows, len(table) - start), dim), dtype=np.float32)
                block -= 0.5
                block /= dim
                table[start:start + len(block)] = block
            padding = self.config.resolved_padding_idx(n)
            if padding >= 0:
                table[padding] = 0             # as nn.Embedding(padding_idx=...)
        self._wv = None

    def subword_table(self):
        """(starts, rows): every word's input rows, its own row and its n-grams' rows
        (w2v.subwords.subword_table), for a subword model; built once per vocabulary."""
        from w2v.subwords import subword_table
        c = self.config
        key = (id(self.vocab.index_to_key), len(self.vocab), c.minn, c.maxn, c.bucket)
        cached = getattr(self, "_subword_table", None)
        if cached is None or cached[0] != key:
            cached = self._subword_table = (key, subword_table(self.vocab.index_to_key, c.minn,
                                                               c.maxn, c.bucket))
        return cached[1]

    def huffman_tree(self):
        """(code_starts, codes, points) of the Huffman tree of the vocabulary's counts, as
        word2vec C builds it (hs models; built afresh, milliseconds for 100k words)."""
        from w2v.core.train import build_huffman_tree
        return build_huffman_tree(self.vocab.counts)

    # The training state's arrays, by their usual names
    @property
    def W_in(self) -> Optional[np.ndarray]:
        """The input vectors (the word vectors), updated in place by training."""
        return None if self.state is None else self.state.tables["in"]

    @W_in.setter
    def W_in(self, values) -> None:
        """Assigning to W_in copies the values into the trained table (same shape), so
        that word_vecs, queries and further training all see them."""
        if self.state is None:
            raise RuntimeError("the model has no W_in yet: call build_vocab() first")
        values = np.asarray(values)
        table = self.state.tables["in"]
        if values.shape != table.shape:
            raise ValueError(f"W_in has shape {table.shape}; the new values have {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("the new W_in values contain NaN or inf")
        np.copyto(table, values, casting="same_kind")
        self._wv = None

    @property
    def W_out(self) -> Optional[np.ndarray]:
        """Negative sampling's output vectors (None when negative=0)."""
        return None if self.state is None else self.state.tables.get("out")

    @property
    def W_hs(self) -> Optional[np.ndarray]:
        """Hierarchical softmax's inner-node vectors (None without hs)."""
        return None if self.state is None else self.state.tables.get("hs")

    @property
    def adam_step(self) -> int:
        return 0 if self.state is None else self.state.adam_step

    def tables(self) -> dict:
        """The model's trainable tables by the core's names: {"in": W_in, "out": W_out,
        "hs": W_hs}, those the model has."""
        return {} if self.state is None else dict(self.state.tables)

    def table_moments(self) -> Optional[dict]:
        """Adam's moments by table, {"in": (m, v), ...}, or None for SGD."""
        return None if self.state is None or self.state.moments is None else dict(self.state.moments)

    def adam_moments(self):
        """Adam's moments of every table, in table order (W_in's first), or None."""
        moments = self.table_moments()
        return None if moments is None else tuple(m for pair in moments.values() for m in pair)

    def train(self, corpus=None, *, epochs: Optional[int] = None, progress: Optional[bool] = None,
              callbacks: Sequence[Callable] = (), checkpoint_dir=None) -> "Word2Vec":
        """Train on `corpus` (default: the one given to build_vocab) for `epochs` passes.

        callbacks are called as f(model, epoch_stats) after each epoch, after those given
        to the constructor. The figures of the run are in `model.last_report`.
        checkpoint_dir (or the constructor's): save the training state there every
        `config.checkpoint_every` (see w2v.training.checkpoint). progress: a progress bar
        (default: the constructor's setting). After Word2Vec.resume(), train() finishes
        the interrupted run, checkpointing where it did.
        """
        if self.vocab is None:
            raise RuntimeError("build_vocab(corpus) first: the model has no vocabulary")
        progress = self.progress if progress is None else _check_bool(progress, "progress")
        callbacks = self.callbacks + _check_callbacks(callbacks)
        if checkpoint_dir is None:
            checkpoint_dir = self.checkpoint_dir
        elif self.checkpoint_dir is not None and not _same_path(checkpoint_dir, self.checkpoint_dir):
            raise ValueError(f"checkpoint_dir={os.fspath(checkpoint_dir)!r} but the model was "
                             f"created with checkpoint_dir={os.fspath(self.checkpoint_dir)!r}: "
                             f"give one")
        read_only = [name for name, array in self.state.file_arrays().items()
                     if not array.flags.writeable]
        if read_only:
            raise ValueError(f"cannot train: {', '.join(read_only)} are read-only (a model loaded "
                             f"with mmap='r'); load it with Word2Vec.load(path) to train")
        resume = self.resume_state
        if resume is not None and corpus is not None:
            raise ValueError("this model resumes a run: its corpus was given to Word2Vec.resume()")
        if corpus is not None:
            self.corpus, _ = build_corpus(self._phrased(corpus), self.config, vocab=self.vocab)
        if self.corpus is None:
            raise ValueError("no corpus to train on: pass one to train()")
        if self.vocab.total_count == 0:
            # Pretrained vectors come without counts: take them from this corpus, for
            # subsampling and the negative-sampling distribution.
            self.vocab.counts = np.bincount(self.corpus.ids, minlength=len(self.vocab)).astype(np.int64)
        if resume is not None:
            if checkpoint_dir is not None and not _same_path(checkpoint_dir, resume.directory):
                raise ValueError(f"this model resumes the run checkpointed in {resume.directory}; "
                                 f"it keeps checkpointing there, not in {os.fspath(checkpoint_dir)}")
            checkpoint_dir = resume.directory
        continuing = checkpoint_dir is not None and self._checkpointed_in is not None \
            and _same_path(checkpoint_dir, self._checkpointed_in)
        trainer = Trainer(self, self.corpus, epochs=epochs, progress=progress, callbacks=callbacks,
                          checkpoint_dir=checkpoint_dir, resume=resume, continuing=continuing)
        self.resume_state = None
        if checkpoint_dir is not None:
            self._checkpointed_in = os.fspath(checkpoint_dir)
        return trainer.train()

    @classmethod
    def resume(cls, checkpoint_dir, corpus=None, **overrides) -> "Word2Vec":
        """The model of a run checkpointed in `checkpoint_dir`, ready to finish it with
        train(); see w2v.training.checkpoint.resume."""
        return resume(checkpoint_dir, corpus, cls.load, **overrides)

    # ------------------------------------------------------ pretrained / torch
    @classmethod
    def from_pretrained(cls, vectors, words: Optional[Sequence[str]] = None, *,
                        freeze: bool = False, counts=None, config: Optional[Config] = None,
                        unicode_errors: str = "strict", **params) -> "Word2Vec":
        """A model that starts from existing word vectors, as nn.Embedding.from_pretrained.

        `vectors`: a word2vec C / fastText file (.bin, .txt, .vec), a WordVectors or
        Word2Vec, or a 2-D array or torch tensor / nn.Embedding with `words` (one per
        row). The vectors are copied into W_in; W_out starts at zero as in word2vec.
        freeze=True keeps these vectors fixed while W_out trains; words added later by
        build_vocab(more, update=True) get vectors that train (the pretrained ones stay
        as they are). Counts, if not given, come from the first corpus trained on:

            model = Word2Vec.from_pretrained("vectors.bin", freeze=True)
            model.train("corpus.txt")                      # or build_vocab(c, update=True)
        """
        from w2v.fasttext_bin import is_fasttext_bin
        if isinstance(vectors, (str, bytes, os.PathLike)) and is_fasttext_bin(vectors):
            if words is not None:
                raise ValueError("a fastText .bin names its own words: do not pass words")
            return cls._from_facebook(vectors, freeze=freeze, config=config, **params)
        array, words, counts, from_embedding = _pretrained_rows(vectors, words, counts,
                                                                unicode_errors)
        params.setdefault("freeze", freeze)
        for name, value in from_embedding.items():     # padding_idx, max_norm of an nn.Embedding
            params.setdefault(name, value)
        if "vector_size" in params and params["vector_size"] != array.shape[1]:
            raise ValueError(f"vector_size={params['vector_size']} but the pretrained vectors "
                             f"have {array.shape[1]} dimensions")
        params["vector_size"] = array.shape[1]
        how = {name: params.pop(name) for name in ("progress", "callbacks", "checkpoint_dir")
               if name in params}                    # how train() runs, as in the constructor
        config = (config or Config()).replace(**params)
        model = cls(config=config, **how)
        try:
            model.vocab = Vocab(words, counts)
        except ValueError as e:
            raise ValueError(f"pretrained vectors: {e}") from None
        config.resolved_padding_idx(len(words))           # IndexError if outside
        model._init_weights(w_in=np.asarray(array, dtype=np.float32))   # copied into the state
        model.frozen_rows = len(words)
        return model

    @classmethod
    def _from_facebook(cls, path, *, freeze: bool, config: Optional[Config],
                       **params) -> "Word2Vec":
        """A model continuing a fastText .bin: its config (model, loss, dim, window,
        minn/maxn/bucket, t as sample; `params` override training options), words,
        counts, input matrix (words and n-gram rows) and, for negative sampling, its
        output matrix. hs models keep the words and n-grams; W_hs starts at zero (w2v
        builds word2vec's Huffman tree, not fastText's)."""
        from w2v.fasttext_bin import read_fasttext_bin
        ft = read_fasttext_bin(path, mmap="r")
        a = ft.args
        subwords = ft.has_subwords and a.maxn > 0 and a.bucket > 0
        fixed = {"vector_size": a.dim, "minn": a.minn if subwords else 3,
                 "maxn": a.maxn if subwords else 0,
                 "bucket": a.bucket if subwords else Config().bucket}
        for name, value in fixed.items():
            if name in params and params[name] != value:
                raise ValueError(f"{name}={params[name]!r}, but the fastText model has {value!r}")
        from_file = {"sg": a.model == "sg", "hs": a.loss == "hs",
                     "negative": a.neg if a.loss == "ns" else 0, "window": a.ws,
                     "sample": a.t, "min_count": max(1, a.minCount), "freeze": freeze}
        config = (config or Config()).replace(**{**from_file, **params, **fixed})
        model = cls(config=config)
        model.vocab = Vocab(ft.words, ft.counts)
        n = len(ft.words)
        rows = table_rows(config, n)["in"]
        model._init_weights(w_in=ft.input_matrix[:rows])
        if config.negative and a.loss == "ns":
            model.state.tables["out"][...] = ft.output_matrix
        del ft
        return model

    def to_torch(self, freeze: bool = True, padding_idx: Optional[int] = None):
        """W_in as a torch.nn.Embedding (via from_pretrained), rows in vocabulary order.

        padding_idx=None keeps one row per word (and the model's own padding_idx, if it
        trained with one). An integer adds a zero padding row at that position: 0 puts
        it first (word id i is then row i + 1), len(model) or -1 puts it last (ids
        unchanged). The embedding gets the model's max_norm / norm_type. The rows are
        a copy: training the model further does not change the embedding.
        """
        try:
            import torch
        except ImportError:
            raise ImportError('to_torch needs PyTorch: pip install "w2v[torch]"') from None
        rows = self.W_in.copy()
        padding = self.config.padding_idx
        if padding_idx is not None:
            n = len(self)
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)) \
                    or not -n - 1 <= padding_idx <= n:
                raise IndexError(f"padding_idx={padding_idx!r} out of range [-{n + 1}, {n}] for "
                                 f"{n} words")
            padding = int(padding_idx) % (n + 1)
            rows = np.insert(rows, padding, 0.0, axis=0)
        return torch.nn.Embedding.from_pretrained(
            torch.from_numpy(rows), freeze=freeze, padding_idx=padding,
            max_norm=self.config.max_norm, norm_type=self.config.norm_type)

    def vectors_changed(self) -> None:
        """Kept for older code; not needed: queries always read W_in as it is now."""

    # ----------------------------------------------------------------- vectors
    @property
    def word_vecs(self) -> np.ndarray:
        """The word vectors: W_in itself, not a copy."""
        return self.W_in

    @property
    def wv(self) -> WordVectors:
        """The queries (gensim's KeyedVectors API) on W_in and the vocabulary. They read
        W_in at every call: edits in place, or a new array assigned to W_in, are seen."""
        if self.vocab is None:
            raise RuntimeError("the model has no vocabulary yet: call build_vocab() or train()")
        if self.config.subwords:
            return self._subword_vectors()
        wv = self._wv
        if wv is None or wv.vectors is not self.W_in or wv.index_to_key is not self.vocab.index_to_key:
            wv = self._wv = WordVectors(
                self.W_in, self.vocab.index_to_key, self.vocab.counts, self.vocab.key_to_index,
                fixed_vocabulary="they are a Word2Vec model's W_in; grow the vocabulary with "
                                 "build_vocab(corpus, update=True), or copy them: "
                                 "WordVectors(model.W_in.copy(), list(model.index_to_key))")
        wv.counts = self.vocab.counts
        return wv

    def _subword_vectors(self) -> SubwordVectors:
        """The word vectors of a subword model: each word's rows averaged (composed
        again when W_in has changed since: after training, an epoch, an assignment),
        the n-gram rows a view of W_in."""
        from w2v.subwords import compose_vectors
        n = len(self.vocab)
        key = (id(self.W_in), len(self.history), self.adam_step, self.train_runs,
               id(self.vocab.index_to_key), n)
        wv = self._wv
        if not isinstance(wv, SubwordVectors) or getattr(self, "_wv_key", None) != key:
            starts, rows = self.subword_table()
            wv = self._wv = SubwordVectors(
                compose_vectors(self.W_in, starts, rows), self.vocab.index_to_key,
                self.W_in[n:], self.config.minn, self.config.maxn, self.vocab.counts,
                self.vocab.key_to_index)
            self._wv_key = key
        wv.counts = self.vocab.counts
        return wv

    @property
    def index_to_key(self):
        return self.wv.index_to_key

    @property
    def key_to_index(self):
        return self.wv.key_to_index

    @property
    def counts(self) -> np.ndarray:
        return self.vocab.counts

    def __len__(self) -> int:
        return 0 if self.vocab is None else len(self.vocab)

    def __contains__(self, word) -> bool:
        return self.vocab is not None and word in self.vocab

    def __getitem__(self, keys):
        return self.wv[keys]

    def vector(self, key):
        return self.wv.vector(key)

    def count(self, word: str) -> int:
        return self.wv.count(word)

    def similarity(self, a, b) -> float:
        return self.wv.similarity(a, b)

    def most_similar(self, positive=None, negative=None, topn=10, clip_start: int = 0,
                     clip_end=None, restrict_vocab=None):
        return self.wv.most_similar(positive, negative, topn=topn, clip_start=clip_start,
                                    clip_end=clip_end, restrict_vocab=restrict_vocab)

    def analogy(self, a, b, c, topn: int = 1):
        return self.wv.analogy(a, b, c, topn)

    def doesnt_match(self, words):
        return self.wv.doesnt_match(words)

    def __repr__(self) -> str:
        c = self.config
        return (f"Word2Vec(vocab={len(self)}, vector_size={c.vector_size}, "
                f"optimizer={c.optimizer!r}, epochs_trained={len(self.history)})")

    # -------------------------------------------------------------- save / load
    def save(self, path, extra_arrays: Optional[dict] = None, extra_meta: Optional[dict] = None) -> None:
        """Everything needed to query or continue training, without pickle, atomically.

        extra_arrays / extra_meta: more to store beside the model (checkpoints use them).
        """
        if self.vocab is None:
            raise RuntimeError("nothing to save: the model has no vocabulary")
        check_output_file(path, "model", self._inputs())
        arrays, word_meta = vocabulary_arrays(self.vocab.index_to_key)
        arrays.update(self.state.file_arrays())
        arrays["counts"] = self.vocab.counts
        meta = {"config": self.config.to_dict(), "adam_step": self.adam_step,
                "train_runs": self.train_runs, "history": self.history,
                "frozen_rows": self.frozen_rows,
                "loss_curve": [list(point) for point in self.loss_curve], **word_meta}
        save_arrays(path, {**arrays, **(extra_arrays or {})}, {**meta, **(extra_meta or {})})

    @classmethod
    def load(cls, path, mmap: Optional[str] = None) -> "Word2Vec":
        """A model saved by save(). mmap="r" maps its arrays read-only from the file
        instead of reading them (quick to open, pages shared between processes): such a
        model answers queries but cannot train (load it without mmap to train)."""
        arrays, meta = load_arrays(path, mmap=mmap)
        try:
            config = Config.from_dict(meta["config"])
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFileError(f"{path}: invalid config in the model file ({e})") from None
        for name in ("W_in", "counts", "words_utf8", "word_ends"):
            if name not in arrays:
                raise ModelFileError(f"{path}: model file lacks the array {name!r}")
        words = vocabulary_from(arrays, meta, path)
        n = len(words)
        if config.hs and n < 2:
            raise ModelFileError(f"{path}: a hierarchical-softmax model of {n} word(s)")
        try:
            state = TrainingState.from_file_arrays(arrays, config, n,
                                                   _meta_count(meta, "adam_step", path))
        except StateError as e:
            raise ModelFileError(f"{path}: {e}") from None
        counts = arrays["counts"]
        if counts.shape != (n,) or counts.dtype.kind not in "iu" or (n and counts.min() < 0):
            raise ModelFileError(f"{path}: counts should hold one integer >= 0 per word")
        history = meta.get("history", [])
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise ModelFileError(f"{path}: history should be a list of per-epoch records")
        model = cls(config=config)
        try:
            model.vocab = Vocab(words, counts)
        except ValueError as e:
            raise ModelFileError(f"{path}: {e}") from None
        if mmap is None:
            state.interleave()    # each row beside its moments, as in a fresh model
        model.state = state
        model.train_runs = _meta_count(meta, "train_runs", path)
        if meta.get("frozen_rows") is not None:
            model.frozen_rows = _meta_count(meta, "frozen_rows", path)
            if model.frozen_rows > n:
                raise ModelFileError(f"{path}: frozen_rows {model.frozen_rows} > {n} words")
        model.history = history
        model.loss_curve = _meta_loss_curve(meta, path)
        model._wv = None
        return model

    def save_word2vec_format(self, path, binary: Optional[bool] = None) -> None:
        """word2vec C binary (default, or a .bin name) or text (.txt, .vec) vectors (with
        subwords: each word's composed vector, as fastText's .vec)."""
        check_output_file(path, "vectors", self._inputs())
        self.wv.save_word2vec_format(path, binary=binary)

    def _inputs(self) -> list:
        """The files this model read (its corpus): never to be written over."""
        source = None if self.corpus is None else self.corpus.stats.source
        return [(source, "corpus")] if source and os.path.exists(source) else []

    def save_facebook_model(self, path) -> None:
        """Write the model as a Facebook fastText .bin (unsupervised, version 12) that the
        fasttext package loads with the same word vectors, for seen and unseen words.
        The words keep w2v's order and counts. A model without subwords is written with
        maxn=0, bucket=0. fastText has one loss: negative sampling, or hierarchical
        softmax (whose output rows are written, but fastText builds its own Huffman
        tree, so its further hs training starts from rows meant for another tree)."""
        from w2v.fasttext_bin import FastTextArgs, FastTextModel, write_fasttext_bin
        if self.vocab is None:
            raise RuntimeError("nothing to save: the model has no vocabulary")
        check_output_file(path, "fastText model", self._inputs())
        c = self.config
        if c.hs and c.negative:
            raise ValueError("fastText trains one loss: a model with both negative sampling "
                             "and hierarchical softmax cannot be written as a .bin")
        if c.hs:
            output = np.concatenate([self.W_hs, np.zeros((1, c.vector_size), np.float32)])
        else:
            output = self.W_out
        args = FastTextArgs(dim=c.vector_size, ws=c.window, epoch=c.epochs, minCount=c.min_count,
                            neg=c.negative, loss="hs" if c.hs else "ns",
                            model="sg" if c.sg else "cbow", bucket=c.bucket if c.subwords else 0,
                            minn=c.minn if c.subwords else 0, maxn=c.maxn, t=c.sample)
        write_fasttext_bin(path, FastTextModel(args, list(self.vocab.index_to_key),
                                               self.vocab.counts, self.W_in, output,
                                               ntokens=int(self.vocab.counts.sum())))




def _pretrained_rows(vectors, words, counts, unicode_errors):
    """(rows, words, counts, nn.Embedding options) from whatever from_pretrained got."""
    import os
    options = {}
    if isinstance(vectors, (str, bytes, os.PathLike)):
        if words is not None:
            raise ValueError("a vector file names its own words: do not pass words")
        wv = WordVectors.load_word2vec_format(vectors, unicode_errors=unicode_errors)
        array, words = wv.vectors, wv.index_to_key
    elif isinstance(vectors, (WordVectors, Word2Vec)):
        wv = vectors.wv if isinstance(vectors, Word2Vec) else vectors
        array, words = wv.vectors, list(wv.index_to_key)
        if counts is None and wv.counts is not None:
            counts = wv.counts
    else:
        if type(vectors).__module__.startswith("torch"):
            import torch
            if isinstance(vectors, torch.nn.Embedding):
                options = {"padding_idx": vectors.padding_idx, "max_norm": vectors.max_norm,
                           "norm_type": float(vectors.norm_type)}
                options = {k: v for k, v in options.items() if v is not None}
                vectors = vectors.weight
            vectors = vectors.detach().cpu().float().numpy()
        array = np.asarray(vectors)
        if words is None:
            raise ValueError("pretrained vectors given as an array need `words`, one per row")
        words = list(words)
    if array.ndim != 2 or array.shape[0] != len(words) or array.shape[0] == 0:
        raise ValueError(f"pretrained vectors of shape {array.shape} for {len(words)} words: "
                         f"need one row per word and at least one word")
    if not np.all(np.isfinite(array)):
        raise ValueError("pretrained vectors hold NaN or infinite values")
    if counts is None:
        counts = np.zeros(len(words), dtype=np.int64)
    return array, words, counts, options
def _check_bool(value, name: str) -> bool:
    if isinstance(value, (bool, np.bool_)) or value in (0, 1):
        return bool(value)
    raise TypeError(f"{name}={value!r}: expected True or False")


def _check_callbacks(callbacks) -> list:
    if callable(callbacks):
        callbacks = [callbacks]
    if isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(f"callbacks={callbacks!r}: expected a list of functions f(model, epoch_stats)")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callback {cb!r} is not callable (expected f(model, epoch_stats))")
    return callbacks


def _same_path(a, b) -> bool:
    return os.path.abspath(os.fspath(a)) == os.path.abspath(os.fspath(b))


def _meta_count(meta: dict, name: str, path) -> int:
    """An integer >= 0 from a model file's metadata, or a ModelFileError."""
    value = meta.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ModelFileError(f"{path}: {name} should be an integer in [0, 2**63), got {value!r}")
    return value


def _meta_loss_curve(meta: dict, path) -> list:
    """The (words, loss) points of a model file's metadata, or a ModelFileError."""
    curve = meta.get("loss_curve", [])
    if not isinstance(curve, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, (int, float)) and
                                                        not isinstance(x, bool) for x in p)
            for p in curve):
        raise ModelFileError(f"{path}: loss_curve should be a list of [words, loss] pairs")
    return [tuple(p) for p in curve]
