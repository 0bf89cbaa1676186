import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AbiCoder, SigningKey, Wallet, concat, keccak256, Signature, toUtf8Bytes } from 'ethers';
import { isAinError } from './errors';
import { ZERO_HASH, sha256 } from './hash';
import {
  IStepReceipt,
  STEP_RECEIPT_TYPES,
  artifactsHash,
  checkReceiptFields,
  receiptDigest,
  receiptStructHash,
  recoverReceiptSigner,
  signReceipt,
  validateReceiptChain,
  verifyReceipt
} from './receipt';

const vectors = JSON.parse(readFileSync(join(__dirname, '../../tests/vectors/receipts.json'), 'utf8'));
const domain = { chainId: vectors.domain.chainId, verifyingContract: vectors.domain.verifyingContract };
const key = new SigningKey(vectors.key);
const signer = new Wallet(vectors.key).address;
const receipts: IStepReceipt[] = vectors.receipts.map((v: any) => v.receipt);

/** The EIP-712 digest computed by hand from the spec (abi.encode + keccak), not through TypedDataEncoder. */
function independentDigest(r: IStepReceipt, chainId: number, contract: string): string {
  const abi = AbiCoder.defaultAbiCoder();
  const typeHash = keccak256(
    toUtf8Bytes(
      'StepReceipt(bytes32 runId,uint32 step,bytes32 prev,bytes32 codeHash,bytes32 outputHash,bytes32 artifactsHash,uint64 startedAt,uint64 endedAt)'
    )
  );
  const structHash = keccak256(
    abi.encode(
      ['bytes32', 'bytes32', 'uint32', 'bytes32', 'bytes32', 'bytes32', 'bytes32', 'uint64', 'uint64'],
      [typeHash, r.runId, r.step, r.prev, r.codeHash, r.outputHash, r.artifactsHash, r.startedAt, r.endedAt]
    )
  );
  const domainType = keccak256(
    toUtf8Bytes('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)')
  );
  const separator = keccak256(
    abi.encode(
      ['bytes32', 'bytes32', 'bytes32', 'uint256', 'address'],
      [domainType, keccak256(toUtf8Bytes('AIN Run Registry')), keccak256(toUtf8Bytes('1')), chainId, contract]
    )
  );
  return keccak256(concat(['0x1901', separator, structHash]));
}

describe('step receipts (EIP-712)', () => {
  it('reproduces the vectors: type hash, struct hash, digest, signature, signer', () => {
    expect(vectors.signer).toBe(signer);
    for (const v of vectors.receipts) {
      expect(receiptStructHash(v.receipt)).toBe(v.structHash);
      expect(receiptDigest(v.receipt, domain)).toBe(v.digest);
      expect(independentDigest(v.receipt, domain.chainId, domain.verifyingContract)).toBe(v.digest);
      // RFC 6979 deterministic signatures: same key and digest, same bytes.
      expect(signReceipt(v.receipt, domain, key).signature).toBe(v.signature);
      expect(recoverReceiptSigner(v, domain)).toBe(signer);
    }
    expect(Object.keys(STEP_RECEIPT_TYPES.StepReceipt)).toHaveLength(8);
  });

  it('binds a signature to its chain and contract', () => {
    const other = { chainId: 1, verifyingContract: domain.verifyingContract };
    expect(receiptDigest(receipts[0], other)).toBe(vectors.otherChain.digestOfStep0);
    const signed = vectors.receipts[0];
    expect(() => verifyReceipt(signed, other, signer)).toThrow(
      expect.objectContaining({ code: 'RECEIPT_BAD_SIGNATURE' })
    );
    const otherContract = { chainId: domain.chainId, verifyingContract: '0x' + '11'.repeat(20) };
    expect(() => verifyReceipt(signed, otherContract, signer)).toThrow(/not signed by the run's provider/);
    expect(() => verifyReceipt(signed, domain, signer)).not.toThrow();
  });

  it('rejects a receipt whose fields were changed after signing, or another key', () => {
    const signed = vectors.receipts[1];
    const forged = {
      receipt: { ...signed.receipt, outputHash: sha256('faked output') },
      signature: signed.signature
    };
    expect(() => verifyReceipt(forged, domain, signer)).toThrow(
      expect.objectContaining({ code: 'RECEIPT_BAD_SIGNATURE' })
    );
    const stranger = new SigningKey(sha256('stranger key'));
    expect(() => verifyReceipt(signReceipt(signed.receipt, domain, stranger), domain, signer)).toThrow(
      /not signed by the run's provider/
    );
  });

  it('refuses malleable (high-s) and malformed signatures', () => {
    const signed = vectors.receipts[0];
    const sig = Signature.from(signed.signature);
    const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
    const highS = '0x' + (n - BigInt(sig.s)).toString(16).padStart(64, '0');
    const malleable = concat([sig.r, highS, sig.v === 27 ? '0x1c' : '0x1b']);
    expect(() => recoverReceiptSigner({ ...signed, signature: malleable }, domain)).toThrow(
      expect.objectContaining({ code: 'RECEIPT_BAD_SIGNATURE' })
    );
    // r or s of zero, or r past the curve order: the curve library throws its own error, refused as ours.
    const zero = '00'.repeat(32);
    const one = '00'.repeat(31) + '01';
    const forged = [`0x${one}${zero}1b`, `0x${zero}${one}1c`, `0x${'ff'.repeat(32)}${one}1b`];
    for (const bad of ['0x', '0x1234', signed.signature.slice(0, -2), 'not hex', ...forged]) {
      expect(() => recoverReceiptSigner({ ...signed, signature: bad }, domain)).toThrow(
        expect.objectContaining({ code: 'RECEIPT_BAD_SIGNATURE' })
      );
    }
  });

  it('names the field that is not of its EIP-712 type', () => {
    const good = receipts[0];
    const cases: [Partial<IStepReceipt>, string][] = [
      [{ runId: '0x1234' }, 'runId'],
      [{ codeHash: '0x' + 'AB'.repeat(32) }, 'codeHash'],
      [{ step: -1 }, 'step'],
      [{ step: 2 ** 32 }, 'step'],
      [{ step: 1.5 }, 'step'],
      [{ startedAt: -5 }, 'startedAt'],
      [{ endedAt: good.startedAt - 1 }, 'endedAt']
    ];
    for (const [patch, field] of cases) {
      try {
        checkReceiptFields({ ...good, ...patch });
        throw new Error(`expected ${field} to be refused`);
      } catch (e) {
        expect(isAinError(e, 'RECEIPT_INVALID_FIELD')).toBe(true);
        expect((e as any).info.field).toBe(field);
      }
    }
  });

  describe('receipt chains', () => {
    const runId = receipts[0].runId;
    it('accepts the vector run and returns its digests in order', () => {
      expect(validateReceiptChain(receipts, runId, domain)).toEqual(
        vectors.receipts.map((v: any) => v.digest)
      );
      expect(receipts[0].prev).toBe(ZERO_HASH);
    });
    const broken: [string, () => IStepReceipt[], RegExp][] = [
      ['reordered', () => [receipts[1], receipts[0], receipts[2]], /expected step 0, found step 1/],
      ['replayed', () => [receipts[0], receipts[1], receipts[1]], /step 1 appears again/],
      ['missing', () => [receipts[0], receipts[2]], /expected step 1, found step 2/],
      ['another run', () => [receipts[0], { ...receipts[1], runId: sha256('other run') }], /belongs to run/],
      ['relinked', () => [receipts[0], { ...receipts[1], prev: sha256('x') }], /"prev" does not match/]
    ];
    it.each(broken)('refuses a %s receipt', (_what, make, message) => {
      expect(() => validateReceiptChain(make(), runId, domain)).toThrow(message);
      expect(() => validateReceiptChain(make(), runId, domain)).toThrow(
        expect.objectContaining({ code: 'RECEIPT_CHAIN_BROKEN' })
      );
    });
  });

  it('hashes artifacts independently of their order, zero for none', () => {
    const a = { path: 'outputs/a.bin', size: 1, sha256: sha256('a') };
    const b = { path: 'outputs/b.bin', size: 2, sha256: sha256('b') };
    expect(artifactsHash([])).toBe(ZERO_HASH);
    expect(artifactsHash([a, b])).toBe(artifactsHash([b, a]));
    expect(artifactsHash([a, b])).not.toBe(artifactsHash([a, { ...b, size: 3 }]));
  });
});
