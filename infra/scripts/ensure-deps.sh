#!/usr/bin/env bash
# Installs npm dependencies when they are missing or older than the lock file. Optional native
# TensorFlow packages may fail to install here; npm skips them and the workers fall back.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] installing npm dependencies" >&2
  npm ci --no-audit --no-fund >&2
fi
