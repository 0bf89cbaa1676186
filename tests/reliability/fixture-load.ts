/**
 * Helpers of the load spec (issue 7, item 4): memory of a process tree read from /proc, percentiles, and one
 * client's continuous cell loop through @jupyterlab/services against a run's /runs/{id}/jupyter/.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Kernel, KernelManager } from '@jupyterlab/services';
import { nodeServerSettings } from '../../src/cli/jupyter-settings';
import { executeCell } from '../integration/agent-kernel-fixture';

/** Resident memory of process `pid`, KiB (0 if it is gone). */
export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU time `pid` used so far (user + system), seconds (clock ticks of 1/100 s, as on Linux). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** Every descendant of `root` (children, grandchildren...) from /proc/<pid>/stat. */
export function descendants(root: number): number[] {
  const parent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    try {
      // The command name (field 2) may hold spaces and parentheses: ppid is the second field after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(ppid, [...(parent.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited while we read
    }
  }
  const out: number[] = [];
  const walk = (pid: number) =>
    (parent.get(pid) ?? []).forEach(c => {
      out.push(c);
      walk(c);
    });
  walk(root);
  return out;
}

/** Memory of `pid` and of all its descendants together, MiB, and how many descendants there are. */
export function treeMemory(pid: number): { selfMiB: number; childrenMiB: number; children: number } {
  const kids = descendants(pid);
  return {
    selfMiB: rssKiB(pid) / 1024,
    childrenMiB: kids.reduce((s, k) => s + rssKiB(k), 0) / 1024,
    children: kids.length
  };
}

/** The `p` quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN;
}

/** What one client's loop saw. */
export interface ILoadClient {
  /** Round trip of each execute request (send to execute_reply), ms. */
  roundTrips: number[];
  /** The code of each cell sent, in order. */
  codes: string[];
  /** How often each printed line arrived (each cell prints one numbered line: exactly once is right). */
  lines: Map<string, number>;
  /** Cells whose reply was not ok, or whose result was not the value they return. */
  failures: string[];
}

/** A KernelManager that reaches run `runId` through the agent's /runs/{id}/jupyter/ with `token`. */
export function runKernelManager(url: string, runId: string, token: string): KernelManager {
  return new KernelManager({ serverSettings: nodeServerSettings(`${url}/runs/${runId}/jupyter/`, token) });
}

/** Starts a kernel through `manager` and waits for its kernel_info reply; returns it and how long that took. */
export async function startKernel(
  manager: KernelManager
): Promise<{ kernel: Kernel.IKernelConnection; ms: number }> {
  const t0 = performance.now();
  const kernel = await manager.startNew({ name: 'python3' });
  await kernel.info;
  return { kernel, ms: performance.now() - t0 };
}

/**
 * Executes cells on `kernel` one after another until `until` (ms since the epoch): cell i prints
 * `<tag> line <i>` and returns i * 7. Every output is checked as it arrives.
 */
export async function clientLoop(
  kernel: Kernel.IKernelConnection,
  tag: string,
  until: number
): Promise<ILoadClient> {
  const result: ILoadClient = { roundTrips: [], codes: [], lines: new Map(), failures: [] };
  for (let i = 0; Date.now() < until; i++) {
    const code = `print("${tag} line ${i}")\n${i} * 7`;
    result.codes.push(code);
    const started = performance.now();
    const { outputs, status } = await executeCell(kernel, code, { cellId: `${tag}-${i}` });
    result.roundTrips.push(performance.now() - started);
    for (const o of outputs) {
      if (o.output_type === 'stream') {
        for (const line of String(o.text).split('\n').filter(Boolean)) {
          result.lines.set(line, (result.lines.get(line) ?? 0) + 1);
        }
      }
    }
    const value = outputs.find(o => o.output_type === 'execute_result') as
      | { data: Record<string, string> }
      | undefined;
    if (status !== 'ok' || value?.data['text/plain'] !== String(i * 7)) {
      result.failures.push(`${tag} cell ${i}: status ${status}, result ${value?.data['text/plain']}`);
    }
  }
  return result;
}
