"""The safe XML parser: hostile documents are refused quickly and leak nothing."""

from __future__ import annotations

import time
from pathlib import Path

from gateway.formats.xml.safe import XmlLimits, check_prolog, declared_encoding, parse_safely

SECRET = "TOP-SECRET-LINE"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_billion_laughs_is_refused_from_the_prolog(tmp_path: Path) -> None:
    path = _write(tmp_path, "lol.xml", BILLION_LAUGHS)
    started = time.monotonic()
    root, findings = parse_safely(path)
    # Refused in milliseconds; an expansion would run for minutes. The margin is for loaded machines.
    assert time.monotonic() - started < 10.0
    assert root is None
    assert [f.code for f in findings] == ["dtd_refused"]
    assert findings[0].location == {"line": 2}
    assert "declares entities" in findings[0].message


def test_xxe_is_refused_and_leaks_nothing(tmp_path: Path) -> None:
    secret = _write(tmp_path, "secret.txt", SECRET.encode())
    doc = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'
    root, findings = parse_safely(_write(tmp_path, "xxe.xml", doc.encode()))
    assert root is None and findings[0].code == "dtd_refused"
    assert all(SECRET not in str(f.to_dict()) for f in findings)


def test_external_dtd_is_never_loaded(tmp_path: Path) -> None:
    dtd = _write(tmp_path, "evil.dtd", f'<!ENTITY x "{SECRET}">'.encode())
    doc = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{dtd.as_uri()}"><r><a>&x;</a></r>'
    root, findings = parse_safely(_write(tmp_path, "ext.xml", doc.encode()))
    assert root is None
    assert [f.code for f in findings] == ["entity_reference"]
    assert SECRET not in str(findings[0].to_dict())


def test_external_dtd_reference_without_entities_is_accepted(tmp_path: Path) -> None:
    doc = b'<?xml version="1.0"?>\n<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd">\n<cXML/>'
    root, findings = parse_safely(_write(tmp_path, "c.xml", doc))
    assert findings == [] and root.tag == "cXML"


def test_parameter_entity_is_refused(tmp_path: Path) -> None:
    doc = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><r/>'
    _, findings = parse_safely(_write(tmp_path, "pe.xml", doc))
    assert findings[0].code == "dtd_refused"


def test_doctype_text_inside_data_is_not_a_prolog(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.xml", b"<r><![CDATA[<!DOCTYPE x [ ]>]]></r>")
    assert check_prolog(path) == []


def test_truncated_and_depth_and_size(tmp_path: Path) -> None:
    _, findings = parse_safely(_write(tmp_path, "t.xml", b"<?xml version='1.0'?>\n<r>\n<a>1</a>\n<b>"))
    assert findings[0].code == "malformed_xml" and findings[0].location["line"] == 4
    deep = b"<a>" * 50 + b"</a>" * 50
    _, findings = parse_safely(_write(tmp_path, "deep.xml", deep), XmlLimits(max_depth=10))
    assert findings[0].code == "too_deep" and findings[0].rule == "xml_max_depth 10"
    _, findings = parse_safely(
        _write(tmp_path, "big.xml", b"<r>" + b" " * 100 + b"</r>"), XmlLimits(max_bytes=50)
    )
    assert findings[0].code == "too_large"


def test_limits_from_source_options() -> None:
    # Bad values never get here: the configuration refuses them (tests/core/test_core_plugin_options.py).
    limits = XmlLimits.from_options({"xml_max_depth": 12, "xml_huge_tree": True})
    assert limits.max_depth == 12 and limits.max_bytes == XmlLimits().max_bytes and limits.huge_tree


def test_declared_encoding() -> None:
    assert declared_encoding(b'<?xml version="1.0" encoding="ISO-8859-1"?><r/>') == "ISO-8859-1"
    assert declared_encoding(b"<r/>") is None


def test_entity_in_an_attribute_is_refused_not_dropped(tmp_path: Path) -> None:
    dtd = _write(tmp_path, "evil.dtd", f'<!ENTITY x "{SECRET}">'.encode())
    doc = f'<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "{dtd.as_uri()}">\n<r a="&amp;"><b c="&x;"/></r>'
    root, findings = parse_safely(_write(tmp_path, "attr.xml", doc.encode()))
    assert root is None
    assert [(f.code, f.location) for f in findings] == [("entity_reference", {"line": 3})]
