"""What IDoc values mean: prices per one order unit, batch characteristics, SAP's field offsets.

Expected values are worked out by hand from the files, never copied from the gateway's output.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_idoc import SAMPLES, codes, read

from gateway.config import Config
from gateway.formats.idoc import schema as idoc_schema

ORDERS01 = SAMPLES / "orders01-sap620-flat-hlevel.idoc"
SDATA = idoc_schema.records()["EDI_DD40"].by_name["SDATA"].offset


def test_e1edka1_offsets_are_sap_s() -> None:
    """A 6.20 flat E1EDKA1 from SAP (bots-plugins ORDERS01001.idoc) has BNAME at SDATA offset
    713, ILNNR at 873 and SPRAS_ISO at 978: IHREZ (30) sits between FCODE (ends 683) and BNAME."""
    ka1 = idoc_schema.segment_types()["E1EDKA1"].by_name
    assert (ka1["IHREZ"].offset, ka1["BNAME"].offset) == (683, 713)
    assert (ka1["PAORG"].offset, ka1["ORGTX"].offset, ka1["PAGRU"].offset) == (748, 778, 813)
    assert (ka1["ILNNR"].offset, ka1["SPRAS_ISO"].offset) == (873, 978)


def test_delivery_layouts_are_sap_s() -> None:
    """Offsets from SAP's XML schema of DELVRY03 (maxLength of each field, summed by hand)."""
    layouts = idoc_schema.segment_types()
    l24 = layouts["E1EDL24"].by_name
    # MATWA_GUID ends at 852 and ZUDAT (20) at 872; then VFDAT 8, RMA_NUMBER 20, RMA_COMPLETE 1,
    # EXPIRY_DATE_EXT 16, VGBEL 10, VGPOS 6, FOLLOW_UP_CODE 4, ORMNG 15.
    assert [(n, l24[n].offset, l24[n].length) for n in ("VFDAT", "VGBEL", "VGPOS", "ORMNG")] == [
        ("VFDAT", 872, 8), ("VGBEL", 917, 10), ("VGPOS", 927, 6), ("ORMNG", 937, 15),
    ]  # fmt: skip
    assert layouts["E1EDL15"].by_name["ATWRT"].offset == 70
    assert layouts["E1EDL44"].by_name["VEMNG"].length == 17
    assert layouts["E1EDL18"].by_name["PARAM"].length == 20


def test_sap620_flat_orders01(make_config: Callable[..., Config]) -> None:
    """The synthetic twin of a real SAP 6.20 ORDERS01: E2 names with versions, HLEVEL 01 on
    E2EDK01003 and 02 on the other top-level segments with PSGNUM 000000, trimmed records,
    and a price per carton (PMENE CT) on a line ordered in pieces (MENEE PCE)."""
    records, report = read(ORDERS01, make_config)
    assert report.valid, [f.to_dict() for f in report.findings]
    (po,) = records
    assert (po["doc_type"], po["po_number"]) == ("purchase_order", "4200007781")
    assert po["vendor_id"] == "0000070012"
    assert (po["order_date"], po["expected_date"], po["currency"]) == ("2026-03-12", "2026-03-16", "EUR")
    first, second = po["lines"]
    # 18.60 EUR per 1 CT, and 1 CT = 120 PCE (BPUMZ 1 / BPUMN 120): 18.60 / 120 = 0.155 per PCE.
    assert (first["quantity"], first["uom"], first["unit_price"]) == ("240.000", "PCE", "0.155")
    assert first["extensions"]["price_as_sent"] == "18.60"
    assert first["extensions"]["price_basis"] == "1"
    assert first["extensions"]["price_basis_unit"] == "CT"
    assert first["extensions"]["price_conversion"] == "1/120"
    assert (first["sku"], first["vendor_sku"]) == ("50100045", "VND-55-120")
    assert first["description"] == "Kantoorklem 25 mm"
    # 415.00 EUR per 100 PCE: 4.15 per PCE (12 PCE make the NETWR 49.80).
    assert (second["unit_price"], second["extensions"]["price_basis"]) == ("4.15", "100")
    assert "price_conversion" not in second["extensions"]
    assert second["gtin"] == "4006381333931"


def _padded(path: Path) -> list[str]:
    return [line.ljust(SDATA + 1000) for line in path.read_text(encoding="ascii").splitlines()]


def _set(line: str, field: str, value: str) -> str:
    f = idoc_schema.segment_types()["E1EDP01"].by_name[field]
    at = SDATA + f.offset
    return line[:at] + value.ljust(f.length) + line[at + f.length :]


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [("PEINH", "0", "PEINH"), ("BPUMN", "", "BPUMZ"), ("BPUMZ", "", "BPUMZ")],
)
def test_a_price_that_cannot_be_brought_to_one_unit_is_an_error(
    tmp_path: Path, make_config: Callable[..., Config], field: str, value: str, named: str
) -> None:
    lines = _padded(ORDERS01)
    at = next(i for i, line in enumerate(lines) if line.startswith("E2EDP01003"))
    lines[at] = _set(lines[at], field, value)
    path = tmp_path / "po.idoc"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    records, report = read(path, make_config)
    assert records == []
    assert codes(report) == ["invalid_value"]
    assert report.findings[0].location["field"] == named
    assert report.findings[0].location["segment"] == "E2EDP01003"  # as the file names it


DELIVERY = """<DELVRY07><IDOC BEGIN="1">
<EDI_DC40 SEGMENT="1"><TABNAM>EDI_DC40</TABNAM><DOCNUM>0000000000000777</DOCNUM>
<IDOCTYP>DELVRY07</IDOCTYP><MESTYP>DESADV</MESTYP><SNDPRN>WHS</SNDPRN></EDI_DC40>
<E1EDL20 SEGMENT="1"><VBELN>0080001234</VBELN>
<E1EDL24 SEGMENT="1"><POSNR>000010</POSNR><MATNR>CHEM-7</MATNR><CHARG>B2026-03</CHARG>
<LFIMG>4.000</LFIMG><VRKME>KGM</VRKME>
<E1EDL15 SEGMENT="1"><ATNAM>LOBM_VFDAT</ATNAM><ATBEZ>Shelf life expiration date</ATBEZ>
<ATWRT>{expiry}</ATWRT></E1EDL15>
<E1EDL15 SEGMENT="1"><ATNAM>LOBM_HSDAT</ATNAM><ATWRT>{made}</ATWRT></E1EDL15>
<E1EDL15 SEGMENT="1"><ATNAM>PURITY</ATNAM><ATWRT>99.5</ATWRT></E1EDL15>
</E1EDL24></E1EDL20></IDOC></DELVRY07>
"""


@pytest.mark.parametrize(
    ("expiry", "made", "iso_expiry", "iso_made"),
    [
        ("31.12.2027", "02.01.2026", "2027-12-31", "2026-01-02"),  # DD.MM.YYYY (date format 1)
        ("12/31/2027", "01-02-2026", "2027-12-31", "2026-01-02"),  # MM/DD/YYYY, MM-DD-YYYY (2, 3)
        ("2027.12.31", "20260102", "2027-12-31", "2026-01-02"),  # YYYY.MM.DD (4), internal
    ],
)
def test_batch_characteristics_stay_with_the_batch(
    tmp_path: Path, make_config: Callable[..., Config], expiry: str, made: str, iso_expiry: str, iso_made: str
) -> None:
    path = tmp_path / "delivery.xml"
    path.write_text(DELIVERY.format(expiry=expiry, made=made), encoding="utf-8")
    records, report = read(path, make_config)
    assert report.valid, [f.to_dict() for f in report.findings]
    (line,) = records[0]["lines"]
    assert (line["lot"], line["expiry"]) == ("B2026-03", iso_expiry)
    assert line["extensions"]["production_date"] == iso_made
    assert line["extensions"]["batch_characteristics"] == {
        "LOBM_VFDAT": expiry, "LOBM_HSDAT": made, "PURITY": "99.5",
    }  # fmt: skip


def test_an_unreadable_expiry_characteristic_is_an_error(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    path = tmp_path / "delivery.xml"
    path.write_text(DELIVERY.format(expiry="31.02.2027", made="20260102"), encoding="utf-8")
    records, report = read(path, make_config)
    assert records == []
    assert codes(report) == ["bad_date"]
    assert report.findings[0].value == "31.02.2027"
    assert report.findings[0].location["segment"] == "E1EDL15"


def test_batch_characteristics_in_a_flat_idoc(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    """E1EDL15 at SAP's offsets (ATINN 10, ATNAM 30, ATBEZ 30, ATWRT 30), under the E1EDL24 of
    batch sub-item 900002 (segment 9), appended as segment 14: PSGNUM places it."""
    sample = SAMPLES / "delvry07-delivery-hu-batches.idoc"
    lines = sample.read_text(encoding="ascii").splitlines()
    control = lines[1][30:49]  # MANDT and DOCNUM of the data records
    sdata = "".ljust(10) + "LOBM_HSDAT".ljust(30) + "Date of manufacture".ljust(30) + "15.01.2026".ljust(30)
    lines.append("E2EDL15000".ljust(30) + control + "000014" + "000009" + "04" + sdata)
    path = tmp_path / "delivery.idoc"
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    records, report = read(path, make_config)
    assert report.valid, [f.to_dict() for f in report.findings]
    by_line = {ln["line_no"]: ln for ln in records[0]["lines"]}
    assert by_line["900002"]["extensions"]["production_date"] == "2026-01-15"
    assert by_line["900002"]["extensions"]["batch_characteristics"] == {"LOBM_HSDAT": "15.01.2026"}
    assert by_line["900002"]["expiry"] == "2028-01-31"  # E1EDL24 VFDAT, as the sample gives it
    assert "production_date" not in by_line["900001"]["extensions"]
