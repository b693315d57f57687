// The browser half of the interop peer contract (docs/interop.md). Runs inside
// Chromium; browser_peer.js relays signaling lines between this page and stdio.
'use strict';

const log = (...a) => window.peerLog(a.map(String).join(' '));

function candidateTypes(stats) {
  let pair = null;
  const byId = new Map();
  stats.forEach(s => byId.set(s.id, s));
  stats.forEach(s => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
  });
  if (!pair) stats.forEach(s => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
  if (!pair) return null;
  const l = byId.get(pair.localCandidateId), r = byId.get(pair.remoteCandidateId);
  return `${l ? l.candidateType : '?'}/${r ? r.candidateType : '?'}`;
}

// The transport protocol ("udp"/"tcp") of the selected pair's local candidate.
function selectedProtocol(stats) {
  let pair = null;
  const byId = new Map();
  stats.forEach(s => byId.set(s.id, s));
  stats.forEach(s => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
  });
  if (!pair) stats.forEach(s => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
  const l = pair && byId.get(pair.localCandidateId);
  return l ? l.protocol : null;
}

async function dataChannelStats(pc) {
  const out = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };
  (await pc.getStats()).forEach(s => {
    if (s.type === 'data-channel') {
      out.bytesSent += s.bytesSent || 0; out.bytesReceived += s.bytesReceived || 0;
      out.messagesSent += s.messagesSent || 0; out.messagesReceived += s.messagesReceived || 0;
    }
  });
  return out;
}

window.runPeer = async function (opts) {
  let offerStarted = null;   // performance.now() when createOffer began (offerer)
  const config = { iceServers: [] };
  if (opts.stun) config.iceServers.push({ urls: opts.stun });
  if (opts.turn) config.iceServers.push({ urls: opts.turn, username: opts.turnUser, credential: opts.turnPass });
  if (opts.relayOnly) config.iceTransportPolicy = 'relay';
  const pc = new RTCPeerConnection(config);
  window.pc = pc;
  const result = { ok: false };
  let finish;
  const finished = new Promise(r => { finish = r; });
  let finishedAlready = false;
  const done = (extra) => {
    if (finishedAlready) return;
    finishedAlready = true;
    Object.assign(result, extra);
    finish();
  };
  const fail = (err) => done({ ok: false, error: String(err) });
  // The other side's bye (or stdin EOF, from run_peer.js). A media sender ends on it;
  // any other test gets a moment for a last data-channel message, then fails.
  let peerGone;
  const byeReceived = new Promise(r => { peerGone = r; });
  window.onPeerGone = (why) => {
    log('the other side finished', why);
    peerGone(why);
    setTimeout(() => fail('the other side finished (' + why + ') before this side did'), 5000);
  };

  pc.onconnectionstatechange = () => {
    log('connectionState', pc.connectionState);
    if (pc.connectionState === 'failed') fail('connection failed');
  };
  if (opts.trickle) {
    pc.onicecandidate = (e) => {
      // End of candidates is not sent: the contract's candidate lines carry a candidate.
      if (e.candidate && e.candidate.candidate) {
        window.signalOut({ type: 'candidate', candidate: e.candidate.candidate,
                           sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex });
      }
    };
  }
  const gathered = () => new Promise(r => {
    if (pc.iceGatheringState === 'complete') return r();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') r(); });
  });
  const sendDescription = async () => {
    if (!opts.trickle) await gathered();
    window.signalOut({ type: pc.localDescription.type, sdp: pc.localDescription.sdp });
  };
  const pending = [];
  let answerApplied = null;
  // Start an offer/answer exchange from this side (renegotiation, ICE restart).
  const negotiate = async (restart) => {
    const applied = new Promise(r => { answerApplied = r; });
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: !!restart }));
    await sendDescription();
    await applied;
  };
  window.onSignal = async (msg) => {
    try {
      if (msg.type === 'offer' || msg.type === 'answer') {
        await pc.setRemoteDescription(msg);
        for (const c of pending.splice(0)) await pc.addIceCandidate(c);
        if (msg.type === 'answer' && answerApplied) { const r = answerApplied; answerApplied = null; r(); }
        if (msg.type === 'offer') {
          await pc.setLocalDescription(await pc.createAnswer());
          await sendDescription();
        }
      } else if (msg.type === 'candidate') {
        const c = { candidate: msg.candidate, sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex };
        if (c.sdpMid == null && c.sdpMLineIndex == null) c.sdpMLineIndex = 0;
        if (!pc.remoteDescription) pending.push(c); else await pc.addIceCandidate(c);
      } else {
        log('signaling message of type', msg.type, 'ignored');
      }
    } catch (e) { fail('signaling: ' + e); }
  };

  let opened = false;
  const onOpen = () => {
    if (opened) return;
    opened = true;
    window.markTestPhase();
    // The offerer's setup time: start of createOffer to channel open or connected.
    if (opts.role === 'offer' && offerStarted !== null) result.setup_ms = Math.round(performance.now() - offerStarted);
  };

  if (opts.test === 'dc-echo') {
    if (opts.role === 'offer') {
      const dc = pc.createDataChannel('chat');
      let sentAt;
      dc.onopen = () => { onOpen(dc); sentAt = performance.now(); dc.send('hello'); };
      dc.onmessage = (e) => {
        if (e.data === 'hello') done({ ok: true, echo_rtt_ms: +(performance.now() - sentAt).toFixed(3) });
        else fail('unexpected echo: ' + e.data);
      };
    } else {
      pc.ondatachannel = (e) => {
        const dc = e.channel;
        dc.onopen = () => onOpen(dc);
        if (dc.readyState === 'open') onOpen(dc);
        dc.onmessage = (m) => { dc.send(m.data); done({ ok: true }); };
      };
    }
  } else if (opts.test === 'dc-throughput') {
    // N bytes in 16 KiB binary messages, at most 1 MiB buffered, resumed at 256 KiB; the
    // answerer times first message to last byte and answers `done:N`.
    const total = opts.bytes || 64 * 1024 * 1024, chunk = 16 * 1024;
    if (opts.role === 'offer') {
      const dc = pc.createDataChannel('bulk');
      dc.binaryType = 'arraybuffer';
      dc.bufferedAmountLowThreshold = 256 * 1024;
      let sent = 0;
      const buf = new Uint8Array(chunk);
      const pump = () => {
        while (sent < total && dc.bufferedAmount + chunk <= 1024 * 1024) {
          const n = Math.min(chunk, total - sent);
          dc.send(n === chunk ? buf : buf.subarray(0, n));
          sent += n;
        }
      };
      dc.onbufferedamountlow = pump;
      dc.onopen = () => { onOpen(dc); pump(); };
      dc.onmessage = (e) => {
        const m = typeof e.data === 'string' ? /^done:(\d+)$/.exec(e.data) : null;
        if (!m) { fail('unexpected message from the answerer: ' + String(e.data).slice(0, 80)); return; }
        const n = parseInt(m[1], 10);
        done({ ok: n === total, bytes_sent: sent, peer_bytes_received: n,
               error: n === total ? undefined : `the answerer received ${n} of ${total} bytes` });
      };
    } else {
      pc.ondatachannel = (e) => {
        const dc = e.channel;
        dc.binaryType = 'arraybuffer';
        let got = 0, start = null;
        dc.onopen = () => onOpen(dc);
        if (dc.readyState === 'open') onOpen(dc);
        dc.onmessage = (m) => {
          if (start === null) start = performance.now();
          got += m.data.byteLength;
          if (got >= total && !finishedAlready) {
            const secs = Math.max(performance.now() - start, 1) / 1000;
            dc.send('done:' + got);
            done({ ok: got === total, bytes_received: got, mb_per_s: +(got / 1e6 / secs).toFixed(2),
                   mbps: +(got * 8 / 1e6 / secs).toFixed(2),
                   error: got === total ? undefined : `received ${got} of ${total} bytes` });
          }
        };
      };
    }

  } else if (opts.test === 'dc-suite') {
    runSuite(pc, opts, onOpen, done, fail, negotiate);   // not awaited: the offer goes out below
  } else if (opts.test === 'audio' || opts.test === 'video' || opts.test === 'av') {
    // media_tests.js; awaited so the offer below carries the track.
    try { await startMediaTest(pc, opts, onOpen, done, fail, byeReceived); } catch (e) { fail(e.message || String(e)); }
  } else if (opts.test === 'pcm') {
    // pcm_tests.js; awaited so the offer below carries the track.
    try { await startPcmTest(pc, opts, onOpen, done, fail); } catch (e) { fail(e.message || String(e)); }
  } else {
    fail('unknown test ' + opts.test);
  }

  if (opts.role === 'offer') {
    offerStarted = performance.now();
    await pc.setLocalDescription(await pc.createOffer());
    await sendDescription();
  }
  const timer = setTimeout(() => fail('timeout'), (opts.timeout || 60) * 1000);
  await finished;
  clearTimeout(timer);
  try {
    const st = await pc.getStats();
    result.selected_pair = candidateTypes(st);
    result.selected_protocol = selectedProtocol(st);
    if (opts.test.startsWith('dc-')) result.stats = await dataChannelStats(pc);
  } catch (e) { /* stats are best effort once closed */ }
  return result;
};

// dc-suite: channel kinds, message kinds, closing from each side, ICE restart from each
// side, and stats agreement. The offerer drives; the answerer echoes and obeys control
// messages on "reliable". Mirrors the same test in examples/interop_peer.lua.
const sleep = (ms) => new Promise(r => setTimeout(r, ms));
async function waitFor(pred, what, ms = 10000) {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(5);
  }
}
function channelStats(report, label) {
  let out = null;
  report.forEach(s => { if (s.type === 'data-channel' && s.label === label) out = s; });
  return out ? { bytesSent: out.bytesSent, bytesReceived: out.bytesReceived,
                 messagesSent: out.messagesSent, messagesReceived: out.messagesReceived } : null;
}
const asText = (d) => typeof d === 'string' ? 't:' + d : 'b:' + Array.from(new Uint8Array(d)).join(',');

async function runSuite(pc, opts, onOpen, done, fail, negotiate) {
  const labels = ['reliable', 'unordered', 'rexmit', 'lifetime', 'closer', 'offerer-closes'];
  const inits = { unordered: { ordered: false }, rexmit: { ordered: false, maxRetransmits: 0 },
                  lifetime: { maxPacketLifeTime: 2000 } };
  const ch = {}, got = {}, closed = {};
  const watch = (dc) => {
    dc.binaryType = 'arraybuffer';
    ch[dc.label] = dc; got[dc.label] = []; closed[dc.label] = false;
    dc.onclose = () => { closed[dc.label] = true; };
  };
  try {
    if (opts.role === 'offer') {
      for (const l of labels) {
        const dc = pc.createDataChannel(l, inits[l] || {});
        watch(dc);
        dc.onmessage = (e) => got[l].push(e.data);
      }
      await waitFor(() => labels.every(l => ch[l].readyState === 'open'), 'channels open', 30000);
      onOpen();
      const r = ch.reliable;
      const big = new Uint8Array(256 * 1024); for (let i = 0; i < big.length; i++) big[i] = i & 255;
      const sent = ['text', new Uint8Array([1, 2, 3]).buffer, '', new ArrayBuffer(0), big.buffer];
      for (const m of sent) r.send(m);
      await waitFor(() => got.reliable.length === sent.length, 'reliable echoes');
      for (let i = 0; i < sent.length; i++) {
        if (asText(got.reliable[i]) !== asText(sent[i])) throw new Error('echo ' + i + ' differs');
      }
      got.reliable = [];
      for (const l of ['unordered', 'rexmit', 'lifetime']) for (let i = 0; i < 20; i++) ch[l].send(l + i);
      await waitFor(() => ['unordered', 'rexmit', 'lifetime'].every(l => got[l].length === 20), 'partial echoes');
      for (const l of ['unordered', 'rexmit', 'lifetime']) {
        const want = new Set(Array.from({ length: 20 }, (_, i) => l + i));
        if (!got[l].every(m => want.delete(m)) || want.size) throw new Error(l + ' echoes differ');
      }
      ch['offerer-closes'].close();
      await waitFor(() => closed['offerer-closes'], 'offerer-closes closed');
      r.send('ctl:close-closer');
      await waitFor(() => closed.closer, 'closer closed by the answerer');
      await negotiate(true);
      await waitFor(() => pc.connectionState === 'connected', 'connected after restart');
      r.send('ping-1');
      await waitFor(() => got.reliable.includes('ping-1'), 'echo after our restart');
      r.send('ctl:restart');
      await waitFor(() => got.reliable.includes('restarted'), 'answerer restart');
      r.send('ping-2');
      await waitFor(() => got.reliable.includes('ping-2'), 'echo after their restart');
      r.send('ctl:done');
      await waitFor(() => got.reliable.some(m => typeof m === 'string' && m.startsWith('stats:')), 'peer stats');
      const theirs = JSON.parse(got.reliable.find(m => typeof m === 'string' && m.startsWith('stats:')).slice(6));
      const mine = channelStats(await pc.getStats(), 'reliable');
      done({ ok: true, mine, theirs, restarts: 2 });
    } else {
      let restartedSent = false;
      pc.ondatachannel = (e) => {
        const dc = e.channel;
        watch(dc);
        onOpen();
        dc.onmessage = async (m) => {
          if (dc.label === 'reliable' && typeof m.data === 'string' && m.data.startsWith('ctl:')) {
            const c = m.data.slice(4);
            if (c === 'close-closer') ch.closer.close();
            else if (c === 'restart') {
              await negotiate(true);
              await waitFor(() => pc.connectionState === 'connected', 'connected after restart');
              dc.send('restarted');
              restartedSent = true;
            } else if (c === 'done') {
              // Let the last echoes be counted on both sides before reporting.
              await sleep(100);
              const mine = channelStats(await pc.getStats(), 'reliable');
              dc.send('stats:' + JSON.stringify(mine));
              await waitFor(() => closed['offerer-closes'] && closed.closer, 'closes seen');
              done({ ok: restartedSent, mine });
            }
            return;
          }
          dc.send(m.data);
        };
      };
    }
  } catch (e) { fail(e.message || String(e)); }
}
