/* Jitter buffer for one received RTP stream: puts packets back in sequence order,
 * groups them into frames (same timestamp, ended by the marker bit or the payload
 * format's end flag, begun by the payload format's begin flag or by following a
 * frame that ended), and hands out complete frames in order, assembled by the
 * stream's depacketizer (codec/codec.h).
 *
 * A frame waits at most `latency` after its oldest packet arrived for its missing
 * packets (NACK/RTX can fill them meanwhile); then it is dropped and counted, and
 * later frames move up. Memory is bounded: `capacity` packets (refs to the caller's
 * buffers) and `max_frame_bytes` per assembled frame.
 *
 * Sans-IO machine. Contract: after rtc_jitter_buffer_handle_packet() or
 * _handle_timeout(), drain _poll_frame() and _poll_event() until both return 0,
 * then wake at _poll_timeout(). */
#ifndef RTC_JITTER_BUFFER_H
#define RTC_JITTER_BUFFER_H
#include "codec/codec.h"
#include "core/rtc_buf.h"
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_jitter_buffer_config {
    rtc_codec_id codec;
    rtc_time latency;            /* longest wait for a frame's missing packets; 0 = 200 ms */
    rtc_time start_delay;        /* hold the first frame this long after the first packet, so
                                    packets reordered ahead of it are not late; 0 = latency / 4 */
    size_t capacity;             /* packets held, power of two (64-32768); 0 = 2048 */
    size_t max_frame_bytes;      /* larger assembled frames are dropped; 0 = 8 MiB */
    bool wait_keyframe;          /* video: after a drop (and at start) skip frames until a keyframe */
    rtc_pool *pool;              /* borrowed, outlives the buffer: frames that fit a pool buffer
                                    come from it (audio, small video frames); NULL = heap */
    bool no_wait;                /* a hole never holds back a later packet: nothing will fill it
                                    (no NACK) and the decoder conceals it (Opus PLC) */
} rtc_jitter_buffer_config;

typedef struct rtc_jb_frame {
    rtc_buf *data;               /* the assembled frame, its exact size (or a pool buffer);
                                    ownership passes to the caller (unref) */
    uint32_t ts;                 /* RTP timestamp */
    int64_t ext_ts;              /* unwrapped timestamp */
    uint16_t first_seq, last_seq;
    uint16_t packets;
    bool keyframe;
    rtc_time first_arrival, last_arrival;
} rtc_jb_frame;

typedef enum { RTC_JB_EV_KEYFRAME_NEEDED = 1 } rtc_jb_event_type;
typedef struct rtc_jb_event { rtc_jb_event_type type; } rtc_jb_event;

typedef struct rtc_jb_stats {
    uint64_t packets, duplicates, late, padding, bad_payload, overflow;
    uint64_t frames_out, frames_dropped, frames_skipped, keyframes_out;
} rtc_jb_stats;

typedef struct rtc_jitter_buffer rtc_jitter_buffer;

/* cfg copied. RTC_EINVAL for an unknown codec or a capacity not a power of two. */
int rtc_jitter_buffer_new(rtc_jitter_buffer **out, const rtc_jitter_buffer_config *cfg, rtc_time now);
void rtc_jitter_buffer_free(rtc_jitter_buffer *jb);         /* NULL-safe; drops held refs and frames */
/* One RTP packet (already SRTP-unprotected and, for RTX, unwrapped) in pkt->data.
 * Takes a ref on pkt when it keeps it. Returns 0, RTC_EIGNORED (late, duplicate,
 * padding), or a parse error (counted; the packet is not kept). */
int rtc_jitter_buffer_handle_packet(rtc_jitter_buffer *jb, rtc_buf *pkt, rtc_time now);
void rtc_jitter_buffer_handle_timeout(rtc_jitter_buffer *jb, rtc_time now);
/* Change the longest wait for missing packets (the round-trip estimate moved); <= 0
 * keeps the current one. Frames already waiting longer than the new value leave at
 * the next handle_* or poll_frame. */
void rtc_jitter_buffer_set_latency(rtc_jitter_buffer *jb, rtc_time latency);
/* 1 and *out filled with the next complete frame, 0 when none. */
int rtc_jitter_buffer_poll_frame(rtc_jitter_buffer *jb, rtc_jb_frame *out);
int rtc_jitter_buffer_poll_event(rtc_jitter_buffer *jb, rtc_jb_event *out);
rtc_time rtc_jitter_buffer_poll_timeout(const rtc_jitter_buffer *jb);
void rtc_jitter_buffer_get_stats(const rtc_jitter_buffer *jb, rtc_jb_stats *out);

#endif
