"""Log lines: a traceback in production (JSON) logs carries frames, never their local variables."""

from __future__ import annotations

import io
import json

import structlog

from gateway import logging


def test_json_tracebacks_carry_no_locals() -> None:
    out = io.StringIO()
    logging.configure(out, json=True)
    try:
        customer = "ACME Corp, 12 Secret Street"  # a local holding business data
        raise ValueError(f"cannot map {len(customer)} characters")
    except ValueError:
        structlog.get_logger("gateway").exception("reader_failed", file_id="F1")
    (line,) = out.getvalue().splitlines()
    event = json.loads(line)
    assert event["event"] == "reader_failed" and event["file_id"] == "F1"
    frames = event["exception"][0]["frames"]
    assert frames and all("locals" not in frame for frame in frames)
    assert "Secret Street" not in line
    assert event["exception"][0]["exc_value"] == "cannot map 27 characters"
