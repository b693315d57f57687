/* TURN client allocation (RFC 8656), as a sans-IO machine: no sockets, no clock, RNG
 * injected. One object is one allocation on one server over UDP or TCP.
 *
 * It allocates with long-term credentials (401 -> retry with REALM/NONCE, 438 -> retry
 * with the new NONCE), refreshes before expiry, creates permissions for the peers it is
 * asked to send to (refreshed every 4 minutes while in use), binds a channel to each
 * such peer (refreshed before 10 minutes) and wraps application data in Send
 * indications until the channel is bound, ChannelData afterwards. Received Data
 * indications and ChannelData come out as RTC_TURN_EV_DATA. Rejected credentials (401
 * after authenticating, 441) or any other final error give one RTC_TURN_EV_FAILED.
 *
 * Over TCP the caller hands in the byte stream as it arrives (any split); this machine
 * finds the frames (STUN messages, and ChannelData padded to 4 bytes) itself and emits
 * transmits that are ready-framed stream bytes (proto RTC_PROTO_TCP_RAW).
 *
 * Contract: after any call that takes `now`, drain rtc_turn_client_poll_transmit() and
 * rtc_turn_client_poll_event() until both return false, then wake the machine at
 * rtc_turn_client_poll_timeout(). */
#ifndef RTC_TURN_CLIENT_H
#define RTC_TURN_CLIENT_H
#include "core/rtc_addr.h"
#include "core/rtc_buf.h"
#include "core/rtc_bytes.h"
#include "core/rtc_rng.h"
#include "core/rtc_time.h"
#include "core/rtc_transmit.h"
#include <stdbool.h>

typedef struct rtc_turn_client rtc_turn_client;

/* The client-to-server leg. TLS frames exactly as TCP (RFC 8656 section 3.1); the
 * driver runs the TLS stream (tls/tls_stream.h) under it, so to this machine TLS is a
 * stream like TCP, kept apart only to say what the relay candidate stands on. */
enum { RTC_TURN_UDP = 0, RTC_TURN_TCP = 1, RTC_TURN_TLS = 2 };

typedef struct rtc_turn_config {
    rtc_addr server;          /* the TURN server's transport address */
    rtc_addr local;           /* local address to send from (copied into transmits); may be unset */
    int transport;            /* RTC_TURN_UDP, RTC_TURN_TCP or RTC_TURN_TLS (client to server leg) */
    rtc_str username, password;   /* copied */
    rtc_rng *rng;             /* borrowed; transaction ids; must outlive the client */
    rtc_pool *pool;           /* borrowed, may be NULL (heap buffers) */
    uint32_t lifetime;        /* requested allocation lifetime in s; 0 = 600 */
    int family;               /* relayed address family, AF_INET (default) or AF_INET6 */
    rtc_time rto;             /* STUN RTO over UDP; 0 = 500 ms */
} rtc_turn_config;

typedef enum {
    RTC_TURN_NEW, RTC_TURN_ALLOCATING, RTC_TURN_READY, RTC_TURN_FAILED, RTC_TURN_CLOSED
} rtc_turn_state;

typedef enum {
    RTC_TURN_EV_ALLOCATED,    /* relayed, mapped set */
    RTC_TURN_EV_FAILED,       /* error (RTC_E*), code (STUN error code or 0), reason */
    RTC_TURN_EV_DATA,         /* peer, data: caller owns data (unref it) */
    RTC_TURN_EV_CLOSED,       /* deallocated (or given up) after rtc_turn_client_close */
} rtc_turn_ev_type;

typedef struct rtc_turn_event {
    rtc_turn_ev_type type;
    rtc_addr relayed, mapped;
    int error, code;
    char reason[128];
    rtc_addr peer;
    rtc_buf *data;
} rtc_turn_event;

typedef struct rtc_turn_stats {
    uint64_t sent_indications, sent_channel, recv_data, dropped, auth_retries;
} rtc_turn_stats;

/* Creates the client and queues the first Allocate. `cfg` copied (strings too). */
int rtc_turn_client_new(rtc_turn_client **out, const rtc_turn_config *cfg, rtc_time now);
void rtc_turn_client_free(rtc_turn_client *c);      /* NULL-safe; drops queued output */

/* Bytes from the server: one UDP datagram, or the next piece of the TCP stream.
 * `data` borrowed for the call. Returns 0, or a negative RTC_E* for a dropped datagram
 * (counted); a broken TCP stream gives RTC_EPROTO and the client fails. */
int rtc_turn_client_handle_packet(rtc_turn_client *c, const uint8_t *data, size_t len, rtc_time now);
int rtc_turn_client_handle_timeout(rtc_turn_client *c, rtc_time now);

/* Relay `data` (copied) to `peer` (borrowed). Before the allocation or the peer's
 * permission is ready the datagram is queued (a few per client; beyond that dropped,
 * RTC_EAGAIN). Returns 0 or RTC_ESTATE when failed/closed. */
int rtc_turn_client_send(rtc_turn_client *c, const rtc_addr *peer, const uint8_t *data, size_t len, rtc_time now);

/* The connection to the server is gone or never came up (TCP connect or write error,
 * EOF, a failed TLS handshake): the allocation fails now (one RTC_TURN_EV_FAILED with
 * `error` and `reason`, copied; NULL = "connection to the TURN server failed") instead
 * of after its transactions time out. No-op once failed or closed. */
void rtc_turn_client_transport_failed(rtc_turn_client *c, int error, const char *reason, rtc_time now);

/* Deallocate (Refresh with lifetime 0); RTC_TURN_EV_CLOSED follows. */
int rtc_turn_client_close(rtc_turn_client *c, rtc_time now);

bool rtc_turn_client_poll_transmit(rtc_turn_client *c, rtc_transmit *out);
bool rtc_turn_client_poll_event(rtc_turn_client *c, rtc_turn_event *out);
rtc_time rtc_turn_client_poll_timeout(const rtc_turn_client *c);

rtc_turn_state rtc_turn_client_state(const rtc_turn_client *c);
/* The relayed address once READY (0) or RTC_ESTATE. */
int rtc_turn_client_relayed(const rtc_turn_client *c, rtc_addr *out);
const rtc_addr *rtc_turn_client_server(const rtc_turn_client *c);
const rtc_addr *rtc_turn_client_local(const rtc_turn_client *c);
int rtc_turn_client_transport(const rtc_turn_client *c);
void rtc_turn_client_get_stats(const rtc_turn_client *c, rtc_turn_stats *out);

#endif
