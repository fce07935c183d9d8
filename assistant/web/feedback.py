"""Thumbs up/down on an answer, appended as JSON lines to a file, only when one is configured."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..web_safety import vote_of

if TYPE_CHECKING:
    from .controller import Turn

log = logging.getLogger(__name__)

#: Environment variable naming the feedback file (JSON lines), read by app.py. Unset: no
#: feedback is stored.
FEEDBACK_ENV = "VERBATIM_FEEDBACK_LOG"


class FeedbackLog:
    """Appends feedback as JSON lines to the file `path`, if one is given (app.py gives
    $VERBATIM_FEEDBACK_LOG).

    Off by default (health questions are private). A failed write never raises: it is logged
    once per file and the chat goes on.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._failed: set[str] = set()

    def enabled(self) -> bool:
        """Whether a feedback file is configured."""
        return bool(str(self.path or "").strip())

    def write(self, record: dict[str, Any]) -> bool:
        path = str(self.path or "").strip()
        if not path:
            return False
        try:
            line = json.dumps(record, ensure_ascii=False) + "\n"
            with self._lock, open(path, "a", encoding="utf-8") as fh:
                fh.write(line)
        except Exception as exc:  # noqa: BLE001 - feedback must never break the chat
            with self._lock:
                first = path not in self._failed
                self._failed.add(path)
            if first:
                reason = getattr(exc, "strerror", None) or exc
                log.warning(
                    "cannot write feedback to %s (%s); feedback is not being saved", path, reason
                )
            return False
        return True


def feedback_record(turn: Turn, liked: object) -> dict[str, Any] | None:
    """What one thumbs up/down stores: no more than is needed to judge the answer. None when
    `liked` is not a vote (up, down or cleared): nothing else is stored."""
    answer = turn.answer
    assert answer is not None, "only answered turns get feedback"
    vote = vote_of(liked)
    if vote is None:
        return None
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "vote": vote,
        "question": turn.question,
        "followup": turn.followup,
        "status": answer.status.value,
        "passages": [
            {"number": p.number, "source": p.source, "start": p.start, "end": p.end}
            for p in answer.passages
        ],
    }
