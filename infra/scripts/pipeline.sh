#!/usr/bin/env bash
# The one command of the README: install what is missing, start the local stack and a worker,
# and run the pipeline on the bundled data (or on --config FILE).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/ensure-deps.sh
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node --import tsx cli/textgan.ts run "$@"
