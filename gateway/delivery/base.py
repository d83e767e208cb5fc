"""What a delivery is: how a target's outputs reach their destination, staged then published.

A delivery kind is registered in the `gateway.deliveries` entry point group under the prefix of
a target's `deliver` setting (`local:/dir`, `sftp:server:/dir`); the class builds a target's
delivery and checks the rest of the setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from gateway import plugins
from gateway.config import TargetConfig
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


@runtime_checkable
class Deferring(Protocol):
    """A delivery that can publish many outputs with one sync of its destination at the end
    (group commit). **Protocol.**"""

    def rename(self, tmp: str, name: str) -> str:
        """`publish` without making it durable yet: `sync` must follow before the ledger
        records the output as published."""
        ...

    def sync(self) -> None:
        """Make every `rename` so far durable."""
        ...

    #: While a list: outputs opened leave their fsync to the caller, who syncs the files listed
    #: (`sync_files`) before their intents are recorded.
    deferred: list[Path] | None


class DeliveryKind(Protocol):
    """What a `gateway.deliveries` entry point names. **Protocol.**"""

    def for_target(self, target: TargetConfig) -> Delivery:
        """The delivery of `target`'s outputs."""
        ...

    def problems(self, deliver: str) -> list[str]:
        """Problems with a `deliver` setting of this kind, each as `deliver: problem`."""
        ...


def delivery_for(target: TargetConfig) -> Delivery:
    """The delivery a target's `deliver` setting names (`local:/dir`, `sftp:server:/dir`)."""
    return plugins.delivery(target.deliver.split(":", 1)[0]).for_target(target)
