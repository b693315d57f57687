#!/usr/bin/env node
// The node-datachannel (libdatachannel) side of bench/datachannel.sh: the same test,
// options, signaling and RESULT line as bench/datachannel.lua, so the two stacks are
// measured the same way.
//   node bench/node/dc_peer.js --role offer|answer --test bulk|small
//        [--size BYTES] [--bytes TOTAL] [--count N] [--timeout S]
'use strict';
const ndc = require('node-datachannel');
const readline = require('readline');

const opts = { role: 'offer', test: 'bulk', size: 16384, bytes: 256e6, count: 1e6, timeout: 120 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const k = argv[i].replace(/^--/, ''), v = argv[i + 1];
  if (!(k in opts)) { process.stderr.write(`dc_peer.js: unknown option --${k}\n`); process.exit(2); }
  opts[k] = k === 'role' || k === 'test' ? v : Number(v);
}
const totalMsgs = opts.test === 'small' ? opts.count : Math.ceil(opts.bytes / opts.size);
const totalBytes = opts.test === 'small' ? opts.count * opts.size : opts.bytes;

let finished = false;
function finish(r) {
  if (finished) return;
  finished = true;
  process.stderr.write('RESULT ' + JSON.stringify(r) + '\n', () => process.exit(r.ok ? 0 : 1));
}
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const now = () => Number(process.hrtime.bigint()) / 1e9;

// Only loopback: benchmark traffic never leaves the machine.
const pc = new ndc.PeerConnection(opts.role, { iceServers: [], bindAddress: '127.0.0.1' });
const signal = (m) => process.stdout.write(JSON.stringify(m) + '\n');
let described = false;
pc.onGatheringStateChange((s) => {
  if (s === 'complete' && !described) { described = true; signal(pc.localDescription()); }
});
pc.onStateChange((s) => { if (s === 'failed') finish({ ok: false, error: 'connection failed' }); });

const HIGH = 4 * 1024 * 1024, LOW = 1024 * 1024;

if (opts.role === 'offer') {
  const dc = pc.createDataChannel('bench');
  const block = Buffer.alloc(opts.size, 0xab);
  const last = totalBytes - (totalMsgs - 1) * opts.size;
  const tail = block.subarray(0, last);
  let sent = 0, t0 = 0, c0 = 0;
  const pump = () => {
    while (sent < totalMsgs && dc.bufferedAmount() < HIGH) {
      sent++;
      dc.sendMessageBinary(sent === totalMsgs ? tail : block);
    }
  };
  dc.setBufferedAmountLowThreshold(LOW);
  dc.onBufferedAmountLow(pump);
  dc.onOpen(() => {
    process.stderr.write('MARK\n');
    t0 = now(); c0 = cpu();
    pump();
  });
  dc.onMessage((msg) => {
    const secs = now() - t0;
    let rep = {};
    try { rep = JSON.parse(msg.toString()); } catch (e) { /* reported below */ }
    const ok = rep.bytes === totalBytes && rep.messages === totalMsgs;
    finish({ ok, error: ok ? undefined : 'peer got ' + msg, bytes: totalBytes, messages: totalMsgs,
             seconds: secs, cpu_s: cpu() - c0 });
  });
} else {
  pc.onDataChannel((dc) => {
    let got = 0, n = 0, t0 = 0;
    const c0 = cpu();
    dc.onMessage((msg) => {
      if (n === 0) t0 = now();
      n++;
      got += typeof msg === 'string' ? Buffer.byteLength(msg) : msg.byteLength;
      if (n === totalMsgs) {
        const secs = Math.max(now() - t0, 0.001);
        dc.sendMessage(JSON.stringify({ bytes: got, messages: n }));
        const r = { ok: got === totalBytes, bytes: got, messages: n, seconds: secs, cpu_s: cpu() - c0 };
        setTimeout(() => finish(r), 200);
      }
    });
  });
}

setTimeout(() => finish({ ok: false, error: 'timeout' }), opts.timeout * 1000);

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  let m;
  try { m = JSON.parse(line); } catch (e) { return; }
  if (m.type !== 'offer' && m.type !== 'answer') return;
  try { pc.setRemoteDescription(m.sdp, m.type); } catch (e) { finish({ ok: false, error: String(e) }); }
});
