"""A full disk under the state root: the ledger, work/, quarantine/ and archive/ on a tmpfs of a
few megabytes, with inbound/ on another filesystem (so a claim copies into the full one). The
service must neither crash nor lose or double anything: it waits, says so
in `status`, and once there is room finishes every file exactly once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.faults.mechanisms import Running, Tmpfs
from tests.waiting import file_states, wait_for_final

pytestmark = pytest.mark.service

HEADER = "adjustment_id,sku,mode,quantity_change\n"


def configure(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "gateway.toml"
    config.write_text(f'{extra}[[source]]\nname = "inbound"\npath = "{tmp_path / "inbound"}"\n'
                      "settle_seconds = 0.1\npoll_seconds = 0.2\n")  # fmt: skip
    (tmp_path / "inbound").mkdir(exist_ok=True)
    return config


def adjustments(name: str, rows: int = 200) -> str:
    return HEADER + "".join(f"{name}-{i},SKU-{i},delta,{i}\n" for i in range(rows))


def drop(inbound: Path, names: list[str]) -> None:
    for name in names:
        (inbound / f"{name}.tmp").write_text(adjustments(name))
        (inbound / f"{name}.tmp").rename(inbound / f"{name}.csv")


def assert_exactly_once(root: Path, accepted: list[str], quarantined: list[str]) -> None:
    states = file_states(root / "gateway.db")
    assert Counter(states.values()) == Counter(
        {**({"accepted": len(accepted)} if accepted else {}),
         **({"quarantined": len(quarantined)} if quarantined else {})}
    ), states  # fmt: skip
    outputs = sorted((root / "outbound" / "canonical").iterdir())
    assert not [p for p in outputs if p.name.endswith(".tmp")]
    assert sorted(p.name.split(".")[0] for p in outputs) == sorted(accepted)  # one each, never two
    for path in outputs:
        assert len(path.read_text().splitlines()) == 200, path
    assert not list((root / "work").iterdir())
    archived = [p.name.split(".", 1)[1] for p in (root / "archive").rglob("*.csv")]
    assert sorted(archived) == sorted(f"{n}.csv" for n in accepted)
    cases = [json.loads(p.read_text()) for p in (root / "quarantine").glob("*/error.json")]
    assert len(cases) == len(quarantined)


def test_ledger_disk_full_while_running_pauses_and_recovers(
    tmp_path: Path, tmpfs: Callable[[Path, str], Tmpfs], serve: Callable[..., Running]
) -> None:
    root = tmp_path / "root"
    disk = tmpfs(root, "4m")
    config = configure(tmp_path)
    service = serve(config, root)
    drop(tmp_path / "inbound", ["a0", "a1"])
    wait_for_final(root / "gateway.db", ["a0.csv", "a1.csv"])

    filler = disk.fill()
    later = [f"b{i}" for i in range(8)]
    drop(tmp_path / "inbound", later)
    (tmp_path / "inbound" / "bad.csv").write_text("not,a,layout\n1,2,3\n")
    service.wait_for("ledger_full")
    status = run_cli("--config", config, "status", "--root", root)
    assert status.returncode == 0, status.stderr
    assert "disk FULL" in status.stdout
    service.wait_for("ledger_full", count=3)  # it waits, with backoff, and does not exit

    filler.unlink()
    wait_for_final(root / "gateway.db", [f"{n}.csv" for n in later] + ["bad.csv"])
    assert service.stop() == 0
    assert_exactly_once(root, ["a0", "a1", *later], ["bad"])


def test_disk_full_before_start_is_waited_out(
    tmp_path: Path, tmpfs: Callable[[Path, str], Tmpfs], serve: Callable[..., Running]
) -> None:
    root = tmp_path / "root"
    disk = tmpfs(root, "2m")
    config = configure(tmp_path)
    names = ["c0", "c1", "c2"]
    drop(tmp_path / "inbound", names)
    filler = disk.fill()
    service = serve(config, root)
    service.wait_for("ledger_full", count=2)
    status = run_cli("--config", config, "status", "--root", root)
    assert status.returncode == 0, status.stderr
    assert "disk FULL" in status.stdout

    filler.unlink()
    wait_for_final(root / "gateway.db", [f"{n}.csv" for n in names])
    assert service.stop() == 0
    assert_exactly_once(root, names, [])


def test_a_drain_on_a_full_disk_gives_up_after_its_timeout(
    tmp_path: Path, tmpfs: Callable[[Path, str], Tmpfs]
) -> None:
    root = tmp_path / "root"
    disk = tmpfs(root, "1m")
    config = configure(tmp_path, "drain_timeout = 3\n")
    drop(tmp_path / "inbound", ["d0"])
    disk.fill()
    result = run_cli("--config", config, "run", "--once", "--root", root)
    assert result.returncode == 1
    assert "stayed full" in result.stderr
    assert '"ledger_full"' in result.stdout
    assert (tmp_path / "inbound" / "d0.csv").exists()  # untouched: nothing was claimed
