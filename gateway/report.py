"""What `gateway status` and `gateway trace` tell an operator, read from the ledger and folders."""

from __future__ import annotations

import json
from typing import Any

from gateway import quarantine
from gateway.config import Config
from gateway.ledger import Ledger, SqliteLedger


def status(config: Config) -> dict[str, Any]:
    """Per source: reachable, last poll, files by state; quarantine size; last errors."""
    polls: dict[str, dict[str, Any]] = {}
    counts: dict[str, dict[str, int]] = {}
    if config.ledger_path.exists():
        ledger = SqliteLedger(config.ledger_path)
        try:
            polls, counts = ledger.source_rows(), ledger.counts()
        finally:
            ledger.close()
    sources = []
    for source in config.sources:
        poll = polls.get(source.name, {})
        local_ok = source.type == "local" and source.path.is_dir()
        reachable = bool(poll["reachable"]) if poll else local_ok
        sources.append({
            "name": source.name,
            "type": source.type,
            "side": source.side,
            "reachable": reachable,
            "last_poll": poll.get("last_poll"),
            "last_error": poll.get("last_error"),
            "files": counts.get(source.name, {}),
        })  # fmt: skip
    waiting = quarantine.entries(config)
    return {
        "state_dir": str(config.state_dir),
        "sources": sources,
        "quarantine": len(waiting),
        "last_errors": [
            {"file_id": e.file_id, "source": e.source, "stage": e.stage, "error": e.first_error}
            for e in waiting[-5:]
        ],
    }


def render_status(data: dict[str, Any]) -> str:
    """The status for a person."""
    lines = [f"state: {data['state_dir']}"]
    for s in data["sources"]:
        files = ", ".join(f"{n} {state}" for state, n in sorted(s["files"].items())) or "no files yet"
        reach = "reachable" if s["reachable"] else "UNREACHABLE"
        poll = s["last_poll"] or "never"
        lines.append(f"source {s['name']} ({s['type']}, {s['side']}): {reach}, last poll {poll}; {files}")
        if s["last_error"]:
            lines.append(f"  last error: {s['last_error']}")
    lines.append(f"quarantine: {data['quarantine']} file(s)")
    lines.extend(f"  {e['file_id']} [{e['stage']}] {e['error']}" for e in data["last_errors"])
    return "\n".join(lines)


def trace(ledger: Ledger, query: str) -> str:
    """Every matching file's timeline, outputs and keys; empty when nothing matches."""
    blocks = []
    for row in ledger.find(query):
        lines = [
            f"{row.file_id}  {row.original_name}  ({row.source})  state {row.state}",
            f"  sha256 {row.sha256}  size {row.size}  format {row.format}  encoding {row.encoding}",
        ]
        if row.retry_of:
            lines.append(f"  retry of {row.retry_of}")
        for at, event, detail in ledger.events(row.file_id):
            extra = json.dumps(detail, ensure_ascii=False) if detail else ""
            lines.append(f"  {at}  {event}  {extra}".rstrip())
        for output in ledger.outputs(row.file_id):
            lines.append(
                f"  output {output.state}: {output.path} ({output.target}, {output.records} records)"
            )
        keys = ledger.keys(row.file_id)
        if keys:
            lines.append("  keys: " + ", ".join(f"{k}={v}" for k, v in keys))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
