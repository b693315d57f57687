/* SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash. With a secret random
 * key nobody who sees only our packets can make two inputs collide on purpose, which a
 * plain FNV or CRC allows. Fast enough to run over every packet of a stream. */
#ifndef RTC_SIPHASH_H
#define RTC_SIPHASH_H
#include <stddef.h>
#include <stdint.h>

/* The hash of data[0..len) under the 16-byte key. */
uint64_t rtc_siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
