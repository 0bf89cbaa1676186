/**
 * Launch links in a real JupyterLab (Debian chromium) started by `ain dev`, against its development chain and
 * providers. Run links open a notebook whose metadata.ain carries a run anchored on that chain (evidence-chain.ts);
 * bundle links download a bundle that a client really ran and published at `ain dev`'s first provider
 * (launch-fixture.ts). Each link is opened in a fresh tab, as a person clicking it would.
 */
import { expect, galata, test } from '@jupyterlab/galata';
import type { BrowserContext, Page } from '@playwright/test';
import { Wallet } from 'ethers';
import { join } from 'node:path';
import { devPrivateKey } from '../../lib-node/chain/dev-chain.js';
import { anchoredNotebook } from './evidence-chain';
import { AGENT_URL, publishedBundle } from './launch-fixture';

const SHOTS = join(__dirname, 'screenshots');
const BASE = 'http://127.0.0.1:8888';
const DEV_PROVIDER = new Wallet(devPrivateKey(1)).address;

/** Opens `url` in a new tab (no galata mocks: the real settings and workspace) and waits for JupyterLab. */
async function openLink(context: BrowserContext, url: string): Promise<Page> {
  const tab = await context.newPage();
  await tab.goto(url, { waitUntil: 'domcontentloaded' });
  await tab.waitForFunction(() => typeof (window as any).jupyterapp === 'object');
  await tab.evaluate(() => (window as any).jupyterapp.started);
  return tab;
}

/** What is running: AI Network runs of this page, kernels on providers, and cells that executed. */
async function running(tab: Page): Promise<{ runs: number; remoteKernels: number; executed: number }> {
  return tab.evaluate(async () => {
    const app = (window as any).jupyterapp;
    const token = [...app.pluginRegistry._services.keys()].find(
      (t: any) => t.name === 'jupyterlab-ain:IAinRuns'
    );
    const runs = token ? (await app.resolveRequiredService(token)).runs.length : 0;
    await app.serviceManager.sessions.refreshRunning();
    const remoteKernels = [...app.serviceManager.sessions.running()].filter((s: any) =>
      String(s.kernel?.name ?? '').startsWith('ain-')
    ).length;
    const panel = app.shell.currentWidget;
    const cells = panel?.model ? panel.model.toJSON().cells : [];
    const executed = cells.filter(
      (c: any) => c.execution_count !== null && c.execution_count !== undefined
    ).length;
    return { runs, remoteKernels, executed };
  });
}

test.describe('launch links', () => {
  // Remote kernels may be involved: galata's kernel and session mocks would answer for them.
  test.use({ autoGoto: false, kernels: null, sessions: null });

  test('a run link opens the notebook and asks first; Cancel runs nothing and the URL loses the parameter', async ({
    page,
    context,
    tmpPath
  }) => {
    const made = await anchoredNotebook(['x = 6 * 7', 'print(x)']);
    const path = `${tmpPath}/linked.ipynb`;
    await page.contents.uploadContent(JSON.stringify(made.notebook), 'text', path);
    const tab = await openLink(context, `${BASE}/lab/tree/${path}?ain-run=31337:${made.runId}`);

    // The notebook is open behind the confirmation, which names the run, its author and its provider.
    const dialog = tab.locator('.jp-Dialog', { has: tab.locator('.jp-AinLaunch') });
    await expect(dialog).toBeVisible({ timeout: 60_000 });
    await expect(tab.locator('.jp-NotebookPanel .jp-Cell')).toHaveCount(2);
    await expect(tab.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current')).toContainText(
      'linked.ipynb'
    );
    await expect(dialog.locator('tr[data-fact="run"]')).toContainText(made.runId);
    await expect(dialog.locator('tr[data-fact="author"]')).toContainText(
      new Wallet(devPrivateKey(8)).address
    );
    await expect(dialog.locator('tr[data-fact="provider"]')).toContainText(made.provider);
    await expect(dialog.locator('tr[data-fact="evidence"]')).toContainText('2 signed receipts');
    await expect(dialog.locator('.jp-AinLaunch-warning')).toContainText('code written by someone else');
    await expect(dialog.locator('.jp-AinLaunch-warning')).toContainText('escrows tokens');
    await expect(dialog.getByRole('button', { name: 'Reproduce' })).toBeVisible();
    await expect(dialog.getByRole('button', { name: 'Run on AI Network' })).toBeVisible();
    await expect(tab).not.toHaveURL(/ain-run=/);
    await dialog.locator('.jp-Dialog-content').screenshot({ path: join(SHOTS, 'launch-dialog.png') });

    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
    expect(await running(tab)).toEqual({ runs: 0, remoteKernels: 0, executed: 0 });
    await expect(tab).toHaveURL(/linked\.ipynb$/);
    await tab.close();
  });

  test('a run link for another chain says so and offers nothing', async ({ page, context, tmpPath }) => {
    const made = await anchoredNotebook(['print(1)']);
    const path = `${tmpPath}/other-chain.ipynb`;
    await page.contents.uploadContent(JSON.stringify(made.notebook), 'text', path);
    const tab = await openLink(context, `${BASE}/lab/tree/${path}?ain-run=1:${made.runId}`);
    const dialog = tab.locator('.jp-Dialog', { has: tab.locator('.jp-AinLaunch-wrongChain') });
    await expect(dialog).toBeVisible({ timeout: 60_000 });
    await expect(dialog).toContainText('Launch link for chain 1');
    await expect(dialog).toContainText(`names run ${made.runId} on chain 1`);
    await expect(dialog).toContainText('settings are for chain 31337');
    await expect(dialog.getByRole('button')).toHaveCount(1);
    await dialog.getByRole('button', { name: 'OK' }).click();
    await expect(tab).not.toHaveURL(/ain-run=/);
    expect(await running(tab)).toEqual({ runs: 0, remoteKernels: 0, executed: 0 });
    await tab.close();
  });

  test('"Copy Launch Link" copies a link that, opened in a new tab, reaches the same confirmation', async ({
    page,
    context,
    tmpPath
  }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    const made = await anchoredNotebook(['print("copied")']);
    const path = `${tmpPath}/copy me.ipynb`;
    await page.contents.uploadContent(JSON.stringify(made.notebook), 'text', path);
    const tab = await openLink(
      context,
      `${BASE}/lab/tree/${path.split('/').map(encodeURIComponent).join('/')}`
    );
    await expect(tab.locator('.jp-NotebookPanel .jp-Cell')).toHaveCount(1, { timeout: 60_000 });

    // From the notebook's context menu (declared in schema/launch-link.json).
    await tab.locator('.jp-NotebookPanel .jp-Cell').first().click({ button: 'right' });
    await tab.locator('.lm-Menu-item', { hasText: 'Copy Launch Link' }).click();
    const expected = `${BASE}/lab/tree/${path.split('/').map(encodeURIComponent).join('/')}?ain-run=31337:${made.runId}`;
    await expect.poll(() => tab.evaluate(() => navigator.clipboard.readText())).toBe(expected);
    await expect(tab.locator('.Toastify__toast', { hasText: 'Launch link copied' })).toBeVisible();

    // The README badge variant: the SVG badge linked to the same link.
    await tab.evaluate(() => (window as any).jupyterapp.commands.execute('ain:copy-launch-badge'));
    await expect
      .poll(() => tab.evaluate(() => navigator.clipboard.readText()))
      .toBe(
        `[![Run on AI Network](https://cdn.jsdelivr.net/npm/jupyterlab-ain@0.1.0/style/badge.svg)](${expected})`
      );
    await tab.close();

    const opened = await openLink(context, expected);
    const dialog = opened.locator('.jp-Dialog', { has: opened.locator('.jp-AinLaunch') });
    await expect(dialog).toBeVisible({ timeout: 60_000 });
    await expect(dialog.locator('tr[data-fact="run"]')).toContainText(made.runId);
    await expect(dialog.locator('tr[data-fact="notebook"]')).toContainText(path);
    // "Run on AI Network" goes on to the provider picker, where the budget is confirmed; cancelled there, nothing ran.
    await dialog.getByRole('button', { name: 'Run on AI Network' }).click();
    const picker = opened.locator('.jp-Dialog', { has: opened.locator('.jp-AinRunPicker') });
    await expect(picker).toBeVisible();
    await expect(picker.locator('.jp-AinRunPicker-provider').first()).toBeVisible({ timeout: 30_000 });
    await picker.getByRole('button', { name: 'Cancel' }).click();
    expect(await running(opened)).toEqual({ runs: 0, remoteKernels: 0, executed: 0 });
    await opened.close();
  });

  test('a notebook without a run has no link to copy, and says so', async ({ page, context, tmpPath }) => {
    const path = `${tmpPath}/fresh.ipynb`;
    await page.contents.uploadContent(
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
        cells: [{ cell_type: 'code', id: 'a', metadata: {}, execution_count: null, outputs: [], source: '1' }]
      }),
      'text',
      path
    );
    const tab = await openLink(context, `${BASE}/lab/tree/${path}`);
    await expect(tab.locator('.jp-NotebookPanel .jp-Cell')).toHaveCount(1, { timeout: 60_000 });
    const result = await tab.evaluate(() =>
      (window as any).jupyterapp.commands.execute('ain:copy-launch-link')
    );
    expect(result).toBeNull();
    await expect(tab.locator('.Toastify__toast', { hasText: 'has no AI Network run yet' })).toBeVisible();
    await tab.close();
  });

  test('a bundle link downloads the published bundle, checks it, writes it under ain-launch/ and asks first', async ({
    page,
    context
  }) => {
    test.setTimeout(180_000);
    const published = await publishedBundle(`${Date.now()}`);
    const folder = `ain-launch/${published.bundleHash.slice(2, 10)}`;
    const link =
      `${BASE}/lab/tree/${folder}/${published.notebookName}` +
      `?ain-bundle=${published.bundleHash}@${encodeURIComponent(AGENT_URL)}`;
    const tab = await openLink(context, link);
    const dialog = tab.locator('.jp-Dialog', { has: tab.locator('.jp-AinLaunch') });
    await expect(dialog).toBeVisible({ timeout: 60_000 });
    await expect(dialog.locator('tr[data-fact="bundle"]')).toContainText(`${published.bundleHash} (checked`);
    await expect(dialog.locator('tr[data-fact="from"]')).toContainText(AGENT_URL);
    await expect(dialog.locator('tr[data-fact="provider"]')).toContainText(DEV_PROVIDER);
    await expect(dialog.locator('tr[data-fact="provider"]')).toContainText('dev-provider-1');
    await expect(dialog.locator('tr[data-fact="author"]')).toContainText(published.client);
    await expect(dialog.locator('tr[data-fact="notebook"]')).toContainText(
      `${folder}/${published.notebookName}`
    );
    // No receipts travel in a bundle: there is nothing to reproduce against.
    await expect(dialog.getByRole('button', { name: 'Reproduce' })).toHaveCount(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(tab).not.toHaveURL(/ain-bundle=/);
    expect(await running(tab)).toEqual({ runs: 0, remoteKernels: 0, executed: 0 });
    await expect(tab.locator('.jp-NotebookPanel .jp-Cell .jp-InputArea')).toContainText(published.source);
    const listing = await page.contents.getContentMetadata(`${folder}/data/points.csv`);
    expect(listing?.type).toBe('file');

    // Opened again after an edit: the user's copy is kept, nothing is overwritten.
    await tab.evaluate(async path => {
      const contents = (window as any).jupyterapp.serviceManager.contents;
      const model = await contents.get(path, { content: true });
      model.content.cells[0].source = 'print("my edit")';
      await contents.save(path, { type: 'notebook', format: 'json', content: model.content });
    }, `${folder}/${published.notebookName}`);
    await tab.close();
    const again = await openLink(context, link);
    const second = again.locator('.jp-Dialog', { has: again.locator('.jp-AinLaunch') });
    await expect(second).toBeVisible({ timeout: 60_000 });
    await expect(second.locator('tr[data-fact="notebook"]')).toContainText(
      'your copy is opened, not overwritten'
    );
    await second.getByRole('button', { name: 'Cancel' }).click();
    await expect(again.locator('.jp-NotebookPanel .jp-Cell .jp-InputArea')).toContainText('print("my edit")');
    await again.close();
    await page.contents.deleteDirectory(folder);
  });

  test('"Copy Bundle Launch Link" publishes the run’s bundle after a confirmation and copies a link that opens it', async ({
    page,
    context,
    tmpPath
  }) => {
    test.setTimeout(180_000);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    // Run by the account `ain dev` gives JupyterLab (3): publishing needs the run's client to log in.
    const made = await publishedBundle(`copy ${Date.now()}`, {
      clientAccount: 3,
      publish: false,
      notebookName: 'to-publish.ipynb'
    });
    const publicUrl = `${AGENT_URL}/bundles/${made.bundleHash}/public`;
    expect((await fetch(publicUrl)).status).toBe(404);
    const path = `${tmpPath}/to-publish.ipynb`;
    await page.contents.uploadContent(JSON.stringify(made.notebook), 'text', path);
    const tab = await openLink(context, `${BASE}/lab/tree/${path}`);
    await expect(tab.locator('.jp-NotebookPanel .jp-Cell')).toHaveCount(1, { timeout: 60_000 });

    await tab.locator('.jp-NotebookPanel .jp-Cell').first().click({ button: 'right' });
    await tab.locator('.lm-Menu-item', { hasText: 'Copy Bundle Launch Link' }).click();
    const confirm = tab.locator('.jp-Dialog', { hasText: 'Publish this notebook’s bundle?' });
    await expect(confirm).toContainText(made.bundleHash);
    await expect(confirm).toContainText('not its outputs');
    await confirm.getByRole('button', { name: 'Publish and copy' }).click();
    const folder = `ain-launch/${made.bundleHash.slice(2, 10)}`;
    const link = `${BASE}/lab/tree/${folder}/to-publish.ipynb?ain-bundle=${made.bundleHash}@${encodeURIComponent(AGENT_URL)}`;
    await expect
      .poll(() => tab.evaluate(() => navigator.clipboard.readText()), { timeout: 30_000 })
      .toBe(link);
    expect((await fetch(publicUrl)).status).toBe(200);

    // The run's evidence too: after its own confirmation, anyone reads the receipts (with outputs) without a login.
    const publicReceipts = `${AGENT_URL}/runs/${made.runId}/public/receipts`;
    expect((await fetch(publicReceipts)).status).toBe(404);
    await tab.locator('.jp-NotebookPanel .jp-Cell').first().click({ button: 'right' });
    await tab.locator('.lm-Menu-item', { hasText: 'Publish Run Evidence' }).click();
    const confirmRun = tab.locator('.jp-Dialog', { hasText: 'Publish this run’s evidence?' });
    await expect(confirmRun).toContainText(made.runId);
    await confirmRun.getByRole('button', { name: 'Publish' }).click();
    await expect(tab.locator('.Toastify__toast', { hasText: 'is published' })).toBeVisible({
      timeout: 30_000
    });
    const published = await fetch(publicReceipts);
    expect(published.status).toBe(200);
    expect((await published.json()).receipts).toEqual([]); // this run was opened and stopped, no cell ran
    await tab.close();

    const opened = await openLink(context, link);
    const dialog = opened.locator('.jp-Dialog', { has: opened.locator('.jp-AinLaunch') });
    await expect(dialog).toBeVisible({ timeout: 60_000 });
    await expect(dialog.locator('tr[data-fact="bundle"]')).toContainText(made.bundleHash);
    await expect(dialog.locator('tr[data-fact="author"]')).toContainText(made.client);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await opened.close();
    await page.contents.deleteDirectory(folder);
  });

  test('a bundle link to a bundle the agent has not published is refused and writes nothing', async ({
    page,
    context
  }) => {
    const wrongHash = '0x' + 'ab'.repeat(32);
    const tab = await openLink(
      context,
      `${BASE}/lab/tree/ain-launch/abababab/x.ipynb?ain-bundle=${wrongHash}@${encodeURIComponent(AGENT_URL)}`
    );
    const toast = tab.locator('.Toastify__toast', { hasText: 'Launch link refused, nothing written or run' });
    await expect(toast).toBeVisible({ timeout: 60_000 });
    await expect(toast).toContainText(`${AGENT_URL} has no published bundle 0xabababab`);
    expect(await page.contents.directoryExists('ain-launch/abababab')).toBe(false);
    await expect(tab.locator('.jp-Dialog', { hasText: 'Could not find path' })).toHaveCount(0);
    await tab.close();
  });
});

void galata;
