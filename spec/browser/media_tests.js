// The `audio` and `video` tests of the interop peer contract (docs/interop.md) for the
// browser peer page; mirrors examples/interop_peer.lua. The offerer sends, `sendonly`,
// a 440 Hz WebAudio tone (audio) or the fake camera as VP8 (video) for the duration
// plus one second and reports `frames_sent`. The answerer waits for the first packet,
// then measures for the duration and reports `frames_received`, `packets_received`,
// `packets_lost`, `frames_decoded`, `audio_energy` (the RMS level over the measured time,
// full scale 1, from totalAudioEnergy / totalSamplesDuration) and `samples`, one
// inbound-rtp snapshot a second.
'use strict';

// Called before the offer is made: adds the sending track (offerer) or the receiving
// side (answerer). Resolves once the offer may be created; the test then runs on and
// ends through done()/fail().
async function startMediaTest(pc, opts, onOpen, done, fail) {
  const kind = opts.test, duration = opts.duration || 3;
  const sleep = (ms) => new Promise(r => setTimeout(r, ms));
  const connected = () => new Promise(r => {
    if (pc.connectionState === 'connected') return r();
    pc.addEventListener('connectionstatechange', () => { if (pc.connectionState === 'connected') r(); });
  });

  if (opts.role === 'offer') {
    let track, ctx = null;
    if (kind === 'audio') ({ track, ctx } = toneTrack(440));
    else track = await cameraTrack();
    const tr = pc.addTransceiver(track, { direction: 'sendonly' });
    preferCodec(tr, kind === 'audio' ? 'audio/opus' : 'video/VP8');
    (async () => {
      await connected();
      onOpen();
      await sleep((duration + 1) * 1000);
      const s = await rtpOf(pc, kind);
      const out = s.outbound || {};
      // An Opus packet carries one 20 ms frame.
      const sent = kind === 'audio' ? (out.packetsSent || 0) : (out.framesSent || 0);
      track.stop();
      if (ctx) ctx.close();
      done({ ok: sent > 0, frames_sent: sent, packets_sent: out.packetsSent || 0, codec: s.codec });
    })().catch(fail);
    return;
  }

  pc.ontrack = (e) => { if (e.track.kind === kind) playOut(e.track); };
  (async () => {
    await connected();
    // The test phase starts with the first packet, as on the luartc side.
    let s;
    for (;;) {
      s = await rtpOf(pc, kind);
      if (s.inbound && s.inbound.packetsReceived > 0) break;
      await sleep(50);
    }
    onOpen();
    const t0 = performance.now();
    const first = inboundSample(s.inbound, t0);
    const samples = [first];
    for (let i = 0; i < duration; i++) {
      await sleep(1000);
      s = await rtpOf(pc, kind);
      samples.push(inboundSample(s.inbound, t0));
    }
    const last = samples[samples.length - 1];
    const r = { ok: last.packets_received > 0, codec: s.codec, samples,
                packets_received: last.packets_received, packets_lost: last.packets_lost };
    if (kind === 'audio') {
      const secs = last.total_samples_duration - first.total_samples_duration;
      const energy = last.total_audio_energy - first.total_audio_energy;
      r.audio_energy = secs > 0 ? +Math.sqrt(energy / secs).toFixed(5) : 0;
      r.total_audio_energy = last.total_audio_energy;
      r.frames_received = last.packets_received;
      r.ok = r.ok && r.audio_energy > 0;
    } else {
      r.frames_received = s.inbound.framesReceived || 0;
      r.frames_decoded = last.frames_decoded;
      r.ok = r.ok && last.frames_decoded > 0;
    }
    if (!r.ok) r.error = 'nothing ' + (kind === 'audio' ? 'audible' : 'decoded') + ' arrived';
    done(r);
  })().catch(fail);
}
