// The browser half of luartc's XOR frame transform (docs/media.md, "Frame
// transforms"), run by RTCRtpScriptTransform: the first bytes a depacketizer reads stay
// in the clear (VP8: 10 on keyframes, 3 on delta frames, read from the frame tag; audio:
// 1), every later byte i (counted from 0 after them) is XORed with key[i % key.length].
// XOR is its own inverse, so sender and receiver run the same function.
'use strict';

function clearBytes(kind, bytes) {
  if (kind === 'audio') return Math.min(1, bytes.length);
  if (bytes.length === 0) return 0;
  return Math.min((bytes[0] & 1) === 0 ? 10 : 3, bytes.length);
}

onrtctransform = (event) => {
  const t = event.transformer;
  const key = new Uint8Array(t.options.key);
  const kind = t.options.kind;
  let frames = 0;
  t.readable.pipeThrough(new TransformStream({
    transform(frame, controller) {
      const bytes = new Uint8Array(frame.data);
      const out = new Uint8Array(bytes.length);
      const clear = clearBytes(kind, bytes);
      out.set(bytes.subarray(0, clear));
      for (let i = clear, k = 0; i < bytes.length; i++) {
        out[i] = bytes[i] ^ key[k];
        if (++k === key.length) k = 0;
      }
      frame.data = out.buffer;
      frames++;
      if (frames === 1 || frames % 100 === 0) self.postMessage({ side: t.options.side, frames });
      controller.enqueue(frame);
    },
  })).pipeTo(t.writable);
};
