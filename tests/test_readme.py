"""Every code block of README.md runs, so that the guide cannot drift from the code.

Python blocks run in order in one namespace (as a reader pasting them into one session
would), bash blocks with `w2v` and `python` meaning this interpreter. Each block runs in
a fresh folder holding the files the README names: `corpus.txt`, `big.txt`, `domain.txt`,
`more.txt` (pieces of the toy corpus), `model.npz` (a model trained on it),
`vectors.bin`, `questions-words.txt`, `wordsim353.tsv`, `data/` and `scripts/` of this
repository, and `../shared/data` where the shared data exists.

A block that cannot run here says why in a comment just above it:
`<!-- readme-test: skip REASON -->`; one that needs an optional extra says which:
`<!-- readme-test: needs MODULE -->` (it is skipped, saying so, without that module;
CI runs this file again with the extras installed).
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared")
README = os.path.join(ROOT, "README.md")

BLOCK = re.compile(r"(?:<!-- readme-test: (?P<kind>skip|needs) (?P<what>[^>]*?) -->\n)?"
                   r"^```(?P<lang>[a-z]*)\n(?P<code>.*?)^```", re.S | re.M)


def readme_blocks():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    blocks = []
    for m in BLOCK.finditer(text):
        if m.group("lang") not in ("python", "bash"):
            continue                    # output listings and tables are not code
        line = text.count("\n", 0, m.start("code")) + 1
        blocks.append(pytest.param(m.group("lang"), m.group("code"), m.group("kind"),
                                   (m.group("what") or "").strip(), id=f"README.md:{line}"))
    return blocks


BLOCKS = readme_blocks()


@pytest.fixture(scope="module")
def namespace():
    return {"__name__": "__readme__"}


@pytest.fixture(scope="module")
def materials(tmp_path_factory, toy_corpus, toy_questions):
    """The files the README names, made once; each block gets a copy."""
    from w2v import Word2Vec
    folder = tmp_path_factory.mktemp("readme-materials")
    with open(toy_corpus, encoding="utf-8") as f:
        lines = f.readlines()
    (folder / "corpus.txt").write_text("".join(lines[:10000]), encoding="utf-8")
    shutil.copy(folder / "corpus.txt", folder / "big.txt")
    (folder / "domain.txt").write_text("".join(lines[10000:20000]) + "emperor empire\n" * 6,
                                       encoding="utf-8")
    (folder / "more.txt").write_text("".join(lines[20000:]) + "emperor empire\n" * 6,
                                     encoding="utf-8")
    shutil.copy(toy_questions, folder / "questions-words.txt")
    (folder / "wordsim353.tsv").write_text(
        "# word1\tword2\tscore\nking\tqueen\t8.5\ncat\tcats\t9.0\nparis\tfrance\t7.5\n"
        "king\tcat\t1.0\nboy\tgirl\t7.0\nman\twoman\t8.3\ntokyo\tcat\t0.5\n", encoding="utf-8")
    model = Word2Vec(str(folder / "corpus.txt"), epochs=3, workers=1, progress=False)
    model.save(folder / "model.npz")
    model.save_word2vec_format(folder / "vectors.bin")
    return folder


@pytest.fixture
def workspace(materials, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    shutil.copytree(materials, repo)
    for name in ("data", "scripts"):
        os.symlink(os.path.join(ROOT, name), repo / name)
    if os.path.isdir(SHARED):
        os.symlink(os.path.abspath(SHARED), tmp_path / "shared")
    monkeypatch.chdir(repo)
    return repo


@pytest.mark.parametrize("lang,code,kind,what", BLOCKS)
def test_readme_block_runs(lang, code, kind, what, workspace, namespace):
    if kind == "skip":
        assert what, "a skipped README block must say why"
        pytest.skip(f"not run here: {what}")
    if kind == "needs":
        for module in what.split():
            if importlib.util.find_spec(module) is None:
                pytest.skip(f"needs {module} (an optional extra)")
    if "../shared/data" in code and not os.path.isdir(os.path.join(SHARED, "data")):
        pytest.skip("needs ../shared/data")
    if lang == "python":
        exec(compile(code, "README.md", "exec"), namespace)
        return
    prelude = (f'set -euo pipefail\nw2v() {{ "{sys.executable}" -m w2v "$@"; }}\n'
               f'python() {{ "{sys.executable}" "$@"; }}\n')
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), _package_root()) if p)
    out = subprocess.run(["bash", "-c", prelude + code], cwd=workspace, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"


def _package_root():
    """Where the w2v being tested is imported from (an install, or this checkout built in place)."""
    import w2v
    return os.path.dirname(os.path.dirname(os.path.abspath(w2v.__file__)))


def test_the_readme_blocks_were_found_and_most_run():
    kinds = [p.values[2] for p in BLOCKS]
    assert len(BLOCKS) >= 10                       # the block pattern still matches the README
    assert kinds.count("skip") <= len(BLOCKS) // 2
