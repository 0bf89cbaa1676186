/**
 * The `local` kernel backend: one `jupyter server` per run, started by the agent on 127.0.0.1 with a random token
 * and the run's folder as its root, whose only kernel spec runs ipykernel from the run's environment.
 *
 * The server comes from the agent's own Python (the .venv of the README set-up by default): a run's environment
 * needs only ipykernel. Its config file (written into the run's folder) also turns TCP_NODELAY on for every
 * connection tornado accepts: stock tornado never does for kernel websockets, which costs ~40 ms per round trip
 * (Nagle + delayed ACK, FIELD-NOTES.md), and the proxy's upstream hop would pay it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { makeError } from '../core/errors.js';
import { SandboxMode, bwrapArgv, kernelServerEnv, useBwrap } from './kernel-sandbox.js';
import type { IBuiltEnvironment, IKernelBackend, IKernelServer } from './tokens.js';

/** The package root (from src/agent or lib-node/agent). */
const PACKAGE_ROOT = resolve(__dirname, '..', '..');

/** An executable of the development .venv (README set-up) if there, else the bare name (found on PATH). */
export function venvExecutable(name: string): string {
  const path = join(PACKAGE_ROOT, '.venv', 'bin', name);
  return existsSync(path) ? path : name;
}

/**
 * Python run at the start of a jupyter server's (or kernel gateway's) config file: TCP_NODELAY on every websocket
 * tornado writes to, so small kernel messages leave at once (tornado itself clears it after the upgrade response).
 */
export const NODELAY_PATCH = `
import tornado.websocket as _ain_websocket
_ain_write_frame = _ain_websocket.WebSocketProtocol13._write_frame
def _ain_nodelay_write_frame(self, *args, **kwargs):
    # tornado turns TCP_NODELAY off after each HTTP response, the websocket upgrade included: on again, once.
    if not getattr(self, '_ain_nodelay', False):
        self._ain_nodelay = True
        try:
            self.stream.set_nodelay(True)
        except Exception:
            pass
    return _ain_write_frame(self, *args, **kwargs)
_ain_websocket.WebSocketProtocol13._write_frame = _ain_nodelay_write_frame
`;

/**
 * Python run in a jupyter server's config file: the Contents API and /files/ serve nothing whose real path leaves
 * the run's folder. The server runs outside the kernel sandbox, as the agent's user, and stock jupyter_server
 * follows links: a cell that plants `ln -s <agent data>/agent.sqlite` in its folder would otherwise read the
 * agent's database, the keystore or another run's files through its own client's Contents API. The refusal is a
 * 404 to a request, and an EACCES OSError to a folder listing, which skips the entry. /files/ goes through the
 * contents manager (FilesHandler) instead of tornado's StaticFileHandler, which checks paths without resolving links.
 */
export const CONTENTS_ROOT_PATCH = `
import errno as _ain_errno, os as _ain_os
from tornado.web import HTTPError as _AinHTTPError
from jupyter_server.services.contents import fileio as _ain_fileio
class _AinOutsideRoot(_AinHTTPError, OSError):
    pass
_ain_get_os_path = _ain_fileio.FileManagerMixin._get_os_path
def _ain_get_os_path_inside(self, path):
    os_path = _ain_get_os_path(self, path)
    root = _ain_os.path.realpath(self.root_dir)
    real = _ain_os.path.realpath(os_path)
    if real != root and not real.startswith(root + _ain_os.sep):
        e = _AinOutsideRoot(404, '%s is outside root contents directory' % path)
        e.errno = _ain_errno.EACCES
        raise e
    return os_path
_ain_fileio.FileManagerMixin._get_os_path = _ain_get_os_path_inside
c.FileContentsManager.files_handler_class = 'jupyter_server.files.handlers.FilesHandler'
c.FileContentsManager.files_handler_params = {}
`;

/** Options of LocalKernelBackend. */
export interface ILocalBackendOptions {
  /** The `jupyter` executable (default: $AIN_JUPYTER, else the .venv's, else PATH). */
  jupyter?: string;
  /** Folder for per-run server files (config, kernel spec, runtime dir); default `<workDir>/../.ain-jupyter-<run>`. */
  stateDir?: string;
  /** Give up waiting for the server after this many ms (default 60 s). */
  startTimeoutMs?: number;
  /** Apply the TCP_NODELAY patch (default true; false reproduces a stock server, for benchmarks). */
  nodelay?: boolean;
  /** Memory a kernel may allocate, MiB (RLIMIT_DATA, so allocations beyond it fail with MemoryError); 0: no cap. */
  maxMemoryMb?: number;
  /** Kernel sandbox (kernel-sandbox.ts): `auto` (default) bubblewrap where it works, `bwrap` or refuse, `none`. */
  sandbox?: SandboxMode;
}

/** Starts a jupyter server per run. */
export class LocalKernelBackend implements IKernelBackend {
  readonly kind = 'local';
  /** Whether kernels run under bubblewrap (decided once, at construction). */
  readonly sandboxed: boolean;

  constructor(private readonly options: ILocalBackendOptions = {}) {
    this.sandboxed = useBwrap(options.sandbox ?? 'auto');
  }

  async start(options: {
    runId: string;
    workDir: string;
    environment: IBuiltEnvironment;
  }): Promise<IKernelServer> {
    const { runId, workDir, environment } = options;
    const state = this.options.stateDir ?? join(workDir, '..', `.ain-jupyter-${runId.slice(2, 14)}`);
    const kernels = join(state, 'kernels');
    await fs.mkdir(join(kernels, 'python3'), { recursive: true });
    const runtimeDir = join(state, 'runtime');
    await fs.mkdir(runtimeDir, { recursive: true });
    // The kernel runs the environment's python; PATH and VIRTUAL_ENV make `!pip`, `!python` use that env too.
    const argv = Private.kernelArgv(environment.python, this.options.maxMemoryMb ?? 0);
    const paths = { workDir, envPrefix: environment.prefix, python: environment.python, runtimeDir };
    await fs.writeFile(
      join(kernels, 'python3', 'kernel.json'),
      JSON.stringify(
        {
          argv: this.sandboxed ? bwrapArgv(paths, argv) : argv,
          display_name: 'Python 3 (AI Network run)',
          language: 'python',
          // bwrap's outer process dies on the SIGINT jupyter would send to the group: interrupt by message.
          ...(this.sandboxed ? { interrupt_mode: 'message' } : {}),
          metadata: { debugger: true },
          env: {
            PATH: [join(environment.prefix, 'bin'), process.env.PATH ?? ''].join(delimiter),
            VIRTUAL_ENV: environment.prefix
          }
        },
        null,
        1
      )
    );
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await Private.freePort();
      await fs.writeFile(join(state, 'jupyter_server_config.py'), this.config(port, workDir));
      try {
        return await this.launch(state, workDir, port);
      } catch (e) {
        lastError = e;
        // Another process may have taken the port between our probe and the server's bind: try another.
        if (!/address already in use/i.test(String((e as Error).message))) {
          throw e;
        }
      }
    }
    throw lastError;
  }

  private config(port: number, workDir: string): string {
    const py = (s: string) => JSON.stringify(s);
    return [
      '# Written by the AIN agent for one run; the token comes from $JUPYTER_TOKEN, never from this file.',
      this.options.nodelay === false ? '' : NODELAY_PATCH,
      CONTENTS_ROOT_PATCH,
      `c.ServerApp.ip = '127.0.0.1'`,
      `c.ServerApp.port = ${port}`,
      'c.ServerApp.port_retries = 0',
      'c.ServerApp.open_browser = False',
      'c.ServerApp.allow_root = True',
      `c.ServerApp.root_dir = ${py(workDir)}`,
      // Only the agent, holding the token, reaches this server; origins are the agent's business, not its.
      `c.ServerApp.allow_origin = '*'`,
      'c.ServerApp.terminals_enabled = False',
      `c.ServerApp.jpserver_extensions = {'jupyterlab': False, 'jupyter_lsp': False, 'notebook_shim': False, 'jupyter_server_terminals': False}`,
      // kernel_dirs is not configurable: $JUPYTER_PATH (set at launch) puts the run's spec first; hide the rest.
      `c.KernelSpecManager.allowed_kernelspecs = {'python3'}`,
      'c.KernelSpecManager.ensure_native_kernel = False',
      ''
    ].join('\n');
  }

  private async launch(state: string, workDir: string, port: number): Promise<IKernelServer> {
    const token = randomBytes(24).toString('hex');
    const baseUrl = `http://127.0.0.1:${port}/`;
    const jupyter = this.options.jupyter ?? process.env.AIN_JUPYTER ?? venvExecutable('jupyter');
    const child = spawn(jupyter, ['server', `--config=${join(state, 'jupyter_server_config.py')}`], {
      // Kernels started without a path run in the server's folder: make it the run's folder.
      cwd: workDir,
      // Its own process group, so stop() reaches every process it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Only an allow-list of the agent's variables: $AIN_PROVIDER_PASSWORD and the like never reach a kernel.
      env: {
        ...kernelServerEnv(),
        JUPYTER_TOKEN: token,
        JUPYTER_RUNTIME_DIR: join(state, 'runtime'),
        JUPYTER_PATH: state,
        JUPYTER_CONFIG_DIR: join(state, 'config'),
        PYTHONUNBUFFERED: '1'
      }
    });
    const tail: string[] = [];
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) {
          tail.push(line.split(token).join('<token>'));
        }
      }
      tail.splice(0, Math.max(0, tail.length - 30));
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited = false;
    child.on('exit', () => (exited = true));
    child.on('error', () => (exited = true));
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (exited || Date.now() > deadline) {
        await Private.kill(child);
        throw makeError(
          'AGENT_KERNEL_START_FAILED',
          `The jupyter server (${jupyter}) ${exited ? 'exited' : 'did not answer in time'} while starting. ` +
            `Check that jupyter_server is installed for the agent. Last lines of its log:\n${tail.join('\n')}`,
          { logTail: tail.slice() }
        );
      }
      try {
        const res = await fetch(`${baseUrl}api/status`, { headers: { Authorization: `token ${token}` } });
        if (res.ok) {
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise(r => setTimeout(r, 100));
    }
    return {
      baseUrl,
      token,
      // The server's config and its kernels' connection files live under `state`: their command lines name it.
      ...(child.pid !== undefined ? { process: { pid: child.pid, marker: state } } : {}),
      stop: () => Private.kill(child)
    };
  }
}

namespace Private {
  /**
   * The kernel's command line. With a memory cap, python sets RLIMIT_DATA on itself before ipykernel starts (the
   * limit is inherited by whatever the kernel runs), so a cell that allocates too much gets a MemoryError in its
   * outputs, and a receipt that says so, instead of taking the provider's machine down. RLIMIT_DATA rather than
   * RLIMIT_AS: numeric libraries reserve large address ranges they never touch.
   */
  export function kernelArgv(python: string, maxMemoryMb: number): string[] {
    if (!maxMemoryMb) {
      return [python, '-m', 'ipykernel_launcher', '-f', '{connection_file}'];
    }
    const bytes = Math.floor(maxMemoryMb) * 1024 * 1024;
    const boot = [
      'import resource, runpy, sys',
      `resource.setrlimit(resource.RLIMIT_DATA, (${bytes}, ${bytes}))`,
      "sys.argv = ['ipykernel_launcher'] + sys.argv[1:]",
      "runpy.run_module('ipykernel_launcher', run_name='__main__', alter_sys=True)"
    ].join('; ');
    return [python, '-c', boot, '-f', '{connection_file}'];
  }

  export function freePort(): Promise<number> {
    return new Promise((resolvePort, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
      });
    });
  }

  /** SIGTERM to the group (jupyter shuts its kernels down), SIGKILL after 5 s. */
  export async function kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      return;
    }
    const exited = new Promise<void>(r => child.once('exit', () => r()));
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, s);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    // Stragglers of the group (none normally: jupyter waited for its kernels).
    signal('SIGKILL');
  }
}
