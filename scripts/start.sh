#!/usr/bin/env bash
# `npm start`: installs npm packages if missing, builds, and serves with the
# file backend and the shipped example config (config/).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
npm run build --silent
exec dist/cwm.js serve "$@"
