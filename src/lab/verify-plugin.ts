/**
 * The verification commands: Reproduce (notebook toolbar, declared in schema/verify.json), Check checkpoints,
 * Check objective, Challenge, and the side-by-side view of a cell; all in the command palette, the sidebar and
 * (for the side-by-side view and the challenge) the badge details. Each takes `{ path, runId }` arguments, or works
 * on the current notebook's latest run; the launch-link dialog calls Reproduce that way.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { Hex32 } from '../core/hash.js';
import { challengeRun } from './challenge.js';
import { CommandIDs } from './command-ids.js';
import { openChallenges, VerifyKind } from './verify-model.js';
import { DEFAULT_VERIFY_SETTINGS, IVerifySettings, Verifier } from './verify-session.js';
import { IAinChain, IAinEvidence, IAinRuns, IAinSettings } from './tokens.js';

export const verifyPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-ain:verify',
  description:
    'Reproduce, checkpoint and objective verification of a notebook run; challenges; attestations.',
  autoStart: true,
  requires: [INotebookTracker, IAinEvidence],
  optional: [IAinRuns, IAinChain, IAinSettings, ISettingRegistry, ICommandPalette],
  activate: activateVerify
};

/** The arguments every verification command takes. */
interface IArgs {
  path?: string;
  runId?: string;
  cellId?: string;
  step?: number;
}

function activateVerify(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  evidence: IAinEvidence,
  runs: IAinRuns | null,
  chain: IAinChain | null,
  settings: IAinSettings | null,
  registry: ISettingRegistry | null,
  palette: ICommandPalette | null
): void {
  const verifier = new Verifier({ app, tracker, evidence, runs, chain, settings });
  if (registry) {
    void registry
      .load(verifyPlugin.id)
      .then(s => {
        const read = () =>
          (verifier.settings = { ...DEFAULT_VERIFY_SETTINGS, ...(s.composite as Partial<IVerifySettings>) });
        read();
        s.changed.connect(read);
      })
      .catch(e => console.warn('jupyterlab-ain: verification settings not loaded; defaults apply.', e));
  }
  const pathOf = (args: IArgs) => args.path ?? tracker.currentWidget?.context.path;
  const hasRun = (args: IArgs) => {
    const path = pathOf(args);
    return !!path && verifier.runOf(path, args.runId) !== undefined;
  };
  // Commands are refreshed when the evidence changes: their enabled state follows the notebook's runs.
  evidence.changed.connect(() => app.commands.notifyCommandChanged());
  tracker.currentChanged.connect(() => app.commands.notifyCommandChanged());

  const verifyCommand = (id: string, kind: VerifyKind, label: string, caption: string) => {
    app.commands.addCommand(id, {
      label,
      caption,
      isEnabled: args => hasRun(args as IArgs),
      execute: async args => {
        const path = pathOf(args as IArgs);
        return path ? verifier.verify(kind, path, (args as IArgs).runId) : null;
      }
    });
    palette?.addItem({ command: id, category: 'AI Network' });
  };
  verifyCommand(
    CommandIDs.reproduce,
    'reproduce',
    'Reproduce',
    'Re-execute this notebook’s run on a local kernel or another provider and compare every cell with the ' +
      'outputs the provider signed'
  );
  verifyCommand(
    CommandIDs.verifyCheckpoints,
    'checkpoints',
    'Check Checkpoints',
    'Re-check a random sample of the run’s anchored checkpoints (from the revealed secret and a block hash)'
  );
  verifyCommand(
    CommandIDs.verifyObjective,
    'objective',
    'Check Objective',
    'Recompute the ain:objective cells against the artifacts the provider committed to'
  );

  app.commands.addCommand(CommandIDs.challenge, {
    label: 'Challenge',
    caption:
      'Prove an equivocation or a contradicted receipt in the RunRegistry: slashes the provider’s stake',
    isEnabled: args => {
      const path = pathOf(args as IArgs);
      return (
        !!path &&
        openChallenges(evidence.evidence(path), evidence.lastCheck(path), (args as IArgs).runId as Hex32)
          .length > 0
      );
    },
    execute: async args => {
      const path = pathOf(args as IArgs);
      return path
        ? challengeRun({ path, runId: (args as IArgs).runId as Hex32 | undefined, evidence, chain, runs })
        : null;
    }
  });
  palette?.addItem({ command: CommandIDs.challenge, category: 'AI Network' });

  app.commands.addCommand(CommandIDs.showComparison, {
    label: 'Show Claimed vs Reproduced Outputs',
    caption: 'The cell’s outputs as the provider signed them and as reproduced, the first difference marked',
    isEnabled: args => {
      const a = args as IArgs;
      const path = pathOf(a);
      return !!path && verifier.hasComparison(path, a);
    },
    execute: async args => {
      const a = args as IArgs;
      const path = pathOf(a);
      if (path) {
        await verifier.showComparison(path, a);
      }
    }
  });
}
