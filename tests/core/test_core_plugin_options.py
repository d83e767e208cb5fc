"""Plugins declare their options; the configuration checks them all, every problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import config
from gateway.errors import ConfigError
from gateway.options import Option, count, problems
from tests.conftest import SAMPLES, run_cli

PRODUCTS = SAMPLES / "inbound" / "csv" / "products.csv"


def _problems(source: dict[str, object], tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.parse({"source": [{"name": "in", **source}]}, tmp_path)
    return caught.value.problems


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("xml_max_depth", "deep", "source[0].xml_max_depth: expected a whole number, got 'deep'"),
        ("xml_max_depth", 0, "source[0].xml_max_depth: must be at least 1"),
        ("idoc_sku", "bogus", "source[0].idoc_sku: must be one of as_is, strip_zeros"),
        ("idoc_orders_as", "po", "source[0].idoc_orders_as: must be one of auto, sales_order, "
         "purchase_order"),
        ("edifact_max_segment", "big", "source[0].edifact_max_segment: expected a whole number, got 'big'"),
        ("edifact_partial", "yes", "source[0].edifact_partial: expected true or false, got 'yes'"),
        ("csv_layout", 7, "source[0].csv_layout: expected a string, got 7"),
        ("csv_layout", "nope", "source[0].csv_layout: no CSV layout named 'nope' (have canonical.customer, "),
        ("csv_delimiter", ";;", "source[0].csv_delimiter: must be one character, not a quote"),
        ("xml_layout", "nope", "source[0].xml_layout: no XML layout named 'nope' (have "),
        ("xml_max_dept", 5, "source[0].xml_max_dept: unknown option"),
    ],
)  # fmt: skip
def test_a_bad_reader_option_is_a_config_error(key: str, value: object, problem: str, tmp_path: Path) -> None:
    (found,) = _problems({key: value}, tmp_path)
    assert found.startswith(problem)


def test_every_problem_of_every_plugin_is_reported_at_once(tmp_path: Path) -> None:
    raw = {
        "source": [
            {"name": "a", "xml_max_depth": "deep", "idoc_sku": "bogus", "edifact_max_segment": "big"},
            {"name": "b", "type": "sftp", "host": "h", "username": "u", "remote_dir": "/in",
             "key_file": "k", "known_hosts": "kh", "port": "22", "after": "archive"},
        ],
        "target": [
            {"name": "sage", "format": "sage100", "header": "yes", "colour": "red", "ar_division": "A1"},
            {"name": "sap", "format": "idoc", "syntax": "edi"},
        ],
    }  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        config.parse(raw, tmp_path)
    assert sorted(caught.value.problems) == [
        "source[0].edifact_max_segment: expected a whole number, got 'big'",
        "source[0].idoc_sku: must be one of as_is, strip_zeros",
        "source[0].xml_max_depth: expected a whole number, got 'deep'",
        "source[1].after: expected 'move:/folder', 'delete' or 'keep'",
        "source[1].port: expected a whole number, got '22'",
        "target[0].ar_division: must be one or two digits, such as '01'",
        "target[0].colour: unknown option",
        "target[0].header: expected true or false, got 'yes'",
        "target[1].syntax: must be one of xml, flat",
    ]


def test_good_reader_options_reach_the_reader(tmp_path: Path) -> None:
    cfg = config.parse({"source": [{"name": "in", "xml_max_depth": 12, "idoc_sku": "strip_zeros"}]}, tmp_path)
    assert cfg.sources[0].options == {"xml_max_depth": 12, "idoc_sku": "strip_zeros"}


def test_config_check_exits_78_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text('[[source]]\nname = "in"\nxml_max_depth = "deep"\nidoc_sku = "bogus"\n', encoding="utf-8")
    done = run_cli("config", "check", "--config", path, "--root", tmp_path)
    assert done.returncode == 78
    assert done.stderr.splitlines() == [
        "gateway: config: source[0].idoc_sku: must be one of as_is, strip_zeros",
        "gateway: config: source[0].xml_max_depth: expected a whole number, got 'deep'",
    ]


def test_an_unknown_source_on_the_command_line_is_a_config_error(tmp_path: Path) -> None:
    done = run_cli("validate", "--source", "nope", PRODUCTS, "--root", tmp_path)
    assert done.returncode == 78
    assert done.stderr.strip() == "gateway: config: --source: no source named 'nope' (configured: inbound)"


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    done = run_cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"gateway {version('gateway')}"


def test_config_schema_lists_every_declared_option() -> None:
    done = run_cli("config", "schema")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    source = schema["properties"]["source"]["items"]["allOf"]
    assert source[0]["properties"]["idoc_sku"] == {
        "type": "string",
        "default": "as_is",
        "enum": ["as_is", "strip_zeros"],
        "description": "strip_zeros drops SAP's leading zeros from numeric material numbers",
    }
    targets = {
        part["then"]["title"]: part["then"] for part in schema["properties"]["target"]["items"]["allOf"][1:]
    }
    assert targets["target format sage100"]["properties"]["ar_division"]["default"] == "01"
    assert set(targets["target format edifact_contrl"]["properties"]) == set()


def test_an_option_checks_type_choices_and_range() -> None:
    declared = [count("n", 1, "a number", maximum=3), Option("s", (str, list), None, "text or list")]
    found, valid = problems({"n": 4, "s": 5, "x": True}, declared)
    assert found == ["x: unknown option", "n: must be at most 3", "s: expected a string or a list, got 5"]
    assert valid == {}
    assert problems({"n": 2, "s": ["a"]}, declared) == ([], {"n": 2, "s": ["a"]})


def test_edifact_numbers_may_be_written_as_numbers(tmp_path: Path) -> None:
    target = {"name": "p", "format": "edifact", "sender": "S", "receiver": "R", "syntax_version": 4,
              "receiver_qualifier": 14}  # fmt: skip
    assert config.parse({"target": [target]}, tmp_path).target("p").options["syntax_version"] == 4
    with pytest.raises(ConfigError) as caught:
        config.parse({"target": [{**target, "syntax_version": 5}]}, tmp_path)
    assert caught.value.problems == ["target[0].syntax_version: must be one of 1, 2, 3, 4"]
