// Browser tests in Debian's chromium (no browser download: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1), driven by galata
// against a real JupyterLab started the way users start it: `ain dev`, here with two cheating providers as well
// (--fault-provider: cheat-tamper-outputs on 8603, cheat-equivocate on 8604) for the verification tests.
const path = require('node:path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const root = path.resolve(__dirname, '..', '..');

module.exports = {
  ...baseConfig,
  testDir: __dirname,
  outputDir: path.join(__dirname, 'test-results'),
  timeout: 120000,
  retries: 0,
  workers: 1,
  reporter: [['list'], ['html', { open: 'never', outputFolder: path.join(__dirname, 'playwright-report') }]],
  use: {
    ...baseConfig.use,
    baseURL: 'http://127.0.0.1:8888',
    // The default video recording needs an ffmpeg download, which this offline machine cannot do.
    video: 'off',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.AIN_CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: {
    command: `node ${path.join(root, 'bin', 'ain.js')} dev --port 8888 --no-browser --reset-examples --fault-provider tamper-outputs --fault-provider equivocate -- --config ${path.join(
      __dirname,
      'jupyter_server_test_config.py'
    )}`,
    url: 'http://127.0.0.1:8888/lab',
    timeout: 120000,
    reuseExistingServer: false,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10000 },
    env: { ...process.env, AIN_DEV_DIR: path.join(__dirname, 'test-results', 'ain-dev') }
  }
};
