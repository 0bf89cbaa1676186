/**
 * Fault: the client's kernel websocket dropped 100 times at random moments during a 200-cell run (real uv
 * environment, jupyter server and ipykernel; @jupyterlab/services reconnecting by itself, as in JupyterLab). Each
 * cell prints five numbered lines; every line must arrive exactly once (the agent keeps what a dropped client
 * missed and replays it on reconnect), and every cell's receipt must be over exactly what the client received.
 *
 * The drops fall while a cell runs (0-60 ms after its first line, in 100 of the 200 cells chosen at random), not
 * while the client is sending a request: a request written into a socket that is being cut never reaches the
 * agent, and JupyterLab's kernel connection does not send it again (the cell waits forever). That loss is on the
 * client's side of the socket; see the case's note.
 */
import { NbOutput, outputHash } from '../../src/core/outputs-normalize';
import { validateReceiptChain } from '../../src/core/receipt';
import { executeCell, ILocalRuntime, startLocalRuntime } from '../integration/agent-kernel-fixture';
import { recordCase } from './record';

jest.setTimeout(150_000);

const CELLS = 200;
const LINES = 5;
const DROPS = 100;

let local: ILocalRuntime;

beforeAll(async () => {
  local = await startLocalRuntime();
});

afterAll(async () => {
  expect(await local?.stop()).toEqual([]);
});

test('100 random websocket drops during a 200-cell run: no output lost, none duplicated', async () => {
  const kernel = await local.manager.startNew({ name: 'python3' });
  await kernel.info;
  const { runId, salt, domain } = local.run.ctx;
  const seen = new Map<string, number>();
  const perCell: NbOutput[][] = [];
  const dropCells = new Set<number>();
  while (dropCells.size < DROPS) {
    dropCells.add(Math.floor(Math.random() * CELLS));
  }
  let drops = 0;
  const startedAt = Date.now();
  for (let c = 0; c < CELLS; c++) {
    let armed = dropCells.has(c);
    const code =
      `import time\nfor i in range(${LINES}):\n    print(f"cell ${c} line {i}", flush=True)\n` +
      '    time.sleep(0.01)\ntime.sleep(0.15)';
    const { outputs, status } = await executeCell(kernel, code, {}, o => {
      for (const line of String((o as { text?: string }).text ?? '')
        .split('\n')
        .filter(Boolean)) {
        seen.set(line, (seen.get(line) ?? 0) + 1);
      }
      if (armed) {
        armed = false;
        setTimeout(() => {
          drops += local.router.clientSockets.size > 0 ? 1 : 0;
          local.router.dropClients();
        }, Math.random() * 60);
      }
    });
    expect(status).toBe('ok');
    perCell.push(outputs);
  }
  const elapsed = Date.now() - startedAt;
  await local.runtime.settled();

  const expected = Array.from(
    { length: CELLS * LINES },
    (_, k) => `cell ${Math.floor(k / LINES)} line ${k % LINES}`
  );
  const lost = expected.filter(l => !seen.has(l)).length;
  const duplicated = [...seen.values()].filter(n => n > 1).length;
  const unexpected = seen.size - (expected.length - lost);
  const stored = local.run.store.receipts(runId);
  const mismatched = stored.filter(
    (r, i) => r.signed.receipt.outputHash !== outputHash(perCell[i] ?? [], salt)
  ).length;
  recordCase({
    id: 'faults.websocket-drops',
    area: 'faults',
    case: `${DROPS} random client websocket drops during a ${CELLS}-cell run (reconnecting as JupyterLab does)`,
    tried: CELLS * LINES,
    survived: CELLS * LINES - lost - duplicated,
    lost,
    figure:
      `${CELLS} cells, ${drops} drops: ${lost} of ${CELLS * LINES} lines lost, ${duplicated} duplicated; ` +
      `${stored.length} receipts, ${mismatched} not over what the client received; ${(elapsed / 1000).toFixed(1)} s`,
    note:
      'Drops fall while cells run. A drop while the client is sending a request loses that request (the client ' +
      'wrote it into the cut socket; JupyterLab does not resend it, the cell waits forever): seen with drops at ' +
      'any moment, 1 hung cell within 30 cells. Fixing it needs a client that resends unanswered requests.'
  });
  expect(drops).toBe(DROPS);
  expect({ lost, duplicated, unexpected, mismatched }).toEqual({
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    mismatched: 0
  });
  expect(stored).toHaveLength(CELLS);
  validateReceiptChain(
    stored.map(r => r.signed.receipt),
    runId,
    domain
  );
  await kernel.shutdown();
});
