#!/usr/bin/env node
// Headless Chromium as the browser side of the frame transform interop test
// (spec/interop/browser_transform_spec.lua): loads transform.html, which offers one VP8
// video stream with or without an RTCRtpScriptTransform (XOR or AES-GCM, transform_worker.js).
//   node transform_peer.js --side send|recv --transform xor|aes-gcm|none [--key K] [--duration S]
'use strict';
const { runPeer, result } = require('./run_peer');

function parseArgs(argv) {
  const o = { side: 'send', transform: 'xor', key: '', duration: 6 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], next = () => argv[++i];
    switch (a) {
      case '--side': o.side = next(); break;
      case '--transform': o.transform = next(); break;
      case '--key': o.key = next(); break;
      case '--duration': o.duration = parseFloat(next()); break;
      default: throw new Error('unknown option ' + a);
    }
  }
  return o;
}

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { result({ ok: false, error: e.message }); process.exit(2); }
  // The worker script is a file next to the page: file:// pages need this to load it.
  await runPeer('transform.html', ['--use-fake-ui-for-media-stream', '--allow-file-access-from-files'], opts);
}
main();
