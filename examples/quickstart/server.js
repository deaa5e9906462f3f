// The Athos Quickstart made real: a reseller's tiny backend (node:http, no framework).
//
//   POST /athos/token     mints a single-use session token with the API key (server side only)
//   POST /webhooks/athos  verifies the call.scored webhook over the RAW body (Standard Webhooks),
//                         then fetches GET /calls/{callId} with the API key and keeps it in memory
//   GET  /calls/latest    the last scored call, 204 before the first (the page polls it for the score)
//   GET  /calls/{id}/recording  the call's recording (its audioUrl), fetched with the API key and
//                         streamed through, Range included so the page's <audio> can seek
//   GET  /config.json     {athosBaseUrl}: where the SDK redeems the token (self-hosting)
//   GET  /, /sdk/*.js     the practice page and the browser SDK (../../sdk)
//
// Environment: ATHOS_API_KEY, ATHOS_WHSEC, ATHOS_BASE_URL (default production), PORT (default 3000),
// HOST (default 127.0.0.1).
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SDK_DIR = path.resolve(HERE, '..', '..', 'sdk');
const BASE_URL = (process.env.ATHOS_BASE_URL || 'https://app.useathos.ai/api/external/v1').replace(/\/+$/, '');
const API_KEY = process.env.ATHOS_API_KEY;
const WHSEC = process.env.ATHOS_WHSEC;
const PORT = Number(process.env.PORT || 3000);
const HOST = process.env.HOST || '127.0.0.1';

if (!API_KEY || !WHSEC) {
  console.error('Set ATHOS_API_KEY and ATHOS_WHSEC (and ATHOS_BASE_URL when self-hosting).');
  process.exit(1);
}

const webhook = new Webhook(WHSEC);
const scoredCalls = []; // newest last; a real app would use its database

function sendJson(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readRaw(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

async function sendFile(res, file, type) {
  try {
    const body = await fs.readFile(file);
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
  } catch {
    sendJson(res, 404, { error: 'not found' });
  }
}

/* POST /athos/token — in a real app the rep comes from your own login session. */
async function mintToken(req, res) {
  const r = await fetch(`${BASE_URL}/session`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ externalUserId: 'rep_8842', externalAgencyId: 'agency_chicago' }),
  });
  if (!r.ok) return sendJson(res, 502, await r.json());
  sendJson(res, 200, await r.json()); // { token, expiresAt }
}

/* POST /webhooks/athos — verify first (raw body!), then fetch the detail over REST. */
async function onWebhook(req, res) {
  const raw = await readRaw(req);
  let event;
  try {
    event = webhook.verify(raw, {
      'webhook-id': req.headers['webhook-id'],
      'webhook-timestamp': req.headers['webhook-timestamp'],
      'webhook-signature': req.headers['webhook-signature'],
    });
  } catch (e) {
    console.warn('webhook rejected:', e.message);
    return sendJson(res, 400, { error: 'invalid signature' });
  }
  if (event.type !== 'call.scored') return sendJson(res, 200, { ignored: event.type });
  const r = await fetch(`${BASE_URL}/calls/${encodeURIComponent(event.data.callId)}`, {
    headers: { Authorization: `Bearer ${API_KEY}` },
  });
  if (!r.ok) {
    console.warn('GET /calls failed:', r.status, await r.text());
    return sendJson(res, 503, { error: 'could not fetch the call; retry later' }); // Athos retries
  }
  const call = await r.json();
  if (!scoredCalls.some((c) => c.id === call.id)) scoredCalls.push(call); // webhook-id retries are idempotent
  console.log(`scored ${call.id}: ${call.score.overallScore}`);
  sendJson(res, 200, { ok: true });
}

/* GET /calls/{id}/recording — only for calls this backend saw scored (a real app checks that
 * the signed-in user may hear it). The key stays here; bytes and range headers pass through. */
async function proxyRecording(req, res, id) {
  const call = scoredCalls.find((c) => c.id === id);
  if (!call || !call.audioUrl) return sendJson(res, 404, { error: 'no recording' });
  const headers = { Authorization: `Bearer ${API_KEY}` };
  if (req.headers.range) headers.Range = req.headers.range;
  const r = await fetch(`${BASE_URL}/calls/${encodeURIComponent(id)}/recording`, { headers });
  const out = { 'Cache-Control': 'no-store' };
  for (const h of ['content-type', 'content-length', 'content-range', 'accept-ranges']) {
    if (r.headers.has(h)) out[h] = r.headers.get(h);
  }
  res.writeHead(r.status, out);
  if (!r.body) return res.end();
  const reader = r.body.getReader();
  req.on('close', () => reader.cancel().catch(() => {})); // the player seeked or left
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

const SDK_FILES = new Set(['/sdk/index.js', '/sdk/pcm.js']);

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (req.method === 'POST' && url.pathname === '/athos/token') return await mintToken(req, res);
    if (req.method === 'POST' && url.pathname === '/webhooks/athos') return await onWebhook(req, res);
    if (req.method === 'GET' && url.pathname === '/calls/latest') {
      const latest = scoredCalls[scoredCalls.length - 1];
      if (!latest) return res.writeHead(204).end(); // nothing scored yet
      return sendJson(res, 200, latest);
    }
    const rec = /^\/calls\/([A-Za-z0-9_-]{1,100})\/recording$/.exec(url.pathname);
    if (req.method === 'GET' && rec) return await proxyRecording(req, res, rec[1]);
    if (req.method === 'GET' && url.pathname === '/config.json') return sendJson(res, 200, { athosBaseUrl: BASE_URL });
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
      return await sendFile(res, path.join(HERE, 'index.html'), 'text/html; charset=utf-8');
    }
    if (req.method === 'GET' && SDK_FILES.has(url.pathname)) {
      return await sendFile(res, path.join(SDK_DIR, path.basename(url.pathname)), 'text/javascript; charset=utf-8');
    }
    sendJson(res, 404, { error: 'not found' });
  } catch (e) {
    console.error(e);
    if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
  }
});

server.listen(PORT, HOST, () => {
  console.log(`quickstart listening on http://${HOST}:${PORT} (Athos at ${BASE_URL})`);
});
