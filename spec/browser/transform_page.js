// The browser half of the frame transform interop test: one video transceiver with VP8
// preferred; with opts.side "send" it sends the fake camera (luartc receives), with
// "recv" it receives what luartc sends. With opts.transform "xor" or "aes-gcm" the
// frames go through RTCRtpScriptTransform running transform_worker.js with opts.key;
// with "none" they do not. Offers without trickle and reports getStats for the video stream.
'use strict';

const log = (...a) => window.peerLog(a.map(String).join(' '));

const nextSignal = signalInbox();   // media_common.js

async function videoStats(pc) {
  const out = { video_out: {}, video_in: {} };
  const stats = await pc.getStats();
  const codecs = {};
  stats.forEach(s => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
  stats.forEach(s => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.video_out = { packetsSent: s.packetsSent, framesEncoded: s.framesEncoded, framesSent: s.framesSent,
                        keyFramesEncoded: s.keyFramesEncoded, codec: codecs[s.codecId] };
    } else if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out.video_in = { packetsReceived: s.packetsReceived, framesReceived: s.framesReceived,
                       framesDecoded: s.framesDecoded || 0, keyFramesDecoded: s.keyFramesDecoded || 0,
                       framesDropped: s.framesDropped, pliCount: s.pliCount, codec: codecs[s.codecId] };
    }
  });
  return out;
}

window.runPeer = async function (opts) {
  const result = { ok: false, worker_frames: 0 };
  const pc = new RTCPeerConnection({ iceServers: [] });
  window.pc = pc;
  pc.onconnectionstatechange = () => log('connectionState', pc.connectionState);
  const key = new TextEncoder().encode(opts.key || '');
  let worker = null;
  if (opts.transform === 'xor' || opts.transform === 'aes-gcm') {
    worker = new Worker('transform_worker.js');
    worker.onmessage = (e) => { result.worker_frames = e.data.frames; result.worker_failed = e.data.failed; };
    worker.onerror = (e) => log('worker error', e.message);
  }
  const transformFor = (side) => new RTCRtpScriptTransform(worker,
    { mode: opts.transform, side, kind: 'video', key: key.buffer });

  let tr;
  if (opts.side === 'send') {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    tr = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly' });
    if (worker) tr.sender.transform = transformFor('send');
  } else {
    tr = pc.addTransceiver('video', { direction: 'recvonly' });
    if (worker) tr.receiver.transform = transformFor('recv');
  }
  preferCodec(tr, 'video/VP8');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(r => {
    if (pc.iceGatheringState === 'complete') return r();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') r(); });
  });
  window.signalOut({ type: 'offer', sdp: pc.localDescription.sdp });
  await pc.setRemoteDescription(await nextSignal('answer'));
  await new Promise((resolve, reject) => {
    if (pc.connectionState === 'connected') return resolve();
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'connected') resolve();
      if (pc.connectionState === 'failed') reject(new Error('connection failed'));
    });
  });
  window.markTestPhase();
  await new Promise(r => setTimeout(r, opts.duration * 1000));
  Object.assign(result, await videoStats(pc));
  result.ok = true;
  // Let the other side finish before the connection goes away.
  await new Promise(r => setTimeout(r, 1500));
  pc.close();
  if (worker) worker.terminate();
  return result;
};
