"""Where the shipped schema data lives: `schemas/` in the checkout, `gateway/schemas/` in the wheel.

The repository keeps the top-level `schemas/` folder users know; `gateway/schemas` is a symbolic
link to it, which the wheel build copies as package data, so both the checkout and an installed
gateway find the same files through `importlib.resources`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

SCHEMAS: Final = Path(str(files("gateway") / "schemas"))
