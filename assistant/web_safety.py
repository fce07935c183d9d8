"""Limits the chat's per-session state and feedback keep, and logging that never holds a question.

- `trim_session`: a session keeps its last `MAX_TURNS` turns; older ones (their messages too)
  are dropped, so a reply never grows with the length of the conversation.
- `vote_of` and `VoteLimiter`: a thumbs up/down is stored only as "up", "down" or "cleared",
  at most `VOTES_PER_MINUTE` per browser session and `ALL_VOTES_PER_MINUTE` in all (a client
  that makes up a new session id for every vote is still bounded).
- `log_failure`: an unexpected error is logged as its type and where it happened, never its
  message or traceback, which may quote the question.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any

#: Turns (question and answer) a chat session keeps; the oldest is dropped past this.
MAX_TURNS = 30
#: Feedback votes stored per browser session in any 60 seconds; more are dropped.
VOTES_PER_MINUTE = 10
#: Feedback votes stored from all sessions together in any 60 seconds; more are dropped.
ALL_VOTES_PER_MINUTE = 600
#: Sessions the vote limiter remembers (least recently voting forgotten first).
TRACKED_SESSIONS = 10_000

_VOTES: dict[object, str] = {True: "up", False: "down", None: "cleared", "": "cleared"}


def vote_of(liked: object) -> str | None:
    """ "up", "down" or "cleared" for what the page sends (True, False, None or ""); None for
    anything else, which is not stored."""
    if isinstance(liked, bool) or liked is None or liked == "":
        return _VOTES[liked]
    return None


def trim_session(session: dict[str, Any], max_turns: int = MAX_TURNS) -> dict[str, Any]:
    """The session with at most `max_turns` turns and only their messages (a new dict).

    Each turn records the index of its answer in the messages (`message_index`, used to find
    the turn a thumbs up/down is for); indexes are shifted to the kept messages.
    """
    turns = session["turns"]
    messages = session["messages"]
    limit = 2 * max_turns
    if len(turns) <= max_turns and len(messages) <= limit:
        return session
    kept = turns[-max_turns:]
    # Keep from the first kept turn's question on (messages without a turn, such as an
    # error reply, are kept only if they come later), and never more than two per turn.
    start = kept[0]["message_index"] - 1 if kept else 0
    start = max(start, len(messages) - limit, 0)
    shifted = [
        {**t, "message_index": t["message_index"] - start}
        for t in kept
        if t["message_index"] - start >= 0
    ]
    return {**session, "messages": messages[start:], "turns": shifted}


class VoteLimiter:
    """At most `per_minute` votes per session key, and `all_per_minute` in all, in any 60
    seconds."""

    def __init__(
        self,
        per_minute: int = VOTES_PER_MINUTE,
        sessions: int = TRACKED_SESSIONS,
        all_per_minute: int = ALL_VOTES_PER_MINUTE,
    ):
        self.per_minute = per_minute
        self.sessions = sessions
        self.all_per_minute = all_per_minute
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def allow(self, key: str | None, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        key = key or ""
        with self._lock:
            times = _within_a_minute(self._seen.pop(key, deque()), now)
            _within_a_minute(self._all, now)
            allowed = len(times) < self.per_minute and len(self._all) < self.all_per_minute
            if allowed:
                times.append(now)
                self._all.append(now)
            self._seen[key] = times
            while len(self._seen) > self.sessions:
                self._seen.popitem(last=False)
            return allowed


def _within_a_minute(times: deque[float], now: float) -> deque[float]:
    """`times` (oldest first) without those 60 seconds or more before `now`."""
    while times and now - times[0] >= 60:
        times.popleft()
    return times


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log that `what` failed: the exception's type and the innermost frame, nothing else."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    log.error("%s failed: %s%s", what, type(exc).__name__, where)
