import { expect, test } from '@jupyterlab/galata';
import { join } from 'node:path';
import { SHOTS, notebookEvidence, notebookJson } from './run-fixture';

// Live evidence: a notebook run on one of the two local providers that `ain dev` starts (the run pipeline's
// "Run on AI Network"), its receipts arriving through IAinRuns: the badges show the cell running, then signed and
// anchored once the provider anchors its checkpoint; the sidebar and the status bar follow the run; the evidence
// is written to metadata.ain.

const CELLS: [string, string][] = [
  ['live-a', 'x = 6 * 7\nprint(x)'],
  ['live-b', 'import time\ntime.sleep(2)\nprint("slept")'],
  ['live-c', 'print(x + 1)']
];

// galata answers /api/kernels and /api/sessions from its own records for any host: off, so the provider's real
// kernel and session are what JupyterLab sees.
test.use({ autoGoto: true, kernels: null, sessions: null });

test('a notebook run on a provider: badges go running, signed, anchored; sidebar, status bar, metadata.ain', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(300_000);
  const path = `${tmpPath}/live.ipynb`;
  await page.contents.uploadContent(notebookJson(CELLS), 'text', path);
  await page.notebook.openByPath(path);
  await page.notebook.activate('live.ipynb');

  // Every state each badge passes through, as the user would have seen it.
  await page.evaluate(() => {
    const seen: Record<string, string[]> = {};
    (window as any).__badgeStates = seen;
    new MutationObserver(records => {
      for (const r of records) {
        const node = r.target as HTMLElement;
        const cell = node.closest('.jp-Cell') as HTMLElement | null;
        const index = cell ? [...document.querySelectorAll('.jp-Notebook .jp-Cell')].indexOf(cell) : -1;
        const list = (seen[index] ??= []);
        if (node.dataset.state && list[list.length - 1] !== node.dataset.state) {
          list.push(node.dataset.state);
        }
      }
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  });

  // Run on AI Network on the first local provider, with the default budget.
  void page.evaluate(() => (window as any).jupyterapp.commands.execute('ain:run-notebook'));
  const picker = page.locator('.jp-AinRunPicker');
  await expect(picker).toBeVisible({ timeout: 60_000 });
  await picker.locator('.jp-AinRunPicker-provider', { hasText: 'dev-provider-1' }).locator('input').check();
  await page.locator('.jp-Dialog .jp-mod-accept', { hasText: 'Run' }).click();
  await expect
    .poll(
      () =>
        page.evaluate(() => {
          const panel = (window as any).jupyterapp.shell.currentWidget;
          const kernel = panel?.sessionContext?.session?.kernel;
          return (
            /^ain-0x/.test(kernel?.name ?? '') &&
            kernel?.connectionStatus === 'connected' &&
            kernel?.status === 'idle'
          );
        }),
      { timeout: 240_000 }
    )
    .toBe(true);

  await page.notebook.run();
  const badges = page.locator('.jp-Notebook .jp-CodeCell .jp-AinCellBadge');
  for (let i = 0; i < CELLS.length; i++) {
    await expect(badges.nth(i)).toHaveAttribute('data-state', 'anchored', { timeout: 90_000 });
  }
  const states = await page.evaluate(() => (window as any).__badgeStates);
  console.log(`badge states seen: ${JSON.stringify(states)}`);
  // The sleeping cell was seen running while it ran; every badge ends anchored.
  expect(states[1]).toContain('running');
  await page.locator('.jp-Notebook').screenshot({ path: join(SHOTS, 'badges-live.png') });

  // The run in the sidebar with time, cost and actions; the remaining budget in the status bar.
  await page.evaluate(() => (window as any).jupyterapp.commands.execute('ain:open-sidebar'));
  const run = page.locator('.jp-AinSidebar-run').filter({ hasText: 'live.ipynb' });
  await expect(run).toContainText('running');
  await expect(run).toContainText('3: 3 anchored, 0 signed, 0 invalid');
  await expect(run.getByRole('button', { name: 'Anchor now' })).toBeVisible();
  await expect(page.locator('.jp-AinBudgetStatus')).toContainText(/AIN budget [\d.]+ left/);
  await page.locator('.jp-AinSidebar').screenshot({ path: join(SHOTS, 'sidebar-live.png') });

  // The evidence is in metadata.ain, ready to be saved with the notebook.
  const ain = await notebookEvidence(page);
  expect(ain.receipts.map((r: any) => r.cellId)).toEqual(CELLS.map(([id]) => id));
  expect(ain.checkpoints.some((c: any) => /^0x[0-9a-f]{64}$/.test(c.txHash ?? ''))).toBe(true);
  expect(ain.runs).toHaveLength(1);
});
