#!/usr/bin/env bash
# Opt-in flakiness check (not run by CI): run the whole suite RUNS times in a row (default 5)
# while background processes keep every core busy, stop at the first red run, print a summary.
# A test that only passes on an idle machine is a failing test; this is how to find it.
#
#   bash tests/loaded.sh            # five loaded runs
#   RUNS=10 bash tests/loaded.sh    # more; extra arguments go to pytest, e.g. tests/service
#
# Needs the virtual environment tests/run.sh sets up. The load is one busy worker per core
# (LOAD_CORES=N for another count): `stress-ng --cpu N` when it is installed, else Python loops.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-5}
cores=${LOAD_CORES:-$(nproc)}
python=.venv/bin/python
[ -x "$python" ] || { echo "no .venv: run 'bash tests/run.sh' once first" >&2; exit 2; }

load_pids=()
stop_load() {
  # Only the processes this script started, by their ids.
  for pid in "${load_pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  wait "${load_pids[@]}" 2>/dev/null
  load_pids=()
}
trap stop_load EXIT
trap 'exit 130' INT TERM

if command -v stress-ng >/dev/null; then
  stress-ng --cpu "$cores" --quiet &
  load_pids+=($!)
  load="stress-ng --cpu $cores"
else
  for _ in $(seq "$cores"); do
    "$python" -c 'while True: pass' &
    load_pids+=($!)
  done
  load="$cores Python busy loops"
fi
echo "load: $load; $runs runs of the whole suite"

summary=()
status=0
for run in $(seq "$runs"); do
  log=$(mktemp)
  start=$SECONDS
  "$python" -m pytest -q -p no:cacheprovider "$@" 2>&1 | tee "$log"
  result=${PIPESTATUS[0]}
  line=$(grep -E '(passed|failed|error).* in [0-9.]+s' "$log" | tail -1 | tr -d '=' | sed 's/^ *//;s/ *$//')
  rm -f "$log"
  summary+=("run $run/$runs: exit $result, $((SECONDS - start))s wall: ${line:-no pytest summary}")
  if [ "$result" -ne 0 ]; then
    status=$result
    break
  fi
done

echo
echo "summary ($load):"
printf '  %s\n' "${summary[@]}"
if [ "$status" -eq 0 ]; then
  echo "all $runs loaded runs green"
else
  echo "stopped at the first red run"
fi
exit "$status"
