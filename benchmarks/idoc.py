"""IDoc benchmark: the gateway's read (detect, decode, parse, check, map) beside a raw read.

`run()` writes a flat file of many ORDERS05 IDocs (padded records, as a file port writes them)
and the same IDocs as IDoc-XML, then times, in the same run: reading and splitting the flat
file into lines; lxml iterparse over the XML; and `gateway validate` on each. The ratios say
what the IDoc reader costs on top of touching the bytes at all. `gateway bench` calls it.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from lxml import etree

from benchmarks import validate_peak_mb
from gateway import config as config_module
from gateway.cli import check
from gateway.formats.idoc import schema as idoc_schema
from gateway.formats.idoc.flat import format_idoc
from gateway.formats.idoc.model import Idoc, Segment
from gateway.formats.idoc.xml import PARSER_OPTIONS, to_xml

IDOCS = 2000
ITEMS = 10


def order(n: int, items: int = ITEMS) -> Idoc:
    """One ORDERS05 IDoc with `items` items, each with a schedule line and two material ids."""
    control = {
        "TABNAM": "EDI_DC40", "MANDT": "100", "DOCNUM": f"{n:016d}", "DIRECT": "2",
        "IDOCTYP": "ORDERS05", "MESTYP": "ORDERS", "SNDPRT": "LS", "SNDPRN": "BENCH",
        "RCVPRT": "LS", "RCVPRN": "WMS", "CREDAT": "20261126", "CRETIM": "120000",
    }  # fmt: skip
    idoc = Idoc(control)

    def add(name: str, parent: Segment | None, **fields: str) -> Segment:
        seg = Segment(name, len(idoc.segments) + 1, parent.number if parent else 0,
                      parent.level + 1 if parent else 1, fields)  # fmt: skip
        idoc.segments.append(seg)
        return seg

    add("E1EDK01", None, CURCY="EUR", BSART="TA", BELNR=f"SO{n:08d}")
    add("E1EDK03", None, IDDAT="012", DATUM="20261126")
    add("E1EDKA1", None, PARVW="AG", PARTN="0000200001", NAME1="Bench Customer")
    add("E1EDKA1", None, PARVW="WE", PARTN="0000200001", NAME1="Bench DC", ORT01="Walldorf", LAND1="DE")
    for i in range(1, items + 1):
        item = add("E1EDP01", None, POSEX=f"{i * 10:06d}", MENGE=f"{i}.000", MENEE="PCE", VPREI="2.50")
        add("E1EDP20", item, WMENG=f"{i}.000", EDATU="20261201")
        add("E1EDP19", item, QUALF="002", IDTNR=f"{100000 + i:018d}")
        add("E1EDP19", item, QUALF="003", IDTNR="4012345678901")
    return idoc


def _time(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _raw_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as fh:
        return sum(1 for _ in fh)


def _raw_xml(path: Path) -> int:
    count = 0
    for _, el in etree.iterparse(str(path), events=("end",), tag="IDOC", **PARSER_OPTIONS):
        count += 1
        el.clear()
    return count


def _write_flat(path: Path, idocs: int) -> None:
    schema = idoc_schema.basic_type("ORDERS05")
    assert schema is not None
    with path.open("w", encoding="utf-8") as fh:
        for n in range(1, idocs + 1):
            fh.write("\n".join(format_idoc(order(n), schema.segments)) + "\n")


def memory(small: int = 200, large: int = 2000) -> dict[str, object]:
    """Peak RSS of `validate` in fresh processes on a flat file and one ten times larger."""
    peaks: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (small, large):
            path = Path(tmp) / f"m{count}.idoc"
            _write_flat(path, count)
            peaks[count] = validate_peak_mb(path)[0]
    return {
        f"flat_peak_mb_{small}_idocs": round(peaks[small], 1),
        f"flat_peak_mb_{large}_idocs": round(peaks[large], 1),
        "flat_peak_growth_ratio": round(peaks[large] / peaks[small], 2),
    }


def run(idocs: int = IDOCS, *, with_memory: bool = True) -> dict[str, object]:
    """Throughput of the flat and XML IDoc readers beside raw reads of the same files."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        flat, xml = root / "orders.idoc", root / "orders.xml"
        _write_flat(flat, idocs)
        xml.write_bytes(to_xml([order(n) for n in range(1, idocs + 1)], "ORDERS05"))
        cfg = config_module.parse({}, root)
        results: dict[str, object] = {
            "workload": f"{idocs} ORDERS05 IDocs of {ITEMS} items: gateway validate beside a raw read",
        }
        for label, path, raw in (("flat", flat, _raw_lines), ("xml", xml, _raw_xml)):
            size = path.stat().st_size / 1e6
            reference = _time(lambda path=path, raw=raw: raw(path))
            started = time.perf_counter()
            report = check.validate(path, cfg, cfg.sources[0])
            gateway = time.perf_counter() - started
            results.update({
                f"{label}_mb": round(size, 1),
                f"{label}_raw_mb_per_s": round(size / reference, 1),
                f"{label}_gateway_mb_per_s": round(size / gateway, 1),
                f"{label}_gateway_idocs_per_s": round(idocs / gateway),
                f"{label}_gateway_vs_raw": round(reference / gateway, 3),
                f"{label}_records": report.records,
                f"{label}_valid": report.valid,
            })  # fmt: skip
    if with_memory:
        results.update(memory())
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
