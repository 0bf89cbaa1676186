/** Command ids of the extension, named `ain:verb-noun`. */
export namespace CommandIDs {
  /** Shows the notebook hash of the current notebook (the hash receipts and bundles refer to). */
  export const showNotebookHash = 'ain:show-notebook-hash';
}
