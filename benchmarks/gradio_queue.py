"""Sending a page event through Gradio's queue exactly as the browser does (events such as the
chat's like are not in the API), and waiting for it to complete: for the tests and the
benchmarks that drive a running app."""

from __future__ import annotations

import json

import httpx


def fn_index(http: httpx.Client, name: str) -> int:
    """The queue index of the app's event whose API name is `name` (from its /config)."""
    config = http.get("/config").json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == name)


def queue_event(
    http: httpx.Client,
    fn_index: int,
    data: list,
    session_hash: str,
    event_data: dict | None = None,
) -> dict:
    """Queue event `fn_index` with `data` (and `event_data`, as the browser sends for a chat
    event) in `session_hash`; return its `process_completed` message."""
    request = {"data": data, "fn_index": fn_index, "session_hash": session_hash}
    if event_data is not None:
        request["event_data"] = event_data
    joined = http.post("/gradio_api/queue/join", json=request)
    joined.raise_for_status()
    event_id = joined.json()["event_id"]
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session_hash}) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message["msg"] == "process_completed":
                    return message
    raise RuntimeError(f"event {fn_index} never completed")
