/* Jitter buffer: a ring of packets by extended seq, frame completion, in-order output. */
#include "rtp/jitter_buffer.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>
#include <string.h>

typedef struct jb__slot {
    rtc_buf *buf;                /* our ref; NULL for padding */
    const uint8_t *payload;
    size_t len;
    int64_t seq, ts;
    uint32_t ts32;
    rtc_time arrival;
    bool used, padding, end, begin, keyframe;
    int32_t picture_id;          /* VP8 PictureID of a frame's first packet, -1 when absent */
} jb__slot;

#define JB_OUTQ 64               /* frames waiting for poll_frame */

struct rtc_jitter_buffer {
    rtc_jitter_buffer_config cfg;
    size_t mask;
    rtc_time now;
    rtc_seq_unwrapper su;
    rtc_ts_unwrapper tu;
    bool started, advanced;      /* advanced: head moved past a frame; older packets are late */
    bool boundary;               /* the packet at head starts a frame (the one before it ended one) */
    bool waiting_key, key_requested, key_event;
    int64_t head, highest;       /* head: lowest seq still of interest */
    int32_t last_pid;            /* VP8: PictureID of the frame emitted last (head follows it), -1 none */
    rtc_time start;              /* first packet's arrival */
    size_t count;
    rtc_jb_stats stats;
    jb__slot *slot;
    rtc_iov *iov;
    uint8_t *scratch;            /* assembly space: the worst-case bound, grown as needed */
    size_t scratch_cap;
    rtc_jb_frame outq[JB_OUTQ];
    size_t out_head, out_count;
};

int rtc_jitter_buffer_new(rtc_jitter_buffer **out, const rtc_jitter_buffer_config *cfg, rtc_time now)
{
    if (!out || !cfg || (unsigned)cfg->codec >= RTC_CODEC__COUNT) return RTC_EINVAL;
    rtc_jitter_buffer_config c = *cfg;
    if (!c.capacity) c.capacity = 2048;
    if (c.capacity < 64 || c.capacity > 32768 || (c.capacity & (c.capacity - 1))) return RTC_EINVAL;
    if (c.latency <= 0) c.latency = RTC_MS(200);
    if (c.start_delay <= 0) c.start_delay = c.latency / 4;
    if (!c.max_frame_bytes) c.max_frame_bytes = 8u << 20;
    rtc_jitter_buffer *jb = calloc(1, sizeof *jb);
    if (!jb) return RTC_ENOMEM;
    jb->slot = calloc(c.capacity, sizeof *jb->slot);
    jb->iov = calloc(c.capacity, sizeof *jb->iov);
    if (!jb->slot || !jb->iov) { free(jb->slot); free(jb->iov); free(jb); return RTC_ENOMEM; }
    jb->cfg = c;
    jb->mask = c.capacity - 1;
    jb->now = now;
    jb->waiting_key = c.wait_keyframe;
    jb->last_pid = -1;
    *out = jb;
    return 0;
}

static jb__slot *jb__at(rtc_jitter_buffer *jb, int64_t seq) { return &jb->slot[(size_t)seq & jb->mask]; }
static bool jb__has(rtc_jitter_buffer *jb, int64_t seq) { jb__slot *s = jb__at(jb, seq); return s->used && s->seq == seq; }

static void jb__release(rtc_jitter_buffer *jb, jb__slot *s)
{
    rtc_buf_unref(s->buf);
    memset(s, 0, sizeof *s);
    jb->count--;
}

void rtc_jitter_buffer_free(rtc_jitter_buffer *jb)
{
    if (!jb) return;
    for (size_t i = 0; i <= jb->mask; i++) if (jb->slot[i].used) rtc_buf_unref(jb->slot[i].buf);
    for (size_t i = 0; i < jb->out_count; i++) rtc_buf_unref(jb->outq[(jb->out_head + i) % JB_OUTQ].data);
    free(jb->slot);
    free(jb->iov);
    free(jb->scratch);
    free(jb);
}

/* Assemble into the scratch space (sized for the worst case, which is up to twice
 * the payload), then copy into a buffer of the frame's own size, from the pool when
 * it fits: a frame costs its size, and an audio frame no heap allocation at all. */
static int jb__assemble(rtc_jitter_buffer *jb, size_t n, size_t bound, rtc_buf **out)
{
    if (bound > jb->scratch_cap) {
        uint8_t *p = realloc(jb->scratch, bound);
        if (!p) return RTC_ENOMEM;
        jb->scratch = p;
        jb->scratch_cap = bound;
    }
    int r = rtc_depack_assemble(jb->cfg.codec, jb->iov, n, jb->scratch, bound);
    if (r < 0) return r;
    rtc_buf *b = rtc_buf_alloc(jb->cfg.pool, (size_t)r);
    if (!b) return RTC_ENOMEM;
    memcpy(b->data, jb->scratch, (size_t)r);
    b->len = (size_t)r;
    *out = b;
    return 0;
}

/* The frame broke the decoding chain: ask for a keyframe once per wait. */
static void jb__lost_chain(rtc_jitter_buffer *jb)
{
    if (!jb->cfg.wait_keyframe) return;
    jb->waiting_key = true;
    if (!jb->key_requested) { jb->key_requested = true; jb->key_event = true; }
}

/* VP8: the frame starting at s is the very next picture after the last one emitted,
 * so the sequence numbers missing before it carried no media (ULPFEC packets, which
 * take sequence numbers of the stream between frames, or lost padding): skipping
 * them loses nothing. PictureID is 7 or 15 bits. */
static bool jb__next_picture(const rtc_jitter_buffer *jb, const jb__slot *sl)
{
    if (jb->cfg.codec != RTC_CODEC_VP8 || jb->last_pid < 0 || sl->picture_id < 0 || !sl->begin) return false;
    return sl->picture_id == ((jb->last_pid + 1) & 0x7FFF) || (jb->last_pid < 128 && sl->picture_id == ((jb->last_pid + 1) & 0x7F));
}

static int64_t jb__first_stored(rtc_jitter_buffer *jb)
{
    int64_t s = jb->head;
    while (s <= jb->highest && !jb__has(jb, s)) s++;
    return s;
}

/* Stop waiting for what blocks the head: a gap of lost packets before the first
 * stored one is skipped; otherwise the frame at head (and any padding in it) is
 * dropped, up to the first packet of a later timestamp. */
static void jb__give_up_head(rtc_jitter_buffer *jb)
{
    int64_t s = jb__first_stored(jb);
    jb->advanced = true;
    jb->last_pid = -1;
    jb__lost_chain(jb);
    if (s != jb->head) {
        jb->head = s;
        jb->boundary = false;
        return;
    }
    if (jb__at(jb, s)->padding) {
        jb__release(jb, jb__at(jb, s));
        jb->head = s + 1;
        return;
    }
    int64_t ts0 = jb__at(jb, s)->ts, last_end = INT64_MIN;
    for (; s <= jb->highest; s++) {
        if (!jb__has(jb, s)) continue;
        jb__slot *sl = jb__at(jb, s);
        if (!sl->padding && sl->ts != ts0) break;
        if (sl->end || sl->padding) last_end = s;
        jb__release(jb, sl);
    }
    jb->head = s;
    jb->boundary = last_end == s - 1;
    jb->stats.frames_dropped++;
}

/* 1 when head..*end is a whole frame (contiguous, one timestamp, ended). */
static int jb__complete(rtc_jitter_buffer *jb, int64_t start, int64_t *end)
{
    int64_t ts0 = jb__at(jb, start)->ts;
    for (int64_t s = start; s <= jb->highest; s++) {
        if (!jb__has(jb, s)) return 0;
        jb__slot *sl = jb__at(jb, s);
        if (sl->padding) return 0;
        if (sl->ts != ts0) { *end = s - 1; return 1; }  /* the marker was not set; the timestamp moved on */
        if (sl->end) { *end = s; return 1; }
    }
    return 0;
}

static void jb__emit(rtc_jitter_buffer *jb, int64_t start, int64_t end)
{
    size_t n = (size_t)(end - start + 1), total = 0;
    bool key = false;
    for (size_t i = 0; i < n; i++) {
        jb__slot *sl = jb__at(jb, start + (int64_t)i);
        jb->iov[i] = (rtc_iov){ sl->payload, sl->len };
        total += sl->len;
        key |= sl->keyframe;
    }
    jb__slot *first = jb__at(jb, start), *last = jb__at(jb, end);
    rtc_jb_frame f = { NULL, first->ts32, first->ts, (uint16_t)start, (uint16_t)end, (uint16_t)n, key,
                       first->arrival, last->arrival };
    for (size_t i = 0; i < n; i++) {
        rtc_time a = jb__at(jb, start + (int64_t)i)->arrival;
        if (a < f.first_arrival) f.first_arrival = a;
        if (a > f.last_arrival) f.last_arrival = a;
    }
    size_t bound = rtc_depack_bound(total, n);
    int r = RTC_ETOOBIG;
    if (jb->waiting_key && !key) {
        jb->stats.frames_skipped++;
        jb__lost_chain(jb);
    } else if (bound <= jb->cfg.max_frame_bytes && (r = jb__assemble(jb, n, bound, &f.data)) == 0) {
        jb->outq[(jb->out_head + jb->out_count) % JB_OUTQ] = f;
        jb->out_count++;
        jb->stats.frames_out++;
        if (key) { jb->stats.keyframes_out++; jb->waiting_key = jb->key_requested = false; }
    } else {
        rtc_buf_unref(f.data);
        jb->stats.frames_dropped++;
        jb__lost_chain(jb);
    }
    jb->last_pid = first->picture_id;
    for (int64_t s = start; s <= end; s++) jb__release(jb, jb__at(jb, s));
    jb->head = end + 1;
    jb->boundary = true;
    jb->advanced = true;
}

static void jb__process(rtc_jitter_buffer *jb)
{
    while (jb->count > 0 && jb->out_count < JB_OUTQ) {
        if (!jb->advanced && jb->now < jb->start + jb->cfg.start_delay) break;
        if (jb__has(jb, jb->head) && jb__at(jb, jb->head)->padding) {
            jb__release(jb, jb__at(jb, jb->head));      /* padding sits between frames */
            jb->head++;
            continue;
        }
        int64_t s0 = jb__first_stored(jb), end;
        if (s0 == jb->head && (jb->boundary || jb__at(jb, s0)->begin) && jb__complete(jb, s0, &end)) {
            jb__emit(jb, s0, end);
            continue;
        }
        bool hole = s0 != jb->head;                     /* the head is missing, a later packet is here */
        if (hole && jb->boundary) {                     /* past holes and padding (FEC packets that came) */
            int64_t m = s0;
            while (m <= jb->highest && (!jb__has(jb, m) || jb__at(jb, m)->padding)) m++;
            if (m <= jb->highest && jb__next_picture(jb, jb__at(jb, m))) {
                for (int64_t x = s0; x < m; x++) if (jb__has(jb, x)) jb__release(jb, jb__at(jb, x));
                jb->head = m;                           /* nothing of a picture was lost there */
                continue;
            }
        }
        if (!(hole && jb->cfg.no_wait) && jb->now < jb__at(jb, s0)->arrival + jb->cfg.latency) break;
        jb__give_up_head(jb);
    }
}

int rtc_jitter_buffer_handle_packet(rtc_jitter_buffer *jb, rtc_buf *pkt, rtc_time now)
{
    if (now > jb->now) jb->now = now;
    rtc_rtp_packet p;
    int r = rtc_rtp_parse(&p, pkt->data, pkt->len);
    if (r < 0) { jb->stats.bad_payload++; return r; }
    rtc_depack_info info = {0};
    bool padding = p.payload_len == 0;
    if (!padding && (r = rtc_depack_parse(jb->cfg.codec, p.payload, p.payload_len, &info)) < 0) {
        jb->stats.bad_payload++;
        return r;
    }
    int64_t ext = rtc_seq_unwrap(&jb->su, p.h.seq);
    int64_t ts = rtc_ts_unwrap(&jb->tu, p.h.ts);
    int64_t cap = (int64_t)jb->cfg.capacity;
    if (!jb->started) { jb->started = true; jb->head = jb->highest = ext; jb->start = jb->now; }
    if (ext < jb->head) {
        if (jb->advanced || jb->highest - ext >= cap) { jb->stats.late++; return RTC_EIGNORED; }
        jb->head = ext;                                 /* reordered ahead of the first packet */
    }
    while (ext - jb->head >= cap) {                     /* no room: release or give up the oldest */
        jb->stats.overflow++;
        if (jb->count == 0) { jb->head = ext - cap + 1; jb->boundary = false; jb->advanced = true; break; }
        int64_t s0 = jb__first_stored(jb), end;
        if (s0 == jb->head && jb->out_count < JB_OUTQ && !jb__at(jb, s0)->padding &&
            (jb->boundary || jb__at(jb, s0)->begin) && jb__complete(jb, s0, &end))
            jb__emit(jb, s0, end);
        else
            jb__give_up_head(jb);
    }
    jb__slot *sl = jb__at(jb, ext);
    if (sl->used) { jb->stats.duplicates++; return RTC_EIGNORED; }
    *sl = (jb__slot){ .buf = padding ? NULL : rtc_buf_ref(pkt), .payload = p.payload, .len = p.payload_len,
                      .seq = ext, .ts = ts, .ts32 = p.h.ts, .arrival = jb->now, .used = true,
                      .padding = padding, .end = p.h.marker || jb->cfg.codec == RTC_CODEC_OPUS,
                      .begin = info.begin, .keyframe = info.keyframe,
                      .picture_id = padding ? -1 : info.picture_id };
    jb->count++;
    if (ext > jb->highest) jb->highest = ext;
    if (padding) jb->stats.padding++; else jb->stats.packets++;
    jb__process(jb);
    return padding ? RTC_EIGNORED : 0;
}

void rtc_jitter_buffer_handle_timeout(rtc_jitter_buffer *jb, rtc_time now)
{
    if (now > jb->now) jb->now = now;
    jb__process(jb);
}

void rtc_jitter_buffer_set_latency(rtc_jitter_buffer *jb, rtc_time latency)
{
    if (latency > 0) jb->cfg.latency = latency;
}

int rtc_jitter_buffer_poll_frame(rtc_jitter_buffer *jb, rtc_jb_frame *out)
{
    if (!jb->out_count) {
        jb__process(jb);                                /* the queue may have been full */
        if (!jb->out_count) return 0;
    }
    *out = jb->outq[jb->out_head];
    jb->out_head = (jb->out_head + 1) % JB_OUTQ;
    jb->out_count--;
    return 1;
}

int rtc_jitter_buffer_poll_event(rtc_jitter_buffer *jb, rtc_jb_event *out)
{
    if (!jb->key_event) return 0;
    jb->key_event = false;
    out->type = RTC_JB_EV_KEYFRAME_NEEDED;
    return 1;
}

rtc_time rtc_jitter_buffer_poll_timeout(const rtc_jitter_buffer *jb)
{
    if (jb->out_count || jb->key_event) return jb->now;
    if (!jb->count) return RTC_TIME_NEVER;
    rtc_jitter_buffer *m = (rtc_jitter_buffer *)jb;     /* lookups only */
    int64_t s0 = jb__first_stored(m);
    if (s0 > jb->highest) return RTC_TIME_NEVER;
    rtc_time t = jb__at(m, s0)->arrival + jb->cfg.latency;
    /* Only while the start delay is still running: once it is over, a blocked head
     * waits for its latency, and a deadline in the past would never be cleared. */
    if (!jb->advanced && jb->now < jb->start + jb->cfg.start_delay) t = rtc_time_min(t, jb->start + jb->cfg.start_delay);
    return t;
}

void rtc_jitter_buffer_get_stats(const rtc_jitter_buffer *jb, rtc_jb_stats *out) { *out = jb->stats; }
