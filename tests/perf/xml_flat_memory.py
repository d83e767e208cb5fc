"""Opt-in proof that a huge XML catalogue maps with flat memory (not collected by pytest).

    .venv/bin/python tests/perf/xml_flat_memory.py [MB]      # default 500

Writes a generic ERP XML catalogue of about MB megabytes and one a tenth of that size into a
temporary folder, runs `gateway validate` logic on each in a fresh process (detect, decode, safe
iterparse, XSD per product, mapping to canonical records) and prints each one's peak RSS. Flat
memory means the two peaks are about equal although the inputs differ tenfold.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from benchmarks.xml import flat_memory

if __name__ == "__main__":
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 500.0
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(flat_memory(megabytes, Path(folder)), indent=2))
