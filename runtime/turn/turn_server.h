/* TURN server (RFC 8656 over RFC 8489) and plain STUN Binding server, as a sans-IO
 * machine: no sockets, no clock, RNG injected. One object serves every listener and
 * every allocation of one server process.
 *
 * Inputs
 *  - rtc_turn_server_handle_packet(): bytes from a client, with the 5-tuple they came
 *    on (listener address, client address, UDP or TCP). Over TCP the bytes are the next
 *    piece of that connection's stream (any split); the machine frames STUN and
 *    ChannelData (padded to 4) itself.
 *  - rtc_turn_server_handle_relay(): a datagram that arrived from a peer on one of the
 *    relay sockets, named by the relay id the machine gave it.
 *  - rtc_turn_server_handle_timeout(): expiry of allocations, permissions, channels and
 *    idle TCP connections.
 *
 * Relay sockets. The machine owns the relay port range: for each relayed address it
 * needs it picks a free port in [min_port, max_port] (port 0 when the range is empty)
 * and emits RTC_TURN_SRV_EV_RELAY_OPEN {relay_id, addr}. The driver binds a UDP socket
 * and answers with rtc_turn_server_relay_bound(relay_id, 0, bound address) -- from
 * inside its event handler or later -- or with an error, after which the machine tries
 * another port (a few times) before answering the Allocate with 508. The Allocate
 * success response goes out only once every relay of the allocation is bound. When an
 * allocation ends the machine emits RTC_TURN_SRV_EV_RELAY_CLOSE {relay_id}: the driver
 * closes the socket and must not hand that id in again.
 *
 * EVEN-PORT with R (RFC 8656 7.2): the port after the allocation's even port is held
 * for the RESERVATION-TOKEN by a socket of its own, opened like a relay (RELAY_OPEN with
 * a relay id whose top bit is set, answered with relay_bound; no data is relayed on
 * it), so nothing else on the host can take it meanwhile. The allocation is answered
 * once both are bound; if the second port cannot be bound another pair is tried. When
 * the token is used the machine emits RELAY_CLOSE for the holding socket and then
 * RELAY_OPEN for the same port: the driver handles events in order and a close frees
 * the port at once (libuv closes the descriptor in uv_close).
 *
 * Outputs (rtc_transmit): to a client, local = listener address, remote = client,
 * proto RTC_PROTO_UDP or RTC_PROTO_TCP_RAW (ready-framed stream bytes for the TCP
 * connection (local, remote)); to a peer, local = relayed address, remote = peer, proto
 * RTC_PROTO_UDP, and `relay_id` names the socket (rtc_turn_server_poll_transmit2).
 *
 * Time: `now` is monotonic. Where wall-clock time matters (the expiry inside TURN REST
 * usernames) the driver tells the machine with rtc_turn_server_set_unix_time() before
 * feeding it; tests set it by hand.
 *
 * Policy callbacks (get_key, authorize) are the one exception to "never calls its
 * caller": they are synchronous questions answered during handle_packet; they must not
 * call back into the server.
 *
 * Contract: after any call that takes `now`, drain rtc_turn_server_poll_transmit() and
 * rtc_turn_server_poll_event() until both return false, then wake the machine at
 * rtc_turn_server_poll_timeout(). */
#ifndef RTC_TURN_SERVER_H
#define RTC_TURN_SERVER_H
#include "core/rtc_addr.h"
#include "core/rtc_buf.h"
#include "core/rtc_bytes.h"
#include "core/rtc_rng.h"
#include "core/rtc_time.h"
#include "core/rtc_transmit.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct rtc_turn_server rtc_turn_server;

#define RTC_TURN_SRV_NAME_MAX 128     /* longest username / realm accepted */

/* What an authorize callback is asked. Views borrowed for the call. */
typedef enum { RTC_TURN_AUTHZ_ALLOCATE, RTC_TURN_AUTHZ_PERMISSION } rtc_turn_authz_kind;
typedef struct rtc_turn_authz {
    rtc_turn_authz_kind kind;
    rtc_str username;
    const rtc_addr *client;           /* the client's transport address */
    const rtc_addr *peer;             /* PERMISSION: the peer; ALLOCATE: NULL */
    int proto;                        /* client leg: RTC_PROTO_UDP or RTC_PROTO_TCP_RAW */
    const rtc_addr *local;            /* the server address the client reached (which listener) */
} rtc_turn_authz;

/* Long-term key for (user, realm): write MD5(user:realm:pass) into key[16] and return
 * 16, or return a negative value for an unknown user. `ud` is the config's auth_ud. */
typedef int (*rtc_turn_get_key_cb)(void *ud, rtc_str user, rtc_str realm, uint8_t key[16]);
/* 0 allows, negative refuses (the client gets 403). */
typedef int (*rtc_turn_authorize_cb)(void *ud, const rtc_turn_authz *req);

typedef struct rtc_turn_server_config {
    rtc_str realm;                    /* copied; required for TURN */
    rtc_str software;                 /* copied; SOFTWARE attribute, may be empty */
    rtc_rng *rng;                     /* borrowed; nonce secret and port choice; must outlive */
    rtc_pool *pool;                   /* borrowed, may be NULL (heap buffers) */
    rtc_addr relay_v4, relay_v6;      /* relay IPs (port ignored); unset = family unsupported */
    uint16_t min_port, max_port;      /* relay port range; both 0 = let the driver pick */
    rtc_str rest_secret;              /* copied; TURN REST API shared secret, empty = off */
    rtc_turn_get_key_cb get_key;      /* may be NULL: then only users added and REST */
    rtc_turn_authorize_cb authorize;  /* may be NULL: allow all */
    void *auth_ud;                    /* passed to both callbacks */
    uint32_t default_lifetime;        /* s; 0 = 600 */
    uint32_t max_lifetime;            /* s; 0 = 3600 */
    uint32_t permission_lifetime;     /* s; 0 = 300 */
    uint32_t channel_lifetime;        /* s; 0 = 600 */
    uint32_t nonce_lifetime;          /* s; 0 = 600 (older nonces get 438) */
    uint32_t max_allocations;         /* total; 0 = 10000 (max 65535); beyond: 508 */
    uint32_t max_per_user;            /* 0 = unlimited (modules/turn.lua defaults to 16); beyond: 486 */
    uint32_t max_permissions;         /* per allocation; 0 = 64 */
    uint32_t max_channels;            /* per allocation; 0 = 64 */
    uint32_t max_tcp_conns;           /* 0 = 1024; each must allocate within 60 s of opening */
    uint32_t max_tcp_per_ip;          /* open TCP connections from one client IP; 0 = 64 */
    uint64_t bandwidth;               /* bytes/s per allocation (each direction); 0 = no cap
                                         (modules/turn.lua defaults to 2 MB/s) */
    bool allow_loopback;              /* relay to 127/8 and ::1 (tests) */
    bool allow_private;               /* relay to RFC 1918 / ULA */
    bool allow_link_local;            /* relay to 169.254/16, fe80::/10 */
} rtc_turn_server_config;

typedef enum {
    RTC_TURN_SRV_EV_RELAY_OPEN,       /* relay_id, addr: bind a UDP socket, answer relay_bound */
    RTC_TURN_SRV_EV_RELAY_CLOSE,      /* relay_id: close that socket */
    RTC_TURN_SRV_EV_ALLOCATED,        /* alloc_id, username, client, proto, addr (+addr2) */
    RTC_TURN_SRV_EV_DEALLOCATED,      /* alloc_id, username, client, reason */
    RTC_TURN_SRV_EV_PERMISSION,       /* alloc_id, username, addr = peer (new permission) */
    RTC_TURN_SRV_EV_CLOSE_CONN,       /* local, client: close this TCP connection */
} rtc_turn_srv_ev_type;

typedef struct rtc_turn_srv_event {
    rtc_turn_srv_ev_type type;
    uint32_t relay_id, alloc_id;
    rtc_addr addr, addr2;             /* relay or peer addresses (addr2 unset unless dual) */
    rtc_addr local, client;
    int proto;
    char username[RTC_TURN_SRV_NAME_MAX + 1];
    const char *reason;               /* static string: "expired", "refresh 0", "tcp closed", ... */
} rtc_turn_srv_event;

typedef struct rtc_turn_server_stats {
    uint64_t allocations, allocations_total, tcp_conns;
    uint64_t binding_requests, requests, responses_ok, responses_err;
    uint64_t err_400, err_401, err_403, err_420, err_437, err_438, err_440, err_441,
             err_442, err_443, err_486, err_508;
    uint64_t relayed_to_peer, relayed_to_peer_bytes, relayed_to_client, relayed_to_client_bytes;
    uint64_t dropped_malformed, dropped_no_allocation, dropped_no_permission,
             dropped_bandwidth, dropped_queue, dropped_unknown_channel;
    uint64_t expired_allocations, expired_permissions, expired_channels;
} rtc_turn_server_stats;

/* `cfg` copied (strings too). 0, RTC_EINVAL or RTC_ENOMEM. */
int rtc_turn_server_new(rtc_turn_server **out, const rtc_turn_server_config *cfg, rtc_time now);
/* NULL-safe. Drops queued output; the driver closes its relay sockets itself. */
void rtc_turn_server_free(rtc_turn_server *s);

/* A static long-term user: the key MD5(user:realm:pass) is stored, not the password.
 * Replaces an existing entry. 0, RTC_EINVAL, RTC_ENOMEM. */
int rtc_turn_server_add_user(rtc_turn_server *s, rtc_str user, rtc_str pass);
/* Listener addresses of this server (`a` copied): relaying to them is always refused
 * (loops), and data to their IPs only reaches relay ports. */
int rtc_turn_server_add_own_address(rtc_turn_server *s, const rtc_addr *a);
/* Refuse (deny) or permit (allow) relaying to ip/prefix. Allow entries win over deny
 * entries and over the built-in loopback/private/link-local classes. */
int rtc_turn_server_add_peer_rule(rtc_turn_server *s, const rtc_addr *net, int prefix, bool allow);
/* Seconds since 1970, for TURN REST username expiry. */
void rtc_turn_server_set_unix_time(rtc_turn_server *s, int64_t unix_sec);

/* Bytes from a client on (local, client, proto); `data`, `local`, `client` borrowed for
 * the call. proto RTC_PROTO_UDP: one datagram; RTC_PROTO_TCP/TCP_RAW: the next stream
 * bytes of that TCP connection. Returns 0, or a negative RTC_E* when the input was
 * dropped (counted); a broken TCP stream also queues RTC_TURN_SRV_EV_CLOSE_CONN. */
int rtc_turn_server_handle_packet(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client,
                                  int proto, const uint8_t *data, size_t len, rtc_time now);
/* A TCP connection (local, client) was accepted (addresses borrowed). Optional (the
 * first bytes open it too) but it lets the machine count it and close it when idle:
 * returns 0, or RTC_EQUOTA when max_tcp_conns are open (the driver closes it). */
int rtc_turn_server_handle_tcp_open(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client,
                                    rtc_time now);
/* The TCP connection (local, client) is gone: its allocation is released. */
int rtc_turn_server_handle_tcp_closed(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client,
                                      rtc_time now);
/* A datagram from `peer` (borrowed) on relay `relay_id`. 0 or a negative RTC_E* (dropped, counted). */
int rtc_turn_server_handle_relay(rtc_turn_server *s, uint32_t relay_id, const rtc_addr *peer,
                                 const uint8_t *data, size_t len, rtc_time now);
/* Answer to RTC_TURN_SRV_EV_RELAY_OPEN: status 0 with the address really bound (copied),
 * or a negative RTC_E* (the port was taken: another is tried). Returns RTC_ENOTFOUND
 * when the allocation is gone meanwhile: the driver then closes the socket it bound. */
int rtc_turn_server_relay_bound(rtc_turn_server *s, uint32_t relay_id, int status,
                                const rtc_addr *bound, rtc_time now);
int rtc_turn_server_handle_timeout(rtc_turn_server *s, rtc_time now);

/* out->buf ownership passes to the caller. For peer-bound datagrams *relay_id (may be
 * NULL) receives the relay socket's id, else 0. */
bool rtc_turn_server_poll_transmit2(rtc_turn_server *s, rtc_transmit *out, uint32_t *relay_id);
bool rtc_turn_server_poll_transmit(rtc_turn_server *s, rtc_transmit *out);
bool rtc_turn_server_poll_event(rtc_turn_server *s, rtc_turn_srv_event *out);
rtc_time rtc_turn_server_poll_timeout(const rtc_turn_server *s);

void rtc_turn_server_get_stats(const rtc_turn_server *s, rtc_turn_server_stats *out);

/* TURN REST API password for `username`: base64(HMAC-SHA1(secret, username)) into
 * out (NUL-terminated, size >= 29). Returns the length or RTC_EINVAL. */
int rtc_turn_rest_password(rtc_str secret, rtc_str username, char *out, size_t size);

#endif
