/* A UDP socket on an rtc_loop with batched I/O both ways:
 * - receive uses UV_UDP_RECVMMSG (up to RTC_UDP_RECV_BATCH datagrams per syscall);
 * - sends are queued and go out once per loop turn in sendmmsg batches of up to
 *   RTC_UDP_SEND_BATCH (libuv 1.44 has no uv_udp_try_send2). When the kernel buffer is
 *   full (EAGAIN) the rest is handed to uv_udp_send, which waits for writability;
 *   while libuv holds queued sends, new datagrams follow them there to keep order.
 * Ownership: the socket is freed by libuv's close callback, after rtc_udp_close. */
#ifndef RTC_UDP_H
#define RTC_UDP_H
#include <stdint.h>
#include "core/rtc_addr.h"
#include "core/rtc_buf.h"
#include "io/rtc_loop.h"

#define RTC_UDP_SEND_BATCH 64
#define RTC_UDP_RECV_BATCH 8
#define RTC_UDP_QUEUE_MAX 8192    /* datagrams waiting for a flush; more are dropped */

/* One received datagram. `data` is borrowed for the call only; `from` likewise. */
typedef void (*rtc_udp_recv_cb)(rtc_udp *u, const uint8_t *data, size_t len,
                                const rtc_addr *from, void *ud);
typedef void (*rtc_udp_close_cb)(rtc_udp *u, void *ud);

typedef struct rtc_udp_stats {
    uint64_t rx_packets, rx_bytes, rx_truncated, rx_errors;
    uint64_t tx_packets, tx_bytes, tx_batches, tx_errors, tx_dropped, tx_deferred;
} rtc_udp_stats;

typedef struct rtc_udp_opts {
    int reuseaddr;      /* SO_REUSEADDR */
    int ipv6only;       /* for an IPv6 bind: do not also take IPv4 */
    int sndbuf, rcvbuf; /* SO_SNDBUF / SO_RCVBUF in bytes; 0 = system default */
} rtc_udp_opts;

/* Bind to `local` (port 0 = any free port; copied). `recv_cb` may be NULL (send-only);
 * `opts` may be NULL. 0 or a negative RTC_E* (RTC_EIO with the libuv code logged). */
int rtc_udp_new(rtc_udp **out, rtc_loop *lp, const rtc_addr *local, const rtc_udp_opts *opts,
                rtc_udp_recv_cb recv_cb, void *ud);
/* Queue a copy of `data` (borrowed for the call) for `to` (copied). 0, RTC_ETOOBIG for
 * more than 65507 bytes, RTC_EAGAIN when the queue is full (datagram dropped and
 * counted), RTC_ECLOSED after close. */
int rtc_udp_send(rtc_udp *u, const rtc_addr *to, const void *data, size_t len);
/* Queue `b` for `to`: takes the caller's ref on `b` in every case. Same returns. */
int rtc_udp_send_buf(rtc_udp *u, const rtc_addr *to, rtc_buf *b);
/* Send what is queued now (normally the loop does this once per turn). Returns the
 * number of datagrams handed to the kernel or libuv. */
int rtc_udp_flush(rtc_udp *u);
int rtc_udp_local_addr(rtc_udp *u, rtc_addr *out);
void rtc_udp_get_stats(const rtc_udp *u, rtc_udp_stats *out);
/* Flushes the queue, stops receiving and closes. `close_cb` (may be NULL) runs from
 * the loop once libuv is done; `u` is freed right after it. Idempotent. */
void rtc_udp_close(rtc_udp *u, rtc_udp_close_cb close_cb);

#endif
