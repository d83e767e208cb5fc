"""The CSV reader: every canonical layout, encodings, dialects, and every kind of bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.canonical.records import Record
from gateway.config import Config
from gateway.errors import Finding, RejectedFile
from gateway.formats.base import Inbound, ReadContext
from gateway.formats.csv.reader import CsvReader
from gateway.formats.csv.schema import layouts
from tests.conftest import SAMPLES


def read(path: Path, config: Config, **options: Any) -> tuple[list[Record], list[Finding]]:
    source = config.sources[0]
    if options:
        source = type(source)(**{**source.__dict__, "options": options})
    ctx = ReadContext(Inbound("f1", path, path.name, source, "0" * 64, path.stat().st_size), config, "csv")
    try:
        records = list(CsvReader().read(ctx))
    except RejectedFile as exc:
        return [], exc.findings
    rejection = ctx.rejection()
    return records, rejection.findings if rejection else []


@pytest.fixture(name="cfg")
def _cfg(make_config: Callable[..., Config]) -> Config:
    return make_config()


def write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


class TestLayouts:
    def test_all_ten_document_types_ship_a_layout(self) -> None:
        assert sorted(layout.doc_type for layout in layouts().values()) == sorted(
            ["product", "customer", "price_list", "sales_order", "purchase_order", "shipment",
             "inventory_adjustment", "receipt", "return", "transfer"]
        )  # fmt: skip

    @pytest.mark.parametrize(
        ("sample", "doc_type", "documents"),
        [
            ("products.csv", "product", 3),
            ("customers-windows1252.csv", "customer", 2),
            ("pricelist-excel-utf8-bom.csv", "price_list", 1),
            ("sales-orders.csv", "sales_order", 2),
            ("purchase-orders.tsv", "purchase_order", 1),
            ("shipments.csv", "shipment", 1),
            ("adjustments.csv", "inventory_adjustment", 1),
            ("receipts.csv", "receipt", 1),
            ("returns.csv", "return", 1),
            ("transfers.csv", "transfer", 1),
        ],
    )
    def test_each_sample_is_recognised_by_its_header(
        self, cfg: Config, sample: str, doc_type: str, documents: int
    ) -> None:
        records, findings = read(SAMPLES / "inbound" / "csv" / sample, cfg)
        assert findings == []
        assert [r.doc_type for r in records] == [doc_type] * documents

    def test_sales_order_fields(self, cfg: Config) -> None:
        records, _ = read(SAMPLES / "inbound" / "csv" / "sales-orders.csv", cfg)
        order = records[0].to_dict()
        assert order["doc_id"] == "SO-5001"
        assert order["order_date"] == "2026-11-25"
        assert order["ship_to"]["name"] == "Acme, Inc."
        assert order["ship_to"]["address_lines"] == ["1 Main Street"]
        assert [(line["sku"], line["quantity"], line["unit_price"]) for line in order["lines"]] == [
            ("WIDGET-1", "10", "2.95"), ("WIDGET-2", "2", "5.40"),
        ]  # fmt: skip
        assert order["lines"][1]["description"] == "Widget large, blue"
        assert records[1].to_dict()["ship_to"]["name"] == "Café Noël"

    def test_shipment_packages_and_tracking(self, cfg: Config) -> None:
        records, _ = read(SAMPLES / "inbound" / "csv" / "shipments.csv", cfg)
        shipment = records[0].to_dict()
        assert shipment["tracking_numbers"] == ["1Z999AA10123456784"]
        assert shipment["packages"] == [
            {"sscc": "003456789012345675", "tracking_number": "1Z999AA10123456784", "weight": "2.4"}
        ]
        assert [line["package_sscc"] for line in shipment["lines"]] == ["003456789012345675"] * 2

    def test_windows_1252_comes_out_as_unicode(self, cfg: Config) -> None:
        records, _ = read(SAMPLES / "inbound" / "csv" / "customers-windows1252.csv", cfg)
        customer = records[0].to_dict()
        assert customer["name"] == "Müller & Söhne GmbH"
        assert customer["bill_to"]["address_lines"] == ["Hauptstraße 1"]
        assert [s["code"] for s in customer["ship_to"]] == ["MAIN", "OUTL"]
        assert customer["source"]["encoding"] == "cp1252"

    def test_excel_utf8_bom_first_column_is_clean(self, cfg: Config) -> None:
        records, findings = read(SAMPLES / "inbound" / "csv" / "pricelist-excel-utf8-bom.csv", cfg)
        assert findings == []
        prices = records[0].to_dict()
        assert prices["price_list_id"] == "PL-2027"
        assert [line["min_quantity"] for line in prices["lines"]] == ["1", "100", "1"]

    def test_booleans_and_counts(self, cfg: Config) -> None:
        records, _ = read(SAMPLES / "inbound" / "csv" / "products.csv", cfg)
        assert records[1].to_dict()["lot_controlled"] is True
        assert records[2].to_dict()["serial_controlled"] is True

    def test_quoted_newline_keeps_line_numbers(self, cfg: Config, tmp_path: Path) -> None:
        text = 'sku,description,unit_cost\nA,"two\nlines",1\nB,ok,x\n'
        _, findings = read(write(tmp_path, text), cfg)
        assert [(f.code, f.location["line"]) for f in findings] == [("not_numeric", 4)]

    def test_header_names_compare_trimmed_and_case_insensitively(self, cfg: Config, tmp_path: Path) -> None:
        records, findings = read(write(tmp_path, " SKU ; Description \nA;x\n"), cfg)
        assert findings == []
        assert records[0].to_dict()["sku"] == "A"

    def test_header_only_file_has_no_documents(self, cfg: Config, tmp_path: Path) -> None:
        assert read(write(tmp_path, "sku,description\n"), cfg) == ([], [])


class TestBadInput:
    def codes(self, cfg: Config, tmp_path: Path, text: str | bytes) -> list[tuple[str, dict[str, Any]]]:
        _, findings = read(write(tmp_path, text), cfg)
        return [(f.code, f.location) for f in findings]

    def test_ragged_rows(self, cfg: Config, tmp_path: Path) -> None:
        codes = self.codes(cfg, tmp_path, "sku,description\nA,x\nB\nC,x,extra\n")
        assert codes == [("ragged_row", {"line": 3}), ("ragged_row", {"line": 4})]

    def test_missing_required_column_and_unknown_header(self, cfg: Config, tmp_path: Path) -> None:
        text = "order_number,sku,quantity,colour\nSO-1,A,1,red\n"
        codes = self.codes(cfg, tmp_path, text)
        assert ("missing_column", {"line": 1, "column": "customer_id"}) in codes
        assert ("unknown_column", {"line": 1, "column": "colour"}) in codes

    def test_header_matching_nothing(self, cfg: Config, tmp_path: Path) -> None:
        _, findings = read(write(tmp_path, "foo,bar\n1,2\n"), cfg)
        assert findings[0].code == "unknown_layout"

    def test_value_too_long(self, cfg: Config, tmp_path: Path) -> None:
        _, findings = read(write(tmp_path, f"sku,description\n{'X' * 51},d\n"), cfg)
        assert findings[0].code == "too_long"
        assert findings[0].location == {"line": 2, "column": "sku"}
        assert findings[0].value == "X" * 51

    def test_impossible_date(self, cfg: Config, tmp_path: Path) -> None:
        text = "po_number,vendor_id,order_date,sku,quantity\nPO-1,V,2026-02-30,A,1\n"
        _, findings = read(write(tmp_path, text), cfg)
        assert [(f.code, f.value, f.location) for f in findings] == [
            ("bad_date", "2026-02-30", {"line": 2, "column": "order_date"})
        ]

    def test_every_finding_is_reported_not_only_the_first(self, cfg: Config, tmp_path: Path) -> None:
        rows = "".join(f"W{i},x,abc\n" for i in range(50))
        _, findings = read(write(tmp_path, "sku,description,unit_cost\n" + rows), cfg)
        assert [f.location["line"] for f in findings] == list(range(2, 52))

    def test_findings_stop_at_the_configured_cap(
        self, make_config: Callable[..., Config], tmp_path: Path
    ) -> None:
        cfg = make_config(max_findings=10)
        rows = "".join(f"W{i},x,abc\n" for i in range(50))
        _, findings = read(write(tmp_path, "sku,description,unit_cost\n" + rows), cfg)
        assert len(findings) == 11
        assert findings[-1].code == "too_many_findings"

    def test_required_when(self, cfg: Config, tmp_path: Path) -> None:
        text = "adjustment_id,sku,mode,quantity_change,counted_quantity\nA,S,delta,,\nA,T,count,,\n"
        _, findings = read(write(tmp_path, text), cfg)
        assert [(f.code, f.location) for f in findings] == [
            ("required", {"line": 2, "column": "quantity_change"}),
            ("required", {"line": 3, "column": "counted_quantity"}),
        ]

    def test_split_document(self, cfg: Config, tmp_path: Path) -> None:
        text = "transfer_id,from_warehouse,to_warehouse,sku,quantity\nT1,A,B,S,1\nT2,A,B,S,1\nT1,A,B,S,1\n"
        _, findings = read(write(tmp_path, text), cfg)
        assert [(f.code, f.location["line"]) for f in findings] == [("split_document", 4)]

    def test_header_fields_must_agree_within_a_document(self, cfg: Config, tmp_path: Path) -> None:
        text = "transfer_id,from_warehouse,to_warehouse,sku,quantity\nT1,A,B,S,1\nT1,A,C,S,1\n"
        _, findings = read(write(tmp_path, text), cfg)
        assert findings[0].code == "inconsistent_header"
        assert findings[0].location == {"line": 3, "column": "to_warehouse"}

    def test_unterminated_quote(self, cfg: Config, tmp_path: Path) -> None:
        codes = self.codes(cfg, tmp_path, 'sku,description\nA,ok\nB,"never closed\nC,x\n')
        assert codes == [("malformed_csv", {"line": 3})]

    def test_huge_line_without_newline_stops_reading(self, cfg: Config, tmp_path: Path) -> None:
        text = "sku,description\nA," + "x" * (3 << 20)
        codes = self.codes(cfg, tmp_path, text)
        assert codes == [("line_too_long", {"line": 2})]

    def test_duplicate_column(self, cfg: Config, tmp_path: Path) -> None:
        codes = self.codes(cfg, tmp_path, "sku,sku,description\nA,A,x\n")
        assert ("duplicate_column", {"line": 1, "column": "sku"}) in codes

    def test_wrongly_encoded_bytes_midway(self, cfg: Config, tmp_path: Path) -> None:
        data = "sku,description\nA,Müller\n".encode() + b"B,caf\xe9\n"
        _, findings = read(write(tmp_path, data), cfg)
        assert findings[0].code == "mixed_encoding"
        assert findings[0].location == {"line": 3, "column": 6}

    def test_a_value_too_long_is_kept_whole_only_when_lenient(
        self, make_config: Callable[..., Config], tmp_path: Path
    ) -> None:
        sku = "W" * 60  # the layout's sku is at most 50 characters
        text = "adjustment_id,adjusted_at,warehouse,line_no,sku,mode,quantity_change\n"
        path = write(tmp_path, text + f"ADJ-1,2026-11-26T08:15:00+00:00,000,1,{sku},delta,-15\n")
        _, findings = read(path, make_config())
        assert [(f.code, f.location) for f in findings] == [("too_long", {"line": 2, "column": "sku"})]
        lenient = make_config(source=[{"name": "erp", "strictness": "lenient"}])
        (adjustment,), findings = read(path, lenient)
        assert findings == [] and adjustment.to_dict()["lines"][0]["sku"] == sku

    def test_bytes_not_of_the_configured_encoding_are_named_where_they_are(
        self, make_config: Callable[..., Config], tmp_path: Path
    ) -> None:
        """Past the decoder's first buffer, a byte no UTF-8 starts with names its line and offset."""
        cfg = make_config(source=[{"name": "erp", "encoding": "utf-8"}])
        rows = "".join(f"SKU-{n},Widget {n}\n" for n in range(20000))
        head = ("sku,description\n" + rows).encode()
        path = write(tmp_path, head + b"B,caf\xff\n")
        _, (finding,) = read(path, cfg)
        assert (finding.code, finding.location) == ("undecodable", {"line": 20002})
        assert f"(byte offset {len(head) + 5}, character 6 of the line)" in finding.message


class TestHostileShapes:
    """Inputs that must not reach an output or stall the service (the hardening issue)."""

    def test_nul_after_the_first_4_kb_is_located(self, cfg: Config, tmp_path: Path) -> None:
        rows = "".join(f"ADJ-{i},SKU-{i},delta,{i}\n" for i in range(400))
        text = "adjustment_id,sku,mode,quantity_change\n" + rows + "ADJ-X,SK\x00U,delta,1\n"
        assert len(text.encode()) > 8192
        records, findings = read(write(tmp_path, text), cfg)
        assert records == []
        assert [(f.code, f.location) for f in findings] == [("binary", {"line": 402, "column": 9})]

    def test_a_header_wider_than_the_limit_is_refused_at_once(self, cfg: Config, tmp_path: Path) -> None:
        header = ",".join(f"c{i}" for i in range(200_000))
        _, findings = read(write(tmp_path, header + "\n"), cfg, csv_max_line=4 << 20)
        assert [(f.code, f.location, f.rule) for f in findings] == [
            ("too_many_columns", {"line": 1}, "csv_max_columns 10000")
        ]

    def test_a_wide_header_within_a_raised_limit_is_read_through(self, cfg: Config, tmp_path: Path) -> None:
        # 30,000 columns: the duplicate-column check was quadratic (minutes); now one pass.
        header = ",".join(["sku", "sku", *(f"c{i}" for i in range(30_000))])
        _, findings = read(write(tmp_path, header + "\nA\n"), cfg, csv_max_columns=40_000)
        codes = [f.code for f in findings]
        assert codes[0] == "duplicate_column" and codes.count("duplicate_column") == 1
        assert "unknown_column" in codes
