// A WHIP publisher or WHEP subscriber page (RFC 9725): the offer goes to the endpoint
// with fetch() from the page, the answer (with all the server's candidates) comes back
// in the 201. The publisher sends the fake camera (VP8) and a tone for `duration` s;
// a subscriber retries on 503 as Retry-After says, then plays what it gets and reports
// getStats() once framesDecoded and totalAudioEnergy have risen (or at `duration`).
// With `simulcast` the publisher sends three VP8 layers (RIDs q, h, f: a quarter, half
// and full size); with `watch` a subscriber samples its video for all of `duration`
// and reports each change of the decoded frameWidth with the frames decoded so far
// (ending early once `doneUrl` answers "done" and 20 more frames have decoded).
// With `svc` (a scalabilityMode such as "L3T3_KEY") the publisher sends one VP9 encoding
// in that mode and reports what Chromium made of it; a subscriber with `svc` prefers VP9.
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
      const cam = o.camera ? await cameraTrack(o.camera[0], o.camera[1]) : await cameraTrack();
      const tone = toneTrack(440, 0.3);
      const init = { direction: 'sendonly' };
      if (o.simulcast) {
        init.sendEncodings = [{ rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
                              { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 300000 },
                              { rid: 'f', maxBitrate: 700000 }];
      }
      if (o.svc) init.sendEncodings = [{ scalabilityMode: o.svc, maxBitrate: 1500000 }];
      const v = pc.addTransceiver(cam, init);
      preferCodec(v, o.svc ? 'video/VP9' : 'video/VP8');
      pc.addTransceiver(tone.track, { direction: 'sendonly' });
      Object.assign(out, await exchange(pc, o.url, o.token));
      // What Chromium makes of the scalability mode, every 5 s on stderr (the sender
      // may be stopped by its test before it reports).
      const svcLog = o.svc && setInterval(async () => {
        const s = await rtpOf(pc, 'video');
        const ob = s.outbound || {};
        peerLog('SENDING ' + JSON.stringify({ codec: s.codec, scalabilityMode: ob.scalabilityMode,
          frameWidth: ob.frameWidth, frameHeight: ob.frameHeight, framesEncoded: ob.framesEncoded,
          qualityLimitationReason: ob.qualityLimitationReason, encoderImplementation: ob.encoderImplementation }));
      }, 5000);
      await new Promise(r => setTimeout(r, o.duration * 1000));
      if (svcLog) clearInterval(svcLog);
      const vs = await rtpOf(pc, 'video');
      out.framesEncoded = vs.outbound ? vs.outbound.framesEncoded : 0;
      out.nackCount = vs.outbound ? vs.outbound.nackCount : 0;
      out.ok = out.framesEncoded > 0;
      if (o.svc) {
        out.videoCodec = vs.codec;
        out.scalabilityMode = vs.outbound ? vs.outbound.scalabilityMode : undefined;
        out.frameWidth = vs.outbound ? vs.outbound.frameWidth : 0;
        out.encodings = v.sender.getParameters().encodings.map(e => ({ scalabilityMode: e.scalabilityMode, active: e.active }));
      }
      if (o.simulcast) {
        const stats = await pc.getStats();
        out.layersSent = [];
        stats.forEach(s => { if (s.type === 'outbound-rtp' && s.kind === 'video') out.layersSent.push([s.rid, s.frameWidth]); });
      }
    } else {
      const vt = pc.addTransceiver('video', { direction: 'recvonly' });
      if (o.svc) preferCodec(vt, 'video/VP9');
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.ontrack = (e) => playOut(e.track);
      Object.assign(out, await exchange(pc, o.url, o.token));
      const t0 = Date.now();
      if (o.watch) out.widths = [];
      for (;;) {
        await new Promise(r => setTimeout(r, 250));
        const v = await rtpOf(pc, 'video'), a = await rtpOf(pc, 'audio');
        out.framesDecoded = v.inbound ? v.inbound.framesDecoded : 0;
        out.totalAudioEnergy = a.inbound ? a.inbound.totalAudioEnergy : 0;
        out.videoCodec = v.codec;
        out.width = v.inbound ? v.inbound.frameWidth : 0;
        out.freezeCount = v.inbound ? v.inbound.freezeCount : undefined;
        out.pliCount = v.inbound ? v.inbound.pliCount : undefined;
        if (o.watch) {
          const last = out.widths[out.widths.length - 1];
          if (out.width && (!last || last[0] !== out.width)) out.widths.push([out.width, out.framesDecoded]);
          if (last && last[0] === out.width) last[2] = out.framesDecoded;   // decoded by the end of this width
          if (Date.now() - t0 > o.duration * 1000) break;
          // Done once the server's walk is over and 20 more frames decoded after that.
          if (o.doneUrl && out.doneAt === undefined) {
            const r = await fetch(o.doneUrl).catch(() => null);
            if (r && (await r.text()) === 'done') out.doneAt = out.framesDecoded;
          }
          if (out.doneAt !== undefined && out.framesDecoded >= out.doneAt + 20) break;
          continue;
        }
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
