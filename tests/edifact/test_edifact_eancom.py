"""What EANCOM makes mandatory in DESADV, RECADV and INVRPT, checked by re-reading every
interchange the EDIFACT target writes with pydifact, a reader nobody here wrote.

EANCOM 2002 (GS1, eancom.com, Part II): DESADV names buyer, supplier and delivery party (SG2 NAD
BY, SU, DP); INVRPT "Identification of the parties exchanging the message is mandatory"; LIN
carries the GTIN in C212, with 7143 EN in EANCOM 97 (D.96A) and SRV in EANCOM 2002 (D.01B);
the packing hierarchy is CPS 1 for the consignment and CPS n with parent 1 for each package.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from test_edifact_roundtrip import ADJUSTMENT, PARTNER, RECEIPT, SHIPMENT, _write

from gateway.canonical.build import record_from_dict

BUYER_OF_DESADV, SUPPLIER_OF_DESADV = PARTNER["receiver"], PARTNER["sender"]


def _messages(data: dict[str, Any], directory: str) -> dict[str, list[tuple[str, list[Any]]]]:
    """Each message of the interchange written for `data`, as pydifact reads it: (tag, elements)."""
    from pydifact.segmentcollection import Interchange

    written, findings = _write([record_from_dict(dict(data))], directory=directory)
    assert findings == []
    with warnings.catch_warnings():  # pydifact has no XML for these directories; it still parses
        warnings.simplefilter("ignore")
        interchange = Interchange.from_str(written.decode("latin-1"))
        out = {str(m.type): [(s.tag, s.elements) for s in m.segments] for m in interchange.get_messages()}
        tags = [s.tag for s in interchange.segments]
    # UNT counts UNH..UNT: the segments pydifact gives the message plus those two.
    (unt,) = [s for s in interchange.segments if s.tag == "UNT"]
    assert int(unt.elements[0]) == tags.index("UNT") - tags.index("UNH") + 1
    return out


def _nads(segments: list[tuple[str, list[Any]]]) -> dict[str, list[str]]:
    return {e[0]: e[1] for tag, e in segments if tag == "NAD"}


def _lins(segments: list[tuple[str, list[Any]]]) -> list[list[Any]]:
    return [e for tag, e in segments if tag == "LIN"]


@pytest.mark.parametrize(("directory", "gtin_type"), [("D96A", "EN"), ("D01B", "SRV")])
def test_desadv(directory: str, gtin_type: str) -> None:
    (segments,) = _messages(SHIPMENT, directory).values()
    nads = _nads(segments)
    assert nads["BY"] == [BUYER_OF_DESADV, "", "9"]
    assert nads["SU"] == [SUPPLIER_OF_DESADV, "", "9"]
    assert nads["DP"] == ["4012345000009", "", "9"]  # the shipment's ship-to, a GLN
    assert nads["SF"] == ["WH1", "", "92"]
    # Every line: LIN with its GTIN, the number the directory's EANCOM gives a GTIN.
    assert sorted(map(str, _lins(segments))) == sorted(
        map(str, [["2", "", ["4000862141428", gtin_type]], ["1", "", ["4000862141404", gtin_type]]])
    )
    cps = [e for tag, e in segments if tag == "CPS"]
    assert cps == [["1"], ["2", "1"]]  # the consignment, then its one package
    shipped = [e[0] for tag, e in segments if tag == "QTY" and e[0][0] == "12"]
    assert shipped == [["12", "1"], ["12", "5", "PCE"]]
    assert ("GIN", ["BJ", "354123450000000014"]) in segments


def test_desadv_delivery_party_is_the_buyer_without_a_ship_to() -> None:
    shipment = {**SHIPMENT, "extensions": {}}
    (segments,) = _messages(shipment, "D96A").values()
    assert _nads(segments)["DP"] == [BUYER_OF_DESADV, "", "9"]
    elsewhere = {**SHIPMENT, "extensions": {"ship_to": {"id": "STORE-17", "scheme": "buyer"}}}
    (segments,) = _messages(elsewhere, "D96A").values()
    assert _nads(segments)["DP"] == ["STORE-17", "", "92"]


@pytest.mark.parametrize(("directory", "gtin_type"), [("D96A", "EN"), ("D01B", "SRV")])
def test_recadv(directory: str, gtin_type: str) -> None:
    (segments,) = _messages(RECEIPT, directory).values()
    # The buyer received the goods and sends the advice; the supplier receives it.
    assert _nads(segments) == {
        "BY": [PARTNER["sender"], "", "9"], "SU": [PARTNER["receiver"], "", "9"], "DP": ["WH1", "", "92"],
    }  # fmt: skip
    assert _lins(segments) == [["1", "", ["4000862141404", gtin_type]]]
    assert [e for tag, e in segments if tag == "CPS"] == [["1"]]
    quantities = {e[0][0]: e[0][1] for tag, e in segments if tag == "QTY"}
    assert quantities == {"12": "10", "194": "8", "195": "2"}


@pytest.mark.parametrize(("directory", "gtin_type"), [("D96A", "EN"), ("D01B", "SRV")])
def test_invrpt(directory: str, gtin_type: str) -> None:
    (segments,) = _messages(ADJUSTMENT, directory).values()
    assert _nads(segments) == {
        "GY": [PARTNER["sender"], "", "9"], "GO": [PARTNER["receiver"], "", "9"], "WH": ["WH1", "", "92"],
    }  # fmt: skip
    gtins = [["1", "", ["4000862141435", gtin_type]], ["2", "", ["4000862141442", gtin_type]]]
    assert _lins(segments) == gtins
    quantities = [e[0] for tag, e in segments if tag == "QTY"]
    assert quantities == [["156", "15", "PCE"], ["145", "40", "PCE"]]


@pytest.mark.parametrize("data", [SHIPMENT, RECEIPT, ADJUSTMENT])
def test_a_line_without_gtin_is_refused_under_eancom_and_written_without(data: dict[str, Any]) -> None:
    lines = [{k: v for k, v in line.items() if k != "gtin"} for line in data["lines"]]
    record = record_from_dict({**data, "lines": lines})
    written, findings = _write([record])
    assert written == b""
    (finding,) = findings
    assert finding.code == "unwritable" and finding.location["line_no"] in {ln["line_no"] for ln in lines}
    written, findings = _write([record], association="")  # plain UN/EDIFACT: every line, no GTIN
    assert findings == [] and written.count(b"\nLIN+") == len(lines)
