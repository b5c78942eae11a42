#!/usr/bin/env bash
# `npm test`: installs what is missing, builds, then runs unit, integration and
# scenario tests. Tests start their own etcd / Redis / Kafka test broker on free
# loopback ports and stop them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run build --silent
files=$(find dist/test -name '*.test.js' | sort)
exec node --test --test-concurrency=2 --test-timeout=180000 $files
