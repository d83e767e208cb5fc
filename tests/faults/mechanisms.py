"""Real fault mechanisms for the fault tests: small filesystems, immutable folders, and the
service as a real process whose log and ledger the tests watch.

tests/conftest.py loads these fixtures as a plugin. Mounting needs root (CI runs the suite as
root); without it the tests skip locally and fail under CI (`unavailable`).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, unavailable
from tests.waiting import wait_until


def _require(tool: str) -> None:
    if os.geteuid() != 0:
        unavailable("mounting a filesystem of its own needs root")
    if shutil.which(tool) is None:
        unavailable(f"{tool} is missing (tests/run.sh installs it)")


class Tmpfs:
    """A tmpfs of a few megabytes mounted on a folder; `fill` takes every free byte."""

    def __init__(self, folder: Path, size: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)

    def fill(self) -> Path:
        """Write a filler file until the filesystem is full; return it (delete it to make room)."""
        filler = self.folder / "filler"
        with filler.open("ab", buffering=0) as fh, pytest.raises(OSError) as full:
            while fh.write(b"\0" * 4096):
                pass
        assert full.value.errno == errno.ENOSPC, full.value
        return filler

    def resize(self, size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(self.folder)], check=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.folder)], check=True)


@pytest.fixture(name="tmpfs")
def _tmpfs() -> Iterator[Callable[[Path, str], Tmpfs]]:
    _require("mount")
    mounted: list[Tmpfs] = []

    def mount(folder: Path, size: str) -> Tmpfs:
        mounted.append(Tmpfs(folder, size))
        return mounted[-1]

    yield mount
    for fs in reversed(mounted):
        fs.unmount()


@pytest.fixture(name="ext4")
def _ext4(tmp_path: Path) -> Iterator[Path]:
    """A loop-mounted ext4 image (`chattr +i` needs ext2/3/4; tmpfs has no immutable flag)."""
    _require("mkfs.ext4")
    _require("chattr")
    image, folder = tmp_path / "ext4.img", tmp_path / "ext4"
    folder.mkdir()
    with image.open("wb") as fh:
        fh.truncate(32 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-R", "-i", str(folder)], check=False, capture_output=True)
        subprocess.run(["umount", "-d", str(folder)], check=True)


def immutable(path: Path, on: bool = True) -> None:
    """Set or clear the immutable flag: not even root may create, rename or delete in it."""
    subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True)


class Running:
    """`gateway run` as a real process, its JSON log in a file beside the configuration."""

    def __init__(self, config: Path, root: Path, env: Mapping[str, str] | None = None,
                 prefix: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.log_path = config.with_suffix(".log")
        self.root = root
        with self.log_path.open("w") as log:  # a pipe nobody reads would block the service
            command = [sys.executable, "-m", "gateway", "--config", str(config), "run", "--root", str(root)]
            self.proc = subprocess.Popen(
                [*prefix, *command],
                stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            )  # fmt: skip

    def events(self) -> list[dict[str, Any]]:
        """The log's JSON events so far (the last line may still be being written)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]

    def wait_for(self, event: str, count: int = 1, **fields: Any) -> list[dict[str, Any]]:
        """Wait until the log holds `count` events named `event` with these fields."""

        def found() -> list[dict[str, Any]]:
            assert self.proc.poll() is None, f"the service exited ({self.proc.returncode}): {self.tail()}"
            hits = [e for e in self.events() if e.get("event") == event
                    and all(e.get(k) == v for k, v in fields.items())]  # fmt: skip
            return hits if len(hits) >= count else []

        return wait_until(found, what=f"{count} {event} event(s) {fields or ''}", seen=self.tail)

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-8:])

    def stop(self) -> int:
        """A warm stop; the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture(name="serve")
def _serve() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def serve(config: Path, root: Path, **kwargs: Any) -> Running:
        started.append(Running(config, root, **kwargs))
        return started[-1]

    yield serve
    for running in started:
        running.kill()
