#!/usr/bin/env bash
# The README's test command: set everything up, then run every test — lint, unit and integration specs (real
# processes), and the browser tests in Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PATH="$PWD/.venv/bin:$PATH"

bash scripts/setup.sh

if [ ! -x "${AIN_CHROMIUM:-/usr/bin/chromium}" ]; then
  printf '\n[test] Debian chromium for the browser tests\n'
  if [ "$(id -u)" -ne 0 ]; then
    echo "The browser tests need Debian's chromium: run 'sudo apt-get install -y chromium fonts-liberation' (or set AIN_CHROMIUM)." >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation > /dev/null
fi

# bubblewrap sandboxes the agent's kernels (src/agent/kernel-sandbox.ts); the isolation specs check it. Without it
# (not root, no apt) the agent runs kernels unsandboxed and the specs record that instead.
if ! command -v bwrap > /dev/null && [ "$(id -u)" -eq 0 ]; then
  printf '\n[test] Debian bubblewrap for the kernel sandbox\n'
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap > /dev/null
fi

# Every stage runs even when an earlier one fails, so one run reports everything; the exit code is a failure
# if any stage failed.
failed=()
printf '\n[test] unit and integration\n'
mkdir -p .test-results
rm -f .test-results/jest.json
npx jest --ci --json --outputFile=.test-results/jest.json || failed+=(jest)
printf '\n[test] browser (galata)\n'
npx playwright test -c tests/ui/playwright.config.js || failed+=(browser)
printf '\n[test] lint\n'
npm run lint || failed+=(lint)
if [ ${#failed[@]} -gt 0 ]; then
  if [[ " ${failed[*]} " == *" jest "* ]]; then
    node scripts/test-failures.js .test-results/jest.json
  fi
  printf '\n[test] FAILED: %s\n' "${failed[*]}"
  exit 1
fi
printf '\n[test] all passed\n'
