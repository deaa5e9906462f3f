'use strict';
// Voice calls share a bounded set of recognisers (issue 10; docs/internals/voice.md,
// "Recognisers: bounded"): with ATHOS_VOICE_DECODERS=1, three reps who talk at the same
// time are all heard, word for word, one after the other, while the server never holds
// more than one recogniser (the athos_voice_decoders gauge on /metrics).
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const { stopClean } = require('./abuse_live_kit');
const { speech, silence, stream, startVoiceCall } = require('./voice_kit');

async function decodersGauge(server) {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  const m = (await res.text()).match(/^athos_voice_decoders (\d+)$/m);
  assert.ok(m, 'athos_voice_decoders is exported');
  return Number(m[1]);
}

describe('recognisers are bounded (ATHOS_VOICE_DECODERS=1)', () => {
  let server;
  let tenant;

  before(async () => {
    server = await h.startServer({
      env: { ATHOS_VOICE_WORKERS: '2', ATHOS_VOICE_DECODERS: '1', ATHOS_IDLE_SEC: '60' },
    });
    tenant = await h.createTenant(server);
  });
  after(async () => {
    await stopClean(server);
  });

  test('three reps talking at once are each heard; one recogniser at most', async () => {
    const lines = [
      ['Do you take Eliquis for your heart every day?', /eliquis/i],
      ['Which doctors do you see at the moment?', /doctors?/i],
      ['I am calling about your Medicare Advantage plan.', /medicare/i],
    ];
    const calls = [];
    for (let i = 0; i < lines.length; i++) {
      const s = await startVoiceCall(server, tenant);
      await s.c.until('spoken', 20000); // the opener played out
      calls.push(s);
    }
    let maxGauge = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxGauge = Math.max(maxGauge, await decodersGauge(server));
        await h.sleep(100);
      }
    })();
    // all three talk at the same time
    await Promise.all(calls.map((s, i) => stream(s.c, Buffer.concat([speech(lines[i][0]), silence(1500)]))));
    const heard = await Promise.all(calls.map((s) => s.c.until('heard', 30000)));
    sampling = false;
    await sampler;
    heard.forEach(({ m }, i) => {
      assert.equal(m.turn, 1);
      assert.match(m.text, lines[i][1], `call ${i} heard "${m.text}"`);
    });
    assert.ok(maxGauge <= 1, `${maxGauge} recognisers at once`);
    assert.equal(await decodersGauge(server), 1, 'the one recogniser is kept for the next utterance');
    for (const s of calls) {
      s.c.send({ type: 'end' });
      await s.c.until('ended', 10000);
    }
  });
});
