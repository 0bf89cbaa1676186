/**
 * The typed client's guards against a real anvil: the chain id is checked before anything is signed, an
 * unreachable endpoint says so, keystores round-trip, and an EIP-1193 wallet signs through the same code.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Eip1193Provider, Wallet } from 'ethers';
import { loadKeystore, saveKeystore, keystoreWallet } from '../../src/chain/keystore-node';
import { ChainSession } from '../../src/chain/session';
import { TokenClient } from '../../src/chain/token';
import { devPrivateKey } from '../../src/chain/dev-chain';
import { devKeyWallet, injectedWallet } from '../../src/chain/wallet';
import { IChainFixture, TOKEN, startChainFixture } from './chain-fixture';

describe('chain client guards on anvil', () => {
  let f: IChainFixture;
  let dir: string;
  beforeAll(async () => {
    f = await startChainFixture();
    dir = mkdtempSync(path.join(tmpdir(), 'ain-keystore-'));
  });
  afterAll(async () => {
    await f?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an endpoint that serves another chain than configured, before signing', async () => {
    const wrong = { ...f.deployment, chainId: 1337 };
    await expect(ChainSession.connect(wrong, devKeyWallet(devPrivateKey(0)))).rejects.toMatchObject({
      code: 'CHAIN_ID_MISMATCH',
      info: { expected: 1337, actual: 31337 }
    });
    await expect(ChainSession.connect(wrong)).rejects.toMatchObject({ code: 'CHAIN_ID_MISMATCH' });
  });

  it('says when the endpoint is unreachable', async () => {
    await expect(
      ChainSession.connect({ ...f.deployment, rpcUrl: 'http://127.0.0.1:9' })
    ).rejects.toMatchObject({
      code: 'CHAIN_UNREACHABLE'
    });
  });

  it('refuses to send from a read-only session', async () => {
    const ro = await ChainSession.connect(f.deployment);
    try {
      await expect(new TokenClient(ro).faucet(f.stranger.address, 1n)).rejects.toMatchObject({
        code: 'CHAIN_WALLET_REFUSED'
      });
    } finally {
      ro.close();
    }
  });

  it('saves and loads encrypted keystores, refusing a wrong password', async () => {
    const file = path.join(dir, 'sub', 'provider.json');
    const wallet = new Wallet(devPrivateKey(7));
    await saveKeystore(file, wallet, 'correct horse', { scryptN: 1024 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await loadKeystore(file, 'correct horse')).address).toBe(wallet.address);
    await expect(loadKeystore(file, 'wrong')).rejects.toMatchObject({ code: 'CHAIN_WALLET_REFUSED' });
    const session = await ChainSession.connect(f.deployment, await keystoreWallet(file, 'correct horse'));
    try {
      await new TokenClient(session).faucet(wallet.address, TOKEN(1));
      expect(await f.stranger.token.balanceOf(wallet.address)).toBe(TOKEN(1));
    } finally {
      session.close();
    }
  });

  it('signs through an injected EIP-1193 wallet, and refuses one on another chain', async () => {
    // A wallet stand-in that forwards to anvil, whose accounts are unlocked (as a browser wallet's would be).
    const wallet = (chainId: string): Eip1193Provider => ({
      async request({ method, params }) {
        if (method === 'eth_chainId') {
          return chainId;
        }
        if (method === 'eth_requestAccounts' || method === 'eth_accounts') {
          return [f.verifier.address];
        }
        if (method === 'wallet_switchEthereumChain') {
          return null;
        }
        return f.deployer.session.provider.send(method, (params as unknown[]) ?? []);
      }
    });
    const session = await ChainSession.connect(f.deployment, injectedWallet(wallet('0x7a69')));
    try {
      expect(await session.address()).toBe(f.verifier.address);
      const before = await f.stranger.token.balanceOf(f.verifier.address);
      await new TokenClient(session).faucet(f.verifier.address, TOKEN(2));
      expect(await f.stranger.token.balanceOf(f.verifier.address)).toBe(before + TOKEN(2));
    } finally {
      session.close();
    }
    await expect(ChainSession.connect(f.deployment, injectedWallet(wallet('0x1')))).rejects.toMatchObject({
      code: 'CHAIN_ID_MISMATCH'
    });
  });
});
