/* Internal layout shared by the router, producer and consumer files. */
#ifndef RTC_SFU_INTERNAL_H
#define RTC_SFU_INTERNAL_H
#include "sfu/sfu_router.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_stats.h"
#include "sfu/sfu_timers.h"
#include <stddef.h>

#define SFU_EPOCHS 16
#define SFU_UP_NACK_MAX 64       /* seqs pending for one upstream NACK */
#define SFU_UP_NACK_MEMORY 128   /* recently NACKed upstream (dedupe), power of two */
#define SFU_SEQ_JUMP 1000        /* a source jump larger than this re-bases the consumer */

/* A run of source packets forwarded with one set of offsets. Out seq = in + seq_off;
 * timestamps, picture ids and TL0PICIDX likewise, so a retransmission regenerates
 * exactly the header first sent. */
typedef struct sfu_epoch {
    uint32_t source_gen;
    int64_t in_first, in_last;   /* in_last < in_first: nothing yet */
    int64_t seq_off;
    uint32_t ts_off;
    uint16_t pic_off;            /* mod 2^15 */
    uint8_t tl0_off;
    bool muted;
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
    rtc_sfu_producer *next_p;    /* router's list */
};

struct rtc_sfu_consumer {
    rtc_sfu_router *router;
    rtc_sfu_consumer_config cfg;
    char mid[17], cname[65];
    rtc_sfu_producer *source;
    uint32_t source_gen;
    bool video, paused, muted, started;
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
int sfu__consumer_forward(rtc_sfu_consumer *c, const rtc_sfu_packet *pk, rtc_sfu_transmit *out, rtc_time now);
/* Answer one NACKed out seq: 1 = out filled, 0 = not answered here. */
int sfu__consumer_answer_nack(rtc_sfu_consumer *c, uint16_t seq, rtc_sfu_transmit *out, rtc_time now);
void sfu__consumer_timeout(rtc_sfu_consumer *c, rtc_time now);
rtc_time sfu__consumer_next(const rtc_sfu_consumer *c);

/* router services (sfu_router.c) */
int sfu__queue(rtc_sfu_router *r, const rtc_sfu_transmit *t);      /* takes t's ref */
int sfu__queue_rtcp(rtc_sfu_router *r, rtc_sfu_producer *p, rtc_sfu_consumer *c, const uint8_t *d, size_t n);
void sfu__event(rtc_sfu_router *r, rtc_sfu_event_type type, rtc_sfu_producer *p, rtc_sfu_consumer *c);
void sfu__lower_timeout(rtc_sfu_router *r, rtc_time t);
int64_t sfu__unix_offset(const rtc_sfu_router *r);

#endif
