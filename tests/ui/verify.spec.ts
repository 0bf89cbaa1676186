/**
 * Verification from JupyterLab against real providers started by `ain dev` (the honest dev-provider-1, and the
 * cheating cheat-tamper-outputs and cheat-equivocate of `--fault-provider`): a notebook run on a provider, then
 * checked where a verifier would check it — its sampled checkpoints and a full reproduction on a local kernel
 * (badges checkpoint-checked, then reproduced; the result attested on-chain); the tampered cells of a cheating
 * provider caught (mismatch, side by side with the first difference marked); an equivocation warned about live and
 * challenged until the provider is slashed.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { join } from 'node:path';
import { SHOTS, notebookEvidence, openNotebook, outputsOf, runOnProvider, runsState } from './run-fixture';

type Page = IJupyterLabPageFixture;

// galata answers /api/kernels and /api/sessions from its own records for any host: off, so the providers' real
// kernels and the verifier's local kernel are what JupyterLab sees.
test.use({ autoGoto: true, kernels: null, sessions: null });

const badges = (page: Page) => page.locator('.jp-Notebook .jp-CodeCell .jp-AinCellBadge');

/** Runs every cell and waits until each badge is anchored (receipts signed, checkpoints on-chain). */
async function runAndAnchor(page: Page, cells: number): Promise<void> {
  await page.notebook.run();
  for (let i = 0; i < cells; i++) {
    await expect(badges(page).nth(i)).toHaveAttribute('data-state', 'anchored', { timeout: 120_000 });
  }
}

/**
 * Runs a verification command on a local kernel (or on `provider`, another provider); resolves once its results
 * dialog is open.
 */
async function verifyWith(
  page: Page,
  command: string,
  button: string,
  options: { samples?: number; provider?: string } = {}
) {
  void page.evaluate(id => (window as any).jupyterapp.commands.execute(id), command);
  const dialog = page.locator('.jp-Dialog', { has: page.locator('.jp-AinVerifyDialog') });
  await expect(dialog).toBeVisible({ timeout: 30_000 });
  await expect(dialog.locator('.jp-AinVerifyDialog-kernel option')).not.toHaveCount(0);
  // Local kernels only: no AI Network provider among them.
  expect(await dialog.locator('.jp-AinVerifyDialog-kernel option').allTextContents()).not.toContainEqual(
    expect.stringMatching(/AI Network/)
  );
  if (options.samples !== undefined) {
    await dialog.locator('.jp-AinVerifyDialog-samples').fill(String(options.samples));
  }
  if (options.provider) {
    // A click on the provider's row picks "Another provider" too, also when that row is already selected.
    await expect(dialog.locator('input[value="local"]')).toBeChecked();
    await dialog.locator('.jp-AinVerifyDialog-provider', { hasText: options.provider }).click();
    await expect(dialog.locator('input[value="provider"]')).toBeChecked();
  }
  await dialog.locator('.jp-mod-accept', { hasText: button }).click();
  const results = page.locator('.jp-Dialog', { has: page.locator('.jp-AinVerifyResults') });
  await expect(results).toBeVisible({ timeout: 300_000 });
  return results;
}

/** Notifications float over whatever a screenshot shows: hidden in the README's pictures. */
const NO_TOASTS = '.Toastify { display: none !important; }';

test('an honest run: sampled checkpoints, then Reproduce on a local kernel; every badge reproduced; attested', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(600_000);
  const cells: [string, string][] = [
    ['h-a', 'x = 6 * 7\nprint(x)'],
    ['h-b', 'import math\nprint(round(math.pi, 4))'],
    ['h-c', 'squares = [i * i for i in range(5)]\nsquares'],
    ['h-d', 'print("x is", x)'],
    ['h-e', 'sum(squares)'],
    ['h-f', 'print(x + 1)']
  ];
  await openNotebook(page, tmpPath, 'honest.ipynb', cells);
  await runOnProvider(page, 'dev-provider-1');
  await runAndAnchor(page, cells.length);
  expect((await outputsOf(page))[0]).toBe('42');

  // Stopping the run: once its last receipt is anchored, the client's sampling secret is revealed on-chain.
  await page.evaluate(() => (window as any).jupyterapp.commands.execute('ain:open-sidebar'));
  const run = page.locator('.jp-AinSidebar-run').filter({ hasText: 'honest.ipynb' });
  await run.getByRole('button', { name: 'Stop run' }).click();
  await expect
    .poll(async () => (await notebookEvidence(page)).runs[0].revealTx ?? '', { timeout: 150_000 })
    .toMatch(/^0x[0-9a-f]{64}$/);
  expect((await notebookEvidence(page)).runs[0].samplingSecret).toMatch(/^0x[0-9a-f]{64}$/);

  // Check one sampled checkpoint on a local kernel: the cells of the sampled checkpoint turn checkpoint-checked,
  // the others stay anchored, and the badge says what was sampled and the detection probability it buys.
  const checked = await verifyWith(page, 'ain:verify-checkpoints', 'Check checkpoints', { samples: 1 });
  const statement = checked.locator('.jp-AinVerifyResults-statement');
  await expect(statement).toContainText(
    /1 of \d+ checkpoints \(\d+ of 6 cells\); >= \d+% if 30% of cells were falsified/
  );
  const sampledCells = Number(/\((\d+) of 6 cells\)/.exec((await statement.textContent())!)![1]);
  expect(sampledCells).toBeGreaterThan(0);
  expect(sampledCells).toBeLessThan(6);
  await checked.locator('.jp-mod-reject', { hasText: 'Close' }).click();
  const checkpointChecked = page.locator('.jp-Notebook .jp-AinCellBadge[data-state="checkpoint-checked"]');
  await expect(checkpointChecked).toHaveCount(sampledCells, { timeout: 30_000 });
  await expect(page.locator('.jp-Notebook .jp-AinCellBadge[data-state="anchored"]')).toHaveCount(
    6 - sampledCells
  );
  await expect(checkpointChecked.first()).toHaveAttribute(
    'title',
    /Reproduced on local kernel.*1 of \d+ checkpoints \(\d+ of 6 cells\); >= \d+% if 30% of cells were falsified/
  );
  await page
    .locator('.jp-Notebook')
    .screenshot({ path: join(SHOTS, 'checkpoint-badges.png'), style: NO_TOASTS });
  // The details of a sampled cell say what was compared and what the sample buys.
  await checkpointChecked.first().click();
  const details = page.locator('.jp-Dialog', { has: page.locator('.jp-AinEvidenceDetails') });
  await expect(details.locator('.jp-AinEvidenceDetails-summary')).toContainText('Checked by sampling: 1 of');
  await details
    .locator('.jp-Dialog-content')
    .screenshot({ path: join(SHOTS, 'checkpoint-details.png'), style: NO_TOASTS });
  await details.locator('.jp-mod-accept', { hasText: 'Close' }).click();

  // Reproduce on a local kernel: every cell reproduced.
  const results = await verifyWith(page, 'ain:reproduce', 'Reproduce');
  const rows = results.locator('.jp-AinVerifyResults-row');
  await expect(rows).toHaveCount(cells.length);
  await expect(rows.locator('[data-outcome="fail"]')).toHaveCount(0);
  expect(await rows.evaluateAll(r => r.map(x => (x as HTMLElement).dataset.outcome))).toEqual(
    cells.map(() => 'pass')
  );
  await expect(results.locator('.jp-AinVerifyResults-summary')).toContainText('reproduced');
  await results
    .locator('.jp-Dialog-content')
    .screenshot({ path: join(SHOTS, 'reproduce-results.png'), style: NO_TOASTS });

  // Attest on-chain: the transaction goes into the verification records.
  await results.locator('.jp-mod-accept', { hasText: 'Attest on-chain' }).click();
  await expect(
    page.locator('.Toastify__toast', { hasText: /Attested \(reproduced\) on-chain in transaction 0x/ })
  ).toBeVisible({
    timeout: 60_000
  });
  for (let i = 0; i < cells.length; i++) {
    await expect(badges(page).nth(i)).toHaveAttribute('data-state', 'reproduced');
  }
  await expect(badges(page).first()).toHaveAttribute(
    'title',
    /Reproduced on local kernel .*identical outputs/
  );
  const ain = await notebookEvidence(page);
  const attested = ain.verifications.filter((v: any) => v.level === 'reproduced' && v.txHash);
  expect(attested).toHaveLength(cells.length);
  await expect(run.locator('.jp-AinSidebar-verification')).toContainText(`execution on local kernel`);
  await expect(run.locator('.jp-AinSidebar-verification')).toContainText(`${cells.length} reproduced`);
});

test('a provider that tampers with outputs: Reproduce marks exactly the tampered cells, side by side', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(600_000);
  const cells: [string, string][] = [
    ['t-a', 'print(6 * 7)'],
    ['t-b', 'print("no numbers here")'],
    ['t-c', 'total = sum(range(10))\ntotal']
  ];
  await openNotebook(page, tmpPath, 'tampered.ipynb', cells);
  await runOnProvider(page, 'cheat-tamper-outputs');
  await runAndAnchor(page, cells.length);
  // What the provider returned and signed: every digit rotated.
  expect(await outputsOf(page)).toEqual(['53', 'no numbers here', '56']);

  const results = await verifyWith(page, 'ain:reproduce', 'Reproduce');
  const rows = results.locator('.jp-AinVerifyResults-row');
  expect(await rows.evaluateAll(r => r.map(x => (x as HTMLElement).dataset.verdict))).toEqual([
    'differs',
    'identical',
    'differs'
  ]);
  // Side by side, inside the results: the first difference marked on both sides.
  await rows.first().locator('.jp-AinVerifyResults-compare').click();
  const side = results.locator('.jp-AinSideBySide');
  await expect(side).toBeVisible();
  await expect(side.locator('.jp-AinSideBySide-claimed .jp-AinSideBySide-mark')).toHaveText('53');
  await expect(side.locator('.jp-AinSideBySide-reproduced .jp-AinSideBySide-mark')).toHaveText('42');
  await expect(side.locator('.jp-AinSideBySide-difference')).toContainText('First difference at output 1');
  await results
    .locator('.jp-Dialog-content')
    .screenshot({ path: join(SHOTS, 'side-by-side.png'), style: NO_TOASTS });
  await results.locator('.jp-mod-reject', { hasText: 'Close' }).click();

  await expect(badges(page).nth(0)).toHaveAttribute('data-state', 'mismatch');
  await expect(badges(page).nth(1)).toHaveAttribute('data-state', 'reproduced');
  await expect(badges(page).nth(2)).toHaveAttribute('data-state', 'mismatch');
  await expect(badges(page).nth(0)).toHaveAttribute('title', /Differs from the signed outputs at output 1/);

  // The same view from the badge's details.
  await badges(page).nth(2).click();
  const details = page.locator('.jp-Dialog', { has: page.locator('.jp-AinEvidenceDetails') });
  await details.getByRole('button', { name: 'Side by side' }).click();
  await expect(page.locator('.jp-AinSideBySide-claimed .jp-AinSideBySide-mark')).toHaveText('56');
  await expect(page.locator('.jp-AinSideBySide-reproduced .jp-AinSideBySide-mark')).toHaveText('45');
  await page.locator('.jp-Dialog .jp-mod-accept', { hasText: 'Close' }).click();

  // On another provider: a verifier's run of its own (paid, like any run), the same cells caught; the notebook's
  // evidence keeps its one run (the verifier's receipts are not the notebook's).
  const elsewhere = await verifyWith(page, 'ain:reproduce', 'Reproduce', { provider: 'dev-provider-2' });
  await expect(elsewhere.locator('.jp-Dialog-header')).toContainText('on provider dev-provider-2');
  expect(
    await elsewhere
      .locator('.jp-AinVerifyResults-row')
      .evaluateAll(r => r.map(x => (x as HTMLElement).dataset.verdict))
  ).toEqual(['differs', 'identical', 'differs']);
  await elsewhere.locator('.jp-mod-reject', { hasText: 'Close' }).click();
  expect((await notebookEvidence(page)).runs).toHaveLength(1);
  expect((await runsState(page)).filter(r => r.reproduces)).toEqual([
    expect.objectContaining({ receipts: ['t-a', 't-b', 't-c'] })
  ]);
});

test('a provider that equivocates: a live warning offers the challenge, which slashes the provider', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(600_000);
  await openNotebook(page, tmpPath, 'equivocated.ipynb', [['e-a', 'print("one receipt per step")']]);
  await runOnProvider(page, 'cheat-equivocate');
  await page.notebook.run();

  const warning = page.locator('.Toastify__toast', { hasText: 'signed two different receipts for step 0' });
  await expect(warning).toBeVisible({ timeout: 60_000 });
  await warning.getByRole('button', { name: 'Challenge' }).click();
  const confirm = page.locator('.jp-Dialog', { hasText: 'Challenge run' });
  await expect(confirm).toContainText('The provider signed two different receipts for step 0.');
  await confirm.locator('.jp-mod-accept', { hasText: 'Challenge' }).click();

  const slashed = page.locator('.Toastify__toast', { hasText: /Provider slashed [\d.]+ AIN/ });
  await expect(slashed).toBeVisible({ timeout: 60_000 });
  const tx = (await slashed.textContent())!.match(/0x[0-9a-f]{64}/)![0];
  const ain = await notebookEvidence(page);
  expect(ain.equivocations).toEqual([expect.objectContaining({ step: 0, challengeTx: tx })]);
  await page.evaluate(() => (window as any).jupyterapp.commands.execute('ain:open-sidebar'));
  const run = page.locator('.jp-AinSidebar-run').filter({ hasText: 'equivocated.ipynb' });
  await expect(run.locator('.jp-AinSidebar-equivocation')).toContainText(`provider slashed in ${tx}`);
  // Nothing left to challenge: the run is slashed.
  await expect(run.getByRole('button', { name: 'Challenge' })).toHaveCount(0, { timeout: 30_000 });
});

/** A "training" cell commits outputs/model.json (an artifact of its receipt); the objective cell reads it. */
const OBJECTIVE_CELLS: [string, string][] = [
  [
    'o-train',
    'import json, pathlib\npathlib.Path("outputs").mkdir(exist_ok=True)\nweights = [0.5, 0.25, 0.125]\n' +
      'pathlib.Path("outputs/model.json").write_text(json.dumps(weights))\nprint("trained", len(weights), "weights")'
  ],
  [
    'o-score',
    'import json, pathlib\nweights = json.loads(pathlib.Path("outputs/model.json").read_text())\n' +
      'score = round(sum(weights) / 0.9, 4)\nscore'
  ]
];

/** Opens the objective notebook (its second cell tagged ain:objective>=0.8) and runs it on `provider`. */
async function runObjectiveNotebook(page: Page, dir: string, provider: string): Promise<void> {
  await openNotebook(page, dir, 'objective.ipynb', OBJECTIVE_CELLS);
  await page.evaluate(() =>
    (window as any).jupyterapp.shell.currentWidget.model.cells
      .get(1)
      .setMetadata('tags', ['ain:objective>=0.8'])
  );
  await runOnProvider(page, provider);
  await runAndAnchor(page, OBJECTIVE_CELLS.length);
}

test('objective cells: the metric recomputed from the committed model, next to the claimed one', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(600_000);
  await runObjectiveNotebook(page, tmpPath, 'dev-provider-1');
  expect((await outputsOf(page))[1]).toBe('0.9722');
  const results = await verifyWith(page, 'ain:verify-objective', 'Check objective');
  await expect(results.locator('.jp-AinVerifyResults-row[data-verdict="objective-pass"]')).toHaveCount(1);
  await results.locator('.jp-mod-reject', { hasText: 'Close' }).click();
  await expect(badges(page).nth(1)).toHaveAttribute('data-state', 'objective-verified');
  await expect(badges(page).nth(1)).toHaveAttribute(
    'title',
    /score 0\.9722 recomputed from outputs\/model\.json \(claimed 0\.9722; rule >= 0\.8\)/
  );
  const ain = await notebookEvidence(page);
  expect(ain.verifications.find((v: any) => v.level === 'objective-verified').objective).toEqual({
    metric: 0.9722,
    claimed: 0.9722,
    rule: 'ain:objective>=0.8'
  });
});

test('objective cells: a provider that altered the claimed metric is a mismatch showing both numbers', async ({
  page,
  tmpPath
}) => {
  test.setTimeout(600_000);
  // The provider claims 1.0833; the model it committed to says 0.9722.
  await runObjectiveNotebook(page, tmpPath, 'cheat-tamper-outputs');
  expect((await outputsOf(page))[1]).toBe('1.0833');
  const results = await verifyWith(page, 'ain:verify-objective', 'Check objective');
  await expect(results.locator('.jp-AinVerifyResults-row[data-verdict="objective-fail"]')).toHaveCount(1);
  await results.locator('.jp-mod-reject', { hasText: 'Close' }).click();
  await expect(badges(page).nth(1)).toHaveAttribute('data-state', 'mismatch');
  await expect(badges(page).nth(1)).toHaveAttribute('title', /0\.9722 recomputed .*claimed 1\.0833/);
});
