'use strict';
// The OpenAPI document (docs/contract/openapi.yaml): served by the server
// byte for byte, valid for a real OpenAPI 3.1 validator, and true to the
// server — every route it answers is documented with the methods it allows,
// the documented limits and error statuses are the ones it enforces, and a
// real call's score and call.scored webhook match the documented schemas.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const YAML = require('yaml');
const WebSocket = require('ws');
const { Webhook } = require('standardwebhooks');
const { validate: validateOpenApi } = require('@readme/openapi-parser');
const h = require('./harness');

const FILE = fs.readFileSync(h.CONTRACT);
const DOC = YAML.parse(FILE.toString('utf8'));
const schemas = h.loadSchemas();
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

let server;
let tenant;
const receiver = { requests: [], waiters: [] };

before(async () => {
  receiver.http = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      receiver.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
      for (const w of receiver.waiters.splice(0)) w();
    });
  });
  await new Promise((resolve) => receiver.http.listen(0, '127.0.0.1', resolve));
  server = await h.startServer();
  tenant = h.createTenant(server, {
    name: 'OpenAPI tenant',
    webhookUrl: `http://127.0.0.1:${receiver.http.address().port}/hooks`,
  });
});

after(async () => {
  if (server) await server.stop();
  await new Promise((resolve) => receiver.http.close(resolve));
});

/* The documented operation for (path template, method), or undefined. */
function operation(template, method) {
  return DOC.paths[template] && DOC.paths[template][method.toLowerCase()];
}

/* Asserts r is an error the operation documents: its status is listed and
 * the body is the contract's envelope with that code. */
function assertDocumentedError(r, template, method, status, code) {
  h.assertError(r, status, code);
  schemas.assertSchema('Error', r.body);
  const op = operation(template, method);
  assert.ok(op, `${method} ${template} is not documented`);
  assert.ok(String(status) in op.responses, `${method} ${template} does not document ${status}`);
}

describe('the document', () => {
  test('is a valid OpenAPI 3.1 document (with a call.scored webhook)', async () => {
    assert.equal(DOC.openapi, '3.1.0');
    const result = await validateOpenApi(structuredClone(DOC));
    assert.deepEqual(result.errors || [], [], JSON.stringify(result.errors));
    assert.equal(result.valid, true);
    assert.ok(DOC.webhooks['call.scored'].post, 'no call.scored webhook');
  });

  test('the validator is real: it rejects a broken reference and a missing field', async () => {
    const dangling = structuredClone(DOC);
    dangling.components.schemas.Score.properties.metrics.$ref = '#/components/schemas/NoSuchSchema';
    assert.equal((await validateOpenApi(dangling)).valid, false);
    const untitled = structuredClone(DOC);
    delete untitled.info.title;
    assert.equal((await validateOpenApi(untitled)).valid, false);
  });

  test('every $ref of the document resolves', () => {
    const refs = [];
    (function walk(x) {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') {
        for (const [k, v] of Object.entries(x)) {
          if (k === '$ref') refs.push(v);
          else walk(v);
        }
      }
    })(DOC);
    assert.ok(refs.length > 20);
    for (const ref of refs) {
      const target = ref.replace(/^#\//, '').split('/').reduce((o, k) => (o ? o[k] : undefined), DOC);
      assert.ok(target, `${ref} does not resolve`);
    }
  });
});

describe('GET /openapi.yaml and /openapi.json', () => {
  test('the YAML is the repository file, byte for byte, without authentication', async () => {
    const r = await fetch(`${server.baseUrl}/openapi.yaml`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/yaml');
    h.assertRequestId({ headers: r.headers, status: r.status });
    const body = Buffer.from(await r.arrayBuffer());
    assert.ok(body.equals(FILE), 'the served YAML differs from docs/contract/openapi.yaml');
  });

  test('the JSON is the same document, and validates too', async () => {
    const r = await fetch(`${server.baseUrl}/openapi.json`, { headers: { Authorization: 'Bearer not-a-key' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    h.assertRequestId({ headers: r.headers, status: r.status });
    const doc = await r.json();
    assert.deepEqual(doc, DOC);
    assert.equal((await validateOpenApi(doc)).valid, true);
  });

  test('both are documented in the document itself, without security', () => {
    for (const p of ['/openapi.json', '/openapi.yaml']) {
      const op = operation(p, 'get');
      assert.ok(op, `${p} is not documented`);
      assert.deepEqual(op.security, []);
    }
  });

  test('other methods get 405 with Allow: GET, HEAD; a GET with a body is 413', async () => {
    const r = await h.api(server, 'POST', '/openapi.json', { body: {} });
    h.assertError(r, 405, 'INVALID_REQUEST');
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    // fetch sends no body with GET, nor does node:http without a Content-Length
    const res = await new Promise((resolve, reject) => {
      const req = http.request(`${server.baseUrl}/openapi.json`, { method: 'GET', headers: { 'content-type': 'text/plain', 'content-length': '1' } }, (rs) => {
        const chunks = [];
        rs.on('data', (c) => chunks.push(c));
        rs.on('end', () => resolve({ status: rs.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      });
      req.on('error', reject);
      req.end('x');
    });
    assert.equal(res.status, 413);
    assert.equal(res.body.error.code, 'INVALID_REQUEST');
  });
});

describe('the paths match the server', () => {
  const concrete = (template) => template.replace('{callId}', 'athos_call_AAAAAAAAAAAAAAAAAAAAA');

  test('every documented operation is routed (never 404/405 without credentials)', async () => {
    let n = 0;
    for (const [template, item] of Object.entries(DOC.paths)) {
      for (const method of METHODS.filter((m) => item[m])) {
        const r = await h.api(server, method.toUpperCase(), concrete(template), method === 'post' ? { body: {} } : {});
        assert.ok(![404, 405].includes(r.status), `${method.toUpperCase()} ${template} answered ${r.status}`);
        assert.ok(String(r.status) in item[method].responses, `${method.toUpperCase()} ${template}: ${r.status} is not documented`);
        n++;
      }
    }
    assert.ok(n >= 7, `only ${n} operations`);
  });

  test('a method a path does not document is 405, and Allow lists exactly the documented ones (and HEAD with GET)', async () => {
    for (const [template, item] of Object.entries(DOC.paths)) {
      const documented = METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
      if (documented.includes('GET') && !documented.includes('HEAD')) documented.push('HEAD'); // every GET route answers HEAD
      const other = ['DELETE', 'PUT', 'PATCH'].find((m) => !documented.includes(m));
      const r = await h.api(server, other, concrete(template));
      h.assertError(r, 405, 'INVALID_REQUEST');
      const allow = r.headers.get('allow').split(/,\s*/).sort();
      assert.deepEqual(allow, documented.sort(), `${template}: Allow ${r.headers.get('allow')}`);
    }
  });

  test('an unknown path is 404 INVALID_REQUEST with the UnknownEndpoint shape', async () => {
    const r = await h.api(server, 'GET', '/no-such-endpoint');
    h.assertError(r, 404, 'INVALID_REQUEST');
    assert.ok(DOC.components.responses.UnknownEndpoint);
    assert.ok(DOC.components.responses.MethodNotAllowed.headers.Allow);
  });
});

describe('the documented limits are the enforced ones', () => {
  const maxBody = 64 * 1024;

  test('body size: 64 KiB is read, one byte more is 413 (documented on both POSTs)', async () => {
    assert.match(DOC.components.responses.PayloadTooLarge.description, /64 KiB/);
    const json = '{"externalUserId":"rep_limits"}';
    const fits = json + ' '.repeat(maxBody - json.length);
    const ok = await h.api(server, 'POST', '/session', { apiKey: tenant.apiKey, raw: fits, headers: { 'content-type': 'application/json' } });
    assert.equal(ok.status, 200, ok.text);
    for (const p of ['/session', '/roleplay/session']) {
      const r = await h.api(server, 'POST', p, { apiKey: tenant.apiKey, raw: fits + ' ', headers: { 'content-type': 'application/json' } });
      assertDocumentedError(r, p, 'POST', 413, 'INVALID_REQUEST');
    }
  });

  test('externalUserId / externalAgencyId: maxLength is accepted, one more is 400', async () => {
    const max = DOC.components.schemas.ExternalId.maxLength;
    assert.equal(max, 256);
    for (const field of ['externalUserId', 'externalAgencyId']) {
      const body = { externalUserId: 'rep_x', [field]: 'a'.repeat(max) };
      const ok = await h.api(server, 'POST', '/session', { apiKey: tenant.apiKey, body });
      assert.equal(ok.status, 200, ok.text);
      body[field] = 'a'.repeat(max + 1);
      assert.deepEqual(schemas.validate('MintSessionRequest', body).length > 0, true, 'the schema accepts it');
      const r = await h.api(server, 'POST', '/session', { apiKey: tenant.apiKey, body });
      assertDocumentedError(r, '/session', 'POST', 400, 'INVALID_REQUEST');
      assert.match(r.body.error.message, new RegExp(field));
    }
  });

  test('a control character is 400, as the pattern says', async () => {
    const body = { externalUserId: 'rep\u0007bell' };
    assert.ok(schemas.validate('MintSessionRequest', body).length > 0);
    const r = await h.api(server, 'POST', '/session', { apiKey: tenant.apiKey, body });
    assertDocumentedError(r, '/session', 'POST', 400, 'INVALID_REQUEST');
  });

  test('drillKey: maxLength is checked before the catalog', async () => {
    const max = DOC.components.schemas.RedeemSessionRequest.properties.drillKey.maxLength;
    const { token: t1 } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_drill' });
    const known = await h.api(server, 'POST', '/roleplay/session', { token: t1, body: { drillKey: 'x'.repeat(max) } });
    assertDocumentedError(known, '/roleplay/session', 'POST', 400, 'DRILL_NOT_FOUND');
    const { token: t2 } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_drill' });
    const long = await h.api(server, 'POST', '/roleplay/session', { token: t2, body: { drillKey: 'x'.repeat(max + 1) } });
    assertDocumentedError(long, '/roleplay/session', 'POST', 400, 'INVALID_REQUEST');
  });

  test('cursor: longer than maxLength is 400', async () => {
    const max = DOC.paths['/calls'].get.parameters.find((p) => p.name === 'cursor').schema.maxLength;
    const r = await h.api(server, 'GET', `/calls?from=2026-01-01T00:00:00Z&cursor=${'A'.repeat(max + 1)}`, { apiKey: tenant.apiKey });
    assertDocumentedError(r, '/calls', 'GET', 400, 'INVALID_REQUEST');
  });
});

describe('statuses', () => {
  test('redeem for a deactivated tenant is 403 TENANT_INACTIVE, as documented', async () => {
    const t = h.createTenant(server, { name: 'Soon inactive' });
    const { token } = await h.mintToken(server, t.apiKey, { externalUserId: 'rep_gone' });
    h.cli(['tenant', 'update', t.tenantId, '--active', 'false'], { dbPath: server.dbPath });
    const r = await h.api(server, 'POST', '/roleplay/session', { token, body: { drillKey: 'ma-full-sale' } });
    assertDocumentedError(r, '/roleplay/session', 'POST', 403, 'TENANT_INACTIVE');
    assert.equal(operation('/roleplay/session', 'post').responses['403'].$ref, '#/components/responses/TenantInactive');
  });

  test('every REST operation documents 503 and 500', () => {
    for (const [template, item] of Object.entries(DOC.paths)) {
      if (template.startsWith('/openapi.')) continue;
      for (const method of ['get', 'post'].filter((m) => item[m])) {
        for (const s of ['500', '503']) assert.ok(s in item[method].responses, `${method} ${template} lacks ${s}`);
      }
    }
  });
});

/* Runs a short live call; returns its callId. */
async function liveCall() {
  const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_openapi', externalAgencyId: 'agency_docs' });
  const call = await h.redeem(server, token);
  const ws = new WebSocket(call.connectionUrl, { perMessageDeflate: false });
  const messages = [];
  let wake = null;
  ws.on('message', (d) => { messages.push(JSON.parse(d.toString('utf8'))); if (wake) wake(); });
  const next = async (type) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const i = messages.findIndex((m) => m.type === type);
      if (i >= 0) return messages.splice(0, i + 1)[i];
      if (Date.now() > deadline) throw new Error(`no ${type}: ${JSON.stringify(messages)}`);
      await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 100); });
    }
  };
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ type: 'start', ticket: call.connectionTicket }));
  await next('ready');
  await next('say');
  for (const text of [
    "Hi, I'm Sam, a licensed insurance agent on a recorded line. We do not offer every plan available in your area.",
    'Which doctors do you see, and what do you like about your current coverage?',
    "Thanks, that's all for today.",
  ]) {
    ws.send(JSON.stringify({ type: 'say', text }));
    await next('say');
  }
  ws.send(JSON.stringify({ type: 'end' }));
  await next('ended');
  ws.close();
  return call.callId;
}

/* Every key of data must be a documented property of schema (followed
 * through $ref, arrays and oneOf), so the schemas name all the scorer emits. */
function assertAllKeysDocumented(schema, data, where) {
  if (schema.$ref) schema = DOC.components.schemas[schema.$ref.split('/').pop()];
  if (schema.oneOf) {
    if (data === null) return;
    schema = schema.oneOf.find((s) => s.$ref || s.type !== 'null');
    return assertAllKeysDocumented(schema, data, where);
  }
  if (Array.isArray(data)) {
    data.forEach((x, i) => assertAllKeysDocumented(schema.items, x, `${where}[${i}]`));
    return;
  }
  if (data === null || typeof data !== 'object') return;
  for (const [k, v] of Object.entries(data)) {
    assert.ok(schema.properties && k in schema.properties, `${where}.${k} is not documented`);
    assertAllKeysDocumented(schema.properties[k], v, `${where}.${k}`);
  }
}

describe('a real call against the schemas', () => {
  let callId;
  let detail;
  before(async () => {
    callId = await liveCall();
    detail = await h.eventually(async () => {
      const r = await h.api(server, 'GET', `/calls/${callId}`, { apiKey: tenant.apiKey });
      assert.equal(r.status, 200, r.text);
      return r.body;
    }, 15_000);
  });

  test('the call detail and its score validate, with every extra field the scorer adds', () => {
    schemas.assertSchema('CallDetail', detail);
    const score = detail.score;
    for (const k of ['dimensions', 'compliance', 'metrics', 'rubricVersion']) assert.ok(k in score, `score.${k} missing`);
    assert.ok(score.dimensions.length > 0 && score.compliance.length > 0);
    assertAllKeysDocumented({ $ref: '#/components/schemas/Score' }, score, 'score');
    // the properties documented as always sent are sent
    for (const d of score.dimensions) {
      for (const k of ['key', 'label', 'score', 'weight', 'evidence', 'criteria']) assert.ok(k in d, `dimension ${d.key} lacks ${k}`);
    }
    for (const k of ['recordingDisclosure', 'tpmoDisclaimer', 'scopeOfAppointment', 'noProhibitedClaims']) {
      assert.ok(score.compliance.some((c) => c.key === k), `compliance ${k} missing`);
    }
  });

  test('an undocumented key in a score would be caught', () => {
    const bad = structuredClone(detail.score);
    bad.metrics.secretSauce = 1;
    assert.throws(() => assertAllKeysDocumented({ $ref: '#/components/schemas/Score' }, bad, 'score'), /secretSauce/);
  });

  test('the call.scored webhook matches the documented body and headers, and verifies', async () => {
    const deadline = Date.now() + 15_000;
    let req;
    while (!(req = receiver.requests.find((x) => x.body.includes(callId)))) {
      assert.ok(Date.now() < deadline, 'no webhook for the call');
      await new Promise((resolve) => { receiver.waiters.push(resolve); setTimeout(resolve, 200); });
    }
    const op = DOC.webhooks['call.scored'].post;
    const event = JSON.parse(req.body);
    schemas.assertSchema('CallScoredEvent', event);
    assertAllKeysDocumented({ $ref: '#/components/schemas/CallScoredEvent' }, event, 'event');
    assert.equal(event.data.callId, callId);
    assert.equal(event.data.externalAgencyId, 'agency_docs');
    for (const p of op.parameters.filter((x) => x.in === 'header')) {
      const v = req.headers[p.name];
      if (p.required) assert.ok(v !== undefined, `header ${p.name} missing`);
      if (v !== undefined && p.schema.pattern) assert.match(v, new RegExp(p.schema.pattern), p.name);
    }
    assert.match(req.headers['content-type'], /^application\/json/);
    const verified = new Webhook(tenant.webhookSecret).verify(req.body, req.headers);
    assert.deepEqual(verified, event);
  });
});
