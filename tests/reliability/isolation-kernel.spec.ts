/**
 * What code in a kernel can reach on the provider's machine (issue 7, item 3). A cell in client A's run tries to
 * read the provider's keystore, the agent's SQLite database, the stored bundles, client B's run folder, the
 * provider's password in its own environment and in every /proc/<pid>/environ it can open (the agent's own holds
 * $AIN_PROVIDER_PASSWORD), and still writes its own outputs/ (the control: the kernel works). Once with the
 * default `--sandbox auto` (bubblewrap where it works: everything refused) and once with `--sandbox none`, where
 * only the environment holds; both are recorded in RELIABILITY.md.
 */
import * as path from 'node:path';
import { bwrapUnavailable } from '../../src/agent/kernel-sandbox';
import { call, login } from '../integration/agent-service-fixture';
import { IIsolationBed, PASSWORD, kernelManager, runCode, startIsolationBed } from './fixture-isolation';
import { recordCase } from './record';

jest.setTimeout(150_000);

/** The probe: each attempt prints `name=reached` or `name=refused (<error>)`; one JSON line at the end. */
function probeCell(bed: IIsolationBed): string {
  const targets = {
    keystore: bed.keystore,
    database: path.join(bed.dataDir, 'agent.sqlite'),
    bundles: path.join(bed.dataDir, 'bundles'),
    'other run folder': path.join(bed.dataDir, 'runs', bed.b.runId.slice(2), 'work'),
    'agent data folder': bed.dataDir,
    'all run folders': path.join(bed.dataDir, 'runs')
  };
  // Inside the sandbox the folders leading to the run's own folder and environment exist (mount points), empty.
  const own = ['environments', 'runs', bed.a.runId.slice(2)];
  return `
import json, os
password = ${JSON.stringify(PASSWORD)}
targets = json.loads(${JSON.stringify(JSON.stringify(targets))})
own = json.loads(${JSON.stringify(JSON.stringify(own))})
result = {}
for name, target in targets.items():
    try:
        if os.path.isdir(target):
            others = sorted(set(os.listdir(target)) - set(own))
            result[name] = ('reached: ' + ','.join(others)[:80]) if others else 'refused: only the way to its own run'
        else:
            with open(target, 'rb') as f:
                result[name] = 'reached: %d bytes' % len(f.read())
    except Exception as e:
        result[name] = 'refused: ' + type(e).__name__
leaked = sorted(k for k, v in os.environ.items() if password in v or k.startswith('AIN_PROVIDER'))
result['own environment'] = ('reached: ' + ','.join(leaked)) if leaked else 'refused: not there'
seen, hits = 0, []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        try:
            with open('/proc/%s/environ' % pid, 'rb') as f:
                seen += 1
                if password.encode() in f.read():
                    hits.append(pid)
        except Exception:
            pass
result['other processes environment'] = ('reached: pids ' + ','.join(hits)) if hits else 'refused: %d readable, none holds it' % seen
os.makedirs('outputs', exist_ok=True)
with open('outputs/probe.txt', 'w') as f:
    f.write('written')
result['own outputs (control)'] = open('outputs/probe.txt').read()
print(json.dumps(result))
`;
}

async function probe(bed: IIsolationBed): Promise<Record<string, string>> {
  const manager = kernelManager(bed.agent.url, bed.a.runId, await login(bed.agent.url, bed.a.key));
  const kernel = await manager.startNew({ name: 'python3' });
  try {
    const text = await runCode(kernel, probeCell(bed));
    const line = text.trim().split('\n').pop()!;
    // Interrupting still works (a sandboxed kernel is interrupted by message) and the kernel lives on.
    const sleeping = runCode(kernel, 'import time; time.sleep(60)');
    await new Promise(r => setTimeout(r, 1000));
    await kernel.interrupt();
    expect(await sleeping).toContain('KeyboardInterrupt');
    expect(await runCode(kernel, 'print("after")')).toBe('after\n');
    return JSON.parse(line);
  } catch (e) {
    throw new Error(`probe failed: ${e}\n${bed.agent.output()}`);
  } finally {
    await kernel.shutdown().catch(() => undefined);
    manager.dispose();
  }
}

/**
 * The kernel cannot read the agent's files, but the run's jupyter server (outside the sandbox, as the agent's
 * user) serves the run's folder to its client: a cell plants links to the agent's database, the keystore and
 * client B's folder there, and client A asks the Contents API for them.
 */
async function probeLinks(bed: IIsolationBed): Promise<Record<string, string>> {
  const token = await login(bed.agent.url, bed.a.key);
  const manager = kernelManager(bed.agent.url, bed.a.runId, token);
  const kernel = await manager.startNew({ name: 'python3' });
  const links = {
    'link to the database': path.join(bed.dataDir, 'agent.sqlite'),
    'link to the keystore': bed.keystore,
    "link to client B's notebook": path.join(
      bed.dataDir,
      'runs',
      bed.b.runId.slice(2),
      'work',
      'analysis.ipynb'
    )
  };
  const result: Record<string, string> = {};
  try {
    await runCode(
      kernel,
      `import os\nfor i, t in enumerate(${JSON.stringify(Object.values(links))}):\n    os.symlink(t, 'link%d' % i)`
    );
    let i = 0;
    for (const name of Object.keys(links)) {
      const answer = await call(
        bed.agent.url,
        'GET',
        `/runs/${bed.a.runId}/jupyter/api/contents/link${i++}?content=1&type=file&format=base64`,
        { token }
      );
      const bytes = answer.status === 200 ? Buffer.from(answer.json.content ?? '', 'base64') : undefined;
      result[name] = bytes ? `reached: ${bytes.length} bytes` : `refused: ${answer.status}`;
    }
    const files = await call(bed.agent.url, 'GET', `/runs/${bed.a.runId}/jupyter/files/link0`, { token });
    result['/files/ link to the database'] =
      files.status === 200 ? `reached: ${files.text.length} bytes` : `refused: ${files.status}`;
    const listing = await call(bed.agent.url, 'GET', `/runs/${bed.a.runId}/jupyter/api/contents/`, { token });
    const listed = listing.json?.content?.some((e: { name: string }) => e.name === 'outputs');
    result['listing the run folder (control)'] = listed ? 'listed' : `not listed: ${listing.status}`;
  } finally {
    await kernel.shutdown().catch(() => undefined);
    manager.dispose();
  }
  return result;
}

const reachedOf = (r: Record<string, string>) =>
  Object.entries(r)
    .filter(([k, v]) => !k.includes('(control)') && v.startsWith('reached'))
    .map(([k]) => k);

it('a sandboxed kernel (--sandbox auto) reads no key, password, database, bundle or other run', async () => {
  const why = bwrapUnavailable();
  const bed = await startIsolationBed('iso-kernel');
  try {
    expect(bed.agent.output()).toContain(why === null ? '(kernels in bwrap)' : '(kernels NOT sandboxed)');
    const result = { ...(await probe(bed)), ...(await probeLinks(bed)) };
    expect(result['own outputs (control)']).toBe('written');
    expect(result['listing the run folder (control)']).toBe('listed');
    const reached = reachedOf(result);
    const tried = Object.keys(result).length - 2;
    recordCase({
      id: 'isolation.kernel-sandboxed',
      area: 'isolation',
      case: "a cell of client A's run (default --sandbox auto) reads the keystore, the agent database, the bundles, the agent data folder, client B's run folder, looks for the keystore password in its environment and every /proc/*/environ, and plants links to the database, the keystore and B's notebook that A then asks the run's Contents API and /files/ for",
      tried,
      survived: tried - reached.length,
      lost: reached.length,
      figure: `${reached.length} of ${tried} reached`,
      note:
        why === null
          ? 'bubblewrap 0.8 (Debian): read-only system, own run folder and environment only, private /tmp and pid namespace'
          : `bubblewrap unavailable here (${why}): kernels not sandboxed`
    });
    // Where bubblewrap works (it does on CI: scripts/test-all.sh installs it), nothing may be reached.
    if (why === null) {
      expect(Object.fromEntries(reached.map(k => [k, result[k]]))).toEqual({});
    }
  } finally {
    await bed.close();
  }
});

it('without a sandbox (--sandbox none) the password stays out of the kernel environment; files do not', async () => {
  const bed = await startIsolationBed('iso-nosandbox', ['--sandbox', 'none']);
  try {
    expect(bed.agent.output()).toContain('(kernels NOT sandboxed)');
    const result = { ...(await probe(bed)), ...(await probeLinks(bed)) };
    expect(result['own outputs (control)']).toBe('written');
    expect(result['listing the run folder (control)']).toBe('listed');
    // The kernel server gets an allow-list of the agent's variables: never $AIN_PROVIDER_PASSWORD; and links
    // planted in the run's folder do not lead its jupyter server out of it.
    expect(result['own environment']).toBe('refused: not there');
    const reached = reachedOf(result);
    expect(reached.filter(k => k.includes('link'))).toEqual([]);
    const tried = Object.keys(result).length - 2;
    recordCase({
      id: 'isolation.kernel-unsandboxed',
      area: 'isolation',
      case: 'the same cell with --sandbox none (a machine without bubblewrap)',
      tried,
      survived: tried - reached.length,
      lost: reached.length,
      figure: `${reached.length} of ${tried} reached: ${reached.join(', ')}`,
      note:
        'holds: the password and key never in the kernel environment (allow-list), links planted in the run ' +
        "folder do not lead the run's jupyter server out of it; " +
        'does not hold: the kernel runs as the agent user, so it can read the keystore, database, bundles, other ' +
        'runs and /proc/<agent>/environ: run the agent with bubblewrap (the default where it works), or a ' +
        'gateway backend on other machines, and keep the password in --password-file outside the data folder'
    });
  } finally {
    await bed.close();
  }
});
