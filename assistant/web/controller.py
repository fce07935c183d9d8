"""What the chat does, without Gradio: each handler takes plain values and a `Session` and
returns new ones, so it is tested without a server (tests/test_web_controller.py).

layout.py wires these handlers to the page's components; the engine answers; render.py and
source_view.py render. Nothing here checks an answer again: the engine's answer is shown as is.
"""

from __future__ import annotations

import html
import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ..answer import Answer, make_answer
from ..choices import Status
from ..conversation import MAX_HISTORY
from ..freshness import CorpusChangedError
from ..product import Product
from ..question import validate_question
from ..render import chat_markdown, display_text, escape_markdown, keep_indent
from ..web_safety import MAX_TURNS, VoteLimiter, log_failure
from .feedback import FeedbackLog, feedback_record
from .source_view import render_source

if TYPE_CHECKING:
    from ..engine import Assistant

log = logging.getLogger(__name__)

#: Passage counts: the chat (its slider, and /chat) takes 1..10; /ask takes the engine's 1..20.
UI_MAX_PASSAGES = 10
API_MAX_PASSAGES = 20
#: Longest user message echoed back into the chat (longer ones are refused anyway).
ECHO_CHARS = 1000

#: Messages a session's outbox keeps (answered or waiting); turns kept are `MAX_TURNS`.
MAX_SENT = 2 * MAX_TURNS
#: Longest message a session keeps as sent (Settings' default question limit; the page's
#: `Outbox` takes the engine's own). Anything longer, or not text, is kept as a `Refused`.
DEFAULT_MAX_CHARS = 1000

ERROR_TEXT = (
    "Sorry, something went wrong on our side and this question could not be answered. "
    "Please try again."
)
#: What the chat and /ask say once a corpus file changed under the running app (freshness.py).
SOURCE_CHANGED_TEXT = (
    "The source text changed on the server after this app started, so nothing is quoted until "
    "the app is restarted with a rebuilt index."
)
FEEDBACK_ON = (
    "Thumbs up/down are stored on this server: the question and where its quotes are, nothing else."
)
FEEDBACK_OFF = "Thumbs up/down are not stored on this server."

_CITE_KEY = re.compile(r"^(\d{1,9})-(\d{1,2})(?:-\d{1,12})?$")


def parse_top_k(
    value: object, default: int, maximum: int = API_MAX_PASSAGES
) -> tuple[int, str | None]:
    """(top_k, None) for a usable number of passages to show, else (default, message saying
    what is wrong).

    None means the default. Whole numbers sent as floats (3.0, as JSON clients often do) count.
    """
    if value is None:
        return default, None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
        return default, (
            f"The number of passages must be a whole number from 1 to {maximum}, "
            f"not {type(value).__name__} {shown}."
        )
    if not 1 <= value <= maximum:
        return default, f"The number of passages must be from 1 to {maximum}, not {value}."
    return value, None


def user_markdown(question: object) -> str:
    """The user's own message as the chat shows it: escaped, never rendered."""
    if isinstance(question, Refused):
        return question.shown
    if not isinstance(question, str):
        return "*(not text)*"
    if not question.strip():
        return "*(empty question)*"
    shown = question if len(question) <= ECHO_CHARS else question[:ECHO_CHARS] + "…"
    return keep_indent(escape_markdown(display_text(shown)))


_UNESCAPE = re.compile(r"\\(.)")


def edited_text(value: object) -> object:
    """The text of a message edited in the chat: the chat edits the shown (escaped) markdown,
    so this undoes `user_markdown`'s escaping (`&nbsp;` indents included)."""
    if not isinstance(value, str):
        return value
    return _UNESCAPE.sub(r"\1", html.unescape(value.replace("&nbsp;", " ")))


# --------------------------------------------------------------------------------------------
# Session records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """A message a session does not keep as sent: over the length limit, or not text. Only
    what the chat shows of it (at most `ECHO_CHARS`) and why it cannot be answered are kept,
    so every text that enters a session (typed, an example, an edit, /chat) is bounded, and
    a session's 60 messages hold at most 60 x 1,000 characters, whatever the requests sent."""

    shown: str  # user_markdown of the message as sent
    problem: str  # validate_question's message: the answer is `invalid`, saying this


def admitted(text: object, max_chars: int) -> object:
    """`text` as a session keeps it: itself when it is a string within `max_chars`, else a
    `Refused` (a `Refused` stays as it is)."""
    if isinstance(text, Refused) or (isinstance(text, str) and len(text) <= max_chars):
        return text
    problem = validate_question(text, max_chars).problem or "The question must be text."
    return Refused(user_markdown(text), problem)


class Asked(NamedTuple):
    """A message sent to the chat, waiting for or holding its answer."""

    id: int  # unique and increasing in a session: the number in citation links
    text: object  # the message as sent (a str from the page; anything from the API)


@dataclass(frozen=True)
class Questions:
    """What the person has sent, in order. Only the send steps write it (see layout.py)."""

    items: tuple[Asked, ...] = ()
    next_id: int = 1

    def add(self, text: object) -> Questions:
        """`text` sent after the others (only the last `MAX_SENT` are kept)."""
        items = (*self.items, Asked(self.next_id, text))[-MAX_SENT:]
        return Questions(items, self.next_id + 1)

    def replace_from(self, asked_id: int, text: object) -> Questions:
        """The message `asked_id` and everything after it dropped, `text` sent in its place
        (retry, edit)."""
        kept = tuple(a for a in self.items if a.id < asked_id)
        return Questions((*kept, Asked(self.next_id, text)), self.next_id + 1)


class Outbox:
    """One session's sent messages, and the furthest answered conversation: shared by every
    event of the session, safely.

    Gradio hands each event the same state object of a session, and several events can run at
    the same moment (a question typed while an example is being sent or answered). The lock
    makes each append see the others, so no message is lost; `record` keeps the conversation
    that answers the most of what was sent, so a step that finishes late with an older
    conversation never takes answers back (the chat always shows `answered()`).
    """

    def __init__(
        self, questions: Questions | None = None, max_chars: int = DEFAULT_MAX_CHARS
    ) -> None:
        self._questions = questions or Questions()
        self._session = Session()
        self._lock = threading.Lock()
        self.max_chars = max_chars  # every message added is `admitted` under it

    def __deepcopy__(self, memo: dict[int, object]) -> Outbox:  # gr.State copies its default
        return Outbox(self.snapshot(), self.max_chars)

    def snapshot(self) -> Questions:
        with self._lock:
            return self._questions

    def answered(self) -> Session:
        """The furthest conversation recorded, cut to what is still sent."""
        with self._lock:
            return pending(self._questions, self._session)[0]

    def record(self, session: Session) -> Session:
        """Keep `session` if it answers further into what was sent than the one kept; returns
        the one kept."""
        with self._lock:
            mine = pending(self._questions, session)[0]
            kept = pending(self._questions, self._session)[0]
            if _last_id(mine) > _last_id(kept):
                kept = mine
            self._session = kept
            return kept

    def add(self, text: object) -> Questions:
        """`text` sent after the others; the same question sent again while it still waits
        for its answer (Enter pressed twice on a slow connection) is kept once."""
        kept = admitted(text, self.max_chars)
        with self._lock:
            items = self._questions.items
            waiting = items[-1] if items else None
            if (
                waiting is not None
                and isinstance(kept, str)
                and isinstance(waiting.text, str)
                and waiting.text.strip() == kept.strip()
                and waiting.id > _last_id(pending(self._questions, self._session)[0])
            ):
                return self._questions
            self._questions = self._questions.add(kept)
            return self._questions

    def replace_from(self, asked_id: int, text: object) -> Questions:
        kept = admitted(text, self.max_chars)
        with self._lock:
            self._questions = self._questions.replace_from(asked_id, kept)
            return self._questions

    def clear(self) -> Questions:
        """No messages (ids keep counting, so old citation links stay unknown)."""
        with self._lock:
            self._questions = Questions(next_id=self._questions.next_id)
            self._session = Session()
            return self._questions


def _last_id(session: Session) -> int:
    return session.turns[-1].id if session.turns else 0


def _sent(value: object) -> Questions:
    """The questions of an `Outbox` (or a `Questions` snapshot)."""
    if isinstance(value, Outbox):
        return value.snapshot()
    return value if isinstance(value, Questions) else Questions()


@dataclass(frozen=True)
class Turn:
    """One answered message of the conversation."""

    asked: Asked
    question: str  # the question as checked (whitespace collapsed)
    followup: bool  # the previous question was used to find the quotes
    answer: Answer | None  # None: answering failed (the chat says so)
    error: str = ERROR_TEXT  # what the chat says when `answer` is None

    @property
    def id(self) -> int:
        return self.asked.id


@dataclass(frozen=True)
class Session:
    """The answered conversation. Only the answer step writes it (see layout.py).

    Hashable on purpose: Gradio hashes state values to see whether they changed.
    """

    turns: tuple[Turn, ...] = ()

    def turn(self, turn_id: int) -> Turn | None:
        return next((t for t in self.turns if t.id == turn_id), None)

    def at_message(self, index: object) -> Turn | None:
        """The turn whose assistant message is chat message `index` (2 messages a turn)."""
        if isinstance(index, list | tuple) and index:
            index = index[0]
        if isinstance(index, bool) or not isinstance(index, int) or index % 2 != 1:
            return None
        position = index // 2
        return self.turns[position] if 0 <= position < len(self.turns) else None


def _as(value: object, kind: type) -> Any:
    return value if isinstance(value, kind) else kind()


def pending(questions: Questions, session: Session) -> tuple[Session, tuple[Asked, ...]]:
    """The part of `session` that answers what was sent, and the sent questions after it.

    A retry, an edit or a clear replaces the end of `questions`; answers to questions no longer
    there are dropped here, so the conversation always follows what was sent. Answers to
    questions older than the oldest kept are dropped too (a session keeps its last turns).
    """
    sent = {a.id: a for a in questions.items}
    oldest = questions.items[0].id if questions.items else questions.next_id
    kept: list[Turn] = []
    for turn in session.turns:
        if turn.id < oldest:
            continue
        if sent.get(turn.id) != turn.asked:
            break
        kept.append(turn)
    last = kept[-1].id if kept else 0
    return Session(tuple(kept)), tuple(a for a in questions.items if a.id > last)


# --------------------------------------------------------------------------------------------
# The controller
# --------------------------------------------------------------------------------------------


class ChatController:
    """The page's handlers around one shared, read-only `Assistant`."""

    def __init__(
        self, assistant: Assistant, product: Product, feedback: FeedbackLog | None = None
    ) -> None:
        self.assistant = assistant
        self.product = product
        self.feedback = feedback or FeedbackLog()
        self.votes = VoteLimiter()
        self.default_k = assistant.settings.top_k
        self.max_chars = assistant.settings.max_question_chars

    # ---- /ask ------------------------------------------------------------------------------

    def ask(
        self, question: object, top_k: object = None, history: Sequence[object] | None = None
    ) -> dict[str, Any]:
        """The `/ask` endpoint (its `passages`: how many to show): `Answer.to_dict()`, bad input
        as status "invalid"."""
        k, problem = parse_top_k(top_k, self.default_k)
        if problem:
            checked = validate_question(question, self.max_chars)
            if checked.problem:  # the question's own problem comes first
                return self.assistant.ask(question, top_k=self.default_k).to_dict()
            return make_answer(checked.text, Status.INVALID, message=problem).to_dict()
        return self.assistant.ask(question, history=history, top_k=k).to_dict()

    # ---- the chat --------------------------------------------------------------------------

    def too_long(self, message: object) -> str | None:
        """The message saying a typed question is over the limit (it stays in the box)."""
        if isinstance(message, str) and len(message) > self.max_chars:
            return (
                f"Your question is {len(message):,} characters long; the limit is "
                f"{self.max_chars:,}. Please shorten it: it is still in the box."
            )
        return None

    def send(self, message: object, outbox: Outbox) -> Questions:
        """A message sent from the page: appended to the session's outbox, answered next."""
        return outbox.add(message)

    def _answer(self, message: object, top_k: object, session: Session) -> tuple[str, bool, Answer]:
        """(question as checked, whether the previous question was used, the answer), with up
        to `top_k` passages (the page's slider)."""
        if isinstance(message, Refused):  # over the limit or not text: said so, not asked
            return "", False, make_answer("", Status.INVALID, message=message.problem)
        k, problem = parse_top_k(top_k, self.default_k, UI_MAX_PASSAGES)
        text = validate_question(message, self.max_chars).text
        if problem:
            return text, False, make_answer(text, Status.INVALID, message=problem)
        # The engine decides whether this is a follow-up (conversation.py).
        history = [t.question for t in session.turns][-MAX_HISTORY:]
        answer = self.assistant.ask(message, history=history, top_k=k)
        return text, answer.previous_question is not None, answer

    def answer_pending(self, questions: object, session: object, top_k: object) -> Session:
        """Every question sent and not answered yet, answered in order."""
        session, todo = pending(_sent(questions), _as(session, Session))
        for asked in todo:
            try:
                question, followup, answer = self._answer(asked.text, top_k, session)
                turn = Turn(asked, question, followup, answer)
            except CorpusChangedError:  # logged once by the engine, naming the file
                text = validate_question(asked.text, self.max_chars).text
                turn = Turn(asked, text, False, None, SOURCE_CHANGED_TEXT)
            except Exception as exc:
                log_failure(log, "chat", exc)
                turn = Turn(asked, validate_question(asked.text, self.max_chars).text, False, None)
            session = Session((*session.turns, turn)[-MAX_TURNS:])
        return session

    def messages(self, questions: object, session: object) -> list[dict[str, str]]:
        """The chat as the Chatbot shows it: each turn's question and answer, then the
        questions still being answered."""
        session, todo = pending(_sent(questions), _as(session, Session))
        out: list[dict[str, str]] = []
        for turn in session.turns:
            out.append({"role": "user", "content": user_markdown(turn.asked.text)})
            if turn.answer is None:
                content = turn.error
            else:
                content = chat_markdown(
                    turn.answer,
                    turn.id,
                    disclaimer=self.product.disclaimer,
                    followup_of=turn.answer.previous_question,
                )
            out.append({"role": "assistant", "content": content})
        out.extend({"role": "user", "content": user_markdown(a.text)} for a in todo)
        return out

    def retry(self, outbox: Outbox, index: object) -> Questions | None:
        """Ask the question of chat message `index` (or of the answer at `index`) again; what
        came after it is dropped. None when there is no such message. The chat is the
        outbox's (`Outbox.answered`), as the page shows it."""
        asked = self._asked_at(outbox, index)
        if asked is None:
            return None
        return outbox.replace_from(asked.id, asked.text)

    def edit(self, outbox: Outbox, index: object, value: object) -> Questions | None:
        """The person edited their message at `index`: the new text is asked in its place."""
        asked = self._asked_at(outbox, index)
        if asked is None:
            return None
        return outbox.replace_from(asked.id, edited_text(value))

    @staticmethod
    def _asked_at(outbox: Outbox, index: object) -> Asked | None:
        """The sent message shown at chat message `index` (its question, or its answer)."""
        if isinstance(index, list | tuple) and index:
            index = index[0]
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            return None
        kept, todo = pending(outbox.snapshot(), outbox.answered())
        shown = [t.asked for t in kept.turns] + list(todo)  # the chat: two messages a turn
        position = index // 2
        return shown[position] if position < len(shown) else None

    # ---- the source panel ------------------------------------------------------------------

    def latest_source(self, session: object) -> str:
        """After an answer: its first quote in place, or the plain source saying why nothing
        is marked (so a "not found" never leaves the previous quote showing)."""
        turns = _as(session, Session).turns
        if not turns:
            return render_source(self.assistant.index.documents)
        turn = turns[-1]
        if turn.answer is None:
            return render_source(self.assistant.index.documents, status="error")
        if turn.answer.passages:  # answered, or related (the closest passages)
            passages = turn.answer.passages
            return render_source(
                self.assistant.index.documents,
                focus=passages[0],
                others=passages[1:],
                turn=turn.id,
                question=turn.question,
            )
        return render_source(self.assistant.index.documents, status=turn.answer.status)

    def cited_source(self, session: object, key: object) -> str | None:
        """A "Show in source" link was clicked: that quote in its place; None if unknown."""
        match = _CITE_KEY.match(key) if isinstance(key, str) else None
        if not match:
            return None
        turn_id, number = int(match.group(1)), int(match.group(2))
        turn = _as(session, Session).turn(turn_id)
        if turn is None or turn.answer is None:
            return None
        passages = turn.answer.passages
        focus = next((p for p in passages if p.number == number), None)
        if focus is None:
            return None
        return render_source(
            self.assistant.index.documents,
            focus=focus,
            others=tuple(p for p in passages if p is not focus),
            turn=turn_id,
            question=turn.question,
        )

    # ---- feedback --------------------------------------------------------------------------

    def feedback_note(self) -> str:
        return FEEDBACK_ON if self.feedback.enabled() else FEEDBACK_OFF

    def like(self, session: object, index: object, liked: object, key: str | None = None) -> str:
        """A thumb on the assistant message at `index`: stored if feedback is on, it is a vote
        (up, down, cleared) and session `key` has not voted too often. Returns the note saying
        what happened to it."""
        turn = _as(session, Session).at_message(index)
        if turn is None or turn.answer is None or not self.feedback.enabled():
            return self.feedback_note()
        record = feedback_record(turn, liked)
        if record is None:
            return self.feedback_note()
        if not self.votes.allow(key):
            return "Too many votes in a minute: this one is not stored. " + FEEDBACK_ON
        if self.feedback.write(record):
            return "Thank you: your feedback is stored. " + FEEDBACK_ON
        return "Your feedback could not be stored (a problem on the server)."

    # ---- clear -----------------------------------------------------------------------------

    def clear(self, outbox: Outbox) -> tuple[Questions, Session, str]:
        """An empty chat (question ids keep counting, so old citation links stay unknown)."""
        return outbox.clear(), Session(), render_source(self.assistant.index.documents)
