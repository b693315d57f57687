/* A producer's packet cache, shared by all its consumers: the plain RTP packets of
 * one incoming stream, kept as refs on pooled buffers (no copy), found by sequence
 * number so a subscriber's NACK is answered without asking the publisher.
 * Bounded three ways: by slots (the seq window, a power of two), by bytes of buffer
 * memory pinned (the whole rtc_buf footprint, not just the packet length, because
 * that is what a kept ref costs), and by age since arrival. Sequence numbers are
 * unwrapped, so wraparound, loss and reordering need no special case; a packet
 * older than the window or seen before is refused. Pure data structure: time is an
 * argument, nothing here sends or reads a clock. */
#ifndef RTC_SFU_PACKET_CACHE_H
#define RTC_SFU_PACKET_CACHE_H
#include "codec/codec.h"
#include "core/rtc_buf.h"
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stdint.h>

/* What the producer learnt from one packet; the consumers rewrite from it. */
typedef struct rtc_sfu_packet {
    rtc_buf *buf;                /* plain RTP as received; the holder of the struct holds one ref */
    int64_t ext_seq;             /* unwrapped sequence number (ext_seq & 0xffff == seq) */
    rtc_time arrival;
    uint32_t ts;
    uint16_t seq;
    uint16_t header_len;         /* fixed header + CSRCs + extension block */
    uint16_t payload_len;        /* without padding */
    uint8_t desc_len;            /* VP8 payload descriptor bytes (0 for other codecs) */
    bool marker;
    int16_t audio_level;         /* raw RFC 6464 byte (V bit | level), -1 when absent */
    int16_t video_orientation;   /* raw CVO byte, -1 when absent */
    rtc_depack_info info;
} rtc_sfu_packet;

typedef struct rtc_sfu_cache_config {
    uint32_t slots;              /* power of two in [16, 32768]; 0 = 1024 */
    size_t max_bytes;            /* buffer memory pinned; 0 = 1 MiB */
    rtc_time max_age;            /* 0 = 1 s */
} rtc_sfu_cache_config;

typedef struct rtc_sfu_cache_stats {
    uint64_t stored, duplicates, too_old, evicted_age, evicted_bytes, evicted_window, resets;
    uint32_t packets;            /* held now */
    size_t bytes;                /* buffer memory pinned now */
} rtc_sfu_cache_stats;

typedef struct rtc_sfu_cache rtc_sfu_cache;

/* cfg copied (NULL = defaults). RTC_EINVAL for slots not a power of two in range. */
int rtc_sfu_cache_new(rtc_sfu_cache **out, const rtc_sfu_cache_config *cfg);
void rtc_sfu_cache_free(rtc_sfu_cache *c);          /* NULL-safe; drops its refs */
/* Keep `pkt` (copied; the cache takes its own ref on pkt->buf). Fills pkt->ext_seq.
 * Returns 0, or RTC_EIGNORED for a duplicate or a packet older than the window
 * (nothing kept). A seq far behind the window for 16 packets in a row is taken as a
 * restart of the sender's numbering: the cache empties and continues from it. */
int rtc_sfu_cache_put(rtc_sfu_cache *c, rtc_sfu_packet *pkt, rtc_time now);
/* The packet with this seq if still held and not older than max_age at now, else
 * NULL. Borrowed until the next put/expire; take a ref on ->buf to keep it. */
const rtc_sfu_packet *rtc_sfu_cache_get(rtc_sfu_cache *c, uint16_t seq, rtc_time now);
/* Drop everything older than max_age. */
void rtc_sfu_cache_expire(rtc_sfu_cache *c, rtc_time now);
/* When the oldest packet will expire; RTC_TIME_NEVER when empty. */
rtc_time rtc_sfu_cache_next_expiry(const rtc_sfu_cache *c);
/* The highest unwrapped seq stored so far (-1 before the first packet). */
int64_t rtc_sfu_cache_highest(const rtc_sfu_cache *c);
void rtc_sfu_cache_get_stats(const rtc_sfu_cache *c, rtc_sfu_cache_stats *out);

#endif
