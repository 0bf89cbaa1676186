/**
 * The launch worker (STYLE.md §8): downloads and checks the bundle of an `ain-bundle=` launch link off the UI
 * thread (a bundle may hold many files to inflate and hash). The functions live in launch-worker-api.ts.
 */
import { expose, transfer } from 'comlink';
import { ILaunchWorkerApi, launchWorkerApi } from './launch-worker-api.js';

const api: ILaunchWorkerApi = {
  async fetchBundle(agentUrl, bundleHash) {
    const result = await launchWorkerApi.fetchBundle(agentUrl, bundleHash);
    if (!result.ok) {
      return result;
    }
    // Hand the files' buffers to the page instead of copying them (stored zip entries may share one buffer).
    const buffers = new Set(Object.values(result.bundle.files).map(f => f.buffer as ArrayBuffer));
    return transfer(result, [...buffers]);
  }
};

expose(api);
