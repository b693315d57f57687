/* Hosts a peer connection machine (pc/peer_connection.h) on an rtc_loop: binds its UDP
 * sockets (one per local address), reports them as host candidates, resolves STUN/TURN
 * server addresses into the machine, sends its transmits, and runs its timer through
 * an rtc_driver. Events reach the owner through `event_cb`, inside the drain.
 *
 * After calling any rtc_pc_* function on rtc_pc_host_pc(h), call rtc_pc_host_kick(h)
 * so the output is drained (a kick from inside event_cb is folded into the running
 * drain). */
#ifndef RTC_PC_HOST_H
#define RTC_PC_HOST_H
#include "io/rtc_loop.h"
#include "pc/peer_connection.h"

#define RTC_PC_HOST_MAX_BIND 8
#define RTC_PC_HOST_MAX_SERVERS 8

typedef struct rtc_pc_host rtc_pc_host;

#define RTC_PC_HOST_MAX_MORE 7
typedef struct rtc_pc_host_server {
    rtc_addr addr;            /* resolved server address (the resolver's first) */
    rtc_addr more[RTC_PC_HOST_MAX_MORE];   /* the name's further addresses, in the resolver's
                                 order: per local socket, those of its family are tried
                                 in order when one does not answer (ice/ice_agent.h) */
    int nmore;
    bool turn;
    int transport;            /* RTC_TURN_UDP / RTC_TURN_TCP / RTC_TURN_TLS (TURN only) */
    char user[256], pass[256];
    /* RTC_TURN_TLS (turns:): the client context the server's certificate is checked with
     * (borrowed for rtc_pc_host_new, which takes a ref; required), and the name it must
     * match, also sent as SNI (the URL's host; an IP literal is checked as an IP and
     * sends no SNI). */
    struct rtc_tls_context *tls;
    char server_name[256];
} rtc_pc_host_server;

/* Single-port mode: one UDP socket shared by many peer connections (servers behind one
 * open port), routed by ice/ice_router.h in O(1) per datagram: a Binding request goes
 * to the connection whose ICE ufrag it names, anything else to the connection that
 * owns its sender. A connection owns a sender only once its ICE agent accepted an
 * authenticated check from it (rtc_pc_checked), so a check that merely names a ufrag
 * moves nothing. A STUN response from an unknown sender is offered to each connection
 * (rtc_pc_accepts); other datagrams from unknown senders are dropped. TURN servers
 * over UDP are reached from a socket of each connection's own. Reference-counted:
 * each host using it holds a ref. */
typedef struct rtc_udp_mux rtc_udp_mux;
/* Binds `local` (copied; port 0 = any). Returns 0 or a negative RTC_E*. */
int rtc_udp_mux_new(rtc_udp_mux **out, rtc_loop *lp, const rtc_addr *local);
int rtc_udp_mux_local_addr(rtc_udp_mux *m, rtc_addr *out);
/* The host candidates connections on this socket announce: `ips` (copied; ports
 * ignored, the socket's port is used), e.g. a public address in front of a 1:1 NAT.
 * Without this call: the socket's address, or for a wildcard bind (0.0.0.0, ::) every
 * interface address of that family (loopback only when there is no other). Applies to
 * connections created afterwards. RTC_EINVAL for 0 or more than RTC_PC_HOST_MAX_BIND
 * addresses, or an unset or wildcard one. */
int rtc_udp_mux_announce(rtc_udp_mux *m, const rtc_addr *ips, int n);
/* Drops the creator's ref; the socket closes when no connection uses it any more. */
void rtc_udp_mux_release(rtc_udp_mux *m);
typedef struct rtc_udp_mux_stats { uint64_t routed, unrouted; uint32_t connections, senders; } rtc_udp_mux_stats;
void rtc_udp_mux_get_stats(const rtc_udp_mux *m, rtc_udp_mux_stats *out);

typedef struct rtc_pc_host_config {
    rtc_udp_mux *mux;         /* single-port mode: use this shared socket (a ref is taken)
                                 instead of binding sockets; bind/nbind are ignored */
    rtc_pc_config pc;         /* rng and pool default to the loop's when NULL; with no
                                 pc.cert, the process's shared certificate is used */
    bool unique_certificate;  /* with no pc.cert: generate one for this connection only
                                 instead of using the shared one */
    rtc_addr bind[RTC_PC_HOST_MAX_BIND];   /* local IPs to use (port = fixed port or 0) */
    int nbind;                /* 0: every interface address (loopback only when there is no other) */
    bool loopback;            /* with nbind 0: include loopback addresses too */
    rtc_pc_host_server servers[RTC_PC_HOST_MAX_SERVERS];
    int nservers;
    bool ice_tcp;             /* ICE-TCP (RFC 6544): listen on TCP at each host address and
                                 announce passive TCP candidates (not in single-port mode) */
    uint16_t ice_tcp_port;    /* the listening port; 0 = any free one */
    size_t turn_tcp_max_queued; /* bytes one TCP connection to a TURN server may hold
                                   unsent (before it connects, or while the server does
                                   not read) before whole frames drop; 0 = 1 MiB */
} rtc_pc_host_config;

/* TURN over TCP and TLS, summed over this connection's connections to TURN servers
 * (bytes on the wire: ciphertext for TLS). */
typedef struct rtc_pc_host_stats {
    uint64_t turn_tcp_tx_bytes;
    uint64_t turn_tcp_dropped;      /* frames dropped at turn_tcp_max_queued */
    uint32_t turn_tls_handshakes;   /* TLS connections to TURN servers that opened */
    uint32_t turn_tls_failures;     /* ... that failed (handshake, certificate, timeout) */
    uint64_t turn_tcp_queued;       /* bytes unsent now */
    uint64_t turn_tcp_queued_peak;  /* the most one connection ever held unsent */
} rtc_pc_host_stats;
void rtc_pc_host_get_stats(const rtc_pc_host *h, rtc_pc_host_stats *out);

/* `ev` is valid for the call only; a DC_MESSAGE buffer belongs to the callee (unref). */
typedef void (*rtc_pc_host_event_cb)(rtc_pc_host *h, rtc_pc_event *ev, void *ud);
typedef void (*rtc_pc_host_close_cb)(rtc_pc_host *h, void *ud);

/* cfg read during the call. Returns 0 or a negative RTC_E* (no socket could be bound:
 * RTC_EIO). */
int rtc_pc_host_new(rtc_pc_host **out, rtc_loop *lp, const rtc_pc_host_config *cfg,
                    rtc_pc_host_event_cb event_cb, void *ud);
/* W3C setConfiguration's iceServers (read during the call): the list of the next
 * gathering or ICE restart (rtc_pc_replace_servers). In single-port mode a new TURN
 * server over UDP needs a TURN-only socket the connection was made with (one per such
 * server it was created with); others are skipped with a warning. RTC_ESTATE once closing. */
int rtc_pc_host_set_servers(rtc_pc_host *h, const rtc_pc_host_server *servers, int n);
rtc_pc *rtc_pc_host_pc(rtc_pc_host *h);     /* borrowed; valid until close */
/* The connection's id ("pc<n>", unique in the process), which its log lines carry;
 * borrowed, valid until close. */
const char *rtc_pc_host_id(const rtc_pc_host *h);
void rtc_pc_host_kick(rtc_pc_host *h);
/* The same on the next loop turn: an owner that must not see events inside its own
 * call (W3C events are queued tasks) uses this. */
void rtc_pc_host_kick_soon(rtc_pc_host *h);
rtc_time rtc_pc_host_now(rtc_pc_host *h);
/* The host candidates' addresses (the sockets', or what a shared socket announces), i
 * from 0 (for tests and stats); RTC_ENOTFOUND past the end. */
int rtc_pc_host_local_addr(rtc_pc_host *h, int i, rtc_addr *out);
/* Forwarding (pc/pc_tap.h): packets the connection's taps hand out go to cb, inside the
 * drain (`t->buf` belongs to the callee). One tap per host (a second call replaces it;
 * cb NULL clears). When the host closes, cb runs once more with t NULL, before the
 * machine closes: the forwarder drops every stream of this connection then. */
typedef struct rtc_pc_tapped rtc_pc_tapped;
typedef void (*rtc_pc_host_tap_cb)(rtc_pc_host *h, rtc_pc_tapped *t, void *ud);
void rtc_pc_host_set_tap(rtc_pc_host *h, rtc_pc_host_tap_cb cb, void *ud);

/* Close the machine (rtc_pc_close), the sockets and the timer; close_cb runs once
 * libuv is done, then h is freed. No event_cb call happens after this returns. */
void rtc_pc_host_close(rtc_pc_host *h, rtc_pc_host_close_cb close_cb);
/* Drop the calling thread's shared certificate (one per thread; connections still
 * holding it keep their ref). A worker thread calls it before it ends. */
void rtc_pc_host_thread_exit(void);

#endif
