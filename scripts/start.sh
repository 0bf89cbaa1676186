#!/usr/bin/env bash
# The README's run command: set everything up, then start the product on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/ain.js dev "$@"
