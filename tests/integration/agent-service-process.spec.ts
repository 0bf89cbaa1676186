/**
 * `ain provider start` as a child process (node bin/ain.js, built from this tree), against the embedded
 * development chain: registration on first start and no transaction on a restart, a keystore-held key, timed
 * checkpoints, an RPC outage across a SIGKILL of the agent (the queued checkpoint lands after the restart, once),
 * events and tokens that survive the restart, and the refusal of --fault and raw keys on a non-development chain.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SigningKey, Wallet, parseUnits } from 'ethers';
import { IDevChain, devPrivateKey, startDevChain } from '../../src/chain/dev-chain';
import { saveKeystore } from '../../src/chain/keystore-node';
import { RunRegistryClient } from '../../src/chain/run-registry';
import { ChainSession } from '../../src/chain/session';
import { TokenClient } from '../../src/chain/token';
import { devKeyWallet } from '../../src/chain/wallet';
import { openDatabase, AgentDatabase } from '../../src/agent/database';
import { ReceiptStore } from '../../src/agent/store-receipts';
import { random32 } from './chain-fixture';
import { appendReceipts, call, login, makeBundle, readSse, relay, waitFor } from './agent-service-fixture';
import {
  buildCli,
  killProcess,
  runAin,
  sendSignal,
  startAgentProcess,
  stopAllProcesses
} from './cli-process-fixture';

/** `ain provider start ...args` to its exit, with stdout and stderr together. */
async function runToExit(
  args: string[],
  env: Record<string, string> = {}
): Promise<{ code: number | null; output: string }> {
  const result = await runAin(['provider', 'start', ...args], { env });
  return { code: result.code, output: result.stdout + result.stderr };
}

describe('ain provider start (child process, development chain)', () => {
  let dir: string;
  let chain: IDevChain;
  let rpc: Awaited<ReturnType<typeof relay>>;
  let deploymentFile: string;
  let client: ChainSession;
  let db: AgentDatabase;

  beforeAll(async () => {
    // The child runs the compiled CLI: build lib-node from this tree (incremental, a few seconds).
    buildCli();
    dir = mkdtempSync(path.join(tmpdir(), 'ain-agent-proc-'));
    chain = await startDevChain({ dataDir: path.join(dir, 'chain'), port: 0, fundAccounts: 3 });
    rpc = await relay(chain.anvil.port);
    deploymentFile = path.join(dir, 'deployment.json');
    writeFileSync(deploymentFile, JSON.stringify({ ...chain.deployment, rpcUrl: rpc.url }));
    client = await ChainSession.connect(chain.deployment, devKeyWallet(devPrivateKey(2)));
  });

  afterAll(async () => {
    await stopAllProcesses('SIGKILL');
    db?.close();
    client?.close();
    await rpc?.close();
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses --fault and raw keys on a chain that is not a development chain', async () => {
    const mainnet = path.join(dir, 'mainnet.json');
    writeFileSync(mainnet, JSON.stringify({ ...chain.deployment, chainId: 1, rpcUrl: 'http://127.0.0.1:9' }));
    const fault = await runToExit(['--deployment', mainnet, '--fault', 'tamper-outputs'], {
      AIN_PROVIDER_KEY: devPrivateKey(1)
    });
    expect(fault.code).toBe(2);
    expect(fault.output).toContain('--fault tamper-outputs makes the agent cheat on purpose');
    expect(fault.output).toContain('not on chain 1');
    const raw = await runToExit(['--deployment', mainnet], { AIN_PROVIDER_KEY: devPrivateKey(1) });
    expect(raw.code).toBe(2);
    expect(raw.output).toContain('Use an encrypted keystore');
    expect(raw.output + fault.output).not.toContain(devPrivateKey(1).slice(2));
  });

  it('registers once, anchors on a timer, and after SIGKILL during an RPC outage resumes and loses nothing', async () => {
    const keystore = path.join(dir, 'provider.json');
    await saveKeystore(keystore, new Wallet(devPrivateKey(1)), 'secret pw', { scryptN: 1024 });
    const dataDir = path.join(dir, 'agent');
    const args = [
      '--deployment', deploymentFile,
      '--keystore', keystore,
      '--port', '0',
      '--public-url', 'http://provider.test:8888',
      '--data-dir', dataDir,
      '--backend', 'none',
      '--price', '3600',
      '--min-escrow-seconds', '5',
      '--checkpoint-receipts', '0',
      '--checkpoint-seconds', '1'
    ]; // prettier-ignore
    const env = { AIN_PROVIDER_PASSWORD: 'secret pw' };
    let agent = await startAgentProcess(args, env);
    expect(agent.output()).toMatch(/on-chain\s+registered \(tx 0x/);
    expect(agent.output()).toContain(new Wallet(devPrivateKey(1)).address);
    expect(agent.output()).not.toContain(devPrivateKey(1).slice(2));

    const runs = new RunRegistryClient(client);
    const bundle = makeBundle('process');
    const { runId } = await runs.openRun({
      provider: new Wallet(devPrivateKey(1)).address,
      bundleHash: bundle.bundleHash,
      nonce: 1n,
      samplingSecret: random32(),
      escrow: parseUnits('600', 18),
      pricePerHour: parseUnits('3600', 18)
    });
    const token = await login(agent.url, devPrivateKey(2));
    const created = await call(agent.url, 'POST', `/runs?runId=${runId}`, { token, body: bundle.bytes });
    expect(created.status).toBe(201);

    // Receipts written into the agent's own store, as its kernel half would: the timer anchors them.
    db = openDatabase(path.join(dataDir, 'agent.sqlite'));
    const store = new ReceiptStore(db);
    const domain = runs.domain;
    const key = new SigningKey(devPrivateKey(1));
    appendReceipts(store, runId, 2, domain, key);
    await waitFor(async () => (await runs.getRun(runId)).receiptCount === 2, 15000, 'timed checkpoint');
    const before = await readSse(`${agent.url}/runs/${runId}/events?follow=false`, token);
    expect(before.find(e => e.event === 'anchor-queued')!.data.data.reason).toBe('timer');

    // The RPC endpoint goes down; three more receipts and a requested checkpoint queue up; the agent is killed.
    rpc.cut();
    appendReceipts(store, runId, 3, domain, key);
    expect((await call(agent.url, 'POST', `/runs/${runId}/anchor`, { token })).json).toEqual({
      queued: true,
      receiptCount: 5
    });
    await new Promise(r => setTimeout(r, 500));
    await killProcess(agent.child, 'SIGKILL');
    rpc.restore();

    agent = await startAgentProcess(args, env);
    expect(agent.output()).toMatch(/on-chain\s+unchanged \(no transaction\)/);
    await waitFor(async () => (await runs.getRun(runId)).receiptCount === 5, 20000, 'resumed checkpoint');
    const checkpoints = await runs.checkpoints(runId);
    expect(checkpoints.map(c => c.receiptCount)).toEqual([2, 5]);

    // The token, the run and its events survived; the stream resumes where the client stopped.
    const run = await call(agent.url, 'GET', `/runs/${runId}`, { token });
    expect(run.json).toMatchObject({ state: 'running', receiptCount: 5 });
    const after = await readSse(`${agent.url}/runs/${runId}/events?follow=false`, token, {
      lastEventId: before[before.length - 1].id
    });
    expect(Number(after[0].id)).toBe(Number(before[before.length - 1].id) + 1);
    expect(after.map(e => e.event)).toContain('anchored');

    // A clean stop anchors the rest, and SIGTERM shuts the agent down with exit code 0.
    appendReceipts(store, runId, 1, domain, key);
    expect((await call(agent.url, 'POST', `/runs/${runId}/stop`, { token })).json.state).toBe('stopped');
    await waitFor(async () => (await runs.getRun(runId)).receiptCount === 6, 15000, 'final checkpoint');
    expect((await runs.checkpoints(runId)).map(c => c.receiptCount)).toEqual([2, 5, 6]);
    const exited = new Promise<number | null>(r => agent.child.once('exit', code => r(code)));
    sendSignal(agent.child, 'SIGTERM');
    const timeout = new Promise(r =>
      setTimeout(() => r(`still running after SIGTERM:\n${agent.output()}`), 10000)
    );
    expect(await Promise.race([exited, timeout])).toBe(0);
    expect(await new TokenClient(client).balanceOf(new Wallet(devPrivateKey(1)).address)).toBeGreaterThan(0n);
  });
});
