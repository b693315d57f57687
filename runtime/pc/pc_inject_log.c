/* The per-stream log of injected sequence numbers (pc/pc_inject_log.h). */
#include "pc/pc_inject_log.h"
#include "core/rtc_errors.h"
#include "core/rtc_siphash.h"
#include <stdlib.h>
#include <string.h>

#define MASK (PC_INJECT_WINDOW - 1)

typedef struct rec {
    int64_t ext;                 /* the extended seq this slot describes, -1 none */
    uint64_t hash;
    uint16_t len;
    uint8_t twcc[2], abs[3];
} rec;

struct pc_inject_log {
    bool any;
    int64_t max_ext;             /* highest extended seq sent */
    uint64_t sent[PC_INJECT_WINDOW / 64];   /* bit per ext in (max_ext - WINDOW, max_ext] */
    uint8_t key[16];
    rec *recs;                   /* PC_INJECT_WINDOW, made when resends are first allowed */
};

pc_inject_log *pc__inject_log_new(rtc_rng *rng)
{
    pc_inject_log *l = calloc(1, sizeof *l);
    if (l) rtc_rng_bytes(rng, l->key, sizeof l->key);
    return l;
}

void pc__inject_log_free(pc_inject_log *l)
{
    if (!l) return;
    free(l->recs);
    free(l);
}

static int64_t extend(const pc_inject_log *l, uint16_t seq)
{
    if (!l->any) return (1 << 16) + seq;      /* room below for late packets */
    return l->max_ext + (int16_t)(uint16_t)(seq - (uint16_t)l->max_ext);
}

static bool was_sent(const pc_inject_log *l, int64_t ext)
{
    return (l->sent[(ext & MASK) / 64] >> (ext & 63)) & 1;
}

static uint64_t hash(const pc_inject_log *l, const uint8_t *pkt, size_t len)
{
    return rtc_siphash24(l->key, pkt, len);
}

int pc__inject_log_check(pc_inject_log *l, uint8_t *pkt, size_t len, uint16_t seq, uint8_t *twcc, uint8_t *abs,
                         bool resends)
{
    if (!l->any) return PC_INJECT_FIRST;
    int64_t ext = extend(l, seq);
    if (ext > l->max_ext) return PC_INJECT_FIRST;
    if (l->max_ext - ext >= PC_INJECT_WINDOW) return RTC_EEXISTS;
    if (!was_sent(l, ext)) return PC_INJECT_FIRST;
    const rec *r = l->recs ? &l->recs[ext & MASK] : NULL;
    if (!resends || !r || r->ext != ext || r->len != len) return RTC_EEXISTS;
    uint8_t keep_twcc[2], keep_abs[3];
    if (twcc) { memcpy(keep_twcc, twcc, 2); memcpy(twcc, r->twcc, 2); }
    if (abs) { memcpy(keep_abs, abs, 3); memcpy(abs, r->abs, 3); }
    if (hash(l, pkt, len) == r->hash) return PC_INJECT_RESEND;
    /* Not the same packet: leave it as it came. */
    if (twcc) memcpy(twcc, keep_twcc, 2);
    if (abs) memcpy(abs, keep_abs, 3);
    return RTC_EEXISTS;
}

void pc__inject_log_note(pc_inject_log *l, const uint8_t *pkt, size_t len, uint16_t seq, const uint8_t *twcc,
                         const uint8_t *abs, bool resends)
{
    int64_t ext = extend(l, seq);
    if (!l->any) {
        l->any = true;
        l->max_ext = ext;
    } else if (ext > l->max_ext) {
        /* The window slides: the seqs it now covers were not sent yet. */
        if (ext - l->max_ext >= PC_INJECT_WINDOW) memset(l->sent, 0, sizeof l->sent);
        else for (int64_t e = l->max_ext + 1; e <= ext; e++) l->sent[(e & MASK) / 64] &= ~(1ULL << (e & 63));
        l->max_ext = ext;
    }
    l->sent[(ext & MASK) / 64] |= 1ULL << (ext & 63);
    if (!resends) return;
    if (!l->recs) {
        l->recs = malloc(PC_INJECT_WINDOW * sizeof *l->recs);
        if (!l->recs) return;                  /* a later resend of it is then refused */
        for (int i = 0; i < PC_INJECT_WINDOW; i++) l->recs[i].ext = -1;
    }
    rec *r = &l->recs[ext & MASK];
    r->ext = ext;
    r->len = len > UINT16_MAX ? 0 : (uint16_t)len;
    r->hash = hash(l, pkt, len);
    if (twcc) memcpy(r->twcc, twcc, 2);
    if (abs) memcpy(r->abs, abs, 3);
}
