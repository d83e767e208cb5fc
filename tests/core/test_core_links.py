"""Links in a drop folder: refused by default (they can reach any file), followed when allowed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import run_cli

CSV = "adjustment_id,sku,mode,quantity_change\n{id},SKU-1,delta,3\n"


def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "inbound").mkdir(parents=True)
    outside.mkdir()
    (root / "inbound" / "plain.csv").write_text(CSV.format(id="PLAIN"))
    (outside / "target.csv").write_text(CSV.format(id="SYMLINKED"))
    (outside / "secret.csv").write_text(CSV.format(id="HARDLINKED"))
    os.symlink(outside / "target.csv", root / "inbound" / "symlink.csv")
    os.link(outside / "secret.csv", root / "inbound" / "hardlink.csv")
    return root, outside, tmp_path / "gateway.toml"


def ids_published(root: Path) -> set[str]:
    outputs = (root / "outbound" / "canonical").iterdir()
    return {json.loads(line)["adjustment_id"] for f in outputs for line in f.read_text().splitlines()}


def test_links_are_refused_by_default_and_never_read(tmp_path: Path) -> None:
    root, outside, _ = setup(tmp_path)
    done = run_cli("run", "--once", "--root", root)
    assert done.returncode == 0, done.stderr
    assert ids_published(root) == {"PLAIN"}
    assert (root / "inbound" / "symlink.csv").is_symlink() and (root / "inbound" / "hardlink.csv").exists()
    assert not any("LINKED" in p.read_text() for p in (root / "archive").rglob("*") if p.is_file())
    assert (outside / "target.csv").exists() and (outside / "secret.csv").stat().st_nlink == 2
    status = run_cli("status", "--root", root)
    assert "'hardlink.csv' a hard link (2 names for one file)" in status.stdout
    assert "'symlink.csv' a symbolic link" in status.stdout


def test_follow_links_takes_their_content(tmp_path: Path) -> None:
    root, outside, config = setup(tmp_path)
    config.write_text('[[source]]\nname = "inbound"\nfollow_links = true\nsettle_seconds = 0.2\n')
    done = run_cli("--config", config, "run", "--once", "--root", root)
    assert done.returncode == 0, done.stderr
    assert ids_published(root) == {"PLAIN", "SYMLINKED", "HARDLINKED"}
    assert list((root / "inbound").iterdir()) == []
    archived = [p for p in (root / "archive").rglob("*") if p.is_file() or p.is_symlink()]
    assert len(archived) == 3 and not any(p.is_symlink() for p in archived)
    assert (outside / "target.csv").read_text() == CSV.format(id="SYMLINKED")  # the target stays


def test_follow_links_must_be_a_boolean(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[[source]]\nname = "inbound"\nfollow_links = "yes"\n')
    done = run_cli("--config", config, "config", "check", "--root", tmp_path / "root")
    assert done.returncode == 78
    assert "follow_links" in done.stderr
