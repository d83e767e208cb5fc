"""The catalogue of finding codes: every code a `Finding` may carry, and where findings go.

A code's value is what `error.json`, `error.txt`, the ledger and users' scripts read, so a value
is never renamed. Three pairs that said the same thing under two names were merged into the name
used most; the old names are still accepted when read back (`Code("unrepresentable")`):

- `unrepresentable` → `not_representable` (a target cannot express the record);
- `invalid_date` → `bad_date` and `invalid_time` → `bad_time` (IDoc said `invalid_*`, every
  other family `bad_*`).

`unencodable` stays apart from `not_representable`: the record fits the target, one character
does not fit its character set, and the remedy differs (a value map or another encoding).

What each code means and what usually fixes it is in `gateway.explanations`.

Severity: each finding is an error (the file is quarantined) or a warning (recorded with the
file and its records, never blocking). Most codes are errors at every strictness: counts and
references (UNT, UNZ, control numbers), structure that changes what a document means, and values
that cannot be read. The codes in `TOLERATED` name deviations that real senders make and that
leave the meaning intact: `standard`, the default, takes them as warnings and `strict` refuses
them. `lenient` also takes the codes in `LENIENT` as warnings: rule breaks whose value is still
read whole and unambiguously. A source sets the level with `strictness`; a `[[partner]]` table
sets it for one sender (the EDIFACT UNB sender, the IDoc SNDPRN) and wins over its source.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from gateway import options as opt


class Code(StrEnum):
    """A finding code; grouped by the stage that usually reports it."""

    # The file as a whole: detect, decode, claim, the service.
    EMPTY = "empty"
    BINARY = "binary"
    UNKNOWN_FORMAT = "unknown_format"
    UNREADABLE = "unreadable"
    UNKNOWN_ENCODING = "unknown_encoding"
    MIXED_ENCODING = "mixed_encoding"
    UNDETERMINED_ENCODING = "undetermined_encoding"
    UNDECODABLE = "undecodable"
    DUPLICATE = "duplicate"
    TOO_MANY_FINDINGS = "too_many_findings"
    INTERNAL_ERROR = "internal_error"
    ORIGINAL_MISSING = "original_missing"
    NAME_TOO_LONG = "name_too_long"
    UNKNOWN = "unknown"
    BAD_OPTION = "bad_option"

    # One value against its declared type, in any family and in targets.
    REQUIRED = "required"
    TOO_LONG = "too_long"
    WRONG_LENGTH = "wrong_length"
    NOT_NUMERIC = "not_numeric"
    NOT_ALPHABETIC = "not_alphabetic"
    NOT_BOOLEAN = "not_boolean"
    NOT_ALLOWED = "not_allowed"
    PATTERN = "pattern"
    BAD_DATE = "bad_date"
    BAD_TIME = "bad_time"
    TOO_LARGE = "too_large"
    TOO_PRECISE = "too_precise"

    # CSV.
    LINE_TOO_LONG = "line_too_long"
    MALFORMED_CSV = "malformed_csv"
    RAGGED_ROW = "ragged_row"
    DUPLICATE_COLUMN = "duplicate_column"
    TOO_MANY_COLUMNS = "too_many_columns"
    MISSING_COLUMN = "missing_column"
    UNKNOWN_COLUMN = "unknown_column"
    UNKNOWN_LAYOUT = "unknown_layout"
    SPLIT_DOCUMENT = "split_document"
    INCONSISTENT_HEADER = "inconsistent_header"

    # XML.
    MALFORMED_XML = "malformed_xml"
    DTD_REFUSED = "dtd_refused"
    ENTITY_REFERENCE = "entity_reference"
    TOO_DEEP = "too_deep"
    WRONG_ROOT = "wrong_root"
    WRONG_NAMESPACE = "wrong_namespace"
    UNEXPECTED_ELEMENT = "unexpected_element"
    NO_DOCUMENTS = "no_documents"
    SCHEMA_VIOLATION = "schema_violation"
    LAYOUT_BROKEN = "layout_broken"
    XPATH_FAILED = "xpath_failed"
    MISSING = "missing"
    INVALID_VALUE = "invalid_value"

    # SAP IDoc.
    NO_IDOC = "no_idoc"
    BINARY_CONTENT = "binary_content"
    DOCTYPE_FORBIDDEN = "doctype_forbidden"
    ROOT_MISMATCH = "root_mismatch"
    MISSING_CONTROL_RECORD = "missing_control_record"
    MISSING_CONTROL_FIELD = "missing_control_field"
    SHORT_CONTROL_RECORD = "short_control_record"
    SHORT_RECORD = "short_record"
    MIXED_RELEASES = "mixed_releases"
    DOCNUM_MISMATCH = "docnum_mismatch"
    DUPLICATE_DOCNUM = "duplicate_docnum"
    SEGMENT_SEQUENCE = "segment_sequence"
    BAD_PARENT = "bad_parent"
    UNKNOWN_BASIC_TYPE = "unknown_basic_type"
    UNKNOWN_SEGMENT = "unknown_segment"
    ORPHANED_SEGMENT = "orphaned_segment"
    TOO_MANY_SEGMENTS = "too_many_segments"
    UNSUPPORTED_MESSAGE = "unsupported_message"
    MISSING_FIELD = "missing_field"
    UNKNOWN_MOVEMENT_TYPE = "unknown_movement_type"
    MIXED_MOVEMENTS = "mixed_movements"

    # UN/EDIFACT: syntax and envelope.
    SYNTAX_ERROR = "syntax_error"
    BAD_CHARACTER = "bad_character"
    UNKNOWN_SYNTAX = "unknown_syntax"
    BAD_SYNTAX_VERSION = "bad_syntax_version"
    BAD_CONTROL_REF = "bad_control_ref"
    BAD_MESSAGE_REF = "bad_message_ref"
    MISSING_UNB = "missing_unb"
    MISSING_UNZ = "missing_unz"
    MISSING_UNE = "missing_une"
    MISSING_UNT = "missing_unt"
    UNEXPECTED_UNZ = "unexpected_unz"
    UNEXPECTED_UNE = "unexpected_une"
    UNEXPECTED_UNT = "unexpected_unt"
    OUTSIDE_MESSAGE = "outside_message"
    WRONG_COUNT = "wrong_count"
    WRONG_REFERENCE = "wrong_reference"

    # UN/EDIFACT: message content against its schema.
    UNKNOWN_MESSAGE = "unknown_message"
    NO_MAPPING = "no_mapping"
    UNEXPECTED_SEGMENT = "unexpected_segment"
    MISSING_SEGMENT = "missing_segment"
    TOO_MANY_REPETITIONS = "too_many_repetitions"
    MISSING_ELEMENT = "missing_element"
    TOO_MANY_ELEMENTS = "too_many_elements"
    MISSING_COMPONENT = "missing_component"
    TOO_MANY_COMPONENTS = "too_many_components"
    UNEXPECTED_COMPONENT = "unexpected_component"
    UNKNOWN_CODE = "unknown_code"
    UNDOCUMENTED_LAYOUT = "undocumented_layout"

    # Map and route.
    UNMAPPABLE = "unmappable"
    BAD_CHECK_DIGIT = "bad_check_digit"
    MISSING_ITEM = "missing_item"
    DOMAIN_VIOLATION = "domain_violation"
    UNROUTED = "unrouted"

    # Write: what a target cannot take.
    NOT_REPRESENTABLE = "not_representable"
    UNENCODABLE = "unencodable"
    UNWRITABLE = "unwritable"
    UNSUPPORTED_DOCUMENT = "unsupported_document"
    NO_LAYOUT = "no_layout"
    NO_LINES = "no_lines"
    EMPTY_DOCUMENT = "empty_document"
    TOO_MANY = "too_many"
    DUPLICATE_DOCUMENT = "duplicate_document"
    UNMAPPED_VALUE = "unmapped_value"
    MISSING_QUANTITY = "missing_quantity"
    MOVEMENT_DIRECTION = "movement_direction"
    LINE_BREAK = "line_break"
    DELIMITER_IN_VALUE = "delimiter_in_value"
    FORMULA_INJECTION = "formula_injection"
    LEADING_QUOTE = "leading_quote"

    # Deviations real senders make; warnings unless strict (TOLERATED below).
    WRAPPED_LINES = "wrapped_lines"
    LONG_DATE = "long_date"
    HLEVEL_MISMATCH = "hlevel_mismatch"
    UNMAPPED_SEGMENT = "unmapped_segment"
    BLANK_DOCNUM = "blank_docnum"
    UTF8_CONTENT = "utf8_content"

    @classmethod
    def _missing_(cls, value: object) -> Code | None:
        # An error.json written before a merge still names the old code.
        return MERGED.get(str(value))


#: Codes merged into another, by their old value.
MERGED: dict[str, Code] = {
    "unrepresentable": Code.NOT_REPRESENTABLE,
    "invalid_date": Code.BAD_DATE,
    "invalid_time": Code.BAD_TIME,
}


class Report(Protocol):
    """Where findings go: `ReadContext.add` has this shape. **Protocol.**"""

    def __call__(
        self, code: Code, message: str, *, value: str | None = ..., rule: str | None = ..., **location: Any
    ) -> None: ...


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


def described(code: Code) -> str:
    """`error at every strictness`, or which levels make `code` an error and which a warning."""
    by: dict[Severity, list[str]] = {}
    for level in Strictness:
        by.setdefault(severity(code, level), []).append(level.value)
    if len(by) == 1:
        return f"{next(iter(by))} at every strictness"
    return "; ".join(f"{found} when {' or '.join(levels)}" for found, levels in by.items())
