/**
 * Where the client keeps a run's checkpoint-sampling secret between openRun and its reveal on-chain.
 *
 * Decision: NOT in the notebook. The notebook is the client's own file, but it travels: a shared or committed copy,
 * or the next bundle of the same notebook uploaded to a provider (the bundle carries the notebook's metadata), would
 * show the secret before it is revealed, and a provider that knows it can predict which checkpoints a verifier will
 * sample and falsify only the others. So the secret lives in this browser's localStorage (it survives a reload, so
 * the reveal can still happen later) and goes into the run record of metadata.ain only together with `revealTx`,
 * when it is public on-chain anyway. The price: a client who clears the browser's storage before the reveal loses
 * the checkpoint level for that run (execution and solution verification do not need the secret).
 */
import type { Hex32 } from '../core/hash.js';

/** The part of the Web Storage API used here (localStorage in the browser, a map in tests). */
export interface ISecretStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const PREFIX = 'jupyterlab-ain:sampling-secret:';
const HEX32 = /^0x[0-9a-f]{64}$/;

/** The run's secrets by chain, contract and run id (a run id is only unique per RunRegistry). */
export class SamplingSecretStore {
  constructor(private readonly _storage: ISecretStorage | null) {}

  /** Keeps `secret` for the run; false when the browser offers no storage (the caller warns the user). */
  put(run: IRunKey, secret: Hex32): boolean {
    if (!this._storage) {
      return false;
    }
    try {
      this._storage.setItem(key(run), secret);
      return true;
    } catch {
      return false; // storage full or disabled
    }
  }

  /** The secret of the run, or null when this browser does not hold it. */
  get(run: IRunKey): Hex32 | null {
    let value: string | null = null;
    try {
      value = this._storage?.getItem(key(run)) ?? null;
    } catch {
      value = null;
    }
    return value && HEX32.test(value) ? (value as Hex32) : null;
  }

  /** Forgets the secret (after it was revealed: the run record carries it from then on). */
  delete(run: IRunKey): void {
    try {
      this._storage?.removeItem(key(run));
    } catch {
      // nothing to forget
    }
  }
}

/** What identifies a run across chains and deployments. */
export interface IRunKey {
  chainId: number;
  runRegistry: string;
  runId: Hex32;
}

function key(run: IRunKey): string {
  return `${PREFIX}${run.chainId}:${run.runRegistry.toLowerCase()}:${run.runId.toLowerCase()}`;
}

/** The browser's localStorage when there is one (not in Node tests or a sandboxed frame). */
export function browserStorage(): ISecretStorage | null {
  try {
    return (globalThis as { localStorage?: ISecretStorage }).localStorage ?? null;
  } catch {
    return null;
  }
}
