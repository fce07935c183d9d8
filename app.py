"""Verbatim in the browser: `python app.py` serves the chat on http://127.0.0.1:7860.

Also the entry point of the Hugging Face Space. The model and the committed index are loaded
once, here, at import (`import app` gives `app.demo`); nothing is downloaded, built or written.
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT choose the address; VERBATIM_CORPUS / VERBATIM_INDEX, the
VERBATIM_* switches (settings.SWITCHES), VERBATIM_FEEDBACK_LOG, and VERBATIM_PUBLIC_URL /
SPACE_HOST / VERBATIM_ALLOWED_HOSTS (http_guard.PublicAddress) are read here, once; see
docs/app.md for the rest.
"""

from __future__ import annotations

import logging
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from assistant import Assistant, VerbatimError  # noqa: E402
from assistant.http_guard import PublicAddress  # noqa: E402
from assistant.settings import from_environment  # noqa: E402
from assistant.web import FEEDBACK_ENV, FeedbackLog, build_demo  # noqa: E402

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

try:
    # rebuild=False: start from the committed index, or fail with a message saying what to run.
    # The environment is read here, once: the folders and the VERBATIM_* switches.
    assistant = Assistant.load(
        os.environ.get("VERBATIM_CORPUS"),
        os.environ.get("VERBATIM_INDEX"),
        from_environment(os.environ),
        rebuild=False,
        qdrant=os.environ.get("VERBATIM_QDRANT"),  # an index built with --store qdrant
        qdrant_api_key=os.environ.get("QDRANT_API_KEY"),
    )
    assistant.ask("warm up")  # the first call initialises torch; do it before the first user
    demo = build_demo(  # reads the page's words (corpus/corpus.meta.json)
        assistant,
        feedback=FeedbackLog(os.environ.get(FEEDBACK_ENV)),
        address=PublicAddress.from_environment(os.environ),
    )
except VerbatimError as exc:
    if __name__ == "__main__":
        sys.exit(f"verbatim: {exc}")
    raise

if __name__ == "__main__":
    try:
        demo.launch()
    except OSError as exc:  # a port in use, a temp folder that cannot be written
        sys.exit(f"verbatim: the server cannot start ({type(exc).__name__}: {exc})")
