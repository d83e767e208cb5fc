"""The IDoc tables against SAP's own XML schemas of the basic types.

`sap_schemas.toml` holds what SAP's schemas say (extracted data, each table naming the public
file and commit it comes from): every segment's fields with their lengths in SDATA order, and
every segment's parent and occurrences. `schemas/idoc/` must say the same, field for field,
save for the release differences named here with their reason.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from gateway.formats.idoc import schema as idoc_schema

EXTRACT = tomllib.loads((Path(__file__).parent / "sap_schemas.toml").read_text(encoding="utf-8"))
LISTINGS: dict[str, dict[str, str]] = EXTRACT.pop("listings")
SAP = EXTRACT

#: (our basic type, the SAP schema it follows, segments it has beyond that schema).
STRUCTURES = [
    ("INVOIC02", "INVOIC02", set()),
    ("DELVRY03", "DELVRY03", set()),
    ("DELVRY07", "DELVRY03", set()),
    ("MATMAS05", "MATMAS04", {"E1CUCFG", "E1CUINS", "E1CUVAL"}),
]
#: Occurrences a table keeps narrower than SAP's, with the reason: the mappings make one
#: product of one E1MARAM and one despatch advice of one E1EDL20, so a second one is a
#: finding, never a material or a delivery left out.
OCCURRENCES = {
    ("MATMAS05", "E1MARAM"): (1, 1),
    ("DELVRY03", "E1EDL20"): (1, 1),
    ("DELVRY07", "E1EDL20"): (1, 1),
}
#: SAP's "unbounded" (maxOccurs 0 in the extract) is this many in a table.
UNBOUNDED = 999999


def parsed(fields: str, segment: str) -> list[tuple[str, int]]:
    pairs = (item.rsplit(":", 1) for item in fields.split())
    return [(name, int(length)) for name, length in pairs]


def sap_fields(schema: str, segment: str) -> list[tuple[str, int]]:
    return parsed(SAP[schema]["fields"][segment], segment)


def test_the_extract_names_its_sources() -> None:
    assert set(SAP) == {"ORDERS05", "DELVRY03", "INVOIC02", "MATMAS04"}
    for table in SAP.values():
        assert table["source"].startswith("https://github.com/")
        assert "/blob/" in table["source"] and table["source"].endswith(".xsd")
        assert set(table["fields"]) == {row[0] for row in table["structure"]}
    # A listing names its page, or the document it was printed in when it has no address.
    assert all(listing["source"].startswith(("https://", "document: ")) for listing in LISTINGS.values())


def test_every_layout_has_sap_s_fields_at_sap_s_offsets() -> None:
    """Each segment of every SAP schema: our fields are SAP's, in SAP's order, with SAP's
    lengths, and none of SAP's is missing. Where two schemas are of different releases the
    older lists fewer trailing fields, so a table may go on past one schema's end."""
    layouts = idoc_schema.segment_types()
    problems = []
    for schema, table in SAP.items():
        for segment in table["fields"]:
            layout = layouts.get(segment)
            if layout is None:
                problems.append(f"{schema}: no layout for {segment}")
                continue
            ours = [(f.name, f.length) for f in layout.fields]
            sap = sap_fields(schema, segment)
            common = min(len(ours), len(sap))
            if ours[:common] != sap[:common]:
                at = next(i for i in range(common) if ours[i] != sap[i])
                problems.append(f"{schema} {segment} field {at}: ours {ours[at]}, SAP's {sap[at]}")
            elif len(ours) < len(sap):
                problems.append(f"{schema} {segment}: ours stops before {sap[len(ours)][0]}")
    assert problems == []


def test_basic_types_have_sap_s_segments_parents_and_occurrences() -> None:
    """Every segment of SAP's schema, in SAP's order, under SAP's parent, as often as SAP
    allows it; a table's own further segments are only those named in STRUCTURES."""
    for ours_name, schema, extra in STRUCTURES:
        ours = idoc_schema.basic_type(ours_name)
        assert ours is not None
        expected = [
            (name, parent, *OCCURRENCES.get((ours_name, name), (low, high or UNBOUNDED)))
            for name, parent, low, high in SAP[schema]["structure"]
        ]
        mine = [(n.name, n.parent, n.min, n.max) for n in ours.nodes.values() if n.name not in extra]
        assert mine == expected, ours_name
        assert set(ours.nodes) - {row[0] for row in expected} == extra, ours_name


def test_segments_without_a_schema_agree_with_sap_s_listing() -> None:
    """DEBMAS07's and COND_A04's segments, as far as SAP's data dictionary listing goes: the
    customer's name and address, the company code's terms, the condition key's material and the
    price sit at SAP's offsets in a flat file."""
    layouts = idoc_schema.segment_types()
    for segment, listing in LISTINGS.items():
        sap = parsed(listing["fields"], segment)
        ours = [(f.name, f.length) for f in layouts[segment].fields]
        assert ours[: len(sap)] == sap, segment
        if "names" in listing:
            assert [name for name, _ in ours] == listing["names"].split(), segment


def test_flat_files_place_only_what_sap_publishes() -> None:
    """A flat file reads and writes a field only where an SAP source gives its width: where a
    table goes on past SAP's listing, `flat_documented_through` stops at the listing's end;
    every segment a shipped basic type uses is covered by an SAP schema, a listing, or places
    nothing in a flat file."""
    layouts = idoc_schema.segment_types()
    for segment, listing in LISTINGS.items():
        layout = layouts[segment]
        sap = parsed(listing["fields"], segment)
        if len(layout.fields) > len(sap):
            assert layout.documented_end == layout.fields[len(sap) - 1].end, segment
        else:
            assert layout.documented_end is None, segment
    covered = set(LISTINGS) | {name for table in SAP.values() for name in table["fields"]}
    used = {name for basic_type in idoc_schema.shipped() for name in idoc_schema.basic_type(basic_type).nodes}  # type: ignore[union-attr]
    unplaced = {name for name in used - covered if layouts[name].documented_end == 0}
    assert used - covered - unplaced == set()
    assert unplaced == {"E1KNVPM", "E1KONM"}


def test_no_table_refuses_what_sap_s_schema_allows() -> None:
    """ORDERS05's occurrences differ from the schema's release, but never downwards: a genuine
    IDoc with a 300-line text (E1EDKT2) must not be refused as too many segments."""
    for ours_name, schema in (("ORDERS05", "ORDERS05"), *((o, s) for o, s, _ in STRUCTURES)):
        ours = idoc_schema.basic_type(ours_name)
        assert ours is not None
        for name, parent, low, high in SAP[schema]["structure"]:
            node = ours.nodes[name]
            allowed = OCCURRENCES.get((ours_name, name), (low, high or UNBOUNDED))
            assert node.parent == parent, (ours_name, name)
            assert node.min <= allowed[0] and node.max >= allowed[1], (ours_name, name, node)
