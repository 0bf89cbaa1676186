/**
 * Secrets never reach logs (issue 7, item 3). A real agent process with a keystore and its password in the
 * environment, at --log-level debug, serves two clients: logins (and refused logins), a token refresh, cells with
 * an artifact through the kernel WebSocket (token in the query, as browsers send it), refused cross-client
 * requests and WebSockets, an anchor and a stop. Then every byte the agent wrote — its stdout and stderr, every
 * file under its data folder (SQLite database and WAL, run folders, jupyter state) and every row of every table as
 * text — is searched for the private key, the keystore password, every token and every run's salt. The salt is
 * stored by design in one column (agent_runs.salt, to hash outputs); it may appear nowhere else.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Wallet } from 'ethers';
import Database from 'better-sqlite3';
import { call, login, loginMessage, waitFor } from '../integration/agent-service-fixture';
import {
  PASSWORD,
  PROVIDER_KEY,
  kernelManager,
  runCode,
  startIsolationBed,
  tryUpgrade
} from './fixture-isolation';
import { recordCase } from './record';

jest.setTimeout(120_000);

/** Every regular file under `dir` (links are not followed: the environment cache is shared, not the agent's). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

it('keeps the private key, the keystore password, tokens and salts out of every log, file and table', async () => {
  const bed = await startIsolationBed('iso-secrets', ['--log-level', 'debug']);
  const tokens = [bed.a.token, bed.b.token];
  try {
    const base = bed.agent.url;
    const tokenA = await login(base, bed.a.key);
    const tokenB = await login(base, bed.b.key);
    const refreshed = (await call(base, 'POST', '/auth/refresh', { token: tokenA })).json.token;
    tokens.push(tokenA, tokenB, refreshed);
    // Refused logins and requests, so the log's refusal paths run too.
    const forged = await loginMessage(base, bed.a.key);
    await call(base, 'POST', '/auth/login', {
      json: { ...forged, signature: await Wallet.createRandom().signMessage(forged.message) }
    });
    await call(base, 'GET', `/runs/${bed.a.runId}`, { token: tokenB });
    await call(base, 'GET', `/runs/${bed.a.runId}`, { token: refreshed.slice(0, -1) + 'x' });

    const manager = kernelManager(base, bed.a.runId, refreshed);
    const kernel = await manager.startNew({ name: 'python3' });
    for (let i = 0; i < 3; i++) {
      await runCode(
        kernel,
        `import os; os.makedirs('outputs', exist_ok=True); open('outputs/r${i}.txt','w').write('${i}'); print(${i})`
      );
    }
    const ws = `${base.replace('http', 'ws')}/runs/${bed.a.runId}/jupyter/api/kernels/${kernel.id}/channels`;
    expect(await tryUpgrade(`${ws}?token=${tokenB}`)).toBe('403');
    expect(await tryUpgrade(`${ws}?token=${tokenB}`, { origin: 'http://evil.test' })).toBe('403');
    await kernel.shutdown();
    manager.dispose();
    await call(base, 'POST', `/runs/${bed.a.runId}/anchor`, { token: refreshed });
    await waitFor(
      async () =>
        (await call(base, 'GET', `/runs/${bed.a.runId}/checkpoints`, { token: refreshed })).json
          .checkpoints?.[0]?.state === 'anchored',
      30_000,
      'the anchor'
    );
    expect((await call(base, 'POST', `/runs/${bed.a.runId}/stop`, { token: refreshed })).json.state).toBe(
      'stopped'
    );
    const salts = [
      (await call(base, 'GET', `/runs/${bed.a.runId}`, { token: refreshed })).json.salt,
      (await call(base, 'GET', `/runs/${bed.b.runId}`, { token: tokenB })).json.salt
    ];
    expect(salts.every(s => /^0x[0-9a-f]{64}$/.test(s))).toBe(true);
    await bed.agent.stop();

    // Everything the agent wrote.
    const texts: [string, string][] = [['agent stdout+stderr', bed.agent.output()]];
    for (const file of filesUnder(bed.dataDir)) {
      texts.push([path.relative(bed.dataDir, file), readFileSync(file).toString('latin1')]);
    }
    const db = new Database(path.join(bed.dataDir, 'agent.sqlite'), { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    const rows: string[] = [];
    for (const { name } of tables) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        // The one place a salt is kept on purpose.
        rows.push(
          JSON.stringify(name === 'agent_runs' ? { ...row, salt: undefined } : row, (_, v) =>
            v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v
          )
        );
      }
    }
    db.close();
    const dbText = rows.join('\n');
    const key = PROVIDER_KEY.replace(/^0x/, '');
    const secrets: Record<string, string[]> = {
      'private key': [key, key.toUpperCase()],
      'keystore password': [PASSWORD],
      token: tokens,
      salt: salts.flatMap(s => [s, s.slice(2)])
    };
    const hits: string[] = [];
    let tried = 0;
    let leaked = 0;
    for (const [what, values] of Object.entries(secrets)) {
      for (const v of values) {
        tried++;
        const before = hits.length;
        for (const [where, text] of texts) {
          // The database file holds the salt column by design: salts are checked in its rows as text instead.
          if (text.includes(v) && !(what === 'salt' && /^agent\.sqlite/.test(where))) {
            hits.push(`${what} in ${where}`);
          }
        }
        if (dbText.includes(v)) {
          hits.push(`${what} in a database row`);
        }
        leaked += hits.length > before ? 1 : 0;
      }
    }
    const bytes = texts.reduce((n, [, t]) => n + t.length, 0) + dbText.length;
    recordCase({
      id: 'isolation.secrets-in-logs',
      area: 'isolation',
      case: 'an agent (keystore, password in its environment, --log-level debug) logs in two clients, refuses forged logins, tokens and WebSockets, runs cells with artifacts, anchors and stops; its output, every file of its data folder and every database row are searched for the key, the password, the tokens and the salts',
      tried,
      survived: tried - leaked,
      lost: leaked,
      figure: `${hits.length} hits in ${texts.length} files/streams and ${rows.length} rows (${(bytes / 1e6).toFixed(1)} MB searched)`,
      note:
        hits.join('; ') ||
        'the salt is kept only in agent_runs.salt (it hashes outputs) and shown only to its client'
    });
    expect(hits).toEqual([]);
    // The search is not vacuous: the database file, read as text, does hold the salt column.
    expect(texts.find(([where]) => where === 'agent.sqlite')![1]).toContain(salts[0].slice(2));
    expect(statSync(path.join(bed.dataDir, 'agent.sqlite')).size).toBeGreaterThan(0);
  } finally {
    await bed.close();
  }
});
