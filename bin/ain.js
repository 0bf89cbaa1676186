#!/usr/bin/env node
// The `ain` command: a thin launcher for the compiled CLI (npm run build:lib writes lib-node/).
'use strict';
let cli;
try {
  cli = require('../lib-node/cli/main.js');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('lib-node/cli/main.js')) {
    console.error(
      'ain: the CLI is not built yet. Run `npm run build:lib` in the jupyterlab-ain folder first.'
    );
    process.exit(2);
  }
  throw e;
}
cli.main(process.argv.slice(2)).then(code => {
  process.exitCode = code;
});
