#!/usr/bin/env node
// Headless Chromium against the web demo (examples/web) served by luartc's signaling
// server. Run inside spec/browser/isolated.sh (spec/signaling_browser_spec.lua does):
//   node signaling_browser.js --luartc PATH --src DIR [--timeout S]
// It starts examples/demo.lua (server + chat bot) and examples/signaling_server.lua
// with a secret, then checks:
//   two-pages: two pages join a room, chat over a data channel, see each other's video;
//   bot:       a page and the luartc chat bot exchange chat through the signaling server;
//   bad-token: a page with a forged token is refused with close code 4001;
//   forged:    from a server that relays forged notices (spec/signaling_forging_server.lua),
//              the page ignores a leave and a join that carry `from`, acts on a real join.
// Prints one JSON line with the results on stdout; logs go to stderr.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { chromium } = require(path.join(__dirname, 'browser', 'node_modules', 'playwright-core'));

const opts = { timeout: 60 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = process.argv[++i];
  if (a === '--luartc') opts.luartc = v;
  else if (a === '--src') opts.src = v;
  else if (a === '--timeout') opts.timeout = parseFloat(v);
  else if (a === '--record-dir') opts.recordDir = v;
  else throw new Error('unknown option ' + a);
}
const log = (s) => process.stderr.write(s + '\n');
const children = [];

// Starts a luartc script; resolves with the child once `ready` matches a stdout line.
function startLuartc(args, env, ready) {
  return new Promise((resolve, reject) => {
    const e = Object.assign({}, process.env, env);
    if (process.env.LUARTC_LD_PRELOAD) e.LD_PRELOAD = process.env.LUARTC_LD_PRELOAD;
    const c = spawn(opts.luartc, args, { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    let buf = '';
    c.stdout.on('data', (d) => {
      buf += d;
      process.stderr.write('[' + path.basename(args[0]) + '] ' + d);
      if (ready.test(buf)) resolve(c);
    });
    c.stderr.on('data', (d) => process.stderr.write('[' + path.basename(args[0]) + ' err] ' + d));
    c.on('exit', (code) => reject(new Error(args[0] + ' exited with ' + code)));
  });
}

async function waitFor(page, fn, arg, what, seconds = 20) {
  try {
    return await page.waitForFunction(fn, arg, { timeout: seconds * 1000, polling: 100 });
  } catch (e) {
    throw new Error('timed out waiting for ' + what);
  }
}

async function openPage(ctx, url) {
  const page = await ctx.newPage();
  const tag = new URL(url).searchParams.get('name') || 'page';
  page.on('console', (m) => log(`[${tag}] ${m.text()}`));
  page.on('pageerror', (e) => log(`[${tag} error] ${e}`));
  await page.goto(url);
  return page;
}

const chatHas = (text) => window.demo.chat.some((m) => !m.self && m.text === text);

async function twoPages(ctx, base) {
  const a = await openPage(ctx, base + '?room=e2e&name=alice');
  await waitFor(a, () => window.demo.id !== null, null, 'alice welcome');
  const b = await openPage(ctx, base + '?room=e2e&name=bob');
  await waitFor(b, () => window.demo.id !== null, null, 'bob welcome');
  const openDc = () => [...window.demo.peers.values()].some((p) => p.dc && p.dc.readyState === 'open');
  await waitFor(a, openDc, null, 'alice data channel');
  await waitFor(b, openDc, null, 'bob data channel');
  const sent = await a.evaluate(() => window.demo.sendChat('hi from alice'));
  await waitFor(b, chatHas, 'hi from alice', 'chat at bob');
  await b.evaluate(() => window.demo.sendChat('hi back from bob'));
  await waitFor(a, chatHas, 'hi back from bob', 'chat at alice');
  const res = { ok: true, sent };
  // Video both ways from the fake camera: decoded frames in each page's stats.
  const decoding = () => Object.values(window.demo.stats || {}).some((s) => s.framesDecoded > 0);
  try {
    await waitFor(a, decoding, null, 'video at alice', 20);
    await waitFor(b, decoding, null, 'video at bob', 20);
    res.video = true;
    res.videoInfo = await b.evaluate(() => Object.values(window.demo.stats).map((s) => s.video));
  } catch (e) {
    res.video = false;
    res.videoError = e.message;
  }
  await a.close();
  await waitFor(b, () => window.demo.peers.size === 0, null, 'leave at bob');
  await b.close();
  return res;
}

async function withBot(ctx, base) {
  const p = await openPage(ctx, base + '?room=demo&name=carol');
  await waitFor(p, () => window.demo.id !== null, null, 'welcome');
  await waitFor(p, () => [...window.demo.peers.values()].some((x) => x.info && x.info.bot && x.dc &&
                                                                 x.dc.readyState === 'open'), null, 'bot channel');
  await p.evaluate(() => window.demo.sendChat('hello bot'));
  await waitFor(p, () => window.demo.chat.some((m) => m.from === 'chat-bot' && m.text === 'carol said: hello bot'),
                null, 'bot reply');
  const reply = await p.evaluate(() => window.demo.chat.filter((m) => m.from === 'chat-bot').map((m) => m.text));
  // The echo bot sends the page's own camera back: frames decoded from a bot peer.
  await waitFor(p, () => Object.entries(window.demo.stats || {}).some(([id, s]) => {
    const peer = window.demo.peers.get(id);
    return peer && peer.info && peer.info.bot && s.framesDecoded > 0;
  }), null, 'video from the echo bot', 30);
  // Let the recorder collect a few seconds of this page before it leaves.
  await p.waitForTimeout(2000);
  await p.close();
  return { ok: true, reply, echo: true };
}

async function badToken(ctx, base) {
  const p = await openPage(ctx, base + '?room=locked&name=eve&token=forged.token&media=0');
  await waitFor(p, () => window.demo.closeCode !== null, null, 'refusal');
  const r = await p.evaluate(() => ({ code: window.demo.closeCode, id: window.demo.id, status: window.demo.status }));
  await p.close();
  return { ok: r.code === 4001 && r.id === null, code: r.code, status: r.status };
}

async function forged(ctx, base) {
  const p = await openPage(ctx, base + '?room=forged&name=dave&media=0');
  await waitFor(p, () => window.demo.peers.has('carol'), null, 'the real join');
  const r = await p.evaluate(() => ({ peers: [...window.demo.peers.keys()].sort(), ignored: window.demo.ignored }));
  await p.close();
  return { ok: r.ignored === 2 && r.peers.join(',') === 'bob,carol', peers: r.peers, ignored: r.ignored };
}

async function main() {
  const results = {};
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luartc-demo-'));
  let ctx;
  const timer = setTimeout(() => { log('overall timeout'); finish(1); }, opts.timeout * 1000);
  async function finish(code) {
    clearTimeout(timer);
    process.stdout.write(JSON.stringify(results) + '\n');
    for (const c of children) c.kill('SIGTERM');
    try { if (ctx) await ctx.close(); } catch (e) { /* gone */ }
    fs.rmSync(userDir, { recursive: true, force: true });
    process.exit(code);
  }
  try {
    const port = 18000 + Math.floor(Math.random() * 2000);
    const demoP = startLuartc([path.join(opts.src, 'examples', 'demo.lua')],
                              { PORT: String(port), RECORD_DIR: opts.recordDir || '/tmp' }, /Open http/);
    const lockedP = startLuartc([path.join(opts.src, 'examples', 'signaling_server.lua'), '--listen',
                                 `127.0.0.1:${port + 1}`, '--secret', 'e2e-secret',
                                 '--web', path.join(opts.src, 'examples', 'web')], {}, /signaling on/);
    const forgingP = startLuartc([path.join(opts.src, 'spec', 'signaling_forging_server.lua'), String(port + 2),
                                  path.join(opts.src, 'examples', 'web')], {}, /forging server on/);
    await Promise.all([demoP, lockedP, forgingP]);
    ctx = await chromium.launchPersistentContext(userDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
             '--autoplay-policy=no-user-gesture-required'] });
    const base = `http://127.0.0.1:${port}/`;
    for (const [name, fn, b] of [['two_pages', twoPages, base], ['bot', withBot, base],
                                 ['bad_token', badToken, `http://127.0.0.1:${port + 1}/`],
                                 ['forged', forged, `http://127.0.0.1:${port + 2}/`]]) {
      try { results[name] = await fn(ctx, b); } catch (e) { results[name] = { ok: false, error: e.message }; }
      log(`${name}: ${JSON.stringify(results[name])}`);
    }
    await finish(0);
  } catch (e) {
    results.error = e.message;
    await finish(1);
  }
}

main();
