/* What every sans-IO machine hands its driver. The contract, for every machine:
 * after any call that takes `now`, the caller drains poll_transmit() and poll_event()
 * until both return false, then arms one timer for poll_timeout(). Nothing a machine
 * does reads a clock, a socket or calls back into its caller. */
#ifndef RTC_TRANSMIT_H
#define RTC_TRANSMIT_H
#include "rtc_addr.h"
#include "rtc_buf.h"

typedef struct rtc_transmit {
    rtc_addr local;       /* source address (selects the socket); unset = any */
    rtc_addr remote;      /* destination */
    rtc_buf *buf;         /* one datagram; ownership passes to the caller (unref when sent) */
    int proto;            /* RTC_PROTO_*: 0 = UDP, 1 = TCP (framed per RFC 4571/6544 by the driver) */
} rtc_transmit;

/* RTC_PROTO_TCP_RAW: bytes for a TCP stream that the machine has already framed (TURN
 * over TCP frames STUN and ChannelData itself); the driver writes them as they are. */
enum { RTC_PROTO_UDP = 0, RTC_PROTO_TCP = 1, RTC_PROTO_TCP_RAW = 2 };

#endif
