import { Wallet } from 'ethers';
import { SiweMessage } from 'siwe';
import { siweMessage } from './siwe.js';

describe('EIP-4361 login message', () => {
  const wallet = new Wallet('0x' + '11'.repeat(32));
  const fields = {
    domain: '127.0.0.1:8601',
    address: wallet.address,
    statement: 'Log in to the AIN provider agent to run notebooks.',
    uri: `eip155:31337:${wallet.address}`,
    version: '1' as const,
    chainId: 31337,
    nonce: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    issuedAt: '2026-11-25T19:00:00.000Z',
    expirationTime: '2026-11-25T19:05:00.000Z'
  };

  it('is read back by the siwe parser (what the agent runs) field for field', () => {
    const parsed = new SiweMessage(siweMessage(fields));
    expect(parsed.domain).toBe(fields.domain);
    expect(parsed.address).toBe(fields.address);
    expect(parsed.statement).toBe(fields.statement);
    expect(parsed.uri).toBe(fields.uri);
    expect(parsed.chainId).toBe(31337);
    expect(parsed.nonce).toBe(fields.nonce);
    expect(parsed.expirationTime).toBe(fields.expirationTime);
  });

  it('is the same text the siwe package writes', () => {
    expect(siweMessage(fields)).toBe(new SiweMessage(fields).prepareMessage());
  });

  it('verifies when signed by the wallet', async () => {
    const message = siweMessage(fields);
    const signature = await wallet.signMessage(message);
    const result = await new SiweMessage(message).verify(
      { signature, time: '2026-11-25T19:01:00.000Z' },
      { suppressExceptions: true }
    );
    expect(result.success).toBe(true);
  });
});
