#!/usr/bin/env bash
# The installed product works: build the wheel, install it into a fresh virtual environment
# outside the checkout, and from another folder check its version, its configuration, samples
# of every format and one service run. Fails on the first thing that is off. Called by run.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
samples=$repo/samples/inbound
tmp=$(mktemp -d)
console=""
trap '[ -z "$console" ] || kill "$console" 2>/dev/null; rm -rf "$tmp"' EXIT

fail() { echo "installed.sh: $*" >&2; exit 1; }

"$python" -m pip wheel -q --no-deps -w "$tmp/dist" "$repo"
wheel=$(ls "$tmp"/dist/gateway-*.whl)
"$python" - "$wheel" <<'EOF' || fail "the wheel lacks the schema or console files"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for needed in ("gateway/schemas/csv/product.toml", "gateway/schemas/edifact/DESADV_D96A.json",
               "gateway/schemas/idoc/_records.toml", "gateway/schemas/sage100/shipment.toml",
               "gateway/console/templates/case.html", "gateway/console/static/console.css"):
    assert needed in names, needed
assert not any(name.startswith("tests/") for name in names)
EOF

"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q "$wheel"
gateway=$tmp/venv/bin/gateway

# From a folder that is not the checkout, so nothing can be imported from the source tree.
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
unset PYTHONPATH

expected="gateway $(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/pyproject.toml")"
[ "$("$gateway" --version)" = "$expected" ] || fail "--version does not print '$expected'"

"$gateway" config check --root "$tmp/state" >/dev/null || fail "config check failed"

files=(
  "$samples/csv/products.csv" "$samples/csv/sales-orders.csv"
  "$samples/xml/erp_products.xml" "$samples/xml/ubl_order.xml"
  "$samples/idoc/matmas05-material.idoc" "$samples/idoc/orders05-extension-namespaced.xml"
  "$samples/edifact/desadv_d96a.edi" "$samples/edifact/invrpt_group.edi"
)
"$gateway" validate --root "$tmp/state" "${files[@]}" >"$tmp/validate.out" \
  || { cat "$tmp/validate.out" >&2; fail "validate refused a sample"; }
for format in csv xml idoc idoc-xml edifact; do
  grep -q ": ok ($format, " "$tmp/validate.out" || fail "no sample was read as $format"
done

mkdir -p "$tmp/state/inbound"
cp "${files[@]}" "$tmp/state/inbound/"
"$gateway" run --once --root "$tmp/state" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log" >&2; fail "run --once failed"; }
published=$(find "$tmp/state/outbound/canonical" -name '*.jsonl' | wc -l)
[ "$published" -eq "${#files[@]}" ] || fail "run --once published $published of ${#files[@]} files"
[ -z "$(ls -A "$tmp/state/quarantine")" ] || fail "run --once quarantined a sample"

# The console serves its pages (templates and stylesheet from the wheel) on the loopback.
port=$("$tmp/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$gateway" console --root "$tmp/state" --port "$port" >"$tmp/console.log" 2>&1 &
console=$!
"$tmp/venv/bin/python" - "$port" <<'EOF' || { cat "$tmp/console.log" >&2; fail "the console did not serve its pages"; }
import sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 60
while True:
    try:
        pages = {path: urllib.request.urlopen(base + path, timeout=5).read().decode() for path in
                 ("/quarantine", "/files", "/partners", "/targets", "/static/console.css")}
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
assert "The quarantine is empty." in pages["/quarantine"], pages["/quarantine"][:500]
assert "canonical" in pages["/targets"] and "font" in pages["/static/console.css"]
EOF
kill "$console"
wait "$console" 2>/dev/null || true
console=""
echo "installed.sh: the installed wheel read ${#files[@]} samples of every format and served the console"
