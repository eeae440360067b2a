#!/usr/bin/env bash
# Quick start, step 1: set up (idempotent) and start the Strata daemon in the foreground.
# Extra arguments go to `strata server` (e.g. --port 4566 --data-dir ~/.strata).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec bin/strata server "$@"
