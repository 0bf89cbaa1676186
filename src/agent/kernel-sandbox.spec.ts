import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bwrapArgv, kernelServerEnv } from './kernel-sandbox';

describe('kernel sandbox', () => {
  it('passes only an allow-list of the agent environment to kernel servers', () => {
    const env = kernelServerEnv({
      PATH: '/usr/bin',
      HOME: '/root',
      LC_ALL: 'C.UTF-8',
      AIN_PROVIDER_PASSWORD: 'pw',
      AIN_PROVIDER_KEY: '0xkey',
      AWS_SECRET_ACCESS_KEY: 'x'
    });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/root', LC_ALL: 'C.UTF-8' });
  });

  it('binds the run folder read-write and the environment and connection files read-only, nothing else of the agent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ain-sandbox-spec-'));
    try {
      for (const d of ['runs/r1/work', 'runs/r1/state/runtime', 'environments/e1/bin']) {
        mkdirSync(join(dir, d), { recursive: true });
      }
      const argv = bwrapArgv(
        {
          workDir: join(dir, 'runs/r1/work'),
          envPrefix: join(dir, 'environments/e1'),
          python: process.execPath,
          runtimeDir: join(dir, 'runs/r1/state/runtime')
        },
        ['python', '-m', 'ipykernel_launcher']
      );
      const binds = argv.flatMap((a, i) =>
        a === '--bind' || a === '--ro-bind' ? [`${a} ${argv[i + 1]}`] : []
      );
      const mine = binds.filter(b => b.includes(dir));
      expect(mine).toEqual([
        `--ro-bind ${join(dir, 'environments/e1')}`,
        `--ro-bind ${join(dir, 'runs/r1/state/runtime')}`,
        `--bind ${join(dir, 'runs/r1/work')}`
      ]);
      expect(argv).toEqual(expect.arrayContaining(['--unshare-pid', '--die-with-parent', '--unsetenv']));
      expect(argv.slice(-4)).toEqual(['--', 'python', '-m', 'ipykernel_launcher']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
