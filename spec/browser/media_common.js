// Media helpers shared by the browser peer pages (peer_page.js, media_page.js,
// transform_page.js): a signaling inbox, codec preference, what the browser sends (a
// WebAudio tone, the fake camera), and what getStats says about a received track.
'use strict';

// Installs window.onSignal (run_peer.js calls it with each signaling message) and
// returns nextSignal(type), which resolves with the first message of that type. Messages
// can arrive before the page is ready for them (getUserMedia takes a while): they wait
// in an inbox until asked for.
function signalInbox() {
  const inbox = [];
  let waiter = null;
  window.onSignal = (msg) => {
    inbox.push(msg);
    if (waiter) { const w = waiter; waiter = null; w(); }
  };
  return async function nextSignal(type) {
    for (;;) {
      const i = inbox.findIndex(m => m.type === type);
      if (i >= 0) return inbox.splice(i, 1)[0];
      await new Promise(r => { waiter = r; });
    }
  };
}

// Put `mime` first in the transceiver's codec list (H264 only in packetization-mode 1).
function preferCodec(transceiver, mime) {
  const kind = mime.split('/')[0].toLowerCase();
  const caps = RTCRtpReceiver.getCapabilities(kind).codecs;
  const want = caps.filter(c => c.mimeType.toLowerCase() === mime.toLowerCase() &&
    (mime.toLowerCase() !== 'video/h264' || /packetization-mode=1/.test(c.sdpFmtpLine || '')));
  const rest = caps.filter(c => !want.includes(c));
  if (!want.length) throw new Error('no ' + mime + ' in this browser');
  transceiver.setCodecPreferences(want.concat(rest));
}

// A sine tone as a live audio track: OscillatorNode -> MediaStreamDestination. The
// context is returned too, so the caller can close it.
function toneTrack(frequency = 440, gain = 0.25) {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const osc = ctx.createOscillator();
  osc.frequency.value = frequency;
  const amp = ctx.createGain();
  amp.gain.value = gain;
  const dest = ctx.createMediaStreamDestination();
  osc.connect(amp).connect(dest);
  osc.start();
  return { track: dest.stream.getAudioTracks()[0], ctx };
}

async function cameraTrack(width = 640, height = 480) {
  const s = await navigator.mediaDevices.getUserMedia({ video: { width, height } });
  return s.getVideoTracks()[0];
}

// A received audio track is only decoded (and its level measured) while something
// pulls it: play it through a media element (headless Chromium has no speaker).
function playOut(track) {
  const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
  el.srcObject = new MediaStream([track]);
  el.muted = false;
  el.autoplay = true;
  el.play().catch(() => {});
  document.body.appendChild(el);
  return el;
}

// inbound-rtp / outbound-rtp of one kind, the fields the interop tests report.
async function rtpOf(pc, kind) {
  const out = { inbound: null, outbound: null, codec: null };
  const stats = await pc.getStats();
  const codecs = {};
  stats.forEach(s => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
  stats.forEach(s => {
    if (s.kind !== kind) return;
    if (s.type === 'inbound-rtp') {
      out.inbound = s;
      out.codec = codecs[s.codecId] || out.codec;
    } else if (s.type === 'outbound-rtp') {
      out.outbound = s;
      out.codec = codecs[s.codecId] || out.codec;
    }
  });
  return out;
}

// One sample of a received track for the reports: counters as getStats has them.
function inboundSample(s, t0) {
  return {
    t_ms: Math.round(performance.now() - t0),
    packets_received: s.packetsReceived || 0,
    packets_lost: s.packetsLost || 0,
    frames_decoded: s.framesDecoded || 0,
    total_audio_energy: s.totalAudioEnergy || 0,
    total_samples_duration: s.totalSamplesDuration || 0,
  };
}
