"""`gateway explain [CODE]`: what a finding code means and what usually fixes it."""

from __future__ import annotations

import argparse
import sys

from gateway.explanations import EXPLANATIONS, close_matches, explanation, lookup
from gateway.findings import Code, described

#: The command line's exit codes (design contract) that `explain` uses.
EX_OK, EX_USAGE = 0, 2


def render(code: Code) -> str:
    """The code, its meaning, its usual remedy and its severity, as `explain` prints them."""
    text = explanation(code)
    return f"{code}: {text.meaning}\n  usually fixed by: {text.remedy}\n  severity: {described(code)}"


def explain(args: argparse.Namespace) -> int:
    """Explain one code; without a code, list every code with its meaning."""
    if args.code is None:
        width = max(len(code) for code in EXPLANATIONS)
        for code, text in EXPLANATIONS.items():
            print(f"{code:<{width}}  {text.meaning}")
        return EX_OK
    found = lookup(args.code)
    if found is None:
        similar = close_matches(args.code)
        hint = f"; did you mean: {', '.join(similar)}" if similar else "; `gateway explain` lists them"
        print(f"gateway: {args.code!r} is not a finding code{hint}", file=sys.stderr)
        return EX_USAGE
    if found != args.code.strip().lower():
        print(f"({args.code.strip()} is the former name of {found})")
    print(render(found))
    return EX_OK
