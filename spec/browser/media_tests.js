// The `audio`, `video` and `av` tests of the interop peer contract (docs/interop.md)
// for the browser peer page; mirrors examples/interop_peer.lua. The offerer sends,
// `sendonly`, a 440 Hz WebAudio tone (audio) and/or the fake camera as VP8 (video)
// until the answerer's bye (a sender has no end of its own) and reports `frames_sent`.
// The answerer waits for the first packet of each kind, then measures for the duration
// (default 5 s) and reports `frames_received`, `packets_received`, `packets_lost`,
// `codec`, for audio `audio_energy` (the RMS level over the measured time, full scale
// 1, from totalAudioEnergy / totalSamplesDuration) and `decoded` (not silent), for
// video `frames_decoded`, `keyframes`, `width`/`height`, and `samples`, one inbound-rtp
// snapshot a second. `av` does both kinds on one connection and reports each in its own
// object.
'use strict';

const mediaSleep = (ms) => new Promise(r => setTimeout(r, ms));

function whenConnected(pc) {
  return new Promise(r => {
    if (pc.connectionState === 'connected') return r();
    pc.addEventListener('connectionstatechange', () => { if (pc.connectionState === 'connected') r(); });
  });
}

// Sends one kind until the receiver's bye; resolves to its report.
async function sendKind(pc, kind, track, ctx, byeReceived) {
  await whenConnected(pc);
  await byeReceived;
  const s = await rtpOf(pc, kind);
  const out = s.outbound || {};
  // An Opus packet carries one 20 ms frame.
  const sent = kind === 'audio' ? (out.packetsSent || 0) : (out.framesSent || 0);
  track.stop();
  if (ctx) ctx.close();
  return { ok: sent > 0, frames_sent: sent, packets_sent: out.packetsSent || 0, codec: s.codec };
}

// Measures one received kind from its first packet on; resolves to its report.
async function measureKind(pc, kind, duration, onOpen) {
  await whenConnected(pc);
  let s;
  for (;;) {
    s = await rtpOf(pc, kind);
    if (s.inbound && s.inbound.packetsReceived > 0) break;
    await mediaSleep(50);
  }
  onOpen();
  const t0 = performance.now();
  const first = inboundSample(s.inbound, t0);
  const samples = [first];
  for (let i = 0; i < duration; i++) {
    await mediaSleep(1000);
    s = await rtpOf(pc, kind);
    samples.push(inboundSample(s.inbound, t0));
  }
  const last = samples[samples.length - 1];
  const r = { ok: last.packets_received > 0, codec: s.codec, samples, duration_s: duration,
              packets_received: last.packets_received, packets_lost: last.packets_lost };
  if (kind === 'audio') {
    const secs = last.total_samples_duration - first.total_samples_duration;
    const energy = last.total_audio_energy - first.total_audio_energy;
    r.audio_energy = secs > 0 ? +Math.sqrt(energy / secs).toFixed(5) : 0;
    r.total_audio_energy = last.total_audio_energy;
    r.frames_received = last.packets_received;
    // Decoded silence is not exactly zero; a tone is far above this.
    r.decoded = r.audio_energy > 0.001;
    r.ok = r.ok && r.decoded;
  } else {
    r.frames_received = s.inbound.framesReceived || 0;
    r.frames_decoded = last.frames_decoded;
    r.keyframes = s.inbound.keyFramesDecoded || 0;
    r.width = s.inbound.frameWidth;
    r.height = s.inbound.frameHeight;
    r.ok = r.ok && last.frames_decoded > 0;
  }
  if (!r.ok) r.error = 'nothing ' + (kind === 'audio' ? 'audible' : 'decoded') + ' arrived';
  return r;
}

// One kind: its report flat; `av`: one object per kind, ok when both are.
function combine(kinds, reports) {
  if (kinds.length === 1) return reports[0];
  const out = { ok: reports.every(r => r.ok) };
  const errors = [];
  kinds.forEach((k, i) => {
    const r = Object.assign({}, reports[i]);
    if (r.error) errors.push(k + ': ' + r.error);
    delete r.ok; delete r.error;
    out[k] = r;
  });
  if (errors.length) out.error = errors.join('; ');
  return out;
}

// Called before the offer is made: adds the sending tracks (offerer) or the receiving
// side (answerer). Resolves once the offer may be created; the test then runs on and
// ends through done()/fail().
// byeReceived: resolves on the other side's bye (ends the sending).
async function startMediaTest(pc, opts, onOpen, done, fail, byeReceived) {
  const kinds = opts.test === 'av' ? ['audio', 'video'] : [opts.test];
  const duration = opts.duration || 5;
  let runs;
  if (opts.role === 'offer') {
    runs = [];
    for (const kind of kinds) {
      let track, ctx = null;
      if (kind === 'audio') ({ track, ctx } = toneTrack(440));
      else track = await cameraTrack();
      const tr = pc.addTransceiver(track, { direction: 'sendonly' });
      preferCodec(tr, kind === 'audio' ? 'audio/opus' : 'video/VP8');
      runs.push(() => sendKind(pc, kind, track, ctx, byeReceived));
    }
    whenConnected(pc).then(onOpen);
  } else {
    pc.ontrack = (e) => { if (kinds.includes(e.track.kind)) playOut(e.track); };
    runs = kinds.map(kind => () => measureKind(pc, kind, duration, onOpen));
  }
  Promise.all(runs.map(f => f())).then(reports => done(combine(kinds, reports))).catch(fail);
}
