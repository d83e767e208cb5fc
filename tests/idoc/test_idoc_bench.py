"""The IDoc benchmark runs and reads what it wrote (figures are printed by `gateway bench`)."""

from __future__ import annotations

from benchmarks import idoc as bench_idoc


def test_bench_idoc_small_run() -> None:
    result = bench_idoc.run(idocs=5, with_memory=False)
    assert result["flat_valid"] is True and result["xml_valid"] is True
    assert result["flat_records"] == 5 and result["xml_records"] == 5
    for key in ("flat_gateway_vs_raw", "xml_gateway_vs_raw"):
        assert isinstance(result[key], float) and result[key] > 0


def test_bench_idoc_memory_probe_runs() -> None:
    result = bench_idoc.memory(small=2, large=4)
    assert result["flat_peak_mb_2_idocs"] > 0 and result["flat_peak_mb_4_idocs"] > 0
