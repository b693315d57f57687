// A WHIP publisher or WHEP subscriber page (RFC 9725): the offer goes to the endpoint
// with fetch() from the page, the answer (with all the server's candidates) comes back
// in the 201. The publisher sends the fake camera (VP8) and a tone for `duration` s;
// a subscriber retries on 503 as Retry-After says, then plays what it gets and reports
// getStats() once framesDecoded and totalAudioEnergy have risen (or at `duration`).
'use strict';

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise(r => pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') r();
  }));
}

async function exchange(pc, url, token) {
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = 'Bearer ' + token;
  for (let tries = 0; ; tries++) {
    const r = await fetch(url, { method: 'POST', headers, body: pc.localDescription.sdp });
    if (r.status === 503 && tries < 60) {
      const wait = parseFloat(r.headers.get('Retry-After') || '1');
      await new Promise(res => setTimeout(res, wait * 250));   // a quarter: the test is short
      continue;
    }
    if (r.status !== 201) throw new Error(url + ': ' + r.status + ' ' + (await r.text()));
    const location = r.headers.get('Location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await r.text() });
    return { location, retries: tries };
  }
}

window.runPeer = async function (o) {
  const pc = new RTCPeerConnection();
  const out = { ok: false, role: o.role };
  try {
    if (o.role === 'publish') {
      const cam = await cameraTrack();
      const tone = toneTrack(440, 0.3);
      const v = pc.addTransceiver(cam, { direction: 'sendonly' });
      preferCodec(v, 'video/VP8');
      pc.addTransceiver(tone.track, { direction: 'sendonly' });
      Object.assign(out, await exchange(pc, o.url, o.token));
      await new Promise(r => setTimeout(r, o.duration * 1000));
      const vs = await rtpOf(pc, 'video');
      out.framesEncoded = vs.outbound ? vs.outbound.framesEncoded : 0;
      out.nackCount = vs.outbound ? vs.outbound.nackCount : 0;
      out.ok = out.framesEncoded > 0;
    } else {
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.ontrack = (e) => playOut(e.track);
      Object.assign(out, await exchange(pc, o.url, o.token));
      const t0 = Date.now();
      for (;;) {
        await new Promise(r => setTimeout(r, 250));
        const v = await rtpOf(pc, 'video'), a = await rtpOf(pc, 'audio');
        out.framesDecoded = v.inbound ? v.inbound.framesDecoded : 0;
        out.totalAudioEnergy = a.inbound ? a.inbound.totalAudioEnergy : 0;
        out.videoCodec = v.codec;
        out.width = v.inbound ? v.inbound.frameWidth : 0;
        if (out.framesDecoded >= o.frames && out.totalAudioEnergy > 0) break;
        if (Date.now() - t0 > o.duration * 1000) break;
      }
      out.ok = out.framesDecoded >= o.frames && out.totalAudioEnergy > 0;
    }
    if (out.location) {
      const base = new URL(o.url);
      await fetch(base.origin + out.location, { method: 'DELETE',
        headers: o.token ? { Authorization: 'Bearer ' + o.token } : {} });
    }
  } catch (e) {
    out.error = String(e && e.message || e);
  }
  pc.close();
  return out;
};
