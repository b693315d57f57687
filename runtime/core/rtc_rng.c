#include "rtc_rng.h"
#include <openssl/rand.h>
#include <string.h>

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rtc_rng_init_crypto(rtc_rng *r)
{
    memset(r, 0, sizeof *r);
    r->crypto = 1;
}

void rtc_rng_init_seed(rtc_rng *r, uint64_t seed)
{
    r->crypto = 0;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t xoshiro(rtc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return result;
}

void rtc_rng_bytes(rtc_rng *r, void *out, size_t n)
{
    if (r->crypto) {
        if (RAND_bytes(out, (int)n) == 1) return;
        /* RAND_bytes failing means the OS entropy source is gone; fall through to a
         * generator seeded from whatever state we have rather than returning zeros. */
        r->crypto = 0;
        rtc_rng_init_seed(r, (uint64_t)(uintptr_t)out ^ 0x5deece66dull);
    }
    uint8_t *p = out;
    while (n) {
        uint64_t v = xoshiro(r);
        size_t k = n < 8 ? n : 8;
        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
}

uint64_t rtc_rng_u64(rtc_rng *r)
{
    uint64_t v;
    if (!r->crypto) return xoshiro(r);
    rtc_rng_bytes(r, &v, sizeof v);
    return v;
}

uint32_t rtc_rng_u32(rtc_rng *r) { return (uint32_t)(rtc_rng_u64(r) >> 32); }

uint32_t rtc_rng_below(rtc_rng *r, uint32_t n) { return (uint32_t)(((uint64_t)rtc_rng_u32(r) * n) >> 32); }

double rtc_rng_unit(rtc_rng *r) { return (double)(rtc_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

void rtc_rng_ice_chars(rtc_rng *r, char *out, size_t n)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i++) out[i] = alpha[rtc_rng_below(r, 64)];
    out[n] = 0;
}
