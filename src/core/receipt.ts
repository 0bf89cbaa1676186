/**
 * Step receipts (DESIGN.md §4): one EIP-712 signed statement by the provider per executed cell.
 *
 *   StepReceipt(bytes32 runId, uint32 step, bytes32 prev, bytes32 codeHash, bytes32 outputHash,
 *               bytes32 artifactsHash, uint64 startedAt, uint64 endedAt)
 *
 * The domain binds a receipt to one chain and one RunRegistry contract, so a signature made for a test chain
 * cannot be replayed against production. `prev` is the EIP-712 digest of the previous receipt of the run (zero for
 * step 0), so receipts form a hash chain in execution order. Times are milliseconds since the Unix epoch.
 *
 * The Solidity side (contracts/RunRegistry.sol) must produce the same digests: tests/vectors/receipts.json pins
 * them for both.
 */
import { Signature, SigningKey, TypedDataDomain, TypedDataEncoder, getAddress, recoverAddress } from 'ethers';
import { canonicalHash } from './canonical-json.js';
import { assert, makeError } from './errors.js';
import { Hex32, ZERO_HASH, isHex32 } from './hash.js';

/** EIP-712 domain name and version; changing either invalidates every receipt ever signed. */
export const RECEIPT_DOMAIN_NAME = 'AIN Run Registry';
export const RECEIPT_DOMAIN_VERSION = '1';

/** The EIP-712 type of a step receipt, in the field order of DESIGN.md. */
export const STEP_RECEIPT_TYPES = {
  StepReceipt: [
    { name: 'runId', type: 'bytes32' },
    { name: 'step', type: 'uint32' },
    { name: 'prev', type: 'bytes32' },
    { name: 'codeHash', type: 'bytes32' },
    { name: 'outputHash', type: 'bytes32' },
    { name: 'artifactsHash', type: 'bytes32' },
    { name: 'startedAt', type: 'uint64' },
    { name: 'endedAt', type: 'uint64' }
  ]
};

/** One executed cell, as signed. */
export interface IStepReceipt {
  runId: Hex32;
  step: number;
  prev: Hex32;
  codeHash: Hex32;
  outputHash: Hex32;
  artifactsHash: Hex32;
  startedAt: number;
  endedAt: number;
}

/** A receipt with the provider's 65-byte signature (0x r || s || v). */
export interface ISignedReceipt {
  receipt: IStepReceipt;
  signature: string;
}

/** Where receipts are valid: one chain id and one RunRegistry address. */
export interface IReceiptDomain {
  chainId: bigint | number;
  verifyingContract: string;
}

/** A file a cell produced and committed to in its receipt. */
export interface IArtifact {
  path: string;
  size: number;
  sha256: Hex32;
}

const UINT32_MAX = 2 ** 32 - 1;
// secp256k1 n / 2: OpenZeppelin's ECDSA rejects larger s values (malleable signatures); so do we.
const HALF_N = BigInt('0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0');

/** The full EIP-712 domain object for ethers. */
export function receiptDomain(domain: IReceiptDomain): TypedDataDomain {
  return {
    name: RECEIPT_DOMAIN_NAME,
    version: RECEIPT_DOMAIN_VERSION,
    chainId: BigInt(domain.chainId),
    verifyingContract: getAddress(domain.verifyingContract)
  };
}

/** Throws RECEIPT_INVALID_FIELD naming the first field that is not of its EIP-712 type. */
export function checkReceiptFields(receipt: IStepReceipt): void {
  for (const name of ['runId', 'prev', 'codeHash', 'outputHash', 'artifactsHash'] as const) {
    assert(
      isHex32(receipt[name]),
      'RECEIPT_INVALID_FIELD',
      `Receipt field "${name}" must be a lowercase 0x-prefixed 32-byte hex string.`,
      { field: name }
    );
  }
  assert(
    Number.isInteger(receipt.step) && receipt.step >= 0 && receipt.step <= UINT32_MAX,
    'RECEIPT_INVALID_FIELD',
    'Receipt field "step" must be an integer from 0 to 2^32-1.',
    { field: 'step' }
  );
  for (const name of ['startedAt', 'endedAt'] as const) {
    assert(
      Number.isSafeInteger(receipt[name]) && receipt[name] >= 0,
      'RECEIPT_INVALID_FIELD',
      `Receipt field "${name}" must be a non-negative integer (milliseconds since the Unix epoch).`,
      { field: name }
    );
  }
  assert(
    receipt.endedAt >= receipt.startedAt,
    'RECEIPT_INVALID_FIELD',
    'Receipt field "endedAt" is before "startedAt".',
    { field: 'endedAt' }
  );
}

/** The EIP-712 struct hash of a receipt (what Solidity computes as `keccak256(abi.encode(TYPEHASH, ...))`). */
export function receiptStructHash(receipt: IStepReceipt): Hex32 {
  checkReceiptFields(receipt);
  return TypedDataEncoder.hashStruct('StepReceipt', STEP_RECEIPT_TYPES, receipt);
}

/** The EIP-712 digest that is signed, chained through `prev` and put in Merkle leaves. */
export function receiptDigest(receipt: IStepReceipt, domain: IReceiptDomain): Hex32 {
  checkReceiptFields(receipt);
  return TypedDataEncoder.hash(receiptDomain(domain), STEP_RECEIPT_TYPES, receipt);
}

/** Signs a receipt with a provider key. Synchronous: the agent signs one per executed cell. */
export function signReceipt(receipt: IStepReceipt, domain: IReceiptDomain, key: SigningKey): ISignedReceipt {
  const signature = key.sign(receiptDigest(receipt, domain)).serialized;
  return { receipt, signature };
}

/**
 * The address that signed a receipt. Throws RECEIPT_BAD_SIGNATURE for a malformed signature or a malleable
 * (high-s) one, which the contracts would refuse too.
 */
export function recoverReceiptSigner(signed: ISignedReceipt, domain: IReceiptDomain): string {
  const digest = receiptDigest(signed.receipt, domain);
  let sig: Signature;
  try {
    sig = Signature.from(signed.signature);
  } catch (e) {
    throw makeError(
      'RECEIPT_BAD_SIGNATURE',
      `The receipt's signature is malformed: ${(e as Error).message}.`,
      {
        step: signed.receipt.step
      }
    );
  }
  assert(
    BigInt(sig._s) <= HALF_N && /^0x[0-9a-fA-F]{130}$/.test(signed.signature),
    'RECEIPT_BAD_SIGNATURE',
    'The receipt signature is not in canonical 65-byte low-s form.',
    { step: signed.receipt.step }
  );
  try {
    return recoverAddress(digest, sig);
  } catch (e) {
    // r or s of zero or past the curve order, or a point not on the curve: nothing signed this.
    throw makeError(
      'RECEIPT_BAD_SIGNATURE',
      `The receipt's signature is not a valid secp256k1 signature: ${(e as Error).message}.`,
      { step: signed.receipt.step }
    );
  }
}

/**
 * Checks that `expectedSigner` signed this receipt for this domain; throws RECEIPT_BAD_SIGNATURE otherwise. A
 * receipt signed for another run id, chain or contract recovers to a different address and fails here.
 */
export function verifyReceipt(signed: ISignedReceipt, domain: IReceiptDomain, expectedSigner: string): void {
  const signer = recoverReceiptSigner(signed, domain);
  if (signer !== getAddress(expectedSigner)) {
    throw makeError(
      'RECEIPT_BAD_SIGNATURE',
      `Receipt for step ${signed.receipt.step} was not signed by the run's provider ${getAddress(
        expectedSigner
      )} on chain ${domain.chainId} at ${domain.verifyingContract}.`,
      { step: signed.receipt.step, signer }
    );
  }
}

/**
 * Validates a run's receipts as a chain: all of `runId`, steps 0, 1, 2, ... in order with exactly one receipt
 * each, and every `prev` the digest of the receipt before it (zero for step 0). Returns the digests in order.
 * Throws RECEIPT_CHAIN_BROKEN naming the first step that breaks the chain.
 */
export function validateReceiptChain(
  receipts: IStepReceipt[],
  runId: Hex32,
  domain: IReceiptDomain
): Hex32[] {
  const digests: Hex32[] = [];
  let prev = ZERO_HASH;
  receipts.forEach((receipt, index) => {
    const fail = (what: string) =>
      makeError('RECEIPT_CHAIN_BROKEN', `Receipt chain broken at position ${index}: ${what}.`, {
        index,
        step: receipt.step
      });
    if (receipt.runId !== runId) {
      throw fail(`it belongs to run ${receipt.runId}, not ${runId}`);
    }
    if (receipt.step !== index) {
      throw fail(
        receipt.step < index
          ? `step ${receipt.step} appears again (replayed or duplicated)`
          : `expected step ${index}, found step ${receipt.step} (missing or reordered receipts)`
      );
    }
    if (receipt.prev !== prev) {
      throw fail(`"prev" does not match the digest of step ${index - 1}`);
    }
    prev = receiptDigest(receipt, domain);
    digests.push(prev);
  });
  return digests;
}

/**
 * The `artifactsHash` of a receipt: zero when a cell committed to no files, else the canonical-JSON hash of the
 * files sorted by path, so the hash does not depend on the order the agent found them in.
 */
export function artifactsHash(artifacts: IArtifact[]): Hex32 {
  if (artifacts.length === 0) {
    return ZERO_HASH;
  }
  const sorted = [...artifacts].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return canonicalHash(sorted.map(a => ({ path: a.path, sha256: a.sha256, size: a.size })));
}
