/* Sender-side repair: a history of sent RTP packets answering NACKs, and RTX
 * (RFC 4588) wrapping/unwrapping. The history keeps refcounted buffers, so storing a
 * packet costs one ref, not a copy. */
#ifndef RTC_RTX_H
#define RTC_RTX_H
#include "core/rtc_buf.h"
#include "core/rtc_time.h"
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_rtp_history rtc_rtp_history;

typedef struct rtc_rtp_history_stats {
    uint64_t stored, hits, misses, too_soon;
} rtc_rtp_history_stats;

/* A ring of `capacity` packets (power of two, 16-32768) indexed by seq. */
int rtc_rtp_history_new(rtc_rtp_history **out, size_t capacity);
void rtc_rtp_history_free(rtc_rtp_history *h);              /* NULL-safe; drops its refs */
/* Keep packet `pkt` (a serialised RTP packet, before SRTP) sent at `now` under `seq`.
 * Takes a ref on pkt; the packet previously in the slot loses ours. */
void rtc_rtp_history_put(rtc_rtp_history *h, uint16_t seq, rtc_buf *pkt, rtc_time now);
/* The packet for a NACKed seq, or NULL if it is gone or was already resent less
 * than `min_interval` ago (NACKs repeated within one RTT ask for the same loss).
 * Borrowed: valid until the next put; take a ref to keep it. Marks it resent at now. */
rtc_buf *rtc_rtp_history_get(rtc_rtp_history *h, uint16_t seq, rtc_time now, rtc_time min_interval);
void rtc_rtp_history_get_stats(const rtc_rtp_history *h, rtc_rtp_history_stats *out);

/* Wrap the RTP packet pkt[0..len) (borrowed for the call) as RTX: same header (CSRCs, extensions) with
 * rtx_pt, rtx_seq and rtx_ssrc, the original seq (OSN) in the first two payload
 * bytes, then the original payload; padding is dropped. Output into out[0..cap);
 * returns its length, RTC_EOVERFLOW, or a parse error. */
int rtc_rtx_wrap(const uint8_t *pkt, size_t len, uint8_t rtx_pt, uint32_t rtx_ssrc,
                 uint16_t rtx_seq, uint8_t *out, size_t cap);
/* Undo rtc_rtx_wrap (pkt borrowed, out the caller's): restores the original seq from OSN and sets orig_pt/orig_ssrc.
 * RTC_EIGNORED for an RTX packet with no payload (padding-only bandwidth probes),
 * RTC_ETRUNC when the OSN is cut short. */
int rtc_rtx_unwrap(const uint8_t *pkt, size_t len, uint8_t orig_pt, uint32_t orig_ssrc,
                   uint8_t *out, size_t cap);

#endif
