/* ICE agent (RFC 8445, trickle RFC 8838, consent freshness RFC 7675) for one component
 * (BUNDLE + rtcp-mux), full or lite. A pure state machine: no sockets, no clock, no Lua,
 * no own RNG.
 *
 * The driver gathers interface addresses and hands each one in as a host candidate
 * (the agent computes priority and foundation); it may add STUN servers (server-reflexive
 * gathering) and TURN servers (relay candidates; the agent runs a turn_client per server).
 * Every candidate the agent makes comes out as RTC_ICE_EV_LOCAL_CANDIDATE for signaling.
 *
 * Contract: after any call that takes `now`, drain rtc_ice_agent_poll_transmit() and
 * rtc_ice_agent_poll_event() until both return false, then wake the agent at
 * rtc_ice_agent_poll_timeout() by calling rtc_ice_agent_handle_timeout(). A `now` earlier
 * than one seen before is treated as that one.
 *
 * Receiving: give the agent every datagram whose first byte says STUN (0..3) or TURN
 * ChannelData (64..79), everything read from a TCP connection to a TURN server, and
 * the STUN frames of ICE-TCP connections (rtc_ice_agent_handle_packet). Other datagrams (DTLS, SRTP) go to their own machines.
 * Application data that arrived through a TURN relay comes out as RTC_ICE_EV_DATA.
 * Sending application data: rtc_ice_agent_send() on the selected pair (it wraps for the
 * relay when the pair is relayed); a driver may also send directly to the selected
 * pair's addresses when RTC_ICE_EV_SELECTED_PAIR says it is not relayed. */
#ifndef RTC_ICE_AGENT_H
#define RTC_ICE_AGENT_H
#include "core/rtc_addr.h"
#include "core/rtc_buf.h"
#include "core/rtc_bytes.h"
#include "core/rtc_rng.h"
#include "core/rtc_time.h"
#include "core/rtc_transmit.h"
#include "ice/ice_candidate.h"
#include "stun/stun.h"
#include <stdbool.h>

typedef struct rtc_ice_agent rtc_ice_agent;

typedef enum {
    RTC_ICE_NEW, RTC_ICE_CHECKING, RTC_ICE_CONNECTED, RTC_ICE_COMPLETED,
    RTC_ICE_DISCONNECTED, RTC_ICE_FAILED, RTC_ICE_CLOSED
} rtc_ice_state;

typedef struct rtc_ice_config {
    bool controlling;             /* initial role (conflicts are resolved, RFC 8445 7.3.1.1) */
    bool lite;                    /* lite agent: answers checks, never sends them; controlled */
    bool relay_only;              /* pair only relay candidates; host/srflx are not announced */
    rtc_str local_ufrag, local_pwd;   /* copied; ufrag 4..255, pwd 22..255 ice-chars */
    uint64_t tie_breaker;         /* caller draws it: keeps the agent deterministic */
    rtc_rng *rng;                 /* borrowed; transaction ids, consent jitter; outlives the agent */
    rtc_pool *pool;               /* borrowed, may be NULL (heap buffers) */
    rtc_time ta;                  /* check pacing; 0 = 50 ms */
    rtc_time check_rto;           /* first retransmission of a check; 0 = 250 ms */
    rtc_time consent_interval;    /* 0 = 5 s (each one randomised to 0.8..1.2 of it) */
    rtc_time disconnected_after;  /* no consent response for this long; 0 = 7 s */
    rtc_time failed_after;        /* no consent response for this long; 0 = 30 s */
    rtc_time nomination_delay;    /* controlling: wait this long after the first valid pair
                                     for a better one before nominating; 0 = 200 ms */
} rtc_ice_config;

typedef enum {
    RTC_ICE_EV_STATE,             /* u.state */
    RTC_ICE_EV_LOCAL_CANDIDATE,   /* u.cand: a new local candidate to signal (host/srflx/relay) */
    RTC_ICE_EV_GATHERING_DONE,    /* every STUN/TURN gathering finished: signal end-of-candidates
                                   * (again after a server added later has answered) */
    RTC_ICE_EV_PEER_REFLEXIVE,    /* u.cand: a remote peer-reflexive candidate was discovered */
    RTC_ICE_EV_SELECTED_PAIR,     /* u.pair */
    RTC_ICE_EV_ROLE,              /* u.controlling: role changed after a conflict */
    RTC_ICE_EV_DATA,              /* u.data: application data that came through a relay */
    RTC_ICE_EV_TURN_FAILED,       /* u.turn: a TURN allocation failed (e.g. wrong credentials) */
} rtc_ice_ev_type;

typedef struct rtc_ice_pair_info {
    rtc_addr local;               /* socket (base) address that sends: for a relayed pair, the
                                     local address used to reach the TURN server */
    rtc_addr remote;              /* peer address (for a relayed pair: as seen from the relay) */
    bool relayed;
    rtc_addr relay_server;        /* the TURN server when relayed */
    rtc_ice_cand_type local_type, remote_type;
    int proto;                    /* RTC_PROTO_UDP, or RTC_PROTO_TCP for an ICE-TCP pair: everything
                                     goes on the TCP connection (local, remote), RFC 4571 framed */
} rtc_ice_pair_info;

typedef struct rtc_ice_event {
    rtc_ice_ev_type type;
    union {
        rtc_ice_state state;
        rtc_ice_candidate cand;
        rtc_ice_pair_info pair;
        bool controlling;
        struct { rtc_addr from; rtc_buf *buf; } data;     /* caller owns buf: unref it */
        struct { rtc_addr server; int error, code; char reason[128]; } turn;
    } u;
} rtc_ice_event;

typedef struct rtc_ice_stats {
    uint64_t checks_sent, checks_received, responses_received, dropped, role_conflicts;
    uint64_t consent_sent;        /* consent requests (RFC 7675) sent, every datagram counted */
    uint32_t pairs, local_candidates, remote_candidates;
} rtc_ice_stats;

/* Creates the agent. `cfg` copied (strings too). RTC_EINVAL on bad credentials or no rng. */
int rtc_ice_agent_new(rtc_ice_agent **out, const rtc_ice_config *cfg, rtc_time now);
void rtc_ice_agent_free(rtc_ice_agent *a);        /* NULL-safe; drops queued transmits/events */

/* A host candidate on `base` (borrowed; the socket's address). `local_pref` orders
 * interfaces (65535 best). The computed candidate is copied to *out if non-NULL and is
 * announced as an event. Returns 0, RTC_EXISTS, RTC_EQUOTA. */
int rtc_ice_agent_add_host_candidate(rtc_ice_agent *a, const rtc_addr *base, uint16_t local_pref,
                                     rtc_ice_candidate *out, rtc_time now);
/* An ICE-TCP host candidate (RFC 6544) on `base` (borrowed): for RTC_ICE_TCP_PASSIVE
 * the address of the driver's listening TCP socket. Announced with `tcptype passive`
 * and a priority below every UDP candidate (rtc_ice_tcp_candidate_priority). A passive
 * candidate never sends checks of its own: it pairs with the peer's active candidates
 * when their connection arrives (the first check on it makes the sender a TCP
 * peer-reflexive candidate), and everything for that pair then goes on that connection:
 * transmits with proto RTC_PROTO_TCP, local = base, remote = the connection's peer. The
 * driver feeds what it reads there (one RFC 4571 frame at a time) to
 * rtc_ice_agent_handle_packet with proto RTC_PROTO_TCP and local = base.
 * Only RTC_ICE_TCP_PASSIVE is supported (RTC_ENOTSUP otherwise). */
int rtc_ice_agent_add_tcp_host_candidate(rtc_ice_agent *a, const rtc_addr *base, uint16_t local_pref,
                                         rtc_ice_tcptype tcptype, rtc_ice_candidate *out, rtc_time now);
/* Server-reflexive gathering: Binding requests from `base` to `server` (both borrowed). */
int rtc_ice_agent_add_stun_server(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *server, rtc_time now);
/* Relay gathering through a TURN server reached from `base` over `transport`
 * (RTC_TURN_UDP/RTC_TURN_TCP); strings copied. */
int rtc_ice_agent_add_turn_server(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *server,
                                  int transport, rtc_str user, rtc_str pass, rtc_time now);

/* The same for a server name that resolved to several addresses (`servers[0..n)`,
 * copied, 1 <= n <= RTC_ICE_MAX_ALT, all of base's family): they are tried in order,
 * the next one when the current one does not answer (the Binding request or the
 * Allocate times out) or, over TCP, when the driver reports its connection failed
 * (rtc_ice_agent_turn_transport_failed). An answer, even an error (401, 486, ...), ends
 * the search: the server is there and said no. Over TCP the driver connects to each
 * address the agent sends to (a transmit to a new (base, server)). RTC_EINVAL for a
 * bad n or an address of another family. */
#define RTC_ICE_MAX_ALT 4
int rtc_ice_agent_add_stun_servers(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *servers, int n,
                                   rtc_time now);
int rtc_ice_agent_add_turn_servers(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *servers, int n,
                                   int transport, rtc_str user, rtc_str pass, rtc_time now);

/* The driver's connection for the TURN client (base, server, transport) failed (TCP
 * connect or write error, EOF, TLS handshake or certificate check): that allocation
 * fails at once (RTC_ICE_EV_TURN_FAILED carrying `error` and `reason`, copied; NULL for
 * the generic text; gathering no longer waits for it). RTC_ENOTFOUND if there is no
 * such client. */
int rtc_ice_agent_turn_transport_failed(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *server,
                                        int transport, int error, const char *reason, rtc_time now);

/* The local preference of our relay candidates by client-to-server transport
 * (RTC_TURN_UDP/TCP/TLS), and back: the transport ("udp", "tcp", "tls") of one of OUR
 * relay candidates from its priority (W3C stats relayProtocol); NULL when the
 * priority is not one we give. */
uint16_t rtc_ice_relay_local_pref(int transport);
const char *rtc_ice_relay_protocol(uint32_t priority);

/* The peer's ufrag/pwd (copied). Checks start once they are known. */
int rtc_ice_agent_set_remote_credentials(rtc_ice_agent *a, rtc_str ufrag, rtc_str pwd, rtc_time now);
/* A trickled or SDP candidate (copied). Unresolved hostnames are kept but not paired;
 * adding the same candidate again with its address resolved pairs it. TCP candidates
 * (RFC 6544) need a tcptype: an active one pairs with our passive candidates once its
 * connection arrives, never with UDP ones; component != 1 candidates, TCP ones without
 * tcptype or with "so" are ignored (RTC_ENOTSUP). */
int rtc_ice_agent_add_remote_candidate(rtc_ice_agent *a, const rtc_ice_candidate *c, rtc_time now);
/* The peer signalled end-of-candidates (or did not trickle). Lets the agent fail. */
int rtc_ice_agent_end_of_candidates(rtc_ice_agent *a, rtc_time now);
/* ICE restart: new local credentials (copied); remote credentials and candidates are
 * forgotten and must be set again. The selected pair keeps carrying data (and consent
 * keeps running on it with the old credentials) until a new pair is selected. */
int rtc_ice_agent_restart(rtc_ice_agent *a, rtc_str ufrag, rtc_str pwd, rtc_time now);

/* The ICE transport policy (W3C iceTransportPolicy) of the next generation: call it
 * just before rtc_ice_agent_restart, as a changed policy applies to the next gathering
 * (JSEP 4.1.18). `relay_only` true: host and server-reflexive candidates are no longer
 * signalled (rtc_ice_agent_local_candidate skips them) nor paired, and host sockets
 * answer only consent on the pair selected before the restart. false: the host and
 * server-reflexive candidates gathered so far come out as RTC_ICE_EV_LOCAL_CANDIDATE
 * (the ones not signalled before) and are paired. RTC_ESTATE once closed. */
int rtc_ice_agent_set_relay_only(rtc_ice_agent *a, bool relay_only, rtc_time now);

/* The role signalling gives the agent before its first offer/answer completes: an
 * offer rolled back and the other side's applied instead (JSEP 4.1.8.2) makes the
 * controlling agent controlled or back. Not a conflict (no stats, no ROLE event);
 * a lite agent stays controlled. */
int rtc_ice_agent_set_controlling(rtc_ice_agent *a, bool controlling, rtc_time now);

/* Single-port demultiplexing (many agents behind one socket): true if this datagram from
 * `remote` belongs to this agent: a Binding request for our ufrag, a response to one of
 * our transactions, TURN traffic from one of our servers arriving on the socket
 * (`local`) that allocation uses, or other data from a peer address we have validated.
 * `local` may be NULL (then TURN traffic is not claimed). Pure: no state changes.
 * `local`, `data`, `remote` borrowed. */
bool rtc_ice_agent_accepts(const rtc_ice_agent *a, const rtc_addr *local, const uint8_t *data, size_t len,
                           const rtc_addr *remote);
bool rtc_ice_agent_accepts_stun(const rtc_ice_agent *a, const rtc_stun_msg *m, const rtc_addr *remote);
/* Whom to believe for data that is not STUN (DTLS, SRTP): `validated` is true for the
 * remote address of the selected pair or of any valid pair (a check to it succeeded,
 * or for a lite agent it sent an authenticated check); `checked` also for a remote
 * address that sent a check passing integrity, before any pair with it is valid.
 * Pure; `remote` borrowed. An off-path sender passes neither. */
bool rtc_ice_agent_validated(const rtc_ice_agent *a, const rtc_addr *remote);
bool rtc_ice_agent_checked(const rtc_ice_agent *a, const rtc_addr *remote);
/* The local ufrags incoming checks may use: the current one, and the one before an ICE
 * restart while the old pair still runs. Views valid until the next call that changes
 * credentials. Returns how many (1 or 2). */
int rtc_ice_agent_local_ufrags(const rtc_ice_agent *a, rtc_str out[2]);

/* One received datagram (UDP) or stream piece (TCP to a TURN server; proto
 * RTC_PROTO_TCP_RAW). `local` is the socket address it arrived on (may be unset when
 * there is one socket per family), `remote` the sender; all borrowed for the call.
 * Returns 0, or a negative RTC_E*: RTC_EIGNORED for input that is not for us or fails
 * integrity (counted, no state change), RTC_EPROTO for malformed STUN. */
int rtc_ice_agent_handle_packet(rtc_ice_agent *a, const rtc_addr *local, const rtc_addr *remote,
                                const uint8_t *data, size_t len, int proto, rtc_time now);
/* Same for an already parsed STUN message (m borrowed). */
int rtc_ice_agent_handle_stun(rtc_ice_agent *a, const rtc_stun_msg *m, const rtc_addr *local,
                              const rtc_addr *remote, rtc_time now);
int rtc_ice_agent_handle_timeout(rtc_ice_agent *a, rtc_time now);

/* Application data (copied) on the selected pair. RTC_ESTATE without one (or failed). */
int rtc_ice_agent_send(rtc_ice_agent *a, const uint8_t *data, size_t len, rtc_time now);
/* Stop: state CLOSED, no more output except TURN deallocation. */
int rtc_ice_agent_close(rtc_ice_agent *a, rtc_time now);

bool rtc_ice_agent_poll_transmit(rtc_ice_agent *a, rtc_transmit *out);   /* caller owns out->buf */
bool rtc_ice_agent_poll_event(rtc_ice_agent *a, rtc_ice_event *out);
rtc_time rtc_ice_agent_poll_timeout(const rtc_ice_agent *a);             /* RTC_TIME_NEVER if idle */

rtc_ice_state rtc_ice_agent_state(const rtc_ice_agent *a);
bool rtc_ice_agent_controlling(const rtc_ice_agent *a);
/* 0 and *out filled when a pair is selected, else RTC_ENOTFOUND. */
int rtc_ice_agent_selected_pair(const rtc_ice_agent *a, rtc_ice_pair_info *out);
/* One candidate pair of the checklist (W3C RTCIceCandidatePairStats). */
typedef enum {
    RTC_ICE_PAIR_FROZEN, RTC_ICE_PAIR_WAITING, RTC_ICE_PAIR_IN_PROGRESS, RTC_ICE_PAIR_SUCCEEDED, RTC_ICE_PAIR_FAILED
} rtc_ice_pair_state;
typedef struct rtc_ice_pair_stats {
    rtc_addr local, remote;       /* the candidates' addresses (a relay candidate's: the relayed one) */
    rtc_ice_cand_type local_type, remote_type;
    rtc_ice_pair_state state;
    bool nominated, selected;
    bool tcp;                     /* an ICE-TCP pair (RFC 6544) */
    bool previous;                /* the pair selected before an ICE restart (may have the
                                     candidates of a pair of the new checklist) */
    uint64_t priority;            /* RFC 8445 6.1.2.3 */
    /* Connectivity checks: every transmission of a request counts, retransmissions too;
     * consent requests (RFC 7675) on their own. Responses are those that passed integrity. */
    uint32_t requests_sent, requests_received, responses_sent, responses_received, consent_requests_sent;
    /* Round trips of checks and consent requests answered on this pair, each request
     * sent once (a retransmitted one's response is not timed) */
    uint32_t rtt_measurements;
    rtc_time total_rtt;           /* sum, µs */
    rtc_time current_rtt;         /* the latest, µs; -1 before the first */
} rtc_ice_pair_stats;
/* Pair i (0-based): the checklist's pairs in the order they were formed, then, after an
 * ICE restart until a new pair is selected, the pair selected before it. RTC_ENOTFOUND
 * past the end. `out` filled. */
int rtc_ice_agent_pair_stats(const rtc_ice_agent *a, int i, rtc_ice_pair_stats *out);
/* Local candidate i (0-based) for re-signalling after a restart; RTC_ENOTFOUND past the end. */
int rtc_ice_agent_local_candidate(const rtc_ice_agent *a, int i, rtc_ice_candidate *out);
void rtc_ice_agent_get_stats(const rtc_ice_agent *a, rtc_ice_stats *out);
const char *rtc_ice_state_name(rtc_ice_state s);

#endif
