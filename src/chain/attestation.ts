/**
 * Verifier attestations: a verifier's EIP-712 statement about a run (reproduced, mismatch or an objective
 * result), signed under the same domain as receipts and submitted by anyone to RunRegistry.attest.
 */
import { Signer, TypedDataEncoder } from 'ethers';
import { assert } from '../core/errors.js';
import { Hex32 } from '../core/hash.js';
import { IReceiptDomain, receiptDomain } from '../core/receipt.js';

/** What a verifier found; the numbers are the contract's Verdict enum. */
export enum Verdict {
  Reproduced = 1,
  Mismatch = 2,
  Objective = 3
}

/** The EIP-712 type, identical to RunRegistry.ATTESTATION_TYPEHASH's string. */
export const ATTESTATION_TYPES = {
  Attestation: [
    { name: 'runId', type: 'bytes32' },
    { name: 'verdict', type: 'uint8' },
    { name: 'receiptCount', type: 'uint32' },
    { name: 'resultRoot', type: 'bytes32' },
    { name: 'score', type: 'int256' }
  ]
};

/** One attestation. `resultRoot` is the verifier's own Merkle root; `score` an objective metric (scaled integer). */
export interface IAttestation {
  runId: Hex32;
  verdict: Verdict;
  receiptCount: number;
  resultRoot: Hex32;
  score: bigint;
}

/** An attestation with the verifier's signature. */
export interface ISignedAttestation {
  attestation: IAttestation;
  signature: string;
}

/** The digest a verifier signs (RunRegistry.attestationDigest). */
export function attestationDigest(a: IAttestation, domain: IReceiptDomain): Hex32 {
  return TypedDataEncoder.hash(receiptDomain(domain), ATTESTATION_TYPES, a);
}

/** Signs an attestation with any ethers signer (wallet, keystore or injected wallet). */
export async function signAttestation(
  a: IAttestation,
  domain: IReceiptDomain,
  signer: Signer
): Promise<ISignedAttestation> {
  assert(
    Number.isInteger(a.receiptCount) && a.receiptCount >= 0 && a.receiptCount < 2 ** 32,
    'RECEIPT_INVALID_FIELD',
    'Attestation field "receiptCount" must be an integer from 0 to 2^32-1.',
    { field: 'receiptCount' }
  );
  const signature = await signer.signTypedData(receiptDomain(domain), ATTESTATION_TYPES, a);
  return { attestation: a, signature };
}
