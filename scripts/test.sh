#!/usr/bin/env bash
# Quick start, step 2: set up (idempotent) and run the whole test suite: lint, type check,
# unit and integration tests (real engine, real server, real clients).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
echo "== lint"; node_modules/.bin/biome check .
echo "== typecheck"; node_modules/.bin/tsc --noEmit -p . && node_modules/.bin/tsc --noEmit -p src/console
echo "== EC2 model is what the generator makes"; bin/node scripts/generate-ec2-model.ts --check
echo "== tests"; npm test --silent
echo "== storage tests and the VM workflow again, every region on PostgreSQL + packs in S3 (private PostgreSQL, Ceph RGW)"; bin/node scripts/test-on-s3.ts --postgres
