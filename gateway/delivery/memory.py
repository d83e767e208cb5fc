"""A delivery into memory, for tests and embedding: published outputs are a dict `name → bytes`.

It keeps the contract of `Delivery` (registry.py) exactly as the local folder does: an output is
staged under a temporary location, `publish` replaces any output of the same name and removes
the staged one (and fails when it is gone), `staged` answers whether a publish is still to come,
`discard` forgets a staged output and is harmless when there is none. `reachable = False` makes
it refuse to stage or publish, as an unmounted folder or a server that is down would.
"""

from __future__ import annotations

from pathlib import Path

from gateway.delivery.local import TMP_SUFFIX
from gateway.errors import DeliveryFailed


class MemoryOutput:
    """A staged output being written; the bytes land in the delivery's staging area."""

    def __init__(self, buffer: bytearray) -> None:
        self.buffer = buffer

    def write(self, data: bytes, /) -> int:
        """Append bytes."""
        self.buffer += data
        return len(data)

    def close(self) -> None:
        """Nothing to flush: the bytes are in place as they are written."""


class MemoryDelivery:
    """Outputs kept in `published` (and, until published, in `staging`), by name."""

    def __init__(self, label: str = "memory") -> None:
        self.label = label
        self.staging: dict[str, bytearray] = {}
        self.published: dict[str, bytes] = {}
        self.reachable = True

    def staging_path(self, name: str) -> Path:
        """The staged location of output `name`: a key, beside its final name as in a folder."""
        return Path(self.label) / (name + TMP_SUFFIX)

    def open(self, name: str) -> MemoryOutput:
        """Stage output `name` afresh (an earlier staged one of that name is overwritten)."""
        self._check(f"cannot write {name}")
        buffer = self.staging[str(self.staging_path(name))] = bytearray()
        return MemoryOutput(buffer)

    def publish(self, tmp: str, name: str) -> str:
        """Move the staged output to `published[name]`; return its location."""
        self._check(f"cannot publish {name}")
        data = self.staging.pop(tmp, None)
        if data is None:
            raise DeliveryFailed(f"cannot publish {name}: {tmp} is not staged")
        self.published[name] = bytes(data)
        return f"{self.label}/{name}"

    def staged(self, tmp: str) -> bool:
        """Whether a staged output is still waiting to be published."""
        return tmp in self.staging

    def discard(self, tmp: str) -> None:
        """Forget a staged output that will not be published."""
        self.staging.pop(tmp, None)

    def _check(self, what: str) -> None:
        if not self.reachable:
            raise DeliveryFailed(f"{what}: {self.label} is unreachable")
