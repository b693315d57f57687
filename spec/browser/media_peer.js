#!/usr/bin/env node
// Headless Chromium as a media interop peer: offers its fake camera and microphone
// (sendrecv) with the chosen video codec first, then after --duration seconds reports
// getStats() for both directions. Signaling and RESULT as browser_peer.js (docs/interop.md).
// With --role answer it answers the other side's offer with the camera and microphone.
// With --data it also opens a data channel and expects its "hello" echoed; with
// --simulcast the video goes out as three RID layers.
// --fps N asks the fake camera for N frames a second.
//   node media_peer.js [--role offer|answer] [--codec VP8|H264] [--duration S] [--data] [--simulcast] [--fps N]
'use strict';
const { runPeer, result } = require('./run_peer');

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
      case '--fps': o.fps = parseFloat(next()); break;
      default: throw new Error('unknown option ' + a);
    }
  }
  return o;
}

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { result({ ok: false, error: e.message }); process.exit(2); }
  const extra = ['--use-fake-ui-for-media-stream'];
  await runPeer('media.html', extra, opts);
}
main();
