/* Active speaker detection over RFC 6464 audio levels (sfu/sfu_speaker.h). */
#include "sfu/sfu_speaker.h"
#include "sfu/sfu_internal.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

#define SPK_LEVELS_MAX 64        /* producers one level report names */

typedef struct spk_entry {
    rtc_sfu_producer *p;
    /* the window: bucket k holds absolute bucket number id[k] (time / bucket length) */
    int64_t id[SFU_SPEAKER_BUCKETS];
    uint32_t act[SFU_SPEAKER_BUCKETS];   /* summed packet activity */
    uint16_t cnt[SFU_SPEAKER_BUCKETS];   /* packets */
    /* the current interval, for the level report */
    uint32_t lvl_sum, lvl_cnt;
    bool voice;
    rtc_time last_at;
    bool heard;                  /* a level has arrived (last_at is valid) */
} spk_entry;

struct rtc_sfu_speaker {
    rtc_sfu_router *router;
    rtc_sfu_speaker_config cfg;
    rtc_time bucket;             /* window / SFU_SPEAKER_BUCKETS */
    spk_entry *e;
    size_t n, cap;
    rtc_sfu_producer *dominant;
    rtc_sfu_producer *leader;    /* leading challenger and since when */
    rtc_time lead_since;
    rtc_time next;               /* next decision; RTC_TIME_NEVER while nothing is heard */
    bool reported_speech;        /* the last report named someone: the next silent one is sent once */
    rtc_sfu_level levels[SPK_LEVELS_MAX];
    int nlevels;
    rtc_sfu_speaker *next_s;     /* the router's list */
};

rtc_sfu_speaker *sfu__speaker_next_in_router(const rtc_sfu_speaker *s) { return s->next_s; }

int rtc_sfu_router_add_speaker(rtc_sfu_router *r, const rtc_sfu_speaker_config *cfg,
                               rtc_sfu_speaker **out, rtc_time now)
{
    (void)now;
    rtc_sfu_speaker_config c = cfg ? *cfg : (rtc_sfu_speaker_config){0};
    if (c.interval < 0 || c.window < 0 || c.hold < 0 || c.silence_level > 127) return RTC_EINVAL;
    if (!c.interval) c.interval = RTC_MS(300);
    if (c.interval < RTC_MS(20) || c.interval > RTC_SEC(60)) return RTC_EINVAL;
    if (!c.window) c.window = RTC_SEC(1);
    if (c.window < c.interval) c.window = c.interval;
    if (c.window > RTC_SEC(600)) return RTC_EINVAL;
    if (!c.hold) c.hold = RTC_MS(500);
    if (!c.silence_level) c.silence_level = 70;
    if (!c.min_score) c.min_score = 5;
    if (!c.margin_pct) c.margin_pct = 20;
    rtc_sfu_speaker *s = calloc(1, sizeof *s);
    if (!s) return RTC_ENOMEM;
    s->router = r;
    s->cfg = c;
    s->bucket = c.window / SFU_SPEAKER_BUCKETS;
    if (s->bucket < 1) s->bucket = 1;
    s->next = RTC_TIME_NEVER;
    rtc_sfu_speaker **head = sfu__router_speakers(r);
    s->next_s = *head;
    *head = s;
    *out = s;
    return 0;
}

void sfu__speaker_free(rtc_sfu_speaker *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) s->e[i].p->speaker = NULL;
    free(s->e);
    free(s);
}

void rtc_sfu_router_remove_speaker(rtc_sfu_router *r, rtc_sfu_speaker *s)
{
    if (!s) return;
    for (rtc_sfu_speaker **pp = sfu__router_speakers(r); *pp; pp = &(*pp)->next_s)
        if (*pp == s) { *pp = s->next_s; break; }
    sfu__drop_speaker_events(r, s);
    sfu__speaker_free(s);
}

int rtc_sfu_speaker_add_producer(rtc_sfu_speaker *s, rtc_sfu_producer *p)
{
    if (rtc_codec_is_video(p->cfg.codec)) return RTC_EINVAL;
    if (p->speaker == s) return 0;
    if (s->n == s->cap) {
        size_t n = s->cap ? s->cap * 2 : 8;
        spk_entry *a = realloc(s->e, n * sizeof *a);
        if (!a) return RTC_ENOMEM;
        s->e = a;
        s->cap = n;
    }
    if (p->speaker) rtc_sfu_speaker_remove_producer(p->speaker, p);
    spk_entry *e = &s->e[s->n];
    memset(e, 0, sizeof *e);
    for (int k = 0; k < SFU_SPEAKER_BUCKETS; k++) e->id[k] = -1;
    e->p = p;
    p->speaker = s;
    p->speaker_slot = s->n++;
    return 0;
}

/* Take the level report's mentions of p out (its pointer is about to go). */
static void speaker__unreport(rtc_sfu_speaker *s, const rtc_sfu_producer *p)
{
    int k = 0;
    for (int i = 0; i < s->nlevels; i++)
        if (s->levels[i].producer != p) s->levels[k++] = s->levels[i];
    s->nlevels = k;
}

void rtc_sfu_speaker_remove_producer(rtc_sfu_speaker *s, rtc_sfu_producer *p)
{
    if (!p || p->speaker != s) return;
    size_t i = p->speaker_slot;
    s->e[i] = s->e[--s->n];
    if (i < s->n) s->e[i].p->speaker_slot = i;
    p->speaker = NULL;
    if (s->dominant == p) s->dominant = NULL;
    if (s->leader == p) s->leader = NULL;
    speaker__unreport(s, p);
}

void sfu__speaker_forget(rtc_sfu_producer *p)
{
    if (p->speaker) rtc_sfu_speaker_remove_producer(p->speaker, p);
}

void sfu__speaker_on_level(rtc_sfu_producer *p, uint8_t raw, rtc_time now)
{
    rtc_sfu_speaker *s = p->speaker;
    if (!s) return;
    spk_entry *e = &s->e[p->speaker_slot];
    uint8_t level = raw & 0x7f;
    int64_t b = now / s->bucket;
    unsigned k = (unsigned)(b % SFU_SPEAKER_BUCKETS);
    if (e->id[k] != b) { e->id[k] = b; e->act[k] = 0; e->cnt[k] = 0; }
    if (e->cnt[k] < UINT16_MAX) {
        e->act[k] += level < s->cfg.silence_level ? (uint32_t)(s->cfg.silence_level - level) : 0;
        e->cnt[k]++;
    }
    e->lvl_sum += level;
    e->lvl_cnt++;
    e->voice |= (raw & 0x80) != 0;
    e->last_at = now;
    e->heard = true;
    if (s->next == RTC_TIME_NEVER) {             /* waking up: the first decision one interval on */
        s->next = now + s->cfg.interval;
        sfu__lower_timeout(s->router, s->next);
    }
}

/* Mean bucket activity over the window ending at now. */
static int speaker__score(const rtc_sfu_speaker *s, const spk_entry *e, rtc_time now)
{
    int64_t b = now / s->bucket;
    uint64_t sum = 0;
    for (int k = 0; k < SFU_SPEAKER_BUCKETS; k++)
        if (e->cnt[k] && e->id[k] > b - SFU_SPEAKER_BUCKETS && e->id[k] <= b) sum += e->act[k] / e->cnt[k];
    return (int)(sum / SFU_SPEAKER_BUCKETS);
}

int rtc_sfu_speaker_score(const rtc_sfu_speaker *s, const rtc_sfu_producer *p, rtc_time now)
{
    if (!p || p->speaker != s) return -1;
    return speaker__score(s, &s->e[p->speaker_slot], now);
}

static void speaker__decide(rtc_sfu_speaker *s, rtc_time now)
{
    rtc_sfu_producer *best = NULL;
    int best_score = -1, dom_score = 0;
    for (size_t i = 0; i < s->n; i++) {
        int sc = speaker__score(s, &s->e[i], now);
        if (s->e[i].p == s->dominant) dom_score = sc;
        if (sc > best_score) { best_score = sc; best = s->e[i].p; }
    }
    if (!best || best == s->dominant || best_score < s->cfg.min_score) {
        s->leader = NULL;                          /* the dominant speaker holds (or nobody speaks) */
        return;
    }
    if (s->dominant && best_score * 100 < dom_score * (100 + s->cfg.margin_pct)) {
        s->leader = NULL;                          /* not clearly louder: no lead */
        return;
    }
    if (s->leader != best) { s->leader = best; s->lead_since = now; }
    if (s->dominant && now - s->lead_since < s->cfg.hold) return;
    s->dominant = best;
    s->leader = NULL;
    sfu__event_speaker(s->router, RTC_SFU_EV_ACTIVE_SPEAKER, s, best, s->cfg.user);
}

static int level_cmp(const void *a, const void *b)
{
    const rtc_sfu_level *x = a, *y = b;
    return (int)x->level - (int)y->level;
}

static void speaker__report(rtc_sfu_speaker *s)
{
    s->nlevels = 0;
    for (size_t i = 0; i < s->n; i++) {
        spk_entry *e = &s->e[i];
        if (e->lvl_cnt) {
            uint8_t mean = (uint8_t)(e->lvl_sum / e->lvl_cnt);
            if (mean < s->cfg.silence_level && s->nlevels < SPK_LEVELS_MAX)
                s->levels[s->nlevels++] = (rtc_sfu_level){ e->p, e->p->cfg.user, mean, e->voice };
        }
        e->lvl_sum = e->lvl_cnt = 0;
        e->voice = false;
    }
    qsort(s->levels, (size_t)s->nlevels, sizeof s->levels[0], level_cmp);
    /* Speech is reported each interval; silence once, when it falls. */
    if (s->nlevels || s->reported_speech)
        sfu__event_speaker(s->router, RTC_SFU_EV_AUDIO_LEVELS, s, NULL, s->cfg.user);
    s->reported_speech = s->nlevels > 0;
}

void sfu__speaker_timeout(rtc_sfu_speaker *s, rtc_time now)
{
    if (now < s->next) return;
    speaker__decide(s, now);
    speaker__report(s);
    /* Keep deciding while anything is left in a window or a report is owed; then sleep
     * until the next level arrives. */
    bool busy = s->reported_speech;
    for (size_t i = 0; i < s->n && !busy; i++) busy = s->e[i].heard && now - s->e[i].last_at < s->cfg.window;
    s->next = busy ? now + s->cfg.interval : RTC_TIME_NEVER;
}

rtc_time sfu__speaker_next(const rtc_sfu_speaker *s) { return s->next; }

void *rtc_sfu_producer_user(const rtc_sfu_producer *p) { return p->cfg.user; }

rtc_sfu_producer *rtc_sfu_speaker_dominant(const rtc_sfu_speaker *s) { return s->dominant; }

int rtc_sfu_speaker_levels(const rtc_sfu_speaker *s, rtc_sfu_level *out, int max)
{
    int n = s->nlevels < max ? s->nlevels : max;
    if (n > 0) memcpy(out, s->levels, (size_t)n * sizeof *out);
    return n < 0 ? 0 : n;
}
