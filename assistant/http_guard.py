"""The app's front door: an ASGI middleware around everything Gradio serves.

`HttpGuard` sits outside all of Gradio's own middleware (see `guard_lifespan`), so it sees each
request first and each response last. It:

- serves only the routes in `SERVED` (an allow-list of Gradio's routes: the page, its assets,
  the queue and the API); every other route, whatever a Gradio version adds, is 404, and a
  path holding a control character is 400 (no forged log lines);
- refuses a call that would join a full queue with Gradio's 503 "Queue is full" at once, before
  reading its body (Gradio itself answers only after parsing it);
- opens a result stream only for an event still waiting (`queue/data` of a session with an
  event pending, `call/<name>/<id>` of an id not yet delivered): otherwise a prompt 404, where
  Gradio logged a traceback and cut the stream, or sent heartbeats forever;
- refuses request bodies over `MAX_BODY_BYTES` with 413, from the Content-Length header or while
  the body arrives, before anything parses it (a question is at most 1,000 characters, so no
  valid request comes near the limit);
- refuses every upload (`POST /gradio_api/upload`) with 413 without reading it, and the
  server-side fetch of URLs through `/gradio_api/file=http…` with 403: the app takes no files;
- checks the shape of the JSON the API endpoints take (`/gradio_api/call/<name>`,
  `/gradio_api/run/<name>`, `/gradio_api/queue/join`): an object, a `data` list with exactly the
  endpoint's number of inputs, an existing `fn_index`, no Gradio file object (`{"path": …,
  "meta": {"_type": "gradio.FileData"}}`) anywhere in it, which Gradio would otherwise try to
  move into its cache, fetching a URL. Anything else is a 4xx with a message saying what is
  wrong, never a Gradio traceback that would print the request (and with it the question) to
  the server log;
- accepts only known Host headers and drops X-Forwarded-Host/-Proto/-For, so the page's root
  URL (which Gradio derives from them) cannot be chosen by a client;
- refuses requests from any origin but the page's own (no CORS for other origins, and no
  cross-site request forgery through "simple" requests);
- adds security headers to every response: a Content-Security-Policy the page works under,
  X-Content-Type-Options nosniff, frame options and no referrer.

See SECURITY.md for what each promise is and the test that proves it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: Largest request body accepted, in bytes. A 1,000-character question in JSON is at most
#: 12 KB (every character escaped as a surrogate pair); the page's own requests are smaller.
MAX_BODY_BYTES = 32 * 1024
#: Set to the app's public URL (https://example.org) when it is served under another name than
#: 127.0.0.1/localhost; on a Hugging Face Space, SPACE_HOST gives it.
PUBLIC_URL_ENV = "VERBATIM_PUBLIC_URL"
#: Extra Host names accepted (comma-separated), e.g. a LAN name when serving on 0.0.0.0.
ALLOWED_HOSTS_ENV = "VERBATIM_ALLOWED_HOSTS"
#: Set by Hugging Face Spaces to the Space's host name.
SPACE_HOST_ENV = "SPACE_HOST"

API_PREFIX = "/gradio_api"
LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
DROPPED_HEADERS = frozenset(
    {
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-for",
        b"x-forwarded-port",
        b"forwarded",
    }
)

#: The page needs inline scripts and styles (Gradio's config and components) and `eval` for
#: `js_on_load`; everything must come from the app itself, nothing may frame it.
CSP = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self' data:; "
    "media-src 'self' data: blob:; "
    "connect-src 'self'; "
    "worker-src 'self' blob:; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors {ancestors}"
)
#: A Space shows the app in an iframe on huggingface.co.
SPACE_ANCESTORS = "https://huggingface.co"

#: The routes this app serves, as Gradio registers them (method, FastAPI path). Every other
#: request gets 404 from the guard before Gradio sees it: an allow-list, so a route a Gradio
#: upgrade adds stays closed until it is added here (tests/test_http_guard.py lists the app's
#: routes and fails on one that is in neither table).
SERVED: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/"),
        ("HEAD", "/"),
        ("GET", "/config"),
        ("GET", "/config/"),
        ("GET", "/assets/{path:path}"),
        ("GET", "/static/{path:path}"),
        ("GET", "/favicon.ico"),
        ("GET", "/theme.css"),
        ("GET", "/robots.txt"),
        ("GET", "/manifest.json"),
        ("GET", "/pwa_icon"),
        ("GET", "/pwa_icon/{size}"),
        ("GET", "/gradio_api/info"),
        ("GET", "/gradio_api/info/"),
        ("GET", "/gradio_api/openapi.json"),
        ("GET", "/gradio_api/theme.css"),
        ("GET", "/gradio_api/app_id"),
        ("GET", "/gradio_api/app_id/"),
        ("GET", "/gradio_api/startup-events"),
        ("GET", "/gradio_api/heartbeat/{session_hash}"),
        # Gradio's static assets and the page's script; never a URL (refused below).
        ("GET", "/gradio_api/file={path_or_url:path}"),
        ("HEAD", "/gradio_api/file={path_or_url:path}"),
        ("POST", "/gradio_api/queue/join"),
        ("GET", "/gradio_api/queue/data"),
        ("POST", "/gradio_api/call/{api_name}"),
        ("POST", "/gradio_api/call/{api_name}/"),
        ("GET", "/gradio_api/call/{api_name}/{event_id}"),
        ("POST", "/gradio_api/run/{api_name}"),
        ("POST", "/gradio_api/run/{api_name}/"),
        ("POST", "/gradio_api/api/{api_name}"),
        ("POST", "/gradio_api/api/{api_name}/"),
        ("POST", "/gradio_api/cancel"),
        ("POST", "/gradio_api/reset"),
        ("POST", "/gradio_api/reset/"),
    }
)
#: Routes Gradio registers that this app does not serve, and why (404 from the guard; uploads
#: 413). Only documentation and the test's checklist: anything not in SERVED is refused anyway.
REFUSED: dict[str, str] = {
    "/openapi.json": "FastAPI's schema of Gradio's internals",
    "/login": "no login: the app has no accounts",
    "/logout": "no login",
    "/svelte/{path:path}": "custom-component sources; the app has none",
    "/monitoring": "monitoring is off",
    "/gradio_api/deep_link": "no deep links",
    "/gradio_api/user": "no login",
    "/gradio_api/login_check": "no login",
    "/gradio_api/token": "no login",
    "/gradio_api/dev/reload": "no reload mode",
    "/gradio_api/runs": "no run history",
    "/gradio_api/run-history": "no run history",
    "/gradio_api/custom_component": "no custom components (its path reached the log)",
    "/gradio_api/proxy=": "no proxying",
    "/gradio_api/file/{path:path}": "the deprecated alias of file=, which fetched URLs",
    "/gradio_api/stream": "no media streams",
    "/gradio_api/call/v2": "not this app's API (use /gradio_api/call/<name>)",
    "/gradio_api/component_server": "no component has server functions (unknown ids were 500s)",
    "/gradio_api/queue/status": "not used by the page",
    "/gradio_api/upload_progress": "no uploads",
    "/gradio_api/upload": "no uploads (413)",
    "/gradio_api/process_recording": "no recordings (it wrote a video into the temp folder)",
    "/gradio_api/vibe-edit": "no editing of the app",
    "/gradio_api/undo-vibe-edit": "no editing of the app",
    "/gradio_api/vibe-code": "no editing of the app",
    "/gradio_api/vibe-starter-queries": "no editing of the app",
}


def _route_pattern(template: str) -> re.Pattern[str]:
    """A FastAPI path template as a regular expression (`{x}` one segment, `{x:path}` any)."""
    out, position = [], 0
    for match in re.finditer(r"\{(\w+)(:path)?\}", template):
        out.append(re.escape(template[position : match.start()]))
        out.append(".*" if match.group(2) else "[^/]+")
        position = match.end()
    out.append(re.escape(template[position:]))
    return re.compile("".join(out) + r"\Z", re.DOTALL)


SERVED_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, _route_pattern(template)) for method, template in sorted(SERVED)
)


def is_served(method: str, path: str) -> bool:
    """Whether the app serves `method path` (SERVED)."""
    return any(m == method and p.match(path) for m, p in SERVED_PATTERNS)


def is_refused_route(template: str) -> bool:
    """Whether a route Gradio registers is one REFUSED names (itself, or a path under it)."""
    path = template.rstrip("/") or "/"
    return any(
        path == name or path.startswith(name if name.endswith("=") else name + "/")
        for name in REFUSED
    )


def registered_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every HTTP route a FastAPI app (Gradio's) registers,
    included routers too."""
    found: list[tuple[str, str]] = []

    def walk(routes: Iterable[Any], prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:  # an included router (FastAPI >= 0.120)
                context = getattr(route, "include_context", None)
                walk(inner.routes, prefix + getattr(context, "prefix", ""))
            elif hasattr(route, "path") and getattr(route, "methods", None):
                found.extend((m, prefix + route.path) for m in sorted(route.methods))

    walk(app.routes, "")
    return sorted(set(found))


@dataclass(frozen=True)
class Endpoint:
    """What an API function takes: its inputs all told, those an API caller sends, and how many
    of those it must send (trailing inputs with a default may be left out: `/ask` takes
    `[question]`, `[question, passages]` or `[question, passages, history]`)."""

    inputs: int
    api_inputs: int
    public: bool
    required: int | None = None  # None: all `api_inputs`


def _required_inputs(fn: Any, count: int) -> int:
    """How many leading inputs of a `gr.api` function have no default (its signature says);
    `count` for any other function."""
    import inspect

    target = getattr(fn, "fn", None)
    if target is None or getattr(fn, "preprocess", True):  # gr.api functions skip preprocess
        return count
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return count
    if len(parameters) != count:
        return count
    return sum(1 for p in parameters if p.default is inspect.Parameter.empty)


def endpoints_of(blocks: Any) -> tuple[dict[int, Endpoint], dict[str, int]]:
    """({fn_index: Endpoint}, {api_name: fn_index}) of a Gradio Blocks app."""
    by_index: dict[int, Endpoint] = {}
    by_name: dict[str, int] = {}
    for index, fn in blocks.fns.items():
        inputs = list(fn.inputs)
        api_inputs = sum(1 for block in inputs if not getattr(block, "skip_api", False))
        by_index[index] = Endpoint(
            inputs=len(inputs),
            api_inputs=api_inputs,
            public=getattr(fn, "api_visibility", "public") == "public",
            required=_required_inputs(fn, api_inputs),
        )
        if fn.api_name:
            by_name[str(fn.api_name)] = index
    return by_index, by_name


@dataclass(frozen=True)
class PublicAddress:
    """How the app is reached from outside; the default is 127.0.0.1/localhost only. The edge
    (app.py) reads it from the environment once: `from_environment(os.environ)`."""

    url: str = ""  # VERBATIM_PUBLIC_URL: the app's public URL
    space_host: str = ""  # SPACE_HOST: on a Hugging Face Space, its host name
    allowed_hosts: tuple[str, ...] = ()  # VERBATIM_ALLOWED_HOSTS: extra Host names

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> PublicAddress:
        return cls(
            url=environ.get(PUBLIC_URL_ENV, "").strip(),
            space_host=environ.get(SPACE_HOST_ENV, "").strip(),
            allowed_hosts=tuple(environ.get(ALLOWED_HOSTS_ENV, "").split(",")),
        )

    def origin(self) -> str | None:
        """The configured public origin (scheme://host[:port]), if any."""
        if self.url:
            parts = urlsplit(self.url)
            if parts.scheme in ("http", "https") and parts.netloc:
                return f"{parts.scheme}://{parts.netloc}".lower()
        if self.space_host:
            return f"https://{self.space_host}".lower()
        return None

    def root(self) -> str | None:
        """The page's root URL when one is configured (then Gradio uses it as is)."""
        url = self.url.rstrip("/")
        if url and urlsplit(url).scheme in ("http", "https"):
            return url
        return self.origin()


class HttpGuard:
    """The ASGI middleware described in the module docstring."""

    def __init__(
        self,
        app: Callable[..., Any],
        endpoints: tuple[dict[int, Endpoint], dict[str, int]],
        *,
        max_body: int = MAX_BODY_BYTES,
        extra_hosts: Iterable[str] = (),
        origin: str | None = None,
        framed_by: str | None = None,
        queue: Callable[[], Any] | None = None,
    ) -> None:
        self.app = app
        self.queue = queue  # Gradio's queue (its pending events), for `_nothing_waiting`
        self.joining = 0  # joins admitted by the guard that Gradio has not answered yet
        self.by_index, self.by_name = endpoints
        self.max_body = max_body
        self.extra_hosts = frozenset(h.strip().lower() for h in extra_hosts if h.strip())
        self.origin = origin
        ancestors = framed_by or "'none'"
        self.headers = [
            (b"content-security-policy", CSP.format(ancestors=ancestors).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if framed_by is None:
            self.headers.append((b"x-frame-options", b"DENY"))
        self.header_names = {name for name, _ in self.headers} | {
            b"access-control-allow-origin",
            b"access-control-allow-credentials",
        }

    # ---- the request ---------------------------------------------------------------------

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(send)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in DROPPED_HEADERS]
        scope = {**scope, "headers": headers}
        host = _header(headers, b"host")
        allowed = self._allowed_hosts(scope)
        if host is None or (allowed is not None and host.lower() not in allowed):
            await _reply(
                send,
                400,
                "This server does not answer to that host name. Open it as "
                f"{self._own_origin(scope, None)}/ (or set {ALLOWED_HOSTS_ENV}).",
            )
            return
        own = self._own_origin(scope, host)
        origin = _header(headers, b"origin")
        if origin is not None and origin.lower() != own:
            await _reply(
                send, 403, f"Cross-origin requests are refused: only pages from {own} may call."
            )
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if _CONTROL.search(path):  # a %0a in a path could forge lines in any log that shows it
            await _reply(send, 400, "The request path holds control characters.")
            return
        if method == "POST" and (path.rstrip("/").endswith("/upload")):
            await _reply(send, 413, "Uploads are refused: this app takes no files.")
            return
        if path.startswith((f"{API_PREFIX}/file=http", "/file=http")):
            await _reply(send, 403, "This app does not fetch URLs.")
            return
        if not is_served(method, path):
            await _reply(send, 404, f"This app does not serve {method} {_short(path)}.")
            return
        waiting = (
            self._nothing_waiting(path, scope.get("query_string", b"")) if method == "GET" else None
        )
        if waiting is not None:
            await _reply(send, 404, waiting)
            return
        joining = self._joins_queue(method, path)
        if joining:
            full = self._queue_full()
            if full is not None:  # refused at once, before the body is read or parsed
                await _reply(send, 503, full)
                return
            self.joining += 1  # holds a place in the queue until Gradio has answered the join
            send = self._until_answered(send)
        try:
            await self._checked(scope, receive, send, method, path, headers)
        finally:
            if joining:
                await send({"type": "verbatim.joined"})  # releases the place if still held

    async def _checked(
        self,
        scope: dict,
        receive: Callable,
        send: Callable,
        method: str,
        path: str,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        """The request's size and body checks, then the app."""
        length = _header(headers, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _reply(send, 413, self._too_large())
            return
        body_problem = self._checker(method, path)
        try:
            body = await _read_body(receive, self.max_body) if body_problem else None
        except _TooLarge:
            await _reply(send, 413, self._too_large())
            return
        if body_problem is not None and body is not None:
            problem = body_problem(body)
            if problem is not None:
                status, message = problem
                await _reply(send, status, message)
                return
            receive = _replay(body, receive)
        else:
            receive = _limited(receive, self.max_body)
        try:
            await self.app(scope, receive, send)
        except _TooLarge:
            await _reply(send, 413, self._too_large())

    def _nothing_waiting(self, path: str, query: bytes) -> str | None:
        """Why a result stream cannot be opened, if it cannot: no event is waiting in that
        session (`queue/data`), or no result under that event id (`call/<name>/<id>`),
        unknown or already delivered. Gradio would log a traceback and cut the stream, or
        send heartbeats forever."""
        if self.queue is None or not path.startswith(API_PREFIX + "/"):
            return None
        rest = path[len(API_PREFIX) + 1 :]
        queue = self.queue()
        pending: dict[str, set[str]] = getattr(queue, "pending_event_ids_session", {})
        if rest == "queue/data":
            values = parse_qs(query.decode("latin-1")).get("session_hash", [""])
            session = values[0]
            if session in getattr(queue, "pending_messages_per_session", {}) and pending.get(
                session
            ):
                return None
            return (
                "Nothing is waiting in this session: join the queue first "
                "(POST /gradio_api/queue/join), then read its results."
            )
        if rest.startswith("call/") and rest.count("/") == 2:
            event_id = rest.rsplit("/", 1)[1]
            # Gradio adds an id to its session's pending set when the call is queued and
            # removes it once the result is delivered (event_ids_to_events outlives that a
            # moment, and a GET then waited forever).
            if any(event_id in ids for ids in pending.values()):
                return None
            return (
                "No result is waiting under this event id: it is unknown, or its result was "
                "already delivered. Send the call again (POST /gradio_api/call/<name>)."
            )
        return None

    @staticmethod
    def _joins_queue(method: str, path: str) -> bool:
        """A call that joins Gradio's queue: `POST queue/join` or `POST call/<name>` (with or
        without the trailing slash Gradio also serves)."""
        rest = _api_post(method, path)
        if rest is None:
            return False
        return rest == "queue/join" or (rest.startswith("call/") and "/" not in rest[5:])

    def _queue_full(self) -> str | None:
        """Gradio's own "Queue is full" refusal, given here when the queue, counting the joins
        still on their way into it, is full. Gradio checks only once a request has been parsed
        and validated, one request after another, so under a burst of callers the refusal
        came seconds late (11 s in issue 25's run; 2.5 s for 200 callers on a quiet machine)."""
        if self.queue is None:
            return None
        queue = self.queue()
        limit = getattr(queue, "max_size", None)
        size = len(queue) + self.joining
        if limit is None or size < limit:
            return None
        return f"Queue is full. Max size is {limit} and size is {size}. Try again in a moment."

    def _until_answered(self, send: Callable) -> Callable:
        """`send`, releasing the join's place once Gradio answers it (the event is then in
        Gradio's queue, or refused) or the request ends without an answer."""
        held = True

        async def wrapped(message: dict) -> None:
            nonlocal held
            if held and message["type"] in ("http.response.start", "verbatim.joined"):
                held = False
                self.joining -= 1
            if message["type"] != "verbatim.joined":
                await send(message)

        return wrapped

    def _too_large(self) -> str:
        return (
            f"The request body is larger than {self.max_body:,} bytes. A question is at most "
            "1,000 characters."
        )

    def _allowed_hosts(self, scope: dict) -> frozenset[str] | None:
        """Host header values accepted, or None for any (serving on every interface with no
        configured names: a LAN address cannot be known)."""
        server = scope.get("server") or ("127.0.0.1", None)
        bound, port = server[0], server[1]
        names = set(LOCAL_NAMES)
        if bound not in ("0.0.0.0", "::", None):
            names.add(f"[{bound}]" if ":" in bound else bound)
        hosts = set(self.extra_hosts)
        for name in names:
            hosts.add(name)
            if port is not None:
                hosts.add(f"{name}:{port}")
        if self.origin:
            hosts.add(urlsplit(self.origin).netloc)
        if bound in ("0.0.0.0", "::") and not self.extra_hosts and not self.origin:
            return None
        return frozenset(h.lower() for h in hosts)

    def _own_origin(self, scope: dict, host: str | None) -> str:
        if self.origin:
            return self.origin
        if host is None:
            server = scope.get("server") or ("127.0.0.1", 7860)
            host = f"127.0.0.1:{server[1]}"
        return f"{scope.get('scheme', 'http')}://{host}".lower()

    # ---- body checks --------------------------------------------------------------------

    def _checker(self, method: str, path: str) -> Callable[[bytes], tuple[int, str] | None] | None:
        rest = _api_post(method, path)
        if rest is None:
            return None
        if rest == "queue/join":
            return self._check_join
        for prefix in ("call/", "run/", "api/"):
            if rest.startswith(prefix) and "/" not in rest[len(prefix) :]:
                name = rest[len(prefix) :]
                return lambda body: self._check_call(name, body)
        if rest.startswith("call/v2/"):
            return lambda body: (404, 'Use /gradio_api/call/<name> with {"data": [...]}.')
        return None

    def _check_call(self, name: str, body: bytes) -> tuple[int, str] | None:
        index = self.by_name.get(name)
        endpoint = self.by_index.get(index) if index is not None else None
        if endpoint is None or not endpoint.public:
            names = ", ".join(
                f"/{n}" for n, i in sorted(self.by_name.items()) if self.by_index[i].public
            )
            return 404, f"There is no API endpoint /{_short(name)}. The endpoints are {names}."
        payload, problem = _json_object(body)
        if problem:
            return 422, problem
        # Gradio runs the function a body's fn_index names, not the endpoint in the path.
        if "fn_index" in payload and payload["fn_index"] != index:
            return 422, f"fn_index does not belong to /{_short(name)}: leave it out."
        least = endpoint.api_inputs if endpoint.required is None else endpoint.required
        counts = {*range(least, endpoint.api_inputs + 1), endpoint.inputs}
        return (
            _check_data(payload, name, counts, endpoint.api_inputs, least)
            or _check_fields(payload)
            or _check_no_files(payload)
        )

    def _check_join(self, body: bytes) -> tuple[int, str] | None:
        payload, problem = _json_object(body)
        if problem:
            return 422, problem
        fn_index = payload.get("fn_index")
        if isinstance(fn_index, bool) or not isinstance(fn_index, int):
            return 422, "fn_index must be a whole number naming one of the app's functions."
        endpoint = self.by_index.get(fn_index)
        if endpoint is None:
            return 404, f"There is no function with fn_index {fn_index}."
        return (
            _check_data(payload, f"fn_index {fn_index}", {endpoint.inputs}, endpoint.inputs)
            or _check_fields(payload)
            or _check_no_files(payload)
        )

    # ---- the response -------------------------------------------------------------------

    def _with_headers(self, send: Callable) -> Callable:
        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in self.header_names
                ]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        return wrapped


# ---- helpers ----------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _TooLarge(Exception):
    pass


def _api_post(method: str, path: str) -> str | None:
    """The API route a POST names, without the API prefix and trailing slashes ("call/ask"),
    or None for anything else."""
    if method != "POST" or not path.startswith(API_PREFIX + "/"):
        return None
    return path[len(API_PREFIX) + 1 :].rstrip("/")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


async def _read_body(receive: Callable, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Callable) -> Callable:
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _limited(receive: Callable, limit: int) -> Callable:
    """`receive` that stops a body (sent without Content-Length) past the limit."""
    size = 0

    async def limited() -> dict:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise _TooLarge
        return message

    return limited


async def _reply(send: Callable, status: int, message: str) -> None:
    body = json.dumps({"detail": message}, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _json_object(body: bytes) -> tuple[dict[str, Any], str | None]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return {}, 'The request body must be a JSON object, e.g. {"data": ["your question", 3]}.'
    if not isinstance(payload, dict):
        return {}, f"The request body must be a JSON object, not a {type(payload).__name__}."
    return payload, None


def _check_data(
    payload: dict[str, Any], name: str, counts: set[int], shown: int, least: int | None = None
) -> tuple[int, str] | None:
    data = payload.get("data")
    inputs = f"{shown} input" if shown == 1 else f"{shown} inputs"
    if least is not None and least < shown:
        inputs = f"{least} to {shown} inputs"
    if not isinstance(data, list):
        return 422, f"'data' must be a list of the {inputs} of {name}."
    if len(data) not in counts:
        return 422, f"'data' must hold {inputs} for {name}, not {len(data)}."
    return None


def _check_fields(payload: dict[str, Any]) -> tuple[int, str] | None:
    for key in ("session_hash", "trigger_id", "event_data"):
        value = payload.get(key)
        if value is None:
            continue
        # An empty one too: Gradio then files the event under a session it never opened and
        # answers 500 with a KeyError traceback (found by the REST fuzz test).
        if key == "session_hash" and not (isinstance(value, str) and 0 < len(value) <= 100):
            return 422, "session_hash must be a string of 1 to 100 characters (or left out)."
        if key == "trigger_id" and (isinstance(value, bool) or not isinstance(value, int)):
            return 422, "trigger_id must be a whole number."
        # An object, or a string: a text field's change event sends its value (the page's
        # "Show in source" links go through one).
        if key == "event_data" and not isinstance(value, dict | str):
            return 422, "event_data must be a JSON object or a string."
    return None


#: The tag Gradio looks for in request values: an object carrying it is taken for a file and, before
#: any function runs, moved into Gradio's cache: a local path is refused with a traceback in the
#: log, and an http(s) URL is fetched by the server and written to disk.
FILE_TAG = "gradio.FileData"


def _check_no_files(payload: dict[str, Any]) -> tuple[int, str] | None:
    """422 if `data` or `event_data` holds a Gradio file object anywhere (this app takes no
    files). Walked without recursion: the JSON may nest as deep as its parser allows."""
    stack: list[Any] = [payload.get("data"), payload.get("event_data")]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            meta = value.get("meta")
            if isinstance(meta, dict) and meta.get("_type") == FILE_TAG:
                return 422, "Files are refused: this app takes no files, by upload, path or URL."
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def guard_lifespan(
    blocks: Any, address: PublicAddress | None = None
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan that puts `HttpGuard` around the app's whole middleware stack.

    Uvicorn runs the lifespan before it accepts a connection, and by then Starlette has built
    the stack (Gradio's CORS and compression included), so the guard is the outermost layer of
    every HTTP request. Pass it as `launch(app_kwargs={"lifespan": guard_lifespan(demo)})`.
    """
    address = address or PublicAddress()

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        stack = app.middleware_stack or app.build_middleware_stack()
        if not isinstance(stack, HttpGuard):
            app.middleware_stack = HttpGuard(
                stack,
                endpoints_of(blocks),
                extra_hosts=address.allowed_hosts,
                origin=address.origin(),
                framed_by=SPACE_ANCESTORS if address.space_host else None,
                queue=lambda: blocks._queue,
            )
        yield

    return lifespan
