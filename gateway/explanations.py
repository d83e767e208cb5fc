"""What each finding code means and what usually fixes it: the text behind `gateway explain`.

One entry per `Code`, in the enum's order; a test holds the two to each other. A meaning is one
line; a remedy names the setting, file or person that usually fixes it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from gateway.findings import MERGED, Code


@dataclass(frozen=True)
class Explanation:
    """One code's meaning and its usual remedy."""

    meaning: str
    remedy: str


EXPLANATIONS: dict[Code, Explanation] = {
    # The file as a whole.
    Code.EMPTY: Explanation(
        "The file has no content, only blank space, or no header row.",
        "Ask the sender to resend; an empty file is usually a transfer that failed half way.",
    ),
    Code.BINARY: Explanation(
        "The file holds control bytes, so it is not one of the text formats the gateway reads.",
        "Check that the sender did not drop a zip, PDF or spreadsheet into the inbound folder.",
    ),
    Code.UNKNOWN_FORMAT: Explanation(
        "No reader (CSV, XML, EDIFACT, IDoc) recognises the start of the file.",
        "Check the file's start; a source's `format_by_name` can name the format for odd files.",
    ),
    Code.UNREADABLE: Explanation(
        "The file could not be read from disk.",
        "Check the file's permissions and that the path exists.",
    ),
    Code.UNKNOWN_ENCODING: Explanation(
        "The file or the source names a character encoding Python does not know.",
        "Correct the source's `encoding` or ask the sender to declare a standard charset name.",
    ),
    Code.MIXED_ENCODING: Explanation(
        "The file is valid UTF-8 in places but holds a byte that is not UTF-8 elsewhere.",
        "The file was assembled from parts in two encodings: ask the sender to export it again.",
    ),
    Code.UNDETERMINED_ENCODING: Explanation(
        "The file is not UTF-8 and no plausible encoding fits it with enough confidence.",
        "Set the source's `encoding` to the sender's code page (e.g. cp1252), or lower "
        "`encoding_confidence`.",
    ),
    Code.UNDECODABLE: Explanation(
        "The bytes are not valid in the encoding the file declares or the source configures.",
        "Fix the declaration (XML prolog, UNB syntax identifier) or the source's `encoding`.",
    ),
    Code.DUPLICATE: Explanation(
        "The same file or interchange (same content, UNB reference or DOCNUM) was accepted before.",
        "Discard it if the sender resent by mistake; the source's `duplicates` chooses skip or quarantine.",
    ),
    Code.TOO_MANY_FINDINGS: Explanation(
        "Checking stopped after `max_findings` findings; the file may hold more.",
        "Fix the first findings (usually one cause) and retry, or raise `max_findings`.",
    ),
    Code.INTERNAL_ERROR: Explanation(
        "A reader failed in a way it should not: this is a gateway bug.",
        "Report it with the quarantined file; `quarantine retry` after an upgrade.",
    ),
    Code.ORIGINAL_MISSING: Explanation(
        "A target's case was retried, but the accepted original is no longer in archive/.",
        "Put the original back under the path the case names (a backup), or discard the case.",
    ),
    Code.NAME_TOO_LONG: Explanation(
        "The file's name is too long to derive output and archive names from (the file id is added).",
        "Rename the file to under 200 bytes at its source, then drop it again or retry the case.",
    ),
    Code.UNKNOWN: Explanation(
        "A file was quarantined without a finding: this is a gateway bug.",
        "Report it with the quarantined file.",
    ),
    Code.BAD_OPTION: Explanation(
        "A source option has a value the reader does not accept.",
        "Set the option named in the finding to one of the values it lists; `gateway config check`.",
    ),
    # One value against its declared type.
    Code.REQUIRED: Explanation(
        "A value the layout or target requires is empty.",
        "Ask the sender to fill the field, or give the target column a default in its layout.",
    ),
    Code.TOO_LONG: Explanation(
        "A value is longer than the field allows.",
        "Shorten it at the source; a target's `lengths` option can widen a field its consumer stores.",
    ),
    Code.WRONG_LENGTH: Explanation(
        "A fixed-length value does not have exactly the required length.",
        "Ask the sender to pad or correct the value to the length the schema names.",
    ),
    Code.NOT_NUMERIC: Explanation(
        "A value that must be a number is not one.",
        "Correct the value at the source; check decimal separators and stray units.",
    ),
    Code.NOT_ALPHABETIC: Explanation(
        "A value that must be alphabetic contains digits.",
        "Correct the value at the source, or its code list entry.",
    ),
    Code.NOT_BOOLEAN: Explanation(
        "A value that must be true or false is neither.",
        "Use true/false, yes/no or 1/0.",
    ),
    Code.NOT_ALLOWED: Explanation(
        "A value is not one of the values the layout allows for the column.",
        "Use an allowed value, or add it to the column's `values` in the layout.",
    ),
    Code.PATTERN: Explanation(
        "A value does not match the pattern the layout declares for the column.",
        "Correct the value, or widen the column's `pattern` in the layout.",
    ),
    Code.BAD_DATE: Explanation(
        "A value is not a real date in the format the schema names.",
        "Send ISO 8601 dates, or add the partner's format to the column's `formats` in the layout.",
    ),
    Code.BAD_TIME: Explanation(
        "A value is not a real time in the format the schema names (HHMM, HHMMSS).",
        "Ask the sender to correct the time.",
    ),
    Code.TOO_LARGE: Explanation(
        "A number does not fit the target's digits, or a file exceeds the size limit.",
        "Check the value at the source; for XML raise `xml_max_bytes` if the file is genuine.",
    ),
    Code.TOO_PRECISE: Explanation(
        "A number has more decimals than the target keeps; it would be rounded.",
        "Round at the source, or raise the field's scale in the target layout.",
    ),
    # CSV.
    Code.LINE_TOO_LONG: Explanation(
        "A line is far longer than any real row; usually an unclosed quote or a binary file.",
        "Look for an unbalanced double quote; raise `csv_max_line` only for genuinely long rows.",
    ),
    Code.MALFORMED_CSV: Explanation(
        "The CSV cannot be parsed (a quote in the wrong place, a stray character).",
        "Ask the sender to quote fields properly; the finding names the line.",
    ),
    Code.RAGGED_ROW: Explanation(
        "A row has more or fewer fields than the header.",
        "Usually an unquoted delimiter inside a value: ask the sender to quote it.",
    ),
    Code.DUPLICATE_COLUMN: Explanation(
        "The header names the same column twice.",
        "Remove or rename one of the columns.",
    ),
    Code.TOO_MANY_COLUMNS: Explanation(
        "The header has more columns than `csv_max_columns` (10,000 by default); real layouts have tens.",
        "Check that the file is the export you expect; raise `csv_max_columns` for a genuinely wide one.",
    ),
    Code.MISSING_COLUMN: Explanation(
        "A column the layout requires is not in the header.",
        "Add the column, or name another layout with the source's `csv_layout`.",
    ),
    Code.UNKNOWN_COLUMN: Explanation(
        "A header column is not in the layout.",
        "Remove it, fix its spelling, or add it to the layout in schemas/csv/.",
    ),
    Code.UNKNOWN_LAYOUT: Explanation(
        "No CSV or XML layout matches the file (or none has the configured name).",
        "Check `csv_layout`/`xml_layout`, or add a layout for the file in the schemas folder.",
    ),
    Code.SPLIT_DOCUMENT: Explanation(
        "Rows of one document (same key) are not consecutive.",
        "Sort the file by the document key before sending it.",
    ),
    Code.INCONSISTENT_HEADER: Explanation(
        "A header field differs between rows of the same document.",
        "Repeat header fields unchanged on every row, or give the documents distinct keys.",
    ),
    # XML.
    Code.MALFORMED_XML: Explanation(
        "The file is not well-formed XML.",
        "Ask the sender to fix the XML at the line named; it is usually truncated or mis-escaped.",
    ),
    Code.DTD_REFUSED: Explanation(
        "The document has a DTD; DTDs are never processed (billion laughs, XXE).",
        "Ask the sender to leave out the DOCTYPE declaration.",
    ),
    Code.ENTITY_REFERENCE: Explanation(
        "The document uses an entity reference, which the gateway never expands.",
        "Ask the sender to write the character itself or a numeric reference (&#233;).",
    ),
    Code.TOO_DEEP: Explanation(
        "Elements nest deeper than the limit.",
        "Raise the source's `xml_max_depth` if the document is genuine.",
    ),
    Code.WRONG_ROOT: Explanation(
        "The root element is not the one the chosen layout reads.",
        "Choose the right layout (`xml_layout`) or check the sender's document type.",
    ),
    Code.WRONG_NAMESPACE: Explanation(
        "The root element is in another namespace than the layout's.",
        "Check the document's version; add a layout for the partner's namespace if needed.",
    ),
    Code.UNEXPECTED_ELEMENT: Explanation(
        "An element under a streamed root is not a document of the layout.",
        "Remove the element, or use a layout that reads it.",
    ),
    Code.NO_DOCUMENTS: Explanation(
        "The root holds none of the document elements the layout reads.",
        "Check that the file is the document type the layout expects.",
    ),
    Code.SCHEMA_VIOLATION: Explanation(
        "The document does not conform to its XML Schema.",
        "Ask the sender to fix the element named; the message quotes the schema rule.",
    ),
    Code.LAYOUT_BROKEN: Explanation(
        "The XML layout itself cannot be used.",
        "Fix the layout file in schemas/xml/ named in the message.",
    ),
    Code.XPATH_FAILED: Explanation(
        "An XPath of the layout failed to evaluate.",
        "Fix the XPath in the layout named by the rule.",
    ),
    Code.MISSING: Explanation(
        "A value the layout requires is absent or empty in the XML.",
        "Ask the sender to fill the element, or make the field optional in the layout.",
    ),
    Code.INVALID_VALUE: Explanation(
        "An XML value does not fit the type the layout declares.",
        "Correct the value at the source, or the field's type in the layout.",
    ),
    # SAP IDoc.
    Code.NO_IDOC: Explanation(
        "The file holds no IDoc (no EDI_DC40 control record).",
        "Check the SAP port's export; the file may be empty or another format.",
    ),
    Code.BINARY_CONTENT: Explanation(
        "An IDoc record holds a control character.",
        "Check the port's code page and the field named; control characters are never valid.",
    ),
    Code.DOCTYPE_FORBIDDEN: Explanation(
        "An IDoc-XML file has a document type declaration.",
        "Export the IDoc-XML without a DOCTYPE.",
    ),
    Code.ROOT_MISMATCH: Explanation(
        "The IDoc-XML root element names another basic type than the control record.",
        "Check the SAP port's settings; both must name the same basic type.",
    ),
    Code.MISSING_CONTROL_RECORD: Explanation(
        "Data records come before any control record, or an IDOC has no EDI_DC40.",
        "Export the IDoc again; the file was probably cut.",
    ),
    Code.MISSING_CONTROL_FIELD: Explanation(
        "A field the control record must have (DOCNUM, IDOCTYP…) is empty.",
        "Check the partner profile and port in SAP (WE20, WE21).",
    ),
    Code.SHORT_CONTROL_RECORD: Explanation(
        "A control record ends before a field it must hold.",
        "Check the port's record length; the line may be truncated by a transfer.",
    ),
    Code.SHORT_RECORD: Explanation(
        "A data record ends before its SEGNUM field.",
        "Check that the transfer kept trailing blanks; the line may be truncated.",
    ),
    Code.MIXED_RELEASES: Explanation(
        "One file mixes IDoc control records of two releases (EDI_DC and EDI_DC40).",
        "Send one release per file.",
    ),
    Code.DOCNUM_MISMATCH: Explanation(
        "A data record's DOCNUM differs from its control record's.",
        "The file was assembled from parts: export the IDoc again.",
    ),
    Code.DUPLICATE_DOCNUM: Explanation(
        "One file holds the same IDoc number of one sender twice.",
        "Check the SAP export; resend each IDoc once.",
    ),
    Code.SEGMENT_SEQUENCE: Explanation(
        "SEGNUM numbers are not ascending.",
        "Export the IDoc again; segments were reordered or lost.",
    ),
    Code.BAD_PARENT: Explanation(
        "PSGNUM or HLEVEL names a parent segment that does not exist.",
        "Export the IDoc again; the hierarchy is broken.",
    ),
    Code.UNKNOWN_BASIC_TYPE: Explanation(
        "No schema is installed for the IDoc's basic type.",
        "Add the basic type's schema to schemas/idoc/, or check IDOCTYP in the control record.",
    ),
    Code.UNKNOWN_SEGMENT: Explanation(
        "A segment is not part of the basic type (or its extension).",
        "Add the extension's segments to the IDoc schema, or check the partner's extension.",
    ),
    Code.ORPHANED_SEGMENT: Explanation(
        "A segment sits under another parent than the basic type defines.",
        "Check the IDoc's hierarchy in SAP (WE02).",
    ),
    Code.TOO_MANY_SEGMENTS: Explanation(
        "A segment occurs more often than the basic type allows.",
        "Check the IDoc in SAP (WE02); split the document if it is genuine.",
    ),
    Code.UNSUPPORTED_MESSAGE: Explanation(
        "The IDoc's message type has no canonical document type.",
        "Route this message type elsewhere, or add a mapping for it.",
    ),
    Code.MISSING_FIELD: Explanation(
        "A field needed to build the canonical record is empty in the IDoc.",
        "Fill the field in SAP, or check the source option (`idoc_sku`) that chooses it.",
    ),
    Code.UNKNOWN_MOVEMENT_TYPE: Explanation(
        "A goods movement type (BWART) has no canonical meaning.",
        "Add the movement type to the WMMBID mapping, or stop SAP sending it.",
    ),
    Code.MIXED_MOVEMENTS: Explanation(
        "One IDoc mixes movement kinds that map to different document types.",
        "Send one kind of movement per IDoc.",
    ),
    # UN/EDIFACT: syntax and envelope.
    Code.SYNTAX_ERROR: Explanation(
        "The EDIFACT text breaks the syntax (unterminated segment, bad release character).",
        "Ask the partner to fix the interchange at the segment named.",
    ),
    Code.BAD_CHARACTER: Explanation(
        "A character is not allowed in the interchange's syntax level (UNOA, UNOB…).",
        'Ask the partner to declare a wider syntax level, or set `edifact_charset_check = "off"`.',
    ),
    Code.UNKNOWN_SYNTAX: Explanation(
        "UNB names a syntax identifier the gateway does not support.",
        "Ask the partner to use UNOA to UNOY.",
    ),
    Code.BAD_SYNTAX_VERSION: Explanation(
        "UNB's syntax version is not 1 to 4.",
        "Ask the partner to correct UNB.",
    ),
    Code.BAD_CONTROL_REF: Explanation(
        "The interchange control reference is empty or longer than 14 characters.",
        "Ask the partner to correct UNB.",
    ),
    Code.BAD_MESSAGE_REF: Explanation(
        "The message reference is empty or longer than 14 characters.",
        "Ask the partner to correct UNH.",
    ),
    Code.MISSING_UNB: Explanation(
        "There is no UNB interchange header, or a group or message lies outside one.",
        "Ask the partner to send complete interchanges.",
    ),
    Code.MISSING_UNZ: Explanation(
        "An interchange has no UNZ trailer.",
        "The file is probably truncated: ask for a resend.",
    ),
    Code.MISSING_UNE: Explanation(
        "A functional group has no UNE trailer.",
        "The file is probably truncated: ask for a resend.",
    ),
    Code.MISSING_UNT: Explanation(
        "A message has no UNT trailer.",
        "The file is probably truncated: ask for a resend.",
    ),
    Code.UNEXPECTED_UNZ: Explanation(
        "A UNZ has no UNB to close.",
        "Ask the partner to correct the envelope.",
    ),
    Code.UNEXPECTED_UNE: Explanation(
        "A UNE has no UNG to close.",
        "Ask the partner to correct the envelope.",
    ),
    Code.UNEXPECTED_UNT: Explanation(
        "A UNT has no UNH to close.",
        "Ask the partner to correct the envelope.",
    ),
    Code.OUTSIDE_MESSAGE: Explanation(
        "A data segment lies outside any message (UNH..UNT).",
        "Ask the partner to correct the envelope.",
    ),
    Code.WRONG_COUNT: Explanation(
        "A trailer's count (UNT segments, UNZ messages) disagrees with the content.",
        "Content was lost or added in transit: ask for a resend.",
    ),
    Code.WRONG_REFERENCE: Explanation(
        "A trailer's reference does not match its header's.",
        "Ask the partner to correct the envelope.",
    ),
    # UN/EDIFACT: message content.
    Code.UNKNOWN_MESSAGE: Explanation(
        "No schema is installed for the message type and directory (e.g. ORDERS D96A).",
        "Add the schema to schemas/edifact/, or agree another directory with the partner.",
    ),
    Code.NO_MAPPING: Explanation(
        "The message type has no canonical document type.",
        "Route this message type elsewhere, or add a mapping for it.",
    ),
    Code.UNEXPECTED_SEGMENT: Explanation(
        "A segment is out of order or not part of the message.",
        "Ask the partner to follow the message's segment table.",
    ),
    Code.MISSING_SEGMENT: Explanation(
        "A mandatory segment or group is missing.",
        "Ask the partner to send it; the finding names the segment.",
    ),
    Code.TOO_MANY_REPETITIONS: Explanation(
        "A segment or group repeats more often than the message allows.",
        "Ask the partner to split the message.",
    ),
    Code.MISSING_ELEMENT: Explanation(
        "A mandatory data element or composite is missing.",
        "Ask the partner to send it; the finding names the element.",
    ),
    Code.TOO_MANY_ELEMENTS: Explanation(
        "A segment has more data elements than its definition.",
        "Usually an unreleased separator in a value: ask the partner to escape it.",
    ),
    Code.MISSING_COMPONENT: Explanation(
        "A mandatory component of a composite is missing.",
        "Ask the partner to send it.",
    ),
    Code.TOO_MANY_COMPONENTS: Explanation(
        "A composite has more components than its definition.",
        "Usually an unreleased ':' in a value: ask the partner to escape it.",
    ),
    Code.UNEXPECTED_COMPONENT: Explanation(
        "A simple data element has components.",
        "Usually an unreleased ':' in a value: ask the partner to escape it.",
    ),
    Code.UNKNOWN_CODE: Explanation(
        "A coded value is not in the element's code list.",
        "Ask the partner for a listed code, or add theirs to the schema's code list.",
    ),
    # Map and route.
    Code.UNDOCUMENTED_LAYOUT: Explanation(
        "A flat IDoc segment holds data where SAP publishes no layout (or a record needs such a"
        " field written): SAP documents the field names, but not their widths in a flat file, so"
        " no value there can be placed without guessing. IDoc-XML names every field and has no"
        " such limit.",
        "Exchange IDoc-XML (an XML file port; the idoc target's `syntax = \"xml\"`), or confirm"
        " the segment's layout in your system (transaction WE60, the fields' external lengths)"
        " and put it in a site schema: `schemas_dir`/idoc/_segments.toml with that segment alone.",
    ),
    Code.UNMAPPABLE: Explanation(
        "Valid input that cannot be expressed as a canonical record (a date, a quantity…).",
        "Correct the value named at the source; the message says what the mapping needed.",
    ),
    Code.BAD_CHECK_DIGIT: Explanation(
        "An item number typed as a GTIN/EAN/UPC (or an ISBN-13) has a wrong check digit or is not "
        "8, 12, 13 or 14 digits, so it names another product or none.",
        "Ask the sender to correct the item number, or to send it with its own type (SA, BY...).",
    ),
    Code.MISSING_ITEM: Explanation(
        "A line names no item the gateway can book: no GTIN, supplier's or buyer's item number.",
        "Ask the sender to add the item number with its type (LIN/PIA EN, SA, IN/BY...).",
    ),
    Code.DOMAIN_VIOLATION: Explanation(
        "A document belongs to the other side (ERP or WMS) than its source.",
        "Check the source's `side`, or which system drops files into it.",
    ),
    Code.UNROUTED: Explanation(
        "No route takes this document type from this source.",
        'Add a `[[route]]` for the type, or set `unrouted = "canonical"` to keep it as JSON Lines.',
    ),
    # Write.
    Code.NOT_REPRESENTABLE: Explanation(
        "The target cannot express this record, or this value, without losing data.",
        "Route the document type to a target that takes it, or fix the value named.",
    ),
    Code.UNENCODABLE: Explanation(
        "A character cannot be written in the target's character set; it is never replaced.",
        "Map the value with a value map, or choose a wider encoding for the target.",
    ),
    Code.UNWRITABLE: Explanation(
        "The EDIFACT message cannot carry this record.",
        "Check the record's values against the message named; route it elsewhere if needed.",
    ),
    Code.UNSUPPORTED_DOCUMENT: Explanation(
        "The EDIFACT target writes no message for this document type.",
        "Route the document type to another target.",
    ),
    Code.NO_LAYOUT: Explanation(
        "The target has no layout for this document type.",
        "Add a layout for the type to the target's schemas, or route the type elsewhere.",
    ),
    Code.NO_LINES: Explanation(
        "The record has no lines, and the target needs at least one.",
        "Check the source document; route line-less documents elsewhere.",
    ),
    Code.EMPTY_DOCUMENT: Explanation(
        "The record has no lines, and the layout writes one row per line.",
        "Check the source document; route line-less documents elsewhere.",
    ),
    Code.TOO_MANY: Explanation(
        "A list (addresses, lines) has more entries than the target layout holds.",
        "Split the document, or raise the limit in the target layout.",
    ),
    Code.DUPLICATE_DOCUMENT: Explanation(
        "The same document appears twice in one input file; the consumer would merge them.",
        "Ask the sender to send each document once per file.",
    ),
    Code.UNMAPPED_VALUE: Explanation(
        "A value has no entry in the target field's value map.",
        "Add the value to the value map in schemas/valuemaps/ named by the rule.",
    ),
    Code.MISSING_QUANTITY: Explanation(
        "A line has no quantity: the target needs one, or an EDIFACT line lacks the quantity its "
        "message type defines (QTY+21 ordered, QTY+12 despatched, QTY+48/194 received, QTY+145 "
        "stock...); other quantities (units per pack, free goods) are never taken instead.",
        "Check the source line; ask the sender for the quantity with the message type's qualifier.",
    ),
    Code.MOVEMENT_DIRECTION: Explanation(
        "A movement type moves stock the other way than the quantity's sign.",
        "Check the reason code's movement type, or the quantity's sign.",
    ),
    Code.LINE_BREAK: Explanation(
        "A value contains a line break, which an unquoted one-row-per-line file cannot carry.",
        "Remove the line break at the source, or use a quoted format.",
    ),
    Code.DELIMITER_IN_VALUE: Explanation(
        "A value contains the delimiter of an unquoted format.",
        "Remove the character at the source, or use a quoted format.",
    ),
    Code.FORMULA_INJECTION: Explanation(
        "A text starts with =, +, -, @, tab or CR, which a spreadsheet runs as a formula, and the"
        " target has `formula_guard = \"refuse\"`.",
        "Correct the value at its source, or let the target neutralise it (`formula_guard = \"quote\"`).",
    ),
    Code.LEADING_QUOTE: Explanation(
        "A value starts with a double quote, which an unquoted format would read as quoting.",
        "Remove the quote at the source, or use a quoted format.",
    ),
    # Deviations real senders make (warnings unless the source or partner is strict).
    Code.WRAPPED_LINES: Explanation(
        "An EDIFACT interchange has line breaks inside segments (wrapped at 80 columns); the"
        " segments were joined again.",
        "Nothing, unless the partner is `strict`; ask the sender to write one segment per line.",
    ),
    Code.LONG_DATE: Explanation(
        "The UNB date has 8 digits (CCYYMMDD), which syntax 4 uses, under syntax 1 to 3 (YYMMDD).",
        "Nothing, unless the partner is `strict`; the sender's translator should say syntax 4.",
    ),
    Code.HLEVEL_MISMATCH: Explanation(
        "An IDoc segment's HLEVEL disagrees with its place by PSGNUM (or the schema's order),"
        " which decides; SAP itself writes such HLEVELs.",
        "Nothing, unless the partner is `strict`; the sending port's HLEVEL is cosmetic.",
    ),
    Code.UNMAPPED_SEGMENT: Explanation(
        "A standard SAP segment that the basic type's shipped table does not list; it is kept"
        " undecoded under `extensions.idoc_segments`.",
        "Nothing, unless a value in it is needed: then add the segment to a site schema.",
    ),
    Code.BLANK_DOCNUM: Explanation(
        "An IDoc from a non-SAP sender has no DOCNUM; it is keyed by sender and file content.",
        "Nothing, unless the partner is `strict`; ask the sender to number its IDocs.",
    ),
    Code.UTF8_CONTENT: Explanation(
        "The interchange declares a single-byte character set (UNOA, UNOC…) but its bytes are"
        " valid UTF-8 with multi-byte characters; it was read as UTF-8.",
        "Nothing, unless the partner is `strict`; ask the sender to declare UNOW or UNOY.",
    ),
}


def explanation(code: Code) -> Explanation:
    """The meaning and remedy of `code`."""
    return EXPLANATIONS[code]


def lookup(text: str) -> Code | None:
    """The code `text` names (case and blanks forgiven, merged names accepted), or None."""
    try:
        return Code(text.strip().lower())
    except ValueError:
        return None


def close_matches(text: str) -> list[str]:
    """Codes spelt like `text`, best first: for a code that does not exist."""
    names = [str(code) for code in Code] + list(MERGED)
    return difflib.get_close_matches(text.strip().lower(), names, n=5, cutoff=0.6)
