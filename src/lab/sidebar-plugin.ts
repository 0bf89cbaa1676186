/**
 * The sidebar plugin: adds the "AI Network" sidebar (sidebar.ts) to the shell and registers the run actions its
 * buttons call (anchor now, stop, settle) as commands, carried out by IAinRuns.
 */
import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { CommandIDs } from './command-ids.js';
import { AinSidebar } from './sidebar.js';
import { IAinChain, IAinEvidence, IAinRuns } from './tokens.js';

/** The sidebar plugin, with the run actions as commands. */
export const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-ain:sidebar',
  description: 'The "AI Network" sidebar: wallet, chain, providers, runs, receipts and run actions.',
  autoStart: true,
  requires: [IAinEvidence],
  optional: [IAinRuns, IAinChain, ILabShell],
  activate: activateSidebar
};

function activateSidebar(
  app: JupyterFrontEnd,
  evidence: IAinEvidence,
  runs: IAinRuns | null,
  chain: IAinChain | null,
  labShell: ILabShell | null
): void {
  const sidebar = new AinSidebar({ commands: app.commands, evidence, runs, chain });
  app.shell.add(sidebar, labShell ? 'right' : 'left', { rank: 900 });
  const runAction = (label: string, act: (r: IAinRuns, runId: string) => Promise<void>) => ({
    label,
    isEnabled: () => runs !== null,
    execute: async (args: { runId?: unknown }) => {
      if (runs && typeof args.runId === 'string') {
        await act(runs, args.runId);
      }
    }
  });
  app.commands.addCommand(
    CommandIDs.anchorNow,
    runAction('Anchor Checkpoint Now', (r, id) => r.anchorNow(id))
  );
  app.commands.addCommand(
    CommandIDs.stopRun,
    runAction('Stop AI Network Run', (r, id) => r.stop(id))
  );
  app.commands.addCommand(
    CommandIDs.settleRun,
    runAction('Settle AI Network Run', (r, id) => r.settle(id))
  );
  app.commands.addCommand(CommandIDs.openSidebar, {
    label: 'Open AI Network Sidebar',
    execute: () => app.shell.activateById(sidebar.id)
  });
}
