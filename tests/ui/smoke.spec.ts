import { expect, test } from '@jupyterlab/galata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// The Node build of the same core the extension bundles: both must agree on every hash.
import { notebookHash } from '../../lib-node/core/notebook.js';

const example = join(__dirname, '..', '..', 'examples', 'hello-ain.ipynb');

test.describe('jupyterlab-ain in JupyterLab', () => {
  test('loads without console errors and activates its plugins', async ({ page }) => {
    const errors: string[] = [];
    page.on('console', message => {
      if (message.type() === 'error') {
        errors.push(message.text());
      }
    });
    page.on('pageerror', error => errors.push(error.message));
    await page.goto();
    const activated = await page.evaluate(() => {
      const app = (window as any).jupyterapp;
      return (
        app.hasPlugin('jupyterlab-ain:notebook-hash') && app.isPluginActivated('jupyterlab-ain:notebook-hash')
      );
    });
    expect(activated).toBe(true);
    expect(errors).toEqual([]);
  });

  test('shows the same notebook hash in the browser as the core computes in Node', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadFile(example, `${tmpPath}/hello-ain.ipynb`);
    await page.notebook.openByPath(`${tmpPath}/hello-ain.ipynb`);
    await page.notebook.activate('hello-ain.ipynb');
    // Run it the way the command palette does; the context-menu test below clicks through the UI.
    await page.evaluate(() => {
      void (window as any).jupyterapp.commands.execute('ain:show-notebook-hash');
    });
    const shown = page.locator('.jp-AinNotebookHash-value');
    await expect(shown).toHaveText(/^0x[0-9a-f]{64}$/);
    const expected = notebookHash(readFileSync(example));
    expect(await shown.textContent()).toBe(expected);
  });

  test('offers the command in the notebook context menu (declared in the settings schema)', async ({
    page,
    tmpPath
  }) => {
    await page.contents.uploadFile(example, `${tmpPath}/hello-ain.ipynb`);
    await page.notebook.openByPath(`${tmpPath}/hello-ain.ipynb`);
    await page.locator('.jp-Notebook .jp-Cell').first().click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Show AI Network Notebook Hash' }).click();
    await expect(page.locator('.jp-AinNotebookHash-value')).toHaveText(/^0x[0-9a-f]{64}$/);
  });
});
