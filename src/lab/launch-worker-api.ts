/**
 * What the launch worker (`launch.worker.ts`) does off the UI thread: download a published bundle named by a
 * launch link, read it with the core's bundle reader (limits, every file's SHA-256, the manifest rebuilt) and
 * check its hash against the link's. Free of the DOM and of comlink, so jest calls it directly in Node.
 *
 * Errors travel back as values with their code (comlink would keep only the message of a thrown error), so the
 * page can say which rule failed.
 */
import type { BundleManifest } from '../core/bundle-manifest.js';
import { isAinError } from '../core/errors.js';
import type { Hex32 } from '../core/hash.js';
import { fetchPublishedBundle } from '../chain/published-bundles.js';

/** A bundle that passed every check, as the page writes it into the user's files. */
export interface IFetchedBundle {
  bundleHash: Hex32;
  manifest: BundleManifest;
  /** Every file but the manifest, by path inside the bundle. */
  files: Record<string, Uint8Array>;
}

/** The worker's answer: the bundle, or the failure with its code. */
export type FetchBundleResult =
  | { ok: true; bundle: IFetchedBundle }
  | { ok: false; code: string; message: string; status?: number };

/** The launch worker's remote interface. */
export interface ILaunchWorkerApi {
  fetchBundle(agentUrl: string, bundleHash: Hex32): Promise<FetchBundleResult>;
}

/** The functions the worker exposes. */
export const launchWorkerApi: ILaunchWorkerApi = {
  async fetchBundle(agentUrl, bundleHash) {
    try {
      const read = await fetchPublishedBundle(agentUrl, bundleHash);
      return {
        ok: true,
        bundle: {
          bundleHash: read.bundleHash,
          manifest: read.manifest,
          files: Object.fromEntries(read.files)
        }
      };
    } catch (e) {
      const status = isAinError(e) ? e.info.status : undefined;
      return {
        ok: false,
        code: isAinError(e) ? e.code : 'UNEXPECTED',
        message: e instanceof Error ? e.message : String(e),
        ...(typeof status === 'number' ? { status } : {})
      };
    }
  }
};
