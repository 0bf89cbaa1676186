import { isLabError } from './errors.js';
import { AinRunModel, costAfter, parseBudget } from './run-model.js';
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
});
