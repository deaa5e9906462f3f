'use strict';
// When does the rep's turn end? (issue 10; docs/internals/voice.md, "End of turn"). The
// end-pointer waits ATHOS_VOICE_SILENCE_MS (700) of silence, or only
// ATHOS_VOICE_SILENCE_DONE_MS (450) once the words recognised so far read as a finished
// turn (nlu_turn_complete). So the same 600 ms pause splits a finished question from the
// next one, and does not split a sentence that stopped on "and".
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const { stopClean } = require('./abuse_live_kit');
const { speech, silence, stream, startVoiceCall } = require('./voice_kit');

const PAUSE_MS = 600;

/* Flite's own lead-in and tail of near-silence cut off, so the pause
 * between two pieces is the one the test puts there. */
function trimmed(pcm) {
  const loud = (i) => Math.abs(pcm.readInt16LE(i)) >= 300;
  let b = 0;
  let e = pcm.length - 2;
  while (b < e && !loud(b)) b += 2;
  while (e > b && !loud(e)) e -= 2;
  return pcm.subarray(b, e + 2);
}

function twoPieces(first, second) {
  return Buffer.concat([trimmed(speech(first)), silence(PAUSE_MS), trimmed(speech(second)), silence(1500)]);
}

describe('the end of a spoken turn', () => {
  let server;
  let tenant;

  before(async () => {
    server = await h.startServer({ env: { ATHOS_VOICE_WORKERS: '2', ATHOS_IDLE_SEC: '60' } });
    tenant = await h.createTenant(server);
  });
  after(async () => {
    await stopClean(server);
  });

  test('a finished question ends at the shorter silence: the next question is its own turn', async () => {
    const s = await startVoiceCall(server, tenant);
    await s.c.until('spoken', 20000);
    await stream(s.c, twoPieces('Is your cardiologist in the network right now?', 'Do you take Eliquis every day?'));
    const first = (await s.c.until('heard', 15000)).m;
    const second = (await s.c.until('heard', 15000)).m;
    assert.match(first.text, /cardiologist/, first.text);
    assert.doesNotMatch(first.text, /eliquis/, first.text);
    assert.match(second.text, /eliquis/, second.text);
    assert.ok(second.turn > first.turn);
    s.c.send({ type: 'end' });
    await s.c.until('ended', 10000);
  });

  test('a sentence that stopped on "and" waits out the pause: one turn', async () => {
    const s = await startVoiceCall(server, tenant);
    await s.c.until('spoken', 20000);
    await stream(s.c, twoPieces('Do you have Medicare Part A and', 'Part B as well?'));
    const heard = (await s.c.until('heard', 15000)).m;
    assert.match(heard.text, /medicare/, heard.text);
    assert.match(heard.text, /well/, heard.text);
    s.c.send({ type: 'end' });
    const { seen } = await s.c.until('ended', 10000);
    assert.ok(!seen.some((m) => m.type === 'heard'), `a second turn: ${JSON.stringify(seen)}`);
  });
});
