"""The data pipeline: text in, the int32 id stream out.

- `corpus.py`: reading text (plain, .gz, .bz2, .xz, or iterables of token lists) once into
  a `Corpus` (ids + sentence offsets), long lines split, never truncated;
- `cache.py`: the id stream in a file (corpus_cache), memory-mapped for training;
- `_scan.pyx`: the UTF-8 byte scanner that counts words without a Python string per token;
- `vocab.py`: `Vocab`, words by descending count with exact counts;
- `sampling.py`: the random tables built from the counts (subsampling, negatives);
- `phrases.py`, `_phrases.pyx`: `Phrases`, multi-word expressions (new_york) learned on
  the id stream and joined into text or into a model's corpus.
"""
