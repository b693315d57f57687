// The browser half of the media interop test: sends the fake camera and microphone
// (sendrecv transceivers, the video codec chosen with setCodecPreferences), offers
// without trickle, and reports what getStats says about both directions. Runs inside
// Chromium; media_peer.js relays signaling lines between this page and stdio.
'use strict';

const log = (...a) => window.peerLog(a.map(String).join(' '));

const nextSignal = signalInbox();   // media_common.js

async function rtpStats(pc) {
  const out = { video_out: {}, video_in: {}, audio_out: {}, codecs: {} };
  const stats = await pc.getStats();
  stats.forEach(s => {
    if (s.type === 'codec') out.codecs[s.id] = s.mimeType;
  });
  stats.forEach(s => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.video_out = { packetsSent: s.packetsSent, framesEncoded: s.framesEncoded, framesSent: s.framesSent,
                        nackCount: s.nackCount, pliCount: s.pliCount, firCount: s.firCount,
                        retransmittedPacketsSent: s.retransmittedPacketsSent, codec: out.codecs[s.codecId],
                        targetBitrate: s.targetBitrate };
    } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
      out.audio_out = { packetsSent: s.packetsSent, codec: out.codecs[s.codecId] };
    } else if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.video_in = { packetsReceived: s.packetsReceived, framesReceived: s.framesReceived,
                       framesDecoded: s.framesDecoded, packetsLost: s.packetsLost, codec: out.codecs[s.codecId] };
    } else if (s.type === 'remote-inbound-rtp' && s.kind === 'video') {
      out.video_remote = { roundTripTime: s.roundTripTime, packetsLost: s.packetsLost };
    }
  });
  return out;
}

// preferCodec: media_common.js.

window.runPeer = async function (opts) {
  const t0 = performance.now();
  const pc = new RTCPeerConnection({ iceServers: [] });
  window.pc = pc;
  let finish;
  const finished = new Promise(r => { finish = r; });
  const result = { ok: false };
  pc.onconnectionstatechange = () => {
    log('connectionState', pc.connectionState);
    if (pc.connectionState === 'failed') { result.error = 'connection failed'; finish(); }
  };
  const camera = { width: 640, height: 480 };
  if (opts.fps) camera.frameRate = opts.fps;   // --fps: capture rate of the fake camera
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: camera });
  let decodedAtStart = null;
  pc.ontrack = (e) => log('track', e.track.kind);
  const gathered = () => new Promise(r => {
    if (pc.iceGatheringState === 'complete') return r();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') r(); });
  });

  if (opts.role === 'answer') {
    // luartc offers: its sections get our camera and microphone on the transceivers
    // the offer created.
    await pc.setRemoteDescription(await nextSignal('offer'));
    for (const t of pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      const track = kind === 'audio' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
      await t.sender.replaceTrack(track);
      if (t.direction === 'recvonly') t.direction = 'sendrecv';
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered();
    window.signalOut({ type: 'answer', sdp: pc.localDescription.sdp });
  } else {
    if (opts.data) {
      // A data channel beside the media: SCTP and SRTP share the transport.
      const dc = pc.createDataChannel('chat');
      dc.onopen = () => dc.send('hello');
      dc.onmessage = (e) => { if (e.data === 'hello') result.dc_echo = true; };
    }
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendrecv' });
    const init = { direction: 'sendrecv' };
    // Three layers by RID (RFC 8853): quarter, half and full resolution.
    if (opts.simulcast) {
      init.sendEncodings = [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 },
                            { rid: 'f' }];
    }
    const video = pc.addTransceiver(stream.getVideoTracks()[0], init);
    preferCodec(video, 'video/' + opts.codec);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered();
    window.signalOut({ type: 'offer', sdp: pc.localDescription.sdp });
    nextSignal('answer').then(async (msg) => {
      await pc.setRemoteDescription(msg);
      log('answer applied');
    }).catch(e => { result.error = String(e); finish(); });
  }

  await new Promise(r => {
    if (pc.connectionState === 'connected') return r();
    pc.addEventListener('connectionstatechange', () => { if (pc.connectionState === 'connected') r(); });
  });
  result.setup_ms = Math.round(performance.now() - t0);
  window.markTestPhase();
  // The send-side bandwidth estimate over the run: the first value, the last, and how
  // many distinct values it took (transport-cc feedback is what moves it).
  const bwe = { first: null, last: null, max: null, samples: 0, values: 0 };
  const seen = new Set();
  const sampler = setInterval(async () => {
    const v = (await rtpStats(pc)).video_out.targetBitrate;
    if (typeof v !== 'number') return;
    if (bwe.first === null) bwe.first = v;
    bwe.last = v;
    bwe.max = Math.max(bwe.max === null ? v : bwe.max, v);
    bwe.samples++;
    seen.add(v);
    bwe.values = seen.size;
  }, 250);
  const half = opts.duration * 500;
  setTimeout(async () => { decodedAtStart = (await rtpStats(pc)).video_in.framesDecoded || 0; }, half);
  setTimeout(async () => {
    clearInterval(sampler);
    const s = await rtpStats(pc);
    Object.assign(result, s);
    result.target_bitrate = bwe;
    result.frames_decoded_first_half = decodedAtStart;
    result.ok = true;
    finish();
  }, opts.duration * 1000);
  await finished;
  // Let the other side finish reading before the connection goes away.
  await new Promise(r => setTimeout(r, 1500));
  pc.close();
  return result;
};
