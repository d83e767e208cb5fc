"""The IDoc benchmark runs and reads what it wrote (figures are printed by `gateway bench`)."""

from __future__ import annotations

from gateway import bench_idoc


def test_bench_idoc_small_run() -> None:
    result = bench_idoc.run(idocs=5)
    assert result["flat_valid"] is True and result["xml_valid"] is True
    assert result["flat_records"] == 5 and result["xml_records"] == 5
    for key in ("flat_gateway_vs_raw", "xml_gateway_vs_raw"):
        assert isinstance(result[key], float) and result[key] > 0
