// The browser half of luartc's built-in frame transforms (docs/media.md, "Frame
// transforms"), run by RTCRtpScriptTransform with options {mode, kind, side, key}.
// The first bytes a depacketizer reads stay in the clear (VP8: 10 on keyframes, 3 on
// delta frames, told apart by bit 0 of the frame tag; audio: 1).
//   xor:     every later byte i (counted from 0 after them) is XORed with
//            key[i % key.length]; its own inverse.
//   aes-gcm: the rest encrypted with the clear bytes as additional data, then the
//            16-byte tag, then the 12-byte IV (4-byte salt || 64-bit big-endian counter).
'use strict';

function clearBytes(kind, bytes) {
  if (kind === 'audio') return Math.min(1, bytes.length);
  if (bytes.length === 0) return 0;
  return Math.min((bytes[0] & 1) === 0 ? 10 : 3, bytes.length);
}

function xor(key, kind, bytes) {
  const out = new Uint8Array(bytes.length);
  const clear = clearBytes(kind, bytes);
  out.set(bytes.subarray(0, clear));
  for (let i = clear, k = 0; i < bytes.length; i++) {
    out[i] = bytes[i] ^ key[k];
    if (++k === key.length) k = 0;
  }
  return out;
}

function gcm(rawKey, kind, side) {
  const keyP = crypto.subtle.importKey('raw', rawKey, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const salt = crypto.getRandomValues(new Uint8Array(4));
  let counter = 0n;
  return async (bytes) => {
    const key = await keyP;
    const clear = clearBytes(kind, bytes);
    if (side === 'send') {
      const iv = new Uint8Array(12);
      iv.set(salt);
      new DataView(iv.buffer).setBigUint64(4, counter++);
      const sealed = new Uint8Array(await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: bytes.subarray(0, clear), tagLength: 128 }, key, bytes.subarray(clear)));
      const out = new Uint8Array(clear + sealed.length + 12);
      out.set(bytes.subarray(0, clear));
      out.set(sealed, clear);
      out.set(iv, clear + sealed.length);
      return out;
    }
    if (bytes.length < clear + 28) return null;
    const iv = bytes.subarray(bytes.length - 12);
    try {
      const plain = new Uint8Array(await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: bytes.subarray(0, clear), tagLength: 128 }, key,
        bytes.subarray(clear, bytes.length - 12)));
      const out = new Uint8Array(clear + plain.length);
      out.set(bytes.subarray(0, clear));
      out.set(plain, clear);
      return out;
    } catch (e) {
      return null;       // authentication failed: the frame is dropped
    }
  };
}

onrtctransform = (event) => {
  const t = event.transformer;
  const { mode, kind, side } = t.options;
  const key = new Uint8Array(t.options.key);
  const fn = mode === 'aes-gcm' ? gcm(key, kind, side) : async (bytes) => xor(key, kind, bytes);
  let frames = 0, failed = 0;
  t.readable.pipeThrough(new TransformStream({
    async transform(frame, controller) {
      const out = await fn(new Uint8Array(frame.data));
      frames++;
      if (!out) failed++;
      if (frames === 1 || frames % 50 === 0) self.postMessage({ side, frames, failed });
      if (!out) return;
      frame.data = out.buffer;
      controller.enqueue(frame);
    },
  })).pipeTo(t.writable);
};
