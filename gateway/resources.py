"""Where schema data lives: the shipped `schemas/`, and a site's own folder in front of it.

The repository keeps the top-level `schemas/` folder users know; `gateway/schemas` is a symbolic
link to it, which the wheel build copies as package data, so both the checkout and an installed
gateway find the same files through `importlib.resources`.

A site may keep its own layouts, schemas and value maps in a folder (`schemas_dir` in the
configuration) laid out like `schemas/`: a file there wins over the shipped file of the same
relative path, and a new file there adds to the shipped ones. Loaders ask `path` for one file
and `listing` for a folder, and cache with `cached`, whose caches are emptied when the site
folder changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, Final, TypeVar

SCHEMAS: Final = Path(str(files("gateway") / "schemas"))

F = TypeVar("F", bound=Callable[..., Any])

_site: list[Path] = []
_caches: list[Any] = []


def cached(function: F) -> F:
    """`functools.cache` for a loader of schema files, emptied when the site folder changes."""
    wrapped = functools.cache(function)
    _caches.append(wrapped)
    return wrapped  # type: ignore[return-value]


def use_site_schemas(folder: Path | None) -> None:
    """Let the files in `folder` win over the shipped ones from now on (None: shipped only)."""
    if _site == ([folder] if folder else []):
        return
    _site[:] = [folder] if folder else []
    forget()


def forget() -> None:
    """Empty every cache of schema files, so that the next use reads them as they are today."""
    for cache in _caches:
        cache.cache_clear()


def roots() -> list[Path]:
    """The folders searched, the site's first."""
    return [*_site, SCHEMAS]


def path(*parts: str) -> Path:
    """The file at `parts` under the first root that has it (the shipped path when none has)."""
    for root in _site:
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    return SCHEMAS.joinpath(*parts)


def layers(*parts: str) -> list[Path]:
    """Every root's file at `parts`, the shipped one first: for files a site amends entry by
    entry rather than replaces (`idoc/_segments.toml`)."""
    return [root.joinpath(*parts) for root in reversed(roots()) if root.joinpath(*parts).exists()]


def listing(folder: str, pattern: str = "*") -> list[Path]:
    """The entries of `folder` matching `pattern` in every root, one per name (the site's
    first), sorted by name."""
    found: dict[str, Path] = {}
    for root in roots():
        for entry in sorted((root / folder).glob(pattern)) if (root / folder).is_dir() else ():
            found.setdefault(entry.name, entry)
    return [found[name] for name in sorted(found)]
