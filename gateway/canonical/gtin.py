"""GS1 item numbers (GTIN-8/12/13/14, which EAN and UPC are): whether a value is one.

Every format that maps a value to `gtin` checks it here, so a number with a wrong check digit
never reaches a warehouse as a valid article, whichever way it arrived.
"""

from __future__ import annotations

import functools

GTIN_LENGTHS = frozenset({8, 12, 13, 14})


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit that completes the digits `body` into a GTIN."""
    # Weights 3 and 1 alternate from the digit next to the check digit, whatever the length.
    backwards = body[::-1]
    total = 3 * sum(map(int, backwards[0::2])) + sum(map(int, backwards[1::2]))
    return str((10 - total % 10) % 10)


# A catalogue's few thousand articles come back on every order line.
@functools.lru_cache(maxsize=1 << 16)
def gtin_problem(value: str) -> str | None:
    """Why `value` is not a GTIN-8/12/13/14 (digits, length, the GS1 mod-10 check digit), or None."""
    if not value.isascii() or not value.isdigit():
        return "is not a GTIN: a GTIN has digits only"
    if len(value) not in GTIN_LENGTHS:
        return f"is not a GTIN: {len(value)} digits, a GTIN has 8, 12, 13 or 14"
    expected = check_digit(value[:-1])
    if value[-1] != expected:
        return f"has a wrong check digit: {value[-1]}, the GS1 check digit is {expected}"
    return None
