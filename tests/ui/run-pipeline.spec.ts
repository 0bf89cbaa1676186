/**
 * The run pipeline in a real JupyterLab (Debian chromium) against the embedded chain and the two local providers
 * that `ain dev` starts: providers listed as kernel specs, picked from the stock kernel picker, confirmed in the
 * "Run on AI Network" dialog, provisioned (pack, openRun on-chain, upload, environment, kernel), three cells run
 * there with signed receipts arriving through IAinRuns; then back to a local kernel; and a provisioning error that
 * leaves the notebook intact.
 */
import { expect, galata, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { join } from 'node:path';
import {
  SHOTS,
  kernelState,
  openNotebook,
  outputsOf,
  pickKernel,
  providerSpecs,
  runsState
} from './run-fixture';

/** Three cells; the second prints where Python runs (the provider's environment or the local venv). */
function cells(tag: string): [string, string][] {
  return [
    ['cell-a', `x = 6 * 7  # ${tag}\nprint(x)`],
    ['cell-b', 'import sys\nprint("prefix", sys.prefix)'],
    ['cell-c', 'print(x + 1)']
  ];
}

/**
 * Opens a three-cell notebook and picks dev-provider-1 in the stock kernel picker: the providers are kernel specs
 * next to the local kernel, and the choice opens the same confirmation as "Run on AI Network" (providers with
 * reachability, the environment, the budget), which is left open.
 */
async function pickerFromKernelPicker(page: IJupyterLabPageFixture, tmpPath: string): Promise<void> {
  await openNotebook(page, tmpPath, 'remote.ipynb', cells('remote'));
  // The honest providers of `ain dev` (and the cheating ones of --fault-provider) are kernel specs.
  await expect
    .poll(() => providerSpecs(page), { timeout: 30_000 })
    .toEqual(
      expect.arrayContaining([
        'AI Network · dev-provider-1 · 1 AIN/h',
        'AI Network · dev-provider-2 · 2 AIN/h'
      ])
    );
  await pickKernel(page, /dev-provider-1/, 'kernel-picker.png');
  const picker = page.locator('.jp-AinRunPicker');
  await expect(picker).toBeVisible();
  await expect(picker.locator('.jp-AinRunPicker-provider', { hasText: /dev-provider-[12]/ })).toHaveCount(2);
  await expect(picker.locator('.jp-AinRunPicker-provider input:checked')).toHaveCount(1);
  await expect(
    picker.locator('.jp-AinRunPicker-provider', { has: page.locator('input:checked') })
  ).toContainText('dev-provider-1');
  await expect(
    picker.locator('.jp-AinRunPicker-provider', { hasText: /dev-provider-[12]/ }).locator('.jp-mod-reachable')
  ).toHaveCount(2);
  await expect(picker.locator('.jp-AinRunPicker-envKind')).toContainText('Detected');
  await page.screenshot({ path: join(SHOTS, 'run-picker.png') });
}

test.describe('Run on AI Network', () => {
  // galata answers /api/kernels and /api/sessions requests from its own records (to clean up after a test), for
  // any host: a provider's run server would get 404s for the kernels it just started. Real requests only.
  test.use({ autoGoto: true, kernels: null, sessions: null });

  test('providers are kernel specs; picking one in the kernel picker opens the Run on AI Network confirmation', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(120_000);
    await pickerFromKernelPicker(page, tmpPath);
    // Cancelling keeps the notebook on its local kernel.
    await page.locator('.jp-Dialog .jp-mod-reject').click();
    await expect
      .poll(async () => kernelState(page), { timeout: 30_000 })
      .toEqual({ name: 'python3', ready: true });
  });

  test('a provider picked in the kernel picker runs three cells with signed receipts; then back to a local kernel', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(300_000);
    await pickerFromKernelPicker(page, tmpPath);
    await page.locator('.jp-Dialog .jp-mod-accept', { hasText: 'Run' }).click();

    // Provisioning: pack, openRun on-chain, login, upload, environment build, kernel start, connect.
    await expect
      .poll(async () => kernelState(page), { timeout: 240_000 })
      .toEqual({ name: expect.stringMatching(/^ain-0x[0-9a-f]{40}$/), ready: true });
    // The toolbar's kernel button shows the provider's spec.
    await expect(
      page.getByRole('button', { name: /^AI Network · dev-provider-1 · 1 AIN\/h/ }).first()
    ).toBeVisible();

    await page.notebook.run();
    const outputs = await outputsOf(page);
    expect(outputs[0]).toBe('42');
    // The second cell ran in the provider's environment (its venv cache), not in JupyterLab's .venv.
    expect(outputs[1]).toMatch(/^prefix .*provider-1/);
    expect(outputs[2]).toBe('43');

    // One signed receipt per cell, carrying the cell ids, and a checkpoint anchored on-chain (every 3 receipts).
    await expect
      .poll(async () => (await runsState(page))[0]?.receipts, { timeout: 30_000 })
      .toEqual(['cell-a', 'cell-b', 'cell-c']);
    await expect
      .poll(async () => (await runsState(page))[0]?.checkpoints, { timeout: 60_000 })
      .toBeGreaterThan(0);
    expect((await runsState(page))[0].state).toBe('running');

    // Back to a local kernel: the notebook runs locally again.
    // (The same routing as the kernel picker's choice; done through the notebook's session context here.)
    await page.evaluate(() =>
      (window as any).jupyterapp.shell.currentWidget.sessionContext.changeKernel({ name: 'python3' })
    );
    await expect
      .poll(async () => kernelState(page), { timeout: 60_000 })
      .toEqual({ name: 'python3', ready: true });
    await page.notebook.run();
    const local = await outputsOf(page);
    expect(local[0]).toBe('42');
    expect(local[1]).not.toMatch(/provider-1/);
  });

  test('a budget of 0 is refused with a clear notification and the notebook is untouched', async ({
    page,
    tmpPath
  }) => {
    await openNotebook(page, tmpPath, 'budget.ipynb', cells('budget'));
    const before = await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.model.toJSON());

    await page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="ain-run-notebook"]').click();
    const picker = page.locator('.jp-AinRunPicker');
    await expect(picker.locator('.jp-AinRunPicker-provider', { hasText: /dev-provider-[12]/ })).toHaveCount(
      2
    );
    await picker.locator('.jp-AinRunPicker-budget').fill('0');
    await page.locator('.jp-Dialog .jp-mod-accept', { hasText: 'Run' }).click();

    const toast = page.locator('.Toastify__toast', { hasText: 'checking the budget failed' });
    await expect(toast).toBeVisible({ timeout: 15_000 });
    await expect(toast).toContainText('notebook unchanged');
    await expect(toast).toContainText('The budget must be more than 0 tokens');
    const after = await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.model.toJSON());
    expect(after).toEqual(before);
    expect((await kernelState(page)).name).toBe('python3');
  });
});

void galata;
