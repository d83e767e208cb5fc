"""Plugins come from entry points: the built-ins through pyproject.toml, a third party's alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gateway import plugins
from gateway.targets.sage100 import Sage100Target
from tests.conftest import REPO

#: A third party's reader and target, in a module of its own, knowing the gateway only by its API.
ACME_MODULE = '''
"""ACME's pipe-separated item list: `ACME|sku|description` lines."""

from gateway import options as opt
from gateway.canonical.build import record_from_dict


class AcmeReader:
    name = "acme"
    order = 5
    options = (opt.flag("acme_strict", False, "refuse a line without a description"),)

    @staticmethod
    def sniff(head):
        return head.startswith(b"ACME|")

    def read(self, ctx):
        ctx.decide_encoding()
        strict = ctx.file.source.options.get("acme_strict", False)
        for number, line in enumerate(ctx.file.path.read_text().splitlines(), 1):
            _, sku, description = (line.split("|") + [""])[:3]
            if strict and not description:
                ctx.add("missing_description", "no description", line=number)
                continue
            yield record_from_dict({"doc_type": "product", "doc_id": sku, "sku": sku,
                                    "description": description, "source": ctx.lineage()})


class AcmeTarget:
    format = "acme_out"
    options = (opt.text("greeting", "hello", "the first line of every file"),)

    def __init__(self, config):
        self.greeting = config.options.get("greeting", "hello")

    @classmethod
    def variants(cls):
        return ()

    @classmethod
    def check(cls, config):
        return []

    def writer(self, file, open_output):
        return AcmeWriter(self.greeting, open_output(f"{file.file_id}.acme"))


class AcmeWriter:
    def __init__(self, greeting, out):
        self.out = out
        out.write(greeting.encode() + b"\\n")

    def write(self, record):
        self.out.write(f"{record.doc_id}\\n".encode())
        return []

    def close(self):
        self.out.close()
'''

ENTRY_POINTS = """
[gateway.formats]
acme = acme_plugin:AcmeReader

[gateway.targets]
acme_out = acme_plugin:AcmeTarget
"""


@pytest.fixture(name="site")
def _site(tmp_path: Path) -> Path:
    """A folder on the path holding the plugin and only its metadata: no gateway file names it."""
    site = tmp_path / "site"
    info = site / "acme_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "acme_plugin.py").write_text(textwrap.dedent(ACME_MODULE), encoding="utf-8")
    metadata = "Metadata-Version: 2.1\nName: acme-plugin\nVersion: 1.0\n"
    (info / "METADATA").write_text(metadata, encoding="utf-8")
    (info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    return site


def _gateway(site: Path, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=cwd, env=env, check=False,
    )  # fmt: skip


def test_builtins_are_registered_by_entry_points() -> None:
    assert plugins.names(plugins.FORMATS) == ["csv", "edifact", "idoc", "idoc-xml", "xml"]
    assert {"jsonl", "sage100", "netsuite", "edifact", "xml"} <= set(plugins.names(plugins.TARGETS))
    assert plugins.names(plugins.DELIVERIES) == ["local", "sftp"]
    assert plugins.names(plugins.SOURCES) == ["local", "sftp"]


def test_detection_order_is_the_readers_own() -> None:
    assert [name for name, _ in plugins.readers()] == ["idoc-xml", "xml", "idoc", "edifact", "csv"]


def test_a_family_takes_its_variants_and_nothing_else() -> None:
    assert plugins.target("sage100.shipment") is Sage100Target
    assert plugins.target("sage100") is Sage100Target
    for unknown in ("sage100.bogus", "jsonl.extra", "nope"):
        with pytest.raises(plugins.UnknownPlugin, match="unknown format"):
            plugins.target(unknown)


def _imported_after(statement: str, prefix: str) -> list[str]:
    """The modules starting with `prefix` that a fresh interpreter holds after `statement`."""
    code = (
        f"import json, sys; from gateway import plugins; {statement}; "
        f"print(json.dumps([m for m in sys.modules if m.startswith({prefix!r})]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    return list(json.loads(done.stdout))


def test_plugins_are_imported_only_when_used() -> None:
    assert _imported_after("plugins.names(plugins.FORMATS)", "gateway.formats.") == []
    # Checking reader options loads the readers, but not what only reading a file needs.
    assert _imported_after("plugins.readers()", "pandas") == []
    assert _imported_after("import gateway.cli.main", "gateway.config") == []


def test_a_third_party_reader_and_target_are_found_and_used(site: Path, tmp_path: Path) -> None:
    items = tmp_path / "items.acme"
    items.write_text("ACME|A-1|Anvil\nACME|B-2|Bird seed\n", encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text(
        textwrap.dedent("""
            [[source]]
            name = "acme"
            acme_strict = true

            [[target]]
            name = "out"
            format = "acme_out"
            greeting = "hi"

            [[route]]
            doc_type = "product"
            to = ["out"]
        """),
        encoding="utf-8",
    )
    done = _gateway(site, "validate", "--json", items, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)
    assert report["format"] == "acme" and report["records"] == 2

    (tmp_path / "inbound").mkdir()
    items.rename(tmp_path / "inbound" / items.name)
    done = _gateway(site, "run", "--once", "--root", tmp_path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (output,) = (tmp_path / "outbound" / "out").glob("*.acme")
    assert output.read_text(encoding="utf-8") == "hi\nA-1\nB-2\n"


def test_a_third_party_option_is_checked(site: Path, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[[source]]\nname = "acme"\nacme_strict = "very"\n', encoding="utf-8")
    done = _gateway(site, "config", "check", cwd=tmp_path)
    assert done.returncode == 78
    assert "source[0].acme_strict: expected true or false, got 'very'" in done.stderr
