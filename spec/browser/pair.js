#!/usr/bin/env node
// Pairs two interop peers: each one's stdout lines go to the other's stdin, and when
// one's stdout ends the other's stdin is closed (EOF).
//   node pair.js [--timeout S] [--contract] -- CMD_A ARGS... -- CMD_B ARGS...
// Prints both peers' RESULT objects as one JSON line {"a":{...},"b":{...}} on stdout
// and exits 0 when both report ok. Peer stderr is forwarded, prefixed A:/B:.
//
// With --contract, A is the offerer and B the answerer of the interop peer contract
// (docs/interop.md) and the pairing enforces it: B starts first and A only once B has
// printed READY; then every stdout line must be one JSON object with a string `type`
// (signaling only), each peer prints READY, exactly one RESULT (with boolean `ok`) and
// sends exactly one {"type":"bye"}, and exits by itself with status 0 exactly when its
// RESULT is ok. Each broken rule is listed in "violations" in the output line, which
// makes the exit status 1.
'use strict';
const { spawn } = require('child_process');
const readline = require('readline');

const argv = process.argv.slice(2);
let timeout = 60, contract = false;
for (;;) {
  if (argv[0] === '--timeout') { timeout = parseFloat(argv[1]); argv.splice(0, 2); }
  else if (argv[0] === '--contract') { contract = true; argv.shift(); }
  else break;
}
if (argv[0] !== '--') { console.error('usage: pair.js [--timeout S] [--contract] -- A... -- B...'); process.exit(2); }
const sep = argv.indexOf('--', 1);
if (sep < 0) { console.error('usage: pair.js [--timeout S] [--contract] -- A... -- B...'); process.exit(2); }
const cmdA = argv.slice(1, sep), cmdB = argv.slice(sep + 1);

const peers = {};
const violations = [];
const violate = (name, what) => {
  violations.push(`${name}: ${what}`);
  process.stderr.write(`pair: contract: ${name}: ${what}\n`);
};
let timedOut = false;

// What a signaling line must be: a JSON object with a string type; offer and answer
// carry an sdp string, a candidate a candidate string.
function signalingProblem(line) {
  let msg;
  try { msg = JSON.parse(line); } catch (e) { return 'not JSON'; }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return 'not a JSON object';
  if (typeof msg.type !== 'string') return 'no string "type"';
  if ((msg.type === 'offer' || msg.type === 'answer') && typeof msg.sdp !== 'string') return msg.type + ' without sdp';
  if (msg.type === 'candidate' && typeof msg.candidate !== 'string') return 'candidate without candidate string';
  return null;
}

function start(name, cmd, other) {
  const peer = { name, ready: false, results: 0, result: null, byes: 0, exited: false, code: null, sig: null };
  peers[name] = peer;
  const p = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  peer.proc = p;
  const onReady = [];
  peer.whenReady = (fn) => { if (peer.ready) fn(); else onReady.push(fn); };
  readline.createInterface({ input: p.stderr }).on('line', (l) => {
    process.stderr.write(`${name}: ${l}\n`);
    if (l === 'READY' && !peer.ready) {
      peer.ready = true;
      onReady.splice(0).forEach(fn => fn());
    } else if (l.startsWith('RESULT ')) {
      peer.results++;
      let r;
      try { r = JSON.parse(l.slice(7)); } catch (e) { r = null; }
      if (!r || typeof r !== 'object' || typeof r.ok !== 'boolean') {
        if (contract) violate(name, 'RESULT is not a JSON object with boolean ok');
        r = { ok: false, error: 'bad RESULT' };
      }
      if (!peer.result) peer.result = r;
    }
  });
  readline.createInterface({ input: p.stdout }).on('line', (l) => {
    process.stderr.write(`${name}> ${l.length > 300 ? l.slice(0, 300) + '...' : l}\n`);
    if (contract) {
      const problem = signalingProblem(l);
      if (problem) violate(name, `stdout line is not signaling (${problem}): ${l.slice(0, 120)}`);
      else if (JSON.parse(l).type === 'bye') peer.byes++;
    }
    const to = peers[other];
    if (to && !to.exited) to.proc.stdin.write(l + '\n');
  });
  // The other side's stdin closes when this side's stdout ends.
  p.stdout.on('end', () => { const to = peers[other]; if (to) to.proc.stdin.end(); });
  p.stdin.on('error', () => {});
  // Its last stderr lines (the RESULT) may still be in the pipe at 'exit': wait for
  // 'close', or a moment when something it started still holds the pipes open.
  let ended = false;
  const closed = () => { if (!ended) { ended = true; onExit(peer); } };
  p.on('exit', (code, sig) => {
    peer.exited = true; peer.code = code; peer.sig = sig;
    setTimeout(closed, 2000);
  });
  p.on('close', closed);
  return peer;
}

// On timeout: SIGTERM first, so a browser peer closes its Chromium (it handles SIGTERM);
// SIGKILL whatever is still there a few seconds later.
const timer = setTimeout(() => {
  timedOut = true;
  process.stderr.write('pair: timeout, stopping peers\n');
  for (const p of Object.values(peers)) if (!p.exited) p.proc.kill('SIGTERM');
  setTimeout(() => {
    for (const p of Object.values(peers)) if (!p.exited) p.proc.kill('SIGKILL');
  }, 4000).unref();
}, timeout * 1000);

function onExit(peer) {
  peer.done = true;
  const all = ['A', 'B'].map(n => peers[n]);
  // The answerer ended before READY: the offerer never starts.
  if (peer.name === 'B' && !peers.A) {
    if (contract) violate('B', 'exited before READY');
    finish();
    return;
  }
  if (all.every(p => p && p.done)) finish();
}

function finish() {
  clearTimeout(timer);
  const out = {};
  for (const n of ['A', 'B']) {
    const p = peers[n];
    if (!p) { out[n.toLowerCase()] = { ok: false, error: 'not started' }; continue; }
    const status = p.code === null ? p.sig : p.code;
    if (!p.result) p.result = { ok: false, error: `exited ${status} without RESULT` };
    if (contract) {
      if (timedOut) violate(n, 'still running at the timeout');
      if (!p.ready) violate(n, 'never printed READY');
      if (p.results !== 1) violate(n, `printed ${p.results} RESULT lines, not 1`);
      if (p.byes !== 1) violate(n, `sent ${p.byes} bye messages, not 1`);
      if (p.code === null) violate(n, `ended by ${p.sig}`);
      else if ((p.code === 0) !== (p.result.ok === true)) violate(n, `exit status ${p.code} with RESULT ok=${p.result.ok}`);
    }
    out[n.toLowerCase()] = p.result;
  }
  if (contract) out.violations = violations;
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(out.a.ok && out.b.ok && violations.length === 0 ? 0 : 1);
}

if (contract) {
  // The answerer first; the offerer once the answerer can take signaling.
  const b = start('B', cmdB, 'A');
  b.whenReady(() => { if (!b.exited) start('A', cmdA, 'B'); });
} else {
  start('A', cmdA, 'B');
  start('B', cmdB, 'A');
}
