"""The arithmetic of scripts/bench_frontier.py: medians per point, the best quality within
each budget, and which peer runs w2v does not dominate (no training here)."""
import importlib.util
import os

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "scripts", "bench_frontier.py")


@pytest.fixture(scope="module")
def frontier_script():
    spec = importlib.util.spec_from_file_location("bench_frontier", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(config, epochs, train_s, analogy, ws353, repeat=0):
    return {"config": config, "epochs": epochs, "train_s": train_s, "cpu_s": 2 * train_s,
            "analogy": analogy, "ws353": ws353, "repeat": repeat}


def test_medians_per_config_and_epochs(frontier_script):
    runs = [run("gensim-cbow", 1, 10.0, 0.10, 0.5, 0), run("gensim-cbow", 1, 14.0, 0.12, 0.6, 1),
            run("gensim-cbow", 1, 30.0, 0.20, 0.4, 2), run("w2v-cbow-sgd", 1, 5.0, 0.11, 0.55)]
    points = frontier_script.medians(runs)
    # w2v's configurations come first (the order of CONFIGS), then by epochs
    assert [p["config"] for p in points] == ["w2v-cbow-sgd", "gensim-cbow"]
    gensim = points[1]
    assert (gensim["train_s"], gensim["analogy"], gensim["ws353"], gensim["runs"]) == \
        (14.0, 0.12, 0.5, 3)


def test_frontier_keeps_only_improvements(frontier_script):
    points = [run("a", 1, 5.0, 0.10, 0), run("a", 2, 10.0, 0.08, 0), run("b", 1, 7.0, 0.15, 0),
              run("b", 5, 30.0, 0.20, 0)]
    assert frontier_script.frontier(points, "analogy") == [(5.0, 0.10), (7.0, 0.15), (30.0, 0.20)]


def test_undominated_lists_the_peer_runs_w2v_does_not_match(frontier_script):
    points = [run("w2v-cbow-sgd", 1, 5.0, 0.10, 0.60), run("w2v-cbow-sgd", 5, 20.0, 0.30, 0.65),
              run("gensim-cbow", 1, 12.0, 0.09, 0.50),    # w2v: faster and better
              run("gensim-cbow", 5, 60.0, 0.29, 0.70),    # better WS353 than any w2v run
              run("fasttext-cbow", 1, 4.0, 0.05, 0.40)]   # faster than every w2v run
    analogy = frontier_script.undominated(points, "analogy")
    ws353 = frontier_script.undominated(points, "ws353")
    assert [(p["config"], p["epochs"]) for p in analogy] == [("fasttext-cbow", 1)]
    assert [(p["config"], p["epochs"]) for p in ws353] == [("gensim-cbow", 5), ("fasttext-cbow", 1)]
    report = frontier_script.report(points, stopped={})
    assert "fasttext-cbow 1 ep" in report and "gensim-cbow 5 ep" in report
    # a tie in time and quality counts as matched
    assert frontier_script.undominated([run("w2v-cbow-sgd", 1, 5.0, 0.1, 0.5),
                                        run("gensim-cbow", 1, 5.0, 0.1, 0.5)], "analogy") == []


def test_table_marks_stopped_configurations(frontier_script):
    points = frontier_script.medians([run("gensim-sg", 1, 60.0, 0.2, 0.6),
                                      run("w2v-sg-sgd", 1, 20.0, 0.2, 0.6),
                                      run("w2v-sg-sgd", 5, 100.0, 0.38, 0.67)])
    text = frontier_script.table(points, stopped={"gensim-sg": 1})
    gensim_row = [line for line in text.splitlines() if line.startswith("| gensim-sg")][0]
    assert gensim_row.endswith("| stopped |") and "60 s, 20.0%, 0.600" in gensim_row
