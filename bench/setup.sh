#!/usr/bin/env bash
# Creates the Python environment of the reference side of `npm run bench` in .stack/bench-venv.
#
# PyTorch comes from Debian's python3-torch when the system Python cannot import torch: PyPI's
# Linux torch wheels pull in gigabytes of CUDA libraries, and PyTorch's own CPU-only wheel index is
# not a registry that this project's machines can reach. Debian builds torch for /usr/bin/python3
# only, so the venv is made from that interpreter with --system-site-packages, and numpy stays
# below 2 because Debian's torch 1.13 was compiled against numpy 1.x. OpenBLAS is installed too,
# because Debian's torch calls the system libblas.so.3. With Debian's reference BLAS behind it, the
# generator's dense layer at the study shape (8x24000 times 24000x1200) ran 4 times slower on a
# 2-core development machine.
#
# Without apt-get, or when not root, torch comes from PyPI into a venv of the first python3 on PATH.
#
# Usage: bash bench/setup.sh   (does nothing when the environment is complete)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.stack/bench-venv
SYSTEM_PYTHON=/usr/bin/python3
OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3

apt_packages=()
if ! "$SYSTEM_PYTHON" -c 'import torch' 2>/dev/null; then
  apt_packages+=(python3-torch python3-venv)
fi
if [ ! -e "$OPENBLAS" ]; then
  apt_packages+=(libopenblas0-pthread)
fi
if [ ${#apt_packages[@]} -gt 0 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[bench setup] installing ${apt_packages[*]} with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >&2
fi

if "$SYSTEM_PYTHON" -c 'import torch' 2>/dev/null; then
  base_python=$SYSTEM_PYTHON
  torch_from_pypi=false
else
  base_python=$(command -v python3)
  torch_from_pypi=true
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[bench setup] creating $VENV from $base_python" >&2
  "$base_python" -m venv --system-site-packages "$VENV"
fi
if ! "$VENV/bin/python" -c 'import pandas, numpy, spacy' 2>/dev/null; then
  echo "[bench setup] installing pandas, numpy and spaCy from PyPI" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check pandas 'numpy<2' 'spacy==3.8.*' >&2
fi
# gensim 4.3.3 requires numpy below 2 and scipy below 1.14, so it installs beside the Debian torch.
if ! "$VENV/bin/python" -c 'import gensim' 2>/dev/null; then
  echo "[bench setup] installing gensim from PyPI" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'gensim==4.3.*' 'numpy<2' >&2
fi
if [ "$torch_from_pypi" = true ] && ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  echo "[bench setup] installing torch from PyPI" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check torch >&2
fi
