#!/usr/bin/env python
"""Train word2vec CBOW on a text file: python scripts/train.py corpus.txt [--help]."""
import sys

try:
    from w2v.cli import main
except ImportError as e:  # pragma: no cover - only when w2v is not installed
    sys.exit(f"cannot import w2v ({e}); install it first: pip install .")

if __name__ == "__main__":
    sys.exit(main(prog="scripts/train.py", command="train"))
