/**
 * The jupyterlab-ain extension: one small plugin per feature, exported as an array (STYLE.md §1).
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ServiceManagerPlugin } from '@jupyterlab/services';
import { notebookHashPlugin } from './notebook-hash.js';
import { settingsPlugin } from './settings.js';
import { chainPlugin } from './chain.js';
import {
  kernelManagerPlugin,
  kernelRouterPlugin,
  kernelSpecManagerPlugin,
  sessionManagerPlugin
} from './remote-kernels.js';
import { runsPlugin } from './runs.js';
import { runPickerPlugin } from './picker.js';
import { budgetStatusPlugin } from './budget-status.js';
import { cellBadgesPlugin } from './cell-badges.js';
import { evidencePlugin } from './evidence.js';
import { sidebarPlugin } from './sidebar-plugin.js';
import { verifyWorkerPlugin } from './verify-worker-plugin.js';
import { launchLinkPlugin } from './launch-link.js';
import { verifyPlugin } from './verify-plugin.js';

const plugins: (JupyterFrontEndPlugin<unknown> | ServiceManagerPlugin<unknown>)[] = [
  notebookHashPlugin,
  // The run pipeline: settings, chain and wallet, remote kernels (service-manager plugins), runs, picker.
  settingsPlugin,
  chainPlugin,
  kernelRouterPlugin,
  kernelSpecManagerPlugin,
  kernelManagerPlugin,
  sessionManagerPlugin,
  runsPlugin,
  runPickerPlugin,
  // The evidence side: worker, evidence (metadata.ain), badges, sidebar, status bar.
  verifyWorkerPlugin,
  evidencePlugin,
  cellBadgesPlugin,
  sidebarPlugin,
  budgetStatusPlugin,
  // Verification: reproduce, checkpoints, objective, attestations and challenges.
  verifyPlugin,
  // Launch links: open a notebook from a link, offer to run or reproduce it; copy links and badges.
  launchLinkPlugin
];

export default plugins;
