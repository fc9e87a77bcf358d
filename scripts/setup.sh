#!/usr/bin/env bash
# Install what hrwatch needs on a fresh Debian machine with Python 3.11: the package with its test
# extras, and (as later parts need them) system packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[dev]'
