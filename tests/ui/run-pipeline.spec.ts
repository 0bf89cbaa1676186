/**
 * The run pipeline in a real JupyterLab (Debian chromium) against the embedded chain and the two local providers
 * that `ain dev` starts: providers listed as kernel specs, picked from the stock kernel picker, confirmed in the
 * "Run on AI Network" dialog, provisioned (pack, openRun on-chain, upload, environment, kernel), three cells run
 * there with signed receipts arriving through IAinRuns; then back to a local kernel; and a provisioning error that
 * leaves the notebook intact.
 */
import { expect, galata, test } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';
import { join } from 'node:path';

const SHOTS = join(__dirname, 'screenshots');

/** A three-cell notebook; the second cell prints where Python runs (the provider's environment or the local venv). */
function notebook(tag: string): string {
  const cell = (id: string, source: string) => ({
    cell_type: 'code',
    id,
    metadata: {},
    execution_count: null,
    outputs: [],
    source
  });
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
      language_info: { name: 'python' }
    },
    cells: [
      cell('cell-a', `x = 6 * 7  # ${tag}\nprint(x)`),
      cell('cell-b', 'import sys\nprint("prefix", sys.prefix)'),
      cell('cell-c', 'print(x + 1)')
    ]
  });
}

/** The kernel of the open notebook: its spec name and whether it is connected and ready. */
async function kernelState(page: Page): Promise<{ name: string; ready: boolean }> {
  return page.evaluate(() => {
    const app = (window as any).jupyterapp;
    const panel = app.shell.currentWidget;
    const ctx = panel?.sessionContext;
    const kernel = ctx?.session?.kernel;
    return {
      name: kernel?.name ?? '',
      ready: !!ctx?.isReady && kernel?.connectionStatus === 'connected' && kernel?.status === 'idle'
    };
  });
}

/** What IAinRuns knows (read through the plugin registry: tests only). */
async function runsState(
  page: Page
): Promise<{ state: string; receipts: (string | undefined)[]; checkpoints: number }[]> {
  return page.evaluate(async () => {
    const app = (window as any).jupyterapp;
    const token = [...app.pluginRegistry._services.keys()].find(
      (t: any) => t.name === 'jupyterlab-ain:IAinRuns'
    );
    const runs = await app.resolveRequiredService(token);
    return runs.runs.map((r: any) => ({
      state: r.record.state,
      receipts: r.receipts.map((x: any) => x.cellId),
      checkpoints: r.checkpoints.filter((c: any) => c.txHash).length
    }));
  });
}

/** Opens the stock kernel picker and picks the option whose label matches `label`. */
async function pickKernel(page: Page, label: RegExp, screenshot?: string): Promise<void> {
  await page
    .locator(
      '.jp-NotebookPanel-toolbar .jp-KernelName, .jp-NotebookPanel-toolbar [data-jp-item-name="kernelName"]'
    )
    .first()
    .click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toBeVisible();
  const select = dialog.locator('select');
  const option = select.locator('option', { hasText: label });
  await expect(option).toHaveCount(1);
  await select.selectOption({ label: (await option.textContent())!.trim() });
  if (screenshot) {
    await page.screenshot({ path: join(SHOTS, screenshot) });
  }
  await dialog.locator('.jp-mod-accept').click();
}

async function outputsOf(page: Page): Promise<string[]> {
  return (await page.locator('.jp-Cell .jp-OutputArea-output').allInnerTexts()).map(t => t.trim());
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
    const path = `${tmpPath}/remote.ipynb`;
    await page.contents.uploadContent(notebook('remote'), 'text', path);
    await page.notebook.openByPath(path);
    await page.notebook.activate('remote.ipynb');
    await expect.poll(async () => (await kernelState(page)).ready, { timeout: 60_000 }).toBe(true);

    // Both local providers appear as kernel specs next to the local kernel.
    await expect
      .poll(
        () =>
          page.evaluate(() =>
            Object.values((window as any).jupyterapp.serviceManager.kernelspecs.specs?.kernelspecs ?? {})
              .map((s: any) => s.display_name)
              .filter((n: string) => n.startsWith('AI Network'))
              .sort()
          ),
        { timeout: 30_000 }
      )
      .toEqual(['AI Network · dev-provider-1 · 1 AIN/h', 'AI Network · dev-provider-2 · 2 AIN/h']);

    await pickKernel(page, /dev-provider-1/, 'kernel-picker.png');
    // The same confirmation as "Run on AI Network": providers with reachability, the environment, the budget.
    const picker = page.locator('.jp-AinRunPicker');
    await expect(picker).toBeVisible();
    await expect(picker.locator('.jp-AinRunPicker-provider')).toHaveCount(2);
    await expect(picker.locator('.jp-AinRunPicker-provider input:checked')).toHaveCount(1);
    await expect(
      picker.locator('.jp-AinRunPicker-provider', { has: page.locator('input:checked') })
    ).toContainText('dev-provider-1');
    await expect(picker.locator('.jp-mod-reachable')).toHaveCount(2);
    await expect(picker.locator('.jp-AinRunPicker-envKind')).toContainText('Detected');
    await page.screenshot({ path: join(SHOTS, 'run-picker.png') });
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
    const path = `${tmpPath}/remote.ipynb`;
    await page.contents.uploadContent(notebook('remote'), 'text', path);
    await page.notebook.openByPath(path);
    await page.notebook.activate('remote.ipynb');
    await expect.poll(async () => (await kernelState(page)).ready, { timeout: 60_000 }).toBe(true);

    // Both local providers appear as kernel specs next to the local kernel.
    await expect
      .poll(
        () =>
          page.evaluate(() =>
            Object.values((window as any).jupyterapp.serviceManager.kernelspecs.specs?.kernelspecs ?? {})
              .map((s: any) => s.display_name)
              .filter((n: string) => n.startsWith('AI Network'))
              .sort()
          ),
        { timeout: 30_000 }
      )
      .toEqual(['AI Network · dev-provider-1 · 1 AIN/h', 'AI Network · dev-provider-2 · 2 AIN/h']);

    await pickKernel(page, /dev-provider-1/, 'kernel-picker.png');
    // The same confirmation as "Run on AI Network": providers with reachability, the environment, the budget.
    const picker = page.locator('.jp-AinRunPicker');
    await expect(picker).toBeVisible();
    await expect(picker.locator('.jp-AinRunPicker-provider')).toHaveCount(2);
    await expect(picker.locator('.jp-AinRunPicker-provider input:checked')).toHaveCount(1);
    await expect(
      picker.locator('.jp-AinRunPicker-provider', { has: page.locator('input:checked') })
    ).toContainText('dev-provider-1');
    await expect(picker.locator('.jp-mod-reachable')).toHaveCount(2);
    await expect(picker.locator('.jp-AinRunPicker-envKind')).toContainText('Detected');
    await page.screenshot({ path: join(SHOTS, 'run-picker.png') });
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
    const path = `${tmpPath}/budget.ipynb`;
    await page.contents.uploadContent(notebook('budget'), 'text', path);
    await page.notebook.openByPath(path);
    await page.notebook.activate('budget.ipynb');
    await expect.poll(async () => (await kernelState(page)).ready, { timeout: 60_000 }).toBe(true);
    const before = await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.model.toJSON());

    await page.locator('.jp-NotebookPanel-toolbar [data-jp-item-name="ain-run-notebook"]').click();
    const picker = page.locator('.jp-AinRunPicker');
    await expect(picker.locator('.jp-AinRunPicker-provider')).toHaveCount(2);
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
