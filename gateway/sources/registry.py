"""The kinds of source, by the `type` a `[[source]]` gives."""

from __future__ import annotations

import threading
from collections.abc import Callable

from gateway.config import SourceConfig
from gateway.sources.base import Source
from gateway.sources.local import LocalSource
from gateway.sources.sftp import SftpSource

SOURCES: dict[str, Callable[[SourceConfig, threading.Event], Source]] = {
    "local": LocalSource,
    "sftp": SftpSource,
}
