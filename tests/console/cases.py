"""A state root with three quarantine cases made by a real `run --once`: a CSV whose header
matches no layout, an EDIFACT DESADV with a letter in a quantity, and a shipment that Sage
refused because its value map lacks two warehouses (a pair case; mapping them fixes it)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway import quarantine
from gateway.config import Config, load
from gateway.ledger.sqlite import SqliteLedger
from tests.conftest import REPO, SAMPLES, run_cli
from tests.waiting import wait_until

CONFIG = """
schemas_dir = "../schemas"

[[source]]
name = "wms"
side = "wms"
path = "inbound"
settle_seconds = 0.2
poll_seconds = 0.5

[[target]]
name = "sage"
format = "sage100.shipment"
value_map = "warehouses"

[[route]]
doc_type = "shipment"
from = ["wms"]
to = ["sage", "canonical"]
"""
MAPPED = '[warehouse]\nDC1 = "001"\n'
FIXED = '[warehouse]\nDC1 = "001"\nDC2 = "002"\nDC9 = "009"\n'


@dataclass(frozen=True)
class Scene:
    """The root, its configuration file and value map, and each case by its file's name."""

    root: Path
    config_path: Path
    value_map: Path
    cases: dict[str, str]

    def config(self) -> Config:
        return load(self.config_path, self.root)

    def ledger(self) -> SqliteLedger:
        return SqliteLedger(self.root / "gateway.db")


@pytest.fixture(name="scene")
def _scene(tmp_path: Path) -> Scene:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    # The site's own value map, as an operator keeps it beside the configuration.
    value_map = tmp_path / "schemas" / "valuemaps" / "warehouses.toml"
    value_map.parent.mkdir(parents=True)
    value_map.write_text(MAPPED, encoding="utf-8")
    config_path = tmp_path / "gateway.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    csv, edi = SAMPLES / "inbound" / "csv", SAMPLES / "inbound" / "edifact"
    shipment = (csv / "erp-shipment.csv").read_text(encoding="utf-8").replace(",DC1,", ",DC9,")
    (root / "inbound" / "north.csv").write_text(shipment, encoding="utf-8")
    (root / "inbound" / "orders.csv").write_bytes((csv / "broken-sales-order.csv").read_bytes())
    desadv = (edi / "desadv_d96a.edi").read_text(encoding="latin-1").replace("QTY+12:", "QTY+12:x")
    (root / "inbound" / "despatch.edi").write_text(desadv, encoding="latin-1")
    ran = run_cli("--config", config_path, "--root", root, "run", "--once")
    assert ran.returncode == 0, ran.stderr
    scene = Scene(root, config_path, value_map, {})
    scene.cases.update({e.name: e.case for e in quarantine.entries(scene.config())})
    assert set(scene.cases) == {"north.csv", "orders.csv", "despatch.edi"}, scene.cases
    return scene


Spawn = Callable[..., subprocess.Popen[str]]


@pytest.fixture(name="spawn")
def _spawn(scene: Scene) -> Iterator[Spawn]:
    """Starts `gateway --config … <args>` as a real process logging into `<name>.log` beside
    the root; what is still running after the test is stopped."""
    started: list[subprocess.Popen[str]] = []

    def spawn(name: str, *args: str) -> subprocess.Popen[str]:
        log = (scene.root.parent / f"{name}.log").open("w")
        command = [sys.executable, "-m", "gateway", "--config", str(scene.config_path), *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env)
        started.append(proc)
        return proc

    yield spawn
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=60)


@pytest.fixture(name="service")
def _service(scene: Scene, spawn: Spawn) -> Callable[[], subprocess.Popen[str]]:
    """Starts `gateway run` on the scene's root and waits until it holds the root."""

    def start() -> subprocess.Popen[str]:
        proc = spawn("service", "run", "--root", str(scene.root))
        log = scene.root.parent / "service.log"
        wait_until(lambda: "service_started" in log.read_text(), what="the service to start",
                   seen=lambda: (proc.poll(), log.read_text()[-2000:]))  # fmt: skip
        return proc

    return start
