// Loads the ICE/TURN tester page (modules/icepage) in headless Chromium with ?run=1 and
// prints what the page found as one JSON line, {events, results} or {error}; with a
// second argument, saves a screenshot there.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

(async () => {
  const [url, shot] = process.argv.slice(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ice-page-'));
  let ctx;
  const timer = setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(1); }, 60000);
  try {
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS,
      viewport: { width: 1000, height: 640 } });
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.iceTest && window.iceTest.done, null, { timeout: 45000 });
    const res = await page.evaluate(() => ({ events: window.iceTest.events, results: window.iceTest.results,
      rows: [...document.querySelectorAll('#results tbody tr')].map((tr) => tr.textContent) }));
    if (shot) await page.screenshot({ path: shot });
    console.log(JSON.stringify(res));
  } catch (e) {
    console.log(JSON.stringify({ error: String(e && e.stack || e) }));
  } finally {
    clearTimeout(timer);
    if (ctx) await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
