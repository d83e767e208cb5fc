#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine with Python 3.11, then run it.
# Idempotent: a second run reuses the virtual environment and installed packages.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

# The SFTP tests run a real OpenSSH server on 127.0.0.1; install it when it is missing.
# The PostgreSQL ledger's tests run a throwaway server (initdb in a temporary folder); they need
# Debian's postgresql binaries (the package's own cluster is not used).
missing=""
[ -x /usr/sbin/sshd ] || missing="openssh-server openssh-client"
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing="$missing postgresql"
if [ -n "$missing" ] && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  # shellcheck disable=SC2086  # a list of package names
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# The wheel, installed outside the checkout, must work as well as the editable install.
PYTHON=.venv/bin/python tests/installed.sh

.venv/bin/ruff check gateway benchmarks tests
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
