import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigningKey, hexlify, randomBytes } from 'ethers';
import { isAinError } from '../core/errors';
import { ZERO_HASH } from '../core/hash';
import { receiptDigest, signReceipt } from '../core/receipt';
import { openDatabase } from './database';
import { ReceiptStore } from './store-receipts';
import type { IStoredReceipt } from './tokens';

const domain = { chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const key = new SigningKey(hexlify(randomBytes(32)));
const runId = hexlify(randomBytes(32));
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ain-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function receipt(step: number, prev: string): IStoredReceipt {
  const r = {
    runId,
    step,
    prev,
    codeHash: ZERO_HASH,
    outputHash: ZERO_HASH,
    artifactsHash: ZERO_HASH,
    startedAt: 1,
    endedAt: 2
  };
  return {
    signed: signReceipt(r, domain, key),
    digest: receiptDigest(r, domain),
    outputs: [{ n: step }],
    artifacts: [],
    code: `c${step}`
  };
}

test('receipts are appended in order, once each, and survive reopening the database', () => {
  const file = join(dir, 'agent.db');
  let db = openDatabase(file);
  let store = new ReceiptStore(db);
  const r0 = receipt(0, ZERO_HASH);
  store.appendReceipt(runId, r0);
  store.appendReceipt(runId, receipt(1, r0.digest));
  expect(() => store.appendReceipt(runId, receipt(1, r0.digest))).toThrow(
    expect.objectContaining({ code: 'AGENT_RECEIPT_OUT_OF_ORDER' })
  );
  let error: unknown;
  try {
    store.appendReceipt(runId, receipt(3, r0.digest));
  } catch (e) {
    error = e;
  }
  expect(isAinError(error, 'AGENT_RECEIPT_OUT_OF_ORDER')).toBe(true);
  db.close();
  db = openDatabase(file);
  store = new ReceiptStore(db);
  expect(store.receipts(runId).map(r => r.code)).toEqual(['c0', 'c1']);
  expect(store.lastReceipt(runId)?.signed.receipt.step).toBe(1);
  expect(store.receipt(runId, 0)).toEqual(r0);
  expect(store.receiptsFrom(runId, 1)).toHaveLength(1);
  db.close();
});

test('artifacts are stored by hash', () => {
  const store = new ReceiptStore(openDatabase(':memory:'));
  store.putArtifact('0x01', new Uint8Array([1, 2]));
  store.putArtifact('0x01', new Uint8Array([1, 2]));
  expect(Array.from(store.getArtifact('0x01')!)).toEqual([1, 2]);
  expect(store.getArtifact('0x02')).toBeUndefined();
});

test('the replay buffer is bounded (oldest dropped), keeps text and bytes apart, and is taken once', () => {
  const store = new ReceiptStore(openDatabase(':memory:'));
  const limits = { maxMessages: 3, maxBytes: 1000 };
  expect(store.bufferMessage(runId, 'k', 'iopub', 'a', limits)).toBe(0);
  store.bufferMessage(runId, 'k', 'iopub', new Uint8Array([1]), limits);
  store.bufferMessage(runId, 'k', 'shell', 'c', limits);
  expect(store.bufferMessage(runId, 'k', 'iopub', 'd', limits)).toBe(1);
  store.bufferMessage(runId, 'other', 'iopub', 'x', limits);
  expect(store.bufferMessage(runId, 'k', 'iopub', 'e'.repeat(999), limits)).toBe(2);
  expect(store.takeBufferedMessages(runId, 'k')).toEqual([
    { channel: 'iopub', data: 'd' },
    { channel: 'iopub', data: 'e'.repeat(999) }
  ]);
  expect(store.takeBufferedMessages(runId, 'k')).toEqual([]);
  const kept = store.takeBufferedMessages(runId, 'other');
  expect(kept).toEqual([{ channel: 'iopub', data: 'x' }]);
  store.bufferMessage(runId, 'k', 'iopub', new Uint8Array([7]), limits);
  const [bin] = store.takeBufferedMessages(runId, 'k');
  expect(typeof bin.data).not.toBe('string');
  expect(Array.from(bin.data as Uint8Array)).toEqual([7]);
});
