'use strict';
// Secrets at rest and backups (issue 9 items 12 and 13), black-box, on
// SQLite and on PostgreSQL (scripts/pg-test.sh abuse_secrets.test.js):
//  - with ATHOS_MASTER_KEY_FILE the webhook secrets and JWT signing keys
//    in the database are sealed (AES-256-GCM), not the plaintext; webhooks
//    and session tokens still verify;
//  - `athos keys rotate-master` re-encrypts, everything keeps working, and
//    the old key (or a world-readable key file) then fails start-up with a
//    clear message; a legacy plaintext database is sealed at the first
//    start with a key; without a key the server warns;
//  - SQLite: the database, WAL and SHM files are mode 0600;
//  - `athos backup PATH` copies a live SQLite database while it serves,
//    and a server started on the copy has the calls and keys.
const { test, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { Webhook } = require('standardwebhooks');
const h = require('./harness');

const servers = [];
const closers = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'athos-secrets-'));
after(async () => {
  for (const s of servers) {
    try { await s.stop(); } catch { /* already gone */ }
  }
  for (const c of closers) await c();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/* ------------------------------------------------------------ helpers */

/* A fresh master key file (mode 0600 unless told), as hex, base64 or raw. */
function keyFile(form = 'hex', mode = 0o600) {
  const key = crypto.randomBytes(32);
  const text = form === 'hex' ? key.toString('hex') + '\n'
    : form === 'base64' ? key.toString('base64') + '\n' : key;
  const file = path.join(tmp, `master-${crypto.randomBytes(4).toString('hex')}.key`);
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  return file;
}

async function serve(dbPath, env = {}) {
  const s = await h.startServer({ dbPath, env: { ATHOS_ALLOW_PRIVATE_WEBHOOKS: '1', ...env } });
  servers.push(s);
  return s;
}

/* Starting must fail: returns the server's stderr. */
async function serveFails(dbPath, env) {
  try {
    const s = await h.startServer({ dbPath, env });
    servers.push(s);
  } catch (e) {
    return e.message;
  }
  assert.fail('athos serve started');
}

/* The stored secret columns, raw, as one string per row. */
function storedSecrets(dbPath) {
  const out = h.sqlite(dbPath, 'SELECT secret FROM webhook_secrets; SELECT secret_hex FROM signing_keys;');
  return out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/* A webhook receiver that records each request. */
async function startReceiver() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return { requests, url: `http://127.0.0.1:${server.address().port}/hook` };
}

/* An ended call (TEST ONLY, written into the database): scoring then
 * announces it to the tenant's webhook. */
function seedEndedCall(dbPath, tenantId) {
  return h.seedScoredCall(dbPath, tenantId, {
    status: 'ended', scoredAt: null, score: null, endedAt: Date.now(), durationSec: 30,
    transcript: [{ role: 'assistant', content: 'Hello?' }, { role: 'user', content: 'Hi, goodbye.' }],
  });
}

/* The next webhook for call verifies with secret (standardwebhooks). */
async function webhookVerifies(rx, call, secret) {
  await h.eventually(() => assert.ok(rx.requests.some((r) => r.body.includes(call.id))), 10_000);
  const req = rx.requests.find((r) => r.body.includes(call.id));
  const body = new Webhook(secret).verify(req.body, {
    'webhook-id': req.headers['webhook-id'],
    'webhook-timestamp': req.headers['webhook-timestamp'],
    'webhook-signature': req.headers['webhook-signature'],
  });
  assert.equal(body.data.callId ?? body.data.id, call.id);
}

/* A session token minted and redeemed: the JWT signing key works. */
async function tokenWorks(server, apiKey) {
  const { token } = await h.mintToken(server, apiKey);
  const r = await h.redeem(server, token);
  assert.ok(r.callId || r.id);
}

function freshDb() {
  return h.isPostgres ? h.newPgDatabase() : path.join(fs.mkdtempSync(path.join(tmp, 'db-')), 'athos.db');
}

/* Runs a command without blocking the event loop (the load goes on). */
function run(file, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${err.message} ${stderr}${stdout}`));
      else resolve(stdout);
    });
  });
}

/* Backs up a live database (a server under load, sealed secrets, a seeded
 * call) with await takeBackup(dbPath) -> the restored database while the
 * load keeps calling (a failed request fails the test), then starts a
 * server on that: the call, the API key and the signing key are there. */
async function backupWhileServing(takeBackup) {
  const env = { ATHOS_MASTER_KEY_FILE: keyFile('hex') };
  const dbPath = freshDb();
  const server = await serve(dbPath, env);
  const T = h.cli(['tenant', 'create', '--name', 'backed-up'], { dbPath, env });
  const seeded = seedEndedCall(dbPath, T.tenantId);
  let stop = false;
  let served = 0;
  const load = (async () => {
    while (!stop) {
      await tokenWorks(server, T.apiKey);
      served++;
    }
  })();
  try {
    await h.eventually(() => assert.ok(served > 0));
    const restoredDb = await takeBackup(dbPath);
    const during = served;
    await h.eventually(() => assert.ok(served > during)); // it kept serving
    stop = true;
    await load;

    const restored = await serve(restoredDb, env);
    const r = await h.api(restored, 'GET', `/calls/${seeded.id}`, { apiKey: T.apiKey });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, seeded.id);
    const calls = Number(h.sqlite(restoredDb, 'SELECT count(*) FROM calls;').trim());
    assert.ok(calls >= 2, `${calls} calls in the copy`); // the seeded one and redeemed ones
    await tokenWorks(restored, T.apiKey);
  } finally {
    stop = true;
    await load.catch(() => {});
  }
}

/* -------------------------------------------------------------- cases */

describe('secrets at rest', () => {
  test('with a master key the secret columns hold no plaintext; webhooks and JWTs verify; rotate-master keeps them working', async () => {
    const k1 = keyFile('hex');
    const k2 = keyFile('base64');
    const dbPath = freshDb();
    const rx = await startReceiver();
    const server = await serve(dbPath, { ATHOS_MASTER_KEY_FILE: k1 });
    const env1 = { ATHOS_MASTER_KEY_FILE: k1 };
    const T = h.cli(['tenant', 'create', '--name', 'sealed', '--webhook-url', rx.url], { dbPath, env: env1 });

    const stored = storedSecrets(dbPath);
    assert.equal(stored.length, 2); // one webhook secret, one signing key
    for (const v of stored) {
      assert.match(v, /^enc1:[A-Za-z0-9+/=]+$/);
      assert.ok(!v.includes(T.webhookSecret));
    }
    if (!h.isPostgres) {
      // nor anywhere in the files on disk
      const bytes = ['', '-wal'].map((x) => (fs.existsSync(dbPath + x) ? fs.readFileSync(dbPath + x) : Buffer.alloc(0)));
      for (const b of bytes) assert.equal(b.indexOf(T.webhookSecret), -1);
    }
    await tokenWorks(server, T.apiKey);
    await webhookVerifies(rx, seedEndedCall(dbPath, T.tenantId), T.webhookSecret);
    const before = await h.mintToken(server, T.apiKey); // redeemed after the rotation
    await server.stop();

    const rotated = h.cli(['keys', 'rotate-master', '--new-key-file', k2], { dbPath, env: env1 });
    assert.deepEqual(rotated, { rotated: true, secrets: 2 });
    const after = storedSecrets(dbPath);
    assert.equal(after.length, 2);
    for (const v of after) {
      assert.match(v, /^enc1:/);
      assert.ok(!stored.includes(v)); // re-encrypted
    }
    const msg = await serveFails(dbPath, env1);
    assert.match(msg, /master key does not decrypt the stored secrets/);

    await server.restart({ env: { ATHOS_ALLOW_PRIVATE_WEBHOOKS: '1', ATHOS_MASTER_KEY_FILE: k2 } });
    await h.redeem(server, before.token);
    await tokenWorks(server, T.apiKey);
    await webhookVerifies(rx, seedEndedCall(dbPath, T.tenantId), T.webhookSecret);
    // a rotated webhook secret is sealed under the new key too
    const { webhookSecret } = h.cli(['webhook', 'rotate-secret', T.tenantId], { dbPath, env: { ATHOS_MASTER_KEY_FILE: k2 } });
    assert.ok(storedSecrets(dbPath).every((v) => v.startsWith('enc1:') && !v.includes(webhookSecret)));
  });

  test('a legacy plaintext database is sealed at the first start with a key; a raw 32-byte key file works', async () => {
    const dbPath = freshDb();
    const rx = await startReceiver();
    const server = await serve(dbPath);
    assert.match(server.logs(), /ATHOS_MASTER_KEY_FILE is not set/);
    const T = h.cli(['tenant', 'create', '--name', 'legacy', '--webhook-url', rx.url], { dbPath });
    assert.ok(storedSecrets(dbPath).includes(T.webhookSecret)); // the plaintext, before
    await server.stop();

    const k = keyFile('raw');
    await server.restart({ env: { ATHOS_ALLOW_PRIVATE_WEBHOOKS: '1', ATHOS_MASTER_KEY_FILE: k } });
    assert.match(server.logs(), /sealed 2 plaintext secret\(s\) under the master key/);
    const stored = storedSecrets(dbPath);
    assert.equal(stored.length, 2);
    assert.ok(stored.every((v) => v.startsWith('enc1:')));
    await tokenWorks(server, T.apiKey);
    await webhookVerifies(rx, seedEndedCall(dbPath, T.tenantId), T.webhookSecret);
    await server.stop();
    // and now a start without the key is refused
    assert.match(await serveFails(dbPath, {}), /encrypted secrets .* no master key is set/);
  });

  test('a world-readable or malformed key file fails start-up with a clear message', async () => {
    const dbPath = freshDb();
    assert.match(await serveFails(dbPath, { ATHOS_MASTER_KEY_FILE: keyFile('hex', 0o644) }), /readable or writable by other users/);
    const bad = path.join(tmp, 'short.key');
    fs.writeFileSync(bad, 'abcdef\n', { mode: 0o600 });
    assert.match(await serveFails(dbPath, { ATHOS_MASTER_KEY_FILE: bad }), /must hold 32 bytes/);
    assert.match(await serveFails(dbPath, { ATHOS_MASTER_KEY_FILE: path.join(tmp, 'missing.key') }), /cannot open the master key file/);
  });
});

describe('SQLite files and backup', { skip: h.isPostgres && 'SQLite only (PostgreSQL: pg_dump, see docs/internals/store.md)' }, () => {
  test('the database, WAL and SHM files are created with mode 0600', async () => {
    const dbPath = freshDb();
    const old = process.umask(0o022);
    try {
      const server = await serve(dbPath);
      const T = h.cli(['tenant', 'create', '--name', 'modes'], { dbPath });
      await tokenWorks(server, T.apiKey);
      for (const x of ['', '-wal', '-shm']) {
        const mode = fs.statSync(dbPath + x).mode & 0o777;
        assert.equal(mode, 0o600, `${path.basename(dbPath + x)} is ${mode.toString(8)}`);
      }
    } finally {
      process.umask(old);
    }
  });

  test('athos backup copies a live database while it serves; a server on the copy has the calls and keys', async () => {
    await backupWhileServing(async (dbPath) => {
      const copy = path.join(path.dirname(dbPath), 'copy.db');
      const out = await run(h.ATHOS_BIN, ['backup', copy], { ATHOS_DATABASE_URL: `sqlite:${dbPath}` });
      assert.deepEqual(JSON.parse(out), { backup: copy });
      assert.equal(fs.statSync(copy).mode & 0o777, 0o600);
      // an existing file is never overwritten
      assert.throws(() => h.cli(['backup', copy], { dbPath }), /File exists/);
      return copy;
    });
  });
});

describe('backup on PostgreSQL', { skip: !h.isPostgres && 'PostgreSQL only' }, () => {
  test('athos backup points at pg_dump; pg_dump of a live database restores into a working server', async () => {
    await backupWhileServing(async (dbPath) => {
      assert.throws(() => h.cli(['backup', path.join(tmp, 'x.db')], { dbPath }), /pg_dump/);
      const dump = path.join(tmp, 'athos.dump');
      await run('pg_dump', ['--format=custom', `--file=${dump}`, dbPath]);
      const restored = h.newPgDatabase();
      await run('pg_restore', ['--no-owner', `--dbname=${restored}`, dump]);
      return restored;
    });
  });
});
