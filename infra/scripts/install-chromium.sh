#!/usr/bin/env bash
# Installs Debian's chromium package for the browser test of the labelling page, unless
# /usr/bin/chromium is already there. Needs root (or sudo) and access to the Debian package mirror.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  run_as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run_as_root=(sudo -n)
else
  echo "[chromium] /usr/bin/chromium is missing and installing it needs root: run 'apt-get install -y chromium' as root" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[chromium] /usr/bin/chromium is missing and apt-get is not available: install Chromium with this system's package manager" >&2
  exit 1
fi
echo "[chromium] installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
"${run_as_root[@]}" apt-get update >&2
"${run_as_root[@]}" apt-get install -y --no-install-recommends chromium >&2
