/** Command ids of the extension, named `ain:verb-noun`. */
export namespace CommandIDs {
  /** Shows the notebook hash of the current notebook (the hash receipts and bundles refer to). */
  export const showNotebookHash = 'ain:show-notebook-hash';
  /** Re-checks the current notebook's evidence (signatures, receipt chain, proofs against the chain) in the worker. */
  export const recheckEvidence = 'ain:recheck-evidence';
  /** Opens the details of a cell's badge: provider, receipt, Merkle proof, transaction, what was compared. */
  export const showCellEvidence = 'ain:show-cell-evidence';
  /** Opens the "AI Network" sidebar. */
  export const openSidebar = 'ain:open-sidebar';
  /** Run actions offered by the sidebar (carried out by IAinRuns). */
  export const anchorNow = 'ain:anchor-now';
  export const stopRun = 'ain:stop-run';
  export const settleRun = 'ain:settle-run';
  /** Opens the provider picker and runs the current notebook on the chosen AI Network provider. */
  export const runNotebook = 'ain:run-notebook';
}
