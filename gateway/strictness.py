"""How strictly a file is judged: each finding is an error (the file is quarantined) or a warning
(recorded with the file and its records, never blocking).

Every code in the catalogue has a severity under each of the three levels. Most codes are errors
at every level: counts and references (UNT, UNZ, control numbers), structure that changes what a
document means, and values that cannot be read. A few codes name deviations that real senders
make and that leave the meaning intact; `standard`, the default, takes those as warnings, and
`strict` refuses them. `lenient` also takes, as warnings, rule breaks whose value is still read
whole and unambiguously.

A source sets the level with `strictness`; a `[[partner]]` table sets it for one sender (the
EDIFACT UNB sender id, the IDoc SNDPRN), and a partner's level wins over its source's.
"""

from __future__ import annotations

from enum import StrEnum

from gateway import options as opt
from gateway.findings import Code


class Severity(StrEnum):
    """What a finding does to its file."""

    ERROR = "error"
    WARNING = "warning"


class Strictness(StrEnum):
    """How much deviation a source or partner is allowed."""

    STRICT = "strict"
    STANDARD = "standard"
    LENIENT = "lenient"


#: Deviations real senders make without changing the meaning: warnings unless `strict`. Each is
#: a reason, given after the code, that the README's strictness table repeats.
TOLERATED: dict[Code, str] = {
    Code.BAD_CHARACTER: "a character outside the UNB syntax's set (UNOA/UNOB), kept as decoded",
    Code.WRAPPED_LINES: "line breaks inside EDIFACT segments (80-column wrapping), joined again",
    Code.LONG_DATE: "an 8-digit CCYYMMDD UNB date under syntax 1 to 3",
    Code.HLEVEL_MISMATCH: "an IDoc HLEVEL that disagrees with PSGNUM or the schema, which decide",
    Code.UNMAPPED_SEGMENT: "a standard SAP segment the basic type's table lacks, kept under extensions",
    Code.BLANK_DOCNUM: "a blank DOCNUM from a non-SAP sender, keyed by sender and content",
    Code.UTF8_CONTENT: "UTF-8 bytes in an interchange that declares UNOA/UNOC…, read as UTF-8",
}

#: What `lenient` also takes as warnings: a value read whole, breaking a rule that does not
#: touch its meaning. A wrong GTIN check digit is not here: it says the number was mistyped,
#: so which item is meant is unknown. Nor is a missing UNZ: its count is what proves that no
#: message of a truncated interchange was lost.
LENIENT: dict[Code, str] = {
    Code.TOO_LONG: "a value longer than its declared maximum, kept whole",
    Code.UNKNOWN_SEGMENT: "an IDoc segment its basic type does not know, kept under extensions",
}

STRICTNESS = opt.text(
    "strictness",
    Strictness.STANDARD.value,
    "how deviations are judged: strict (all errors), standard (harmless ones warnings), lenient",
    *(level.value for level in Strictness),
)


def severity(code: Code, level: Strictness = Strictness.STANDARD) -> Severity:
    """The severity of a finding with `code` under `level`."""
    if level is Strictness.STRICT:
        return Severity.ERROR
    if code in TOLERATED or (level is Strictness.LENIENT and code in LENIENT):
        return Severity.WARNING
    return Severity.ERROR


def table() -> list[tuple[Code, str, dict[Strictness, Severity]]]:
    """Each code some level takes as a warning, its reason and its severity per level."""
    return [
        (code, reason, {level: severity(code, level) for level in Strictness})
        for code, reason in (TOLERATED | LENIENT).items()
    ]
