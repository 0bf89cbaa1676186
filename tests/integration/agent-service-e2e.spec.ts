/**
 * End to end through the service and the kernel half together: a 20-cell notebook, bundled with core
 * createBundle and opened on a real anvil, runs on a real jupyter server and ipykernel (uv environment, local
 * backend), driven from Node with @jupyterlab/services through /runs/{id}/jupyter with the client's agent token.
 * Every receipt verifies against the provider's address, the chain of receipts against the on-chain root, and
 * every step's Merkle proof against the anchored checkpoint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { KernelManager, KernelMessage } from '@jupyterlab/services';
import { SigningKey } from 'ethers';
import { ReceiptTree, verifyReceiptProof } from '../../src/core/merkle';
import { validateReceiptChain, verifyReceipt } from '../../src/core/receipt';
import { ProviderAgent } from '../../src/agent/agent';
import { LocalKernelBackend } from '../../src/agent/backend-local';
import { AgentServer } from '../../src/agent/http-server';
import { createLogger } from '../../src/agent/metrics';
import { createRunRuntime } from '../../src/agent/run-runtime';
import { nodeServerSettings } from '../../src/cli/jupyter-settings';
import { IChainFixture, TOKEN, startChainFixture } from './chain-fixture';
import { PRICE, call, login, makeBundle, openRun, registerProvider, waitFor } from './agent-service-fixture';
import { leftoversAfter, testBuilder } from './agent-kernel-fixture';

jest.setTimeout(240_000);

describe('a 20-cell notebook through the agent (real kernel, real chain)', () => {
  let chain: IChainFixture;
  let dir: string;
  let agent: ProviderAgent;
  let server: AgentServer;
  let base: string;
  let manager: KernelManager | undefined;

  beforeAll(async () => {
    chain = await startChainFixture();
    dir = mkdtempSync(path.join(tmpdir(), 'ain-agent-e2e-'));
    await registerProvider(chain.provider, 'http://127.0.0.1:1');
    const backend = new LocalKernelBackend();
    const envBuilder = testBuilder();
    agent = await ProviderAgent.create({
      dataDir: dir,
      session: chain.provider.session,
      signingKey: new SigningKey(chain.provider.key),
      domain: 'pending',
      pricePerHour: PRICE,
      checkpoint: { everyReceipts: 5, everySeconds: 0 },
      createRuntime: (ctx, store) => createRunRuntime(ctx, { backend, envBuilder, store }),
      logger: createLogger({ level: 'warn' })
    });
    server = new AgentServer(agent);
    base = await server.listen(0);
    agent.auth.domain = new URL(base).host;
  });

  afterAll(async () => {
    manager?.dispose();
    await server?.close();
    await agent?.close();
    await chain?.stop();
    expect(await leftoversAfter(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs, signs every cell, anchors every 5 receipts, and every receipt verifies against the chain', async () => {
    const bundle = makeBundle('e2e', 20);
    const runId = await openRun(chain.client, chain.provider.address, bundle.bundleHash, TOKEN(600));
    const token = await login(base, chain.client.key);
    expect((await call(base, 'POST', `/runs?runId=${runId}`, { token, body: bundle.bytes })).status).toBe(
      201
    );
    await waitFor(
      async () => (await call(base, 'GET', `/runs/${runId}`, { token })).json.state === 'running',
      180_000,
      'the kernel'
    );

    manager = new KernelManager({
      serverSettings: nodeServerSettings(`${base}/runs/${runId}/jupyter/`, token)
    });
    const kernel = await manager.startNew({ name: 'python3' });
    await kernel.info;
    for (let i = 0; i < 20; i++) {
      let text = '';
      const future = kernel.requestExecute({ code: `x${i} = ${i} + 1  # e2e\nprint(x${i})` });
      future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
        if (msg.header.msg_type === 'stream') {
          text += (msg.content as { text: string }).text;
        }
      };
      await future.done;
      expect(text).toBe(`${i + 1}\n`);
    }
    await kernel.shutdown();

    await waitFor(
      async () => (await chain.client.runs.getRun(runId)).receiptCount >= 20,
      30_000,
      'four checkpoints'
    );
    const checkpoints = await chain.client.runs.checkpoints(runId);
    expect(checkpoints.map(c => c.receiptCount)).toEqual([5, 10, 15, 20]);

    const receipts = (await call(base, 'GET', `/runs/${runId}/receipts`, { token })).json.receipts;
    expect(receipts).toHaveLength(20);
    const domain = agent.registry.domain;
    receipts.forEach((r: any) => verifyReceipt(r.signed, domain, chain.provider.address));
    const digests = validateReceiptChain(
      receipts.map((r: any) => r.signed.receipt),
      runId,
      domain
    );
    const onChain = await chain.client.runs.getRun(runId);
    expect(onChain.latestRoot).toBe(new ReceiptTree(digests).root);
    for (const c of checkpoints) {
      expect(c.root).toBe(new ReceiptTree(digests.slice(0, c.receiptCount)).root);
    }
    for (let step = 0; step < 20; step++) {
      const proof = (await call(base, 'GET', `/runs/${runId}/receipts/${step}/proof`, { token })).json;
      expect(verifyReceiptProof(onChain.latestRoot, step, digests[step], proof.proof)).toBe(true);
    }

    expect((await call(base, 'POST', `/runs/${runId}/stop`, { token })).json.state).toBe('stopped');
  });
});
