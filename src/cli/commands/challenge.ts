/**
 * `ain challenge <notebook.ipynb>`: submits the challenge a notebook's evidence proves — two receipts the provider
 * signed for one step (equivocation), or a signed receipt an anchored checkpoint contradicts — which slashes the
 * provider's stake on-chain, refunds the client and rewards the challenger. Prints the slash transaction and the
 * payout; says so plainly when the run is already slashed or settled (its challenge window over).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeError } from '../../core/errors.js';
import { recheckEvidence } from '../../chain/evidence-recheck.js';
import { challengeRun } from '../challenge-flow.js';
import { ICommand } from '../main.js';
import { pickRun, readNotebookInput, runEvidence } from '../verify-input.js';
import {
  DEPLOYMENT_BLOCK_USAGE,
  eventScan,
  KEY_OPTIONS,
  KEY_USAGE,
  rpcFor,
  runChainConfig
} from '../verify-session.js';

const USAGE = `Usage: ain challenge <notebook.ipynb> [options]

Finds what the notebook's evidence proves against its provider (two receipts signed for one step; a receipt an
anchored checkpoint contradicts) and submits it to the RunRegistry, which slashes the provider's stake. Exit: 0
slashed, 1 nothing to challenge (or already slashed, or settled), 2 error.
  --run RUN_ID          which run of the notebook (default: its latest run with receipts)
  --rpc URL             JSON-RPC endpoint of the run's chain (default on development chains: the embedded chain)
${DEPLOYMENT_BLOCK_USAGE}
  --write               note the challenge transaction in the notebook's metadata.ain
${KEY_USAGE}`;

const OPTIONS = {
  run: { type: 'string' },
  rpc: { type: 'string' },
  'deployment-block': { type: 'string' },
  write: { type: 'boolean', default: false },
  ...KEY_OPTIONS
} as const;

export const command: ICommand = {
  summary: "challenge a provider on-chain with a notebook's evidence (equivocation, contradicted receipts)",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
    if (positionals.length !== 1) {
      console.error(`ain challenge: give exactly one notebook.\n\n${USAGE}`);
      return 2;
    }
    const log = (line: string) => console.error(`  ${line}`);
    const input = readNotebookInput(resolve(positionals[0]));
    input.problems.forEach(p => log(`metadata.ain: ${p}`));
    const picked = pickRun(input.evidence, values.run);
    const rpcUrl = rpcFor(picked, values.rpc);
    const explicit =
      values['deployment-block'] === undefined ? undefined : Number(values['deployment-block']);
    if (explicit !== undefined && (!Number.isSafeInteger(explicit) || explicit < 0)) {
      throw makeError(
        'VERIFY_INPUT_INVALID',
        `--deployment-block must be a block number, not "${values['deployment-block']}".`
      );
    }
    const { run, deploymentBlock } = eventScan(picked, explicit);
    const config = await runChainConfig(run, rpcUrl, deploymentBlock);
    const recheck = await recheckEvidence(
      { ...runEvidence(input.evidence, run.runId), runs: [run] },
      { rpcUrl, deploymentBlock }
    );
    if (recheck.runs[0]?.status === null) {
      throw makeError('CHAIN_UNREACHABLE', recheck.runs[0].chainNote);
    }
    return challengeRun(input, run, recheck, config, values, log);
  }
};
