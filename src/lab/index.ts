/**
 * The jupyterlab-ain extension: one small plugin per feature, exported as an array (STYLE.md §1).
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { notebookHashPlugin } from './notebook-hash.js';

const plugins: JupyterFrontEndPlugin<unknown>[] = [notebookHashPlugin];

export default plugins;
