"""Configuration: typed, frozen, every problem reported at once with its key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gateway import config
from gateway.errors import ConfigError
from tests.conftest import run_cli


class TestDefaults:
    def test_no_file_serves_the_design_folders(self, tmp_path: Path) -> None:
        """With no config, one local source at DIR/inbound and the canonical target."""
        cfg = config.load(None, tmp_path)
        assert [s.name for s in cfg.sources] == ["inbound"]
        assert cfg.sources[0].path == tmp_path / "inbound"
        assert cfg.sources[0].settle_seconds == 2.0
        assert cfg.target("canonical").local_dir == tmp_path / "outbound" / "canonical"
        assert cfg.ledger_path == tmp_path / "gateway.db"

    def test_config_is_frozen(self, tmp_path: Path) -> None:
        cfg = config.load(None, tmp_path)
        with pytest.raises(dataclasses.FrozenInstanceError):
            cfg.unrouted = "quarantine"  # type: ignore[misc]

    def test_root_overrides_state_dir(self, tmp_path: Path) -> None:
        cfg = config.parse({"state_dir": "/somewhere/else"}, tmp_path)
        assert cfg.state_dir == tmp_path


class TestProblems:
    def test_every_problem_is_reported_at_once(self, tmp_path: Path) -> None:
        raw = {
            "colour": "blue",
            "source": [
                {"name": "a", "settle_seconds": "soon", "side": "left"},
                {"name": "a", "type": "ftp"},
                {"name": "s", "type": "sftp"},
            ],
            "target": [{"name": "t", "format": "nope"}],
            "route": [{"doc_type": "invoice", "from": ["x"], "to": ["missing"]}],
        }
        with pytest.raises(ConfigError) as caught:
            config.parse(raw, tmp_path)
        problems = "\n".join(caught.value.problems)
        for expected in (
            "colour: unknown setting",
            "source[0].settle_seconds: expected float",
            "source[0].side: must be one of erp, wms, any",
            "source[1].type: unknown source type 'ftp' (known: local, sftp)",
            "source[2].host: required for an sftp source",
            "source[2].known_hosts: required",
            "source: name 'a' is used more than once",
            "target[0].format: unknown format 'nope'",
            "route[0].doc_type: unknown document type 'invoice'",
            "route[0].from: no source named 'x'",
            "route[0].to: no target named 'missing'",
        ):
            assert expected in problems

    def test_unknown_encoding_is_a_problem(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match=r"source\[0\]\.encoding: unknown encoding"):
            config.parse({"source": [{"name": "a", "encoding": "klingon-8"}]}, tmp_path)

    def test_broken_toml_names_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "gateway.toml"
        path.write_text("state_dir = [unclosed\n")
        with pytest.raises(ConfigError, match="not valid TOML"):
            config.load(path)


class TestConfigCheckCommand:
    def test_valid_config_exits_0(self, tmp_path: Path) -> None:
        result = run_cli("config", "check", "--config", "samples/demo.toml", "--root", tmp_path)
        assert result.returncode == 0, result.stderr
        assert "2 source(s)" in result.stdout

    def test_invalid_config_exits_78_with_every_problem(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.toml"
        path.write_text('unrouted = "drop"\n[[source]]\nname = "x"\npoll_seconds = -1\n')
        result = run_cli("--config", path, "config", "check")
        assert result.returncode == 78
        assert "unrouted: must be one of canonical, quarantine" in result.stderr
        assert "source[0].poll_seconds: must be greater than 0" in result.stderr


class TestShippedConfigs:
    @pytest.mark.parametrize("path", ["deploy/gateway.toml.example", "samples/demo.toml"])
    def test_shipped_examples_are_valid(self, path: str, tmp_path: Path) -> None:
        result = run_cli("--config", path, "--root", tmp_path, "config", "check")
        assert result.returncode == 0, result.stderr


def test_an_ordered_route_orders_the_sources_it_takes_from(tmp_path: Path) -> None:
    sources = [{"name": "acme"}, {"name": "globex"}, {"name": "erp"}]
    routes = [
        {"from": ["acme"], "to": ["canonical"], "ordered": True},
        {"from": ["globex", "erp"], "to": ["canonical"]},
    ]
    cfg = config.parse({"source": sources, "route": routes}, root=tmp_path)
    assert {s.name: s.ordered for s in cfg.sources} == {"acme": True, "globex": False, "erp": False}
    route = {"to": ["canonical"], "ordered": True}
    every = config.parse({"source": sources, "route": [route]}, root=tmp_path)
    assert all(s.ordered for s in every.sources)
    with pytest.raises(ConfigError, match=r"route\[0\]\.ordered"):
        config.parse({"route": [{"to": ["canonical"], "ordered": "yes"}]}, root=tmp_path)
