/* The passive side of ICE-TCP (RFC 6544) for one peer connection: listening TCP
 * sockets (one per host address), the connections they accept, and RFC 4571 framing
 * (each STUN, DTLS, SRTP or SRTCP packet preceded by its 16-bit length) both ways.
 * The ICE agent decides what the connections carry; this only moves frames.
 *
 * A connection is named by (local, remote): `local` is the listener's address (the
 * passive candidate's base, what the agent knows), `remote` the peer's address of the
 * connection. Frames read go to `frame_cb` one at a time; a peer announcing a frame
 * longer than the 65535 the length field allows cannot, and a connection that fails
 * or ends is closed and forgotten. At most RTC_ICE_TCP_MAX_CONNS connections are kept:
 * beyond that a new one is refused (closed at once). */
#ifndef RTC_ICE_TCP_H
#define RTC_ICE_TCP_H
#include "core/rtc_addr.h"
#include "core/rtc_buf.h"
#include <uv.h>

#define RTC_ICE_TCP_MAX_LISTEN 8
#define RTC_ICE_TCP_MAX_CONNS 16

typedef struct rtc_ice_tcp rtc_ice_tcp;
/* `frame` borrowed for the call. */
typedef void (*rtc_ice_tcp_frame_cb)(void *ud, const rtc_addr *local, const rtc_addr *remote,
                                     const uint8_t *frame, size_t len);
typedef void (*rtc_ice_tcp_closed_cb)(void *ud);

/* `ud` is handed to the callbacks. Returns 0 or RTC_ENOMEM. */
int rtc_ice_tcp_new(rtc_ice_tcp **out, uv_loop_t *loop, rtc_ice_tcp_frame_cb frame_cb, void *ud);
/* Listens on `ip` (borrowed; its port, 0 = any free one); *bound is the address in use.
 * Returns 0, RTC_EQUOTA past RTC_ICE_TCP_MAX_LISTEN, or RTC_EIO (bind/listen failed). */
int rtc_ice_tcp_listen(rtc_ice_tcp *t, const rtc_addr *ip, rtc_addr *bound);
/* One packet (takes the ref on b) for the connection (local, remote): framed and
 * written. RTC_ENOTFOUND when there is no such connection (b is dropped then). */
int rtc_ice_tcp_send(rtc_ice_tcp *t, const rtc_addr *local, const rtc_addr *remote, rtc_buf *b);
/* Connections open now (for tests and stats). */
int rtc_ice_tcp_connections(const rtc_ice_tcp *t);
/* Closes every socket; closed_cb(ud) runs once libuv is done, then t is freed. */
void rtc_ice_tcp_close(rtc_ice_tcp *t, rtc_ice_tcp_closed_cb closed_cb);

#endif
