/**
 * `ain verify <notebook.ipynb>`: headless verification for CI. Reads the notebook's evidence (metadata.ain),
 * re-checks every signature, the receipt chain and the Merkle proofs against the roots anchored on-chain, then
 * re-executes the run in a fresh kernel (local, or a run on another provider) at the chosen level and compares.
 * Prints a table (or the report as JSON, or JUnit XML for CI); can attest the result on-chain, save the
 * verification records into the notebook, and challenge what the evidence proves.
 *
 * Exit codes: 0 verified; 1 a mismatch, a failed proof or invalid evidence; 2 an error (bad input, an unreachable
 * chain or provider, a kernel that could not start).
 */
import { writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isAddress } from 'ethers';
import { isAinError, makeError } from '../../core/errors.js';
import type { ICellExecutor, IVerificationReport, VerificationLevel } from '../../core/verification.js';
import { verifyContext } from '../../core/verify-context.js';
import { verificationRecords, verifyNotebook } from '../../core/verify-run.js';
import { findChallenges } from '../../chain/challenges.js';
import { recheckEvidence } from '../../chain/evidence-recheck.js';
import { RunRegistryClient } from '../../chain/run-registry.js';
import { ChainSession } from '../../chain/session.js';
import { attestReport, readCheckpointSampling } from '../../chain/verify-chain.js';
import { runBundle } from '../verify-bundle.js';
import { startExecutor } from '../verify-executor.js';
import { challengeRun } from '../challenge-flow.js';
import { ICommand } from '../main.js';
import { NodeEvidenceSource } from '../verify-evidence-source.js';
import {
  evidenceFails,
  evidenceJunit,
  evidenceTable,
  IEvidenceSummary,
  summarizeEvidence
} from '../verify-evidence-check.js';
import { appendRaw, pickRun, readNotebookInput, runEvidence, updateEvidence } from '../verify-input.js';
import { reportJunit, reportTable } from '../verify-report.js';
import {
  DEPLOYMENT_BLOCK_USAGE,
  eventScan,
  KEY_OPTIONS,
  KEY_USAGE,
  rpcFor,
  runChainConfig,
  signingSession,
  verifierWallet
} from '../verify-session.js';
import { clientAgent } from '../verify-agent.js';

const LEVELS: VerificationLevel[] = ['execution', 'checkpoint', 'solution'];

const USAGE = `Usage: ain verify <notebook.ipynb> [options]

Re-checks a notebook's evidence (signatures, receipt chain, Merkle proofs against the anchored roots), then
re-executes its run and compares cell by cell. Exit: 0 verified, 1 mismatch / failed proof / invalid evidence,
2 error (bad input, unreachable chain or provider).
  --reproduce WHERE     local (default: a fresh kernel on this machine) or a provider's address (opens a run there)
  --level LEVEL         execution (default: every cell) | checkpoint (sampled checkpoints) | solution (objective cells)
  --samples K           checkpoint level: how many anchored checkpoints to re-check (default 3)
  --run RUN_ID          which run of the notebook (default: its latest run with receipts)
  --rtol X --atol X     default numeric tolerance (cells override with ain:rtol= / ain:atol= tags)
  --data PATH           a data file or folder the notebook reads (as with ain pack); repeatable
  --bundle FILE|agent   re-execute with the run's own bundle (checked against its on-chain hash) instead of the
                        notebook's folder: a .ainb file, or "agent" (published, or the client's copy)
  --artifacts DIR       artifacts for the solution level, named by path or sha256 (else the agent's, to its client)
  --data-dir DIR        verifier data: environment cache (default ~/.ain/verify)
  --budget TOKENS       escrow of a --reproduce <provider> run (default: 15 minutes at the provider's price)
  --cell-timeout SEC    per-cell timeout (default 600)
Output:
  --json                print the report as JSON (progress goes to stderr)
  --junit FILE          also write JUnit XML (one testcase per step) for CI
  --write               save the verification records into the notebook's metadata.ain (nothing else changes)
On-chain:
  --rpc URL             JSON-RPC endpoint of the run's chain (default on development chains: the embedded chain)
${DEPLOYMENT_BLOCK_USAGE}
  --attest              sign the result and record it with RunRegistry.attest (needs a key)
  --challenge           also submit the challenges the evidence proves (equivocation, contradicted receipts)
${KEY_USAGE}`;

const OPTIONS = {
  reproduce: { type: 'string', default: 'local' },
  level: { type: 'string', default: 'execution' },
  samples: { type: 'string', default: '3' },
  run: { type: 'string' },
  rtol: { type: 'string' },
  atol: { type: 'string' },
  data: { type: 'string', multiple: true, default: [] as string[] },
  bundle: { type: 'string' },
  artifacts: { type: 'string' },
  'data-dir': { type: 'string' },
  budget: { type: 'string' },
  'cell-timeout': { type: 'string', default: '600' },
  json: { type: 'boolean', default: false },
  junit: { type: 'string' },
  write: { type: 'boolean', default: false },
  rpc: { type: 'string' },
  'deployment-block': { type: 'string' },
  attest: { type: 'boolean', default: false },
  challenge: { type: 'boolean', default: false },
  ...KEY_OPTIONS
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

export const command: ICommand = {
  summary: 'verify a notebook run: re-check its evidence, reproduce it, compare (exit 0/1/2 for CI)',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
    if (positionals.length !== 1) {
      console.error(`ain verify: give exactly one notebook.\n\n${USAGE}`);
      return 2;
    }
    // Every option is checked before anything starts: a typo must not cost an environment build.
    const level = Private.level(values.level!);
    const samples = Private.int(values.samples!, '--samples');
    const explicitBlock =
      values['deployment-block'] === undefined
        ? undefined
        : Private.int(values['deployment-block'], '--deployment-block');
    const tolerance = {
      ...(values.rtol !== undefined ? { rtol: Private.number(values.rtol, '--rtol') } : {}),
      ...(values.atol !== undefined ? { atol: Private.number(values.atol, '--atol') } : {})
    };
    const cellTimeoutMs = Private.number(values['cell-timeout']!, '--cell-timeout') * 1000;
    const where = Private.where(values.reproduce!);
    const budget =
      values.budget !== undefined
        ? BigInt(Math.round(Private.number(values.budget, '--budget') * 1e6)) * 10n ** 12n
        : undefined;
    const file = resolve(positionals[0]);
    const log = (line: string) => console.error(`  ${line}`);

    // 1. The notebook and its evidence; bad input stops here, before any kernel or chain.
    const input = readNotebookInput(file);
    input.problems.forEach(p => log(`metadata.ain: ${p}`));
    const run = pickRun(input.evidence, values.run);
    const evidence = runEvidence(input.evidence, run.runId);
    verifyContext(input.notebook, evidence, { runId: run.runId });

    // 2. The chain: the endpoint must serve the run's chain; every receipt re-checked against it. The run's
    // events are read from its opening block when the chain confirms it, unless --deployment-block overrides.
    const rpcUrl = rpcFor(run, values.rpc);
    const scan = eventScan(run, explicitBlock);
    const config = await runChainConfig(run, rpcUrl, scan.deploymentBlock);
    log(`re-checking ${evidence.receipts.length} receipts against chain ${run.chainId} (${rpcUrl})`);
    const recheck = await recheckEvidence(
      { ...evidence, runs: [scan.run] },
      { rpcUrl, deploymentBlock: scan.deploymentBlock }
    );
    if (recheck.runs[0]?.status === null) {
      throw makeError('CHAIN_UNREACHABLE', recheck.runs[0].chainNote);
    }
    const summary = summarizeEvidence(recheck, run.runId, findChallenges(evidence, recheck));
    if (values.challenge) {
      // Its own lines on stdout; "nothing to challenge" is no failure of the verification.
      await challengeRun(input, scan.run, recheck, config, values, log);
    }
    if (evidenceFails(summary)) {
      // Invalid evidence is a failed verification: nothing a re-execution finds could make it valid.
      Private.outputEvidence(values, file, summary);
      return 1;
    }

    // 3. Re-execute and compare.
    const reader = await ChainSession.connect(config);
    let report: IVerificationReport;
    let executor: ICellExecutor | undefined;
    try {
      const sampling =
        level === 'checkpoint'
          ? await readCheckpointSampling(
              new RunRegistryClient(reader),
              run.runId,
              samples,
              scan.run.openedBlock
            )
          : undefined;
      const wallet = await verifierWallet(values, run.chainId);
      const agent = await clientAgent(run, wallet, new RunRegistryClient(reader), log);
      const source = new NodeEvidenceSource({ evidence, agent, artifactsDir: values.artifacts, onNote: log });
      const bundle = values.bundle
        ? await runBundle(
            values.bundle,
            (await new RunRegistryClient(reader).getRun(run.runId)).bundleHash,
            run.endpoint,
            agent,
            log
          )
        : null;
      executor = await startExecutor(
        {
          file,
          where,
          budget,
          bundle,
          config,
          data: values.data ?? [],
          dataDir: resolve(values['data-dir'] ?? join(homedir(), '.ain', 'verify')),
          keys: values
        },
        log
      );
      const stopOnSignal = () => void executor?.dispose().finally(() => process.exit(2));
      process.once('SIGINT', stopOnSignal);
      process.once('SIGTERM', stopOnSignal);
      report = await verifyNotebook(input.notebook, evidence, executor, source, {
        level,
        runId: run.runId,
        ...tolerance,
        ...(sampling ? { sampling } : {}),
        cellTimeoutMs,
        onProgress: p => log(`[${p.done}/${p.total}] ${p.message}`)
      });
      agent?.dispose();
    } finally {
      await executor?.dispose();
      reader.close();
    }

    // 4. On-chain attestation and the notebook's records.
    let txHash: string | undefined;
    let verifier: string | undefined;
    let attestFailed = false;
    if (values.attest && report.outcome !== 'error') {
      try {
        const session = await signingSession(config, values, '--attest');
        try {
          verifier = await session.address();
          const registry = new RunRegistryClient(session);
          const tx = await attestReport(registry, report, registry.domain, session.requireSigner());
          txHash = tx.hash;
          log(`attested as ${verifier}: transaction ${tx.hash} (block ${tx.blockNumber})`);
        } finally {
          session.close();
        }
      } catch (e) {
        // The verification stands and is still shown and saved; the failed attestation makes the exit code 2.
        if (!isAinError(e)) {
          throw e;
        }
        console.error(`ain verify: not attested: ${e.message}`);
        verifier = undefined;
        attestFailed = true;
      }
    }
    if (values.write) {
      const records = verificationRecords(report, new Date().toISOString(), verifier).map(r =>
        txHash ? { ...r, txHash } : r
      );
      await updateEvidence(file, raw => appendRaw(raw, 'verifications', records));
      log(`${records.length} verification record(s) saved in ${basename(file)}`);
    }
    Private.output(values, file, report, summary);
    const outcome = report.outcome === 'verified' ? 0 : report.outcome === 'mismatch' ? 1 : 2;
    return attestFailed ? 2 : outcome;
  }
};

namespace Private {
  export function level(value: string): VerificationLevel {
    if (!LEVELS.includes(value as VerificationLevel)) {
      throw makeError('VERIFY_INPUT_INVALID', `--level must be one of ${LEVELS.join(', ')}, not "${value}".`);
    }
    return value as VerificationLevel;
  }

  export function int(value: string, flag: string): number {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw makeError('VERIFY_INPUT_INVALID', `${flag} must be a whole number >= 0, not "${value}".`);
    }
    return n;
  }

  export function number(value: string, flag: string): number {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) {
      throw makeError('VERIFY_INPUT_INVALID', `${flag} must be a number >= 0, not "${value}".`);
    }
    return n;
  }

  export function where(value: string): 'local' | string {
    if (value !== 'local' && !isAddress(value)) {
      throw makeError(
        'VERIFY_INPUT_INVALID',
        `--reproduce must be "local" or a provider's address (0x and 40 hex digits), not "${value}".`
      );
    }
    return value;
  }

  export function output(
    values: Values,
    file: string,
    report: IVerificationReport,
    evidence: IEvidenceSummary
  ): void {
    if (values.junit) {
      writeFileSync(values.junit, reportJunit(report, basename(file)));
    }
    if (values.json) {
      console.log(JSON.stringify({ notebook: file, ...report, evidence }, null, 2));
    } else {
      console.log(reportTable(report, evidence.notes));
    }
  }

  /** Evidence that fails its checks: the failing receipts instead of a report (nothing was re-executed). */
  export function outputEvidence(values: Values, file: string, evidence: IEvidenceSummary): void {
    if (values.junit) {
      writeFileSync(values.junit, evidenceJunit(evidence, basename(file)));
    }
    if (values.json) {
      const summary = `The evidence fails its checks at ${evidence.invalid.length + evidence.contradicted.length + evidence.equivocations.length} receipt(s); nothing was re-executed.`;
      console.log(
        JSON.stringify(
          { notebook: file, runId: evidence.runId, outcome: 'mismatch', summary, steps: [], evidence },
          null,
          2
        )
      );
    } else {
      console.log(evidenceTable(evidence));
    }
  }
}
