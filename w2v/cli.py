"""Command line: `python scripts/train.py corpus.txt`, `python -m w2v corpus.txt`,
or `w2v train corpus.txt`. Every hyperparameter of Config is a flag."""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time
import typing
from typing import List, Optional

from w2v.config import MODEL_DEFAULTS, Config
from w2v.paths import (OutputPathError, check_output_dir, check_output_file, default_name,
                       same_file, save_or_rescue)

PROBE_WORDS = ("king", "france", "computer", "city", "good", "dog", "music")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per Config field, its help and default taken from the field."""
    group = parser.add_argument_group("hyperparameters (defaults as in w2v.Config)")
    hints = typing.get_type_hints(Config)
    for f in dataclasses.fields(Config):
        kind = hints[f.name]
        default = "all cores" if f.name == "workers" else f.default
        if f.name in MODEL_DEFAULTS:
            default = ", ".join(f"{v} for {model}" for model, v in MODEL_DEFAULTS[f.name].items())
        help_text = f"{f.metadata.get('help', '')} (default: {default})"
        if kind is bool:
            group.add_argument(_flag(f.name), dest=f.name, default=None,
                               action=argparse.BooleanOptionalAction, help=help_text)
            continue
        base = typing.get_args(kind)[0] if typing.get_origin(kind) is typing.Union else kind
        choices = {"optimizer": ("adam", "sgd"),
                   "encoding_errors": ("strict", "replace", "ignore")}.get(f.name)
        group.add_argument(_flag(f.name), dest=f.name, type=base, default=None, choices=choices,
                           metavar=None if choices else {"checkpoint_every": "INTERVAL", "encoding": "CODEC",
                                                                         "corpus_cache": "PATH"}.get(
                               f.name, {int: "N", float: "X"}.get(base, "NAME")),
                           help=help_text)


def config_from_args(args: argparse.Namespace) -> Config:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)
              if getattr(args, f.name, None) is not None}
    return Config(**values)


def build_train_parser(prog: str = "w2v train") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train word2vec embeddings (CBOW or skip-gram, negative sampling and/or "
                    "hierarchical softmax) on a text file "
                    "(one sentence per line, tokens split on whitespace; .gz/.bz2/.xz read "
                    "directly). Prints a summary and nearest neighbours, writes the model.")
    parser.add_argument("corpus", help="the training text")
    parser.add_argument("-o", "--output", default=None,
                        help="model file to write (native .npz format; default: "
                             "<corpus name>.w2v.npz in the current directory)")
    parser.add_argument("--save-vectors", metavar="PATH", default=None,
                        help="also write the word vectors in word2vec C's binary format "
                             "(text if PATH ends in .txt or .vec)")
    parser.add_argument("--neighbours", nargs="*", metavar="WORD", default=None,
                        help="words whose nearest neighbours to print (default: a few frequent ones)")
    parser.add_argument("--analogy", nargs=3, metavar=("A", "B", "C"), default=None,
                        help="print the answer to A is to B as C is to ? "
                             "(default: man king woman, when those words are known)")
    parser.add_argument("--plot", nargs="?", const="", default=None, metavar="DIR",
                        help="after training, write loss.png and words.png (needs matplotlib) "
                             "to DIR (default: <output name>-plots)")
    parser.add_argument("--phrases", metavar="MODEL", default=None,
                        help="join the phrases of this phrase model (made by `w2v phrases`) "
                             "while reading the corpus: vectors for new_york and the like")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    parser.add_argument("--checkpoint-dir", metavar="DIR", default=None,
                        help="save the whole training state in DIR every --checkpoint-every "
                             "(atomically; the newest two are kept)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run checkpointed in --checkpoint-dir: same corpus; "
                             "hyperparameters come from the checkpoint (only --workers, "
                             "--checkpoint-every and --[no-]rollback-on-divergence may change)")
    add_config_flags(parser)
    return parser


def default_output(corpus: str) -> str:
    """The model name `w2v train` picks for a corpus: <corpus name>.w2v.npz (w2v.paths
    then makes sure it replaces nothing)."""
    name = os.path.basename(os.fspath(corpus))
    for ext in (".gz", ".bz2", ".xz", ".txt"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
    return (name or "model") + ".w2v.npz"


PLOT_FILES = ("loss.png", "words.png")


def check_plotting() -> None:
    """Refuse --plot before any work when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError('--plot needs matplotlib: pip install "w2v[plot]"') from None


def train_outputs(args, say) -> dict:
    """Every path `w2v train` will write, checked before training: {"model", "vectors",
    "checkpoints", "plots"} (None where not asked for). Inputs are never replaced, a
    default name never replaces an existing file, directories must exist and be writable."""
    inputs = [(args.corpus, "corpus")]
    if args.output:
        model = check_output_file(args.output, "model", inputs)
    else:
        model = check_output_file(default_name(default_output(args.corpus), say=say,
                                                      what="model"), "model", inputs)
    vectors = None
    if args.save_vectors:
        vectors = check_output_file(args.save_vectors, "vectors", inputs)
        if same_file(vectors, model):
            raise OutputPathError(f"--save-vectors and the model output both name {model}: "
                                  f"give them different names")
    checkpoints = None
    if args.checkpoint_dir:
        checkpoints = check_output_dir(args.checkpoint_dir, "checkpoint directory", inputs)
    plots = None
    if args.plot is not None:
        check_plotting()
        if args.plot:
            plots = args.plot
        else:
            stem = model[: -len(".npz")] if model.endswith(".npz") else model
            plots = default_name(stem + "-plots", is_dir=True, say=say, what="plots")
        outputs = [(model, "model output"), (vectors, "vectors output")]
        plots = check_output_dir(plots, "plot directory", inputs + outputs, files=PLOT_FILES)
    return {"model": model, "vectors": vectors, "checkpoints": checkpoints, "plots": plots}


def train_command(argv, prog: str = "w2v train") -> int:
    from w2v.models.word2vec import Word2Vec
    from w2v.training.report import TrainingDiverged

    parser = build_train_parser(prog)
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except (TypeError, ValueError) as e:
        parser.error(str(e))
    if args.resume and not args.checkpoint_dir:
        parser.error("--resume needs --checkpoint-dir DIR (where the checkpoints are)")
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.INFO,
                        format="%(message)s")
    say = (lambda *a: None) if args.quiet else print
    outputs = train_outputs(args, say)
    output = outputs["model"]

    started = time.perf_counter()
    if args.resume:
        given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)
                 if getattr(args, f.name, None) is not None}
        corpus = args.corpus
        if args.phrases:
            from w2v.data.phrases import Phrases
            corpus = Phrases.load(args.phrases).sentences(corpus)
        model = Word2Vec.resume(args.checkpoint_dir, corpus, **given)   # logs where
        config = model.config
        seconds_before = sum(e.get("seconds", 0.0) for e in
                             model.history[model.resume_state.history_start:])
    else:
        seconds_before = 0.0
        model = Word2Vec(config=config, phrases=args.phrases)
        model.build_vocab(args.corpus)
    vocab_seconds = time.perf_counter() - started
    stats = model.corpus.stats
    say(f"vocabulary: {len(model.vocab):,} words (min_count={config.min_count}) from "
        f"{stats.tokens:,} tokens in {stats.lines:,} lines, built in {vocab_seconds:.1f} s")
    interrupted = False
    finished = args.resume and model.resume_state.finished
    if finished:
        say(f"the run in {args.checkpoint_dir} is finished: nothing left to train; writing its model")
    try:
        model.train(progress=not args.no_progress and not args.quiet,     # nothing, if finished
                    checkpoint_dir=args.checkpoint_dir)
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: saving what was trained so far")
    except TrainingDiverged as e:
        saved = save_or_rescue(model.save, output)    # the state it was rolled back to
        raise TrainingDiverged(f"{e}; that model is saved to {saved}") from None
    report = model.last_report
    save_or_rescue(model.save, output)
    if args.save_vectors:
        try:
            model.save_word2vec_format(args.save_vectors)
        except OSError as e:
            raise OSError(f"could not write the vectors to {args.save_vectors} ({e}); the model "
                          f"is saved in {output}: `w2v export {output}` writes them") from None

    say(f"optimizer {config.optimizer}, {report.workers} worker thread(s), "
        f"{len(report.epochs)} epoch(s)")
    for e in report.epochs if not report.logged_epochs else ():   # else logged as they ended
        say(f"  epoch {e.epoch}{'' if e.complete else ' (interrupted)'}: loss {e.loss:.4f}, "
            f"{e.words:,} words, {e.seconds:.1f} s, lr {e.lr:.2e}")
    before = f", {seconds_before:.1f} s of it before the resume" if seconds_before else ""
    say(f"trained {report.words:,} words ({report.raw_words:,} corpus words) in "
        f"{report.seconds:.1f} s{before}: {report.words_per_second / 1e6:.2f} M words/s; "
        f"this command took {time.perf_counter() - started:.1f} s")
    say(f"model written to {output}" + (f", vectors to {args.save_vectors}" if args.save_vectors else ""))
    if outputs["plots"] is not None:
        from w2v.plot import plot_model
        say("plots written: " + ", ".join(plot_model(model, outputs["plots"])))
    if args.quiet:
        return 130 if interrupted else 0

    probes = args.neighbours
    if probes is None:
        probes = [w for w in PROBE_WORDS if w in model][:4]
        if len(probes) < 3:
            probes += [w for w in model.index_to_key[10:200:40] if w not in probes]
    for word in probes:
        if word not in model:
            say(f"  {word}: not in the vocabulary")
            continue
        neighbours = ", ".join(f"{w} {s:.2f}" for w, s in model.most_similar(word, topn=8))
        say(f"  {word}: {neighbours}")
    analogy = args.analogy or (("man", "king", "woman")
                               if all(w in model for w in ("man", "king", "woman")) else None)
    if analogy:
        missing = [w for w in analogy if w not in model]
        if missing:
            say(f"  analogy: {', '.join(missing)} not in the vocabulary")
        else:
            answer = ", ".join(f"{w} {s:.2f}" for w, s in model.analogy(*analogy, topn=3))
            say(f"  {analogy[0]} : {analogy[1]} = {analogy[2]} : ?  ->  {answer}")
    return 130 if interrupted else 0


# ----------------------------------------------------------------- other commands
def load_any(path, unicode_errors: str = "strict"):
    """A native model (.npz, recognised by its zip magic even when damaged), a fastText
    .bin model (SubwordVectors: unseen words too) or word vectors from a word2vec /
    fastText file."""
    from w2v.fasttext_bin import is_fasttext_bin
    from w2v.io import ModelFileError
    from w2v.models.word2vec import Word2Vec
    from w2v.vectors import SubwordVectors, WordVectors, load_vectors
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"model path is a directory: {path}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic in (b"PK\x03\x04", b"PK\x05\x06"):      # a .npz (zip) file
        try:
            return Word2Vec.load(path)
        except ModelFileError as error:
            try:                                   # word vectors saved by WordVectors.save
                return load_vectors(path)
            except ModelFileError:
                raise error from None
    if is_fasttext_bin(path):
        return SubwordVectors.load_facebook(path)
    return WordVectors.load_word2vec_format(path, unicode_errors=unicode_errors)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range: must be >= 1")
    return value


def _model_parser(prog, description):
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("model", help="a model saved by w2v (.npz) or a word2vec / fastText "
                                      "vector file (.bin, .txt, .vec)")
    parser.add_argument("--unicode-errors", default="strict",
                        choices=("strict", "replace", "ignore", "surrogateescape"),
                        help="vector files: what to do with words that are not valid UTF-8 "
                             "(default strict: an error)")
    return parser


def similar_command(argv, prog):
    parser = _model_parser(prog, "Nearest neighbours (cosine) of each word.")
    parser.add_argument("words", nargs="+", metavar="WORD")
    parser.add_argument("-n", "--topn", type=_positive_int, default=10, help="neighbours per word (default 10)")
    args = parser.parse_args(argv)
    model = load_any(args.model, args.unicode_errors)
    for word in args.words:
        neighbours = model.most_similar(word, topn=args.topn)
        print(f"{word}:")
        for neighbour, score in neighbours:
            print(f"  {neighbour}\t{score:.4f}")
    return 0


def analogy_command(argv, prog):
    parser = _model_parser(prog, "A is to B as C is to ?  (3CosAdd: nearest to B - A + C).")
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("c")
    parser.add_argument("-n", "--topn", type=_positive_int, default=5, help="answers to print (default 5)")
    args = parser.parse_args(argv)
    model = load_any(args.model, args.unicode_errors)
    answers = model.analogy(args.a, args.b, args.c, topn=args.topn)
    print(f"{args.a} : {args.b} = {args.c} : ?")
    for word, score in answers:
        print(f"  {word}\t{score:.4f}")
    return 0


def evaluate_command(argv, prog):
    from w2v.evaluation import evaluate_analogies, evaluate_word_pairs
    parser = _model_parser(prog, "Analogy accuracy (questions-words format) and word-pair "
                                 "correlation (word1 TAB word2 TAB score).")
    parser.add_argument("--analogies", metavar="FILE", help="analogy questions, e.g. questions-words.txt")
    parser.add_argument("--pairs", metavar="FILE", nargs="+", help="word-pair files, e.g. wordsim353.tsv")
    parser.add_argument("--restrict-vocab", type=_positive_int, default=30000, metavar="N",
                        help="analogies: search among the N most frequent words (default 30000)")
    parser.add_argument("--method", choices=("3cosadd", "3cosmul"), default="3cosadd")
    parser.add_argument("--case-sensitive", action="store_true")
    parser.add_argument("--sections", action="store_true", help="print each analogy section")
    parser.add_argument("--oov-ngrams", action="store_true",
                        help="subword models: words outside the vocabulary get their vectors "
                             "from their character n-grams (as fastText) instead of being skipped")
    args = parser.parse_args(argv)
    if not args.analogies and not args.pairs:
        parser.error("give --analogies FILE and/or --pairs FILE")
    model = load_any(args.model, args.unicode_errors)
    if args.analogies:
        result = evaluate_analogies(model, args.analogies, restrict_vocab=args.restrict_vocab,
                                    case_insensitive=not args.case_sensitive, method=args.method,
                                    oov_ngrams=args.oov_ngrams)
        if args.sections:
            for s in result["sections"]:
                print(f"  {s['section']:<30} {100 * s['accuracy']:6.2f}%  "
                      f"({s['correct']}/{s['answered']}, {s['skipped']} skipped)")
        print(f"analogies ({args.method}, {args.restrict_vocab} most frequent): "
              f"{100 * result['accuracy']:.2f}% ({result['correct']}/{result['answered']}, "
              f"{result['skipped']} skipped{_by_ngrams(result)})  {args.analogies}")
    for path in args.pairs or ():
        result = evaluate_word_pairs(model, path, case_insensitive=not args.case_sensitive,
                                     oov_ngrams=args.oov_ngrams)
        print(f"word pairs: spearman {result['spearman']:.4f}, pearson {result['pearson']:.4f}, "
              f"{result['pairs']} pairs{_by_ngrams(result)}, "
              f"{100 * result['oov_ratio']:.1f}% out of vocabulary  {path}")
    return 0


def _by_ngrams(result) -> str:
    """', N from n-grams' when the evaluation answered some with unseen words' vectors."""
    n = result.get("oov_answered")
    return f", {n} with n-gram vectors" if n else ""


PROJECTOR_FILES = ("vectors.tsv", "metadata.tsv")
EXPORT_FORMATS = {"word2vec": ".txt", "word2vec-bin": ".bin", "vec": ".vec",
                  "projector": "-projector", "torch": ".pt", "fasttext-bin": ".bin"}


def export_vectors(wv, output: str, fmt: str, padding_idx=None) -> List[str]:
    """Write `wv` (WordVectors) in `fmt`; returns the files written."""
    from w2v.io import atomic_write, save_word2vec_format
    if fmt in ("word2vec", "word2vec-bin", "vec"):
        save_word2vec_format(output, wv.index_to_key, wv.vectors, binary=fmt == "word2vec-bin")
        return [output]
    if fmt == "projector":
        # TensorBoard Embedding Projector: vectors.tsv (one row of numbers per word) and
        # metadata.tsv (one word per line; a single column has no header line).
        os.makedirs(output, exist_ok=True)
        vectors_path, metadata_path = (os.path.join(output, name) for name in PROJECTOR_FILES)
        row_format = "\t".join(["%.6g"] * wv.vector_size) + "\n"
        with atomic_write(vectors_path) as f:
            for row in wv.vectors.tolist():
                f.write((row_format % tuple(row)).encode("ascii"))
        with atomic_write(metadata_path) as f:
            f.write("".join(w + "\n" for w in wv.index_to_key).encode("utf-8"))
        return [vectors_path, metadata_path]
    if fmt == "torch":
        try:
            import torch
        except ImportError:
            raise ImportError('--format torch needs PyTorch: pip install "w2v[torch]"') from None
        state = {"weight": torch.from_numpy(wv.vectors.copy()), "words": list(wv.index_to_key),
                 "padding_idx": padding_idx}
        with atomic_write(output) as f:
            torch.save(state, f)
        return [output]
    raise ValueError(f"unknown export format {fmt!r}: one of {', '.join(EXPORT_FORMATS)}")


def export_command(argv, prog):
    parser = _model_parser(prog, "Write the word vectors in another format.")
    parser.add_argument("--format", required=True, choices=tuple(EXPORT_FORMATS),
                        help="word2vec: text; word2vec-bin: word2vec C binary; vec: fastText "
                             "text; projector: vectors.tsv + metadata.tsv for the TensorBoard "
                             "Embedding Projector; torch: a .pt dict {weight, words, "
                             "padding_idx} for nn.Embedding.from_pretrained; fasttext-bin: a "
                             "Facebook fastText .bin model (a w2v model or a fastText .bin)")
    parser.add_argument("-o", "--output", help="file (directory for projector) to write; "
                                               "default: beside MODEL with the format's extension")
    args = parser.parse_args(argv)
    inputs = [(args.model, "model")]
    to_directory = args.format == "projector"
    output = args.output
    if output is None:          # beside the model, under a name that replaces nothing
        stem = args.model
        for ext in (".npz", ".bin", ".txt", ".vec"):
            if stem.lower().endswith(ext):
                stem = stem[: -len(ext)]
                break
        output = default_name(stem + EXPORT_FORMATS[args.format], is_dir=to_directory,
                              say=print, what=f"{args.format} export")
    if to_directory:
        check_output_dir(output, "projector directory", inputs, files=PROJECTOR_FILES)
    else:
        check_output_file(output, f"{args.format} export", inputs)
    model = load_any(args.model, args.unicode_errors)
    if args.format == "fasttext-bin":
        if not hasattr(model, "save_facebook_model"):
            raise ValueError(f"{args.model}: word vectors alone cannot make a fastText model "
                             f"(it needs the output layer): export a w2v model (.npz)")
        model.save_facebook_model(output)
        print(f"wrote {output}")
        return 0
    wv = model.wv if hasattr(model, "wv") else model
    padding = getattr(getattr(model, "config", None), "padding_idx", None)
    for path in export_vectors(wv, output, args.format, padding_idx=padding):
        print(f"wrote {path}")
    return 0


def plot_command(argv, prog):
    from w2v.plot import plot_model
    parser = _model_parser(prog, "PNG pictures: loss per epoch and along training "
                                 "(loss.png, native models only) and a labelled 2-D PCA map "
                                 "of word vectors (words.png).")
    parser.add_argument("-o", "--output-dir", default=None,
                        help="directory for the PNGs (default: <model name>-plots)")
    parser.add_argument("--words", nargs="+", metavar="WORD", help="words to map (default: the "
                                                                  "most frequent ones)")
    parser.add_argument("--top", type=_positive_int, default=100, help="how many frequent words to map (100)")
    parser.add_argument("--skip", type=int, default=0,
                        help="skip this many most frequent words first, e.g. stop words (0)")
    args = parser.parse_args(argv)
    check_plotting()
    directory = args.output_dir or default_name(
        os.path.splitext(os.path.basename(args.model))[0] + "-plots", is_dir=True, say=print,
        what="plots")
    check_output_dir(directory, "plot directory", [(args.model, "model")], files=PLOT_FILES)
    model = load_any(args.model, args.unicode_errors)
    for path in plot_model(model, directory, args.words, args.top, args.skip):
        print(f"wrote {path}")
    return 0


def phrases_command(argv, prog):
    from w2v.data.phrases import DEFAULT_THRESHOLDS, ENGLISH_CONNECTOR_WORDS, SCORINGS, Phrases

    parser = argparse.ArgumentParser(
        prog=prog, description="Learn phrases (new_york, los_angeles_times) from a corpus and "
                               "write it with them joined; the phrase model is saved for "
                               "`w2v train --phrases MODEL`.")
    parser.add_argument("corpus", help="the text (one sentence per line; .gz/.bz2/.xz read directly)")
    parser.add_argument("-o", "--output", default=None,
                        help="joined text to write (default: <corpus name>.phrases.txt)")
    parser.add_argument("--save-model", metavar="PATH", default=None,
                        help="where to save the phrase model (default: <output name>.npz)")
    parser.add_argument("--model", metavar="PATH", default=None,
                        help="apply this saved phrase model instead of learning one")
    parser.add_argument("--min-count", type=int, default=5, metavar="N",
                        help="candidates seen fewer times are never phrases (5)")
    parser.add_argument("--threshold", type=float, default=None, metavar="X",
                        help="score a phrase must exceed (default: " + ", ".join(
                            f"{v:g} for {k}" for k, v in DEFAULT_THRESHOLDS.items()) + ")")
    parser.add_argument("--scoring", choices=SCORINGS, default="default",
                        help="default: gensim's (count(ab) - min_count) / (count(a) count(b)) * "
                             "entries; word2phrase: the same with N = tokens; npmi: in [-1, 1]")
    parser.add_argument("--passes", type=int, default=1, metavar="N",
                        help="learn again on the joined text N - 1 times: longer phrases (1)")
    parser.add_argument("--connector-words", default="none", metavar="english|none|FILE",
                        help="words a phrase may hold inside (bank_of_america): 'english' "
                             "(gensim's list), 'none', or a file of words (default: none)")
    parser.add_argument("--delimiter", default="_", help="joins the words of a phrase (_)")
    parser.add_argument("--max-vocab-size", type=int, default=40_000_000, metavar="N",
                        help="bound on words + candidates held while counting; rarer "
                             "candidates are pruned, and the count reported (40000000)")
    parser.add_argument("--top", type=int, default=10, metavar="N",
                        help="highest-scoring phrases to print (10)")
    parser.add_argument("--no-output", action="store_true",
                        help="only learn and save the model; write no joined text")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.WARNING, format="%(message)s")
    say = (lambda *a: None) if args.quiet else print
    progress = not (args.no_progress or args.quiet)
    name = os.path.basename(os.fspath(args.corpus))
    for ext in (".gz", ".bz2", ".xz", ".txt"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
    output = args.output or (name or "corpus") + ".phrases.txt"
    started = time.perf_counter()
    if args.model:
        phrases = Phrases.load(args.model)
        say(f"phrase model {args.model}: {len(phrases):,} phrases")
    else:
        connectors = args.connector_words
        if connectors == "english":
            connectors = ENGLISH_CONNECTOR_WORDS
        elif connectors == "none":
            connectors = frozenset()
        else:
            with open(connectors, encoding="utf-8") as f:
                connectors = frozenset(f.read().split())
        phrases = Phrases(min_count=args.min_count, threshold=args.threshold, scoring=args.scoring,
                          passes=args.passes, connector_words=connectors, delimiter=args.delimiter,
                          max_vocab_size=args.max_vocab_size)
        phrases.learn(args.corpus, progress=progress)
        model_path = args.save_model or os.path.splitext(output)[0] + ".npz"
        phrases.save(model_path)
        say(phrases.summary())
        say(f"learned in {time.perf_counter() - started:.1f} s; phrase model written to "
            f"{model_path} (use it with `w2v train --phrases {model_path}`)")
        top = phrases.top(args.top)
        if top:
            say("top phrases: " + ", ".join(f"{p} {s:.3g}" for p, s in top))
        by_count = sorted(phrases.phrases(), key=lambda x: -x[2])[:args.top]
        if by_count:
            say("most frequent: " + ", ".join(f"{p} {c:,}" for p, _, c, _ in by_count))
    if not args.no_output:
        joining = time.perf_counter()
        stats = phrases.transform_file(args.corpus, output, progress=progress)
        say(f"{stats.summary()}; written to {output} in {time.perf_counter() - joining:.1f} s")
    return 0


COMMANDS = {"phrases": phrases_command, "train": train_command, "similar": similar_command, "analogy": analogy_command,
            "evaluate": evaluate_command, "export": export_command, "plot": plot_command}

USAGE = """usage: {prog} COMMAND ...

commands:
  train CORPUS [options]            train a model (the default: `{prog} CORPUS` trains too)
  phrases CORPUS [-o OUT] [options] learn phrases (new_york) and write the joined text
  similar MODEL WORD...             nearest neighbours
  analogy MODEL A B C               A is to B as C is to ?
  evaluate MODEL --analogies FILE --pairs FILE...
  export MODEL --format word2vec|word2vec-bin|vec|projector|torch [-o OUT]
  plot MODEL [-o DIR]               loss curves and a PCA map as PNGs (needs matplotlib)

`{prog} COMMAND --help` tells more; `{prog} --version` prints the version. MODEL is a .npz saved by w2v or a word2vec /
fastText vector file."""


def _mistyped_command(word: str) -> Optional[str]:
    import difflib
    close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.7)
    return close[0] if close else None


def main(argv=None, prog: str = "w2v", command: Optional[str] = None) -> int:
    """`w2v COMMAND ...`; with `command` given (scripts/train.py) argv is that command's."""
    from w2v.data.corpus import CorpusError
    from w2v.io import ModelFileError
    from w2v.training.report import TrainingDiverged

    argv = list(sys.argv[1:] if argv is None else argv)
    if command is None:
        if not argv or argv[0] in ("-h", "--help"):
            print(USAGE.format(prog=prog))
            return 0 if argv else 2
        if argv[0] in ("-V", "--version"):
            from w2v import __version__
            print(f"w2v {__version__}")
            return 0
        command = "train"
        if argv[0] in COMMANDS:
            command, prog = argv[0], f"{prog} {argv[0]}"
            argv = argv[1:]
        elif not os.path.exists(argv[0]) and _mistyped_command(argv[0]):
            # `w2v CORPUS` trains; a missing file named like a command is a typo
            print(f"{prog}: error: {argv[0]!r} is neither a command ({', '.join(COMMANDS)}) nor "
                  f"a corpus file (did you mean `{prog} {_mistyped_command(argv[0])}`?)",
                  file=sys.stderr)
            return 1
    command = COMMANDS[command]
    try:
        return command(argv, prog=prog)
    except (OSError, CorpusError, ModelFileError, TrainingDiverged, ValueError, KeyError,
            IndexError, ImportError) as e:
        # Expected failures (bad path, unreadable or unusable corpus, unknown word, ...):
        # one line, no traceback.
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
