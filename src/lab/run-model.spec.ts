import { isLabError } from './errors.js';
import { AinRunModel, checkpointStatus, costAfter, parseBudget } from './run-model.js';
import type { IAinRunRecord } from './tokens.js';

const RUN = ('0x' + 'ab'.repeat(32)) as `0x${string}`;
const TOKEN = 10n ** 18n;

function record(): IAinRunRecord {
  return {
    chainId: 31337,
    runRegistry: '0x' + '11'.repeat(20),
    runId: RUN,
    provider: '0x' + '22'.repeat(20),
    endpoint: 'http://127.0.0.1:8601',
    bundleHash: ('0x' + 'cd'.repeat(32)) as `0x${string}`,
    notebookHash: ('0x' + 'ef'.repeat(32)) as `0x${string}`,
    escrow: (2n * TOKEN).toString(),
    pricePerHour: TOKEN.toString(),
    openedAt: '2026-11-25T19:00:00.000Z',
    state: 'provisioning'
  };
}

describe('budgets', () => {
  it('reads whole and fractional tokens', () => {
    expect(parseBudget('1')).toBe(TOKEN);
    expect(parseBudget(' 0.5 ')).toBe(TOKEN / 2n);
  });

  it('refuses 0, negative and non-numbers with LAB_BUDGET_INVALID', () => {
    for (const bad of ['0', '-1', 'abc', '']) {
      expect(() => parseBudget(bad)).toThrow();
      try {
        parseBudget(bad);
      } catch (e) {
        expect(isLabError(e, 'LAB_BUDGET_INVALID')).toBe(true);
      }
    }
  });
});

describe('cost', () => {
  it('accrues by the millisecond at the hourly price and stops at the escrow', () => {
    expect(costAfter(1_800_000, TOKEN, 10n * TOKEN)).toBe(TOKEN / 2n);
    expect(costAfter(10 * 3_600_000, TOKEN, 2n * TOKEN)).toBe(2n * TOKEN);
    expect(costAfter(-5, TOKEN, TOKEN)).toBe(0n);
  });
});

describe('a run fed with agent events', () => {
  it('goes running on kernel-ready, keeps receipts with their cell ids once, and follows checkpoints', () => {
    let now = Date.parse('2026-11-25T19:30:00.000Z');
    const run = new AinRunModel(record(), 'a.ipynb', () => now);
    expect(run.apply({ seq: 1, type: 'accepted', message: 'run accepted' })).toEqual([]);
    expect(run.apply({ seq: 2, type: 'kernel-ready', message: 'ready' })[0].kind).toBe('state');
    expect(run.record.state).toBe('running');
    const receipt = {
      seq: 3,
      type: 'receipt',
      message: 'signed',
      data: {
        step: 0,
        digest: '0x' + '01'.repeat(32),
        receipt: { receipt: { step: 0 }, signature: '0x' },
        cellId: 'c1'
      }
    };
    const changes = run.apply(receipt);
    expect(changes).toHaveLength(1);
    expect(changes[0].receipt?.cellId).toBe('c1');
    expect(run.apply({ ...receipt, seq: 4 })).toEqual([]);
    expect(run.receipts).toHaveLength(1);

    const root = '0x' + '09'.repeat(32);
    const queued = run.apply({
      seq: 5,
      type: 'anchor-queued',
      message: 'q',
      data: { receiptCount: 1, root }
    });
    expect(queued[0].checkpoint).toMatchObject({ index: 0, receiptCount: 1, root });
    expect(queued[0].checkpoint?.txHash).toBeUndefined();
    const anchored = run.apply({
      seq: 6,
      type: 'anchored',
      message: 'a',
      data: { index: 0, receiptCount: 1, root, txHash: '0x' + '77'.repeat(32), blockNumber: 12 }
    });
    expect(anchored[0].checkpoint).toMatchObject({
      index: 0,
      blockNumber: 12,
      txHash: '0x' + '77'.repeat(32)
    });
    expect(run.checkpoints).toHaveLength(1);

    expect(run.spent()).toBe((TOKEN / 2n).toString());
    run.apply({ seq: 7, type: 'stopped', message: 'run ended: stopped by its client' });
    expect(run.record.state).toBe('stopped');
    now += 3_600_000;
    expect(run.spent()).toBe((TOKEN / 2n).toString());
    expect(run.log[run.log.length - 1]).toContain('stopped by its client');
  });

  it('fails on an error event', () => {
    const run = new AinRunModel(record(), 'a.ipynb');
    run.apply({ seq: 1, type: 'error', message: 'the run could not start: uv failed' });
    expect(run.record.state).toBe('failed');
    expect(run.record.endedAt).toBeDefined();
  });

  it('keeps the artifact list of a receipt', () => {
    const run = new AinRunModel(record(), 'a.ipynb');
    const artifacts = [{ path: 'outputs/model.json', size: 12, sha256: '0x' + '0a'.repeat(32) }];
    const [change] = run.apply({
      seq: 1,
      type: 'receipt',
      message: 'signed',
      data: { digest: '0x' + '01'.repeat(32), receipt: { receipt: { step: 0 }, signature: '0x1' }, artifacts }
    });
    expect(change.receipt?.artifacts).toEqual(artifacts);
  });

  it('keeps a second, different receipt for a step as an equivocation, not as the step receipt', () => {
    const run = new AinRunModel(record(), 'a.ipynb');
    const first = { receipt: { step: 0, outputHash: '0x' + 'aa'.repeat(32) }, signature: '0xa' };
    const second = { receipt: { step: 0, outputHash: '0x' + 'bb'.repeat(32) }, signature: '0xb' };
    run.apply({
      seq: 1,
      type: 'receipt',
      message: 'signed',
      data: { digest: '0x' + '01'.repeat(32), receipt: first, cellId: 'c1' }
    });
    const changes = run.apply({
      seq: 2,
      type: 'receipt',
      message: 'signed a second receipt (fault: equivocate)',
      data: { digest: '0x' + '02'.repeat(32), receipt: second, cellId: 'c1', equivocation: true }
    });
    expect(changes).toEqual([
      { run, kind: 'equivocation', equivocation: { runId: RUN, step: 0, a: first, b: second } }
    ]);
    expect(run.receipts.map(r => r.signed)).toEqual([first]);
    expect(run.equivocations).toHaveLength(1);
    // A replay after a reconnect adds nothing.
    expect(
      run.apply({
        seq: 2,
        type: 'receipt',
        message: 'again',
        data: { digest: '0x' + '02'.repeat(32), receipt: second, equivocation: true }
      })
    ).toEqual([]);
  });

  it('pairs a flagged conflicting receipt that arrives before the receipt of its step', () => {
    const run = new AinRunModel(record(), 'a.ipynb');
    const first = { receipt: { step: 3 }, signature: '0xa' };
    const second = { receipt: { step: 3 }, signature: '0xb' };
    expect(
      run.apply({
        seq: 9,
        type: 'receipt',
        message: 'second',
        data: { digest: '0x' + '02'.repeat(32), receipt: second, equivocation: true }
      })
    ).toEqual([]);
    const changes = run.apply({
      seq: 8,
      type: 'receipt',
      message: 'first',
      data: { digest: '0x' + '01'.repeat(32), receipt: first }
    });
    expect(changes.map(c => c.kind)).toEqual(['receipt', 'equivocation']);
    expect(changes[1].equivocation).toMatchObject({ step: 3, a: first, b: second });
  });

  it('knows when every receipt is under an anchored checkpoint', () => {
    const run = new AinRunModel(record(), 'a.ipynb');
    expect(run.fullyAnchored()).toBe(true);
    for (const step of [0, 1]) {
      run.apply({
        seq: step + 1,
        type: 'receipt',
        message: 's',
        data: { digest: '0x' + `0${step + 1}`.repeat(32), receipt: { receipt: { step }, signature: '0x' } }
      });
    }
    const root = '0x' + '09'.repeat(32);
    run.apply({
      seq: 5,
      type: 'anchored',
      message: 'a',
      data: { index: 0, receiptCount: 1, root, txHash: '0x1' }
    });
    expect(run.fullyAnchored()).toBe(false);
    run.apply({
      seq: 6,
      type: 'anchor-queued',
      message: 'q',
      data: { receiptCount: 2, root: '0x' + '08'.repeat(32) }
    });
    expect(run.fullyAnchored()).toBe(false);
    expect(checkpointStatus(run.checkpoints)).toBe('1 anchored, 1 anchor pending');
    run.apply({
      seq: 7,
      type: 'anchored',
      message: 'a',
      data: { index: 1, receiptCount: 2, root: '0x' + '08'.repeat(32), txHash: '0x2' }
    });
    expect(run.fullyAnchored()).toBe(true);
    expect(checkpointStatus(run.checkpoints)).toBe('2 anchored');
  });

  it('marks a verifier run and merges record fields such as the salt', () => {
    const run = new AinRunModel(record(), 'a.ipynb', Date.now, { reproduces: RUN });
    expect(run.reproduces).toBe(RUN);
    const salt = ('0x' + '5a'.repeat(32)) as `0x${string}`;
    expect(run.update({ salt })).toEqual({ run, kind: 'state' });
    expect(run.record.salt).toBe(salt);
  });
});
