"""How outputs reach their destination, chosen by the prefix of a target's `deliver`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from gateway.config import TargetConfig
from gateway.delivery.local import LocalDelivery
from gateway.delivery.sftp import SftpDelivery
from gateway.targets.base import Output


class Delivery(Protocol):
    """Stages outputs and publishes them atomically. **Protocol.**"""

    def staging_path(self, name: str) -> Path:
        """Where the output called `name` is written before it is published."""
        ...

    def open(self, name: str) -> Output:
        """Open the staged file of output `name` for writing; closing it syncs it."""
        ...

    def publish(self, tmp: str, name: str) -> str:
        """Put the staged file in place under `name`; return the final location."""
        ...

    def staged(self, tmp: str) -> bool:
        """Whether the staged file still exists (recovery: not yet published)."""
        ...

    def discard(self, tmp: str) -> None:
        """Drop a staged file that will not be published."""
        ...


DELIVERIES: dict[str, Callable[[TargetConfig], Delivery]] = {
    "local": lambda target: LocalDelivery(target.local_dir),
    "sftp": SftpDelivery,
}


def delivery_for(target: TargetConfig) -> Delivery:
    """The delivery a target's `deliver` setting names (`local:/dir`, `sftp:server:/dir`)."""
    return DELIVERIES[target.deliver.split(":", 1)[0]](target)
