/* Layers (sfu_layers.h): each producer's measured traffic per temporal layer, and a
 * consumer's choice of spatial layer (which producer of its set it forwards) and
 * temporal layer (which VP8 frames it drops). The rewriting that keeps the stream
 * continuous across a switch or a drop is the consumer's epochs (sfu_consumer.c):
 * this file only decides. */
#include "sfu/sfu_internal.h"
#include "core/rtc_errors.h"
#include <string.h>

#define REEVAL_EVERY RTC_MS(500)   /* measured bitrates move: choose again this often */

const char *rtc_sfu_layer_why_name(int why)
{
    switch (why) {
    case RTC_SFU_LAYER_WHY_START: return "start";
    case RTC_SFU_LAYER_WHY_PREFERRED: return "preferred";
    case RTC_SFU_LAYER_WHY_BANDWIDTH: return "bandwidth";
    case RTC_SFU_LAYER_WHY_INACTIVE: return "inactive";
    default: return "unknown";
    }
}

/* {====== meter ====== */

static int clamp_layer(int v, int max) { return v < 0 ? 0 : v >= max ? max - 1 : v; }

void sfu__meter_add(rtc_sfu_producer *p, const rtc_sfu_packet *pk, size_t bytes, rtc_time now)
{
    sfu_meter *m = &p->meter;
    int64_t no = now / SFU_METER_SLOT;
    unsigned i = (unsigned)(no % SFU_METER_SLOTS);
    if (m->slot_no[i] != no) {
        m->slot_no[i] = no;
        memset(m->bytes[i], 0, sizeof m->bytes[i]);
        memset(m->frames[i], 0, sizeof m->frames[i]);
    }
    int tid = pk->info.temporal_id;
    int old_tid = m->max_tid;
    if (tid > m->max_tid) m->max_tid = (int8_t)(tid < RTC_SFU_MAX_TEMPORAL ? tid : RTC_SFU_MAX_TEMPORAL - 1);
    tid = clamp_layer(tid, RTC_SFU_MAX_TEMPORAL);
    /* Spatial layers only count as such in VP9 (one stream, SID in each descriptor). */
    int sid = p->cfg.codec == RTC_CODEC_VP9 ? clamp_layer(pk->info.spatial_id, RTC_SFU_MAX_SPATIAL) : 0;
    int old_sid = m->max_sid;
    m->bytes[i][sid][tid] += (uint32_t)bytes;
    if (pk->info.begin) m->frames[i][sid]++;
    m->spatial_at[sid] = now ? now : 1;
    if (sid > m->max_sid) m->max_sid = (int8_t)sid;
    if (!m->first_at) m->first_at = now ? now : 1;
    m->last_at = now;
    /* A VP8 key frame says its size (RFC 6386 9.1): tag, start code, 14-bit sizes. */
    if (p->cfg.codec == RTC_CODEC_VP8 && pk->info.keyframe && pk->payload_len >= (size_t)pk->desc_len + 10) {
        const uint8_t *f = pk->buf->data + pk->header_len + pk->desc_len;
        if (f[3] == 0x9d && f[4] == 0x01 && f[5] == 0x2a) {
            m->width[0] = (uint16_t)((f[6] | f[7] << 8) & 0x3fff);
            m->height[0] = (uint16_t)((f[8] | f[9] << 8) & 0x3fff);
        }
    }
    /* A VP9 scalability structure (keyframes) names the spatial layers and their sizes;
     * the stream may have dropped a layer since, so its count replaces what was seen. */
    rtc_vp9_ss ss;
    if (p->cfg.codec == RTC_CODEC_VP9 && pk->info.spatial_layers > 0 &&
        rtc_vp9_scalability(pk->buf->data + pk->header_len, pk->payload_len, &ss) == 1) {
        int n = ss.spatial_layers < RTC_SFU_MAX_SPATIAL ? ss.spatial_layers : RTC_SFU_MAX_SPATIAL;
        m->max_sid = (int8_t)(n - 1 > sid ? n - 1 : sid);
        for (int k = 0; ss.has_sizes && k < n; k++) { m->width[k] = ss.width[k]; m->height[k] = ss.height[k]; }
        /* The keyframe's upper layers follow in this picture: they count as active from
         * here, so a consumer chooses among them before they arrive (and asks for no
         * second keyframe); one that never comes goes idle like any layer. */
        for (int k = 0; k < n; k++) m->spatial_at[k] = now ? now : 1;
    }
    if (!m->active) {
        m->active = true;
        sfu__event(p->router, RTC_SFU_EV_LAYER_STARTED, p, NULL);
        sfu__layers_producer_changed(p, now);
        sfu__lower_timeout(p->router, sfu__meter_next(p));
    } else if (m->max_sid != old_sid || m->max_tid != old_tid) {
        /* SVC layers came or went, or a temporal layer is seen for the first time: a
         * consumer whose choice was capped by what the stream had chooses again. */
        sfu__layers_producer_changed(p, now);
    }
}

void sfu__meter_timeout(rtc_sfu_producer *p, rtc_time now)
{
    sfu_meter *m = &p->meter;
    if (!m->active || now < m->last_at + RTC_SFU_LAYER_IDLE) return;
    m->active = false;
    sfu__event(p->router, RTC_SFU_EV_LAYER_STOPPED, p, NULL);
    sfu__layers_producer_changed(p, now);
}

rtc_time sfu__meter_next(const rtc_sfu_producer *p)
{
    return p->meter.active ? p->meter.last_at + RTC_SFU_LAYER_IDLE : RTC_TIME_NEVER;
}

/* Traffic of spatial layers s0..s1 together over the meter's window. */
static void stats_of(const sfu_meter *m, int s0, int s1, rtc_time now, rtc_sfu_layer_stats *out)
{
    memset(out, 0, sizeof *out);
    out->active = m->active;
    out->temporal_layers = m->max_tid < 0 ? 1 : m->max_tid + 1;
    out->spatial_layers = m->max_sid + 1;
    out->width = m->width[s1];
    out->height = m->height[s1];
    if (!m->first_at) return;
    int64_t cur = now / SFU_METER_SLOT;
    /* The window: the last SFU_METER_SLOTS - 1 whole slots and the current part one,
     * or less when the stream is younger than that. */
    rtc_time from = (cur - (SFU_METER_SLOTS - 1)) * SFU_METER_SLOT;
    if (from < m->first_at) from = m->first_at;
    rtc_time span = now - from;
    if (span < SFU_METER_SLOT) span = SFU_METER_SLOT;
    uint64_t bytes[RTC_SFU_MAX_TEMPORAL] = { 0 }, frames = 0;
    for (unsigned i = 0; i < SFU_METER_SLOTS; i++) {
        if (m->slot_no[i] > cur || m->slot_no[i] <= cur - SFU_METER_SLOTS) continue;
        for (int s = s0; s <= s1; s++)
            for (int t = 0; t < RTC_SFU_MAX_TEMPORAL; t++) bytes[t] += m->bytes[i][s][t];
        frames += m->frames[i][s0];                     /* pictures: the lowest layer's frames */
    }
    uint64_t sum = 0;
    for (int t = 0; t < RTC_SFU_MAX_TEMPORAL; t++) {
        sum += bytes[t];
        out->temporal_bitrate[t] = (uint64_t)((double)sum * 8e6 / (double)span);
    }
    out->bitrate = out->temporal_bitrate[RTC_SFU_MAX_TEMPORAL - 1];
    out->frame_rate = (double)frames * 1e6 / (double)span;
}

void rtc_sfu_producer_get_layer_stats(const rtc_sfu_producer *p, rtc_time now, rtc_sfu_layer_stats *out)
{
    stats_of(&p->meter, 0, p->meter.max_sid, now, out);
}

static bool spatial_active(const sfu_meter *m, int s, rtc_time now)
{
    return m->active && m->spatial_at[s] && now < m->spatial_at[s] + RTC_SFU_LAYER_IDLE;
}

int rtc_sfu_producer_get_spatial_stats(const rtc_sfu_producer *p, int spatial, rtc_time now, rtc_sfu_layer_stats *out)
{
    if (spatial < 0 || spatial >= RTC_SFU_MAX_SPATIAL) return RTC_EINVAL;
    stats_of(&p->meter, spatial, spatial, now, out);
    out->active = spatial_active(&p->meter, spatial, now);
    return 0;
}

/* }====== */

/* {====== the consumer's choice ====== */

void sfu__layers_init(rtc_sfu_consumer *c)
{
    c->pref_s = c->pref_t = -1;
    c->cur_s = -1;
    c->cur_t = c->tgt_t = RTC_SFU_MAX_TEMPORAL - 1;
    c->tgt_s = 0;
    c->tgt_why = RTC_SFU_LAYER_WHY_START;
    c->up_s = c->up_t = -1;
    c->ev_s = c->ev_t = -2;
    c->last_drop_pic = -1;
    c->svc_last_s = -1;
    c->layers_next = RTC_TIME_NEVER;
    if (!c->cfg.layer_up_delay) c->cfg.layer_up_delay = RTC_SEC(3);
}

static rtc_sfu_producer *layer_at(const rtc_sfu_consumer *c, int s)
{
    if (c->nlayers) return s >= 0 && s < c->nlayers ? c->layer[s] : NULL;
    return s == 0 ? c->source : NULL;
}

static int index_of(const rtc_sfu_consumer *c, const rtc_sfu_producer *p)
{
    for (int i = 0; i < c->nlayers; i++)
        if (c->layer[i] == p) return i;
    return -1;
}

rtc_sfu_producer *sfu__layers_source_of(const rtc_sfu_consumer *c, uint32_t gen)
{
    if (c->source && c->source->gen == gen) return c->source;
    for (int i = 0; i < c->nlayers; i++)
        if (c->layer[i] && c->layer[i]->gen == gen) return c->layer[i];
    return NULL;
}

static int rank(int s, int t) { return s * RTC_SFU_MAX_TEMPORAL + t; }

/* A single VP9 source with spatial layers inside it. */
static bool svc(const rtc_sfu_consumer *c)
{
    return !c->nlayers && c->source && c->cfg.codec == RTC_CODEC_VP9 && c->source->meter.max_sid > 0;
}

int sfu__layers_svc_top(const rtc_sfu_consumer *c) { return svc(c) ? c->cur_s : -1; }

/* Spatial layers to choose from: the simulcast set, an SVC source's, or the one source. */
static int spatial_count(const rtc_sfu_consumer *c)
{
    if (c->nlayers) return c->nlayers;
    if (svc(c)) return c->source->meter.max_sid + 1;
    return c->source ? 1 : 0;
}

/* Spatial layer s as c would forward it: false when it is not active; else ls has its
 * measured traffic (for SVC, layers 0..s together: forwarding s means sending them all). */
static bool spatial_layer(const rtc_sfu_consumer *c, int s, rtc_time now, rtc_sfu_layer_stats *ls)
{
    if (svc(c)) {
        const sfu_meter *m = &c->source->meter;
        if (s < 0 || s > m->max_sid || !spatial_active(m, s, now)) return false;
        if (ls) stats_of(m, 0, s, now, ls);
        return true;
    }
    rtc_sfu_producer *p = layer_at(c, s);
    if (!p || !p->meter.active) return false;
    if (ls) rtc_sfu_producer_get_layer_stats(p, now, ls);
    return true;
}

/* Whether c chooses at all: layered, limited by an estimate, or asked for a temporal layer. */
static bool choosing(const rtc_sfu_consumer *c) { return c->video && (c->nlayers || svc(c) || c->bw || c->pref_t >= 0); }

static void set_target(rtc_sfu_consumer *c, int s, int t, int why, rtc_time now)
{
    c->tgt_s = (int8_t)s;
    c->tgt_t = (int8_t)t;
    c->tgt_why = (uint8_t)why;
    /* A spatial switch waits for a keyframe of the target: ask for one now. */
    if (c->nlayers && s != c->cur_s && c->layer[s] && !c->paused) sfu__producer_want_keyframe(c->layer[s], now);
    /* SVC: a higher spatial layer is taken up at a layer frame without inter-picture
     * references; with L3T3_KEY only a keyframe has those, so ask for one. */
    if (svc(c) && c->cur_s >= 0 && s > c->cur_s && !c->paused) sfu__producer_want_keyframe(c->source, now);
}

/* Pick the target: the highest active layer at or below the preference whose
 * bitrate fits the estimate. Down at once; up at once unless the estimate was what
 * held c down, in which case the higher choice must hold for layer_up_delay first. */
static void choose(rtc_sfu_consumer *c, rtc_time now, int why, bool immediate)
{
    int n = spatial_count(c);
    if (!n || !c->video) return;
    int ps = c->pref_s < 0 || c->pref_s >= n ? n - 1 : c->pref_s;
    int pt = c->pref_t < 0 || c->pref_t >= RTC_SFU_MAX_TEMPORAL ? RTC_SFU_MAX_TEMPORAL - 1 : c->pref_t;
    int best_s = -1, best_t = 0, top_s = -1, top_t = 0, low_s = -1;
    for (int s = ps; s >= 0 && best_s < 0; s--) {
        rtc_sfu_layer_stats ls;
        if (!spatial_layer(c, s, now, &ls)) continue;
        int mt = ls.temporal_layers - 1 < pt ? ls.temporal_layers - 1 : pt;
        if (top_s < 0) { top_s = s; top_t = mt; }
        low_s = s;
        for (int t = mt; t >= 0 && best_s < 0; t--)
            if (!c->bw || ls.temporal_bitrate[t] <= c->bw) { best_s = s; best_t = t; }
    }
    if (top_s < 0) {
        /* Nothing active at or below the preference: the lowest active above it
         * rather than nothing at all. */
        for (int s = ps + 1; s < n && top_s < 0; s++)
            if (spatial_layer(c, s, now, NULL)) top_s = low_s = s;
        if (top_s < 0) return;                          /* nothing is active: keep the target */
        best_s = top_s;
    }
    bool limited = false;
    if (best_s < 0) { best_s = low_s; best_t = 0; }     /* nothing fits: the least there is */
    if (rank(best_s, best_t) < rank(top_s, top_t)) limited = true;
    int nb = rank(best_s, best_t), nt = rank(c->tgt_s, c->tgt_t);
    if (nb > nt && !immediate && c->bw && c->limited && c->cur_s >= 0) {
        if (c->up_s != best_s || c->up_t != best_t) { c->up_s = (int8_t)best_s; c->up_t = (int8_t)best_t; c->up_since = now; }
        if (now < c->up_since + c->cfg.layer_up_delay) {
            c->layers_next = rtc_time_min(c->layers_next, c->up_since + c->cfg.layer_up_delay);
            return;
        }
    }
    c->up_s = c->up_t = -1;
    c->limited = limited;
    if (nb == nt && (c->cur_s >= 0 || !c->nlayers)) return;
    int w = why == RTC_SFU_LAYER_WHY_PREFERRED ? why : limited ? RTC_SFU_LAYER_WHY_BANDWIDTH : why;
    set_target(c, best_s, best_t, w, now);
}

static void schedule(rtc_sfu_consumer *c, rtc_time now)
{
    rtc_time t = choosing(c) ? now + REEVAL_EVERY : RTC_TIME_NEVER;
    if (c->up_s >= 0) t = rtc_time_min(t, c->up_since + c->cfg.layer_up_delay);
    c->layers_next = t;
    sfu__rearm_consumer(c->router, c);
}

void sfu__layers_timeout(rtc_sfu_consumer *c, rtc_time now)
{
    if (now < c->layers_next) return;
    c->layers_next = RTC_TIME_NEVER;
    choose(c, now, RTC_SFU_LAYER_WHY_BANDWIDTH, false);
    rtc_time t = choosing(c) ? now + REEVAL_EVERY : RTC_TIME_NEVER;
    if (c->up_s >= 0) t = rtc_time_min(t, c->up_since + c->cfg.layer_up_delay);
    c->layers_next = t;                                 /* the router re-arms after a timeout */
}

void sfu__layers_producer_changed(rtc_sfu_producer *p, rtc_time now)
{
    for (size_t i = 0; i < p->ncons; i++) {
        rtc_sfu_consumer *c = p->cons[i];
        if (!choosing(c)) continue;
        choose(c, now, RTC_SFU_LAYER_WHY_INACTIVE, false);
        schedule(c, now);
    }
}

void sfu__layers_forget(rtc_sfu_consumer *c, rtc_sfu_producer *p)
{
    int i = index_of(c, p);
    if (i < 0) return;
    c->layer[i] = NULL;
    if (c->source == p) c->cur_s = -1;
    c->layers_next = 0;                                 /* choose again at the next wake-up */
    sfu__rearm_consumer(c->router, c);
}

/* The layers forwarded now, as reported. */
static void reported(const rtc_sfu_consumer *c, int *s, int *t)
{
    *s = c->nlayers || svc(c) ? c->cur_s : 0;
    int mt = c->source && c->source->meter.max_tid >= 0 ? c->source->meter.max_tid : 0;
    *t = c->cur_t < mt ? c->cur_t : mt;
}

void sfu__layers_report(rtc_sfu_consumer *c)
{
    if (!c->nlayers && !svc(c) && !(c->source && c->source->meter.max_tid >= 0)) return;
    int s, t;
    reported(c, &s, &t);
    if (s == c->ev_s && t == c->ev_t) return;
    int why = c->ev_s == -2 ? RTC_SFU_LAYER_WHY_START : c->tgt_why;
    /* Same spatial layer and the same choice of temporal layer: what changed is that
     * the source has a temporal layer not seen before (a layer started). */
    if (c->ev_s == s && c->ev_cur_t == c->cur_t) why = RTC_SFU_LAYER_WHY_INACTIVE;
    c->ev_s = (int8_t)s;
    c->ev_t = (int8_t)t;
    c->ev_cur_t = c->cur_t;
    sfu__layer_event(c->router, c, s, t, why);
}

int sfu__layers_admit(rtc_sfu_consumer *c, rtc_sfu_producer *from, const rtc_sfu_packet *pk, rtc_time now)
{
    (void)now;
    if (c->nlayers && from != c->source) {
        int li = index_of(c, from);
        if (li < 0 || li != c->tgt_s || !(pk->info.keyframe && pk->info.begin)) return 0;
        /* The target's keyframe: switch here. The epoch restarts on the new source, so
         * seq, timestamp, picture id and TL0PICIDX continue from the last sent. */
        if (c->have_out) c->st.layer_switches++;
        c->source = from;
        c->source_gen = from->gen;
        c->cur_s = (int8_t)li;
        c->need_restart = true;
        c->waiting_keyframe = false;
    }
    int tid = pk->info.temporal_id;
    if ((c->cfg.codec != RTC_CODEC_VP8 && c->cfg.codec != RTC_CODEC_VP9)) return 1;
    bool sv = svc(c);
    /* Temporal (and SVC spatial) decisions are made per picture: in SVC a picture is
     * several layer frames, each with B set, sharing one timestamp. */
    bool pic_start = pk->info.begin;
    if (sv && pk->info.begin) {
        pic_start = !c->svc_have_pic || (int32_t)(pk->ts - c->svc_pic_ts) > 0;
        if (pic_start) { c->svc_pic_ts = pk->ts; c->svc_have_pic = true; }
    }
    if (tid >= 0 && pic_start) {
        /* Down at any frame; up at a frame of a higher layer that only refers to
         * layer 0 (layer sync), or at a keyframe. */
        if (pk->info.keyframe || c->tgt_t < c->cur_t) c->cur_t = c->tgt_t;
        else if (c->tgt_t > c->cur_t && tid > c->cur_t && tid <= c->tgt_t && pk->info.layer_sync) c->cur_t = (int8_t)tid;
    }
    bool temporal_drop = tid >= 0 && tid > c->cur_t;
    if (!sv) return temporal_drop ? -1 : 1;
    int sid = pk->info.spatial_id < 0 ? 0 : pk->info.spatial_id;
    if (pic_start) {
        /* A switch counts once the picture it happened in is over (a keyframe's climb
         * from the base to the target at the start is no switch). */
        if (c->have_out && c->svc_last_s >= 0 && c->cur_s != c->svc_last_s) c->st.layer_switches++;
        c->svc_last_s = c->cur_s;
        /* Down at once, the previous picture being complete; from nothing to the base.
         * Up only at a keyframe, decided here at its base layer: the end of the highest
         * layer forwarded gets the marker, so which layer that is must be known before
         * the lower layers' ends go out. (An upper-layer switching point of full SVC,
         * P = 0 in a later picture, shows itself only after them.) */
        if (c->cur_s < 0) c->cur_s = 0;
        if (c->tgt_s < c->cur_s) c->cur_s = c->tgt_s;
        else if (c->tgt_s > c->cur_s && pk->info.keyframe && !temporal_drop)
            c->cur_s = (int8_t)(c->tgt_s < c->source->meter.max_sid ? c->tgt_s : c->source->meter.max_sid);
    }
    if (temporal_drop) return -1;
    return sid > c->cur_s ? -2 : 1;
}

/* }====== */

/* {====== API ====== */

int rtc_sfu_consumer_set_layers(rtc_sfu_consumer *c, rtc_sfu_producer *const *layers, size_t n, rtc_time now)
{
    if (n > RTC_SFU_MAX_SPATIAL) return RTC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!layers[i]) return RTC_EINVAL;
        for (size_t k = 0; k < i; k++)
            if (layers[k] == layers[i]) return RTC_EINVAL;
        if (layers[i]->cfg.codec != c->cfg.codec || layers[i]->cfg.clock_rate != c->cfg.clock_rate) return RTC_ENOTSUP;
    }
    /* Attach to the new ones first (the only step that can fail), then let go of the rest. */
    bool had[RTC_SFU_MAX_SPATIAL] = { false };
    for (size_t i = 0; i < n; i++) {
        had[i] = layers[i] == c->source || index_of(c, layers[i]) >= 0;
        if (had[i]) continue;
        int e = sfu__producer_attach(layers[i], c);
        if (e < 0) {
            for (size_t k = 0; k < i; k++)
                if (!had[k]) sfu__router_detach(c->router, layers[k], c);
            return e;
        }
    }
    rtc_sfu_producer *old[RTC_SFU_MAX_SPATIAL + 1];
    int nold = 0;
    for (int i = 0; i < c->nlayers; i++) if (c->layer[i]) old[nold++] = c->layer[i];
    if (c->source && index_of(c, c->source) < 0) old[nold++] = c->source;
    rtc_sfu_producer *keep = n ? NULL : c->source;       /* n = 0: back to the current source alone */
    for (int i = 0; i < nold; i++) {
        bool stays = old[i] == keep;
        for (size_t k = 0; k < n; k++) stays |= layers[k] == old[i];
        if (!stays) sfu__router_detach(c->router, old[i], c);
    }
    memset(c->layer, 0, sizeof c->layer);
    for (size_t i = 0; i < n; i++) c->layer[i] = layers[i];
    c->nlayers = (int)n;
    c->up_s = c->up_t = -1;
    if (n) {
        int cur = c->source ? index_of(c, c->source) : -1;
        if (cur < 0) {
            /* Not one of the layers: nothing is forwarded until the target's keyframe. */
            c->source = NULL;
            c->source_gen = 0;
            c->need_restart = true;
            c->waiting_keyframe = true;
        }
        c->cur_s = (int8_t)cur;
        int ps = c->pref_s < 0 || c->pref_s >= (int)n ? (int)n - 1 : c->pref_s;
        if (cur < 0) set_target(c, ps, c->tgt_t, RTC_SFU_LAYER_WHY_START, now);
        else c->tgt_s = (int8_t)cur;
        choose(c, now, RTC_SFU_LAYER_WHY_START, true);
    } else {
        c->cur_s = -1;
    }
    schedule(c, now);
    return 0;
}

void rtc_sfu_consumer_set_preferred_layers(rtc_sfu_consumer *c, int spatial, int temporal, rtc_time now)
{
    c->pref_s = (int8_t)(spatial < 0 || spatial >= RTC_SFU_MAX_SPATIAL ? -1 : spatial);
    c->pref_t = (int8_t)(temporal < 0 || temporal >= RTC_SFU_MAX_TEMPORAL ? -1 : temporal);
    choose(c, now, RTC_SFU_LAYER_WHY_PREFERRED, true);
    schedule(c, now);
}

void rtc_sfu_consumer_set_bandwidth(rtc_sfu_consumer *c, uint64_t bps, rtc_time now)
{
    c->bw = bps;
    choose(c, now, RTC_SFU_LAYER_WHY_BANDWIDTH, false);
    schedule(c, now);
}

void rtc_sfu_consumer_get_layers(const rtc_sfu_consumer *c, rtc_sfu_layers *out)
{
    int s, t;
    reported(c, &s, &t);
    bool any = c->have_out;
    out->spatial = any ? s : -1;
    out->temporal = any ? t : -1;
    out->target_spatial = c->nlayers || svc(c) ? c->tgt_s : 0;
    int mt = c->source && c->source->meter.max_tid >= 0 ? c->source->meter.max_tid : 0;
    out->target_temporal = c->tgt_t < mt ? c->tgt_t : mt;
    out->preferred_spatial = c->pref_s;
    out->preferred_temporal = c->pref_t;
    out->nlayers = c->nlayers ? c->nlayers : svc(c) ? spatial_count(c) : 0;
}

/* }====== */
