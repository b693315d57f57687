/* The frame transform hook of the peer connection (pc_transform.h): one slot per
 * transceiver and direction, applied around the packetizer and after the jitter buffer. */
#include "pc/pc_transform.h"
#include "pc/pc_media_internal.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

/* Send frames come from the application, not the network; this only bounds the scratch
 * buffer a runaway caller could make us keep. */
#define XFORM_MAX_FRAME (8u << 20)

typedef struct xform_slot {
    rtc_frame_transform_cb fn;
    void *ud;
    rtc_frame_transform_release_cb release;
    rtc_frame_transform_stats stats;
} xform_slot;

struct pc_xform {
    xform_slot send, recv;
    uint8_t *scratch;            /* the transformed send frame, reused */
    size_t scratch_cap;
};

static void slot_clear(xform_slot *s)
{
    if (s->fn && s->release) s->release(s->ud);
    s->fn = NULL;
    s->ud = NULL;
    s->release = NULL;
}

int rtc_pc_set_frame_transform(rtc_pc *pc, int tr, int dirs, rtc_frame_transform_cb fn, void *ud,
                               rtc_frame_transform_release_cb release)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (!(dirs & (RTC_PC_SEND | RTC_PC_RECV)) || (dirs & ~(RTC_PC_SEND | RTC_PC_RECV))) return RTC_EINVAL;
    if (!t->xform) {
        if (!fn) return 0;
        t->xform = calloc(1, sizeof *t->xform);
        if (!t->xform) {
            /* The ud refs were meant for us: give them back so the caller does not leak. */
            if (release) {
                if (dirs & RTC_PC_SEND) release(ud);
                if (dirs & RTC_PC_RECV) release(ud);
            }
            return RTC_ENOMEM;
        }
    }
    xform_slot *slots[2] = { (dirs & RTC_PC_SEND) ? &t->xform->send : NULL, (dirs & RTC_PC_RECV) ? &t->xform->recv : NULL };
    for (int i = 0; i < 2; i++) {
        if (!slots[i]) continue;
        slot_clear(slots[i]);
        if (!fn) continue;
        slots[i]->fn = fn;
        slots[i]->ud = ud;
        slots[i]->release = release;
        memset(&slots[i]->stats, 0, sizeof slots[i]->stats);
    }
    return 0;
}

int rtc_pc_frame_transform_stats(rtc_pc *pc, int tr, int direction, rtc_frame_transform_stats *out)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    memset(out, 0, sizeof *out);
    if (t->xform) *out = direction == RTC_PC_SEND ? t->xform->send.stats : t->xform->recv.stats;
    return 0;
}

void pc__xform_free(pc_tr *t)
{
    if (!t->xform) return;
    slot_clear(&t->xform->send);
    slot_clear(&t->xform->recv);
    free(t->xform->scratch);
    free(t->xform);
    t->xform = NULL;
}

/* Count the outcome r of one call; true when the frame goes on. */
static bool account(xform_slot *s, size_t in_len, int r)
{
    s->stats.frames++;
    s->stats.bytes_in += in_len;
    if (r > 0) {
        s->stats.bytes_out += (size_t)r;
        return true;
    }
    if (r == 0) s->stats.dropped++;
    else s->stats.failed++;
    return false;
}

int pc__xform_send(pc_tr *t, const uint8_t **frame, size_t *len, uint32_t ts, bool keyframe)
{
    if (!t->xform || !t->xform->send.fn) return 0;
    struct pc_xform *x = t->xform;
    xform_slot *s = &x->send;
    if (*len > XFORM_MAX_FRAME) {
        account(s, *len, RTC_ETOOBIG);
        return RTC_ETOOBIG;
    }
    size_t need = *len + RTC_FRAME_TRANSFORM_GROWTH;
    if (x->scratch_cap < need) {
        uint8_t *p = realloc(x->scratch, need);
        if (!p) return RTC_ENOMEM;
        x->scratch = p;
        x->scratch_cap = need;
    }
    rtc_frame_info info = { .tr = t->handle, .direction = RTC_PC_SEND, .kind = t->kind, .codec = t->codec,
                            .ts = ts, .keyframe = keyframe, .rid = "" };
    /* VP8 says in its frame tag whether it is a keyframe (RFC 6386 9.1): callers that
     * write frames from a file need not say it. */
    if (t->codec == RTC_CODEC_VP8 && *len > 0 && !(**frame & 1)) info.keyframe = true;
    int r = s->fn(s->ud, &info, *frame, *len, x->scratch, need);
    if (r > (int)need) r = RTC_EOVERFLOW;     /* a transform claiming more than it was given */
    if (!account(s, *len, r)) return r < 0 ? r : RTC_EIGNORED;
    *frame = x->scratch;
    *len = (size_t)r;
    return 1;
}

rtc_buf *pc__xform_recv(pc_tr *t, const pc_layer *l, rtc_buf *in, uint32_t ts, bool keyframe)
{
    if (!t->xform || !t->xform->recv.fn) return in;
    xform_slot *s = &t->xform->recv;
    size_t need = in->len + RTC_FRAME_TRANSFORM_GROWTH;
    rtc_buf *out = rtc_buf_alloc(NULL, need);
    if (!out) {
        s->stats.frames++;
        s->stats.failed++;
        rtc_buf_unref(in);
        return NULL;
    }
    size_t cap = out->cap < need ? out->cap : need;
    rtc_frame_info info = { .tr = t->handle, .direction = RTC_PC_RECV, .kind = t->kind, .codec = t->codec,
                            .ts = ts, .keyframe = keyframe, .rid = l->rid };
    int r = s->fn(s->ud, &info, in->data, in->len, out->data, cap);
    if (r > (int)cap) r = RTC_EOVERFLOW;
    bool ok = account(s, in->len, r);
    rtc_buf_unref(in);
    if (!ok) {
        rtc_buf_unref(out);
        return NULL;
    }
    out->len = (size_t)r;
    return out;
}
