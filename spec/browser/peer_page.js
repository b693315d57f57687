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
  const t0 = performance.now();
  const config = { iceServers: [] };
  if (opts.stun) config.iceServers.push({ urls: opts.stun });
  if (opts.turn) config.iceServers.push({ urls: opts.turn, username: opts.turnUser, credential: opts.turnPass });
  if (opts.relayOnly) config.iceTransportPolicy = 'relay';
  const pc = new RTCPeerConnection(config);
  window.pc = pc;
  const result = { ok: false };
  let finish;
  const finished = new Promise(r => { finish = r; });
  const done = (extra) => { Object.assign(result, extra); finish(); };
  const fail = (err) => done({ ok: false, error: String(err) });

  pc.onconnectionstatechange = () => {
    log('connectionState', pc.connectionState);
    if (pc.connectionState === 'failed') fail('connection failed');
  };
  if (opts.trickle) {
    pc.onicecandidate = (e) => {
      if (e.candidate) window.signalOut({ type: 'candidate', candidate: e.candidate.candidate,
                                           sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex });
      else window.signalOut({ type: 'candidate', candidate: '', sdpMid: null, sdpMLineIndex: 0 });
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
  window.onSignal = async (msg) => {
    try {
      if (msg.type === 'offer' || msg.type === 'answer') {
        await pc.setRemoteDescription(msg);
        for (const c of pending.splice(0)) await pc.addIceCandidate(c);
        if (msg.type === 'offer') {
          await pc.setLocalDescription(await pc.createAnswer());
          await sendDescription();
        }
      } else if (msg.type === 'candidate') {
        const c = { candidate: msg.candidate, sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex };
        if (!pc.remoteDescription) pending.push(c); else await pc.addIceCandidate(c);
      }
    } catch (e) { fail('signaling: ' + e); }
  };

  let opened = false;
  const onOpen = () => {
    if (opened) return;
    opened = true;
    window.markTestPhase();
    result.setup_ms = Math.round(performance.now() - t0);
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
    const total = opts.bytes || 16 * 1024 * 1024, chunk = 16 * 1024;
    if (opts.role === 'offer') {
      const dc = pc.createDataChannel('bulk');
      dc.binaryType = 'arraybuffer';
      dc.bufferedAmountLowThreshold = 1024 * 1024;
      let sent = 0, start;
      const buf = new Uint8Array(chunk);
      const pump = () => {
        while (sent < total && dc.bufferedAmount < 4 * 1024 * 1024) {
          const n = Math.min(chunk, total - sent);
          dc.send(n === chunk ? buf : buf.subarray(0, n));
          sent += n;
        }
      };
      dc.onbufferedamountlow = pump;
      dc.onopen = () => { onOpen(dc); start = performance.now(); pump(); };
      dc.onmessage = (e) => {
        const secs = (performance.now() - start) / 1000;
        try {
          const r = JSON.parse(e.data);
          done({ ok: r.bytes_received === total, bytes_sent: sent, mb_per_s: +(total / 1e6 / secs).toFixed(2),
                 error: r.bytes_received === total ? undefined : 'peer received ' + r.bytes_received });
        } catch (err) { fail('bad report: ' + e.data); }
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
          if (got >= total) {
            const secs = (performance.now() - start) / 1000;
            dc.send(JSON.stringify({ bytes_received: got }));
            done({ ok: got === total, bytes_received: got, mb_per_s: +(got / 1e6 / secs).toFixed(2) });
          }
        };
      };
    }
  } else {
    fail('unknown test ' + opts.test);
  }

  if (opts.role === 'offer') {
    await pc.setLocalDescription(await pc.createOffer());
    await sendDescription();
  }
  const timer = setTimeout(() => fail('timeout'), (opts.timeout || 30) * 1000);
  await finished;
  clearTimeout(timer);
  try {
    result.selected_pair = candidateTypes(await pc.getStats());
    result.stats = await dataChannelStats(pc);
  } catch (e) { /* stats are best effort once closed */ }
  // Give the last message time to leave before the page is torn down.
  await new Promise(r => setTimeout(r, 300));
  return result;
};
