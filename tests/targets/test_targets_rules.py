"""Records a target cannot represent are refused with the field and rule, never truncated."""

from __future__ import annotations

import io
from typing import Any

import pytest

from gateway import plugins
from gateway.canonical.build import record_from_dict
from gateway.config import TargetConfig, target_problems
from gateway.errors import Finding
from gateway.targets.base import FileInfo


class Memory:
    """An opener that keeps outputs in memory, in the order they were opened."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.data: dict[str, bytes] = {}

    def __call__(self, name: str) -> Any:
        self.opened.append(name)
        memory = self

        class Out(io.BytesIO):
            def close(self) -> None:
                memory.data[name] = self.getvalue()
                super().close()

        return Out()


def write(fmt: str, records: list[dict[str, Any]], **options: Any) -> tuple[list[Finding], Memory]:
    config = TargetConfig("t", fmt, "local:out", options)
    assert target_problems(plugins.target(fmt), config) == []
    memory = Memory()
    writer = plugins.target(fmt)(config).writer(FileInfo("F1", "in.csv"), memory)
    findings: list[Finding] = []
    for raw in records:
        findings += writer.write(record_from_dict(raw))
    writer.close()
    return findings, memory


def so(**extra: Any) -> dict[str, Any]:
    line = {"line_no": "1", "sku": "widget-1", "quantity": "2", **extra.pop("line", {})}
    return {"doc_type": "sales_order", "doc_id": "SO1", "order_number": "SO1", "customer_id": "ACME",
            "order_date": "2026-11-26", "lines": [line], **extra}  # fmt: skip


def adjustment(**line: Any) -> dict[str, Any]:
    return {"doc_type": "inventory_adjustment", "doc_id": "A1", "adjustment_id": "A1",
            "adjusted_at": "2026-11-26", "warehouse": "000",
            "lines": [{"line_no": "1", "sku": "W1", "mode": "delta", "quantity_change": "-1",
                       **line}]}  # fmt: skip


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [f.render("in.csv") for f in findings]
    return findings[0]


def test_sage_writes_codes_upper_case_and_dates_yyyymmdd() -> None:
    findings, memory = write("sage100", [so(customer_id="7-acme", line={"sku": "widget-1", "uom": "ea"})])
    assert findings == []
    text = memory.data["sales_order.in.F1.csv"].decode("cp1252")
    assert "\r\nH,SO1,20261126,07,ACME," in text
    assert "\r\nL,SO1,WIDGET-1,,2,EA,\r\n" in text


@pytest.mark.parametrize(
    ("record", "field", "code", "rule"),
    [
        (so(order_number="SO-12345"), "SalesOrderNo", "too_long", "max 7"),
        (so(customer_id="01-" + "C" * 21), "CustomerNo", "too_long", "max 20"),
        (so(warehouse="MAIN"), "WarehouseCode", "too_long", "max 3"),
        (so(line={"sku": "X" * 31}), "ItemCode, line 1", "too_long", "max 30"),
        (so(line={"quantity": "1.1234567"}), "QuantityOrdered, line 1", "too_precise", "14.6"),
        (so(line={"quantity": "12345678901"}), "QuantityOrdered, line 1", "too_large", "14.6"),
        (so(line={"quantity": "NaN"}), "QuantityOrdered, line 1", "not_numeric", "decimal"),
        (so(order_date="26/11/2026"), "OrderDate", "bad_date", "date"),
        (so(ship_to={"address_lines": list("abcd")}), "ship_to.address_lines", "too_many", "at most 3"),
        (so(customer_id=None), "ARDivisionNo", "required", "required"),
    ],
)  # fmt: skip
def test_sage_refuses_with_field_and_rule(record: dict[str, Any], field: str, code: str, rule: str) -> None:
    findings, memory = write("sage100", [record])
    finding = next(f for f in findings if f.location.get("field") == field)
    assert finding.code == code
    assert finding.location["record"] == "SO1"
    assert rule in (finding.rule or "")
    assert memory.data == {}, "a refused document writes nothing"


def product(**extra: Any) -> dict[str, Any]:
    return {"doc_type": "product", "doc_id": "P1", "sku": "P1", **extra}


def customer(**extra: Any) -> dict[str, Any]:
    return {"doc_type": "customer", "doc_id": "C1", "customer_id": "C1", "name": "Acme", **extra}


# Lengths and precisions checked against the Sage 100 file layouts (deploy/sage100/README.md):
# the value at the limit is written, one character or digit more is refused.
@pytest.mark.parametrize(
    ("build", "at_limit", "over", "field", "code", "rule"),
    [
        # Sage's 16.6 counts the point and the sign: 8 integer digits and 6 decimals.
        (lambda v: so(line={"quantity": v}), "99999999.999999", "100000000",
         "QuantityOrdered, line 1", "too_large", "QuantityOrdered: decimal, 14.6"),
        (lambda v: so(line={"unit_price": v}), "-99999999.5", "-123456789",
         "UnitPrice, line 1", "too_large", "UnitPrice: decimal, 14.6"),
        (lambda v: adjustment(quantity_change=v), "-99999999", "-100000000",
         "TransactionQty, line 1", "too_large", "TransactionQty: decimal, 14.6"),
        (lambda v: product(unit_cost=v), "12345678.123456", "123456789.1",
         "StandardUnitCost", "too_large", "StandardUnitCost: decimal, 14.6"),
        # CI_Item has no Weight field: ShipWeight is a string of 10.
        (lambda v: product(weight=v), "1234567.25", "12345678.25",
         "ShipWeight", "too_long", "ShipWeight: decimal, max 10"),
        (lambda v: so(customer_po=v), "P" * 15, "P" * 16,
         "CustomerPONo", "too_long", "CustomerPONo: text, max 15"),
        (lambda v: so(ship_to={"city": v}), "C" * 20, "C" * 21,
         "ShipToCity", "too_long", "ShipToCity: text, max 20"),
        (lambda v: so(carrier=v), "V" * 15, "V" * 16,
         "ShipVia", "too_long", "ShipVia: code, max 15, upper-case"),
        (lambda v: customer(name=v), "N" * 30, "N" * 31,
         "CustomerName", "too_long", "CustomerName: text, max 30"),
        (lambda v: customer(bill_to={"address_lines": [v]}), "A" * 30, "A" * 31,
         "AddressLine1", "too_long", "AddressLine1: text, max 30"),
        (lambda v: customer(bill_to={"postal_code": v}), "K1A 0B1 CA", "K1A 0B1 CAN",
         "ZipCode", "too_long", "ZipCode: code, max 10, upper-case"),
    ],
)  # fmt: skip
def test_sage_verified_limits(build: Any, at_limit: str, over: str, field: str, code: str, rule: str) -> None:
    findings, memory = write("sage100", [build(at_limit)])
    assert findings == [], [f.render("in.csv") for f in findings]
    assert memory.data, "the value at the limit is written"
    findings, memory = write("sage100", [build(over)])
    finding = next(f for f in findings if f.location.get("field") == field)
    assert finding.code == code
    assert finding.location["record"] in ("SO1", "A1", "P1", "C1")
    assert (finding.rule or "").endswith(rule)
    assert memory.data == {}, "a refused document writes nothing"


def test_lengths_option_widens_a_column_for_a_newer_release() -> None:
    # Current Sage 100 releases store 50-character customer names (deploy/sage100/README.md).
    findings, memory = write("sage100", [customer(name="N" * 50)], lengths={"CustomerName": 50})
    assert findings == [] and memory.data
    findings, _ = write("sage100", [customer(name="N" * 51)], lengths={"CustomerName": 50})
    assert [f.rule for f in findings] == ["customer: CustomerName: text, max 50"]
    findings, _ = write("sage100", [customer(name="N" * 31)])
    assert [f.code for f in findings] == ["too_long"], "the default stays the older, safer length"


def test_sage_writes_ship_weight_and_an_upper_case_zip_code() -> None:
    findings, memory = write("sage100", [product(weight="0.250")])
    assert findings == []
    text = memory.data["product.in.F1.csv"].decode("cp1252")
    assert text.split("\r\n")[0].endswith(",StandardUnitCost,ShipWeight")
    assert text.endswith(",0.25\r\n")
    findings, memory = write("sage100", [customer(bill_to={"postal_code": "k1a 0b1"})])
    assert findings == []
    assert ",K1A 0B1," in memory.data["customer.in.F1.csv"].decode("cp1252")


def test_sage_refuses_a_count_as_an_adjustment() -> None:
    finding = only(
        write("sage100", [adjustment(mode="count", quantity_change=None, counted_quantity="4")])[0]
    )
    assert finding.code == "required"
    assert finding.location == {"record": "A1", "field": "TransactionQty, line 1"}
    assert "Physical Count" in (finding.rule or "")


def test_windows_1252_refuses_characters_it_cannot_encode() -> None:
    product = {"doc_type": "product", "doc_id": "P1", "sku": "P1", "description": "Schraube 中 M4"}
    finding = only(write("sage100", [product])[0])
    assert finding.code == "unencodable"
    assert finding.location == {"record": "P1", "field": "ItemCodeDesc"}
    assert "U+4E2D" in finding.message and "cp1252" in finding.message
    # The euro sign and accented Latin letters are in Windows-1252 and pass.
    ok, memory = write("sage100", [{**product, "description": "Café 5€"}])
    assert ok == [] and "CAFÉ" not in memory.data["product.in.F1.csv"].decode("cp1252")
    assert "Café 5€".encode("cp1252") in memory.data["product.in.F1.csv"]


def test_explicit_encoding_option_is_enforced_for_netsuite() -> None:
    record = so(line={"description": "Ærø — 5€"})
    assert write("netsuite", [record])[0] == []
    finding = only(write("netsuite", [record], encoding="latin-1")[0])
    assert finding.code == "unencodable" and finding.location["field"] == "Description, line 1"


def test_line_breaks_and_iif_tabs_are_refused() -> None:
    finding = only(write("sage100", [so(ship_to={"name": "Acme\nStores"})])[0])
    assert (finding.code, finding.location["field"]) == ("line_break", "ShipToName")
    product = {"doc_type": "product", "doc_id": "P1", "sku": "P1", "description": "a\tb"}
    findings = write("quickbooks_iif", [product])[0]
    assert {(f.code, f.location["field"]) for f in findings} == {
        ("delimiter_in_value", "DESC"),
        ("delimiter_in_value", "PURCHASEDESC"),
    }


def test_value_map_without_mapping_is_a_finding() -> None:
    findings, _ = write("sage100", [adjustment(reason_code="STOLEN")], value_map="wms_to_sage100")
    finding = only(findings)
    assert finding.code == "unmapped_value"
    assert finding.value == "STOLEN"
    assert "reason_code" in finding.message and "wms_to_sage100" in finding.message


def test_inline_value_map_translates() -> None:
    findings, memory = write("netsuite", [so(warehouse="DC1")], value_map={"warehouse": {"DC1": "East"}})
    assert findings == []
    assert b",East," in memory.data["sales_order.in.F1.csv"]


def test_layout_that_does_not_take_the_document() -> None:
    finding = only(write("sage100.shipment", [so()])[0])
    assert finding.code == "no_layout" and "sage100.shipment layouts: shipment" in (finding.rule or "")


def test_netsuite_receipt_needs_a_purchase_order_and_unique_external_ids() -> None:
    receipt = {"doc_type": "receipt", "doc_id": "R1", "receipt_id": "R1", "received_at": "2026-11-26",
               "lines": [{"sku": "W1", "quantity_received": "1"}]}  # fmt: skip
    finding = only(write("netsuite", [receipt])[0])
    assert finding.location["field"] == "Created From" and "purchase order" in (finding.rule or "")
    findings, _ = write("netsuite", [so(), so()])
    assert only(findings).code == "duplicate_document"


def test_netsuite_without_lines_is_refused_not_dropped() -> None:
    finding = only(write("netsuite", [so(lines=[])])[0])
    assert finding.code == "empty_document"


def test_netsuite_date_format_option() -> None:
    _, memory = write("netsuite", [so()], date_format="%d.%m.%Y")
    assert b",26.11.2026," in memory.data["sales_order.in.F1.csv"]


def test_iif_invoice_balances_and_needs_a_customer() -> None:
    shipment = {"doc_type": "shipment", "doc_id": "S1", "shipment_id": "S1", "ship_date": "2026-11-26",
                "lines": [{"sku": "A", "quantity_shipped": "3", "unit_price": "0.335"},
                          {"sku": "B", "quantity_shipped": "1", "unit_price": "0.005"}]}  # fmt: skip
    findings, _ = write("quickbooks_iif", [shipment])
    assert {f.location["field"] for f in findings} == {"NAME"}
    findings, memory = write("quickbooks_iif", [{**shipment, "extensions": {"customer_id": "Acme"}}])
    assert findings == []
    rows = [r.split("\t") for r in memory.data["invoice.in.F1.iif"].decode("cp1252").split("\r\n") if r]
    amounts = [r[5] for r in rows if r[0] in ("TRNS", "SPL")]
    assert amounts == ["1.02", "-1.01", "-0.01"]
    assert sum(float(a) for a in amounts) == pytest.approx(0)


def test_split_per_document_and_done_files_after_data_files() -> None:
    records = [so(), so(order_number="SO2", doc_id="SO2")]
    findings, memory = write("sage100", records, split="document", done_file=True,
                             file_name="{layout}-{doc_id}-{file_id}.csv")  # fmt: skip
    assert findings == []
    assert memory.opened == ["sales_order-SO1-F1.csv", "sales_order-SO2-F1.csv",
                             "sales_order-SO1-F1.csv.ok", "sales_order-SO2-F1.csv.ok"]  # fmt: skip
    assert memory.data["sales_order-SO1-F1.csv.ok"] == b""
    assert b"SO2" not in memory.data["sales_order-SO1-F1.csv"]


def test_header_off_and_lf_line_endings() -> None:
    _, memory = write("sage100.sales_order", [so()], header=False, line_ending="lf", delimiter="tab")
    assert memory.data["sales_order.in.F1.csv"].startswith(b"H\tSO1\t20261126\t01\tACME\t")
    assert b"\r" not in memory.data["sales_order.in.F1.csv"]


@pytest.mark.parametrize(
    ("fmt", "options", "problem"),
    [
        ("sage100", {"file_name": "out.csv"}, "file_name: must contain {file_id}"),
        ("sage100", {"file_name": "../{file_id}.csv"}, "file_name: must be a plain file name"),
        ("sage100", {"split": "document"}, "with split = 'document' it must contain {doc_id} or {seq}"),
        ("sage100", {"split": "hourly"}, "split: must be one of"),
        ("sage100", {"file_name": "{file_id}{nope}.csv"}, "file_name: not a valid pattern"),
        ("sage100", {"encoding": "klingon"}, "encoding: unknown encoding"),
        ("sage100", {"delimiter": ",,"}, "delimiter: must be one character"),
        ("sage100", {"line_ending": "cr"}, "line_ending: must be one of"),
        ("sage100", {"header": "yes"}, "header: expected true or false"),
        ("sage100", {"done_file": "ok"}, "done_file: expected true, false or a suffix"),
        ("sage100", {"ar_division": "A1"}, "ar_division: must be one or two digits"),
        ("sage100", {"colour": "red"}, "colour: unknown option"),
        ("sage100", {"layouts": ["shipments"]}, "layouts: no sage100 layout named 'shipments'"),
        ("sage100", {"value_map": "no_such_map"}, "value_map: cannot read 'no_such_map'"),
        ("sage100", {"value_map": {"colour": {"a": "b"}}}, "colour: unknown kind"),
        ("netsuite", {"date_format": "%Y"}, "date_format: '%Y' must write a day, a month and a year"),
        ("netsuite", {"adjustment_account": 5}, "adjustment_account: expected a string"),
        ("quickbooks_iif", {"delimiter": ","}, "delimiter: IIF is always tab-delimited"),
        ("quickbooks_iif", {"header": False}, "header: IIF needs its"),
        ("quickbooks_online", {"due_days": 900}, "due_days: must be between 0 and 365"),
        ("sage100", {"lengths": {"CustomerNmae": 50}}, "lengths.CustomerNmae: no column of that name"),
        ("sage100", {"lengths": {"CustomerName": "50"}}, "lengths.CustomerName: expected a whole number"),
        ("netsuite", {"lengths": [50]}, "lengths: expected a table"),
        ("canonical_csv", {"x": 1}, "x: unknown option"),
        ("canonical_csv", {"value_map": "wms_to_sage100"}, "value_map: canonical CSV keeps canonical values"),
    ],
)  # fmt: skip
def test_option_checks(fmt: str, options: dict[str, Any], problem: str) -> None:
    problems = target_problems(plugins.target(fmt), TargetConfig("t", fmt, "local:out", options))
    assert any(problem in p for p in problems), problems


def test_iif_writes_quotes_inside_values_as_they_are_but_not_leading() -> None:
    product = {"doc_type": "product", "doc_id": "P1", "sku": "P1", "description": '12" pipe'}
    findings, memory = write("quickbooks_iif", [product])
    assert findings == []
    assert b'\tP1\tINVENTORY\t12" pipe\t12" pipe\t' in memory.data["item.in.F1.iif"]
    findings, _ = write("quickbooks_iif", [{**product, "description": '"quoted'}])
    assert {f.code for f in findings} == {"leading_quote"}
