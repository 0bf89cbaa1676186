/**
 * The run's agent as its client sees it, for `ain verify` and `ain challenge`: the agent shows a run's stored
 * outputs, artifacts and Merkle proofs only to the run's client, so a verifier gets them only when its key is the
 * client's (on-chain RunRegistry.getRun(runId).client). Anyone else verifies from the notebook alone.
 */
import { getAddress, Wallet } from 'ethers';
import { AgentClient } from '../chain/agent-client.js';
import type { RunRegistryClient } from '../chain/run-registry.js';
import type { IAinRunRecord } from '../core/evidence.js';

/** A logged-in client of the run's agent, or null (with a note saying why) when it cannot be had. */
export async function clientAgent(
  run: IAinRunRecord,
  wallet: Wallet | null,
  registry: RunRegistryClient,
  note: (line: string) => void
): Promise<AgentClient | null> {
  if (!wallet) {
    return null;
  }
  const onChain = await registry.getRun(run.runId);
  if (onChain.status === 'none' || getAddress(onChain.client) !== getAddress(wallet.address)) {
    note(`the key is not the run's client: the agent's copies of outputs and artifacts are not used`);
    return null;
  }
  if (!run.endpoint) {
    return null;
  }
  const agent = new AgentClient({ endpoint: run.endpoint, signer: wallet });
  try {
    await agent.login();
    return agent;
  } catch (e) {
    agent.dispose();
    note(
      `the run's agent at ${run.endpoint} is not usable (${(e as Error).message}); verifying from the notebook`
    );
    return null;
  }
}
