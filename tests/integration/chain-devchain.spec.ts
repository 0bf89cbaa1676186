/**
 * The embedded development chain behind `ain chain` / `ain dev`: first start deploys, funds and writes the
 * deployment file; a restart resumes from the state file with the same contracts and everything done before.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Wallet, ZeroHash, parseUnits } from 'ethers';
import { devPrivateKey, readDeployment, startDevChain } from '../../src/chain/dev-chain';
import { ProviderRegistryClient } from '../../src/chain/provider-registry';
import { ChainSession } from '../../src/chain/session';
import { TokenClient } from '../../src/chain/token';
import { devKeyWallet } from '../../src/chain/wallet';

describe('development chain (ain chain)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ain-chain-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys and funds on first start, and keeps its state across a restart', async () => {
    const first = await startDevChain({ dataDir: dir, port: 0, fundAccounts: 3 });
    let provider: string;
    try {
      expect(first.deployed).toBe(true);
      const file = JSON.parse(readFileSync(path.join(dir, 'deployment.json'), 'utf8'));
      expect(file).toMatchObject({
        chainId: 31337,
        rpcUrl: first.rpcUrl,
        contracts: first.deployment.contracts
      });
      expect(file.fundedAccounts).toHaveLength(3);
      const session = await ChainSession.connect(first.deployment, devKeyWallet(devPrivateKey(1)));
      try {
        provider = await session.address();
        expect(await new TokenClient(session).balanceOf(provider)).toBe(parseUnits('10000', 18));
        await new ProviderRegistryClient(session).register(
          {
            endpoint: 'http://127.0.0.1:9000',
            pricePerHour: 1n,
            capabilitiesHash: ZeroHash,
            capabilitiesURI: ''
          },
          parseUnits('100', 18)
        );
      } finally {
        session.close();
      }
    } finally {
      await first.stop();
    }

    const second = await startDevChain({ dataDir: dir, port: 0, fundAccounts: 3 });
    try {
      expect(second.deployed).toBe(false);
      expect(second.deployment.contracts).toEqual(first.deployment.contracts);
      expect((await readDeployment(second.deploymentFile)).rpcUrl).toBe(second.rpcUrl);
      const session = await ChainSession.connect(second.deployment);
      try {
        const rec = await new ProviderRegistryClient(session).getProvider(provider);
        expect(rec).toMatchObject({ registered: true, endpoint: 'http://127.0.0.1:9000' });
        expect(await new TokenClient(session).balanceOf(provider)).toBe(parseUnits('9900', 18));
        expect(await new TokenClient(session).balanceOf(new Wallet(devPrivateKey(3)).address)).toBe(0n);
      } finally {
        session.close();
      }
    } finally {
      await second.stop();
    }
  });

  it('says how to get a deployment file when there is none', async () => {
    await expect(readDeployment(path.join(dir, 'nope.json'))).rejects.toMatchObject({
      code: 'CHAIN_DEPLOYMENT_MISSING'
    });
  });
});
