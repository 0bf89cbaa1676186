#!/usr/bin/env node
// Prints the failures of a `jest --json --outputFile F` run again, short, so that they end the CI log: the log is
// long and read from its tail (the browser tests and lint print after jest).
const fs = require('node:fs');

const file = process.argv[2];
if (!file || !fs.existsSync(file)) {
  console.log(`[test] no jest results at ${file}: jest did not get to write them (see its output above)`);
  process.exit(0);
}
const MAX_LINES = 80;
const results = JSON.parse(fs.readFileSync(file, 'utf8'));
for (const suite of results.testResults.filter(s => s.status === 'failed')) {
  console.log(`\n[test] FAIL ${suite.name.replace(process.cwd() + '/', '')}`);
  // The suite's message holds every failure of it, hooks (beforeAll/afterAll) included; frames inside
  // node_modules say nothing about our code.
  const lines = suite.message
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '') // colour codes
    .split('\n')
    .filter(l => !/^\s+at .*node_modules\//.test(l));
  console.log(lines.slice(0, MAX_LINES).join('\n'));
  if (lines.length > MAX_LINES) {
    console.log(`  [… ${lines.length - MAX_LINES} more lines in the jest output above]`);
  }
}
