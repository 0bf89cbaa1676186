/**
 * The EIP-4361 ("Sign-In with Ethereum") message a client signs to log in to a provider agent, written by hand:
 * the format is a fixed text template, and the `siwe` package pulls Node-oriented dependencies into the bundle.
 * siwe.spec.ts checks that the `siwe` parser (what the agent runs) reads these messages back field for field.
 */

/** The fields of a login message (what POST /auth/nonce describes, plus the signer and the times). */
export interface ISiweFields {
  domain: string;
  /** EIP-55 checksummed address of the signer. */
  address: string;
  statement?: string;
  uri: string;
  version: '1';
  chainId: number;
  nonce: string;
  issuedAt: string;
  expirationTime?: string;
}

/** The EIP-4361 text of `f`. */
export function siweMessage(f: ISiweFields): string {
  const lines = [`${f.domain} wants you to sign in with your Ethereum account:`, f.address, ''];
  if (f.statement) {
    lines.push(f.statement, '');
  }
  lines.push(
    `URI: ${f.uri}`,
    `Version: ${f.version}`,
    `Chain ID: ${f.chainId}`,
    `Nonce: ${f.nonce}`,
    `Issued At: ${f.issuedAt}`
  );
  if (f.expirationTime) {
    lines.push(`Expiration Time: ${f.expirationTime}`);
  }
  return lines.join('\n');
}
