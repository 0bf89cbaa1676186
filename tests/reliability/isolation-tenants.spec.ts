/**
 * Isolation between clients (issue 7, item 3): two clients with their own wallets on one real agent process.
 * Every route of the agent's OpenAPI document that names a run, a bundle, an artifact or a step is tried with
 * client B's token on client A's run (so a route added later is covered without touching this spec), and so is
 * the kernel WebSocket, by A's path and by B's own path with A's kernel id. Then the same routes without a token,
 * with forged, revoked and expired tokens; forged and replayed logins; and browser origins (CORS preflight and
 * the WebSocket Origin check). Each case is asserted and recorded in RELIABILITY.md.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Wallet } from 'ethers';
import { parse } from 'yaml';
import {
  ALLOWED_ORIGIN,
  IIsolationBed,
  kernelManager,
  runCode,
  startIsolationBed,
  tryUpgrade
} from './fixture-isolation';
import { call, login, loginMessage, waitFor } from '../integration/agent-service-fixture';
import { recordCase } from './record';

jest.setTimeout(120_000);

const TOKEN_TTL = 8;
let bed: IIsolationBed;
let kernelA: string;
let artifactA: string;

interface IRoute {
  method: string;
  template: string;
  secured: boolean;
}

/** Every operation of openapi.yaml whose path has a parameter, read from the document itself. */
function parameterizedRoutes(): IRoute[] {
  const doc = parse(readFileSync(path.join(__dirname, '..', '..', 'src', 'agent', 'openapi.yaml'), 'utf8'));
  const routes: IRoute[] = [];
  for (const [template, item] of Object.entries<Record<string, { security?: unknown[] }>>(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method) && template.includes('{')) {
        routes.push({
          method: method.toUpperCase(),
          template,
          secured: (op.security ?? doc.security).length > 0
        });
      }
    }
  }
  return routes;
}

/** A route's path with client A's run, bundle, artifact, step 0 and kernel filled in. */
function pathOf(template: string): string {
  const values: Record<string, string> = {
    runId: bed.a.runId,
    bundleHash: bed.a.bundle.bundleHash,
    sha256: artifactA,
    step: '0',
    jupyterPath: `api/kernels/${kernelA}`
  };
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in values)) {
      throw new Error(
        `openapi.yaml has a path parameter {${name}} this spec does not know: add a value for it`
      );
    }
    return values[name];
  });
}

const wsUrl = (runId: string, kernel: string, token?: string) =>
  `${bed.agent.url.replace('http', 'ws')}/runs/${runId}/jupyter/api/kernels/${kernel}/channels` +
  (token ? `?token=${encodeURIComponent(token)}` : '');

beforeAll(async () => {
  bed = await startIsolationBed('iso-tenants', ['--token-ttl', String(TOKEN_TTL)]);
  try {
    await prepareA();
  } catch (e) {
    throw new Error(`${(e as Error).message}\nagent output:\n${bed.agent.output()}`);
  }
});

async function prepareA(): Promise<void> {
  // Client A: a kernel, a receipt with an artifact under outputs/, anchored so that its proof exists.
  const token = await login(bed.agent.url, bed.a.key);
  const manager = kernelManager(bed.agent.url, bed.a.runId, token);
  const kernel = await manager.startNew({ name: 'python3' });
  kernelA = kernel.id;
  await runCode(
    kernel,
    "import os; os.makedirs('outputs', exist_ok=True); open('outputs/a.txt','w').write('A only')"
  );
  const receipts = await waitFor(async () => {
    const r = await call(bed.agent.url, 'GET', `/runs/${bed.a.runId}/receipts`, { token });
    return r.json.receipts?.length === 1 && r.json.receipts;
  });
  artifactA = receipts[0].artifacts[0].sha256;
  await call(bed.agent.url, 'POST', `/runs/${bed.a.runId}/anchor`, { token });
  await waitFor(
    async () =>
      (await call(bed.agent.url, 'GET', `/runs/${bed.a.runId}/receipts/0/proof`, { token })).status === 200,
    30_000,
    'the anchored proof'
  );
  kernel.dispose();
  manager.dispose();
}

afterAll(async () => {
  await bed?.close();
});

it("refuses client B every REST route and the WebSocket of client A's run", async () => {
  const routes = parameterizedRoutes();
  const tokenB = await login(bed.agent.url, bed.b.key);
  const reached: string[] = [];
  let tried = 0;
  for (const r of routes) {
    const answer = await call(bed.agent.url, r.method, pathOf(r.template), {
      token: tokenB,
      ...(['POST', 'PUT', 'PATCH'].includes(r.method) ? { json: {} } : {})
    }).catch(e => {
      throw new Error(`${r.method} ${r.template}: ${e}\n${bed.agent.output()}`);
    });
    tried++;
    if (![403, 404].includes(answer.status) || answer.text.includes('A only')) {
      reached.push(`${r.method} ${r.template} -> ${answer.status}`);
    }
  }
  // B opening a run under A's run id (the on-chain run names A as its client) is refused too.
  const hijack = await call(bed.agent.url, 'POST', `/runs?runId=${bed.a.runId}`, {
    token: tokenB,
    body: bed.a.bundle.bytes
  });
  tried++;
  if (hijack.status < 400) {
    reached.push(`POST /runs?runId=<A> -> ${hijack.status}`);
  }
  // The kernel WebSocket: A's path with B's token, and B's own path with A's kernel id.
  const wsAttempts = [
    await tryUpgrade(wsUrl(bed.a.runId, kernelA, tokenB)),
    await tryUpgrade(wsUrl(bed.b.runId, kernelA, tokenB))
  ];
  tried += wsAttempts.length;
  wsAttempts.forEach((w, i) => w === 'open' && reached.push(`websocket ${i} opened`));

  // A's run went on untouched (B's stop, anchor and publish were refused), and A still reaches it all.
  const tokenA = await login(bed.agent.url, bed.a.key);
  expect((await call(bed.agent.url, 'GET', `/runs/${bed.a.runId}`, { token: tokenA })).json.state).toBe(
    'running'
  );
  for (const r of routes.filter(
    r =>
      r.method === 'GET' &&
      !r.template.includes('stream') &&
      !r.template.includes('events') &&
      !r.template.includes('/public') // published content only, and A published nothing
  )) {
    expect([
      r.template,
      (await call(bed.agent.url, 'GET', pathOf(r.template), { token: tokenA })).status
    ]).toEqual([r.template, 200]);
  }
  expect(await tryUpgrade(wsUrl(bed.a.runId, kernelA, tokenA))).toBe('open');
  recordCase({
    id: 'isolation.cross-client',
    area: 'isolation',
    case: "client B's token on every REST route of openapi.yaml naming client A's run, bundle, artifact, step or kernel, a run under A's id, and A's kernel WebSocket",
    tried,
    survived: tried - reached.length,
    lost: reached.length,
    figure: `${reached.length} of ${tried} requests reached A's data (${routes.length} routes from the document)`,
    note:
      reached.join('; ') ||
      "A's own token gets 200 from every GET route among them and opens the WebSocket (so the refusals are not vacuous)"
  });
  expect(reached).toEqual([]);
});

it('refuses missing, forged, revoked and expired tokens on every secured route and the WebSocket', async () => {
  const secured = parameterizedRoutes().filter(r => r.secured);
  const refreshed = await login(bed.agent.url, bed.a.key);
  const renewed = (await call(bed.agent.url, 'POST', '/auth/refresh', { token: refreshed })).json.token;
  expect(typeof renewed).toBe('string');
  const expired = await login(bed.agent.url, bed.a.key);
  const expiredAt = Date.now() + TOKEN_TTL * 1000;
  const valid = await login(bed.agent.url, bed.a.key);
  const tamper = valid.slice(0, -2) + (valid.endsWith('A') ? 'BB' : 'AA');
  const kinds: Record<string, string | undefined> = {
    missing: undefined,
    'random (forged)': 'b3JnZWQtdG9rZW4tdGhhdC1uZXZlci13YXMtaXNzdWVk',
    'edited (one character of a valid token)': tamper,
    'revoked (exchanged by refresh)': refreshed
  };
  const passed: string[] = [];
  let tried = 0;
  const tryAll = async (name: string, token: string | undefined) => {
    for (const r of secured) {
      const answer = await call(bed.agent.url, r.method, pathOf(r.template), {
        token,
        ...(r.method === 'GET' ? {} : { json: {} })
      }).catch(e => {
        throw new Error(
          `${name}: ${r.method} ${r.template}: ${e} ${(e as Error & { cause?: Error }).cause?.message}`
        );
      });
      tried++;
      if (answer.status !== 401) {
        passed.push(`${name}: ${r.method} ${r.template} -> ${answer.status}`);
      }
    }
    const ws = await tryUpgrade(wsUrl(bed.a.runId, kernelA, token));
    tried++;
    if (ws !== '401') {
      passed.push(`${name}: websocket -> ${ws}`);
    }
  };
  for (const [name, token] of Object.entries(kinds)) {
    await tryAll(name, token);
  }
  // Expiry: the same token before (accepted) and after its lifetime (refused); the run itself is unaffected.
  expect((await call(bed.agent.url, 'GET', `/runs/${bed.a.runId}`, { token: expired })).status).toBe(200);
  await new Promise(r => setTimeout(r, Math.max(0, expiredAt - Date.now()) + 1000));
  await tryAll('expired', expired);

  // Logins: a wrong signature, another provider's audience, an edited message, a replayed message and nonce.
  const logins: Record<string, { message: string; signature: string }> = {};
  const other = Wallet.createRandom();
  const good = await loginMessage(bed.agent.url, bed.a.key);
  logins['wrong signature (signed by another wallet)'] = {
    message: good.message,
    signature: await other.signMessage(good.message)
  };
  logins["another provider's audience"] = await loginMessage(bed.agent.url, bed.a.key, m => {
    m.uri = `eip155:${m.chainId}:${other.address}`;
  });
  const edited = await loginMessage(bed.agent.url, bed.a.key);
  logins['edited after signing (address of B)'] = {
    message: edited.message.replace(bed.a.address, bed.b.address),
    signature: edited.signature
  };
  logins['another domain'] = await loginMessage(bed.agent.url, bed.a.key, m => {
    m.domain = 'evil.test';
  });
  const once = await loginMessage(bed.agent.url, bed.a.key);
  expect((await call(bed.agent.url, 'POST', '/auth/login', { json: once })).status).toBe(200);
  logins['replayed (message and nonce used once already)'] = once;
  for (const [name, body] of Object.entries(logins)) {
    const answer = await call(bed.agent.url, 'POST', '/auth/login', { json: body });
    tried++;
    if (answer.status !== 401 || answer.json?.token) {
      passed.push(`login ${name} -> ${answer.status}`);
    }
  }
  recordCase({
    id: 'isolation.tokens',
    area: 'isolation',
    case: `missing, random, edited, revoked and expired (--token-ttl ${TOKEN_TTL}) tokens on every secured route with a run/bundle/artifact in its path and on the kernel WebSocket; forged and replayed EIP-4361 logins`,
    tried,
    survived: tried - passed.length,
    lost: passed.length,
    figure: `${passed.length} of ${tried} accepted (${secured.length} secured routes x 5 token kinds + WebSocket, ${Object.keys(logins).length} logins)`,
    note: passed.join('; ') || 'each refusal is the same 401 (the reason goes to the log only)'
  });
  expect(passed).toEqual([]);
});

it('answers CORS preflights and opens WebSockets for the allowed origin only', async () => {
  const token = await login(bed.agent.url, bed.a.key);
  const origins = [
    ALLOWED_ORIGIN,
    'http://evil.test',
    'null',
    `${ALLOWED_ORIGIN}.evil.test`,
    ALLOWED_ORIGIN.replace('http:', 'https:')
  ];
  const wrong: string[] = [];
  let tried = 0;
  for (const origin of origins) {
    const allowed = origin === ALLOWED_ORIGIN;
    for (const r of parameterizedRoutes().filter(r => r.secured)) {
      const pre = await call(bed.agent.url, 'OPTIONS', pathOf(r.template), {
        headers: {
          origin,
          'access-control-request-method': r.method,
          'access-control-request-headers': 'authorization'
        }
      });
      tried++;
      const ok = pre.status === 204 && pre.headers.get('access-control-allow-origin') === origin;
      const refused = pre.status === 403 && pre.headers.get('access-control-allow-origin') === null;
      if (allowed ? !ok : !refused) {
        wrong.push(`preflight ${origin} ${r.method} ${r.template} -> ${pre.status}`);
      }
    }
    const actual = await call(bed.agent.url, 'GET', `/runs/${bed.a.runId}`, { token, headers: { origin } });
    tried++;
    if ((actual.headers.get('access-control-allow-origin') === origin) !== allowed) {
      wrong.push(
        `GET with Origin ${origin}: allow-origin ${actual.headers.get('access-control-allow-origin')}`
      );
    }
    const ws = await tryUpgrade(wsUrl(bed.a.runId, kernelA, token), { origin });
    tried++;
    if ((ws === 'open') !== allowed || (!allowed && ws !== '403')) {
      wrong.push(`websocket Origin ${origin} -> ${ws}`);
    }
  }
  recordCase({
    id: 'isolation.origins',
    area: 'isolation',
    case: 'CORS preflight of every secured run route, a credentialed GET and the kernel WebSocket from the allowed origin and from 4 others (another host, null, a suffix, another scheme)',
    tried,
    survived: tried - wrong.length,
    lost: wrong.length,
    figure: `${wrong.length} of ${tried} wrong decisions`,
    note:
      wrong.join('; ') ||
      'requests without an Origin (CLI, Node) pass: origins are a browser rule, tokens still apply'
  });
  expect(wrong).toEqual([]);
});

it('answers every refused upload with its status instead of resetting the connection', async () => {
  // A refusal comes before the body is read; the client must still get the 401/403, not a reset connection.
  const body = new Uint8Array(256 * 1024).fill(65);
  const tokenB = await login(bed.agent.url, bed.b.key);
  const outcomes: Record<string, number> = {};
  const tries = 60;
  for (let i = 0; i < tries; i++) {
    const token = i % 2 ? tokenB : undefined;
    // Uploads large and small: a small body often arrives with the headers and is left unread just the same.
    const upload = i % 4 === 0 ? { body } : { body: new Uint8Array(16).fill(66) };
    const answer = await call(bed.agent.url, 'POST', `/runs?runId=${bed.a.runId}`, { token, ...upload }).then(
      a => String(a.status),
      e => `network error (${(e as Error & { cause?: Error }).cause?.message ?? e})`
    );
    outcomes[answer] = (outcomes[answer] ?? 0) + 1;
    // The next request of the client, which may reuse the connection the refusal came on.
    const next = await call(bed.agent.url, 'GET', '/health').then(
      a => String(a.status),
      e => `next request: network error (${(e as Error & { cause?: Error }).cause?.message ?? e})`
    );
    if (next !== '200') {
      outcomes[next] = (outcomes[next] ?? 0) + 1;
    }
  }
  const answered =
    tries - Object.entries(outcomes).reduce((n, [k, v]) => n + (/^40[13]$/.test(k) ? 0 : v), 0);
  recordCase({
    id: 'isolation.refused-uploads',
    area: 'isolation',
    case: `${tries} bundle uploads (16 B to 256 KiB) to another client's run id, without a token or with client B's token, each followed at once by the client's next request`,
    tried: tries,
    survived: answered,
    lost: tries - answered,
    figure: Object.entries(outcomes)
      .map(([k, v]) => `${v} x ${k}`)
      .join(', '),
    note: 'a refusal sent before the body is read says Connection: close, so the client does not reuse the connection the agent then drops'
  });
  expect(outcomes).toEqual({ '401': tries / 2, '403': tries / 2 });
});
