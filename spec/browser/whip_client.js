#!/usr/bin/env node
// Headless Chromium as a WHIP publisher or WHEP subscriber (spec/browser/whip_page.js).
//   node whip_client.js --role publish|subscribe --url URL [--token T] [--duration S] [--frames N]
//                       [--simulcast] (publisher: three VP8 layers) [--svc MODE] (VP9 with scalabilityMode MODE)
//                       [--camera WxH] (publisher: the fake camera's size, default 640x480) [--watch [--done-url URL]] (subscriber: frameWidth changes)
// Reports RESULT {json} on stderr (run_peer.js); stdin EOF ends it.
'use strict';
const { runPeer, result } = require('./run_peer');

function parseArgs(argv) {
  const o = { role: 'subscribe', duration: 20, frames: 30 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => argv[++i];
    switch (a) {
      case '--role': o.role = next(); break;
      case '--url': o.url = next(); break;
      case '--token': o.token = next(); break;
      case '--duration': o.duration = parseFloat(next()); break;
      case '--frames': o.frames = parseInt(next(), 10); break;
      case '--simulcast': o.simulcast = true; break;
      case '--svc': o.svc = next(); break;
      case '--camera': o.camera = next().split('x').map(Number); break;
      case '--watch': o.watch = true; break;
      case '--done-url': o.doneUrl = next(); break;
      default: throw new Error('unknown option ' + a);
    }
  }
  if (!o.url) throw new Error('--url is required');
  return o;
}

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { result({ ok: false, error: e.message }); process.exit(2); }
  // Chromium sends fewer simulcast layers than asked for below 960x540 (the fake camera
  // is 640x480) unless that limit is off.
  const flags = ['--use-fake-ui-for-media-stream'];
  if (opts.simulcast) flags.push('--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/');
  await runPeer('whip.html', flags, opts);
}
main();
