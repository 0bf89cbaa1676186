/**
 * Provides IAinWorker: a comlink proxy of `verify.worker.ts`, started lazily on first use so that JupyterLab's
 * start-up does not pay for a worker that a session without evidence never needs.
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Remote, wrap } from 'comlink';
import { IAinWorker, IAinWorkerApi } from './tokens.js';

export const verifyWorkerPlugin: JupyterFrontEndPlugin<IAinWorkerApi> = {
  id: 'jupyterlab-ain:verify-worker',
  description: 'Runs hashing, signature checks, Merkle proofs and packing in a Web Worker.',
  autoStart: true,
  provides: IAinWorker,
  activate: activateVerifyWorker
};

function activateVerifyWorker(): IAinWorkerApi {
  let remote: Remote<IAinWorkerApi> | null = null;
  const worker = (): Remote<IAinWorkerApi> => {
    if (!remote) {
      // The bundler (rspack, like webpack 5) turns this `new URL(..., import.meta.url)` into a worker chunk.
      remote = wrap<IAinWorkerApi>(
        new Worker(new URL('./verify.worker.js', import.meta.url), { name: 'jupyterlab-ain-verify' })
      );
    }
    return remote;
  };
  return {
    notebookHash: notebook => worker().notebookHash(notebook),
    pack: (notebookPath, files) => worker().pack(notebookPath, files),
    verifyReceipts: (domain, signer, receipts) => worker().verifyReceipts(domain, signer, receipts),
    proveSteps: (digests, root, steps) => worker().proveSteps(digests, root, steps),
    recheck: (evidence, chain) => worker().recheck(evidence, chain)
  };
}
