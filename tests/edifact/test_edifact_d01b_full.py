"""D01B message tables in full: groups outside the EANCOM subset the tables once held validate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_edifact import validate

from gateway.config import Config

UNB = "UNB+UNOC:3+5412345000013:14+4012345000009:14+261126:1200+R1'\n"


def _file(tmp_path: Path, kind: str, directory: str, body: list[str]) -> Path:
    version = {"D96A": "D:96A:UN:EAN008", "D01B": "D:01B:UN:EAN010"}[directory]
    segs = [f"UNH+1+{kind}:{version}'", *body]
    text = UNB + "\n".join(segs) + f"\nUNT+{len(segs) + 1}+1'\nUNZ+1+R1'"
    path = tmp_path / f"{kind}_{directory}.edi"
    path.write_bytes(text.encode("latin-1"))
    return path


# Each body uses, besides what the mapping reads, segments and groups of the full D.01B table that
# the old subset lacked (the comments name them); each was reported "not expected" before.
BODIES = {
    "ORDERS": [
        "BGM+220+PO-7+9'", "DTM+137:20261126:102'",
        "GIR+3+LOT-1:BX'",  # header GIR
        "RFF+ON:PO-7'", "NAD+BY+5412345000013::9'",
        "PAT+1++5:3:D:30'", "MOA+12:100'", "GIR+3+LOT-2:BX'", "RJL+12:::Late'",  # SG8-SG9 MOA-GIR-RJL
        "APR+WS+1:CT'", "DTM+194:20261201:102'",  # SG18 APR
        "DGS+ADR+1.1'", "FTX+AAD+++Flammable'", "CTA+IC+:Safety'",  # SG26 DGS-SG27 CTA
        "LIN+1++4000862141404:SRV'", "QTY+21:5'", "MTD+1+2'",  # line MTD
        "PRI+AAA:2.50'", "APR+WS+1:CT'", "APR+WS+2:CT'",  # SG32 PRI-APR
        "STG+1'", "QTY+21:5'",  # SG56 STG-SG57 QTY
        "UNS+S'",
    ],
    "ORDRSP": [
        "BGM+231+RSP-7+4'", "DTM+137:20261126:102'", "RFF+ON:PO-7'",
        "AJT+1'", "FTX+AAI+++Short delivery'",  # SG2 AJT
        "NAD+SU+4012345000009::9'",
        "LIN+1+5+4000862141404:SRV'", "QTY+21:5'",
        "AJT+3'", "FTX+AAI+++Substituted'",  # SG29 AJT in the line
        "UNS+S'",
    ],
    "DESADV": [
        "BGM+351+DES-1+9'", "DTM+11:20261126:102'", "RFF+ON:PO-1001'", "NAD+SF+5412345000020::9'",
        "TDT+20++30'", "TMD+:Full load'",  # TDT's TMD
        "EQD+CN+ABCU1234567'", "EQA+RG+TRAILER1'",  # EQD's EQA
        "CPS+1'", "PAC+1++201'", "PCI+33E'", "GIR+3+LOT-1:BX'",  # SG14 GIR
        "COD+:::Pallet'",  # SG16 COD
        "LIN+1++4000862141404:SRV'", "QTY+12:10:PCE'",
        "CNT+2:1'",
    ],
    "RECADV": [
        "BGM+632+REC-1+9'", "DTM+137:20261126:102'",
        "RFF+ON:PO-1001'", "GEI+PM+1::9'",  # SG1 GEI
        "DOC+270+DN-1'", "CDI+1+:::Good'",  # SG2 DOC-SG3 CDI
        "NAD+BY+5412345000013::9'",
        "TOD+6++EXW'", "LOC+1+DEHAM'",  # SG7 TOD-SG9 LOC
        "TDT+20++30'", "CDI+1+:::Clean'",  # TDT's CDI
        "EQD+CN+ABCU1234567'", "SEL+SEAL-1+CA'", "CDI+1+:::Intact'",  # SG11 EQD-SG13 SEL
        "CPS+1'",
        "LIN+1++4000862141404:SRV'", "QTY+48:10:PCE'", "CDI+1+:::Damaged'",  # SG23 CDI
        "CNT+2:1'",
    ],
    "INVRPT": [
        "BGM+35+ADJ-1001+9'", "DTM+137:202611261030:203'", "NAD+WH+5412345000037::9'",
        "CPS+1'", "PAC+1++201'", "QTY+156:15:PCE'",  # SG6 CPS-SG7 PAC-SG8 QTY
        "LIN+1++4000862141404:SRV'", "INV+1++3'", "QTY+156:15:PCE'", "STS+1+7'",  # INV's STS
        "CPS+2'", "PAC+1++201'", "PCI+33E'", "GIR+3+LOT-1:BX'",  # SG15 CPS-SG17 PCI-SG18 GIR
    ],
    "PRICAT": [
        "BGM+9+PL-2027+9'", "DTM+137:20261126:102'", "NAD+BY+5412345000013::9'", "CUX+2:EUR:8'",
        "TRU+RULE-1'",  # SG16 TRU
        "PGI+11'",
        "EFI+:LOGO.PNG'", "CED+1+:::Windows'",  # SG34 EFI in the product group
        "LIN+1++4000862141404:SRV'", "PIA+5+W-1:SA'", "IMD+F++:::Widget'", "PTY+PR'",  # line PTY
        "PRI+AAA:2.50::::PCE'",
        "HYN+A++++1'",  # SG56 HYN
    ],
    "INVOIC": [
        "BGM+380+INV-1+9'", "DTM+137:20261126:102'",
        "GIS+37'", "DGS+ADR+1.1'",  # header GIS and DGS
        "RFF+ON:PO-7'", "QTY+47:5'",  # SG1 RFF with QTY
        "NAD+SU+4012345000009::9'", "CUX+2:EUR:4'",
        "INP+BY:SU+1'", "FTX+AAI+++Invoice instructions'",  # SG25 INP
        "LIN+1++4000862141404:SRV'", "PGI+11'", "QTY+47:5'",  # line PGI
        "UNS+S'", "MOA+86:12.50'",
    ],
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_groups_outside_the_old_subset_validate(
    tmp_path: Path, make_config: Callable[..., Config], kind: str
) -> None:
    path = _file(tmp_path, kind, "D01B", BODIES[kind])
    # INVOIC has no mapping: that finding is left out.
    assert [f for f in validate(path, make_config()).findings if f.code != "no_mapping"] == []


def test_ordrsp_not_processed(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    # 1225 code 12 (not processed): EANCOM ORDRSP's, in D.96A and D.01B alike.
    body = ["BGM+231+RSP-7+12'", "DTM+137:20261126:102'", "RFF+ON:PO-7'", "NAD+SU+4012345000009::9'"]
    body.append("UNS+S'")
    for directory in ("D96A", "D01B"):
        report = validate(_file(tmp_path, "ORDRSP", directory, body), make_config())
        assert report.valid, (directory, report.findings)
