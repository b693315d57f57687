/* Hosts the TURN server machine (turn/turn_server.h) on an rtc_loop: UDP listeners,
 * optional TCP listeners on the same addresses, optional TLS listeners ("turns:", RFC
 * 8656 section 3.1) on their own addresses, one UDP relay socket per relayed address,
 * and the machine's timer through an rtc_driver.
 *
 * A TLS connection runs a tls/tls_stream machine in front of the same TCP framing path:
 * decrypted bytes go to the TURN machine as TCP stream bytes, its framed output is
 * encrypted before it is written. A client that never finishes its handshake is closed
 * by the machine's idle-connection timer like any TCP client without an allocation.
 *
 * Relay sockets follow the machine's RELAY_OPEN / RELAY_CLOSE events: the host binds
 * the address the machine picked (or lets the OS pick when the machine asks for port
 * 0) and reports the result with rtc_turn_server_relay_bound() inside the same drain.
 * Wall-clock time for TURN REST usernames is read here (time()) before each input.
 *
 * After calling rtc_turn_server_* functions on rtc_turn_host_server(h) (adding users,
 * peer rules), call rtc_turn_host_kick(h). Events reach the owner through `event_cb`,
 * inside the drain; the owner may call rtc_turn_host_close from it (the drain stops,
 * the memory goes once libuv has closed every handle). */
#ifndef RTC_TURN_HOST_H
#define RTC_TURN_HOST_H
#include "io/rtc_loop.h"
#include "tls/tls_context.h"
#include "turn/turn_server.h"

#define RTC_TURN_HOST_MAX_LISTEN 8

typedef struct rtc_turn_host rtc_turn_host;

typedef struct rtc_turn_host_config {
    rtc_turn_server_config server;          /* rng and pool default to the loop's when NULL */
    rtc_addr listen[RTC_TURN_HOST_MAX_LISTEN];   /* port 0 = any free port */
    int nlisten;
    bool tcp;                               /* also accept TURN over TCP on each listen address */
    size_t tcp_max_pending;                 /* bytes queued for a slow TCP/TLS client before whole
                                               frames drop (io/rtc_tcp_out.h); 0 = 1 MiB */
    rtc_addr tls_listen[RTC_TURN_HOST_MAX_LISTEN];   /* TLS (TCP) listeners; port 0 = any free port */
    int ntls_listen;
    rtc_tls_context *tls;                   /* server context for tls_listen; the host takes a
                                               ref; required when ntls_listen > 0 */
} rtc_turn_host_config;

typedef struct rtc_turn_host_stats {
    uint64_t udp_rx, udp_tx, tcp_accepted, tcp_rx_bytes, tcp_tx_bytes;
    uint64_t tcp_tx_dropped;                /* frames dropped for TCP/TLS clients over tcp_max_pending */
    uint64_t tcp_tx_queued_peak;            /* the most bytes one connection ever had queued */
    uint64_t relays_open, relay_bind_failures, relay_rx, relay_tx;
    uint64_t tls_accepted, tls_handshakes, tls_failures;   /* failures: bad handshakes and broken records */
} rtc_turn_host_stats;

/* `ev` valid for the call only. */
typedef void (*rtc_turn_host_event_cb)(rtc_turn_host *h, const rtc_turn_srv_event *ev, void *ud);
typedef void (*rtc_turn_host_close_cb)(rtc_turn_host *h, void *ud);

/* cfg read during the call (strings copied by the machine). Returns 0, or a negative
 * RTC_E* (a listener could not be bound: RTC_EIO; bad config: RTC_EINVAL). */
int rtc_turn_host_new(rtc_turn_host **out, rtc_loop *lp, const rtc_turn_host_config *cfg,
                      rtc_turn_host_event_cb event_cb, void *ud);
rtc_turn_server *rtc_turn_host_server(rtc_turn_host *h);   /* borrowed; valid until close */
void rtc_turn_host_kick(rtc_turn_host *h);
/* Bound listener addresses (port filled in), i in [0, nlisten). 0 or RTC_ENOTFOUND. */
int rtc_turn_host_local_addr(rtc_turn_host *h, int i, rtc_addr *out);
/* Bound TLS listener addresses, i in [0, ntls_listen). 0 or RTC_ENOTFOUND. */
int rtc_turn_host_tls_addr(rtc_turn_host *h, int i, rtc_addr *out);
/* Whether `local` (borrowed) is one of the TLS listeners: the machine reports TLS
 * clients as TCP, this tells them apart (for logs and events). */
bool rtc_turn_host_is_tls(const rtc_turn_host *h, const rtc_addr *local);
void rtc_turn_host_get_stats(const rtc_turn_host *h, rtc_turn_host_stats *out);
/* Closes every socket and the timer; close_cb (may be NULL) runs once libuv is done,
 * then h is freed. No event_cb call happens after this returns. */
void rtc_turn_host_close(rtc_turn_host *h, rtc_turn_host_close_cb close_cb, void *ud);

#endif
