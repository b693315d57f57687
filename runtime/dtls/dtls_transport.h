/* DTLS 1.2 transport (RFC 6347) over OpenSSL, with the use_srtp extension (RFC 5764)
 * and fingerprint-based peer authentication (RFC 8122, RFC 8842).
 *
 * A sans-IO machine: no sockets, no clock reads, no Lua. Input datagrams go in through
 * handle_datagram(); every datagram OpenSSL writes comes out whole, one per
 * poll_transmit(). Retransmission timers run on the caller's `now`, not on OpenSSL's
 * wall clock, through public OpenSSL API only (see docs/dtls-srtp.md for how the two
 * are reconciled).
 *
 * Contract: after any call that takes `now` (new, start, handle_datagram,
 * handle_timeout, send, close, set_remote_fingerprint), the caller drains
 * rtc_dtls_transport_poll_transmit() and rtc_dtls_transport_poll_event() until both
 * return false, then arms one timer for rtc_dtls_transport_poll_timeout().
 * Not thread-safe: one transport belongs to one loop. */
#ifndef RTC_DTLS_TRANSPORT_H
#define RTC_DTLS_TRANSPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/rtc_buf.h"
#include "core/rtc_time.h"
#include "dtls/dtls_cert.h"
#include "srtp/srtp_profile.h"

typedef struct rtc_dtls_transport rtc_dtls_transport;

/* JSEP a=setup: "active" is the DTLS client, "passive" the server. */
typedef enum rtc_dtls_role { RTC_DTLS_CLIENT = 0, RTC_DTLS_SERVER = 1 } rtc_dtls_role;

typedef enum rtc_dtls_state {
    RTC_DTLS_NEW = 0,     /* created; the client sends nothing until start() */
    RTC_DTLS_CONNECTING,  /* handshake under way */
    RTC_DTLS_CONNECTED,   /* handshake done and the peer fingerprint verified */
    RTC_DTLS_CLOSED,      /* close_notify sent or received */
    RTC_DTLS_FAILED,      /* see rtc_dtls_transport_error()/_reason() */
} rtc_dtls_state;

#define RTC_DTLS_MAX_PROFILES 4

typedef struct rtc_dtls_config {
    rtc_dtls_role role;
    rtc_dtls_cert *cert;              /* our identity; the transport takes a ref */
    /* use_srtp profiles in preference order (copied). n_srtp_profiles 0 = the default
     * order AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES128_CM_SHA1_80, AES128_CM_SHA1_32;
     * set no_srtp for a data-channel-only transport. */
    rtc_srtp_profile srtp_profiles[RTC_DTLS_MAX_PROFILES];
    size_t n_srtp_profiles;
    bool no_srtp;
    uint16_t mtu;                     /* largest datagram we send; 0 = 1200; >= 256 */
    rtc_time handshake_timeout;       /* from start() to connected; 0 = 30 s */
    rtc_time initial_rto;             /* first retransmission timeout; 0 = 500 ms */
    rtc_time max_rto;                 /* backoff cap; 0 = 3 s (at most 60 s) */
    rtc_pool *pool;                   /* borrowed, must outlive the transport; buffers
                                         for datagrams and app data. NULL = heap */
} rtc_dtls_config;

typedef enum rtc_dtls_event_type {
    RTC_DTLS_EV_CONNECTED = 1,        /* srtp_profile/keying are valid */
    RTC_DTLS_EV_DATA,                 /* one application record (for SCTP) */
    RTC_DTLS_EV_CLOSED,               /* close_notify received, or close() called */
    RTC_DTLS_EV_FAILED,               /* error + reason */
} rtc_dtls_event_type;

typedef struct rtc_dtls_event {
    rtc_dtls_event_type type;
    rtc_buf *data;                    /* DATA: one record's plaintext; ownership passes
                                         to the caller (unref when done) */
    int error;                        /* FAILED: RTC_EFINGERPRINT, RTC_ETIMEDOUT, RTC_ETLS */
    const char *reason;               /* FAILED: text owned by the transport, valid until free */
    rtc_srtp_profile srtp_profile;    /* CONNECTED: RTC_SRTP_NONE when not negotiated */
    rtc_srtp_keying keying;           /* CONNECTED: exported keys for srtp_profile */
} rtc_dtls_event;

typedef struct rtc_dtls_stats {
    uint64_t datagrams_in, datagrams_out, bytes_in, bytes_out;
    uint64_t records_in, records_out;     /* application records */
    uint64_t dropped;                     /* input rejected before OpenSSL saw it */
    uint64_t retransmits;                 /* flights resent: at our deadline (by OpenSSL
                                             or from the kept copy), by OpenSSL in a read,
                                             or the final flight answering a repeat */
    uint64_t buffer_releases;             /* idle hand-backs of OpenSSL's record buffers */
} rtc_dtls_stats;

/* Create a transport in state NEW. `cfg` is read during the call (cert ref taken,
 * profiles copied). Returns 0, RTC_EINVAL (no cert, bad profile, MTU too small) or
 * RTC_ETLS. */
int rtc_dtls_transport_new(rtc_dtls_transport **out, const rtc_dtls_config *cfg, rtc_time now);

/* Appends the keys of every DTLS handshake of the process to `path` (copied) in the
 * SSLKEYLOGFILE format; NULL or "" stops. 0, RTC_EIO (cannot open it) or RTC_EINVAL
 * (dtls_keylog.c). The Lua runtime sets it from SSLKEYLOGFILE. */
int rtc_dtls_set_keylog_file(const char *path);
const char *rtc_dtls_keylog_file(void);   /* NULL when off */
void rtc_dtls_transport_free(rtc_dtls_transport *t);   /* NULL-safe; sends nothing */

/* Begin the handshake: the client queues its ClientHello; the server waits. A server
 * also starts by itself on its first datagram. The handshake cap runs from here. */
int rtc_dtls_transport_start(rtc_dtls_transport *t, rtc_time now);

/* The fingerprint the peer's certificate must have (from its SDP a=fingerprint), e.g.
 * ("sha-256", "AB:CD:..."). Both strings copied. May come before start() or during the
 * handshake; if the handshake already finished, the peer is checked now and the
 * transport becomes CONNECTED or FAILED (RTC_EFINGERPRINT). Until a fingerprint is set
 * the transport never reports CONNECTED and holds back application data.
 * RTC_ENOTSUP for an unknown hash name. */
int rtc_dtls_transport_set_remote_fingerprint(rtc_dtls_transport *t, const char *algo,
                                              const char *fingerprint, rtc_time now);
/* The same with several values of one hash (the peer may have several certificates):
 * the peer is accepted when its certificate matches any of them. `fps[0..n)` copied;
 * 1 <= n <= RTC_DTLS_MAX_REMOTE_FPS (RTC_EINVAL otherwise). The caller picks `algo`
 * among the peer's a=fingerprint lines (rtc_dtls_fingerprint_strength). */
#define RTC_DTLS_MAX_REMOTE_FPS 8
int rtc_dtls_transport_set_remote_fingerprints(rtc_dtls_transport *t, const char *algo,
                                               const char *const *fps, int n, rtc_time now);
/* Whether the certificate the peer presented matches any of fps[0..n) under `algo`
 * (all borrowed): 1 or 0; RTC_ESTATE before the peer sent one, RTC_ENOTSUP for an
 * unknown hash. For a renegotiation on a connected transport. */
int rtc_dtls_transport_peer_matches(const rtc_dtls_transport *t, const char *algo,
                                    const char *const *fps, int n);

/* One received datagram (RFC 7983 says DTLS: first byte 20..63). Borrowed for the
 * call: nothing keeps a pointer to it. Returns 0; RTC_EPROTO (not DTLS records,
 * counted in stats.dropped); RTC_ESTATE when closed/failed or a client not started. */
int rtc_dtls_transport_handle_datagram(rtc_dtls_transport *t, const uint8_t *data, size_t len, rtc_time now);

/* Our timer fired: retransmit the last flight (RFC 6347 4.2.4) or fail the handshake
 * when the cap has passed. Calling it early does nothing. */
int rtc_dtls_transport_handle_timeout(rtc_dtls_transport *t, rtc_time now);

/* Next datagram to send, or false. Ownership of *out passes to the caller. */
bool rtc_dtls_transport_poll_transmit(rtc_dtls_transport *t, rtc_buf **out);
/* Next event, or false. A DATA event's buffer belongs to the caller afterwards. */
bool rtc_dtls_transport_poll_event(rtc_dtls_transport *t, rtc_dtls_event *out);
/* When handle_timeout wants to run; RTC_TIME_NEVER when nothing is pending. Once
 * connected, one deadline a second after the last record: the timeout then hands
 * OpenSSL's record buffers back while the connection is idle. */
rtc_time rtc_dtls_transport_poll_timeout(const rtc_dtls_transport *t);

/* Send one application record (an SCTP packet). `data` is copied (encrypted into the
 * outgoing datagram). One call = one record = one datagram, never split: RTC_ETOOBIG
 * when len exceeds 16384. RTC_ESTATE unless CONNECTED. */
int rtc_dtls_transport_send(rtc_dtls_transport *t, const void *data, size_t len, rtc_time now);

/* Send close_notify and move to CLOSED (a CLOSED event follows). Idempotent. */
int rtc_dtls_transport_close(rtc_dtls_transport *t, rtc_time now);

rtc_dtls_state rtc_dtls_transport_state(const rtc_dtls_transport *t);
rtc_dtls_role rtc_dtls_transport_role(const rtc_dtls_transport *t);
/* The failure code (0 if none) and its text (owned by the transport). */
int rtc_dtls_transport_error(const rtc_dtls_transport *t);
const char *rtc_dtls_transport_reason(const rtc_dtls_transport *t);
/* Negotiated profile and keys; RTC_ESTATE before CONNECTED, RTC_ENOTSUP if no profile. */
int rtc_dtls_transport_srtp_keying(const rtc_dtls_transport *t, rtc_srtp_keying *out);
/* SHA-256 fingerprint of the peer's certificate once received (else ""); owned. */
const char *rtc_dtls_transport_remote_fingerprint(const rtc_dtls_transport *t);
/* OpenSSL's name for the negotiated cipher suite, or "" before the handshake. */
const char *rtc_dtls_transport_cipher(const rtc_dtls_transport *t);
void rtc_dtls_transport_get_stats(const rtc_dtls_transport *t, rtc_dtls_stats *out);

#endif
