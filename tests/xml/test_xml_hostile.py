"""Hostile and broken XML through the whole service: quarantined fast, nothing leaks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

SECRET = "S3CRET-XML-LEAK-CANARY"

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n' for i in range(1, 10)
    )
    + "]>\n<Products><Product><SKU>&lol9;</SKU></Product></Products>\n"
)


def _hostile(tmp_path: Path) -> dict[str, bytes]:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY leak "{SECRET}">', encoding="utf-8")
    return {
        "laughs.xml": BILLION_LAUGHS.encode(),
        "xxe.xml": (
            f'<?xml version="1.0"?>\n<!DOCTYPE Products [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n'
            "<Products><Product><SKU>&x;</SKU></Product></Products>\n"
        ).encode(),
        "external-dtd.xml": (
            f'<?xml version="1.0"?>\n<!DOCTYPE Products SYSTEM "{dtd.as_uri()}">\n'
            "<Products><Product><SKU>&leak;</SKU></Product></Products>\n"
        ).encode(),
        "attribute-entity.xml": (
            f'<?xml version="1.0"?>\n<!DOCTYPE Products SYSTEM "{dtd.as_uri()}">\n'
            '<Products><Product action="&leak;"><SKU>A</SKU></Product></Products>\n'
        ).encode(),
        "junk-markup.xml": b"<\xc3\x28\xa0\xa1 garbage \xff\xfe>",
        "wrong-namespace.xml": b'<?xml version="1.0"?>\n<DespatchAdvice xmlns="urn:example:not-ubl"/>\n',
        "wrong-encoding.xml": (
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b"<Products><Product><SKU>M\xfcller</SKU></Product></Products>\n"
        ),
        "unknown-encoding.xml": b'<?xml version="1.0" encoding="x-klingon"?>\n<Products/>\n',
        "truncated.xml": b'<?xml version="1.0"?>\n<Products>\n<Product><SKU>A</SKU></Product>\n<Product><SK',
        "junk.xml": b"<\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }


EXPECTED = {
    "laughs.xml": ("validate", "dtd_refused"),
    "xxe.xml": ("validate", "dtd_refused"),
    "external-dtd.xml": ("validate", "entity_reference"),
    "attribute-entity.xml": ("validate", "entity_reference"),
    "junk-markup.xml": ("validate", "malformed_xml"),
    "wrong-namespace.xml": ("validate", "wrong_namespace"),
    "wrong-encoding.xml": ("decode", "undecodable"),
    "unknown-encoding.xml": ("decode", "unknown_encoding"),
    "truncated.xml": ("validate", "malformed_xml"),
    "junk.xml": ("detect", "binary"),
}


def test_hostile_files_are_quarantined_and_leak_nothing(tmp_path: Path, root: Path) -> None:
    files = _hostile(tmp_path)
    for name, data in files.items():
        (root / "inbound" / name).write_bytes(data)
    result = run_cli("run", "--once", "--root", root, timeout=180)  # none of them hangs the gateway
    assert result.returncode == 0, result.stderr
    errors = {}
    for folder in (root / "quarantine").iterdir():
        error = json.loads((folder / "error.json").read_text(encoding="utf-8"))
        errors[error["original_name"]] = error
        assert SECRET not in (folder / "error.txt").read_text(encoding="utf-8")
        assert SECRET not in json.dumps(error)
    assert set(errors) == set(files)
    for name, (stage, code) in EXPECTED.items():
        assert (errors[name]["stage"], errors[name]["errors"][0]["code"]) == (stage, code), name
    assert errors["laughs.xml"]["errors"][0]["location"] == {"line": 2}
    assert errors["attribute-entity.xml"]["errors"][0]["location"] == {"line": 3}
    assert errors["truncated.xml"]["errors"][0]["location"]["line"] == 4
    assert errors["wrong-encoding.xml"]["errors"][0]["location"] == {"line": 2, "column": 26}
    assert SECRET not in result.stdout + result.stderr
    outbound = root / "outbound"
    for path in outbound.rglob("*") if outbound.exists() else ():
        assert not path.is_file() or SECRET not in path.read_text(encoding="utf-8", errors="replace")
    assert not list(outbound.rglob("*.jsonl")) if outbound.exists() else True


def test_depth_limit_from_source_options(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[[source]]\nname = "in"\nxml_max_depth = 5\n', encoding="utf-8")
    deep = tmp_path / "deep.xml"
    deep.write_text("<Products>" + "<a>" * 10 + "</a>" * 10 + "</Products>", encoding="utf-8")
    result = run_cli("validate", deep, "--json", "--config", config, "--root", tmp_path / "r")
    assert result.returncode == 1
    (report,) = json.loads(result.stdout)
    assert report["errors"][0]["code"] == "too_deep"
    assert report["errors"][0]["rule"] == "xml_max_depth 5"
