#!/usr/bin/env bash
# Everything the product and the tests need, on a fresh machine with Node 20 and Python 3.11: npm packages (from
# the lock), a .venv with JupyterLab, the build (TypeScript, contracts, the prebuilt extension) and the extension
# linked into the .venv. Safe to run again: each step is skipped when already up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

step() { printf '\n[setup] %s\n' "$*"; }

lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.ain-lock 2>/dev/null)" != "$lock_sum" ]; then
  step "npm packages (npm ci)"
  npm ci --no-audit --no-fund
  echo "$lock_sum" > node_modules/.ain-lock
fi

req_sum=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat .venv/.ain-requirements 2>/dev/null)" != "$req_sum" ]; then
  step "Python environment (.venv: JupyterLab, jupyter_server, ipykernel)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$req_sum" > .venv/.ain-requirements
fi

step "build (TypeScript, prebuilt JupyterLab extension)"
npm run build

if [ ! -L .venv/share/jupyter/labextensions/jupyterlab-ain ]; then
  step "link the extension into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
  PATH="$PWD/.venv/bin:$PATH" jupyter labextension develop --overwrite . > /dev/null
fi
step "ready"
