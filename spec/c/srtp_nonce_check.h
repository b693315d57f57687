/* Watches SRTP packets on their way out and checks that no (SSRC, packet index) is
 * ever protected over two different plaintexts: every packet that goes out twice under
 * one index must be the same ciphertext. Under AES-GCM a second message under one IV
 * gives an on-path attacker the key stream and the GHASH key (forgery); under AES-CM
 * it gives the XOR of the two plaintexts. Feed it every datagram one side sends (any
 * path: NACK resends, RTX, a forwarding SFU); it ignores what is not RTP.
 * The index is the 16-bit seq extended by a rollover count followed per SSRC, as a
 * receiver would (RFC 3711 3.3.1). Header-only: include once per test file. */
#ifndef SRTP_NONCE_CHECK_H
#define SRTP_NONCE_CHECK_H
#include "core/rtc_demux.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct nonce_entry { uint64_t key, hash; uint32_t len; bool used; } nonce_entry;
typedef struct nonce_stream { uint32_t ssrc; uint64_t highest; } nonce_stream;

typedef struct nonce_check {
    nonce_entry *tab;            /* open addressing, power-of-two size */
    size_t cap, n;
    nonce_stream streams[64];
    int nstreams;
    uint64_t packets;            /* RTP datagrams seen */
    uint64_t repeats;            /* went out again, identical: fine */
    uint64_t mismatches;         /* went out again, different: nonce reuse */
} nonce_check;

static uint64_t nonce__fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
    return h;
}

/* The extended index of seq on stream ssrc: the candidate nearest the highest seen. */
static uint64_t nonce__index(nonce_check *c, uint32_t ssrc, uint16_t seq)
{
    nonce_stream *s = NULL;
    for (int i = 0; i < c->nstreams; i++) if (c->streams[i].ssrc == ssrc) s = &c->streams[i];
    if (!s) {
        if (c->nstreams == 64) abort();
        s = &c->streams[c->nstreams++];
        s->ssrc = ssrc;
        s->highest = (1ULL << 16) + seq;       /* room below for a late packet */
        return s->highest;
    }
    uint64_t roc = s->highest >> 16, best = 0, dist = UINT64_MAX;
    for (int d = -1; d <= 1; d++) {
        uint64_t cand = ((roc + (uint64_t)(int64_t)d) << 16) + seq;
        uint64_t dd = cand > s->highest ? cand - s->highest : s->highest - cand;
        if (dd < dist) { dist = dd; best = cand; }
    }
    if (best > s->highest) s->highest = best;
    return best;
}

static void nonce__grow(nonce_check *c)
{
    nonce_entry *old = c->tab;
    size_t ocap = c->cap;
    c->cap = ocap ? ocap * 2 : 4096;
    c->tab = calloc(c->cap, sizeof *c->tab);
    if (!c->tab) abort();
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].used) continue;
        size_t j = (size_t)(old[i].key * 0x9E3779B97F4A7C15ULL) & (c->cap - 1);
        while (c->tab[j].used) j = (j + 1) & (c->cap - 1);
        c->tab[j] = old[i];
    }
    free(old);
}

/* One datagram (borrowed) as it leaves the sender. */
static void nonce_check_packet(nonce_check *c, const uint8_t *data, size_t len)
{
    if (len < 12 || rtc_demux(data, len) != RTC_PKT_RTP) return;
    c->packets++;
    uint32_t ssrc = (uint32_t)data[8] << 24 | (uint32_t)data[9] << 16 | (uint32_t)data[10] << 8 | data[11];
    uint16_t seq = (uint16_t)(data[2] << 8 | data[3]);
    uint64_t key = (uint64_t)ssrc << 32 ^ nonce__index(c, ssrc, seq);
    uint64_t h = nonce__fnv(data, len);
    if (2 * (c->n + 1) > c->cap) nonce__grow(c);
    size_t j = (size_t)(key * 0x9E3779B97F4A7C15ULL) & (c->cap - 1);
    for (; c->tab[j].used; j = (j + 1) & (c->cap - 1)) {
        if (c->tab[j].key != key) continue;
        if (c->tab[j].hash == h && c->tab[j].len == len) c->repeats++;
        else c->mismatches++;
        return;
    }
    c->tab[j] = (nonce_entry){ .key = key, .hash = h, .len = (uint32_t)len, .used = true };
    c->n++;
}

static void nonce_check_free(nonce_check *c)
{
    free(c->tab);
    memset(c, 0, sizeof *c);
}

#endif
