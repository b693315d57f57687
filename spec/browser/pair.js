#!/usr/bin/env node
// Pairs two interop peers: each one's stdout lines go to the other's stdin.
//   node pair.js [--timeout S] -- CMD_A ARGS... -- CMD_B ARGS...
// Prints both peers' RESULT objects as one JSON line {"a":{...},"b":{...}} on stdout
// and exits 0 when both report ok. Peer stderr is forwarded, prefixed A:/B:.
'use strict';
const { spawn } = require('child_process');
const readline = require('readline');

const argv = process.argv.slice(2);
let timeout = 60;
if (argv[0] === '--timeout') { timeout = parseFloat(argv[1]); argv.splice(0, 2); }
if (argv[0] !== '--') { console.error('usage: pair.js [--timeout S] -- A... -- B...'); process.exit(2); }
const sep = argv.indexOf('--', 1);
const cmdA = argv.slice(1, sep), cmdB = argv.slice(sep + 1);

const results = {};
const procs = {};
function start(name, cmd) {
  const p = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  procs[name] = p;
  readline.createInterface({ input: p.stderr }).on('line', (l) => {
    process.stderr.write(`${name}: ${l}\n`);
    if (l.startsWith('RESULT ')) {
      try { results[name] = JSON.parse(l.slice(7)); } catch (e) { results[name] = { ok: false, error: 'bad RESULT' }; }
    }
  });
  p.stdin.on('error', () => {});
  return p;
}
const a = start('A', cmdA), b = start('B', cmdB);
const relay = (from, to, tag) => readline.createInterface({ input: from.stdout }).on('line', (l) => {
  process.stderr.write(`${tag}> ${l.length > 300 ? l.slice(0, 300) + '...' : l}\n`);
  to.stdin.write(l + '\n');
});
relay(a, b, 'A'); relay(b, a, 'B');

let exited = 0;
// On timeout: SIGTERM first, so a browser peer closes its Chromium (it handles SIGTERM);
// SIGKILL whatever is still there a few seconds later.
const timer = setTimeout(() => {
  process.stderr.write('pair: timeout, stopping peers\n');
  for (const p of Object.values(procs)) if (p.exitCode === null) p.kill('SIGTERM');
  setTimeout(() => {
    for (const p of Object.values(procs)) if (p.exitCode === null) p.kill('SIGKILL');
  }, 4000).unref();
}, timeout * 1000);
for (const [name, p] of Object.entries(procs)) {
  p.on('exit', (code, sig) => {
    if (!results[name]) results[name] = { ok: false, error: `exited ${code === null ? sig : code} without RESULT` };
    if (++exited === 2) {
      clearTimeout(timer);
      process.stdout.write(JSON.stringify({ a: results.A, b: results.B }) + '\n');
      process.exit(results.A.ok && results.B.ok ? 0 : 1);
    }
  });
}
