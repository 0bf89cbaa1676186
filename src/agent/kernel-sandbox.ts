/**
 * What a run's kernel may see of the provider's machine. Code in a notebook is a stranger's code running as the
 * agent's user: without more, it could read the provider's keystore, the agent's database (other clients' runs)
 * and other runs' folders, and the agent's own environment (/proc/<agent>/environ holds $AIN_PROVIDER_PASSWORD).
 *
 * Two layers:
 * - the jupyter server (and so every kernel) gets only an allow-list of the agent's environment variables, never
 *   $AIN_PROVIDER_KEY, $AIN_PROVIDER_PASSWORD or anything else the provider set for the agent;
 * - with bubblewrap (Debian's `bubblewrap`), each kernel runs in a mount and pid namespace that holds the system
 *   folders read-only, the run's environment and python read-only, the kernel's connection file read-only, the
 *   run's folder read-write and a private /tmp, and nothing else: no agent data folder, no other run, no home
 *   folder, no other process. The network stays shared: the kernel talks ZeroMQ to its server on 127.0.0.1.
 *
 * bwrap's outer process dies on the SIGINT jupyter sends to the kernel's process group, which would kill the
 * kernel, so sandboxed kernels are interrupted by message (`interrupt_mode: message`, ipykernel signals itself).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { makeError } from '../core/errors.js';

/** `auto`: bubblewrap when it works on this machine; `bwrap`: bubblewrap or refuse to start; `none`: no sandbox. */
export type SandboxMode = 'auto' | 'bwrap' | 'none';

export const SANDBOX_MODES: readonly SandboxMode[] = ['auto', 'bwrap', 'none'];

/** Environment variables a kernel server may inherit from the agent (LC_* too); everything else stays behind. */
const ENV_ALLOWED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM']);

/** The agent's environment as a kernel server may see it. */
export function kernelServerEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (ENV_ALLOWED.has(name) || name.startsWith('LC_'))) {
      out[name] = value;
    }
  }
  return out;
}

let probed: string | null | undefined;

/** Why bubblewrap cannot sandbox a kernel here (not installed, no user namespaces...), or null when it can. */
export function bwrapUnavailable(bwrap = 'bwrap'): string | null {
  if (probed !== undefined) {
    return probed;
  }
  const args = ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--unshare-pid', '--', 'true'];
  const probe = spawnSync(bwrap, ['--die-with-parent', ...args], { encoding: 'utf8', timeout: 10_000 });
  probed = probe.error
    ? `${bwrap} could not be run (${probe.error.message}); install it: apt-get install bubblewrap`
    : probe.status === 0
      ? null
      : `${bwrap} failed here (exit ${probe.status}): ${(probe.stderr || '').trim().slice(0, 200)}`;
  return probed;
}

/** Whether kernels get bubblewrap under `mode`; AGENT_CONFIG_INVALID when `bwrap` was asked and cannot be. */
export function useBwrap(mode: SandboxMode): boolean {
  if (mode === 'none') {
    return false;
  }
  const why = bwrapUnavailable();
  if (why !== null && mode === 'bwrap') {
    throw makeError(
      'AGENT_CONFIG_INVALID',
      `--sandbox bwrap was asked but ${why}. Fix that, or start the agent with --sandbox none (kernels then ` +
        'run unconfined as the agent user).',
      { why }
    );
  }
  return why === null;
}

/** What a sandboxed kernel may see. */
export interface ISandboxPaths {
  /** The run's folder (read-write; the kernel's working folder). */
  workDir: string;
  /** The run's environment prefix (read-only) and its python executable (its real interpreter is bound too). */
  envPrefix: string;
  python: string;
  /** The folder of the kernel's connection file (read-only). */
  runtimeDir: string;
}

/** The bwrap command line that runs a kernel argv inside the sandbox. */
export function bwrapArgv(paths: ISandboxPaths, kernelArgv: readonly string[], bwrap = 'bwrap'): string[] {
  const args = [bwrap, '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts'];
  // System folders read-only; Debian's /bin, /lib... are links into /usr and are recreated as links.
  for (const dir of ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/etc', '/opt']) {
    if (!existsSync(dir)) {
      continue;
    }
    if (lstatSync(dir).isSymbolicLink()) {
      args.push('--symlink', readlinkSync(dir), dir);
    } else {
      args.push('--ro-bind', dir, dir);
    }
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--setenv', 'HOME', '/tmp');
  // In its pid namespace the kernel's parent is bwrap's pid 1, which ipykernel's parent poller takes for a dead
  // server: no poller; --die-with-parent ends the sandbox when the server goes.
  args.push('--unsetenv', 'JPY_PARENT_PID');
  // The venv's python is a link to an interpreter elsewhere (pyenv, uv's pythons): bind that installation too.
  const interpreter = realpathSync(paths.python);
  const installation = dirname(dirname(interpreter));
  if (!/^\/(usr|opt)(\/|$)/.test(installation)) {
    args.push('--ro-bind', installation, installation);
  }
  args.push('--ro-bind', realpathSync(paths.envPrefix), resolve(paths.envPrefix));
  args.push('--ro-bind', realpathSync(paths.runtimeDir), resolve(paths.runtimeDir));
  // jupyter starts the kernel in the run's folder by its real path; the link-free path is bound too if it differs.
  const work = realpathSync(paths.workDir);
  args.push('--bind', work, work);
  if (resolve(paths.workDir) !== work) {
    args.push('--bind', work, resolve(paths.workDir));
  }
  return [...args, '--', ...kernelArgv];
}
