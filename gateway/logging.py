"""Structured logging: JSON lines when not on a terminal (journald keeps them), readable on one.

Event names are past-tense snake_case (`file_claimed`); data goes in fields. The service logs to
stdout; commands whose stdout is data (`convert`) log to stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

NO_LOCALS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def configure(stream: TextIO | None = None, *, json: bool | None = None, level: str = "info") -> None:
    """Set up structlog once per process."""
    out = stream or sys.stdout
    as_json = (not out.isatty()) if json is None else json
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # Frame locals hold business data (names, prices, whole records): never logged.
            NO_LOCALS if as_json else structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
