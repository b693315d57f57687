#!/usr/bin/env node
// Headless Chromium as a media interop peer: offers its fake camera and microphone
// (sendrecv) with the chosen video codec first, then after --duration seconds reports
// getStats() for both directions. Signaling and RESULT as browser_peer.js (docs/interop.md).
// With --role answer it answers the other side's offer with the camera and microphone.
// With --data it also opens a data channel and expects its "hello" echoed; with
// --simulcast the video goes out as three RID layers.
//   node media_peer.js [--role offer|answer] [--codec VP8|H264] [--duration S] [--data] [--simulcast]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const o = { codec: 'VP8', duration: 10, role: 'offer' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => argv[++i];
    switch (a) {
      case '--codec': o.codec = next(); break;
      case '--duration': o.duration = parseFloat(next()); break;
      case '--role': o.role = next(); break;
      case '--data': o.data = true; break;
      case '--simulcast': o.simulcast = true; break;
      default: throw new Error('unknown option ' + a);
    }
  }
  return o;
}

function result(obj) { process.stderr.write('RESULT ' + JSON.stringify(obj) + '\n'); }

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { result({ ok: false, error: e.message }); process.exit(2); }
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luartc-chromium-'));
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required'];
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
    await page.goto('file://' + path.join(__dirname, 'media.html'));
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
