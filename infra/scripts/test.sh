#!/usr/bin/env bash
# The README's test command: typecheck, lint, then the vitest suites. Integration suites install the
# local stack binaries when missing and start their own Temporal and SeaweedFS on free loopback ports.
set -euo pipefail
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
cd "$(dirname "$0")/../.."
bash infra/scripts/ensure-deps.sh
node --import tsx -e "require('./infra/stack').installStack(require('./infra/stack').stackOptionsFromEnv())"
# The native TensorFlow backend, built from the PyPI wheel, so that its numerical check against
# WebAssembly runs. A failed build only skips that check: training falls back to WebAssembly.
if ! bash infra/native-tf/build.sh --install-into-repo >&2; then
  echo "[test] the native TensorFlow build failed; test/ml-native.test.ts will be skipped" >&2
fi
# The default BERT model, for the check of the TensorFlow.js encoder against PyTorch's numbers.
# Without it that one check is skipped; every other BERT test uses a tiny model the tests build.
if ! bash infra/scripts/install-bert.sh >&2; then
  echo "[test] the BERT model could not be installed; the all-MiniLM-L6-v2 check will be skipped" >&2
fi
echo "[test] typecheck" >&2
npx tsc -p .
echo "[test] lint" >&2
npx eslint .
npx prettier --check . >&2
echo "[test] vitest" >&2
npx vitest run "$@"
