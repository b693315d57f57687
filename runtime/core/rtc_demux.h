/* RFC 7983 (+ RFC 8656 ChannelData) demultiplexing of datagrams sharing one 5-tuple,
 * by first byte. Pure: no state. */
#ifndef RTC_DEMUX_H
#define RTC_DEMUX_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    RTC_PKT_UNKNOWN = 0,  /* empty or outside every range: drop and count */
    RTC_PKT_STUN,         /* 0..3 */
    RTC_PKT_ZRTP,         /* 16..19 (recognised, unsupported) */
    RTC_PKT_DTLS,         /* 20..63 */
    RTC_PKT_TURN_CHANNEL, /* 64..79: TURN ChannelData */
    RTC_PKT_RTP,          /* 128..191, RTP */
    RTC_PKT_RTCP,         /* 128..191 with payload type 192..223 (RFC 5761) */
} rtc_pkt_kind;

static inline rtc_pkt_kind rtc_demux(const uint8_t *p, size_t len)
{
    if (len == 0) return RTC_PKT_UNKNOWN;
    uint8_t b = p[0];
    if (b <= 3) return RTC_PKT_STUN;
    if (b >= 16 && b <= 19) return RTC_PKT_ZRTP;
    if (b >= 20 && b <= 63) return RTC_PKT_DTLS;
    if (b >= 64 && b <= 79) return RTC_PKT_TURN_CHANNEL;
    if (b >= 128 && b <= 191) {
        if (len >= 2 && p[1] >= 192 && p[1] <= 223) return RTC_PKT_RTCP;
        return RTC_PKT_RTP;
    }
    return RTC_PKT_UNKNOWN;
}

#endif
