// Loads the stats page (modules/stats) in headless Chromium during a call, reads what
// it shows twice, a few samples apart, and saves a screenshot.
//   node stats_page.js URL SCREENSHOT.png
// Prints one JSON line: {first: reading, second: reading} or {error}.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// What the page shows now: its table row and graph data for the selected connection,
// and a checksum of the bitrate canvas's pixels.
function reading() {
  const s = window.statsPage;
  const c = s.conns.get(s.selected);
  const cv = document.getElementById('g_bitrate');
  const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
  let sum = 0, inked = 0;
  for (let i = 0; i < px.length; i += 4) {
    sum = (sum * 31 + px[i] + px[i + 1] * 7 + px[i + 2] * 13 + px[i + 3]) % 1000000007;
    if (px[i + 3] > 0) inked++;
  }
  const row = document.querySelector('#conns tbody tr.sel');
  return {
    samples: s.samples, selected: s.selected, connections: s.conns.size,
    points: c ? c.points.length : 0,
    last_point: c ? c.points[c.points.length - 1] : null,
    bytes_received: c ? c.summary.bytes_received : null,
    row: row ? [...row.children].map((td) => td.textContent) : null,
    canvas_sum: sum, canvas_inked: inked,
    rows: [...document.querySelectorAll('#conns tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
    sfu_title: [...document.querySelectorAll('#sfu h2')].map((h) => h.textContent),
    sfu_producers: [...document.querySelectorAll('#sfu table.producers tr')].slice(1)
      .map((tr) => [...tr.children].map((td) => td.textContent)),
    sfu_consumers: [...document.querySelectorAll('#sfu table.consumers tr')].slice(1)
      .map((tr) => [...tr.children].map((td) => td.textContent)),
    sfu: s.last ? s.last.sfu : null,
    estimates: Object.fromEntries([...s.conns].map(([id, c]) => [id, c.summary.estimate_bps ?? null])),
  };
}

(async () => {
  const [url, shot] = process.argv.slice(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stats-page-'));
  let ctx;
  const timer = setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(1); }, 40000);
  try {
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS,
      viewport: { width: 1400, height: 900 } });
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.statsPage && window.statsPage.samples >= 2 &&
      window.statsPage.conns.size >= 2, null, { timeout: 15000 });
    const first = await page.evaluate(reading);
    await page.waitForFunction((n) => window.statsPage.samples >= n + 2, first.samples, { timeout: 15000 });
    const second = await page.evaluate(reading);
    // the full W3C stats of a clicked connection
    await page.click('#conns tbody tr:nth-child(2)');
    await page.waitForFunction(() => document.getElementById('detail').textContent.includes('candidate-pair'),
      null, { timeout: 10000 });
    const detail = await page.evaluate(() => ({ id: document.getElementById('detail_id').textContent,
      text: document.getElementById('detail').textContent }));
    await page.click('#conns tbody tr:nth-child(1)');
    await page.waitForFunction(() => document.getElementById('detail').textContent.includes('candidate-pair'));
    // a few more seconds of graph for the picture
    await page.waitForFunction(() => window.statsPage.samples >= 12, null, { timeout: 20000 });
    // clicking a row scrolled it into view: the picture starts at the page's corner
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: shot, fullPage: false });
    console.log(JSON.stringify({ first, second, detail_id: detail.id, detail: JSON.parse(detail.text) }));
  } catch (e) {
    console.log(JSON.stringify({ error: String(e && e.stack || e) }));
  } finally {
    clearTimeout(timer);
    if (ctx) await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
