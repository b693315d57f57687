#!/usr/bin/env node
// Headless Chromium as an interop peer (docs/interop.md): the same command-line and
// stdio signaling contract as examples/interop_peer.lua, so the pairing script can
// connect any two peers. Logs go to stderr, ending with one `RESULT {json}` line.
//   node browser_peer.js --role offer|answer --test dc-echo|dc-throughput
//        [--trickle] [--bytes N] [--stun URL] [--turn URL --turn-user U --turn-pass P]
//        [--relay-only] [--expose-ips] [--media] [--timeout S]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const o = { role: 'offer', test: 'dc-echo', trickle: false, relayOnly: false, exposeIps: false,
              media: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => argv[++i];
    switch (a) {
      case '--role': o.role = next(); break;
      case '--test': o.test = next(); break;
      case '--trickle': o.trickle = true; break;
      case '--bytes': o.bytes = parseInt(next(), 10); break;
      case '--stun': o.stun = next(); break;
      case '--turn': o.turn = next(); break;
      case '--turn-user': o.turnUser = next(); break;
      case '--turn-pass': o.turnPass = next(); break;
      case '--relay-only': o.relayOnly = true; break;
      case '--expose-ips': o.exposeIps = true; break;
      case '--media': o.media = true; break;
      case '--timeout': o.timeout = parseFloat(next()); break;
      default: throw new Error('unknown option ' + a);
    }
  }
  if (!['offer', 'answer'].includes(o.role)) throw new Error('--role must be offer or answer');
  return o;
}

function result(obj) {
  process.stderr.write('RESULT ' + JSON.stringify(obj) + '\n');
}

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { result({ ok: false, error: e.message }); process.exit(2); }
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luartc-chromium-'));
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'];
  // Granting media permission makes Chromium expose host addresses; data channel tests
  // keep its default (mDNS .local host candidates) unless asked otherwise.
  if (opts.media) args.push('--use-fake-ui-for-media-stream');
  // Chromium's default hides host addresses behind mDNS .local names; keep that
  // unless a test asks for real addresses.
  if (opts.exposeIps) args.push('--disable-features=WebRtcHideLocalIpsWithMdns');
  let ctx;
  const cleanup = async () => {
    try { if (ctx) await ctx.close(); } catch (e) { /* already gone */ }
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  process.on('SIGTERM', async () => { await cleanup(); process.exit(143); });
  try {
    ctx = await chromium.launchPersistentContext(userDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args });
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('console', m => process.stderr.write(`[page] ${m.text()}\n`));
    page.on('pageerror', e => process.stderr.write(`[page error] ${e}\n`));
    await page.exposeFunction('signalOut', (msg) => { process.stdout.write(JSON.stringify(msg) + '\n'); });
    await page.exposeFunction('peerLog', (s) => { process.stderr.write(`[browser] ${s}\n`); });
    await page.exposeFunction('markTestPhase', () => { process.stderr.write('MARK\n'); });
    await page.goto('file://' + path.join(__dirname, 'peer.html'));
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      line = line.trim();
      if (!line) return;
      let msg;
      try { msg = JSON.parse(line); } catch (e) { process.stderr.write(`bad signaling line: ${line}\n`); return; }
      page.evaluate((m) => window.onSignal(m), msg).catch(e => process.stderr.write(`onSignal: ${e}\n`));
    });
    const r = await page.evaluate((o) => window.runPeer(o), opts);
    rl.close();
    result(r);
    await cleanup();
    process.exit(r.ok ? 0 : 1);
  } catch (e) {
    result({ ok: false, error: String(e && e.message || e) });
    await cleanup();
    process.exit(1);
  }
}
main();
