/**
 * Shared set-up of the chain integration specs: a real anvil on a free loopback port, the contracts deployed from
 * contracts/build, and sessions for the roles of DESIGN.md. No mocks.
 */
import { SigningKey, Wallet, ZeroHash, parseUnits } from 'ethers';
import { isAinError } from '../../src/core/errors';
import { Hex32, keccak256 } from '../../src/core/hash';
import {
  IReceiptDomain,
  ISignedReceipt,
  IStepReceipt,
  receiptDigest,
  signReceipt
} from '../../src/core/receipt';
import { IAnvil, startAnvil } from '../../src/chain/anvil-node';
import { IDeployment } from '../../src/chain/config';
import { DEV_PARAMETERS, deployContracts } from '../../src/chain/deploy-node';
import { devPrivateKey } from '../../src/chain/dev-chain';
import { ProviderRegistryClient } from '../../src/chain/provider-registry';
import { RunRegistryClient } from '../../src/chain/run-registry';
import { ChainSession } from '../../src/chain/session';
import { TokenClient } from '../../src/chain/token';
import { devKeyWallet } from '../../src/chain/wallet';

/** One account's view of the chain. */
export interface IActor {
  key: string;
  address: string;
  session: ChainSession;
  token: TokenClient;
  providers: ProviderRegistryClient;
  runs: RunRegistryClient;
}

/** A started chain with deployed contracts. */
export interface IChainFixture {
  anvil: IAnvil;
  deployment: IDeployment;
  deployer: IActor;
  provider: IActor;
  client: IActor;
  challenger: IActor;
  verifier: IActor;
  stranger: IActor;
  actor(index: number): Promise<IActor>;
  stop(): Promise<void>;
}

export const TOKEN = (n: string | number) => parseUnits(String(n), 18);

/** Starts anvil, deploys, and funds accounts 0-5 with 10,000 test tokens each. */
export async function startChainFixture(): Promise<IChainFixture> {
  const anvil = await startAnvil({ port: 0 });
  const sessions: ChainSession[] = [];
  try {
    const bootstrap = await ChainSession.connect(
      {
        rpcUrl: anvil.rpcUrl,
        chainId: 31337,
        deploymentBlock: 0,
        contracts: {
          token: Wallet.createRandom().address,
          providerRegistry: Wallet.createRandom().address,
          runRegistry: Wallet.createRandom().address
        }
      },
      devKeyWallet(devPrivateKey(0))
    );
    sessions.push(bootstrap);
    const deployment = await deployContracts(bootstrap.requireSigner(), anvil.rpcUrl, DEV_PARAMETERS);
    const actor = async (index: number): Promise<IActor> => {
      const key = devPrivateKey(index);
      const session = await ChainSession.connect(deployment, devKeyWallet(key));
      sessions.push(session);
      return {
        key,
        address: new Wallet(key).address,
        session,
        token: new TokenClient(session),
        providers: new ProviderRegistryClient(session),
        runs: new RunRegistryClient(session)
      };
    };
    const [deployer, provider, client, challenger, verifier, stranger] = await Promise.all(
      [0, 1, 2, 3, 4, 5].map(actor)
    );
    for (const a of [deployer, provider, client, challenger, verifier, stranger]) {
      await deployer.token.faucet(a.address, TOKEN(10000));
    }
    return {
      anvil,
      deployment,
      deployer,
      provider,
      client,
      challenger,
      verifier,
      stranger,
      actor,
      async stop() {
        sessions.forEach(s => s.close());
        await anvil.stop();
      }
    };
  } catch (e) {
    sessions.forEach(s => s.close());
    await anvil.stop();
    throw e;
  }
}

/** Expects `p` to fail with the contract's custom error `name`, decoded by src/chain. */
/** A chain fixture whose provider is registered at `pricePerHour` with a stake of 1,000 tokens. */
export async function startChainWithProvider(pricePerHour: bigint): Promise<IChainFixture> {
  const f = await startChainFixture();
  await f.provider.providers.register(
    { endpoint: 'http://127.0.0.1:9000', pricePerHour, capabilitiesHash: ZeroHash, capabilitiesURI: '' },
    TOKEN(1000)
  );
  return f;
}

export async function expectRevert(p: Promise<unknown>, name: string): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    if (!isAinError(e, 'CHAIN_REVERTED')) {
      throw e;
    }
    expect(e.info.error).toBe(name);
    return e.info;
  }
  throw new Error(`expected the contract to revert with ${name}, but it succeeded`);
}

/** Moves the chain's clock forward and mines a block. */
export async function timeTravel(session: ChainSession, seconds: number): Promise<void> {
  await session.provider.send('evm_increaseTime', [seconds]);
  await session.provider.send('evm_mine', []);
}

/** Signed receipts 0 .. n-1 of a run, chained through `prev`, signed with `key`. */
export function signedReceipts(
  runId: Hex32,
  n: number,
  domain: IReceiptDomain,
  key: string,
  tag = 'cell'
): { signed: ISignedReceipt[]; digests: Hex32[] } {
  const signed: ISignedReceipt[] = [];
  const digests: Hex32[] = [];
  let prev: Hex32 = '0x' + '00'.repeat(32);
  for (let step = 0; step < n; step++) {
    const receipt: IStepReceipt = {
      runId,
      step,
      prev,
      codeHash: keccak256(`${tag} code ${step}`),
      outputHash: keccak256(`${tag} output ${step}`),
      artifactsHash: '0x' + '00'.repeat(32),
      startedAt: 1764000000000 + step * 1000,
      endedAt: 1764000000000 + step * 1000 + 250
    };
    const s = signReceipt(receipt, domain, new SigningKey(key));
    signed.push(s);
    prev = receiptDigest(receipt, domain);
    digests.push(prev);
  }
  return { signed, digests };
}

/** A random 32-byte value. */
export function random32(): Hex32 {
  return keccak256(Wallet.createRandom().privateKey);
}
