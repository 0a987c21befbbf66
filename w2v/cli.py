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

from w2v.config import Config

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
        help_text = f"{f.metadata.get('help', '')} (default: {default})"
        if kind is bool:
            group.add_argument(_flag(f.name), dest=f.name, default=None,
                               action=argparse.BooleanOptionalAction, help=help_text)
            continue
        base = typing.get_args(kind)[0] if typing.get_origin(kind) is typing.Union else kind
        choices = {"optimizer": ("adam", "sgd"),
                   "encoding_errors": ("strict", "replace", "ignore")}.get(f.name)
        group.add_argument(_flag(f.name), dest=f.name, type=base, default=None, choices=choices,
                           metavar=None if choices else {int: "N", float: "X"}.get(base, "NAME"),
                           help=help_text)


def config_from_args(args: argparse.Namespace) -> Config:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)
              if getattr(args, f.name, None) is not None}
    return Config(**values)


def build_train_parser(prog: str = "w2v train") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train word2vec CBOW embeddings with negative sampling on a text file "
                    "(one sentence per line, tokens split on whitespace; .gz/.bz2/.xz read "
                    "directly). Prints a summary and nearest neighbours, writes the model.")
    parser.add_argument("corpus", help="the training text")
    parser.add_argument("-o", "--output", default=None,
                        help="model file to write (native .npz format; default: "
                             "<corpus name>.w2v.npz in the current directory)")
    parser.add_argument("--save-vectors", metavar="PATH", default=None,
                        help="also write the word vectors in word2vec C's binary format "
                             "(text format if PATH ends in .txt)")
    parser.add_argument("--neighbours", nargs="*", metavar="WORD", default=None,
                        help="words whose nearest neighbours to print (default: a few frequent ones)")
    parser.add_argument("--analogy", nargs=3, metavar=("A", "B", "C"), default=None,
                        help="print the answer to A is to B as C is to ? "
                             "(default: man king woman, when those words are known)")
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
    name = os.path.basename(os.fspath(corpus))
    for ext in (".gz", ".bz2", ".xz", ".txt"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
    return (name or "model") + ".w2v.npz"


def train_command(argv, prog: str = "w2v train") -> int:
    from w2v.model import Word2Vec
    from w2v.trainer import TrainingDiverged

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
    output = args.output or default_output(args.corpus)

    started = time.perf_counter()
    if args.resume:
        given = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config)
                 if getattr(args, f.name, None) is not None}
        model = Word2Vec.resume(args.checkpoint_dir, args.corpus, **given)
        config = model.config
        state = model.resume_state
        say(f"resuming {state.path}: epoch {state.epoch + 1} of {state.epochs}, "
            f"sentence {state.sentence:,}")
    else:
        model = Word2Vec(config=config)
        model.build_vocab(args.corpus)
    vocab_seconds = time.perf_counter() - started
    stats = model.corpus.stats
    say(f"vocabulary: {len(model.vocab):,} words (min_count={config.min_count}) from "
        f"{stats.tokens:,} tokens in {stats.lines:,} lines, built in {vocab_seconds:.1f} s")
    interrupted = False
    try:
        model.train(progress=not args.no_progress and not args.quiet,
                    checkpoint_dir=args.checkpoint_dir)
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: saving what was trained so far")
    except TrainingDiverged as e:
        model.save(output)              # the state it was rolled back to
        raise TrainingDiverged(f"{e}; that model is saved to {output}") from None
    report = model.last_report
    model.save(output)
    if args.save_vectors:
        model.save_word2vec_format(args.save_vectors,
                                   binary=not args.save_vectors.lower().endswith(".txt"))

    say(f"optimizer {config.optimizer}, {report.workers} worker thread(s), "
        f"{len(report.epochs)} epoch(s)")
    for e in report.epochs:
        say(f"  epoch {e.epoch}{'' if e.complete else ' (interrupted)'}: loss {e.loss:.4f}, "
            f"{e.words:,} words, {e.seconds:.1f} s, lr {e.lr:.2e}")
    say(f"trained {report.words:,} words ({report.raw_words:,} corpus words) in "
        f"{report.seconds:.1f} s: {report.words_per_second / 1e6:.2f} M words/s; "
        f"total {time.perf_counter() - started:.1f} s")
    say(f"model written to {output}" + (f", vectors to {args.save_vectors}" if args.save_vectors else ""))
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


def main(argv=None, prog: str = "w2v") -> int:
    from w2v.corpus import CorpusError
    from w2v.io import ModelFileError
    from w2v.trainer import TrainingDiverged

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "train":
        argv, prog = argv[1:], f"{prog} train"
    try:
        return train_command(argv, prog=prog)
    except (OSError, CorpusError, ModelFileError, TrainingDiverged, ValueError) as e:
        # Expected failures (bad path, unreadable or unusable corpus, ...): one line, no traceback.
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
