"""Helpers of the operations tests: stopping a service, a free port, a webhook receiver on
127.0.0.1, the notices a file channel collected."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def stop(proc: subprocess.Popen[str]) -> int:
    """A warm stop; the exit code."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60)


def free_port() -> int:
    """A port nothing listens on at the moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps every request it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.redirect: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, json.loads(body)))
                if receiver.redirect and self.path != receiver.redirect:
                    self.send_response(307)
                    self.send_header("Location", receiver.redirect)
                else:
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def notices(self) -> list[dict[str, Any]]:
        """The notices received at /hook."""
        return [body for path, body in self.requests if path == "/hook"]


def notices(path: Path) -> list[dict[str, Any]]:
    """The alert notices a file channel appended so far."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def events(path: Path, kind: str) -> list[tuple[str, str]]:
    """(event, key) of a file channel's notices of one kind, in order."""
    return [(n["event"], n["key"]) for n in notices(path) if n["kind"] == kind]
