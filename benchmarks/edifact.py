"""EDIFACT benchmark: the gateway's parse + validate against pydifact's parser, same input, same run.

`run()` generates an ORDERS interchange of at least `size` bytes, parses it with pydifact's
`Parser` (tokenizing only) and with the gateway's scanner, envelope checks and schema validation,
and returns both timings and their ratio. `gateway bench` can call it.

Each timed run starts with the schema's caches of segment texts and message shapes empty, so it
validates every distinct segment of the interchange afresh, as a process meeting the file for the
first time would; only the one-time setup (loading the schema, compiling its patterns) is done
before, by an untimed warm-up that pydifact gets as well.
"""

from __future__ import annotations

import itertools
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.canonical.gtin import check_digit
from gateway.formats.edifact.envelope import Envelope
from gateway.formats.edifact.reader import BLOCK
from gateway.formats.edifact.schema import MessageSchema, schema_for
from gateway.formats.edifact.syntax import RawBatch, Scanner


def _messages(size: int) -> Iterator[str]:
    """The text of an ORDERS interchange of at least `size` characters, piece by piece."""
    head = "UNA:+.? 'UNB+UNOC:3+5412345000013:14+4012345000009:14+261126:1200+BENCH1'"
    yield head
    total, n = len(head), 0
    while total < size:
        n += 1
        # Values vary from message to message as in real orders, so no cache of repeated
        # segment texts can flatter the figure.
        body = [
            f"UNH+{n}+ORDERS:D:96A:UN:EAN008'",
            f"BGM+220+PO{n}+9'",
            f"DTM+137:202611{n % 28 + 1:02d}:102'",
            f"NAD+BY+54123450{n % 99999:05d}::9'",
            "NAD+DP+5412345000099::9++M?'Donald'",
        ]
        for line in range(1, 11):
            ean = f"4{(n * 37 + line) % 10**11:011d}"
            body += [
                f"LIN+{line}++{ean}{check_digit(ean)}:EN'",
                f"QTY+21:{(n * 13 + line) % 997 + 1}:PCE'",
                f"PRI+AAA:{(n + line) % 50 + 1}.{line % 10}0'",
            ]
        body += ["UNS+S'", f"UNT+{len(body) + 2}+{n}'"]
        text = "\n".join(body) + "\n"
        total += len(text)
        yield text
    yield f"UNZ+{n}+BENCH1'"


def interchange(size: int) -> str:
    """An ORDERS interchange of at least `size` characters, many messages of ten lines."""
    return "".join(_messages(size))


def orders_interchange(count: int) -> str:
    """An ORDERS interchange of exactly `count` messages of ten lines."""
    pieces = list(itertools.islice(_messages(sys.maxsize), count + 1))
    return "".join(pieces) + f"UNZ+{count}+BENCH1'"


def write_interchange(path: Path, size: int) -> int:
    """Write the same interchange to `path` without holding it; return its size in bytes."""
    with path.open("w", encoding="latin-1") as fh:
        for piece in _messages(size):
            fh.write(piece)
    return path.stat().st_size


def _blocks(text: str) -> Iterator[str]:
    """`text` in pieces of the size the reader decodes and scans at a time."""
    for i in range(0, len(text), BLOCK):
        yield text[i : i + BLOCK]


def _schema() -> MessageSchema:
    schema = schema_for("ORDERS_D96A")
    assert schema is not None
    return schema


def gateway_parse_validate(text: str) -> tuple[int, int]:
    """(segments, findings) after tokenizing, envelope checks and schema validation."""
    schema = _schema()
    findings: list[Any] = []

    def report(code: str, message: str, **kw: Any) -> None:
        findings.append((code, message, kw))

    scanner = Scanner(_blocks(text))
    envelope = Envelope(report, lambda _ic: None, scanner)
    for batch in scanner.batches():
        if isinstance(batch, RawBatch):
            messages = envelope.feed_raw(batch)
        else:
            messages = [m for m in map(envelope.feed, batch) if m is not None]
        for message in messages:
            schema.check(message, report)
    envelope.finish(scanner.index)
    return scanner.index, len(findings)


def pydifact_parse(text: str) -> int:
    """Segments from pydifact's parser alone (no validation: it has none to offer)."""
    from pydifact.parser import Parser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sum(1 for _ in Parser().parse(text))


def _timed(work: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def run(size: int = 2_200_000, repeat: int = 5) -> dict[str, object]:
    """Measure both on the same generated interchange, best of `repeat` runs each; the ratio is
    pydifact's time over the gateway's. The runs alternate, so that a burst of load on a shared
    machine falls on both sides rather than on all of one side's runs."""
    warm_up = interchange(10_000)
    gateway_parse_validate(warm_up)
    pydifact_parse(warm_up)
    text = interchange(size)
    mine, reference = [], []
    for _ in range(repeat):
        _schema().forget()  # from a schema that has seen none of the interchange's texts
        elapsed, (ours, findings) = _timed(lambda: gateway_parse_validate(text))
        mine.append(elapsed)
        elapsed, theirs = _timed(lambda: pydifact_parse(text))
        reference.append(elapsed)
    return {
        "workload": "EDIFACT ORDERS interchange: gateway tokenize + envelope + schema vs pydifact Parser",
        "edifact_bytes": len(text.encode("latin-1")),
        "edifact_segments": ours,
        "edifact_findings": findings,
        "pydifact_segments": theirs,
        "gateway_parse_validate_s": round(min(mine), 4),
        "pydifact_parse_s": round(min(reference), 4),
        "ratio": round(min(reference) / min(mine), 1),
    }


if __name__ == "__main__":
    print(run())
