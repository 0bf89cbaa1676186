/**
 * The jupyterlab-ain extension: one small plugin per feature, exported as an array (STYLE.md §1).
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { notebookHashPlugin } from './notebook-hash.js';
import { budgetStatusPlugin } from './budget-status.js';
import { cellBadgesPlugin } from './cell-badges.js';
import { evidencePlugin } from './evidence.js';
import { sidebarPlugin } from './sidebar.js';
import { verifyWorkerPlugin } from './verify-worker-plugin.js';

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  notebookHashPlugin,
  // The evidence side: worker, evidence (metadata.ain), badges, sidebar, status bar.
  verifyWorkerPlugin,
  evidencePlugin,
  cellBadgesPlugin,
  sidebarPlugin,
  budgetStatusPlugin
];

export default plugins;
