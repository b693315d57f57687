/* Random numbers for machines, injected by the caller (practice: machines own no RNG).
 * Production code uses a crypto-seeded generator (OpenSSL RAND_bytes for every draw);
 * tests pass a seeded one and replay exactly. */
#ifndef RTC_RNG_H
#define RTC_RNG_H
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_rng {
    uint64_t s[4];     /* xoshiro256** state, used when seeded */
    int crypto;        /* 1: every draw comes from RAND_bytes */
} rtc_rng;

void rtc_rng_init_crypto(rtc_rng *r);
void rtc_rng_init_seed(rtc_rng *r, uint64_t seed);   /* deterministic, for tests */
void rtc_rng_bytes(rtc_rng *r, void *out, size_t n);
uint64_t rtc_rng_u64(rtc_rng *r);
uint32_t rtc_rng_u32(rtc_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t rtc_rng_below(rtc_rng *r, uint32_t n);
double rtc_rng_unit(rtc_rng *r);                     /* [0, 1) */
/* Fill `out` with n characters from the ICE-char alphabet [A-Za-z0-9+/], NUL-terminated. */
void rtc_rng_ice_chars(rtc_rng *r, char *out, size_t n);

#endif
