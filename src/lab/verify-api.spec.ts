import { strToU8, unzipSync } from 'fflate';
import { notebookHash } from '../core/notebook.js';
import { ReceiptTree } from '../core/merkle.js';
import { PROVIDER_KEY, signedEvidence } from '../../tests/fixtures/lab-evidence.js';
import { verifyApi } from './verify-api.js';

// The worker's functions, called directly in Node: the worker only exposes these over comlink.
describe('verification worker API', () => {
  const sources = ['import math', 'x = math.pi', 'print(x)'];

  it('accepts receipts the provider signed and names the reason for each that fails', async () => {
    const f = signedEvidence(sources);
    const signed = f.evidence.receipts.map(r => r.signed);
    expect(await verifyApi.verifyReceipts(f.domain, f.provider, signed)).toEqual([null, null, null]);
    const tampered = signed.map((s, i) =>
      i === 1 ? { ...s, receipt: { ...s.receipt, outputHash: '0x' + 'ab'.repeat(32) } } : s
    );
    const result = await verifyApi.verifyReceipts(f.domain, f.provider, tampered);
    expect(result[0]).toBeNull();
    expect(result[1]).toMatch(/not signed by the run's provider/);
    // Another chain id is another domain: the same signature recovers someone else.
    const other = await verifyApi.verifyReceipts({ ...f.domain, chainId: 1 }, f.provider, signed);
    expect(other.every(r => r !== null)).toBe(true);
  });

  it('proves steps under the root of all digests and nowhere else', async () => {
    const f = signedEvidence(sources);
    const digests = f.evidence.receipts.map(r => r.digest);
    expect(await verifyApi.proveSteps(digests, f.root, [0, 1, 2, 3])).toEqual([true, true, true, false]);
    const otherRoot = new ReceiptTree(digests.slice(0, 2)).root;
    expect(await verifyApi.proveSteps(digests, otherRoot, [0, 1])).toEqual([false, false]);
  });

  it('hashes notebooks and packs bundles with the core', async () => {
    const nb = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3' } },
      cells: [{ cell_type: 'code', source: 'print(1)', metadata: {}, outputs: [], execution_count: null }]
    };
    expect(await verifyApi.notebookHash(nb)).toBe(notebookHash(nb));
    const packed = await verifyApi.pack('a.ipynb', {
      'a.ipynb': strToU8(JSON.stringify(nb)),
      'requirements.txt': strToU8('numpy\n')
    });
    expect(packed.bundleHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(Object.keys(unzipSync(packed.bytes)).sort()).toEqual([
      'a.ipynb',
      'ain-manifest.json',
      'requirements.txt'
    ]);
  });

  it('re-checks offline: signatures and chain pass, nothing is anchored, and it says why', async () => {
    const f = signedEvidence(sources);
    const result = await verifyApi.recheck(f.evidence, null);
    expect(result.receipts).toHaveLength(3);
    for (const c of result.receipts) {
      expect(c.signature).toBeNull();
      expect(c.integrity).toBeNull();
      expect(c.anchored).toBeUndefined();
      expect(c.anchorNote).toMatch(/no RPC endpoint/);
    }
  });

  it('re-checks an altered receipt as altered, and names a broken chain', async () => {
    const f = signedEvidence(sources);
    const r1 = f.evidence.receipts[1];
    r1.signed = { ...r1.signed, receipt: { ...r1.signed.receipt, outputHash: '0x' + 'cd'.repeat(32) } };
    const result = await verifyApi.recheck(f.evidence, null);
    expect(result.receipts[0].signature).toBeNull();
    expect(result.receipts[1].signature).toMatch(/not signed/);
    expect(result.receipts[1].integrity).toMatch(/altered/);
    // Step 2 still points at the original digest of step 1, which its record also keeps.
    expect(result.receipts[2].signature).toBeNull();
  });

  it('refuses receipts signed by someone other than the run provider', async () => {
    const f = signedEvidence(sources, { key: '0x' + '11'.repeat(32) });
    f.evidence.runs[0].provider = signedEvidence(sources, { key: PROVIDER_KEY }).provider;
    const result = await verifyApi.recheck(f.evidence, null);
    expect(result.receipts.every(c => c.signature !== null)).toBe(true);
  });

  it('says when the chain cannot be read, and keeps the receipts signed', async () => {
    const f = signedEvidence(sources);
    const result = await verifyApi.recheck(f.evidence, { rpcUrl: 'http://127.0.0.1:9', deploymentBlock: 0 });
    expect(result.runs[0].status).toBeNull();
    expect(result.runs[0].chainNote).toMatch(/Could not read the chain/);
    expect(result.receipts.every(c => c.signature === null && !c.anchored)).toBe(true);
  });

  it('re-checks 1,000 receipts in a few seconds', async () => {
    const f = signedEvidence(Array.from({ length: 1000 }, (_, i) => `x = ${i}`));
    const started = Date.now();
    const result = await verifyApi.recheck(f.evidence, null);
    expect(result.receipts.filter(c => c.signature === null && c.integrity === null)).toHaveLength(1000);
    expect(Date.now() - started).toBeLessThan(20000);
  });
});
