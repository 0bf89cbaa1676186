/**
 * `ain provider start`: runs the provider agent. Connects to the chain (a deployment file, or an RPC URL and
 * contract addresses), unlocks the provider key (an encrypted keystore; a raw key only on development chains),
 * listens, registers or updates the provider's offer on-chain (no transaction when nothing changed), and serves
 * until SIGINT/SIGTERM. Prints where it listens and what it offers; never the key, a token or a salt.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SigningKey, Wallet, formatUnits, parseUnits } from 'ethers';
import { makeError } from '../../core/errors.js';
import { IChainConfig, isDevChainId, parseChainConfig } from '../../chain/config.js';
import { devPrivateKey, readDeployment } from '../../chain/dev-chain.js';
import { loadKeystore } from '../../chain/keystore-node.js';
import { ProviderRegistryClient } from '../../chain/provider-registry.js';
import { ChainSession } from '../../chain/session.js';
import { unlockedWallet } from '../../chain/wallet.js';
import { ProviderAgent } from '../../agent/agent.js';
import { checkFault } from '../../agent/agent-options.js';
import { GatewayKernelBackend } from '../../agent/backend-gateway.js';
import { LocalKernelBackend } from '../../agent/backend-local.js';
import { SANDBOX_MODES, SandboxMode } from '../../agent/kernel-sandbox.js';
import { UvEnvironmentBuilder } from '../../agent/env-builder-uv.js';
import { parseAllowedOrigins } from '../../agent/cors.js';
import { AgentServer } from '../../agent/http-server.js';
import { LogLevel, createLogger } from '../../agent/metrics.js';
import { ensureRegistered, providerOffer } from '../../agent/provider-onchain.js';
import { createRunRuntime } from '../../agent/run-runtime.js';
import type { FaultMode, IKernelBackend } from '../../agent/tokens.js';
import { ICommand } from '../main.js';
import { devDataDir } from '../paths.js';
import { chainDataDir } from './chain.js';

const FAULTS: FaultMode[] = ['tamper-outputs', 'skip-execution', 'equivocate', 'withhold-anchor'];

const USAGE = `Usage: ain provider start [options]

Runs the provider agent: registers (or updates) this provider on-chain and serves runs.
Chain:
  --deployment FILE         chain config / deployment file (default: the development chain's)
  --rpc-url URL --chain-id N --token ADDR --provider-registry ADDR --run-registry ADDR [--deployment-block N]
                            the same without a file
Key (never printed):
  --keystore FILE           encrypted JSON keystore; its password in $AIN_PROVIDER_PASSWORD or --password-file
  --password-file FILE
  --dev-account N           development account N (chain ids 31337 and 1337 only); or a raw key in
                            $AIN_PROVIDER_KEY (development chains only)
Offer:
  --price TOKENS            price per hour in tokens (default 1)
  --stake TOKENS            stake at first registration (default: the registry's minimum)
  --capabilities JSON       capability summary, e.g. '{"gpu":false,"memoryMb":4096}' (or @file.json)
  --public-url URL          the endpoint registered on-chain (default http://<host>:<port>); a path such as
                            /user/<name>/proxy/8601 (jupyter-server-proxy on a JupyterHub) is resolved by each page
Service:
  --host ADDR --port N      listen address (default 127.0.0.1:8888; port 0 picks a free one)
  --allow-origin ORIGIN     a web page origin that may call the agent (CORS, WebSockets), e.g. the JupyterLab
                            page http://127.0.0.1:8888; repeat or comma-separate; none by default
  --data-dir DIR            store, bundles, run folders, environment cache (default <dev data>/agent)
  --backend KIND            local (default), a Kernel/Enterprise Gateway URL, or none (no kernels: service only)
  --gateway-token TOKEN     the gateway's auth token
  --sandbox MODE            local kernels: auto (default: bubblewrap where it works), bwrap (or refuse to start),
                            none (kernels run unconfined as the agent's user)
Limits:
  --max-bundle-mb N (256)  --max-wall-seconds N (86400)  --max-output-mb N (256)  --max-memory-mb N (0: none;
  local kernels get MemoryError past it; a gateway applies its own limits)  --min-escrow-seconds N (60)  --token-ttl SECONDS (900)
Checkpoints:
  --checkpoint-receipts N   anchor every N receipts (default 10; 0: never by count)
  --checkpoint-seconds T    anchor every T seconds when there are new receipts (default 60; 0: never by time)
Payment:
  --settle-seconds T        every T seconds, close ended runs on-chain and settle those past the challenge
                            window, so pay and stake never wait for the client (default 300; 0: never)
Testing (development chains only):
  --fault MODE              ${FAULTS.join(' | ')}
  --log-level LEVEL         debug | info | warn | error (default info)`;

/** The options of `ain provider start`. */
const OPTIONS = {
  deployment: { type: 'string' },
  'rpc-url': { type: 'string' },
  'chain-id': { type: 'string' },
  token: { type: 'string' },
  'provider-registry': { type: 'string' },
  'run-registry': { type: 'string' },
  'deployment-block': { type: 'string', default: '0' },
  keystore: { type: 'string' },
  'password-file': { type: 'string' },
  'dev-account': { type: 'string' },
  price: { type: 'string', default: '1' },
  stake: { type: 'string' },
  capabilities: { type: 'string', default: '{}' },
  'public-url': { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  'allow-origin': { type: 'string', multiple: true },
  port: { type: 'string', default: '8888' },
  'data-dir': { type: 'string' },
  backend: { type: 'string', default: 'local' },
  'gateway-token': { type: 'string' },
  sandbox: { type: 'string', default: 'auto' },
  'max-bundle-mb': { type: 'string', default: '256' },
  'max-wall-seconds': { type: 'string', default: '86400' },
  'max-output-mb': { type: 'string', default: '256' },
  'max-memory-mb': { type: 'string', default: '0' },
  'min-escrow-seconds': { type: 'string', default: '60' },
  'token-ttl': { type: 'string', default: '900' },
  'checkpoint-receipts': { type: 'string', default: '10' },
  'checkpoint-seconds': { type: 'string', default: '60' },
  'settle-seconds': { type: 'string', default: '300' },
  fault: { type: 'string' },
  'log-level': { type: 'string', default: 'info' }
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

export const command: ICommand = {
  summary: 'run the provider agent: register on-chain and serve notebook runs',
  usage: USAGE,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'start') {
      console.error(USAGE);
      return 2;
    }
    const { values } = parseArgs({ args: rest, options: OPTIONS, strict: true });
    const config = await Private.chainConfig(values);
    const fault = Private.fault(values.fault);
    // Before anything touches the chain or the key: a cheating agent must never start on a chain with value.
    checkFault(fault, config.chainId);
    const wallet = await Private.wallet(values, config);
    const session = await ChainSession.connect(config, unlockedWallet(wallet));
    // Unattended: a dropped anchor is noticed (CHAIN_TX_TIMEOUT), and the queue looks at the chain again.
    session.txTimeoutMs = 120_000;
    const dataDir = values['data-dir'] ?? join(devDataDir(), 'agent');
    const capabilities = Private.json(values.capabilities!, '--capabilities');
    const price = parseUnits(values.price!, 18);
    const logger = createLogger({ level: values['log-level'] as LogLevel });
    const backend = Private.backend(values, dataDir);
    const envBuilder = new UvEnvironmentBuilder({ cacheDir: join(dataDir, 'environments') });
    const host = values.host!;
    const agent = await ProviderAgent.create(
      {
        dataDir,
        session,
        signingKey: new SigningKey(wallet.privateKey),
        domain: 'pending',
        pricePerHour: price,
        capabilities: { backend: backend?.kind ?? 'none', ...capabilities },
        limits: {
          maxBundleBytes: Private.int(values['max-bundle-mb']!, '--max-bundle-mb') * 1024 * 1024,
          maxWallSeconds: Private.int(values['max-wall-seconds']!, '--max-wall-seconds'),
          maxOutputBytes: Private.int(values['max-output-mb']!, '--max-output-mb') * 1024 * 1024,
          maxMemoryMb: Private.int(values['max-memory-mb']!, '--max-memory-mb'),
          minEscrowSeconds: Private.int(values['min-escrow-seconds']!, '--min-escrow-seconds')
        },
        checkpoint: {
          everyReceipts: Private.int(values['checkpoint-receipts']!, '--checkpoint-receipts'),
          everySeconds: Private.int(values['checkpoint-seconds']!, '--checkpoint-seconds')
        },
        settleEverySeconds: Private.int(values['settle-seconds']!, '--settle-seconds'),
        auth: { tokenTtlSeconds: Private.int(values['token-ttl']!, '--token-ttl') },
        ...(fault ? { fault } : {}),
        ...(backend
          ? { createRuntime: (ctx, store) => createRunRuntime(ctx, { backend, envBuilder, store }) }
          : {}),
        logger
      },
      false
    );
    const server = new AgentServer(agent, undefined, {
      allowedOrigins: parseAllowedOrigins(values['allow-origin'] ?? [])
    });
    try {
      const url = await server.listen(Private.int(values.port!, '--port'), host);
      const publicUrl = (values['public-url'] ?? url).replace(/\/+$/, '');
      // A path (`/user/<name>/proxy/8601`, served by jupyter-server-proxy on a JupyterHub) is resolved by each
      // page against its own origin; the EIP-4361 domain is then this agent's own address.
      agent.auth.domain = new URL(publicUrl, url).host;
      const registry = new ProviderRegistryClient(session);
      const stake = values.stake !== undefined ? parseUnits(values.stake, 18) : await registry.minStake();
      const offer = providerOffer(publicUrl, price, agent.options.capabilities!);
      const registration = await ensureRegistered(registry, offer, stake);
      // Anchoring starts only now: registration and anchors send from one account, one nonce at a time.
      agent.anchors.start();
      agent.settlement.start();
      const tx = registration.txHash ? `(tx ${registration.txHash})` : '(no transaction)';
      const caps = JSON.stringify(agent.options.capabilities);
      console.log(`provider     ${agent.address} on chain ${config.chainId} (${config.rpcUrl})`);
      console.log(`on-chain     ${registration.outcome} ${tx}`);
      console.log(`offer        ${formatUnits(price, 18)} tokens/hour, capabilities ${caps}`);
      const sandboxed =
        backend instanceof LocalKernelBackend
          ? backend.sandboxed
            ? ' (kernels in bwrap)'
            : ' (kernels NOT sandboxed)'
          : '';
      console.log(
        `backend      ${values.backend}${sandboxed}${fault ? `, FAULT ${fault} (development chain)` : ''}`
      );
      console.log(`data         ${dataDir}`);
      console.log(`listening    ${url} (public ${publicUrl}; API document at ${url}/openapi.json)`);
    } catch (e) {
      // Nothing may keep the process alive after a failed start (an open server, the queue's timers).
      await server.close();
      await agent.close();
      session.close();
      throw e;
    }
    await new Promise<void>(resolve => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    await agent.close();
    session.close();
    console.log('agent stopped.');
    return 0;
  }
};

namespace Private {
  export async function chainConfig(values: Values): Promise<IChainConfig> {
    if (values['rpc-url']) {
      return parseChainConfig({
        rpcUrl: values['rpc-url'],
        chainId: Number(values['chain-id']),
        deploymentBlock: Number(values['deployment-block']),
        contracts: {
          token: values.token,
          providerRegistry: values['provider-registry'],
          runRegistry: values['run-registry']
        }
      });
    }
    return readDeployment(values.deployment ?? join(chainDataDir(), 'deployment.json'));
  }

  export function fault(value: string | undefined): FaultMode | undefined {
    if (value !== undefined && !FAULTS.includes(value as FaultMode)) {
      throw makeError('AGENT_CONFIG_INVALID', `--fault must be one of ${FAULTS.join(', ')}, not "${value}".`);
    }
    return value as FaultMode | undefined;
  }

  export async function wallet(values: Values, config: IChainConfig): Promise<Wallet> {
    if (values.keystore) {
      const password = values['password-file']
        ? readFileSync(values['password-file'], 'utf8').replace(/\r?\n$/, '')
        : process.env.AIN_PROVIDER_PASSWORD;
      if (password === undefined) {
        throw makeError(
          'AGENT_CONFIG_INVALID',
          'The keystore needs its password: set $AIN_PROVIDER_PASSWORD or pass --password-file.'
        );
      }
      return loadKeystore(values.keystore, password);
    }
    const raw =
      values['dev-account'] !== undefined
        ? devPrivateKey(Number(values['dev-account']))
        : process.env.AIN_PROVIDER_KEY;
    if (raw === undefined) {
      throw makeError(
        'AGENT_CONFIG_INVALID',
        'No provider key: pass --keystore FILE (any chain), or on a development chain --dev-account N or $AIN_PROVIDER_KEY.'
      );
    }
    if (!isDevChainId(config.chainId)) {
      throw makeError(
        'CHAIN_WALLET_REFUSED',
        `Raw development keys are accepted only on development chains (31337, 1337), not on chain ${config.chainId}. ` +
          'Use an encrypted keystore: --keystore FILE.'
      );
    }
    return new Wallet(raw);
  }

  export function backend(values: Values, dataDir: string): IKernelBackend | null {
    const kind = values.backend!;
    if (kind === 'none') {
      return null;
    }
    if (kind === 'local') {
      const sandbox = values.sandbox as SandboxMode;
      if (!SANDBOX_MODES.includes(sandbox)) {
        throw makeError('AGENT_CONFIG_INVALID', `--sandbox must be auto, bwrap or none, not "${sandbox}".`);
      }
      return new LocalKernelBackend({
        maxMemoryMb: Private.int(values['max-memory-mb']!, '--max-memory-mb'),
        sandbox
      });
    }
    if (/^https?:\/\//.test(kind)) {
      return new GatewayKernelBackend({ url: kind, token: values['gateway-token'] });
    }
    throw makeError(
      'AGENT_CONFIG_INVALID',
      `--backend must be local, none or a gateway URL, not "${kind}" (data in ${dataDir}).`
    );
  }

  export function int(value: string, flag: string): number {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw makeError('AGENT_CONFIG_INVALID', `${flag} must be a whole number >= 0, not "${value}".`);
    }
    return n;
  }

  export function json(value: string, flag: string): Record<string, unknown> {
    try {
      const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>;
      }
    } catch {
      // fall through to the error below
    }
    throw makeError('AGENT_CONFIG_INVALID', `${flag} must be a JSON object (or @file.json holding one).`);
  }
}
