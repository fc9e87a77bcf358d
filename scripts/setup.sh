#!/usr/bin/env bash
# Install what hrwatch needs on a fresh Debian machine with Python 3.11: the package with its test
# extras, and (as later parts need them) system packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[dev]'

# Review queue (issue 4): the web UI's browser tests drive Debian's Chromium through the Python
# playwright package (never `playwright install`: its browser download is not reachable here).
if [ ! -x /usr/bin/chromium ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y --no-install-recommends chromium
fi

# Monitoring (issue 6): tests/monitoring runs Debian's Prometheus (and promtool) against a running pipeline.
if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y --no-install-recommends prometheus
fi

# Store tests run against PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`). The machine
# image ships it; start the cluster if it is installed but stopped.
if command -v pg_lsclusters >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    for version in $(ls /etc/postgresql 2>/dev/null); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
fi
