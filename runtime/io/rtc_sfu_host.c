/* The SFU router on the loop (io/rtc_sfu_host.h): tapped packets in, injected out. */
#include "io/rtc_sfu_host.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "io/rtc_media_pipe.h"
#include "pc/pc_tap.h"
#include "sdp/sdp.h"
#include "codec/codec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAG "sfu"
/* Connections one drain of the router can touch before they are kicked: a fan-out
 * touches each subscriber once; more than this only means an extra kick pass. */
#define TOUCH_MAX 64

typedef struct leg {
    rtc_pc_host *ph;               /* NULL for a pipe leg */
    rtc_media_pipe *pipe;          /* a pipe leg: a consumer sending into it, or a producer fed by it */
    int tr;
    char rid[16];
    char fmtp[128];                /* a producer's: its codec's format, as its publisher negotiated it */
    rtc_sfu_producer *p;           /* one of p / c */
    rtc_sfu_consumer *c;
    void *user;
    struct rtc_sfu_host *h;
    struct leg *next;              /* the host's list, newest first */
    struct leg *cnext;             /* next leg of the same connection, newest first */
} leg;
/* The legs of one connection are a chain whose head (its newest leg, also its first in
 * the host's list) is the connection's tap argument: a tapped packet walks only its own
 * connection's legs, not every leg of the host. */

struct rtc_sfu_host {
    rtc_loop *lp;
    rtc_sfu_router *r;
    uv_timer_t timer;
    rtc_time armed;
    leg *legs;
    rtc_sfu_host_event_cb cb;
    void *ud;
    rtc_sfu_host_speaker_cb speaker_cb;
    void *speaker_ud;
    int draining, dirty;
    bool closing;
    const rtc_sfu_event *cur_ev;   /* the one being reported to cb */
    rtc_pc_host *touched[TOUCH_MAX];
    int ntouched;
    uint8_t out[2048];
};

static void host_drain(rtc_sfu_host *h);
static void on_tap(rtc_pc_host *ph, rtc_pc_tapped *t, void *ud);

static leg *leg_of_pc(rtc_sfu_host *h, rtc_pc_host *ph)
{
    for (leg *l = h->legs; l; l = l->next)
        if (l->ph == ph) return l;
    return NULL;
}

static void unlink_leg(rtc_sfu_host *h, leg *x)
{
    if (x->pipe) {                 /* no connection, no tap */
        for (leg **pp = &h->legs; *pp; pp = &(*pp)->next)
            if (*pp == x) { *pp = x->next; break; }
        rtc_media_pipe_close(x->pipe);
        free(x);
        return;
    }
    leg *head = leg_of_pc(h, x->ph);
    for (leg **pp = &head; *pp; pp = &(*pp)->cnext)
        if (*pp == x) { *pp = x->cnext; break; }
    for (leg **pp = &h->legs; *pp; pp = &(*pp)->next)
        if (*pp == x) { *pp = x->next; break; }
    /* A new head takes over the tap; the last leg of a connection releases it. */
    rtc_pc_host_set_tap(x->ph, head ? on_tap : NULL, head);
    for (int i = 0; i < h->ntouched; i++)
        if (h->touched[i] == x->ph && !leg_of_pc(h, x->ph)) h->touched[i] = h->touched[--h->ntouched];
    free(x);
}

static void touch(rtc_sfu_host *h, rtc_pc_host *ph)
{
    for (int i = 0; i < h->ntouched; i++)
        if (h->touched[i] == ph) return;
    if (h->ntouched < TOUCH_MAX) h->touched[h->ntouched++] = ph;
    else rtc_pc_host_kick(ph);
}

static void on_tap(rtc_pc_host *ph, rtc_pc_tapped *t, void *ud)
{
    leg *head = ud;
    rtc_sfu_host *h = head->h;
    rtc_time now = rtc_clock_now();
    if (!t) {                      /* the connection is closing */
        leg *l;
        while ((l = leg_of_pc(h, ph))) {
            void *user = l->user;
            if (l->p) rtc_sfu_router_remove_producer(h->r, l->p);
            else rtc_sfu_router_remove_consumer(h->r, l->c);
            /* The tap was already cleared by the closing host. */
            for (leg **pp = &h->legs; *pp; pp = &(*pp)->next)
                if (*pp == l) { *pp = l->next; break; }
            for (int i = 0; i < h->ntouched; i++)
                if (h->touched[i] == ph) h->touched[i] = h->touched[--h->ntouched];
            free(l);
            if (h->cb) h->cb(h, RTC_SFU_HOST_EV_REMOVED, user, h->ud);
        }
        rtc_pc_host_set_tap(ph, NULL, NULL);   /* a removal from the callback may have re-set it */
        return;
    }
    for (leg *l = head; l; l = l->cnext) {
        if (t->kind == RTC_PC_TAP_RTP) {
            if (l->p && l->tr == t->tr && strcmp(l->rid, t->rid) == 0) {
                rtc_sfu_router_handle_rtp(h->r, l->p, t->buf, now);
                break;
            }
        } else if (l->p) {
            rtc_sfu_router_handle_producer_rtcp(h->r, l->p, t->buf->data, t->buf->len, now);
        } else {
            rtc_sfu_router_handle_consumer_rtcp(h->r, l->c, t->buf->data, t->buf->len, now);
        }
    }
    rtc_buf_unref(t->buf);
    host_drain(h);
}

static void send_transmit(rtc_sfu_host *h, rtc_sfu_transmit *t, rtc_time now)
{
    leg *l = t->user;
    if (!l) return;
    if (l->pipe) {                 /* header and payload straight into the ring: the one copy */
        int kind = t->kind == RTC_SFU_TX_RTP ? RTC_MEDIA_PIPE_RTP : RTC_MEDIA_PIPE_RTCP;
        rtc_media_pipe_send(l->pipe, kind, t->head, t->head_len, t->pkt ? t->pkt->data + t->off : NULL,
                            t->pkt ? t->len : 0);
        return;
    }
    int n = rtc_sfu_transmit_flatten(t, h->out, sizeof h->out);
    if (n < 0) return;
    rtc_pc *pc = rtc_pc_host_pc(l->ph);
    if (t->kind == RTC_SFU_TX_RTP) rtc_pc_inject_rtp(pc, l->tr, h->out, (size_t)n, now);
    else rtc_pc_inject_rtcp(pc, h->out, (size_t)n, now);
    touch(h, l->ph);
}

static void timer_cb(uv_timer_t *t)
{
    rtc_sfu_host *h = t->data;
    h->armed = RTC_TIME_NEVER;
    rtc_sfu_router_handle_timeout(h->r, rtc_clock_now());
    host_drain(h);
}

static void arm(rtc_sfu_host *h)
{
    rtc_time next = rtc_sfu_router_poll_timeout(h->r);
    if (next == h->armed) return;
    h->armed = next;
    if (next == RTC_TIME_NEVER) { uv_timer_stop(&h->timer); return; }
    rtc_time now = rtc_clock_now();
    uint64_t ms = next <= now ? 0 : (uint64_t)((next - now + 999) / 1000);
    uv_timer_start(&h->timer, timer_cb, ms, 0);
}

/* A speaker observer's event, its producers named by their users. */
static void speaker_event(rtc_sfu_host *h, const rtc_sfu_event *ev)
{
    if (!h->speaker_cb) return;
    if (ev->type == RTC_SFU_EV_ACTIVE_SPEAKER) {
        leg *l = ev->producer ? rtc_sfu_producer_user(ev->producer) : NULL;
        h->speaker_cb(h, RTC_SFU_HOST_SPEAKER_ACTIVE, ev->user, l ? l->user : NULL, NULL, 0, h->speaker_ud);
    } else if (ev->type == RTC_SFU_EV_AUDIO_LEVELS) {
        rtc_sfu_level lv[64];
        rtc_sfu_host_level out[64];
        int n = rtc_sfu_speaker_levels(ev->speaker, lv, 64), k = 0;
        for (int i = 0; i < n; i++) {
            leg *l = lv[i].user;
            if (l) out[k++] = (rtc_sfu_host_level){ l->user, lv[i].level, lv[i].voice };
        }
        h->speaker_cb(h, RTC_SFU_HOST_SPEAKER_LEVELS, ev->user, NULL, out, k, h->speaker_ud);
    }
}

static void host_drain(rtc_sfu_host *h)
{
    if (h->closing) return;
    if (h->draining) { h->dirty = 1; return; }
    h->draining = 1;
    do {
        h->dirty = 0;
        rtc_time now = rtc_clock_now();
        rtc_sfu_transmit t;
        while (rtc_sfu_router_poll_transmit(h->r, &t)) {
            send_transmit(h, &t, now);
            rtc_sfu_transmit_release(&t);
        }
        rtc_sfu_event ev;
        while (!h->closing && rtc_sfu_router_poll_event(h->r, &ev)) {
            if (ev.speaker) { speaker_event(h, &ev); continue; }
            leg *l = ev.user;
            rtc_sfu_host_event_type type;
            switch (ev.type) {
            case RTC_SFU_EV_CONSUMER_STARTED: type = RTC_SFU_HOST_EV_STARTED; break;
            case RTC_SFU_EV_KEYFRAME_REQUESTED: type = RTC_SFU_HOST_EV_KEYFRAME_REQUESTED; break;
            case RTC_SFU_EV_PRODUCER_BYE: type = RTC_SFU_HOST_EV_BYE; break;
            case RTC_SFU_EV_LAYER_CHANGE: type = RTC_SFU_HOST_EV_LAYER_CHANGE; break;
            case RTC_SFU_EV_LAYER_STARTED: type = RTC_SFU_HOST_EV_LAYER_STARTED; break;
            case RTC_SFU_EV_LAYER_STOPPED: type = RTC_SFU_HOST_EV_LAYER_STOPPED; break;
            default: continue;
            }
            h->cur_ev = &ev;
            if (l && h->cb) h->cb(h, type, l->user, h->ud);
            h->cur_ev = NULL;
        }
        /* Kicking a connection drains it; its tap may feed the router again (dirty). */
        while (h->ntouched) rtc_pc_host_kick(h->touched[--h->ntouched]);
    } while (h->dirty && !h->closing);
    h->draining = 0;
    if (!h->closing) arm(h);
}

void rtc_sfu_host_kick(rtc_sfu_host *h) { host_drain(h); }

int rtc_sfu_host_new(rtc_sfu_host **out, rtc_loop *lp, rtc_sfu_host_event_cb cb, void *ud)
{
    rtc_sfu_host *h = calloc(1, sizeof *h);
    if (!h) return RTC_ENOMEM;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rtc_time now = rtc_clock_now();
    rtc_sfu_router_config rc = { .pool = rtc_loop_pool(lp),
                                 .unix_offset_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - now };
    int r = rtc_sfu_router_new(&h->r, &rc, now);
    if (r < 0) { free(h); return r; }
    h->lp = lp;
    h->cb = cb;
    h->ud = ud;
    h->armed = RTC_TIME_NEVER;
    uv_timer_init(rtc_loop_uv(lp), &h->timer);
    uv_unref((uv_handle_t *)&h->timer);     /* the connections keep the loop alive, not the router */
    h->timer.data = h;
    *out = h;
    return 0;
}

static void timer_closed(uv_handle_t *t)
{
    rtc_sfu_host *h = t->data;
    rtc_sfu_router_free(h->r);
    free(h);
}

void rtc_sfu_host_close(rtc_sfu_host *h)
{
    if (!h || h->closing) return;
    h->closing = true;
    while (h->legs) {
        leg *l = h->legs;
        h->legs = l->next;
        if (l->pipe) rtc_media_pipe_close(l->pipe);
        else if (!leg_of_pc(h, l->ph)) rtc_pc_host_set_tap(l->ph, NULL, NULL);
        free(l);
    }
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, timer_closed);
}

rtc_sfu_router *rtc_sfu_host_router(rtc_sfu_host *h) { return h->r; }
const rtc_sfu_event *rtc_sfu_host_event_detail(const rtc_sfu_host *h) { return h->cur_ev; }

static leg *new_leg(rtc_pc_host *ph, int tr, void *user)
{
    leg *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->ph = ph;
    l->tr = tr;
    l->user = user;
    return l;
}

static void add_leg(rtc_sfu_host *h, leg *l)
{
    l->h = h;
    l->cnext = leg_of_pc(h, l->ph);
    l->next = h->legs;
    h->legs = l;
    rtc_pc_host_set_tap(l->ph, on_tap, l);
}

void rtc_sfu_host_producer_config(const rtc_pc_forward_params *fp, const rtc_sfu_host_producer_opts *opts,
                                  rtc_sfu_producer_config *out)
{
    const char *rid = opts && opts->rid ? opts->rid : "";
    *out = (rtc_sfu_producer_config){
        .mid = fp->mid, .rid = rid[0] ? rid : NULL, .codec = (rtc_codec_id)fp->codec, .pt = fp->pt,
        .rtx_pt = fp->rtx_pt, .ssrc = rid[0] ? 0 : fp->remote_ssrc, .rtx_ssrc = rid[0] ? 0 : fp->remote_rtx_ssrc,
        .clock_rate = fp->clock_rate, .local_ssrc = fp->rtcp_ssrc, .use_fir = fp->fb_fir && !fp->fb_pli,
        .keyframe_interval = opts ? opts->keyframe_interval : 0,
        .rr_interval = -1,          /* the connection's receiver already reports */
    };
    out->ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = fp->audio_level_id;
    out->ext_id[RTC_SFU_EXT_VIDEO_ORIENTATION] = fp->video_orientation_id;
    if (opts) out->cache = opts->cache;
}

void rtc_sfu_host_consumer_config(const rtc_pc_forward_params *fp, rtc_rng *rng, bool paused,
                                  rtc_sfu_consumer_config *out)
{
    *out = (rtc_sfu_consumer_config){
        .codec = (rtc_codec_id)fp->codec, .pt = fp->pt, .ssrc = fp->ssrc, .rtx_pt = fp->rtx_pt,
        .rtx_ssrc = fp->rtx_ssrc,
        .red_pt = fp->red_send ? fp->red_pt : 0,   /* RED as the subscriber's transceiver sends it */
        .initial_seq = (uint16_t)rtc_rng_u32(rng), .initial_rtx_seq = (uint16_t)rtc_rng_u32(rng),
        .mid = fp->mid, .cname = fp->cname, .clock_rate = fp->clock_rate, .paused = paused,
    };
    out->ext_id[RTC_SFU_EXT_MID] = fp->mid_id;
    out->ext_id[RTC_SFU_EXT_ABS_SEND_TIME] = fp->abs_send_time_id;
    out->ext_id[RTC_SFU_EXT_TWCC] = fp->twcc_id;
    out->ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = fp->audio_level_id;
    out->ext_id[RTC_SFU_EXT_VIDEO_ORIENTATION] = fp->video_orientation_id;
}

int rtc_sfu_host_add_producer(rtc_sfu_host *h, rtc_pc_host *ph, int tr, const rtc_sfu_host_producer_opts *opts,
                              void *user, rtc_sfu_producer **out)
{
    if (h->closing) return RTC_ESTATE;
    rtc_pc *pc = rtc_pc_host_pc(ph);
    rtc_pc_forward_params fp;
    int r = rtc_pc_forward_params_get(pc, tr, &fp);
    if (r < 0) return r;
    if (!fp.recvs) return RTC_ESTATE;
    const char *rid = opts && opts->rid ? opts->rid : "";
    if (strlen(rid) >= sizeof((leg *)0)->rid) return RTC_EINVAL;
    leg *l = new_leg(ph, tr, user);
    if (!l) return RTC_ENOMEM;
    strcpy(l->rid, rid);
    snprintf(l->fmtp, sizeof l->fmtp, "%s", fp.fmtp ? fp.fmtp : "");
    rtc_sfu_producer_config pc_cfg;
    rtc_sfu_host_producer_config(&fp, opts, &pc_cfg);
    pc_cfg.user = l;
    rtc_time now = rtc_clock_now();
    r = rtc_sfu_router_add_producer(h->r, &pc_cfg, &l->p, now);
    if (r == 0) r = rtc_pc_set_tap(pc, tr, true);
    if (r < 0) {
        if (l->p) rtc_sfu_router_remove_producer(h->r, l->p);
        free(l);
        return r;
    }
    add_leg(h, l);
    *out = l->p;
    rtc_pc_host_kick(ph);
    host_drain(h);
    return 0;
}

int rtc_sfu_host_add_consumer(rtc_sfu_host *h, rtc_pc_host *ph, int tr, rtc_sfu_producer *source, bool paused,
                              void *user, rtc_sfu_consumer **out)
{
    if (h->closing) return RTC_ESTATE;
    rtc_pc *pc = rtc_pc_host_pc(ph);
    rtc_pc_forward_params fp;
    int r = rtc_pc_forward_params_get(pc, tr, &fp);
    if (r < 0) return r;
    if (!fp.sends) return RTC_ESTATE;
    /* The same codec in another format (H264 profile, VP9 profile-id) is a codec the
     * subscriber cannot receive either. */
    const leg *src = source ? rtc_sfu_producer_user(source) : NULL;
    if (src && src->h == h && fp.codec >= 0 && src->p &&
        !rtc_sdp_fmtp_match(rtc_codec_name((rtc_codec_id)fp.codec), src->fmtp, fp.fmtp))
        return RTC_ENOTSUP;
    leg *l = new_leg(ph, tr, user);
    if (!l) return RTC_ENOMEM;
    rtc_sfu_consumer_config cc;
    rtc_sfu_host_consumer_config(&fp, rtc_loop_rng(h->lp), paused, &cc);
    cc.user = l;
    rtc_time now = rtc_clock_now();
    r = rtc_sfu_router_add_consumer(h->r, &cc, source, &l->c, now);
    if (r == 0) r = rtc_pc_set_inject(pc, tr, true);
    if (r < 0) {
        if (l->c) rtc_sfu_router_remove_consumer(h->r, l->c);
        free(l);
        return r;
    }
    add_leg(h, l);
    *out = l->c;
    host_drain(h);
    return 0;
}

static leg *find_leg(rtc_sfu_host *h, const rtc_sfu_producer *p, const rtc_sfu_consumer *c)
{
    for (leg *l = h->legs; l; l = l->next)
        if ((p && l->p == p) || (c && l->c == c)) return l;
    return NULL;
}

void rtc_sfu_host_remove_producer(rtc_sfu_host *h, rtc_sfu_producer *p)
{
    leg *l = find_leg(h, p, NULL);
    if (!l) return;
    rtc_sfu_router_remove_producer(h->r, p);
    if (l->pipe) { unlink_leg(h, l); host_drain(h); return; }
    bool other = false;           /* another layer of the same transceiver still forwarded */
    for (leg *o = h->legs; o; o = o->next) other |= o != l && o->p && o->ph == l->ph && o->tr == l->tr;
    if (!other) rtc_pc_set_tap(rtc_pc_host_pc(l->ph), l->tr, false);
    unlink_leg(h, l);
    host_drain(h);
}

void rtc_sfu_host_remove_consumer(rtc_sfu_host *h, rtc_sfu_consumer *c)
{
    leg *l = find_leg(h, NULL, c);
    if (!l) return;
    if (!l->pipe) rtc_pc_set_inject(rtc_pc_host_pc(l->ph), l->tr, false);
    rtc_sfu_router_remove_consumer(h->r, c);
    unlink_leg(h, l);
    host_drain(h);
}

void rtc_sfu_host_set_speaker_cb(rtc_sfu_host *h, rtc_sfu_host_speaker_cb cb, void *ud)
{
    h->speaker_cb = cb;
    h->speaker_ud = ud;
}

int rtc_sfu_host_add_speaker(rtc_sfu_host *h, const rtc_sfu_speaker_config *cfg, void *user, rtc_sfu_speaker **out)
{
    if (h->closing) return RTC_ESTATE;
    rtc_sfu_speaker_config c = cfg ? *cfg : (rtc_sfu_speaker_config){0};
    c.user = user;
    return rtc_sfu_router_add_speaker(h->r, &c, out, rtc_clock_now());
}

void rtc_sfu_host_remove_speaker(rtc_sfu_host *h, rtc_sfu_speaker *s)
{
    if (h->closing) return;                    /* the router frees it with everything else */
    rtc_sfu_router_remove_speaker(h->r, s);
    host_drain(h);
}

int rtc_sfu_host_speaker_add_producer(rtc_sfu_host *h, rtc_sfu_speaker *s, rtc_sfu_producer *p)
{
    int r = rtc_sfu_speaker_add_producer(s, p);
    host_drain(h);
    return r;
}

/* {====== pipes (io/rtc_media_pipe.h) ======
 * The sending host's leg is a consumer of the piped producer whose packets go into the
 * pipe; RTCP coming back (NACK, PLI, FIR) is that consumer's subscriber feedback, so
 * NACKs are answered from the sending host's cache and keyframe requests join the
 * producer's aggregated one. The receiving host's leg is a producer fed from the pipe;
 * its own upstream RTCP (NACKs for what its cache lacks, keyframe requests) goes back
 * into the pipe. */

static void pipe_gone(rtc_sfu_host *h, leg *l)
{
    void *user = l->user;
    if (l->p) rtc_sfu_router_remove_producer(h->r, l->p);
    else rtc_sfu_router_remove_consumer(h->r, l->c);
    unlink_leg(h, l);
    host_drain(h);
    if (h->cb && !h->closing) h->cb(h, RTC_SFU_HOST_EV_REMOVED, user, h->ud);
}

static void on_pipe(rtc_media_pipe *mp, void *ud)
{
    leg *l = ud;
    rtc_sfu_host *h = l->h;
    if (h->closing) return;
    rtc_time now = rtc_clock_now();
    int kind;
    const uint8_t *d;
    size_t n;
    /* A turn takes at most one ring's worth, so a fast sender cannot keep this loop here. */
    for (int budget = 1024; budget > 0 && rtc_media_pipe_peek(mp, &kind, &d, &n); budget--) {
        if (l->c) {
            if (kind == RTC_MEDIA_PIPE_RTCP) rtc_sfu_router_handle_consumer_rtcp(h->r, l->c, d, n, now);
        } else if (kind == RTC_MEDIA_PIPE_RTP) {
            rtc_buf *b = rtc_buf_alloc(rtc_loop_pool(h->lp), n);
            if (b && n <= b->cap) {
                memcpy(b->data, d, n);
                b->len = n;
                rtc_sfu_router_handle_rtp(h->r, l->p, b, now);
            }
            rtc_buf_unref(b);
        } else {
            rtc_sfu_router_handle_producer_rtcp(h->r, l->p, d, n, now);
        }
        rtc_media_pipe_pop(mp);
    }
    host_drain(h);
    /* The drain's events run Lua, which may have closed the host or removed this leg. */
    if (h->closing) return;
    bool alive = false;
    for (leg *x = h->legs; x && !alive; x = x->next) alive = x->pipe == mp;   /* mp outlives this call */
    if (!alive) return;
    /* More than the budget waits: the pipe wakes this loop again on its next turn. */
    if (rtc_media_pipe_peer_closed(mp) && !rtc_media_pipe_peek(mp, &kind, &d, &n)) pipe_gone(h, l);
}

static leg *new_pipe_leg(rtc_sfu_host *h, void *user)
{
    leg *l = new_leg(NULL, -1, user);
    if (l) l->h = h;
    return l;
}

/* The audio level extension id the piped packets carry (a one-byte id, any free one). */
#define PIPE_AUDIO_LEVEL_ID 1

int rtc_sfu_host_pipe_out(rtc_sfu_host *h, rtc_sfu_producer *source, void *user, rtc_sfu_consumer **out,
                          char name[RTC_MEDIA_PIPE_NAME_MAX])
{
    if (h->closing) return RTC_ESTATE;
    rtc_codec_id codec;
    uint8_t pt;
    uint32_t rate;
    rtc_sfu_producer_params(source, &codec, &pt, &rate);
    rtc_rng *rng = rtc_loop_rng(h->lp);
    rtc_media_pipe_desc d = { .codec = (int)codec, .pt = pt, .ssrc = rtc_rng_u32(rng) | 1, .clock_rate = rate,
                              .audio_level_id = codec == RTC_CODEC_OPUS ? PIPE_AUDIO_LEVEL_ID : 0 };
    leg *l = new_pipe_leg(h, user);
    if (!l) return RTC_ENOMEM;
    int r = rtc_media_pipe_new(&l->pipe, &d, name);
    if (r < 0) { free(l); return r; }
    rtc_sfu_consumer_config cc = {
        .codec = codec, .pt = pt, .ssrc = d.ssrc,
        .initial_seq = (uint16_t)rtc_rng_u32(rng), .initial_rtx_seq = (uint16_t)rtc_rng_u32(rng),
        .user = l,                 /* no RTX: a NACKed packet is resent as it was first sent */
    };
    cc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = d.audio_level_id;
    r = rtc_sfu_router_add_consumer(h->r, &cc, source, &l->c, rtc_clock_now());
    if (r == 0) r = rtc_media_pipe_bind(l->pipe, rtc_loop_uv(h->lp), on_pipe, l);
    if (r < 0) {
        if (l->c) rtc_sfu_router_remove_consumer(h->r, l->c);
        rtc_media_pipe_close(l->pipe);
        free(l);
        return r;
    }
    l->next = h->legs;
    h->legs = l;
    *out = l->c;
    host_drain(h);
    return 0;
}

int rtc_sfu_host_pipe_in(rtc_sfu_host *h, const char *name, void *user, rtc_sfu_producer **out,
                         rtc_media_pipe_desc *desc)
{
    if (h->closing) return RTC_ESTATE;
    leg *l = new_pipe_leg(h, user);
    if (!l) return RTC_ENOMEM;
    int r = rtc_media_pipe_open(&l->pipe, name, desc);
    if (r < 0) { free(l); return r; }
    rtc_sfu_producer_config pc_cfg = {
        .codec = (rtc_codec_id)desc->codec, .pt = desc->pt, .ssrc = desc->ssrc, .clock_rate = desc->clock_rate,
        .local_ssrc = rtc_rng_u32(rtc_loop_rng(h->lp)),
        .rr_interval = -1,         /* the sending side's consumer needs no reports across the pipe */
        .user = l,
    };
    pc_cfg.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = desc->audio_level_id;
    r = rtc_sfu_router_add_producer(h->r, &pc_cfg, &l->p, rtc_clock_now());
    if (r == 0) r = rtc_media_pipe_bind(l->pipe, rtc_loop_uv(h->lp), on_pipe, l);
    if (r < 0) {
        if (l->p) rtc_sfu_router_remove_producer(h->r, l->p);
        rtc_media_pipe_close(l->pipe);
        free(l);
        return r;
    }
    l->next = h->legs;
    h->legs = l;
    *out = l->p;
    host_drain(h);
    return 0;
}

int rtc_sfu_host_pipe_stats(rtc_sfu_host *h, const rtc_sfu_producer *p, const rtc_sfu_consumer *c,
                            rtc_media_pipe_stats *out)
{
    leg *l = find_leg(h, p, c);
    if (!l || !l->pipe) return RTC_ENOTFOUND;
    rtc_media_pipe_get_stats(l->pipe, out);
    return 0;
}
/* }====== */
