/**
 * Hostile input, evidence against the chain (issue 7): a run whose 4 receipts the provider anchored on a real
 * chain (anvil with the contracts), then random edits of its notebook evidence (a receipt's fields, digest,
 * signature, step or run id; the run record's provider, chain id or contract; receipts dropped or duplicated). The
 * re-check (src/chain/evidence-recheck.ts, reading the roots from the RunRegistry) proves the untouched evidence,
 * and never calls an edited receipt sound and proven: each edit is named, with its reason, on some receipt.
 */
import fc from 'fast-check';
import { getAddress, parseUnits } from 'ethers';
import { recheckEvidence } from '../../src/chain/evidence-recheck';
import type { IAinNotebookEvidence } from '../../src/core/evidence';
import { keccak256, sha256 } from '../../src/core/hash';
import { ReceiptTree } from '../../src/core/merkle';
import { signedEvidence } from '../fixtures/lab-evidence';
import { IChainFixture, startChainWithProvider } from '../integration/chain-fixture';
import { recordCase } from './record';

const STEPS = 4;

describe('hostile input: notebook evidence re-checked against anchored roots', () => {
  let chain: IChainFixture;
  let evidence: IAinNotebookEvidence;

  beforeAll(async () => {
    chain = await startChainWithProvider(parseUnits('1', 18));
    const { runId } = await chain.client.runs.openRun({
      provider: chain.provider.address,
      bundleHash: sha256('hostile anchored bundle'),
      nonce: 1n,
      samplingSecret: sha256('secret'),
      escrow: parseUnits('1', 18),
      pricePerHour: parseUnits('1', 18)
    });
    const signed = signedEvidence(
      Array.from({ length: STEPS }, (_, i) => `x = ${i}`),
      { domain: chain.provider.runs.domain, runId, key: chain.provider.key }
    );
    evidence = signed.evidence;
    const tree = new ReceiptTree(evidence.receipts.map(r => r.digest));
    await chain.provider.runs.anchor(runId, tree.checkpoint(0));
  }, 120000);

  afterAll(async () => {
    await chain?.stop();
  });

  const access = () => ({ rpcUrl: chain.anvil.rpcUrl, deploymentBlock: chain.deployment.deploymentBlock });
  const copy = (): IAinNotebookEvidence => JSON.parse(JSON.stringify(evidence));

  it('proves the untouched evidence and never proves an edited receipt', async () => {
    const clean = await recheckEvidence(copy(), access());
    expect(clean.receipts.map(c => [c.signature, c.integrity, c.anchored?.checkpoint])).toEqual(
      Array.from({ length: STEPS }, () => [null, null, 0])
    );
    const edit = fc.oneof(
      fc.record({
        kind: fc.constantFrom('codeHash', 'outputHash', 'artifactsHash', 'prev', 'digest', 'runId'),
        i: fc.nat(STEPS - 1),
        seed: fc.string()
      }),
      fc.record({
        kind: fc.constantFrom('startedAt', 'step', 'signature', 'swap-signature'),
        i: fc.nat(STEPS - 1)
      }),
      fc.record({ kind: fc.constantFrom('drop', 'duplicate'), i: fc.nat(STEPS - 2) }),
      fc.record({ kind: fc.constantFrom('provider', 'chainId', 'contract'), seed: fc.string() })
    );
    let tried = 0;
    const reasons = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(edit, async e => {
        tried++;
        const ev = copy();
        const r = ev.receipts[('i' in e ? e.i : 0) % ev.receipts.length];
        const seed = 'seed' in e ? e.seed : '';
        switch (e.kind) {
          case 'codeHash':
          case 'outputHash':
          case 'artifactsHash':
          case 'prev':
          case 'runId':
            r.signed.receipt[e.kind] = keccak256(`forged ${e.kind} ${seed}`);
            break;
          case 'digest':
            r.digest = keccak256(`forged digest ${seed}`);
            break;
          case 'startedAt':
            r.signed.receipt.startedAt -= 1;
            break;
          case 'step':
            r.signed.receipt.step += STEPS;
            break;
          case 'signature':
            r.signed.signature =
              r.signed.signature.slice(0, 4) +
              (r.signed.signature[4] === 'a' ? 'b' : 'a') +
              r.signed.signature.slice(5);
            break;
          case 'swap-signature':
            r.signed.signature = ev.receipts[(ev.receipts.indexOf(r) + 1) % STEPS].signed.signature;
            break;
          case 'drop':
            ev.receipts.splice(e.i, 1);
            break;
          case 'duplicate':
            ev.receipts.push(JSON.parse(JSON.stringify(ev.receipts[e.i])));
            ev.receipts[ev.receipts.length - 1].signed.receipt.outputHash = keccak256('equivocation');
            break;
          case 'provider':
            ev.runs[0].provider = getAddress('0x' + keccak256(`provider ${seed}`).slice(26));
            break;
          case 'chainId':
            ev.runs[0].chainId += 1;
            break;
          case 'contract':
            ev.runs[0].runRegistry = getAddress('0x' + keccak256(`contract ${seed}`).slice(26));
            break;
        }
        const result = await recheckEvidence(ev, access());
        // Some receipt names the edit, and no receipt is both sound and proven unless it is untouched.
        const named = result.receipts.filter(
          c => c.signature !== null || c.integrity !== null || !c.anchored
        );
        expect(named.length).toBeGreaterThan(0);
        const untouched = new Set(evidence.receipts.map(x => JSON.stringify(x)));
        for (const [k, c] of result.receipts.entries()) {
          if (c.anchored && c.signature === null && c.integrity === null) {
            const record = ev.receipts.find(x => x.signed.receipt.step === c.step && x.runId === c.runId);
            expect({ step: k, untouched: untouched.has(JSON.stringify(record)) }).toEqual({
              step: k,
              untouched: true
            });
          }
        }
        const first = named[0];
        const reason = String(first.signature ?? first.integrity ?? first.anchorNote).slice(0, 40);
        reasons.set(e.kind, (reasons.get(e.kind) ?? 0) + (reason ? 1 : 0));
      }),
      { numRuns: 100, seed: 20261125 }
    );
    recordCase({
      id: 'hostile-input.evidence-anchored',
      area: 'hostile-input',
      case: `random edits of notebook evidence whose ${STEPS} receipts are anchored on a real chain (receipt fields, digest, signature, step, run id; dropped or duplicated receipts; the run's provider, chain id, contract), re-checked against the RunRegistry`,
      tried: tried + 1,
      survived: tried + 1,
      lost: 0,
      figure: `untouched evidence proven (${STEPS} of ${STEPS} under the anchored root); ${tried} edits, none proven, each named`,
      note: `edits by kind: ${[...reasons].map(([k, n]) => `${k} ${n}`).join(', ')}`
    });
  }, 120000);
});
