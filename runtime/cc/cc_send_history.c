/* Send history: a ring of sent packets indexed by extended transport-wide seq. */
#include "cc/cc_send_history.h"
#include "core/rtc_errors.h"
#include "rtp/twcc.h"
#include <stdlib.h>

enum { SLOT_IN_FLIGHT, SLOT_LOST, SLOT_RECEIVED };

typedef struct hist__slot {
    int64_t seq;                 /* -1 when empty */
    uint32_t size;
    rtc_time sent;
    int16_t cluster;
    uint8_t state;
} hist__slot;

struct rtc_cc_send_history {
    size_t mask;                 /* ring size - 1; the ring grows up to `window` */
    size_t window;
    int64_t next;
    size_t in_flight;
    rtc_twcc_status *scratch;    /* one feedback's statuses; grows with the feedback */
    size_t scratch_cap;
    hist__slot *slot;
};

/* The ring starts small and doubles, up to the window, only when a packet still
 * waiting for news would be overwritten: a connection at a few hundred packets in
 * flight (an SFU subscriber's) holds a few KB instead of the whole window's 450 KB. */
#define START_SLOTS 256
/* A packet reported lost is kept for this many newer packets (a late "received" for it
 * is reported again) before its slot may be reused without growing the ring. */
#define LOST_KEEP 1024

int rtc_cc_send_history_new(rtc_cc_send_history **out, size_t window)
{
    if (!out) return RTC_EINVAL;
    if (!window) window = 8192;
    if (window < 64 || window > 32768 || (window & (window - 1))) return RTC_EINVAL;
    rtc_cc_send_history *h = calloc(1, sizeof *h);
    if (!h) return RTC_ENOMEM;
    size_t cap = window < START_SLOTS ? window : START_SLOTS;
    h->slot = malloc(cap * sizeof h->slot[0]);
    if (!h->slot) { free(h); return RTC_ENOMEM; }
    h->mask = cap - 1;
    h->window = window;
    for (size_t i = 0; i < cap; i++) h->slot[i].seq = -1;
    *out = h;
    return 0;
}

void rtc_cc_send_history_free(rtc_cc_send_history *h)
{
    if (!h) return;
    free(h->scratch);
    free(h->slot);
    free(h);
}

/* Double the ring, each remembered packet moving to its slot in the new one. */
static int hist__grow(rtc_cc_send_history *h)
{
    size_t cap = (h->mask + 1) * 2;
    hist__slot *ns = malloc(cap * sizeof ns[0]);
    if (!ns) return RTC_ENOMEM;
    for (size_t i = 0; i < cap; i++) ns[i].seq = -1;
    for (size_t i = 0; i <= h->mask; i++)
        if (h->slot[i].seq >= 0) ns[(size_t)h->slot[i].seq & (cap - 1)] = h->slot[i];
    free(h->slot);
    h->slot = ns;
    h->mask = cap - 1;
    return 0;
}

static bool hist__waiting(const hist__slot *s, int64_t seq)
{
    if (s->seq < 0 || s->seq == seq) return false;
    return s->state == SLOT_IN_FLIGHT || (s->state == SLOT_LOST && seq - s->seq < LOST_KEEP);
}

static int64_t hist__record(rtc_cc_send_history *h, int64_t seq, size_t size, int probe_cluster, rtc_time now)
{
    while (h->mask + 1 < h->window && hist__waiting(&h->slot[(size_t)seq & h->mask], seq) && hist__grow(h) == 0) {}
    hist__slot *s = &h->slot[(size_t)seq & h->mask];
    if (s->seq >= 0 && s->state == SLOT_IN_FLIGHT) h->in_flight -= s->size;   /* never reported: forget it */
    s->seq = seq;
    s->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    s->sent = now;
    s->cluster = (int16_t)(probe_cluster < -1 || probe_cluster > INT16_MAX ? -1 : probe_cluster);
    s->state = SLOT_IN_FLIGHT;
    h->in_flight += s->size;
    return seq;
}

int64_t rtc_cc_send_history_add(rtc_cc_send_history *h, size_t size, int probe_cluster, rtc_time now)
{
    return hist__record(h, h->next++, size, probe_cluster, now);
}

int64_t rtc_cc_send_history_add_wire(rtc_cc_send_history *h, uint16_t seq, size_t size, int probe_cluster, rtc_time now)
{
    int64_t ext = seq;
    if (h->next > 0) {
        int64_t last = h->next - 1;
        ext = last + (int16_t)(uint16_t)(seq - (uint16_t)last);
        if (ext < 0) ext += 65536;
    }
    if (ext >= h->next) h->next = ext + 1;
    return hist__record(h, ext, size, probe_cluster, now);
}

int rtc_cc_send_history_handle_feedback(rtc_cc_send_history *h, const rtc_rtcp_view *v,
                                        rtc_cc_packet *out, size_t max)
{
    rtc_twcc_feedback fb;
    int n = rtc_twcc_parse(v, &fb, h->scratch, h->scratch_cap);
    if (n < 0) return n;
    if (fb.status_count > h->scratch_cap && h->scratch_cap < h->window) {
        size_t cap = fb.status_count < h->window ? fb.status_count : h->window;
        rtc_twcc_status *ns = realloc(h->scratch, cap * sizeof *ns);
        if (!ns) return RTC_ENOMEM;
        h->scratch = ns;
        h->scratch_cap = cap;
        n = rtc_twcc_parse(v, &fb, h->scratch, h->scratch_cap);
        if (n < 0) return n;
    }
    if (h->next == 0) return 0;
    /* The base seq is placed nearest the last packet sent: feedback never runs ahead
     * of what we sent, and a stale one falls out of the window below. */
    int64_t last = h->next - 1;
    int64_t base = last + (int16_t)(uint16_t)(fb.base_seq - (uint16_t)last);
    size_t k = 0;
    for (int i = 0; i < n && k < max; i++) {
        int64_t seq = base + i;
        if (seq < 0 || seq > last) continue;
        hist__slot *s = &h->slot[(size_t)seq & h->mask];
        if (s->seq != seq) continue;
        bool got = h->scratch[i].received;
        if (s->state == SLOT_RECEIVED || (s->state == SLOT_LOST && !got)) continue;   /* already told */
        if (s->state == SLOT_IN_FLIGHT) h->in_flight -= s->size;
        s->state = got ? SLOT_RECEIVED : SLOT_LOST;
        out[k++] = (rtc_cc_packet){ seq, s->size, s->sent,
                                    got ? h->scratch[i].arrival_us : RTC_TIME_NEVER, s->cluster };
    }
    return (int)k;
}

size_t rtc_cc_send_history_slots(const rtc_cc_send_history *h) { return h->mask + 1; }

size_t rtc_cc_send_history_in_flight(const rtc_cc_send_history *h) { return h->in_flight; }
