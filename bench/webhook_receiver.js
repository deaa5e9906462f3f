'use strict';
/*
 * webhook_receiver.js — the benchmark's webhook endpoint: a plain node
 * HTTP server on 127.0.0.1 that answers 204 at once, keeps connections
 * alive, and reports each arrival (webhook-id, callId, time) to its parent
 * over IPC in small batches. It verifies the Standard Webhooks signature
 * of a sample of requests (the first 50, then 1 in 100) so a benchmark
 * never counts deliveries a real receiver would reject.
 *
 *   node bench/webhook_receiver.js            (forked by bench/webhooks.js)
 *   parent -> {secret}                        the tenant's whsec_… for verification
 *   child  -> {ready, port} then {arrivals: [[webhookId, callId, tMs], …], bad}
 *
 * Times are performance.timeOrigin + performance.now() (sub-millisecond,
 * on the same clock as the parent's).
 */
const http = require('node:http');
const { performance } = require('node:perf_hooks');

let Webhook = null;
try {
  ({ Webhook } = require('standardwebhooks'));
} catch {
  /* verification is skipped when the package is not on NODE_PATH */
}

const now = () => performance.timeOrigin + performance.now();
let verifier = null;
let count = 0;
let bad = 0;
let pending = [];

process.on('message', (m) => {
  if (m && m.secret && Webhook) verifier = new Webhook(m.secret);
  if (m && m.exit) process.exit(0);
});

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const t = now();
    const body = Buffer.concat(chunks).toString('utf8');
    res.writeHead(204);
    res.end();
    count++;
    let callId = null;
    try {
      callId = JSON.parse(body).data.callId;
    } catch {
      bad++;
    }
    if (verifier && (count <= 50 || count % 100 === 0)) {
      try {
        verifier.verify(body, req.headers);
      } catch {
        bad++;
      }
    }
    pending.push([req.headers['webhook-id'], callId, t]);
  });
});
server.keepAliveTimeout = 60_000;

setInterval(() => {
  if (pending.length === 0) return;
  process.send({ arrivals: pending, bad });
  pending = [];
}, 20).unref();

server.listen(0, '127.0.0.1', () => {
  process.send({ ready: true, port: server.address().port });
});
process.on('disconnect', () => process.exit(0));
