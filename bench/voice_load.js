'use strict';
// voice_load.js — N concurrent voice calls through the real server (issue 10
// benchmark; run by bench/voice.sh). Each call streams synthesised rep
// lines (bench/voice_lines.txt, Flite) in real time, with silence between
// them as a live microphone would send, and measures end of rep speech (its
// last speech frame sent) -> the first persona audio byte after it. Text
// calls say a line every TEXT_GAP_MS and time the persona's say, first with
// no voice call running, then while the voice calls run. CPU per voice call
// comes from the server's /proc/<pid>/stat over the voice run.
//
//   node bench/voice_load.js [--calls 10] [--seconds 60] [--text-calls 4]
//        [--workers 2] [--silence-ms 700] [--silence-done-ms 450] [--lines bench/voice_lines.txt]
//
// Prints a summary, then one JSON line of results on stdout (callEnds: how
// each voice call ended). VOICE_LOAD_LOGS=FILE writes the server's whole log there, at debug
// level: a line per reply says where its time went (final pass, synthesis, first audio).
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');
const KIT = path.join(REPO, 'tests', 'api');
const h = require(path.join(KIT, 'harness'));
const v = require(path.join(KIT, 'voice_kit'));

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const CALLS = Number(arg('calls', 10));
const SECONDS = Number(arg('seconds', 60));
const TEXT_CALLS = Number(arg('text-calls', 4));
const WORKERS = arg('workers', '2');
const SILENCE_MS = arg('silence-ms', '');
const SILENCE_DONE_MS = arg('silence-done-ms', '');
const LINES = arg('lines', path.join(REPO, 'bench', 'voice_lines.txt'));
const TEXT_GAP_MS = 1000;
const PAUSE_MS = 400; /* the rep's pause after the persona stops */

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1] : null };
}

/* The peak resident memory of pid (VmHWM), in MB. */
function peakMB(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
  return m ? Math.round(Number(m[1]) / 1024) : null;
}

/* utime + stime of pid, in seconds. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; /* fields 14, 15; USER_HZ is 100 on Linux */
}

/* A microphone: sends 20 ms frames in real time, the queued speech first,
 * silence when there is none; resolves each queued buffer's promise with
 * the time its last frame went out. */
function microphone(c) {
  const mic = { queue: [], stopped: false };
  mic.say = (pcm) => new Promise((resolve) => mic.queue.push({ pcm, off: 0, resolve }));
  mic.done = (async () => {
    const t0 = Date.now();
    const quiet = v.silence(v.FRAME_MS);
    for (let i = 0; !mic.stopped && c.ws.readyState === 1; i++) {
      const cur = mic.queue[0];
      if (cur) {
        const end = Math.min(cur.pcm.length, cur.off + v.FRAME_BYTES);
        c.send(cur.pcm.subarray(cur.off, end));
        cur.off = end;
        if (end >= cur.pcm.length) {
          mic.queue.shift();
          cur.resolve(Date.now());
        }
      } else {
        c.send(quiet);
      }
      const wait = t0 + (i + 1) * v.FRAME_MS - Date.now();
      if (wait > 0) await h.sleep(wait);
    }
    for (const q of mic.queue.splice(0)) q.resolve(null); /* the call closed */
  })();
  return mic;
}

/* Voice calls one after another until `until` (a persona may hang up):
 * speak, time the reply's first audio, wait for spoken, pause, again. */
async function voiceCall(server, tenant, lines, until, out) {
  while (Date.now() < until - 15000) {
    await oneVoiceCall(server, tenant, lines, until, out);
    out.calls++;
  }
}

async function oneVoiceCall(server, tenant, lines, until, out) {
  const { c } = await v.startVoiceCall(server, tenant);
  c.ws.on('message', (data, isBinary) => {
    if (!isBinary && data.includes('"ended"')) c.endReason = JSON.parse(data).reason;
  });
  await c.until('spoken', 30000); /* the opener played out */
  const mic = microphone(c);
  try {
    for (let k = Math.floor(Math.random() * lines.length); Date.now() < until; k++) {
      const sentAt = await mic.say(lines[k % lines.length]);
      if (sentAt === null) break; /* the persona hung up, or the call hit a limit */
      const before = c.audioBytes;
      let m;
      try {
        m = (await c.until('heard', 20000)).m;
        await c.until('spoken', 30000);
      } catch (e) {
        if (c.closeInfo) break;
        out.lost++;
        continue;
      }
      if (!m || c.audioBytes === before) continue;
      const first = c.audio.find((a) => a.at >= sentAt);
      if (first) out.latency.push(first.at - sentAt);
      out.turns++;
      await h.sleep(PAUSE_MS);
    }
  } finally {
    mic.stopped = true;
    await mic.done;
    const why = c.closeInfo ? `closed ${c.closeInfo.code}${c.endReason ? ` ${c.endReason}` : ''}` : 'time up';
    out.ends[why] = (out.ends[why] || 0) + 1;
    c.ws.close();
  }
}

/* Text calls for `seconds`, each saying a line every TEXT_GAP_MS. */
async function textCalls(server, tenant, n, seconds) {
  const latency = [];
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: n }, async () => {
    const call = await v.newCall(server, tenant);
    const c = v.connect(call.connectionUrl);
    await c.opened;
    c.send({ type: 'start', ticket: call.connectionTicket });
    await c.until('ready', 10000);
    await c.until('say', 10000);
    while (Date.now() < until) {
      const t = Date.now();
      c.send({ type: 'say', text: 'Which doctors do you see at the moment?' });
      await c.until('say', 10000);
      latency.push(Date.now() - t);
      await h.sleep(TEXT_GAP_MS);
    }
    c.ws.close();
  }));
  return summary(latency);
}

/* pcm without its trailing silence, so that "end of speech" is the last
 * voiced frame sent (Flite ends a line with some silence). */
function trimmed(pcm) {
  let end = pcm.length - 2;
  while (end > 0 && Math.abs(pcm.readInt16LE(end)) < 500) end -= 2;
  return pcm.subarray(0, Math.min(pcm.length, end + 2));
}

async function main() {
  const text = fs.readFileSync(LINES, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  process.stderr.write(`synthesising ${Math.min(12, text.length)} rep lines...\n`);
  const lines = text.slice(0, 12).map((l) => trimmed(v.speech(l)));
  const env = { ATHOS_VOICE_WORKERS: WORKERS, ATHOS_IDLE_SEC: '600', ATHOS_MAX_CALL_SEC: '3600' };
  if (SILENCE_MS) env.ATHOS_VOICE_SILENCE_MS = SILENCE_MS;
  if (SILENCE_DONE_MS) env.ATHOS_VOICE_SILENCE_DONE_MS = SILENCE_DONE_MS;
  if (process.env.VOICE_LOAD_LOGS) env.ATHOS_LOG_LEVEL = 'debug';
  const server = await h.startServer({ env });
  try {
    const tenant = await h.createTenant(server);
    const textSec = Math.max(10, Math.floor(SECONDS / 3));
    process.stderr.write(`text calls alone, ${textSec} s...\n`);
    const textAlone = await textCalls(server, tenant, TEXT_CALLS, textSec);
    process.stderr.write(`${CALLS} voice calls, ${SECONDS} s, with ${TEXT_CALLS} text calls...\n`);
    /* the first voice call loads the models: keep it out of the figures */
    await v.startVoiceCall(server, tenant).then(({ c }) => c.ws.close());
    const out = { latency: [], turns: 0, lost: 0, calls: 0, ends: {} };
    const pid = server.proc.pid;
    const cpu0 = cpuSeconds(pid);
    const t0 = Date.now();
    const until = t0 + SECONDS * 1000;
    const [, textDuring] = await Promise.all([
      Promise.all(Array.from({ length: CALLS }, () => voiceCall(server, tenant, lines, until, out))),
      h.sleep(3000).then(() => textCalls(server, tenant, TEXT_CALLS, Math.max(5, SECONDS - 10))),
    ]);
    const wall = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(pid) - cpu0;
    const result = {
      calls: CALLS,
      seconds: SECONDS,
      workers: Number(WORKERS),
      silenceMs: SILENCE_MS ? Number(SILENCE_MS) : 'default',
      silenceDoneMs: SILENCE_DONE_MS ? Number(SILENCE_DONE_MS) : 'default',
      callsHeld: out.calls,
      callEnds: out.ends,
      repTurns: out.turns,
      lostTurns: out.lost,
      speechEndToFirstAudioMs: summary(out.latency),
      cpuPerCallPct: Number(((100 * cpu) / wall / CALLS).toFixed(1)),
      serverCpuPct: Number(((100 * cpu) / wall).toFixed(1)),
      serverPeakMB: peakMB(server.proc.pid),
      textAloneMs: textAlone,
      textDuringVoiceMs: textDuring,
    };
    const l = result.speechEndToFirstAudioMs;
    console.log(`${CALLS} voice calls: ${out.turns} rep turns (${out.lost} lost); end of rep speech -> first persona audio p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms`);
    console.log(`  CPU ${result.cpuPerCallPct} % of a core per voice call (server ${result.serverCpuPct} %); server peak memory ${result.serverPeakMB} MB`);
    console.log(`  text calls' say -> say p99: alone ${textAlone.p99} ms (n ${textAlone.n}), during voice ${textDuring.p99} ms (n ${textDuring.n})`);
    console.log(JSON.stringify(result));
  } finally {
    if (process.env.VOICE_LOAD_LOGS) fs.writeFileSync(process.env.VOICE_LOAD_LOGS, server.logs());
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
