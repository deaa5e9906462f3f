'use strict';
/*
 * harness.js — shared helpers for the black-box API tests. Everything here
 * drives the real `athos` binary from the outside: it spawns `athos serve`
 * on a temp SQLite database and a free loopback port, runs the admin CLI
 * against the same database, and talks HTTP with global fetch.
 *
 * PostgreSQL: when ATHOS_TEST_DATABASE_URL is a postgres:// URL (see
 * scripts/pg-test.sh), every server gets a fresh database of its own on
 * that cluster instead of a SQLite file; `dbPath` is then that database's
 * URL, and the seeding/inspection helpers run the same SQL through psql
 * (".mode json" and ".mode tabs" are emulated). Databases are dropped at exit.
 *
 * Reverse proxy: when ATHOS_TEST_PROXY is set (scripts/nginx-test.sh sets
 * it), it is a command, split on spaces, that every server gets in front of
 * it: run as `CMD... LISTEN_PORT UPSTREAM_PORT`, it prints its base URL
 * (e.g. https://127.0.0.1:LISTEN_PORT) on its first line and serves until
 * killed. server.url, baseUrl, port and ATHOS_PUBLIC_URL are then the
 * proxy's; athos itself listens on server.listenPort.
 *
 *   const h = require('./harness');
 *
 *   h.REPO, h.ATHOS_BIN, h.CONTRACT          paths (ATHOS_BIN env overrides the binary)
 *   await h.startServer({env, dbPath, port})  -> server:
 *       server.url       'http://127.0.0.1:PORT'
 *       server.baseUrl   url + '/api/external/v1'
 *       server.dbPath    the SQLite file (or the postgres:// URL); server.dir its temp directory
 *       server.proc      the ChildProcess; server.logs() its stderr so far
 *       await server.stop()     SIGTERM, waits for exit, returns {code, signal}
 *       await server.kill9()    SIGKILL, waits for exit
 *       await server.restart({env})  starts again on the same db and port
 *     Every server still running when the test process exits is SIGKILLed;
 *     temp directories are removed then too (ATHOS_KEEP_TMP=1 keeps them).
 *   h.cli(args, {dbPath, env})        runs `athos ARGS`; returns the parsed JSON
 *                                     stdout (throws with stderr on failure)
 *   h.createTenant(server, {name, webhookUrl}) -> {tenantId, apiKey, webhookSecret}
 *   await h.api(server, method, path, {apiKey, token, headers, body, raw})
 *       -> {status, headers (a Headers), body (parsed JSON or null), text}
 *       path is relative to baseUrl unless it starts with 'http' or '//' (then
 *       '//x' means server.url + '/x'); body is JSON.stringify'd unless `raw`
 *       (a string/Buffer sent as is).
 *   await h.mintToken(server, apiKey, body)  -> {token, expiresAt}; throws unless 200
 *   await h.redeem(server, token, body)      -> RedeemSessionResponse; throws unless 200
 *                                              (body defaults to {drillKey:'ma-full-sale'})
 *   h.seedScoredCall(dbPath, tenantId, opts) -> {id, sessionId, ...row}   TEST ONLY:
 *       writes a scored call (and its turns) straight into the SQLite file with
 *       the sqlite3 CLI. tenantId is the public `ten_…` id. opts: id,
 *       externalUserId, externalAgencyId (null ok), drillKey, difficulty,
 *       personaName, status ('scored'), score (object), transcript
 *       ([{role, content}]), createdAt/startedAt/endedAt/scoredAt/updatedAt
 *       (ms or ISO string), durationSec.
 *   h.seedScoredCalls(dbPath, tenantId, [opts…]) -> [row…]  (one transaction)
 *   h.signingKeys(dbPath) -> [{kid, secret: Buffer}]  the JWT keys, read from the db
 *   h.sqlite(dbPath, sql)  runs SQL with the sqlite3 CLI, or psql for a postgres:// dbPath
 *   h.isPostgres, h.PG_URL  whether the suites run on PostgreSQL, and its URL
 *   h.pgAdmin(sql)          runs SQL on PG_URL's database as the cluster's superuser
 *   h.newPgDatabase()       a fresh database on that cluster (dropped at exit); its URL
 *   h.signJwt(header, payload, secret, alg='HS256') -> compact JWT (crafted tokens)
 *   h.decodeJwt(token) -> {header, payload}
 *   h.loadSchemas() -> {ajv, validate(name, data) -> [error strings],
 *                       assertSchema(name, data)}  contract components.schemas
 *   h.assertError(r, status, code)    r (from h.api) is that error: status, the
 *                                     contract envelope, X-Athos-Request-Id = body requestId
 *   h.assertRequestId(r)              the header is present, req_<uuid v4>; returns it
 *   await h.eventually(fn, ms=3000)   retries an async assertion until it passes
 *   h.REQUEST_ID_RE                   /^req_<uuid v4>$/
 */
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');

const REPO = path.resolve(__dirname, '..', '..');
const ATHOS_BIN = process.env.ATHOS_BIN || path.join(REPO, 'build', 'athos');
const CONTRACT = path.join(REPO, 'docs', 'contract', 'openapi.yaml');
const API_PREFIX = '/api/external/v1';
const REQUEST_ID_RE = /^req_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CALL_ID_RE = /^athos_call_[A-Za-z0-9_-]{21}$/;

const PG_URL = /^postgres(ql)?:\/\//.test(process.env.ATHOS_TEST_DATABASE_URL || '')
  ? process.env.ATHOS_TEST_DATABASE_URL
  : null;
const isPg = (db) => typeof db === 'string' && /^postgres(ql)?:\/\//.test(db);

const PROXY = process.env.ATHOS_TEST_PROXY ? process.env.ATHOS_TEST_PROXY.split(' ').filter(Boolean) : null;

const live = new Set(); // servers to kill at exit
const proxies = new Set(); // reverse proxies to kill at exit
const pgDatabases = new Set(); // databases to drop at exit
const tempDirs = new Set(); // temp directories to remove at exit

process.on('exit', () => {
  for (const s of live) {
    try { s.proc.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const p of proxies) {
    try { p.kill('SIGKILL'); } catch { /* gone */ }
  }
  if (!process.env.ATHOS_KEEP_TMP) {
    if (pgDatabases.size > 0) {
      const args = [];
      for (const d of pgDatabases) args.push('-c', `DROP DATABASE IF EXISTS ${d} WITH (FORCE)`);
      try { execFileSync('psql', ['-X', '-q', ...args, PG_URL], { stdio: 'ignore', timeout: 60_000 }); } catch { /* cluster gone */ }
    }
    for (const d of tempDirs) {
      try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* busy */ }
    }
  }
});

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function baseEnv(dbPath, extra) {
  const url = isPg(dbPath) ? dbPath : `sqlite:${dbPath}`;
  // Every suite drives the server from one loopback address at machine speed:
  // the per-IP rate limit is off unless a test sets it (abuse_quota.test.js).
  const env = { ATHOS_RATE_LIMIT_PER_IP: '0', ...process.env, ATHOS_DATABASE_URL: url, ...(extra || {}) };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

function waitExit(proc, ms) {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  }
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      try { proc.kill('SIGKILL'); } catch { /* gone */ }
    }, ms);
    proc.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal });
    });
  });
}

async function spawnServe(s, env) {
  if (!fs.existsSync(ATHOS_BIN)) throw new Error(`athos binary not found at ${ATHOS_BIN} (build it, or set ATHOS_BIN)`);
  const fullEnv = baseEnv(s.dbPath, {
    ATHOS_LISTEN: `127.0.0.1:${s.listenPort}`,
    ...(s.proxyUrl ? { ATHOS_PUBLIC_URL: s.proxyUrl } : {}),
    ATHOS_DRILLS_DIR: path.join(REPO, 'drills'),
    ATHOS_ALLOW_PRIVATE_WEBHOOKS: '1',
    // recordings in the test's own directory (on PostgreSQL the default,
    // beside no SQLite file, would be ./media)
    ATHOS_MEDIA_DIR: path.join(s.dir, 'media'),
    ...env,
  });
  const proc = spawn(ATHOS_BIN, ['serve'], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  s.proc = proc;
  s.stderr = '';
  const keep = (chunk) => {
    s.stderr += chunk.toString();
    if (s.stderr.length > 2_000_000) s.stderr = s.stderr.slice(-1_000_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  let exited = null;
  proc.once('exit', (code, signal) => { exited = { code, signal }; });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`athos serve exited early (${JSON.stringify(exited)}):\n${s.stderr.slice(-4000)}`);
    try {
      const r = await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`athos serve did not answer /healthz within 20 s:\n${s.stderr.slice(-4000)}`);
    }
    await sleep(50);
  }
}

/* Starts the ATHOS_TEST_PROXY command in front of s; resolves with its URL. */
function startProxy(s) {
  return freePort().then((listen) => new Promise((resolve, reject) => {
    const proc = spawn(PROXY[0], [...PROXY.slice(1), String(listen), String(s.listenPort)], { stdio: ['ignore', 'pipe', 'ignore'] });
    proxies.add(proc);
    let out = '';
    proc.once('exit', (code) => reject(new Error(`ATHOS_TEST_PROXY exited (${code}) before printing its URL`)));
    proc.once('error', reject);
    proc.stdout.on('data', (c) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      proc.stdout.destroy();
      proc.unref(); // the proxy must not keep the test process alive
      resolve(out.slice(0, nl).trim().replace(/\/+$/, ''));
    });
  }));
}

/* Starts `athos serve` on a temp database (or opts.dbPath) and a free port. */
async function startServer(opts = {}) {
  const sqliteFile = opts.dbPath && !isPg(opts.dbPath);
  const ownDir = !sqliteFile;
  const dir = sqliteFile ? path.dirname(opts.dbPath) : fs.mkdtempSync(path.join(os.tmpdir(), 'athos-test-'));
  if (ownDir) tempDirs.add(dir);
  const dbPath = opts.dbPath || (PG_URL ? newPgDatabase() : path.join(dir, 'athos.db'));
  const port = opts.port || (await freePort());
  const s = {
    dir,
    ownDir,
    port,
    listenPort: port,
    proxyUrl: null,
    dbPath,
    url: `http://127.0.0.1:${port}`,
    baseUrl: `http://127.0.0.1:${port}${API_PREFIX}`,
    env: opts.env || {},
    proc: null,
    stderr: '',
    logs() { return s.stderr; },
    async stop() {
      const r = await waitExit((s.proc.kill('SIGTERM'), s.proc), 10_000);
      live.delete(s);
      return r;
    },
    async kill9() {
      s.proc.kill('SIGKILL');
      const r = await waitExit(s.proc, 10_000);
      live.delete(s);
      return r;
    },
    async restart(o = {}) {
      if (s.proc && s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
      if (o.env) s.env = o.env;
      live.add(s);
      // the port may linger briefly after a kill: retry the bind a few times
      for (let i = 0; ; i++) {
        try {
          await spawnServe(s, s.env);
          return s;
        } catch (e) {
          if (i >= 5) throw e;
          await sleep(300);
        }
      }
    },
  };
  if (PROXY) {
    s.proxyUrl = await startProxy(s);
    s.url = s.proxyUrl;
    s.baseUrl = s.proxyUrl + API_PREFIX;
    s.port = Number(new URL(s.proxyUrl).port);
  }
  live.add(s);
  await spawnServe(s, s.env);
  return s;
}

/* Runs `athos ARGS` against the database; returns the parsed JSON stdout. */
function cli(args, opts = {}) {
  if (!opts.dbPath) throw new Error('cli: dbPath is required');
  let out;
  try {
    out = execFileSync(ATHOS_BIN, args, {
      env: baseEnv(opts.dbPath, opts.env),
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    throw new Error(`athos ${args.join(' ')} failed (status ${e.status}): ${e.stderr || ''}${e.stdout || ''}`);
  }
  const text = out.trim();
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`athos ${args.join(' ')} printed non-JSON: ${text}`);
  }
}

function createTenant(server, { name = `tenant-${crypto.randomBytes(3).toString('hex')}`, webhookUrl } = {}) {
  const args = ['tenant', 'create', '--name', name];
  if (webhookUrl) args.push('--webhook-url', webhookUrl);
  return cli(args, { dbPath: server.dbPath });
}

async function api(server, method, p, opts = {}) {
  let url;
  if (/^https?:/.test(p)) url = p;
  else if (p.startsWith('//')) url = server.url + p.slice(1);
  else url = server.baseUrl + p;
  const headers = { ...(opts.headers || {}) };
  const cred = opts.apiKey || opts.token;
  if (cred && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) {
    headers.Authorization = `Bearer ${cred}`;
  }
  let body;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  const r = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeout || 15_000) });
  const text = await r.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { status: r.status, headers: r.headers, body: parsed, text };
}

async function mintToken(server, apiKey, body = { externalUserId: 'rep_test' }) {
  const r = await api(server, 'POST', '/session', { apiKey, body });
  if (r.status !== 200) throw new Error(`mint failed: ${r.status} ${r.text}`);
  return r.body;
}

async function redeem(server, token, body = { drillKey: 'ma-full-sale' }) {
  const r = await api(server, 'POST', '/roleplay/session', { token, body });
  if (r.status !== 200) throw new Error(`redeem failed: ${r.status} ${r.text}`);
  return r.body;
}

/* ------------------------------------------------------------ seeding */

function sqlStr(v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return `'${String(v).replace(/'/g, "''")}'`;
}

function ms(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`bad time ${v}`);
  return t;
}

function randomId(n) {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const b = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += A[b[i] & 63];
  return s;
}

/* ---------------------------------------------------- PostgreSQL */

function psql(url, sql, args = []) {
  return execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...args, url], {
    input: sql,
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/* A fresh database on the cluster of ATHOS_TEST_DATABASE_URL; its URL. */
function newPgDatabase() {
  const name = `athos_t_${crypto.randomBytes(6).toString('hex')}`;
  psql(PG_URL, `CREATE DATABASE ${name};`);
  pgDatabases.add(name);
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

function pgAdmin(sql) {
  if (!PG_URL) throw new Error('pgAdmin: ATHOS_TEST_DATABASE_URL is not a postgres:// URL');
  return psql(PG_URL, sql, ['-A', '-t']);
}

/* The sqlite3 CLI's input as psql runs it: dot-commands are dropped except
 * ".mode json" (rows as one JSON array, nothing for no rows, as sqlite3
 * prints) and ".mode tabs"; BEGIN IMMEDIATE is BEGIN. */
function pgSql(url, text) {
  let mode = 'list';
  const lines = [];
  for (const line of text.split('\n')) {
    const m = /^\.(\w+)\s*(.*)$/.exec(line.trim());
    if (m) {
      if (m[1] === 'mode') mode = m[2].trim();
      continue;
    }
    lines.push(line);
  }
  let sql = lines.join('\n').trim().replace(/\bBEGIN IMMEDIATE\b/g, 'BEGIN');
  if (mode === 'json') {
    sql = sql.replace(/;\s*$/, '');
    const out = psql(url, `SELECT coalesce(json_agg(t), '[]'::json) FROM (${sql}) t;`, ['-A', '-t']).trim();
    return out === '[]' ? '' : `${out}\n`;
  }
  return psql(url, sql, ['-A', '-t', '-F', mode === 'tabs' ? '\t' : '|']);
}

/* Runs SQL on the test database: the sqlite3 CLI on a file, psql on a
 * postgres:// URL. */
function sqlite(dbPath, sql) {
  if (isPg(dbPath)) return pgSql(dbPath, sql);
  return execFileSync('sqlite3', ['-batch', dbPath], {
    input: `.timeout 10000\n${sql}\n`,
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function seedScoredCalls(dbPath, tenantId, list) {
  const rows = [];
  const stmts = ['BEGIN IMMEDIATE;'];
  const now = Date.now();
  for (const o of list) {
    const endedAt = ms(o.endedAt) ?? now - 60_000;
    const durationSec = o.durationSec ?? 37;
    const startedAt = o.startedAt === null ? null : ms(o.startedAt) ?? endedAt - durationSec * 1000;
    const row = {
      id: o.id || `athos_call_${randomId(21)}`,
      sessionId: o.sessionId || `ext_${randomId(21)}`,
      source: o.source || 'roleplay',
      externalUserId: o.externalUserId ?? 'rep_seed',
      externalAgencyId: o.externalAgencyId === undefined ? 'agency_seed' : o.externalAgencyId,
      drillKey: o.drillKey || 'ma-full-sale',
      difficulty: o.difficulty || 'Advanced',
      personaName: o.personaName || 'James Carter',
      status: o.status || 'scored',
      createdAt: ms(o.createdAt) ?? (startedAt ?? endedAt) - 5000,
      startedAt,
      endedAt,
      scoredAt: o.scoredAt === null ? null : ms(o.scoredAt) ?? endedAt + 30_000,
      durationSec,
      score: o.score === undefined
        ? { overallScore: 82, summary: 'Seeded summary.', feedback: 'Seeded feedback.' }
        : o.score,
      transcript: o.transcript || [
        { role: 'assistant', content: 'Hey.' },
        { role: 'user', content: 'Hi, how are you?' },
      ],
    };
    row.updatedAt = ms(o.updatedAt) ?? (row.scoredAt ?? endedAt) + 100;
    stmts.push(
      'INSERT INTO calls(public_id, session_id, tenant_id, source, external_user_id, external_agency_id,' +
        ' drill_key, difficulty, persona_index, persona_name, seed, status, score_json, created_at,' +
        ' started_at, ended_at, scored_at, updated_at, duration_sec) VALUES (' +
        [
          sqlStr(row.id), sqlStr(row.sessionId),
          `(SELECT id FROM tenants WHERE public_id = ${sqlStr(tenantId)})`,
          sqlStr(row.source), sqlStr(row.externalUserId), sqlStr(row.externalAgencyId),
          sqlStr(row.drillKey), sqlStr(row.difficulty), 0, sqlStr(row.personaName),
          Math.floor(Math.random() * 1e9), sqlStr(row.status),
          sqlStr(row.score === null ? null : JSON.stringify(row.score)),
          row.createdAt, sqlStr(row.startedAt), row.endedAt, sqlStr(row.scoredAt), row.updatedAt,
          row.durationSec,
        ].join(', ') +
        ');',
    );
    row.transcript.forEach((t, i) => {
      stmts.push(
        `INSERT INTO call_turns(call_id, idx, role, content, at_ms) VALUES ((SELECT id FROM calls WHERE public_id = ${sqlStr(row.id)}), ${i}, ${sqlStr(t.role)}, ${sqlStr(t.content)}, ${t.atMs ?? i * 1000});`,
      );
    });
    rows.push(row);
  }
  stmts.push('COMMIT;');
  const check = sqlite(dbPath, `SELECT count(*) FROM tenants WHERE public_id = ${sqlStr(tenantId)};`).trim();
  if (check !== '1') throw new Error(`seed: no tenant ${tenantId} in ${dbPath}`);
  sqlite(dbPath, stmts.join('\n'));
  return rows;
}

function seedScoredCall(dbPath, tenantId, opts = {}) {
  return seedScoredCalls(dbPath, tenantId, [opts])[0];
}

/* ---------------------------------------------------------------- JWT */

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

function signJwt(header, payload, secret, alg = 'HS256') {
  const h = b64url(JSON.stringify(header));
  const p = b64url(JSON.stringify(payload));
  const algo = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const sig = algo ? crypto.createHmac(algo, secret).update(`${h}.${p}`).digest() : Buffer.alloc(0);
  return `${h}.${p}.${b64url(sig)}`;
}

function decodeJwt(token) {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
  };
}

function signingKeys(dbPath) {
  const out = sqlite(dbPath, '.mode tabs\nSELECT kid, secret_hex FROM signing_keys ORDER BY created_at DESC;');
  return out.trim().split('\n').filter(Boolean).map((line) => {
    const [kid, hex] = line.split('\t');
    return { kid, secret: Buffer.from(hex, 'hex') };
  });
}

/* ------------------------------------------------------------ schemas */

let schemasCache = null;

function loadSchemas() {
  if (schemasCache) return schemasCache;
  const YAML = require('yaml');
  const Ajv2020 = require('ajv/dist/2020').default;
  const addFormats = require('ajv-formats').default;
  const doc = YAML.parse(fs.readFileSync(CONTRACT, 'utf8'));
  const rewrite = (v) => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') {
      const o = {};
      for (const [k, x] of Object.entries(v)) {
        o[k] = k === '$ref' && typeof x === 'string' ? x.replace('#/components/schemas/', '#/$defs/') : rewrite(x);
      }
      return o;
    }
    return v;
  };
  const ID = 'https://athos.test/contract.json';
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addKeyword('example');
  addFormats(ajv);
  ajv.addSchema({ $id: ID, $defs: rewrite(doc.components.schemas) });
  const names = Object.keys(doc.components.schemas);
  const get = (name) => {
    if (!names.includes(name)) throw new Error(`no schema ${name} in the contract`);
    return ajv.getSchema(`${ID}#/$defs/${name}`);
  };
  for (const n of names) get(n); // compile all now: a broken contract fails early
  schemasCache = {
    ajv,
    names,
    validate(name, data) {
      const v = get(name);
      return v(data) ? [] : v.errors.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    },
    assertSchema(name, data) {
      const errs = schemasCache.validate(name, data);
      assert.deepEqual(errs, [], `body does not match ${name}: ${JSON.stringify(data)}`);
    },
  };
  return schemasCache;
}

/* --------------------------------------------------------------- misc */

function assertRequestId(r) {
  const id = r.headers.get('x-athos-request-id');
  assert.ok(id, `no X-Athos-Request-Id header on a ${r.status} response`);
  assert.match(id, REQUEST_ID_RE);
  return id;
}

function assertError(r, status, code) {
  const what = `expected ${status} ${code}, got ${r.status} ${r.text.slice(0, 500)}`;
  assert.equal(r.status, status, what);
  assert.ok(r.body && r.body.error, what);
  assert.equal(r.body.error.code, code, what);
  assert.match(r.headers.get('content-type') || '', /^application\/json/i, 'error content-type');
  loadSchemas().assertSchema('Error', r.body);
  assert.equal(typeof r.body.error.message, 'string');
  assert.ok(r.body.error.message.length > 0, 'empty error message');
  const id = assertRequestId(r);
  assert.equal(r.body.error.requestId, id, 'body.error.requestId differs from X-Athos-Request-Id');
}

async function eventually(fn, msBudget = 3000) {
  const deadline = Date.now() + msBudget;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
}

module.exports = {
  REPO,
  ATHOS_BIN,
  CONTRACT,
  API_PREFIX,
  REQUEST_ID_RE,
  CALL_ID_RE,
  startServer,
  cli,
  createTenant,
  api,
  mintToken,
  redeem,
  seedScoredCall,
  seedScoredCalls,
  signingKeys,
  signJwt,
  decodeJwt,
  loadSchemas,
  eventually,
  assertError,
  assertRequestId,
  sleep,
  freePort,
  sqlite,
  isPostgres: PG_URL !== null,
  PG_URL,
  pgAdmin,
  newPgDatabase,
};
