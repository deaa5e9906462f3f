'use strict';
// The persona understands and answers (issue 7), black-box: mint → redeem →
// live WebSocket call, where a rep asks the twelve kinds of qualification
// and discovery question in casual and misspelled forms. Every answer must
// carry the persona's own fact for that question, as written in the drill
// file (drills/ma-full-sale.json). A recap is confirmed, and a question the
// persona has no fact for is acknowledged, not met with a filler.
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require('ws');
const h = require('./harness');

const DRILL = JSON.parse(fs.readFileSync(path.join(h.REPO, 'drills', 'ma-full-sale.json'), 'utf8'));

/* What the reply to each question must contain, from the persona's data. */
const QUESTIONS = [
  ['who r ur docs?', (p) => p.doctors[0].name],
  ['wat meds r u on', (p) => p.prescriptions[0].name],
  ['where do u fill ur meds?', (p) => p.pharmacy],
  ['do you have both part a and b', (p) => p.facts.parts_ab],
  ['r u on medicaid or get extra help?', (p) => p.extra_help],
  ['any other insurance, like from work or the VA or tricare?', (p) => p.facts.other_coverage],
  ['wats ur zip code', (p) => p.facts.location],
  ['which hospital do you like', (p) => p.facts.hospital],
  ['need dental or vision?', (p) => p.facts.extras],
  ['you travel much?', (p) => p.facts.travel],
  ['what do u like about ur plan', (p) => p.facts.likes],
  ["what don't you like about your plan", (p) => p.facts.dislikes],
  ['how old r u?', (p) => p.facts.age],
  ['who helps u make decisions like this?', (p) => p.facts.decision],
];

/* The literal text of a reply template, without its placeholders. */
function literal(tmpl) {
  return tmpl.split(/\{[a-z_0-9]+\}/).reduce((a, b) => (b.length > a.length ? b : a), '')
    .replace(/^[ .,]+|[ ,]+$/g, '');
}

function linesOf(kind, persona) {
  const r = DRILL.replies;
  return [
    ...(r[kind] || []),
    ...['Beginner', 'Advanced', 'Elite'].flatMap((t) => r[`${kind}.${t}`] || []),
    ...((persona.lines && persona.lines[kind]) || []),
  ].map(literal).filter((s) => s.length >= 4);
}

function isKind(text, kind, persona) {
  return linesOf(kind, persona).some((l) => text.includes(l));
}

/* A ws connection whose messages are awaited one by one. */
function connect(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const queue = [];
  const waiters = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString('utf8'));
    if (waiters.length) waiters.shift()(m);
    else queue.push(m);
  });
  return {
    ws,
    opened: new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }),
    send(obj) { ws.send(JSON.stringify(obj)); },
    next(ms = 5000) {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
        waiters.push((m) => { clearTimeout(t); resolve(m); });
      });
    },
  };
}

/* Redeems a call for this state and tier, connects and reads the opener. */
async function startCall(server, tenant, state, difficulty) {
  const { token } = await h.mintToken(server, tenant.apiKey, { externalUserId: 'rep_understanding' });
  const call = await h.redeem(server, token, { drillKey: 'ma-full-sale', filters: { state }, difficulty });
  const persona = DRILL.personas.find((p) => p.name === call.persona.name);
  assert.ok(persona, `unknown persona ${call.persona.name}`);
  const c = connect(call.connectionUrl);
  await c.opened;
  c.send({ type: 'start', ticket: call.connectionTicket });
  assert.equal((await c.next()).type, 'ready');
  assert.equal((await c.next()).type, 'say');
  return { call, c, persona };
}

async function say(s, text) {
  s.c.send({ type: 'say', text });
  const m = await s.c.next();
  assert.equal(m.type, 'say', JSON.stringify(m));
  return m.text;
}

const OPENING = [
  "Hi, my name is Sam, I'm a licensed insurance agent with Sunrise Health. This call is being recorded.",
  'We do not offer every plan available in your area. Currently we represent 8 organizations which ' +
    'offer 52 products in your area. Please contact Medicare.gov, 1-800-MEDICARE, or your local State ' +
    'Health Insurance Program to get information on all of your options. Is it okay if I ask you a few questions?',
];

describe('the persona answers what it is asked', () => {
  let server;
  let tenant;

  before(async () => {
    server = await h.startServer();
    tenant = h.createTenant(server, { name: 'Understanding' });
  });
  after(async () => {
    if (server) await server.stop();
  });

  for (const [state, difficulty] of [['TN', 'Advanced'], ['FL', 'Beginner'], ['AZ', 'Elite']]) {
    test(`twelve kinds of question, casual and misspelled (${state}, ${difficulty})`, async () => {
      const s = await startCall(server, tenant, state, difficulty);
      for (const line of OPENING) await say(s, line);
      const off = [];
      for (const [q, fact] of QUESTIONS) {
        const want = fact(s.persona);
        assert.ok(want, `${s.persona.id} has no fact for "${q}"`);
        const text = await say(s, q);
        if (!text.includes(want)) off.push(`"${q}" -> "${text}" (wanted "${want}")`);
      }
      assert.deepEqual(off, [], `${s.persona.name} answered off topic:\n${off.join('\n')}`);

      const recap = await say(s, 'did I get all of that right?');
      assert.ok(isKind(recap, 'recap_confirm', s.persona), `recap -> "${recap}"`);
      const unknown = await say(s, "What's your shoe size?");
      assert.ok(!isKind(unknown, 'generic', s.persona), `a filler: "${unknown}"`);
      assert.ok(isKind(unknown, 'question_unknown', s.persona) || isKind(unknown, 'off_topic', s.persona),
        `not acknowledged: "${unknown}"`);
      s.c.send({ type: 'end' });
      assert.equal((await s.c.next()).type, 'ended');
    });
  }

  /* A read-back of one fact the persona gave is confirmed by name before
   * the rest of discovery; a doctor it does not have is corrected. */
  for (const [state, difficulty] of [['FL', 'Beginner'], ['TX', 'Advanced']]) {
    test(`a partial recap is confirmed, a wrong name corrected (${state}, ${difficulty})`, async () => {
      const s = await startCall(server, tenant, state, difficulty);
      for (const line of OPENING) await say(s, line);
      await say(s, 'Who is your primary care doctor?');
      const doctor = s.persona.doctors[0].name;
      const surname = doctor.split(' ').pop();
      const confirm = await say(s, `So you see Dr. ${surname}, correct?`);
      assert.ok(isKind(confirm, 'recap_confirm_named', s.persona) && confirm.includes(doctor),
        `"So you see Dr. ${surname}, correct?" -> "${confirm}"`);
      const wrong = await say(s, 'Is Mrs. Jones your primary care doctor?');
      assert.ok(isKind(wrong, 'recap_correct_doctor', s.persona) && wrong.includes('Mrs. Jones') &&
        wrong.includes(doctor), `"Is Mrs. Jones your primary care doctor?" -> "${wrong}"`);
      s.c.send({ type: 'end' });
      assert.equal((await s.c.next()).type, 'ended');
    });
  }
});
