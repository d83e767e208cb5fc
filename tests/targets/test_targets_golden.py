"""Golden files: every layout of every ERP target, from the synthetic canonical samples.

Each case reads a canonical CSV sample with the real reader (`gateway convert`'s code path) and
writes it through one target; the outputs must equal `samples/expected/<target>/` byte for byte.
Set GATEWAY_REGENERATE=1 to rewrite the expected files after an intended layout change.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from gateway import config as config_module
from gateway.cli.check import convert_to_target

REPO = Path(__file__).resolve().parents[2]
INBOUND = REPO / "samples" / "inbound" / "csv"
EXPECTED = REPO / "samples" / "expected"

ALL_SAMPLES = [
    "erp-sales-order.csv", "erp-shipment.csv", "erp-adjustment.csv", "erp-transfer.csv",
    "erp-receipt-po.csv", "erp-receipt-nopo.csv", "erp-product.csv", "erp-customer.csv",
]  # fmt: skip

TARGET_OPTIONS: dict[str, dict[str, Any]] = {
    "sage100": {"value_map": "wms_to_sage100"},
    "netsuite": {"adjustment_account": "Inventory Adjustment", "value_map": {"warehouse": {
        "DC1": "East Coast DC", "DC2": "West Coast DC"}}},
    "quickbooks_iif": {"customer": "Acme Stores", "value_map": "wms_to_sage100"},
    "quickbooks_online": {"customer": "Acme Stores", "due_days": 30},
    "canonical_csv": {},
}  # fmt: skip

CASES = [
    *[("sage100", s) for s in ALL_SAMPLES],
    *[("netsuite", s) for s in ("erp-sales-order.csv", "erp-shipment.csv", "erp-adjustment.csv",
                                "erp-transfer.csv", "erp-receipt-po.csv")],
    *[("quickbooks_iif", s) for s in ("erp-product.csv", "erp-customer.csv", "erp-shipment.csv",
                                      "erp-adjustment.csv")],
    *[("quickbooks_online", s) for s in ("erp-product.csv", "erp-shipment.csv")],
    *[("canonical_csv", s) for s in ALL_SAMPLES],
]  # fmt: skip


def convert(root: Path, target: str, sample: Path, out: Path, **options: Any) -> list[Path]:
    """Run `convert --target` for one sample; return the outputs with the file id removed."""
    raw = {"target": [{"name": "t", "format": target, **TARGET_OPTIONS[target], **options}]}
    config = config_module.parse(raw, root)
    report = convert_to_target(sample, config, config.sources[0], "t", out)
    assert report.valid, [f.render(sample.name) for f in report.findings]
    renamed = []
    for name in report.outputs:
        path = Path(name)
        plain = path.with_name(path.name.replace(".local-", ".").split(".")[0] + "." + sample.stem
                               + "".join(path.suffixes[-1:]))  # fmt: skip
        path.rename(plain)
        renamed.append(plain)
    return renamed


@pytest.mark.parametrize(("target", "sample"), CASES)
def test_golden(tmp_path: Path, target: str, sample: str) -> None:
    outputs = convert(tmp_path / "root", target, INBOUND / sample, tmp_path / "out")
    assert outputs, "the target wrote nothing"
    folder = EXPECTED / target
    for path in outputs:
        expected = folder / path.name
        if os.environ.get("GATEWAY_REGENERATE"):
            folder.mkdir(parents=True, exist_ok=True)
            expected.write_bytes(path.read_bytes())
        assert expected.is_file(), f"no expected file {expected.relative_to(REPO)}"
        assert path.read_bytes() == expected.read_bytes(), path.name
