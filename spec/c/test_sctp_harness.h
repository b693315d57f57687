/* Two SCTP associations joined by the virtual network, on one virtual clock (the
 * str0m/quicly test loop: always advance to the earliest deadline). Included by the
 * test_sctp_*.c files; header-only so each test stays one executable. */
#ifndef TEST_SCTP_HARNESS_H
#define TEST_SCTP_HARNESS_H
#include "rtc_test.h"
#include "vnet.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "sctp/data_channel.h"
#include "sctp/sctp_assoc.h"
#include <stdbool.h>
#include "test_sctp_vclock.h"

typedef struct msg_rec {
    uint16_t sid;
    bool binary;
    rtc_buf *buf;
} msg_rec;

typedef struct side {
    rtc_sctp_assoc *a;
    rtc_addr addr;
    int connected, closed, closed_err;
    int chan_open, datachannel, closing, close, low, messages;
    uint16_t last_datachannel;
    char last_label[64], last_protocol[64];
    uint8_t open_seen[65536], close_seen[65536], closing_seen[65536];
    int close_err[65536];
    bool keep;                       /* keep messages in msgs[] (else count and drop) */
    msg_rec *msgs;
    size_t nmsgs, capmsgs;
    uint64_t bytes;
    size_t max_out_queue;            /* most packets seen waiting in one drain */
} side;

typedef struct pair pair;
typedef void (*pair_hook)(pair *p, int who, const rtc_sctp_event *ev);

struct pair {
    vnet *net;
    rtc_time now;
    side s[2];
    pair_hook hook;
    void *ud;
};

static inline void side_record(side *s, const rtc_sctp_event *ev)
{
    switch (ev->type) {
    case RTC_SCTP_EV_CONNECTED: s->connected++; break;
    case RTC_SCTP_EV_CLOSED: s->closed++; s->closed_err = ev->err; break;
    case RTC_SCTP_EV_CHANNEL_OPEN: s->chan_open++; s->open_seen[ev->sid]++; break;
    case RTC_SCTP_EV_DATACHANNEL:
        s->datachannel++; s->open_seen[ev->sid]++; s->last_datachannel = ev->sid;
        snprintf(s->last_label, sizeof s->last_label, "%s", ev->label);
        snprintf(s->last_protocol, sizeof s->last_protocol, "%s", ev->protocol);
        break;
    case RTC_SCTP_EV_BUFFERED_AMOUNT_LOW: s->low++; break;
    case RTC_SCTP_EV_CHANNEL_CLOSING: s->closing++; s->closing_seen[ev->sid]++; break;
    case RTC_SCTP_EV_CHANNEL_CLOSE: s->close++; s->close_seen[ev->sid]++; s->close_err[ev->sid] = ev->err; break;
    case RTC_SCTP_EV_MESSAGE:
        s->messages++;
        s->bytes += ev->buf->len;
        if (s->keep) {
            if (s->nmsgs == s->capmsgs) {
                s->capmsgs = s->capmsgs ? s->capmsgs * 2 : 64;
                s->msgs = realloc(s->msgs, s->capmsgs * sizeof *s->msgs);
                ASSERT(s->msgs);
            }
            s->msgs[s->nmsgs++] = (msg_rec){ ev->sid, ev->binary, rtc_buf_ref(ev->buf) };
        }
        break;
    }
}

static inline void pair_drain(pair *p)
{
    for (bool again = true; again;) {
        again = false;
        /* Associations the shared usrsctp timers woke during a call on another one. */
        rtc_sctp_assoc *w;
        while (rtc_sctp_poll_woken(&w)) {
            rtc_sctp_assoc_handle_timeout(w, p->now);
            again = true;
        }
        for (int i = 0; i < 2; i++) {
            side *s = &p->s[i];
            if (!s->a) continue;
            rtc_buf *b;
            size_t n = 0;
            while (rtc_sctp_assoc_poll_transmit(s->a, &b)) {
                if (getenv("SCTP_TEST_TRACE") && b->len > 12) fprintf(stderr, "%lld ms side %d sends chunk type %u, %zu bytes\n", (long long)(p->now - RTC_SEC(1000)) / 1000, i, b->data[12], b->len);
                vnet_send(p->net, &s->addr, &p->s[!i].addr, b->data, b->len, p->now);
                rtc_buf_unref(b);
                n++;
                again = true;
            }
            if (n > s->max_out_queue) s->max_out_queue = n;
            rtc_sctp_event ev;
            while (rtc_sctp_assoc_poll_event(s->a, &ev)) {
                side_record(s, &ev);
                if (p->hook) p->hook(p, i, &ev);
                if (ev.type == RTC_SCTP_EV_MESSAGE) rtc_buf_unref(ev.buf);
                again = true;     /* a hook may have sent something */
            }
        }
    }
}

static inline void pair_init(pair *p, uint64_t seed, const rtc_sctp_config *ca, const rtc_sctp_config *cb)
{
    memset(p, 0, sizeof *p);
    if (getenv("RTC_LOG")) rtc_log_set_filter(getenv("RTC_LOG"));
    p->net = vnet_new(seed);
    p->now = test_vclock > RTC_SEC(1000) ? test_vclock : RTC_SEC(1000);
    test_vclock = p->now;
    rtc_addr_parse(&p->s[0].addr, "10.0.0.1:1");
    rtc_addr_parse(&p->s[1].addr, "10.0.0.2:2");
    vnet_set_link(p->net, (vnet_link){ .delay = RTC_MS(10) });
    rtc_sctp_config a = ca ? *ca : (rtc_sctp_config){ 0 }, b = cb ? *cb : (rtc_sctp_config){ 0 };
    a.dtls_client = true;
    b.dtls_client = false;
    ASSERT_OK(rtc_sctp_assoc_new(&p->s[0].a, &a, p->now));
    ASSERT_OK(rtc_sctp_assoc_new(&p->s[1].a, &b, p->now));
    p->s[0].keep = p->s[1].keep = true;
}

/* Advance the clock to the next deadline and handle whatever is due. */
static inline void pair_step(pair *p, rtc_time limit)
{
    pair_drain(p);
    rtc_time next = vnet_next_delivery(p->net);
    for (int i = 0; i < 2; i++)
        if (p->s[i].a) next = rtc_time_min(next, rtc_sctp_assoc_poll_timeout(p->s[i].a));
    next = rtc_time_min(next, limit);
    if (next > p->now) p->now = next;
    test_vclock = p->now;
    vnet_packet pk;
    while (vnet_poll(p->net, p->now, &pk)) {
        int to = rtc_addr_eq(&pk.to, &p->s[0].addr) ? 0 : 1;
        if (p->s[to].a) rtc_sctp_assoc_handle_packet(p->s[to].a, pk.data, pk.len, p->now);
        pair_drain(p);
    }
    for (int i = 0; i < 2; i++)
        if (p->s[i].a && rtc_sctp_assoc_poll_timeout(p->s[i].a) <= p->now) {
            rtc_sctp_assoc_handle_timeout(p->s[i].a, p->now);
            pair_drain(p);
        }
}

/* Run until cond(p) holds or `budget` of virtual time passes; returns cond's value. */
static inline bool pair_run(pair *p, bool (*cond)(pair *), rtc_time budget)
{
    rtc_time end = p->now + budget;
    pair_drain(p);
    while (!(cond && cond(p)) && p->now < end) pair_step(p, end);
    return cond ? cond(p) : true;
}

static inline bool both_connected(pair *p) { return p->s[0].connected && p->s[1].connected; }

static inline void side_clear_msgs(side *s)
{
    for (size_t i = 0; i < s->nmsgs; i++) rtc_buf_unref(s->msgs[i].buf);
    s->nmsgs = 0;
}

static inline void pair_free(pair *p)
{
    for (int i = 0; i < 2; i++) {
        side_clear_msgs(&p->s[i]);
        free(p->s[i].msgs);
        rtc_sctp_assoc_free(p->s[i].a);
        p->s[i].a = NULL;
    }
    vnet_free(p->net);
}

/* Deterministic test payloads: byte i of message `seq` of length `len`. */
static inline void fill_pattern(uint8_t *b, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) b[i] = (uint8_t)(seq * 131 + i * 7 + (i >> 9));
}
static inline bool check_pattern(const uint8_t *b, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++)
        if (b[i] != (uint8_t)(seq * 131 + i * 7 + (i >> 9))) return false;
    return true;
}

#endif
