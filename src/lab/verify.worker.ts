/**
 * The verification Web Worker (STYLE.md §8): hashing, signature checks, Merkle proofs and bundle packing off the UI
 * thread. The functions live in verify-api.ts (tested in Node); this entry only exposes them over comlink.
 */
import { expose, transfer } from 'comlink';
import type { IAinWorkerApi } from './tokens.js';
import { verifyApi } from './verify-api.js';

const api: IAinWorkerApi = {
  ...verifyApi,
  async pack(notebookPath, files) {
    const packed = await verifyApi.pack(notebookPath, files);
    // A bundle can be large: hand its buffer to the UI thread instead of copying it.
    return transfer(packed, [packed.bytes.buffer]);
  }
};

expose(api);
