#!/usr/bin/env bash
# The README's first command: set up, drop every bundled sample into a fresh demo root, run the
# gateway once with its built-in defaults (local folders, SQLite), and show what came out.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e .; } > .venv/install.log 2>&1; then
  cat .venv/install.log >&2
  exit 1
fi

root=demo-root
rm -rf "$root"
mkdir -p "$root/inbound"
find samples/inbound -type f ! -name 'README*' -exec cp {} "$root/inbound/" \;

echo "== gateway run --once --root $root   (log: $root/gateway.log)"
.venv/bin/gateway run --once --root "$root" > "$root/gateway.log"
echo
echo "== gateway status"
.venv/bin/gateway status --root "$root"
echo
echo "== accepted: canonical JSON Lines in $root/outbound/canonical/"
for f in "$root"/outbound/canonical/*.jsonl; do
  printf '%6s record(s)  %s\n' "$(wc -l < "$f")" "$(basename "$f")"
done
first=$(ls "$root"/outbound/canonical/*.jsonl | head -n 1)
echo
echo "== first record of $(basename "$first"):"
.venv/bin/python - "$first" <<'PY'
import json, sys
record = json.loads(open(sys.argv[1], encoding="utf-8").readline())
compact = {k: v for k, v in record.items() if v not in (None, [], {})}
compact["lines"] = [{k: v for k, v in line.items() if v not in (None, {})} for line in record.get("lines", [])]
print(json.dumps(compact, indent=1, ensure_ascii=False))
PY
echo
echo "== quarantined: $root/quarantine/<file_id>/{original, error.json, error.txt}"
.venv/bin/gateway quarantine list --root "$root"
echo
for report in "$root"/quarantine/*/error.txt; do
  cat "$report"
done
