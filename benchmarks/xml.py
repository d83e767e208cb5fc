"""XML benchmark: the gateway's read (safe parse, XSD per document, mapping) beside lxml alone.

`run()` writes a generic ERP XML catalogue, parses it once with a bare `lxml.etree.parse` (the
obvious reference: no validation, no mapping, the whole tree in memory) and once through the
gateway's `validate` (detect, decode, safe iterparse, XSD validation of every product, XPath
mapping to canonical records). Peak memory is measured in fresh processes for both, and for the
gateway on a file ten times larger, to show that it stays flat while lxml's tree grows.
`gateway bench` calls it; `python -m benchmarks.xml [MB]` runs it on a catalogue of about MB.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import peak_mb, validate_peak_mb
from gateway.canonical.gtin import check_digit

PRODUCT = (
    '<Product action="add"><SKU>SKU-{i:08d}</SKU><Description>Widget number {i}, blue, boxed</Description>'
    "<UOM>EA</UOM><GTIN>{gtin}</GTIN><Category>CAT-{c}</Category><UnitCost>{i}.25</UnitCost>"
    '<Weight uom="KG">0.40</Weight><Dimensions uom="CM"><Length>10</Length><Width>5</Width>'
    "<Height>2.5</Height></Dimensions><LotControlled>true</LotControlled></Product>\n"
)
BYTES_PER_PRODUCT = len(PRODUCT.format(i=0, gtin="4006381300001", c=0))

LXML_PARSE = """
import sys
from lxml import etree
result = len(etree.parse(sys.argv[1]).getroot())
"""


def catalogue(path: Path, products: int) -> Path:
    """Write a generic ERP XML catalogue of `products` products."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<Products>\n')
        chunk: list[str] = []
        for i in range(products):
            body = f"40063813{i % 10_000:04d}"  # a valid GTIN-13: the gateway checks the digit
            chunk.append(PRODUCT.format(i=i, gtin=body + check_digit(body), c=i % 50))
            if len(chunk) == 10_000:
                fh.write("".join(chunk))
                chunk = []
        fh.write("".join(chunk) + "</Products>\n")
    return path


def peak_rss_mb(kind: str, path: Path) -> tuple[float, int]:
    """Peak resident memory (MB) of a fresh process reading `path` (`lxml` or `gateway`), and
    what it counted."""
    if kind == "lxml":
        peak, count = peak_mb(LXML_PARSE, str(path))
        return peak, int(count)
    return validate_peak_mb(path)


def run(products: int = 20_000, growth: int = 10) -> dict[str, object]:
    """Throughput against lxml's bare parse, and peak memory as the file grows `growth` times."""
    from lxml import etree

    from gateway import config as config_module
    from gateway.cli import check

    with tempfile.TemporaryDirectory() as tmp:
        small = catalogue(Path(tmp) / "catalogue.xml", products)
        size = small.stat().st_size / 1e6
        started = time.perf_counter()
        etree.parse(str(small))
        reference = time.perf_counter() - started
        cfg = config_module.parse({}, Path(tmp))
        started = time.perf_counter()
        report = check.validate(small, cfg, cfg.sources[0])
        mine = time.perf_counter() - started
        lxml_peak, _ = peak_rss_mb("lxml", small)
        small_peak, _ = peak_rss_mb("gateway", small)
        large = catalogue(Path(tmp) / "large.xml", products * growth)
        large_size = large.stat().st_size / 1e6
        lxml_large_peak, _ = peak_rss_mb("lxml", large)
        large_peak, count = peak_rss_mb("gateway", large)
    return {
        "workload": f"generic ERP XML catalogue, {products} products ({size:.1f} MB): validate and map",
        "lxml_parse_mb_per_s": round(size / reference, 1),
        "gateway_mb_per_s": round(size / mine, 1),
        "gateway_products_per_s": round(products / mine),
        "gateway_vs_lxml_parse": round(reference / mine, 3),
        "valid": report.valid and report.records == products and count == products * growth,
        f"lxml_peak_mb_{size:.0f}mb_file": round(lxml_peak, 1),
        f"lxml_peak_mb_{large_size:.0f}mb_file": round(lxml_large_peak, 1),
        f"gateway_peak_mb_{size:.0f}mb_file": round(small_peak, 1),
        f"gateway_peak_mb_{large_size:.0f}mb_file": round(large_peak, 1),
        "gateway_memory_growth_ratio": round(large_peak / small_peak, 2),
    }


def flat_memory(megabytes: float, tmp: Path) -> dict[str, object]:
    """Peak RSS of the gateway on a catalogue of about `megabytes` MB and one a tenth of it."""
    results: dict[str, object] = {}
    for mb in (megabytes / 10, megabytes):
        path = catalogue(tmp / f"catalogue-{mb:.0f}mb.xml", int(mb * 1e6 / BYTES_PER_PRODUCT))
        started = time.perf_counter()
        peak, count = peak_rss_mb("gateway", path)
        results[f"{path.stat().st_size / 1e6:.0f}mb"] = {
            "products": count,
            "peak_rss_mb": round(peak, 1),
            "seconds": round(time.perf_counter() - started, 1),
        }
        path.unlink()
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(flat_memory(float(sys.argv[1]), Path(folder)), indent=2))
    else:
        print(json.dumps(run(), indent=2))
