'use strict';
// Shared by the browser SDK suites (sdk.test.js, sdk_voice.test.js): the Chromium
// that playwright-core drives and the Quickstart example's backend as a child process.
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const EXAMPLE_DIR = path.join(h.REPO, 'examples', 'quickstart');
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];
const skip = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install -y chromium)`;

/* ------------------------------------------------------------ helpers */

/* Starts examples/quickstart/server.js on `port` (or a free one); resolves once it answers. */
async function startExample(env, port) {
  if (!fs.existsSync(path.join(EXAMPLE_DIR, 'node_modules', 'standardwebhooks'))) {
    // Same as a developer following the example's README.
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: EXAMPLE_DIR, stdio: 'ignore', timeout: 120_000 });
  }
  port = port || (await h.freePort());
  const proc = spawn(process.execPath, ['server.js'], {
    cwd: EXAMPLE_DIR,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ex = { port, url: `http://127.0.0.1:${port}`, proc, out: '' };
  proc.stdout.on('data', (c) => { ex.out += c; });
  proc.stderr.on('data', (c) => { ex.out += c; });
  ex.stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', resolve);
    proc.kill('SIGTERM');
  });
  try {
    await h.eventually(async () => {
      if (proc.exitCode !== null) throw new Error(`example exited early:\n${ex.out}`);
      const r = await fetch(`${ex.url}/config.json`);
      assert.equal(r.status, 200);
    }, 10_000);
  } catch (e) {
    await ex.stop();
    throw new Error(`the example server did not come up: ${e.message}\n${ex.out}`);
  }
  return ex;
}

/* `athos serve`, a tenant whose webhook is the example's, and the example itself. */
async function startStack(name) {
  const server = await h.startServer();
  const port = await h.freePort();
  const tenant = h.createTenant(server, { name, webhookUrl: `http://127.0.0.1:${port}/webhooks/athos` });
  const example = await startExample({
    ATHOS_API_KEY: tenant.apiKey,
    ATHOS_WHSEC: tenant.webhookSecret,
    ATHOS_BASE_URL: server.baseUrl,
  }, port).catch(async (e) => { await server.stop(); throw e; });
  return { server, tenant, example };
}

module.exports = { CHROMIUM, CHROMIUM_ARGS, EXAMPLE_DIR, skip, startExample, startStack };
