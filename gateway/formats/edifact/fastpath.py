"""Regular expressions that recognise valid EDIFACT segment texts in one C-level match.

The detailed element check (`MessageSchema._elements`) splits a segment and looks at every
value in Python, which is what dominates validating a large interchange. A pattern built here
from the same segment definitions accepts only texts that check would find nothing wrong with;
a text it does not accept goes to the detailed check, which says where the problem is. So a
pattern may be stricter than the check, never looser (a differential test holds it to that).

Soundness rests on each pattern being plain and unambiguous:

- Service characters only ever stand for themselves; a released one (`?+`) is one character of
  an `an` value, as the tokenizer reads it, and nowhere else. So an accepted text splits into
  elements and components exactly where the pattern splits it, and counts the same lengths.
- Each text has at most one way to match, so a text that fails is given up in linear time.
  (That is also why there are no possessive quantifiers or atomic groups: those can cut a match
  short, and before Python 3.11.5 possessive groups could even match what they should not.)
- Service characters that a value could contain (digits, letters, `.,-`) or that coincide
  switch the fast path off for that interchange.
- Optional parts are branches `(?:x|)` rather than quantified groups: `re` runs those faster.
- A simple element written with trailing component separators (`A:`, which the tokenizer reads
  as `A`) is left to the detailed check: allowing for it would cost every element a repeat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.formats.edifact.segment import Delimiters

#: Characters a value's format may use; a service character among them would be ambiguous.
_IN_VALUES = frozenset("0123456789.,-")
NEVER = "(?!)"


def optional(pattern: str) -> str:
    """`pattern` or nothing, as a branch."""
    return f"(?:{pattern}|)"


@dataclass(frozen=True)
class Chars:
    """The service characters of one interchange, escaped for patterns; `released` patterns also
    take released characters in `an` values, at the cost of matching those a character at a time."""

    component: str
    data: str
    release: str
    terminator: str
    specials: str  # for a character class: everything a value may not contain unreleased
    released: bool

    @classmethod
    def of(cls, delimiters: Delimiters, repetition: str | None, released: bool) -> Chars | None:
        """The characters for `delimiters` (and the syntax 4 repetition separator, if any); None
        when they leave values ambiguous and only the detailed check can be trusted."""
        d = delimiters
        specials = [d.component, d.data, d.release, d.terminator, *([repetition] if repetition else [])]
        if len(set(specials)) < len(specials) or any(c.isalnum() or c in _IN_VALUES for c in specials):
            return None
        return cls(
            re.escape(d.component),
            re.escape(d.data),
            re.escape(d.release),
            re.escape(d.terminator),
            "".join(re.escape(c) for c in specials),
            released,
        )

    # Each value pattern below takes `low` 0 to mean "or empty": a repeat then accepts nothing
    # without the branch `optional` would add.

    def text(self, low: int, high: int) -> str:
        """`an`: `low` to `high` characters of any kind; a released character counts as one."""
        s = self.specials
        if not self.released:
            return f"[^{s}]{{{low},{high}}}"
        return f"(?:[^{s}]|{self.release}[^\\n]){{{low},{high}}}"

    def alphabetic(self, low: int, high: int) -> str:
        """`a`: no digit. Only ASCII, because `str.isdigit` also knows other scripts' digits."""
        return f"[^{self.specials}0-9\\x80-\\U0010ffff]{{{low},{high}}}"

    @staticmethod
    def numeric(low: int, high: int) -> str:
        """`n`: an optional minus, digits and at most one `.` or `,`; `low` to `high` digits.

        Plain digits come first, as the commonest. With a decimal mark, a lookahead bounds the
        whole run of digits and marks (the one mark included) before the number is matched."""
        least = max(low, 1)
        run = f"(?=[0-9.,]{{{least + 1},{high + 1}}}(?![0-9.,]))"
        return f"(?:[0-9]{{{low},{high}}}|-[0-9]{{{least},{high}}}|-?{run}(?:[0-9]+[.,][0-9]*|[.,][0-9]+))"

    def codes(self, codes: Sequence[str], present: bool) -> str:
        """One of `codes` exactly (or nothing, unless `present`); codes holding a service
        character are left to the slow path."""
        plain = [c for c in codes if c and not re.search(f"[{self.specials}]", c)]
        if not plain:
            return NEVER if present else ""
        listed = "|".join(re.escape(c) for c in sorted(plain, key=lambda c: (-len(c), c)))
        return f"(?:{listed})" if present else f"(?:{listed}|)"

    @staticmethod
    def chain(separator: str, parts: Sequence[tuple[str, bool]], last: str = "") -> str:
        """`parts` (pattern, mandatory), each after `separator`, then `last`; a text may stop
        after any part unless a mandatory one is still to come."""
        tail, required = last, False
        for pattern, mandatory in reversed(parts):
            required = required or mandatory
            tail = f"{separator}{pattern}{tail}"
            if not required:
                tail = optional(tail)
        return tail

    def composite(self, parts: Sequence[tuple[str, str, bool]], mandatory: bool) -> str:
        """A composite of component `parts` (pattern of its non-empty values, pattern that also
        accepts empty, mandatory).

        The tokenizer drops trailing empty components, so separators beyond the last component
        are fine (only there, so that each text matches one way); an empty composite is only a
        problem when the composite is mandatory."""
        c = self.component
        trailing = f"{c}*"
        present, maybe, first = parts[0]
        rest = [(p if m else e, m) for p, e, m in parts[1:]]
        whole = f"{present if first else maybe}{self.chain(c, rest, trailing)}"
        if any(m for _, _, m in parts):
            return whole if mandatory else f"(?:{whole}|{trailing})"
        if not mandatory:
            return whole  # it accepts an empty composite as well

        def present_from(i: int) -> str:  # components before i are empty, component i is not
            after = [(e, False) for _, e, _ in parts[i + 1 :]]
            return f"{c * i}{parts[i][0]}{self.chain(c, after, trailing)}"

        return "(?:" + "|".join(present_from(i) for i in range(len(parts))) + ")"

    def segments(self, elements: dict[str, list[tuple[str, bool]]]) -> re.Pattern[str]:
        """Any number of segments joined by the terminator, each one of the tags in `elements`
        with its elements (pattern accepting "" unless mandatory, mandatory).

        Branches are grouped by the tag's first letter, so `re` tries a handful, not all."""
        by_letter: dict[str, list[str]] = {}
        for tag, parts in sorted(elements.items()):
            by_letter.setdefault(tag[0], []).append(re.escape(tag[1:]) + self.chain(self.data, parts))
        one = "(?:" + "|".join(f"{re.escape(k)}(?:{'|'.join(v)})" for k, v in by_letter.items()) + ")"
        return re.compile(f"{one}(?:{self.terminator}{one})*")
