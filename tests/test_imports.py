"""The answering path imports only what answering runs (issue 24: a one-second cold start).

A fresh interpreter runs `assistant ask --json` the way the console script does, on the
committed index, in every mode and on questions that take the lazy paths (a typo, a question
in Spanish), with a watcher on the import system that records who first imports each heavy
module. Asserted on the module set, not on a time, so it does not depend on the machine's load.
"""

import json
import os
import subprocess
import sys

from paths import ROOT

#: Modules answering never runs: the build (bm25s and its numba and scipy, torch and the
#: sentence-transformers stack, scikit-learn), the web UI, evaluation and plotting, the Qdrant
#: store an index built with `--store qdrant` needs.
HEAVY = (
    "bm25s",
    "numba",
    "llvmlite",
    "scipy",
    "sklearn",
    "torch",
    "transformers",
    "sentence_transformers",
    "gradio",
    "matplotlib",
    "pandas",
    "ranx",
    "qdrant_client",
)

QUESTIONS = ["What are milia?", "waht causes milia?", "¿Qué son los milia?"]

PROBE = """
import json, sys, traceback

HEAVY = set(json.loads(sys.argv[1]))
first_import = {}


class Watch:
    # Sees every import before the real finders do; records the first import of each heavy
    # module with the frames that asked for it (the import machinery's own frames left out).
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in HEAVY and top not in first_import:
            frames = [
                f for f in traceback.extract_stack()[:-1] if not f.filename.startswith("<frozen")
            ]
            first_import[top] = "".join(traceback.format_list(frames[-12:]))
        return None


sys.meta_path.insert(0, Watch())
import io
from assistant.cli import cli

statuses = []
for mode in ("rerank", "hybrid", "dense", "bm25"):
    sys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[2].encode("utf-8")), encoding="utf-8")
    out = io.StringIO()
    stdout, sys.stdout = sys.stdout, out
    try:
        cli(["ask", "--json", "--no-rebuild", "--mode", mode], standalone_mode=False)
    finally:
        sys.stdout = stdout
    statuses += [json.loads(line)["status"] for line in out.getvalue().splitlines()]
loaded = {m: first_import.get(m, "(no stack recorded)") for m in HEAVY if m in sys.modules}
print(json.dumps({"statuses": statuses, "heavy": loaded}))
"""


def test_answering_imports_no_heavy_module():
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERBATIM_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), "\n".join(QUESTIONS) + "\n"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    # The probe really answered: quotes for the English questions, not_english for the other.
    assert report["statuses"][:3] == ["answered", "answered", "not_english"], report["statuses"]
    assert len(report["statuses"]) == 4 * len(QUESTIONS)
    culprits = "\n".join(
        f"{module} was imported on the answering path by:\n{stack}"
        for module, stack in sorted(report["heavy"].items())
    )
    assert not report["heavy"], culprits
