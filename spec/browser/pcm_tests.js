// The `pcm` test of the interop peer contract (docs/interop.md) for the browser peer
// page; mirrors the same test in examples/interop_peer.lua. Both sides send and receive
// one audio track (sendrecv): here a WebAudio tone of --frequency Hz (660). The received
// track is measured for the duration from its first packet: getStats as in the `audio`
// test (audio_energy, packets), and its frequency from an AnalyserNode's waveform
// (rising zero crossings), several snapshots a second apart. The report also has both
// sides' Opus fmtp as negotiated.
'use strict';

// Opus's fmtp parameters in a description, or null.
function opusFmtp(desc) {
  if (!desc) return null;
  const m = /a=rtpmap:(\d+) opus\/48000/i.exec(desc.sdp);
  if (!m) return null;
  const f = new RegExp('a=fmtp:' + m[1] + ' ([^\\r\\n]*)').exec(desc.sdp);
  return f ? f[1] : null;
}

// Frequency of a waveform from its rising zero crossings, with a dead band so that
// codec noise near zero does not count; null without two crossings.
function zeroCrossingHz(wave, rate, band = 0.02) {
  let state = 0, crossings = 0, first = -1, last = -1;
  for (let i = 0; i < wave.length; i++) {
    const v = wave[i];
    if (v < -band) state = -1;
    else if (v > band && state === -1) {
      state = 1;
      crossings++;
      if (first < 0) first = i;
      last = i;
    }
  }
  return crossings >= 2 ? (crossings - 1) * rate / (last - first) : null;
}

// Listens to a received track through WebAudio; snapshot() gives the frequency of the
// last ~0.68 s. The analyser is pulled through a silent gain so the graph runs.
function analyse(track) {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const src = ctx.createMediaStreamSource(new MediaStream([track]));
  const an = ctx.createAnalyser();
  an.fftSize = 32768;
  const mute = ctx.createGain();
  mute.gain.value = 0;
  src.connect(an).connect(mute).connect(ctx.destination);
  const wave = new Float32Array(an.fftSize);
  return {
    ctx,
    snapshot() {
      an.getFloatTimeDomainData(wave);
      let peak = 0;
      for (const v of wave) peak = Math.max(peak, Math.abs(v));
      const hz = zeroCrossingHz(wave, ctx.sampleRate);
      return { hz: hz === null ? null : +hz.toFixed(2), peak: +peak.toFixed(4) };
    },
  };
}

async function startPcmTest(pc, opts, onOpen, done, fail) {
  const duration = opts.duration || 5;
  const tone = toneTrack(opts.frequency || 660);
  const stream = new MediaStream([tone.track]);
  if (opts.role === 'offer') {
    const tr = pc.addTransceiver(tone.track, { direction: 'sendrecv', streams: [stream] });
    preferCodec(tr, 'audio/opus');
  } else {
    // addTrack's transceiver is the one the offer's audio section takes (JSEP 5.10),
    // so the answer sends on it.
    pc.addTrack(tone.track, stream);
  }
  const received = new Promise(r => {
    pc.ontrack = (e) => { if (e.track.kind === 'audio') { playOut(e.track); r(e.track); } };
  });
  (async () => {
    const track = await received;
    const listener = analyse(track);
    const snapshots = [];
    const measuring = measureKind(pc, 'audio', duration, onOpen);
    // The first second lets the decoder and jitter buffer settle and fills the window.
    await mediaSleep(1200);
    for (let i = 0; i < Math.max(1, duration - 1); i++) {
      snapshots.push(listener.snapshot());
      await mediaSleep(1000);
    }
    const r = await measuring;
    const sent = (await rtpOf(pc, 'audio')).outbound || {};
    const heard = snapshots.map(s => s.hz).filter(h => h !== null).sort((a, b) => a - b);
    r.frequency_hz = heard.length ? heard[heard.length >> 1] : null;
    r.snapshots = snapshots;
    r.packets_sent = sent.packetsSent || 0;
    r.local_opus_fmtp = opusFmtp(pc.localDescription);
    r.remote_opus_fmtp = opusFmtp(pc.remoteDescription);
    // Keep the tone going a little: the other side measures from its own first packet.
    await mediaSleep(1500);
    tone.track.stop();
    tone.ctx.close();
    listener.ctx.close();
    done(r);
  })().catch(fail);
}
