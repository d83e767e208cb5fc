"""`gateway run` from a TOML config: an sftp source in, an sftp target out, on a real sshd."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_cli

ADJUSTMENT = (
    "adjustment_id,adjusted_at,warehouse,line_no,sku,location,mode,quantity_change,reason_code\n"
    "ADJ-{n},2026-11-26,000,1,WIDGET-1,A-01-01,delta,-15,DAMAGED\n"
)


def test_gateway_run_with_sftp_source_and_target(sshd: Any, remote: Path, tmp_path: Path) -> None:
    for n in range(3):
        (remote / "in" / f"adj{n}.csv").write_text(ADJUSTMENT.format(n=n))
    (remote / "in" / "upload.csv.part").write_text("still uploading")
    config = tmp_path / "gateway.toml"
    config.write_text(f"""
[[source]]
name = "wms"
type = "sftp"
side = "wms"
{sshd.server_settings("ecdsa")}remote_dir = "{remote / "in"}"
after = "move:{remote / "done"}"
settle_seconds = 0.2
poll_seconds = 0.2
timeout_seconds = 10

[[target]]
name = "erp"
format = "jsonl"
deliver = "sftp:wms:{remote / "erp" / "import"}?exists=unique"

[[route]]
doc_type = "inventory_adjustment"
from = ["wms"]
to = ["erp"]
""")
    root = tmp_path / "root"
    result = run_cli("run", "--once", "--config", config, "--root", root)
    assert result.returncode == 0, result.stdout + result.stderr
    published = sorted((remote / "erp" / "import").iterdir())
    assert len(published) == 3 and all(p.suffix == ".jsonl" and not p.name.startswith(".") for p in published)
    docs = [json.loads(p.read_text()) for p in published]
    assert sorted(d["doc_id"] for d in docs) == ["ADJ-0", "ADJ-1", "ADJ-2"]
    assert all(d["source"]["file_name"].startswith("adj") for d in docs)
    assert sorted(p.name for p in (remote / "done").iterdir()) == ["adj0.csv", "adj1.csv", "adj2.csv"]
    assert sorted(p.name for p in (remote / "in").iterdir()) == ["upload.csv.part"]
    assert not list((root / "work").rglob("*.tmp"))
    status = run_cli("status", "--json", "--config", config, "--root", root)
    source = json.loads(status.stdout)["sources"][0]
    assert source["name"] == "wms" and source["reachable"] is True
    assert source["files"] == {"accepted": 3}
    again = run_cli("run", "--once", "--config", config, "--root", root)
    assert again.returncode == 0
    assert len(list((remote / "erp" / "import").iterdir())) == 3  # nothing fetched or published twice


def test_gateway_run_with_unknown_host_key_reports_status(sshd: Any, remote: Path, tmp_path: Path) -> None:
    (remote / "in" / "x.csv").write_text(ADJUSTMENT.format(n=9))
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config = tmp_path / "gateway.toml"
    config.write_text(f"""
[[source]]
name = "partner"
type = "sftp"
{sshd.server_settings(known_hosts=empty)}remote_dir = "{remote / "in"}"
""")
    root = tmp_path / "root"
    result = run_cli("run", "--once", "--config", config, "--root", root)
    assert result.returncode == 0
    assert "HOST KEY VERIFICATION FAILED" in result.stdout + result.stderr
    status = json.loads(run_cli("status", "--json", "--config", config, "--root", root).stdout)
    (source,) = status["sources"]
    assert source["reachable"] is False and "HOST KEY VERIFICATION FAILED" in source["last_error"]
    assert (remote / "in" / "x.csv").exists()
