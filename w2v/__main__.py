import sys

from w2v.cli import main

sys.exit(main(prog="python -m w2v"))
