/* RED, redundant audio data (RFC 2198): one RTP payload carrying the current encoding
 * (the primary) and copies of earlier ones, each with its payload type and its
 * timestamp offset back from the packet's. Chromium sends Opus this way when
 * `red/48000/2` with fmtp `111/111` is negotiated (one earlier copy per packet).
 * Pure functions over caller buffers: nothing here allocates or keeps state. */
#ifndef RTC_RED_H
#define RTC_RED_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_RED_MAX_BLOCKS 8

typedef struct rtc_red_block {
    uint8_t pt;
    uint16_t ts_offset;          /* 14 bits: how far before the packet's timestamp; 0 for the primary */
    const uint8_t *data;         /* borrowed: points into the parsed payload */
    size_t len;
} rtc_red_block;

/* Split payload p[0..len) into blocks, oldest first, the primary last (*n blocks, at
 * most max). RTC_ETRUNC when a header or block runs past the end, RTC_EPROTO for more
 * blocks than max or an empty payload. */
int rtc_red_parse(const uint8_t *p, size_t len, rtc_red_block *blocks, size_t max, size_t *n);
/* Write a RED payload into out[0..cap): the redundant blocks (oldest first; borrowed;
 * ts_offset below 2^14, len below 2^10) then the primary (pt, data[0..len)). Returns
 * the length, RTC_EOVERFLOW, or RTC_EINVAL for an offset or length that does not fit. */
int rtc_red_write(uint8_t *out, size_t cap, const rtc_red_block *redundant, size_t nred,
                  uint8_t pt, const uint8_t *primary, size_t plen);
/* The primary payload type of a RED fmtp ("111/111" -> 111; every listed type must be
 * the same, as this side sends and takes only that form). -1 when malformed. */
int rtc_red_fmtp_pt(const char *fmtp);

#endif
