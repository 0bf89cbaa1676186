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
  /** Re-executes the current notebook's run (local kernel or another provider) and compares cell by cell. */
  export const reproduce = 'ain:reproduce';
  /** Re-checks a sample of the run's anchored checkpoints (secret revealed on-chain + a later block hash). */
  export const verifyCheckpoints = 'ain:verify-checkpoints';
  /** Recomputes the `ain:objective` cells against the artifacts the provider committed to. */
  export const verifyObjective = 'ain:verify-objective';
  /** Submits the challenges the evidence supports (equivocation, contradicted receipts) on-chain. */
  export const challenge = 'ain:challenge';
  /** Shows a cell's claimed and reproduced outputs side by side, the first difference marked. */
  export const showComparison = 'ain:show-comparison';
  /** Opens a launch link's notebook and offers to run or reproduce it (run by the router rule, not a menu). */
  export const openLaunchLink = 'ain:open-launch-link';
  /** Copies the launch link (ain-run) of the current notebook's latest run. */
  export const copyLaunchLink = 'ain:copy-launch-link';
  /** Copies README Markdown: the "Run on AI Network" badge linked to that launch link. */
  export const copyLaunchBadge = 'ain:copy-launch-badge';
  /** Publishes the latest run's bundle at its provider and copies its content-addressed (ain-bundle) link. */
  export const copyBundleLink = 'ain:copy-bundle-link';
  export const publishRun = 'ain:publish-run';
}
