/**
 * Hash and byte helpers shared by every layer. All digests are 0x-prefixed lowercase hex (bytes32), the form the
 * EVM contracts and ethers use, so a hash printed by the CLI can be pasted into a transaction as is.
 *
 * SHA-256 and Keccak-256 come from ethers (audited @noble/hashes underneath): synchronous, and identical in the
 * browser, in a Web Worker and in Node.
 */
import { keccak256 as ethersKeccak256, sha256 as ethersSha256 } from 'ethers';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A 0x-prefixed, 64-hex-digit digest. */
export type Hex32 = string;

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing a TypeError on invalid sequences instead of inserting U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** SHA-256 of bytes, or of a string's UTF-8 bytes. */
export function sha256(data: Uint8Array | string): Hex32 {
  return ethersSha256(typeof data === 'string' ? utf8(data) : data);
}

/** Keccak-256 of bytes, or of a string's UTF-8 bytes. */
export function keccak256(data: Uint8Array | string): Hex32 {
  return ethersKeccak256(typeof data === 'string' ? utf8(data) : data);
}

const HEX32 = /^0x[0-9a-f]{64}$/;

/** True for a lowercase 0x-prefixed 32-byte hex string. */
export function isHex32(value: unknown): value is Hex32 {
  return typeof value === 'string' && HEX32.test(value);
}

/** The all-zero bytes32, used as `prev` of a run's first receipt. */
export const ZERO_HASH: Hex32 = '0x' + '00'.repeat(32);
