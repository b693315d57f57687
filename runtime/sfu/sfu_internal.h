/* Internal layout shared by the router, producer and consumer files. */
#ifndef RTC_SFU_INTERNAL_H
#define RTC_SFU_INTERNAL_H
#include "sfu/sfu_router.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_stats.h"
#include "sfu/sfu_timers.h"
#include <stddef.h>

/* Temporal-layer drops start an epoch per dropped run (up to ~15 a second for L1T3; one a
 * picture for VP9 SVC spatial drops, ~30 a second), so the ring holds a few seconds of
 * them: what a NACK can still reach. */
#define SFU_EPOCHS 128
#define SFU_UP_NACK_MAX 64       /* seqs pending for one upstream NACK */
#define SFU_UP_NACK_MEMORY 128   /* recently NACKed upstream (dedupe), power of two */
#define SFU_SEQ_JUMP 1000
#define SFU_DESC_MAX 96          /* payload descriptor bytes a consumer may rewrite in its header */        /* a source jump larger than this re-bases the consumer */

/* A run of source packets forwarded with one set of offsets. Out seq = in + seq_off;
 * timestamps, picture ids and TL0PICIDX likewise, so a retransmission regenerates
 * exactly the header first sent. */
/* A producer's measured traffic (sfu_layers.c): bytes per spatial (VP9 SVC; else all in
 * 0) and temporal layer, and frames per spatial layer, in 100 ms slots over the last second. */
#define SFU_METER_SLOTS 10
#define SFU_METER_SLOT RTC_MS(100)
typedef struct sfu_meter {
    int64_t slot_no[SFU_METER_SLOTS];            /* which 100 ms period the slot counts */
    uint32_t bytes[SFU_METER_SLOTS][RTC_SFU_MAX_SPATIAL][RTC_SFU_MAX_TEMPORAL];
    uint16_t frames[SFU_METER_SLOTS][RTC_SFU_MAX_SPATIAL];
    rtc_time first_at, last_at;
    rtc_time spatial_at[RTC_SFU_MAX_SPATIAL];    /* last packet of each spatial layer, 0 never */
    bool active;
    int8_t max_tid;                              /* -1 none seen */
    int8_t max_sid;                              /* highest VP9 spatial layer sent; 0 = one layer */
    uint16_t width[RTC_SFU_MAX_SPATIAL], height[RTC_SFU_MAX_SPATIAL];
} sfu_meter;

typedef struct sfu_epoch {
    uint32_t source_gen;
    int64_t in_first, in_last;   /* in_last < in_first: nothing yet */
    int64_t seq_off;
    uint32_t ts_off;
    uint16_t pic_off;            /* mod 2^15 */
    uint8_t tl0_off;
    bool muted;
    int8_t top_s;                /* VP9 SVC: the highest spatial layer forwarded (its last packet of
                                  * each picture gets the marker); -1 not SVC */
} sfu_epoch;

struct rtc_sfu_producer {
    rtc_sfu_router *router;
    rtc_sfu_producer_config cfg;
    char mid[17], rid[17];
    uint32_t gen;                /* unique per producer in the router */
    rtc_sfu_cache *cache;
    rtc_rtp_recv_stats rs;
    rtc_sfu_consumer **cons;
    size_t ncons, capcons;
    /* keyframe aggregation */
    bool kf_wanted;
    rtc_time kf_last;            /* last request sent upstream; RTC_TIME_NEVER-ish = never */
    bool kf_ever;
    uint8_t fir_seq;
    /* upstream NACK */
    uint16_t up_nack[SFU_UP_NACK_MAX];
    size_t n_up_nack;
    struct { uint16_t seq; bool used; rtc_time at; } up_mem[SFU_UP_NACK_MEMORY];
    rtc_time rr_next;
    bool have_sr;
    uint64_t sr_ntp; uint32_t sr_rtp; rtc_time sr_at;
    bool have_level, voice; uint8_t level; rtc_time level_at;
    rtc_sfu_producer_stats st;
    sfu_meter meter;
    rtc_sfu_producer *next_p;    /* router's list */
    struct rtc_sfu_speaker *speaker;   /* the observer of its audio levels (sfu_speaker.c), or NULL */
    size_t speaker_slot;         /* its entry there */
};

struct rtc_sfu_consumer {
    rtc_sfu_router *router;
    rtc_sfu_consumer_config cfg;
    char mid[17], cname[65];
    rtc_sfu_producer *source;
    uint32_t source_gen;
    bool video, paused, muted, started;
    bool ext_two_byte;           /* an ext id above 14: the two-byte form (RFC 8285 4.3) */
    bool need_restart;           /* next packet starts an epoch (start, resume, switch) */
    bool need_mute_epoch;
    bool waiting_keyframe;
    sfu_epoch ep[SFU_EPOCHS];
    unsigned ep_head, ep_count;  /* ring: ep[(ep_head + ep_count - 1) % N] is current */
    bool have_out;
    int64_t last_out_ext;        /* highest out ext seq sent */
    uint32_t last_out_ts;
    int32_t last_out_pic;        /* -1 none */
    int16_t last_out_tl0;
    rtc_time last_out_at;
    uint16_t rtx_seq;
    double tokens; rtc_time tokens_at;
    rtc_rtp_send_stats ss;
    rtc_time sr_next;
    rtc_sfu_consumer_stats st;
    /* layers (sfu_layers.c): layer[i] is spatial layer i; source is one of them */
    rtc_sfu_producer *layer[RTC_SFU_MAX_SPATIAL];
    int nlayers;
    int8_t pref_s, pref_t, cur_s, cur_t, tgt_s, tgt_t;
    uint8_t tgt_why;
    bool limited;                /* the target is below what is preferred because of bandwidth */
    int8_t up_s, up_t;           /* a higher choice waiting out the hysteresis (-1 none) */
    rtc_time up_since, layers_next;
    uint64_t bw;
    int8_t ev_s, ev_t;           /* last reported in a LAYER_CHANGE */
    int8_t ev_cur_t;             /* cur_t then: a report with the same is a newly seen temporal layer */
    int32_t last_drop_pic;       /* picture id of the last temporal drop: one frame counted once */
    bool svc_have_pic;           /* VP9 SVC: the timestamp of the picture whose layer frames pass now */
    uint32_t svc_pic_ts;
    int8_t svc_last_s;           /* the spatial layer the previous picture ended with (-1 none) */
    rtc_sfu_consumer *next_c;    /* router's list */
    sfu_timer timer;             /* in the router's heap, due at sr_next */
};

/* producer side (sfu_producer.c) */
int sfu__producer_new(rtc_sfu_router *r, const rtc_sfu_producer_config *cfg, rtc_sfu_producer **out, rtc_time now);
void sfu__producer_free(rtc_sfu_producer *p);
int sfu__producer_take_rtp(rtc_sfu_producer *p, rtc_buf *pkt, rtc_sfu_packet *out, rtc_time now);
void sfu__producer_want_keyframe(rtc_sfu_producer *p, rtc_time now);
void sfu__producer_nack_upstream(rtc_sfu_producer *p, uint16_t seq, rtc_time now);
void sfu__producer_flush_nack(rtc_sfu_producer *p);      /* pending seqs -> one NACK now */
void sfu__producer_timeout(rtc_sfu_producer *p, rtc_time now);
rtc_time sfu__producer_next(const rtc_sfu_producer *p);
int sfu__producer_attach(rtc_sfu_producer *p, rtc_sfu_consumer *c);
void sfu__producer_detach(rtc_sfu_producer *p, rtc_sfu_consumer *c);

/* consumer side (sfu_consumer.c) */
int sfu__consumer_init(rtc_sfu_consumer *c, const rtc_sfu_consumer_config *cfg, rtc_sfu_producer *src, rtc_time now);
/* Rewrite one source packet for c into out. 1 = filled, 0 = dropped for this consumer. */
int sfu__consumer_forward(rtc_sfu_consumer *c, rtc_sfu_producer *from, const rtc_sfu_packet *pk,
                          rtc_sfu_transmit *out, rtc_time now);
/* Answer one NACKed out seq: 1 = out filled, 0 = not answered here. */
int sfu__consumer_answer_nack(rtc_sfu_consumer *c, uint16_t seq, rtc_sfu_transmit *out, rtc_time now);
void sfu__consumer_timeout(rtc_sfu_consumer *c, rtc_time now);
rtc_time sfu__consumer_next(const rtc_sfu_consumer *c);

/* layers (sfu_layers.c) */
void sfu__meter_add(rtc_sfu_producer *p, const rtc_sfu_packet *pk, size_t bytes, rtc_time now);
void sfu__meter_timeout(rtc_sfu_producer *p, rtc_time now);
rtc_time sfu__meter_next(const rtc_sfu_producer *p);
void sfu__layers_init(rtc_sfu_consumer *c);
/* Packet pk from producer `from`: 1 forward, 0 not this consumer's (another layer, or
 * waiting for the target's keyframe), -1 drop and close the gap (temporal layer), -2 the
 * same for a VP9 SVC spatial layer above the one forwarded. May
 * switch c->source (a keyframe of the target) and queue a LAYER_CHANGE event. */
int sfu__layers_admit(rtc_sfu_consumer *c, rtc_sfu_producer *from, const rtc_sfu_packet *pk, rtc_time now);
/* The producer that sent epochs of source_gen, or NULL. */
rtc_sfu_producer *sfu__layers_source_of(const rtc_sfu_consumer *c, uint32_t gen);
void sfu__layers_report(rtc_sfu_consumer *c);
/* VP9 SVC: the highest spatial layer c forwards now, or -1 when its source is not SVC. */
int sfu__layers_svc_top(const rtc_sfu_consumer *c);      /* a LAYER_CHANGE when what is forwarded changed */
void sfu__layers_forget(rtc_sfu_consumer *c, rtc_sfu_producer *p);  /* p is being removed */
void sfu__layers_timeout(rtc_sfu_consumer *c, rtc_time now);
void sfu__layers_producer_changed(rtc_sfu_producer *p, rtc_time now);  /* started/stopped */

/* router services (sfu_router.c) */
void sfu__rearm_consumer(rtc_sfu_router *r, rtc_sfu_consumer *c);
void sfu__router_detach(rtc_sfu_router *r, rtc_sfu_producer *p, rtc_sfu_consumer *c);
void sfu__layer_event(rtc_sfu_router *r, rtc_sfu_consumer *c, int spatial, int temporal, int why);
int sfu__queue(rtc_sfu_router *r, const rtc_sfu_transmit *t);      /* takes t's ref */
int sfu__queue_rtcp(rtc_sfu_router *r, rtc_sfu_producer *p, rtc_sfu_consumer *c, const uint8_t *d, size_t n);
void sfu__event(rtc_sfu_router *r, rtc_sfu_event_type type, rtc_sfu_producer *p, rtc_sfu_consumer *c);
void sfu__lower_timeout(rtc_sfu_router *r, rtc_time t);
int64_t sfu__unix_offset(const rtc_sfu_router *r);
rtc_pool *sfu__pool(const rtc_sfu_router *r);        /* the router's buffer pool (NULL = heap) */
/* speaker observers (sfu_speaker.c) */
struct rtc_sfu_speaker **sfu__router_speakers(rtc_sfu_router *r);   /* the list's head */
void sfu__event_speaker(rtc_sfu_router *r, rtc_sfu_event_type type, struct rtc_sfu_speaker *s,
                        rtc_sfu_producer *p, void *user);
void sfu__drop_speaker_events(rtc_sfu_router *r, const struct rtc_sfu_speaker *s);

#endif
