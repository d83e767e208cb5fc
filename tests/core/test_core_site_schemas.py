"""`schemas_dir`: a site's own layouts win over the shipped ones of the same name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import plugins, resources
from gateway.config import parse
from gateway.errors import ConfigError
from gateway.targets.layout import layouts
from gateway.targets.sage100 import Sage100Target
from tests.conftest import SAMPLES, run_cli

PRODUCTS = SAMPLES / "inbound" / "csv" / "products.csv"


@pytest.fixture(name="site")
def _site(tmp_path: Path) -> Iterator[Path]:
    """A site folder laid out like `schemas/`; the shipped schemas alone again afterwards."""
    site = tmp_path / "site"
    yield site
    resources.use_site_schemas(None)


def _copy(shipped: str, to: Path, old: str, new: str) -> None:
    """The shipped file at `shipped`, with `old` replaced by `new`, written at `to`."""
    text = (resources.SCHEMAS / shipped).read_text(encoding="utf-8")
    assert old in text
    target = to
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.replace(old, new), encoding="utf-8")


def test_a_site_csv_layout_wins_over_the_shipped_one(site: Path, tmp_path: Path) -> None:
    _copy("csv/product.toml", site / "csv/product.toml", "sku = { max_length = 50", "sku = { max_length = 5")
    shipped = run_cli("validate", PRODUCTS, "--root", tmp_path)
    assert shipped.returncode == 0, shipped.stdout + shipped.stderr
    config = tmp_path / "gateway.toml"
    config.write_text('schemas_dir = "site"\n', encoding="utf-8")
    done = run_cli("validate", PRODUCTS, "--config", config, "--root", tmp_path)
    assert done.returncode == 1
    assert "line 2, column 'sku': 'WIDGET-1': longer than 5 characters" in done.stdout, done.stdout


def test_a_site_target_layout_replaces_one_and_adds_another(site: Path) -> None:
    _copy(
        "sage100/product.toml",
        site / "sage100/product.toml",
        "max = 30, required = true",
        "max = 4, required = true",
    )
    _copy("sage100/product.toml", site / "sage100/widget.toml", 'layout = "product"', 'layout = "widget"')
    assert "widget" not in Sage100Target.variants()
    resources.use_site_schemas(site)
    item_code = layouts("sage100")["product"].records[0].columns[0]
    assert (item_code.name, item_code.max) == ("ItemCode", 4)
    assert plugins.target("sage100.widget") is Sage100Target
    assert set(Sage100Target.variants()) > {"widget", "shipment"}
    resources.use_site_schemas(None)
    assert layouts("sage100")["product"].records[0].columns[0].max == 30


def test_the_configuration_knows_the_site_layouts(site: Path, tmp_path: Path) -> None:
    _copy("sage100/product.toml", site / "sage100/widget.toml", 'layout = "product"', 'layout = "widget"')
    _copy("csv/product.toml", site / "csv/item.toml", '"canonical.product"', '"site.item"')
    raw = {
        "source": [{"name": "in", "csv_layout": "site.item"}],
        "target": [{"name": "sage", "format": "sage100.widget"}],
    }
    with pytest.raises(ConfigError) as caught:
        parse(raw, tmp_path)
    assert len(caught.value.problems) == 2
    config = parse({**raw, "schemas_dir": "site"}, tmp_path)
    assert config.schemas_dir == site


def test_a_shipped_file_serves_where_the_site_has_none(site: Path) -> None:
    site.mkdir()
    resources.use_site_schemas(site)
    assert resources.path("edifact", "ORDERS_D96A.json") == resources.SCHEMAS / "edifact" / "ORDERS_D96A.json"
    assert [p.name for p in resources.listing("idoc", "_*.toml")] == ["_records.toml", "_segments.toml"]


def test_schemas_dir_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse({"schemas_dir": "missing"}, tmp_path)
    assert caught.value.problems == [f"schemas_dir: {tmp_path / 'missing'} is not a folder"]
