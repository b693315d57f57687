// Shared by the browser interop peers (browser_peer.js, media_peer.js): launch headless
// Chromium with a fresh profile, load a peer page, relay its signaling between the page
// and stdio (one JSON object a line) and follow the lifecycle of the interop peer
// contract (docs/interop.md): `READY` on stderr once the page takes signaling; when the
// page's test is over `RESULT {json}` on stderr, {"type":"bye"} on stdout, then at most
// 5 s waiting for the other side's bye or stdin EOF before Chromium (and with it the
// peer connection) is closed.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { chromium } = require('playwright-core');

const BASE_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'];

const BYE_WAIT_MS = 5000;

function result(obj) {
  process.stderr.write('RESULT ' + JSON.stringify(obj) + '\n');
}

function signalOut(msg) { process.stdout.write(JSON.stringify(msg) + '\n'); }

// page: the HTML file next to this script; extraArgs: Chromium flags beyond BASE_ARGS;
// opts: handed to the page's window.runPeer(opts).
async function runPeer(page, extraArgs, opts) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luartc-chromium-'));
  const args = BASE_ARGS.concat(extraArgs);
  let ctx;
  const cleanup = async () => {
    try { if (ctx) await ctx.close(); } catch (e) { /* already gone */ }
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  process.on('SIGTERM', async () => { await cleanup(); process.exit(143); });
  // The other side's bye or the end of stdin: it is finished with us.
  let peerGone, pg = null;
  const gone = new Promise(r => { peerGone = r; });
  const tellPage = (why) => {
    peerGone(why);
    if (pg) pg.evaluate((w) => window.onPeerGone && window.onPeerGone(w), why).catch(() => {});
  };
  // RESULT, bye, then wait for the other side before closing.
  let ending = false;
  const end = async (r) => {
    if (ending) return;
    ending = true;
    result(r);
    signalOut({ type: 'bye' });
    let timer;
    await Promise.race([gone, new Promise(res => { timer = setTimeout(res, BYE_WAIT_MS); })]);
    clearTimeout(timer);
    await cleanup();
    process.exit(r.ok ? 0 : 1);
  };
  try {
    ctx = await chromium.launchPersistentContext(userDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args });
    pg = ctx.pages()[0] || await ctx.newPage();
    pg.on('console', m => process.stderr.write(`[page] ${m.text()}\n`));
    pg.on('pageerror', e => process.stderr.write(`[page error] ${e}\n`));
    await pg.exposeFunction('signalOut', signalOut);
    await pg.exposeFunction('peerLog', (s) => { process.stderr.write(`[browser] ${s}\n`); });
    await pg.exposeFunction('markTestPhase', () => { process.stderr.write('MARK\n'); });
    await pg.goto('file://' + path.join(__dirname, page));
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      line = line.trim();
      if (!line) return;
      let msg;
      try { msg = JSON.parse(line); } catch (e) { process.stderr.write(`bad signaling line: ${line}\n`); return; }
      if (msg === null || typeof msg !== 'object') { process.stderr.write(`bad signaling line: ${line}\n`); return; }
      if (msg.type === 'bye') { tellPage('bye'); return; }
      pg.evaluate((m) => window.onSignal(m), msg).catch(e => process.stderr.write(`onSignal: ${e}\n`));
    });
    rl.on('close', () => tellPage('stdin EOF'));
    process.stderr.write('READY\n');
    const r = await pg.evaluate((o) => window.runPeer(o), opts);
    await end(r);
  } catch (e) {
    await end({ ok: false, error: String(e && e.message || e) });
  }
}

module.exports = { runPeer, result };
