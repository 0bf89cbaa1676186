/**
 * What the browser tests of runs share: a notebook written and opened in JupyterLab, the state of its kernel, what
 * IAinRuns knows, the stock kernel picker, and "Run on AI Network" on one of the providers `ain dev` starts (the
 * honest dev-provider-1 and -2, and the cheating cheat-<fault> ones of `--fault-provider`).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- page.evaluate reaches JupyterLab through untyped window.jupyterapp, as the specs do */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import { join } from 'node:path';

type Page = IJupyterLabPageFixture;

export const SHOTS = join(__dirname, 'screenshots');

/** A notebook of code cells `[id, source]`, Python 3. */
export function notebookJson(cells: [string, string][]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
      language_info: { name: 'python' }
    },
    cells: cells.map(([id, source]) => ({
      cell_type: 'code',
      id,
      metadata: {},
      execution_count: null,
      outputs: [],
      source
    }))
  });
}

/** Writes the notebook to `dir/name`, opens it and waits for its local kernel to be really ready. */
export async function openNotebook(
  page: Page,
  dir: string,
  name: string,
  cells: [string, string][]
): Promise<string> {
  const path = `${dir}/${name}`;
  await page.contents.uploadContent(notebookJson(cells), 'text', path);
  await page.notebook.openByPath(path);
  await page.notebook.activate(name);
  await expect.poll(async () => (await kernelState(page)).ready, { timeout: 60_000 }).toBe(true);
  return path;
}

/** The kernel of the open notebook: its spec name and whether it is connected and idle. */
export async function kernelState(page: Page): Promise<{ name: string; ready: boolean }> {
  return page.evaluate(() => {
    const app = (window as any).jupyterapp;
    const ctx = app.shell.currentWidget?.sessionContext;
    const kernel = ctx?.session?.kernel;
    return {
      name: kernel?.name ?? '',
      ready: !!ctx?.isReady && kernel?.connectionStatus === 'connected' && kernel?.status === 'idle'
    };
  });
}

/** What IAinRuns knows (read through the plugin registry: tests only). */
export async function runsState(
  page: Page
): Promise<{ state: string; receipts: (string | undefined)[]; checkpoints: number; reproduces?: string }[]> {
  return page.evaluate(async () => {
    const app = (window as any).jupyterapp;
    const token = [...app.pluginRegistry._services.keys()].find(
      (t: any) => t.name === 'jupyterlab-ain:IAinRuns'
    );
    const runs = await app.resolveRequiredService(token);
    return runs.runs.map((r: any) => ({
      state: r.record.state,
      receipts: r.receipts.map((x: any) => x.cellId),
      checkpoints: r.checkpoints.filter((c: any) => c.txHash).length,
      ...(r.reproduces ? { reproduces: r.reproduces } : {})
    }));
  });
}

/** The display names of the AI Network kernel specs (one per registered provider). */
export async function providerSpecs(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Object.values((window as any).jupyterapp.serviceManager.kernelspecs.specs?.kernelspecs ?? {})
      .map((s: any) => s.display_name)
      .filter((n: string) => n.startsWith('AI Network'))
      .sort()
  );
}

/** Opens the stock kernel picker and picks the option whose label matches `label`. */
export async function pickKernel(page: Page, label: RegExp, screenshot?: string): Promise<void> {
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

/** The text of every output of the open notebook, in order. */
export async function outputsOf(page: Page): Promise<string[]> {
  return (await page.locator('.jp-Cell .jp-OutputArea-output').allInnerTexts()).map(t => t.trim());
}

/**
 * "Run on AI Network" on the provider named `provider` with the default budget; resolves once the notebook's
 * kernel is the provider's, connected and idle (an environment build included).
 */
export async function runOnProvider(page: Page, provider: string): Promise<void> {
  void page.evaluate(() => (window as any).jupyterapp.commands.execute('ain:run-notebook'));
  const picker = page.locator('.jp-AinRunPicker');
  await expect(picker).toBeVisible({ timeout: 60_000 });
  await picker.locator('.jp-AinRunPicker-provider', { hasText: provider }).locator('input').check();
  await page.locator('.jp-Dialog .jp-mod-accept', { hasText: 'Run' }).click();
  await expect
    .poll(async () => kernelState(page), { timeout: 240_000 })
    .toEqual({ name: expect.stringMatching(/^ain-0x[0-9a-f]{40}$/), ready: true });
}

/** The notebook's metadata.ain as the extension keeps it. */
export async function notebookEvidence(page: Page): Promise<any> {
  return page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.model.getMetadata('ain'));
}
