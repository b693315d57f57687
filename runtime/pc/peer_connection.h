/* The peer connection (W3C RTCPeerConnection, JSEP RFC 8829): one sans-IO machine that
 * owns the ICE agent, the DTLS transport, the SCTP association and the SRTP session of
 * a BUNDLEd connection and composes them by polling (ICE -> DTLS -> SCTP and back inside
 * one call; nothing calls back into the caller).
 *
 * Contract: after any call that takes `now`, the caller drains rtc_pc_poll_transmit()
 * and rtc_pc_poll_event() until both return false, then arms one timer for
 * rtc_pc_poll_timeout() and calls rtc_pc_handle_timeout() when it fires.
 *
 * Gathering is the driver's job: it binds sockets and reports their addresses with
 * rtc_pc_add_local_address() (and STUN/TURN servers it resolved); the machine turns
 * them into candidates once a description makes the ICE role known, and announces them
 * as RTC_PC_EV_ICE_CANDIDATE events after set_local_description, as browsers do.
 *
 * Data channels are named by a handle (>= 0) the machine hands out at creation; the
 * W3C `id` (the SCTP stream id) is known once the DTLS role is, see
 * rtc_pc_data_channel_info(). */
#ifndef RTC_PEER_CONNECTION_H
#define RTC_PEER_CONNECTION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/rtc_addr.h"
#include "core/rtc_bytes.h"
#include "core/rtc_buf.h"
#include "core/rtc_rng.h"
#include "core/rtc_time.h"
#include "core/rtc_transmit.h"
#include "dtls/dtls_cert.h"
#include "ice/ice_agent.h"

typedef struct rtc_pc rtc_pc;

typedef enum { RTC_SIG_STABLE, RTC_SIG_HAVE_LOCAL_OFFER, RTC_SIG_HAVE_REMOTE_OFFER,
               RTC_SIG_HAVE_LOCAL_PRANSWER, RTC_SIG_HAVE_REMOTE_PRANSWER, RTC_SIG_CLOSED } rtc_pc_signaling_state;
typedef enum { RTC_GATHER_NEW, RTC_GATHER_GATHERING, RTC_GATHER_COMPLETE } rtc_pc_gathering_state;
typedef enum { RTC_PC_ICE_NEW, RTC_PC_ICE_CHECKING, RTC_PC_ICE_CONNECTED, RTC_PC_ICE_COMPLETED,
               RTC_PC_ICE_DISCONNECTED, RTC_PC_ICE_FAILED, RTC_PC_ICE_CLOSED } rtc_pc_ice_state;
typedef enum { RTC_CONN_NEW, RTC_CONN_CONNECTING, RTC_CONN_CONNECTED, RTC_CONN_DISCONNECTED,
               RTC_CONN_FAILED, RTC_CONN_CLOSED } rtc_pc_connection_state;
typedef enum { RTC_SDP_OFFER, RTC_SDP_PRANSWER, RTC_SDP_ANSWER, RTC_SDP_ROLLBACK } rtc_pc_sdp_type;

/* W3C names ("stable", "have-local-offer", "checking", ...). */
const char *rtc_pc_signaling_state_name(rtc_pc_signaling_state s);
const char *rtc_pc_gathering_state_name(rtc_pc_gathering_state s);
const char *rtc_pc_ice_state_name(rtc_pc_ice_state s);
const char *rtc_pc_connection_state_name(rtc_pc_connection_state s);
const char *rtc_pc_sdp_type_name(rtc_pc_sdp_type t);
int rtc_pc_sdp_type_parse(const char *name, rtc_pc_sdp_type *out);   /* 0 or RTC_EINVAL */

typedef struct rtc_pc_config {
    rtc_rng *rng;                 /* borrowed, outlives the pc: ICE credentials, ids */
    rtc_pool *pool;               /* borrowed, may be NULL */
    rtc_dtls_cert *cert;          /* ref taken; NULL = generate ECDSA P-256 */
    int64_t unix_now;             /* wall-clock seconds, for a generated certificate */
    bool ice_lite;                /* answer checks only (servers) */
    bool relay_only;              /* ice_transport_policy "relay" */
    size_t max_message_size;      /* a=max-message-size we advertise; 0 = 256 KiB; > INT64_MAX: RTC_EINVAL */
    rtc_time ice_ta;              /* ICE pacing; 0 = default */
    uint16_t max_channels;        /* SCTP streams offered each way; 0 = 256 (max 65535) */
} rtc_pc_config;

typedef struct rtc_dc_init {
    const char *label, *protocol;  /* copied; NULL = "" */
    bool unordered;
    int max_retransmits;           /* -1 = not set */
    int max_packet_life_time;      /* -1 = not set (ms) */
    bool negotiated;
    int id;                        /* with negotiated: the stream id */
} rtc_dc_init;

typedef enum {
    RTC_PC_EV_SIGNALING_STATE = 1,   /* state */
    RTC_PC_EV_GATHERING_STATE,       /* state */
    RTC_PC_EV_ICE_STATE,             /* state */
    RTC_PC_EV_CONNECTION_STATE,      /* state */
    RTC_PC_EV_ICE_CANDIDATE,         /* candidate/mid/mline_index; candidate "" = end */
    RTC_PC_EV_NEGOTIATION_NEEDED,    /* W3C rules; not delivered once the state left stable */
    RTC_PC_EV_DATACHANNEL,           /* dc: a channel the peer opened (already open) */
    RTC_PC_EV_DC_OPEN,               /* dc */
    RTC_PC_EV_DC_MESSAGE,            /* dc, binary, buf (caller owns: unref) */
    RTC_PC_EV_DC_BUFFERED_LOW,       /* dc */
    RTC_PC_EV_DC_CLOSING,            /* dc */
    RTC_PC_EV_DC_CLOSE,              /* dc, err; the handle stays valid for info until the
                                      * next rtc_pc_poll_event, then it is released (its
                                      * slot is reused under a new handle) */
    RTC_PC_EV_ERROR,                 /* err, reason: a transport failed (DTLS, SCTP) */
    RTC_PC_EV_TRACK,                 /* tr, kind, mid: see pc/pc_media.h */
    RTC_PC_EV_FRAME,                 /* tr, buf (caller owns: unref), ts, keyframe, codec */
    RTC_PC_EV_KEYFRAME_REQUEST,      /* tr */
    RTC_PC_EV_SENDER_REPORT,         /* tr, ntp, ts, rid: an RTCP SR for an incoming stream */
    RTC_PC_EV_ICE_CANDIDATE_ERROR,   /* server, code (STUN error code, 0 = no answer), err,
                                      * reason: a TURN allocation failed (W3C icecandidateerror) */
    RTC_PC_EV_BANDWIDTH,             /* bps: the send-side estimate moved by over 5% (pc/pc_cc.h) */
} rtc_pc_event_type;

typedef struct rtc_pc_event {
    rtc_pc_event_type type;
    int state;                     /* the new state, as the enum of its kind */
    int dc;                        /* channel handle */
    bool binary;
    int err;
    rtc_buf *buf;                  /* DC_MESSAGE */
    int mline_index;
    char mid[32];
    char candidate[512];           /* "candidate:..." or "" for end-of-candidates */
    char reason[160];
    int tr;                        /* media events: transceiver handle (pc/pc_media.h) */
    int kind, codec;               /* rtc_media_kind, rtc_codec_id */
    uint32_t ts;                   /* FRAME: RTP timestamp */
    bool keyframe;
    char rid[16];                  /* FRAME: simulcast layer (RID), "" when none */
    uint64_t ntp;                  /* SENDER_REPORT: sender's wall clock, NTP 32.32 (ts: RTP time then) */
    rtc_addr server;               /* ICE_CANDIDATE_ERROR */
    int code;                      /* ICE_CANDIDATE_ERROR */
    double bps;                    /* BANDWIDTH: the new target bitrate */
} rtc_pc_event;

typedef struct rtc_dc_info {
    int handle;
    int id;                        /* SCTP stream id, -1 until known */
    const char *label, *protocol;  /* owned by the pc */
    const char *state;             /* "connecting", "open", "closing", "closed" */
    bool ordered, negotiated;
    int max_retransmits, max_packet_life_time;   /* -1 when not set */
    size_t buffered_amount, buffered_amount_low_threshold;
    uint64_t messages_sent, bytes_sent, messages_received, bytes_received;
} rtc_dc_info;

/* Counters and identities for get_stats (W3C RTCStatsReport is built from these). */
typedef struct rtc_pc_stats {
    uint64_t bytes_sent, bytes_received, packets_sent, packets_received;  /* transport */
    uint32_t data_channels_opened, data_channels_closed;
    bool has_pair;
    rtc_addr pair_local, pair_remote;
    int pair_local_type, pair_remote_type;         /* rtc_ice_cand_type */
    const char *pair_relay_protocol;               /* a relayed pair: "udp", "tcp" or "tls" to
                                                      the TURN server (static); else NULL */
    int pair_proto;                                /* RTC_PROTO_UDP / RTC_PROTO_TCP (ICE-TCP) */
    /* SHA-256; the remote one is the certificate in use once DTLS has it */
    char local_fingerprint[RTC_DTLS_FINGERPRINT_MAX], remote_fingerprint[RTC_DTLS_FINGERPRINT_MAX];
    const char *dtls_state, *dtls_role, *srtp_cipher, *tls_cipher;
    const char *ice_role;                          /* "controlling", "controlled", "unknown" (W3C RTCIceRole) */
    uint64_t stun_checks_sent, stun_checks_received, stun_responses_received;
} rtc_pc_stats;

int rtc_pc_new(rtc_pc **out, const rtc_pc_config *cfg, rtc_time now);
void rtc_pc_free(rtc_pc *pc);      /* NULL-safe; no goodbye is sent (see close) */

/* Gathering input from the driver (addresses borrowed for the call). */
int rtc_pc_add_local_address(rtc_pc *pc, const rtc_addr *base, uint16_t local_pref, rtc_time now);
/* An ICE-TCP listening socket on `base` (RFC 6544): announced as a passive TCP host
 * candidate (ice/ice_agent.h rtc_ice_agent_add_tcp_host_candidate). What arrives on
 * the connections it accepts goes to rtc_pc_handle_tcp_frame; transmits with proto
 * RTC_PROTO_TCP go out on the accepted connection (local, remote), RFC 4571 framed. */
int rtc_pc_add_local_tcp_address(rtc_pc *pc, const rtc_addr *base, uint16_t local_pref, rtc_time now);
int rtc_pc_add_stun_server(rtc_pc *pc, const rtc_addr *base, const rtc_addr *server, rtc_time now);
int rtc_pc_add_turn_server(rtc_pc *pc, const rtc_addr *base, const rtc_addr *server, int transport,
                           const char *user, const char *pass, rtc_time now);
/* A server name that resolved to several addresses of base's family (servers[0..n),
 * copied, n <= RTC_ICE_MAX_ALT): tried in order (rtc_ice_agent_add_turn_servers). */
int rtc_pc_add_stun_servers(rtc_pc *pc, const rtc_addr *base, const rtc_addr *servers, int n, rtc_time now);
int rtc_pc_add_turn_servers(rtc_pc *pc, const rtc_addr *base, const rtc_addr *servers, int n, int transport,
                            const char *user, const char *pass, rtc_time now);

/* W3C setConfiguration's iceServers: the STUN/TURN servers added after this call make
 * the new list. Before the ICE agent exists (no description set yet) it replaces the
 * list at once; afterwards it is the list of the next ICE restart, where the agent
 * gathers from the servers that are new (candidates from dropped servers stay with the
 * agent until it closes). RTC_ESTATE once closed. */
int rtc_pc_replace_servers(rtc_pc *pc, rtc_time now);

/* W3C setConfiguration's iceTransportPolicy ("relay": relay_only). Before the ICE
 * agent exists (no description set yet) it is the policy of the first gathering; after,
 * it applies from the next ICE restart (JSEP 4.1.18: no action before the next
 * gathering phase), where the candidates signalled from then on and the pairs checked
 * follow it; the call in progress keeps its candidates and pair until then. RTC_ESTATE
 * once closed. */
int rtc_pc_set_ice_transport_policy(rtc_pc *pc, bool relay_only, rtc_time now);

/* The driver's TCP or TLS connection to a TURN server added with (base, server) failed
 * or closed: that allocation fails now (before the agent exists, as soon as it does),
 * with `reason` (copied; NULL = generic) as the icecandidateerror's text. */
int rtc_pc_turn_transport_failed(rtc_pc *pc, const rtc_addr *base, const rtc_addr *server, int error,
                                 const char *reason, rtc_time now);

/* JSEP. Descriptions are SDP text. create_* write a malloc'd NUL-terminated string to
 * *sdp (caller frees). Failures return a negative RTC_E* and leave the state unchanged;
 * rtc_pc_last_error() then says why, starting with the W3C name of the error (valid
 * until the next call): "InvalidStateError: ..." for the wrong signaling state,
 * "OperationError: line N: ..." for SDP that does not parse (W3C's sdp-syntax-error),
 * "InvalidAccessError: ..." for SDP that cannot be applied, "InvalidModificationError:
 * ..." for a local description that is not the last one created. */
int rtc_pc_create_offer(rtc_pc *pc, bool ice_restart, char **sdp, rtc_time now);
int rtc_pc_create_answer(rtc_pc *pc, char **sdp, rtc_time now);
/* sdp may be NULL or "" for an implicit description (one created now); otherwise it
 * must be the last offer (answer) created, unchanged: RTC_EMODIFIED. */
int rtc_pc_set_local_description(rtc_pc *pc, rtc_pc_sdp_type type, const char *sdp, rtc_time now);
/* A remote offer in have-local-offer rolls ours back first (W3C perfect negotiation),
 * unless it cannot be applied. A rollback returns to the last stable state (JSEP
 * 4.1.8.2): sections, mids, remote ICE parameters, and the transceivers a remote offer
 * created unless their direction was set since (a track attached). */
int rtc_pc_set_remote_description(rtc_pc *pc, rtc_pc_sdp_type type, const char *sdp, rtc_time now);
/* candidate: "candidate:..." or "" (end-of-candidates); mid may be NULL (then mline_index). */
int rtc_pc_add_ice_candidate(rtc_pc *pc, const char *candidate, const char *mid, int mline_index, rtc_time now);
/* The current local/remote description with the candidates gathered so far; *sdp
 * malloc'd (caller frees). RTC_ENOTFOUND when there is none. */
int rtc_pc_local_description(rtc_pc *pc, rtc_pc_sdp_type *type, char **sdp);
int rtc_pc_remote_description(rtc_pc *pc, rtc_pc_sdp_type *type, char **sdp);
/* New ICE credentials on the next offer (restartIce()). */
int rtc_pc_restart_ice(rtc_pc *pc, rtc_time now);
const char *rtc_pc_last_error(const rtc_pc *pc);

/* Transport input: one datagram that arrived on the socket bound to `local` from `remote`
 * (all borrowed for the call). */
int rtc_pc_handle_datagram(rtc_pc *pc, const rtc_addr *local, const rtc_addr *remote,
                           const uint8_t *data, size_t len, rtc_time now);
/* Bytes read from a TCP connection to a TURN server (RTC_PROTO_TCP_RAW transmits go
 * out on it); `local` is the base the server was added with, `server` its address. */
int rtc_pc_handle_stream(rtc_pc *pc, const rtc_addr *local, const rtc_addr *server,
                         const uint8_t *data, size_t len, rtc_time now);
/* One RFC 4571 frame (the 2-byte length already taken off) read from an ICE-TCP
 * connection our listener `local` accepted from `remote`: STUN, DTLS, SRTP or SRTCP,
 * as a datagram would carry it. All borrowed. */
int rtc_pc_handle_tcp_frame(rtc_pc *pc, const rtc_addr *local, const rtc_addr *remote,
                            const uint8_t *data, size_t len, rtc_time now);
int rtc_pc_handle_timeout(rtc_pc *pc, rtc_time now);
bool rtc_pc_poll_transmit(rtc_pc *pc, rtc_transmit *out);     /* caller owns out->buf */
bool rtc_pc_poll_event(rtc_pc *pc, rtc_pc_event *out);
rtc_time rtc_pc_poll_timeout(rtc_pc *pc);
/* Whether a datagram that arrived on `local` belongs to this pc (single-port servers
 * route with it; see rtc_ice_agent_accepts). All borrowed. */
bool rtc_pc_accepts(const rtc_pc *pc, const rtc_addr *local, const uint8_t *data, size_t len, const rtc_addr *remote);
/* True once `remote` sent this pc an ICE check that passed integrity (or a check to it
 * succeeded): a single-port router may then send that address's traffic here. */
bool rtc_pc_checked(const rtc_pc *pc, const rtc_addr *remote);
/* The local ICE ufrags checks may name: the current one and, during an ICE restart,
 * the previous one. Views into the pc, valid until its next call. Returns 0..2. */
int rtc_pc_local_ufrags(const rtc_pc *pc, rtc_str out[2]);

/* Data channels. Returns the handle (>= 0) or a negative RTC_E*: RTC_EINVAL for a label
 * or protocol over RTC_DC_MAX_LABEL / RTC_DC_MAX_PROTOCOL bytes (sctp/data_channel.h).
 * A handle is not an index; a released one gives RTC_ENOTFOUND. */
int rtc_pc_create_data_channel(rtc_pc *pc, const rtc_dc_init *init, rtc_time now);
/* data copied. RTC_ESTATE unless open, RTC_EINVAL (W3C TypeError) over the peer's
 * max-message-size. */
int rtc_pc_dc_send(rtc_pc *pc, int dc, const void *data, size_t len, bool binary, rtc_time now);
int rtc_pc_dc_close(rtc_pc *pc, int dc, rtc_time now);
int rtc_pc_dc_set_low_threshold(rtc_pc *pc, int dc, size_t threshold);
int rtc_pc_dc_info(rtc_pc *pc, int dc, rtc_dc_info *out);       /* RTC_ENOTFOUND */
int rtc_pc_dc_count(const rtc_pc *pc);                           /* channels not yet released */
int rtc_pc_dc_slots(const rtc_pc *pc);                           /* slots ever made: the peak of dc_count */
bool rtc_pc_dc_exists(rtc_pc *pc, int dc);                       /* a handle not (yet) released */

/* Close everything: DTLS close_notify, SCTP abort, states to closed. Idempotent. */
int rtc_pc_close(rtc_pc *pc, rtc_time now);

rtc_pc_signaling_state rtc_pc_signaling_state_get(const rtc_pc *pc);
rtc_pc_gathering_state rtc_pc_gathering_state_get(const rtc_pc *pc);
rtc_pc_ice_state rtc_pc_ice_state_get(const rtc_pc *pc);
rtc_pc_connection_state rtc_pc_connection_state_get(const rtc_pc *pc);
void rtc_pc_get_stats(rtc_pc *pc, rtc_pc_stats *out);
/* Candidate pair i of the ICE agent (rtc_ice_agent_pair_stats: the checklist, then the
 * pair selected before a restart while it runs); RTC_ENOTFOUND past the end or before
 * the agent exists. */
int rtc_pc_pair_stats(const rtc_pc *pc, int i, rtc_ice_pair_stats *out);
/* Local candidate i (formatted "candidate:...") for stats; RTC_ENOTFOUND past the end. */
int rtc_pc_local_candidate(const rtc_pc *pc, int i, char *buf, size_t size, int *type, rtc_addr *addr);
int rtc_pc_remote_candidate(const rtc_pc *pc, int i, char *buf, size_t size, int *type, rtc_addr *addr);
const char *rtc_pc_local_fingerprint(const rtc_pc *pc);

#endif
