/**
 * Canonical JSON per RFC 8785 (JCS): the one byte form of a JSON value that every hash in the project is taken
 * over. The serialization itself is the `canonicalize` package; this module only types it and turns its failures
 * into AinErrors.
 */
import canonicalize from 'canonicalize';
import { makeError } from './errors.js';
import { Hex32, sha256, utf8 } from './hash.js';

/**
 * Serializes `value` as RFC 8785 canonical JSON.
 * Throws CANONICAL_JSON_INVALID for values JSON cannot represent exactly (NaN, Infinity, lone surrogates,
 * cycles, undefined at the top level).
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (e) {
    throw makeError(
      'CANONICAL_JSON_INVALID',
      `Cannot write this value as canonical JSON: ${(e as Error).message}. ` +
        'Use only finite numbers, well-formed strings and acyclic objects.'
    );
  }
  if (text === undefined) {
    throw makeError(
      'CANONICAL_JSON_INVALID',
      `Cannot write a value of type ${typeof value} as canonical JSON: pass an object, array, string, number, boolean or null.`
    );
  }
  return text;
}

/** UTF-8 bytes of the canonical JSON of `value`. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}

/** SHA-256 of the canonical JSON of `value`: the project's content hash of a JSON document. */
export function canonicalHash(value: unknown): Hex32 {
  return sha256(canonicalBytes(value));
}
