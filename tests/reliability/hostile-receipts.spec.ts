/**
 * Hostile input, receipts and proofs (issue 7): a valid chain of signed receipts, its Merkle proofs and its
 * notebook evidence are always accepted (property over random keys, domains, runs and lengths); random bytes as
 * signatures, another EIP-712 domain name or version, another chain id, another contract, reordered, replayed and
 * foreign receipts, and truncated or mutated proofs are always refused, each with its reason.
 */
import fc from 'fast-check';
import { SigningKey, TypedDataEncoder, Wallet, getAddress } from 'ethers';
import { recheckEvidence } from '../../src/chain/evidence-recheck';
import type { IAinNotebookEvidence } from '../../src/core/evidence';
import { Hex32, keccak256 } from '../../src/core/hash';
import { ReceiptTree, verifyReceiptProof } from '../../src/core/merkle';
import {
  IReceiptDomain,
  ISignedReceipt,
  STEP_RECEIPT_TYPES,
  validateReceiptChain,
  verifyReceipt
} from '../../src/core/receipt';
import { signedReceipts } from '../integration/chain-fixture';
import { Tally, outcome } from './fixture-hostile';
import { recordCase } from './record';

const SEED = 20261125;

/** A run: its domain, provider key and n chained receipts. */
const runArb = fc
  .record({
    seed: fc.string({ minLength: 1, maxLength: 12 }),
    chainId: fc.integer({ min: 1, max: 2 ** 31 }),
    contract: fc.stringMatching(/^[0-9a-f]{40}$/),
    runSeed: fc.string({ maxLength: 8 }),
    n: fc.integer({ min: 1, max: 4 })
  })
  .map(r => {
    const key = keccak256(`provider ${r.seed}`);
    const domain: IReceiptDomain = { chainId: r.chainId, verifyingContract: getAddress('0x' + r.contract) };
    const runId = keccak256(`run ${r.runSeed}`);
    const { signed, digests } = signedReceipts(runId, r.n, domain, key, r.seed);
    return { key, provider: new Wallet(key).address, domain, runId, signed, digests };
  });
type Run = typeof runArb extends fc.Arbitrary<infer T> ? T : never;

function evidenceOf(run: Run, signed: ISignedReceipt[] = run.signed, digests: Hex32[] = run.digests) {
  const evidence: IAinNotebookEvidence = {
    version: 1,
    runs: [
      {
        chainId: Number(run.domain.chainId),
        runRegistry: run.domain.verifyingContract,
        runId: run.runId,
        provider: run.provider,
        endpoint: 'http://provider.test',
        bundleHash: keccak256('bundle'),
        notebookHash: keccak256('notebook'),
        escrow: '1',
        pricePerHour: '1',
        openedAt: new Date(0).toISOString(),
        state: 'running'
      }
    ],
    receipts: signed.map((s, i) => ({ runId: run.runId, signed: s, digest: digests[i] })),
    checkpoints: [],
    verifications: []
  };
  return evidence;
}

describe('hostile input: receipt and proof verifiers', () => {
  it('a valid run is always accepted: signatures, chain, every proof and the offline re-check', async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(runArb, async run => {
        tried++;
        for (const s of run.signed) {
          verifyReceipt(s, run.domain, run.provider);
        }
        expect(
          validateReceiptChain(
            run.signed.map(s => s.receipt),
            run.runId,
            run.domain
          )
        ).toEqual(run.digests);
        const tree = new ReceiptTree(run.digests);
        run.digests.forEach((d, step) =>
          expect(verifyReceiptProof(tree.root, step, d, tree.proof(step))).toBe(true)
        );
        const checks = (await recheckEvidence(evidenceOf(run), null)).receipts;
        expect(checks.map(c => [c.signature, c.integrity])).toEqual(run.signed.map(() => [null, null]));
      }),
      { numRuns: 100, seed: SEED }
    );
    recordCase({
      id: 'hostile-input.receipts-valid',
      area: 'hostile-input',
      case: 'random valid runs (random provider keys, chain ids, contracts, run ids, 1-4 receipts): signatures, chain, Merkle proofs, offline re-check',
      tried,
      survived: tried,
      lost: 0,
      figure: `${tried} valid runs, all accepted`
    });
  });

  it('forged signatures, other domains, other chains and contracts are refused with the reason', () => {
    const tally = new Tally();
    const forgery = fc.oneof(
      fc.record({ kind: fc.constant('random-65'), bytes: fc.uint8Array({ minLength: 65, maxLength: 65 }) }),
      fc.record({ kind: fc.constant('random-any'), bytes: fc.uint8Array({ maxLength: 100 }) }),
      fc.record({ kind: fc.constant('domain-name'), name: fc.string({ minLength: 1, maxLength: 20 }) }),
      fc.record({ kind: fc.constant('domain-version'), version: fc.constantFrom('0', '2', '1.0', '') }),
      fc.record({ kind: fc.constant('chain'), delta: fc.integer({ min: 1, max: 1000 }) }),
      fc.record({ kind: fc.constant('contract'), contract: fc.stringMatching(/^[0-9a-f]{40}$/) }),
      fc.record({ kind: fc.constant('other-key'), seed: fc.string({ minLength: 1 }) }),
      fc.record({
        kind: fc.constant('field'),
        field: fc.constantFrom('codeHash', 'outputHash', 'startedAt', 'step')
      })
    );
    fc.assert(
      fc.property(runArb, forgery, (run, f) => {
        const original = run.signed[0];
        let signed: ISignedReceipt = original;
        let domain = run.domain;
        const hex = (b: Uint8Array) => '0x' + Buffer.from(b).toString('hex');
        const signOther = (name: string, version: string) => {
          const d = TypedDataEncoder.hash(
            {
              name,
              version,
              chainId: BigInt(run.domain.chainId),
              verifyingContract: run.domain.verifyingContract
            },
            STEP_RECEIPT_TYPES,
            original.receipt
          );
          return { ...original, signature: new SigningKey(run.key).sign(d).serialized };
        };
        if (f.kind === 'random-65' || f.kind === 'random-any') {
          signed = { ...original, signature: hex(f.bytes) };
        }
        if (f.kind === 'domain-name') {
          signed = signOther(f.name === 'AIN Run Registry' ? 'x' : f.name, '1');
        }
        if (f.kind === 'domain-version') {
          signed = signOther('AIN Run Registry', f.version);
        }
        if (f.kind === 'chain') {
          domain = { ...run.domain, chainId: Number(run.domain.chainId) + f.delta };
        }
        if (f.kind === 'contract' && getAddress('0x' + f.contract) !== run.domain.verifyingContract) {
          domain = { ...run.domain, verifyingContract: getAddress('0x' + f.contract) };
        }
        if (f.kind === 'other-key') {
          signed = signedReceipts(run.runId, 1, run.domain, keccak256(`other ${f.seed}`), run.key).signed[0];
        }
        if (f.kind === 'field') {
          const r = { ...original.receipt };
          if (f.field === 'startedAt') {
            r.startedAt = Math.max(0, r.startedAt - 1);
          } else if (f.field === 'step') {
            r.step += 1;
          } else {
            r[f.field] = keccak256(`forged ${r[f.field]}`);
          }
          signed = { ...original, receipt: r };
        }
        const o = outcome(() => verifyReceipt(signed, domain, run.provider));
        tally.add(o);
        expect(o).toMatchObject({
          code: 'RECEIPT_BAD_SIGNATURE',
          message: expect.stringMatching(/signature|signed/)
        });
      }),
      { numRuns: 300, seed: SEED }
    );
    recordCase({
      id: 'hostile-input.receipts-forged',
      area: 'hostile-input',
      case: 'receipts with random bytes as signatures, another EIP-712 domain name or version, another chain id, another contract, another key, an edited field',
      tried: tally.tried,
      survived: tally.tried - tally.accepted,
      lost: tally.accepted,
      figure: `${tally.tried} forgeries, ${tally.accepted} accepted`,
      note: tally.toString()
    });
    expect(tally.accepted).toBe(0);
  });

  it('reordered, replayed, dropped and foreign receipts break the chain, in the core and in the re-check', async () => {
    const tally = new Tally();
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('swap'), i: fc.nat(), j: fc.nat() }),
      fc.record({ kind: fc.constant('replay'), i: fc.nat(), at: fc.nat() }),
      fc.record({ kind: fc.constant('drop'), i: fc.nat() }),
      fc.record({ kind: fc.constant('foreign'), i: fc.nat(), seed: fc.string() })
    );
    await fc.assert(
      fc.asyncProperty(
        runArb.filter(r => r.signed.length >= 2),
        edit,
        async (run, e) => {
          const n = run.signed.length;
          const list = run.signed.map((s, k) => ({ s, d: run.digests[k] }));
          if (e.kind === 'swap') {
            const [i, j] = [e.i % n, (e.i + 1 + (e.j % (n - 1))) % n];
            [list[i], list[j]] = [list[j], list[i]];
          }
          if (e.kind === 'replay') {
            list.splice(e.at % (n + 1), 0, list[e.i % n]);
          }
          if (e.kind === 'drop') {
            list.splice(e.i % (n - 1), 1);
          } // never only the last: that is a shorter valid run
          if (e.kind === 'foreign') {
            const other = signedReceipts(keccak256(`other run ${e.seed}`), n, run.domain, run.key, run.key);
            list[e.i % n] = { s: other.signed[e.i % n], d: other.digests[e.i % n] };
          }
          const o = outcome(() =>
            validateReceiptChain(
              list.map(x => x.s.receipt),
              run.runId,
              run.domain
            )
          );
          tally.add(o);
          expect(o).toMatchObject({
            code: 'RECEIPT_CHAIN_BROKEN',
            message: expect.stringContaining('Receipt chain broken at position')
          });
          // The notebook re-check sorts receipts by step: the order of the list in metadata.ain carries no
          // meaning, so a swap there is harmless; any other edit is named on some receipt.
          const checks = (
            await recheckEvidence(
              evidenceOf(
                run,
                list.map(x => x.s),
                list.map(x => x.d)
              ),
              null
            )
          ).receipts;
          const flagged = checks.some(c => c.signature !== null || c.integrity !== null);
          expect(flagged).toBe(e.kind !== 'swap');
        }
      ),
      { numRuns: 200, seed: SEED }
    );
    recordCase({
      id: 'hostile-input.receipts-chain',
      area: 'hostile-input',
      case: 'reordered, replayed, dropped and other-run receipts in a run of 2-4 receipts (core chain check and notebook re-check)',
      tried: tally.tried,
      survived: tally.tried - tally.accepted,
      lost: tally.accepted,
      figure: `${tally.tried} broken chains, ${tally.accepted} accepted`,
      note: `${tally.toString()}; the notebook re-check names every one but swaps, since it orders receipts by step (their order in metadata.ain carries no meaning)`
    });
    expect(tally.accepted).toBe(0);
  });

  it('truncated, extended and mutated Merkle proofs, wrong steps and digests are refused', () => {
    let tried = 0;
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('truncate'), k: fc.nat() }),
      fc.record({ kind: fc.constant('extend'), extra: fc.stringMatching(/^0x[0-9a-f]{64}$/) }),
      fc.record({ kind: fc.constant('flip'), k: fc.nat(), byte: fc.nat(31), bit: fc.nat(7) }),
      fc.record({ kind: fc.constant('step'), delta: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('digest'), seed: fc.string() }),
      fc.record({ kind: fc.constant('garbage'), proof: fc.array(fc.string(), { maxLength: 4 }) })
    );
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.nat(), mutation, (n, at, m) => {
        tried++;
        const digests = Array.from({ length: n }, (_, i) => keccak256(`leaf ${n} ${i}`));
        const tree = new ReceiptTree(digests);
        const step = at % n;
        let proof = tree.proof(step);
        let s = step;
        let digest = digests[step];
        if (m.kind === 'truncate') {
          proof = proof.slice(0, m.k % proof.length);
        }
        if (m.kind === 'extend') {
          proof = [...proof, m.extra];
        }
        if (m.kind === 'flip') {
          const k = m.k % proof.length;
          const bytes = Buffer.from(proof[k].slice(2), 'hex');
          bytes[m.byte] ^= 1 << m.bit;
          proof = proof.map((p, i) => (i === k ? '0x' + bytes.toString('hex') : p));
        }
        if (m.kind === 'step') {
          s = step + m.delta;
        }
        if (m.kind === 'digest') {
          digest = keccak256(`forged ${m.seed}`);
        }
        if (m.kind === 'garbage') {
          proof = m.proof;
        }
        expect(verifyReceiptProof(tree.root, s, digest, proof)).toBe(false);
      }),
      { numRuns: 1000, seed: SEED }
    );
    recordCase({
      id: 'hostile-input.proofs',
      area: 'hostile-input',
      case: 'Merkle proofs truncated, extended, bit-flipped, for another step or digest, or random strings, over trees of 2-40 receipts',
      tried,
      survived: tried,
      lost: 0,
      figure: `${tried} tampered proofs, 0 accepted`
    });
  });
});
