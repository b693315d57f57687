/* Encoded frame transforms (the W3C Insertable Streams / RTCRtpScriptTransform model):
 * a function registered per transceiver and direction sees every encoded frame
 *   - on send: after rtc_pc_send_frame() and before packetization,
 *   - on receive: after depacketization and jitter-buffer ordering, before the frame is
 *     reported as RTC_PC_EV_FRAME,
 * and rewrites it into a buffer the pc provides (at most RTC_FRAME_TRANSFORM_GROWTH bytes
 * longer than the input) or drops it. End-to-end encryption is the use: the SFU or
 * relay in between forwards RTP it cannot read.
 *
 * The transform runs inside the pc's own calls (rtc_pc_send_frame, rtc_pc_handle_datagram,
 * rtc_pc_handle_timeout), so the usual contract holds: drain rtc_pc_poll_transmit() and
 * rtc_pc_poll_event() until both return false after each call that takes `now`. A
 * transform must not call back into the pc.
 *
 * A send transform that drops a frame makes rtc_pc_send_frame() return 0 (packets); one
 * that fails makes it return the transform's error.
 *
 * Depacketizers and packetizers read a few codec bytes at the start of a frame (VP8
 * keyframe bit and picture size, Opus TOC): a transform keeps those in the clear
 * (rtc_frame_clear_bytes) so that a keyframe stays a keyframe on the wire. */
#ifndef RTC_PC_TRANSFORM_H
#define RTC_PC_TRANSFORM_H
#include "pc/pc_media.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_PC_SEND 1
#define RTC_PC_RECV 2
#define RTC_FRAME_TRANSFORM_GROWTH 64   /* bytes a transform may add to one frame */

typedef struct rtc_frame_info {
    int tr;                      /* transceiver handle */
    int direction;               /* RTC_PC_SEND or RTC_PC_RECV */
    rtc_media_kind kind;
    int codec;                   /* rtc_codec_id of the negotiated codec */
    uint32_t ts;                 /* RTP timestamp */
    bool keyframe;               /* send: as given to rtc_pc_send_frame, or read from a VP8 frame tag */
    const char *rid;             /* receive: simulcast layer, "" when none; send: "" */
} rtc_frame_info;

/* Rewrite `in` (len bytes, borrowed for the call) into `out` (out_cap bytes, at least
 * len + RTC_FRAME_TRANSFORM_GROWTH; owned by the pc, valid for the call; never overlaps
 * `in`). Returns the number of bytes written (> 0); 0 drops the frame (counted as
 * dropped), a negative RTC_E* drops it too (counted as failed, e.g. RTC_EAUTH when a
 * decryption's tag does not match). `info` is borrowed for the call. */
typedef int (*rtc_frame_transform_cb)(void *ud, const rtc_frame_info *info, const uint8_t *in, size_t len,
                                      uint8_t *out, size_t out_cap);
/* Called when the pc lets go of a ud it was given. */
typedef void (*rtc_frame_transform_release_cb)(void *ud);

/* Install fn (NULL clears) for the directions in `dirs` (RTC_PC_SEND | RTC_PC_RECV) of
 * transceiver `tr`. `ud` is kept by the pc: release(ud) (if not NULL) is called once for
 * every direction slot it occupied, when that slot is replaced or cleared or the pc is
 * freed; a refcounted ud takes one ref per direction in `dirs` before the call. Takes
 * effect from the next frame. Returns 0, RTC_ENOTFOUND (bad handle) or RTC_EINVAL (no
 * direction), both without calling release, or RTC_ENOMEM after calling release once
 * per direction in `dirs` (the refs given for them are not kept). */
int rtc_pc_set_frame_transform(rtc_pc *pc, int tr, int dirs, rtc_frame_transform_cb fn, void *ud,
                               rtc_frame_transform_release_cb release);

typedef struct rtc_frame_transform_stats {
    uint64_t frames;             /* frames given to the transform */
    uint64_t dropped, failed;    /* it returned 0 / a negative code */
    uint64_t bytes_in, bytes_out;
} rtc_frame_transform_stats;
/* Counters of one direction (RTC_PC_SEND or RTC_PC_RECV) since its transform was last
 * installed (kept when it is cleared); zero when none was ever set.
 * RTC_ENOTFOUND for a bad handle. */
int rtc_pc_frame_transform_stats(rtc_pc *pc, int tr, int direction, rtc_frame_transform_stats *out);

/* ---- built-in transforms: XOR and AES-GCM (OpenSSL EVP) -------------------------------
 * Frame format shared with browser pages (docs/media.md, "Frame transforms"):
 *   the first rtc_frame_clear_bytes() bytes are copied unchanged: VP8 10 on keyframes
 *   (frame tag, start code, picture size) and 3 on delta frames (frame tag), audio 1
 *   (Opus TOC), other video codecs 0;
 *   XOR:     the rest, byte i (counted from 0 after the clear bytes) XOR key[i % keylen];
 *            same length.
 *   AES-GCM: the rest encrypted, with the clear bytes as additional authenticated data,
 *            then the 16-byte tag, then the 12-byte IV (salt[4] || 64-bit big-endian
 *            frame counter); 28 bytes longer. A frame that fails authentication is
 *            dropped (RTC_EAUTH). */
typedef struct rtc_frame_crypto rtc_frame_crypto;

size_t rtc_frame_clear_bytes(const rtc_frame_info *info, const uint8_t *frame, size_t len);

/* key copied; keylen 1..256. refs = 1. RTC_EINVAL / RTC_ENOMEM. */
int rtc_frame_crypto_new_xor(rtc_frame_crypto **out, const uint8_t *key, size_t keylen);
/* key copied; keylen 16 (AES-128-GCM) or 32 (AES-256-GCM); salt (4 bytes, copied) makes
 * the IVs of two senders sharing a key differ: draw it at random per sender. */
int rtc_frame_crypto_new_aes_gcm(rtc_frame_crypto **out, const uint8_t *key, size_t keylen, const uint8_t salt[4]);
rtc_frame_crypto *rtc_frame_crypto_ref(rtc_frame_crypto *c);   /* returns c */
void rtc_frame_crypto_unref(rtc_frame_crypto *c);              /* NULL-safe; frees at 0 */

/* An rtc_frame_transform_cb with ud = rtc_frame_crypto *: encrypts on RTC_PC_SEND,
 * decrypts on RTC_PC_RECV. Pair it with rtc_frame_crypto_release (one unref) when
 * installing: rtc_pc_set_frame_transform(pc, tr, dirs, rtc_frame_crypto_transform,
 * rtc_frame_crypto_ref(c), rtc_frame_crypto_release) once per direction. */
int rtc_frame_crypto_transform(void *ud, const rtc_frame_info *info, const uint8_t *in, size_t len,
                               uint8_t *out, size_t out_cap);
void rtc_frame_crypto_release(void *ud);

#endif
