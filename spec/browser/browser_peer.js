#!/usr/bin/env node
// Headless Chromium as an interop peer (docs/interop.md): the same command-line and
// stdio signaling contract as examples/interop_peer.lua, so the pairing script can
// connect any two peers. Logs go to stderr with READY, MARK and one `RESULT {json}` line;
// the page's report is followed by bye and the wait for the other side's (run_peer.js).
//   node browser_peer.js --role offer|answer --test dc-echo|dc-throughput|dc-suite|audio|video|av|pcm
//        [--trickle] [--bytes N] [--duration S] [--frequency HZ] [--stun URL] [--turn URL --turn-user U --turn-pass P]
//        [--relay-only] [--expose-ips] [--media] [--timeout S]
'use strict';
const { runPeer, result } = require('./run_peer');

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
      case '--duration': o.duration = parseFloat(next()); break;
      case '--stun': o.stun = next(); break;
      case '--turn': o.turn = next(); break;
      case '--turn-user': o.turnUser = next(); break;
      case '--turn-pass': o.turnPass = next(); break;
      case '--relay-only': o.relayOnly = true; break;
      case '--expose-ips': o.exposeIps = true; break;
      case '--media': o.media = true; break;
      case '--timeout': o.timeout = parseFloat(next()); break;
      case '--frequency': o.frequency = parseFloat(next()); break;
      default:
        // Options for tests or peers this one does not need (--file, --record, ...) are
        // accepted and ignored, with the value after them if any.
        if (a.startsWith('--') && i + 1 < argv.length && !argv[i + 1].startsWith('--')) i++;
        process.stderr.write(`ignoring option ${a}\n`);
    }
  }
  if (!['offer', 'answer'].includes(o.role)) throw new Error('--role must be offer or answer');
  return o;
}

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { result({ ok: false, error: e.message }); process.exit(2); }
  const extra = [];
  // Granting media permission makes Chromium expose host addresses; data channel tests
  // keep its default (mDNS .local host candidates) unless asked otherwise.
  if (opts.media || ['audio', 'video', 'av', 'pcm'].includes(opts.test)) extra.push('--use-fake-ui-for-media-stream');
  // Chromium's default hides host addresses behind mDNS .local names; keep that
  // unless a test asks for real addresses.
  if (opts.exposeIps) extra.push('--disable-features=WebRtcHideLocalIpsWithMdns');
  await runPeer('peer.html', extra, opts);
}
main();
