/* The SFU forwarding core: a router fans each packet of a producer (one incoming
 * stream of a publisher) out to its consumers (one outgoing stream per subscriber),
 * rewriting only the header per consumer, and terminates RTCP on each leg.
 *
 * Sans-IO machine. Contract: after any call that takes `now`, the caller drains
 * rtc_sfu_router_poll_transmit() and rtc_sfu_router_poll_event() until both return
 * false, then wakes at rtc_sfu_router_poll_timeout(). Nothing here reads a clock, a
 * socket or Lua, or calls back into its caller. Packets come in plain (after SRTP
 * unprotect and RTX unwrap) and go out plain (the caller protects and sends them).
 *
 * The per-packet path allocates nothing: a fan-out is kept as one pending packet and
 * a cursor; each poll_transmit rewrites the header for the next consumer straight
 * into the caller's rtc_sfu_transmit, which carries one ref on the shared packet. */
#ifndef RTC_SFU_ROUTER_H
#define RTC_SFU_ROUTER_H
#include "codec/codec.h"
#include "core/rtc_buf.h"
#include "core/rtc_time.h"
#include "sfu/sfu_packet_cache.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct rtc_sfu_router rtc_sfu_router;
typedef struct rtc_sfu_producer rtc_sfu_producer;
typedef struct rtc_sfu_consumer rtc_sfu_consumer;

/* Header extensions the core knows. Ids come from each connection's SDP, so a
 * producer and each consumer have their own table (0 = not negotiated there). */
typedef enum rtc_sfu_ext {
    RTC_SFU_EXT_AUDIO_LEVEL,        /* RFC 6464: read at the producer, forwarded as is */
    RTC_SFU_EXT_VIDEO_ORIENTATION,  /* urn:3gpp:video-orientation: forwarded as is */
    RTC_SFU_EXT_MID,                /* per leg: the consumer's own mid */
    RTC_SFU_EXT_ABS_SEND_TIME,      /* per leg: stamped at the rewrite */
    RTC_SFU_EXT_TWCC,               /* per leg: reserved as 0, stamped by the transport */
    RTC_SFU_EXT__COUNT
} rtc_sfu_ext;

typedef struct rtc_sfu_router_config {
    rtc_pool *pool;              /* borrowed; RTCP buffers come from it (NULL = heap) */
    int64_t unix_offset_us;      /* wall clock = now + this (NTP in our own SRs) */
} rtc_sfu_router_config;

typedef struct rtc_sfu_producer_config {
    const char *mid, *rid;       /* copied (at most 16 bytes each); may be NULL */
    rtc_codec_id codec;
    uint8_t pt, rtx_pt;
    uint32_t ssrc, rtx_ssrc;     /* the publisher's media and RTX SSRCs; ssrc 0 = the first packet's */
    uint32_t clock_rate;         /* 0 = 90000 (48000 for Opus) */
    uint8_t ext_id[RTC_SFU_EXT__COUNT];      /* the publisher's ids 1-255, read in either form */
    uint32_t local_ssrc;         /* SSRC our RTCP towards the publisher is sent from */
    bool use_fir;                /* ask for keyframes with FIR instead of PLI */
    rtc_time keyframe_interval;  /* at most one keyframe request upstream per interval; 0 = 500 ms */
    rtc_time rr_interval;        /* receiver reports; 0 = 1 s, < 0 = none (the leg reports itself) */
    rtc_time upstream_nack_interval;  /* a seq is NACKed upstream once per interval; 0 = 100 ms */
    rtc_sfu_cache_config cache;  /* zeros = defaults */
    void *user;                  /* the caller's; copied into transmits and events */
} rtc_sfu_producer_config;

typedef struct rtc_sfu_consumer_config {
    rtc_codec_id codec;          /* must match the source's codec */
    uint8_t pt;                  /* the subscriber's payload type for it */
    uint32_t ssrc;
    uint8_t rtx_pt;              /* 0 = the subscriber did not negotiate RTX */
    uint32_t rtx_ssrc;
    uint8_t red_pt;              /* Opus: send RED (RFC 2198) with this type, each packet carrying
                                  * the one before it; 0 = plain Opus (what the publisher's RED
                                  * packets become too: their primary) */
    uint16_t initial_seq, initial_rtx_seq;   /* drawn by the caller (RFC 3550: random) */
    uint8_t ext_id[RTC_SFU_EXT__COUNT];      /* ids 1-255; one above 14 makes every block two-byte */
    const char *mid;             /* copied, at most 16 bytes; written when ext_id[MID] */
    const char *cname;           /* copied, at most 64 bytes; SDES in each SR; NULL = none */
    uint32_t clock_rate;         /* 0 = the source's */
    bool paused;                 /* start paused */
    rtc_time sr_interval;        /* 0 = 1 s */
    uint32_t rtx_rate;           /* retransmissions (answered or forwarded) per second; 0 = 400 */
    uint32_t rtx_burst;          /* 0 = 200 */
    rtc_time layer_up_delay;     /* a higher layer must fit this long first (sfu_layers.h); 0 = 3 s */
    void *user;
} rtc_sfu_consumer_config;

typedef enum { RTC_SFU_TX_RTP = 1, RTC_SFU_TX_RTCP } rtc_sfu_tx_kind;

/* One datagram to send: head[0..head_len) then pkt->data[off..off+len). */
/* 12 + 15 CSRCs + the extension block (at most 40) + RTX OSN + a payload descriptor (97). */
#define RTC_SFU_HEAD_MAX 224
typedef struct rtc_sfu_transmit {
    rtc_sfu_tx_kind kind;
    rtc_sfu_consumer *consumer;  /* the subscriber leg it goes to, or NULL */
    rtc_sfu_producer *producer;  /* the publisher leg it goes to (upstream RTCP), or NULL */
    void *user;                  /* that leg's config.user */
    bool rtx;                    /* RTP on the consumer's RTX SSRC */
    rtc_buf *pkt;                /* one ref, passes to the caller (unref when sent); may be NULL */
    size_t off, len;
    size_t head_len;
    uint8_t head[RTC_SFU_HEAD_MAX];
} rtc_sfu_transmit;

/* The datagram as one contiguous copy into out[0..cap): returns its length or RTC_EOVERFLOW. */
int rtc_sfu_transmit_flatten(const rtc_sfu_transmit *t, uint8_t *out, size_t cap);
/* Drop the transmit's ref (NULL-safe on the buffer); a drained transmit must be released or sent. */
void rtc_sfu_transmit_release(rtc_sfu_transmit *t);

typedef enum {
    RTC_SFU_EV_KEYFRAME_REQUESTED = 1,   /* a PLI/FIR went upstream for producer */
    RTC_SFU_EV_CONSUMER_STARTED,         /* consumer forwarded its first packet (after a keyframe for video) */
    RTC_SFU_EV_PRODUCER_BYE,             /* the publisher sent RTCP BYE */
    RTC_SFU_EV_LAYER_CHANGE,             /* consumer now forwards layer (spatial, temporal) (sfu_layers.h) */
    RTC_SFU_EV_LAYER_STARTED,            /* producer (a layer) receives packets again, or for the first time */
    RTC_SFU_EV_LAYER_STOPPED,            /* producer received nothing for RTC_SFU_LAYER_IDLE */
    RTC_SFU_EV_ACTIVE_SPEAKER = 32,      /* speaker's dominant speaker is now producer (sfu_speaker.h) */
    RTC_SFU_EV_AUDIO_LEVELS,             /* speaker has a new level report (rtc_sfu_speaker_levels) */
} rtc_sfu_event_type;
typedef struct rtc_sfu_event {
    rtc_sfu_event_type type;
    rtc_sfu_producer *producer;
    rtc_sfu_consumer *consumer;
    void *user;                          /* the producer's or consumer's config.user (a speaker
                                            event: the speaker observer's config.user) */
    int spatial, temporal;               /* LAYER_CHANGE: the layer now forwarded */
    int why;                             /* LAYER_CHANGE: rtc_sfu_layer_why */
    struct rtc_sfu_speaker *speaker;     /* speaker events: the observer; else NULL */
} rtc_sfu_event;

typedef struct rtc_sfu_producer_stats {
    uint64_t packets, bytes, malformed, ignored, keyframes;
    uint64_t keyframe_requests;          /* from consumers (after aggregation: see plis_sent) */
    uint64_t plis_sent, firs_sent, nack_seqs_sent, nacks_sent, rrs_sent, srs_received;
    rtc_sfu_cache_stats cache;
} rtc_sfu_producer_stats;

typedef struct rtc_sfu_consumer_stats {
    uint64_t packets, bytes, rtx_packets, srs_sent, rrs_received, malformed_rtcp, ignored_rtcp;
    uint64_t plis_received, firs_received, nack_seqs_received;
    uint64_t nack_answered, nack_forwarded, nack_unanswerable, nack_rate_limited;
    uint64_t dropped_paused, dropped_waiting_keyframe, dropped_late, dropped_padding;
    uint64_t dropped_temporal;           /* VP8 frames' packets above the temporal layer forwarded */
    uint64_t dropped_spatial;            /* VP9 SVC packets above the spatial layer forwarded */
    uint64_t layer_switches;             /* spatial switches done (each at a keyframe of the new layer) */
    uint8_t fraction_lost;               /* from the subscriber's last report block */
    int64_t rtt;                         /* us, -1 unknown */
} rtc_sfu_consumer_stats;

int rtc_sfu_router_new(rtc_sfu_router **out, const rtc_sfu_router_config *cfg, rtc_time now);
/* NULL-safe; frees every producer and consumer and drops queued transmits. */
void rtc_sfu_router_free(rtc_sfu_router *r);

/* cfg copied. RTC_EINVAL for a bad codec/clock rate or cache config. */
int rtc_sfu_router_add_producer(rtc_sfu_router *r, const rtc_sfu_producer_config *cfg,
                                rtc_sfu_producer **out, rtc_time now);
/* Its consumers stay, without a source, until given another one. */
void rtc_sfu_router_remove_producer(rtc_sfu_router *r, rtc_sfu_producer *p);
/* A consumer of `source` (may be NULL: no source yet). RTC_ENOTSUP when the codec or
 * clock rate differ from the source's (the subscriber cannot receive it), RTC_EINVAL
 * for a bad config. A video consumer starts at a keyframe and asks for one. */
int rtc_sfu_router_add_consumer(rtc_sfu_router *r, const rtc_sfu_consumer_config *cfg,
                                rtc_sfu_producer *source, rtc_sfu_consumer **out, rtc_time now);
void rtc_sfu_router_remove_consumer(rtc_sfu_router *r, rtc_sfu_consumer *c);
/* Switch the consumer to another producer (same codec, else RTC_ENOTSUP): sequence
 * numbers stay gapless, timestamps and VP8 picture ids continue from the last sent. */
int rtc_sfu_consumer_set_source(rtc_sfu_consumer *c, rtc_sfu_producer *p, rtc_time now);
void rtc_sfu_consumer_pause(rtc_sfu_consumer *c, rtc_time now);
void rtc_sfu_consumer_resume(rtc_sfu_consumer *c, rtc_time now);   /* video: waits for a keyframe */
/* Audio: muted consumers send Opus silence (20 ms frames) in place of the source's
 * payload, so the subscriber's timeline and sequence stay intact. */
void rtc_sfu_consumer_set_muted(rtc_sfu_consumer *c, bool muted, rtc_time now);
void rtc_sfu_consumer_request_keyframe(rtc_sfu_consumer *c, rtc_time now);

/* One plain RTP packet of producer p's media SSRC (buffer borrowed: the router takes
 * refs). RTC_EIGNORED for another SSRC or PT, a duplicate or a too old packet; a parse
 * error for malformed RTP or payload (counted, nothing forwarded). */
int rtc_sfu_router_handle_rtp(rtc_sfu_router *r, rtc_sfu_producer *p, rtc_buf *pkt, rtc_time now);
/* A plain RTCP compound from p's publisher (borrowed): SR (kept for lip sync), BYE. */
int rtc_sfu_router_handle_producer_rtcp(rtc_sfu_router *r, rtc_sfu_producer *p,
                                        const uint8_t *data, size_t len, rtc_time now);
/* A plain RTCP compound from c's subscriber (borrowed): NACK, PLI, FIR, RR. Nothing of
 * it is forwarded as is: NACKs are answered from the cache or become our own NACK,
 * PLI/FIR join the producer's aggregated request, RRs end here. A malformed compound
 * is RTC_EPROTO / RTC_ETRUNC and changes nothing. */
int rtc_sfu_router_handle_consumer_rtcp(rtc_sfu_router *r, rtc_sfu_consumer *c,
                                        const uint8_t *data, size_t len, rtc_time now);
void rtc_sfu_router_handle_timeout(rtc_sfu_router *r, rtc_time now);
bool rtc_sfu_router_poll_transmit(rtc_sfu_router *r, rtc_sfu_transmit *out);
bool rtc_sfu_router_poll_event(rtc_sfu_router *r, rtc_sfu_event *out);
rtc_time rtc_sfu_router_poll_timeout(const rtc_sfu_router *r);

void rtc_sfu_producer_get_stats(const rtc_sfu_producer *p, rtc_sfu_producer_stats *out);
/* What p forwards: its codec, payload type and clock rate (a pipe describes its stream with them). */
void rtc_sfu_producer_params(const rtc_sfu_producer *p, rtc_codec_id *codec, uint8_t *pt, uint32_t *clock_rate);
void rtc_sfu_consumer_get_stats(const rtc_sfu_consumer *c, rtc_sfu_consumer_stats *out);
/* The last RFC 6464 audio level seen: 0 and voice/level filled, RTC_ENOTFOUND when none. */
int rtc_sfu_producer_audio_level(const rtc_sfu_producer *p, bool *voice, uint8_t *level, rtc_time *at);
/* The publisher's last SR mapping: 0, or RTC_ENOTFOUND before the first SR. */
int rtc_sfu_producer_sr(const rtc_sfu_producer *p, uint64_t *ntp, uint32_t *rtp_ts, rtc_time *at);

#include "sfu/sfu_layers.h"

#endif
