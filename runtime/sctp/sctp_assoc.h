/* SCTP association over usrsctp (RFC 8261 SCTP-over-DTLS, RFC 8831 data channels).
 * A sans-IO machine: SCTP packets (the DTLS application data) go in through
 * rtc_sctp_assoc_handle_packet(); SCTP packets to send as DTLS application data come
 * out of rtc_sctp_assoc_poll_transmit(). Data channels on top live in data_channel.h.
 *
 * Contract (as for every machine): after any call that takes `now` (handle_packet,
 * handle_timeout, new, close, and the data channel calls), the caller drains
 * rtc_sctp_assoc_poll_transmit() and rtc_sctp_assoc_poll_event() until both return
 * false, then arms one timer for rtc_sctp_assoc_poll_timeout().
 *
 * One clock per process. usrsctp's timer wheel is process-global and is advanced by
 * elapsed milliseconds, so this module keeps one process-wide "last now" and turns the
 * absolute `now` given to any association into a delta. All associations in a process
 * must therefore be driven from one monotonic clock (true in production with
 * rtc_clock_now(), and in tests that share one virtual clock). A `now` earlier than the
 * last one is treated as the last one. Any association's handle_timeout advances every
 * association's timers; timeouts are placed on a 10 ms grid so that many associations
 * share one tick. A timer that fires during a call on one association may queue a
 * packet on another: rtc_sctp_poll_woken() lists those, and the caller treats each as
 * if its timer had fired (handle_timeout, then drain). usrsctp 0.9.5 has no "next timer" query, so poll_timeout returns the
 * next 10 ms tick while there is work in flight (handshake, unacknowledged or queued
 * data, recent traffic that may owe a delayed SACK, closing), and a 1 s tick when idle
 * (heartbeats and the like fire late by at most that much).
 * usrsctp measures RTT with the wall clock (gettimeofday), not with `now`; on a virtual
 * clock that runs faster than real time RTT samples come out near zero and the RTO sits
 * at its minimum.
 *
 * Threads: usrsctp runs in its no-threads mode; every call here must come from one
 * thread (the loop's). */
#ifndef RTC_SCTP_ASSOC_H
#define RTC_SCTP_ASSOC_H
#include "core/rtc_buf.h"
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_sctp_assoc rtc_sctp_assoc;

#define RTC_SCTP_DEFAULT_PORT 5000
#define RTC_SCTP_DEFAULT_MAX_MESSAGE (256 * 1024)
#define RTC_SCTP_DEFAULT_MAX_BUFFERED (16u * 1024 * 1024)

typedef struct rtc_sctp_config {
    uint16_t local_port;            /* our a=sctp-port; 0 = 5000 */
    uint16_t remote_port;           /* the peer's a=sctp-port; 0 = 5000 */
    bool dtls_client;               /* our DTLS role: a client opens even stream ids, a server odd */
    size_t max_message_size;        /* ours (a=max-message-size we advertise); 0 = 256 KiB.
                                     * A larger incoming message closes its channel (see docs). */
    size_t remote_max_message_size; /* the peer's a=max-message-size; 0 = unlimited (RFC 8841).
                                     * A caller whose peer sent no attribute passes 65536. */
    uint16_t max_streams;           /* inbound and outbound streams offered; 0 = 65535 */
    size_t max_buffered;            /* per channel: a send that would take buffered_amount past
                                     * this fails with RTC_EQUOTA; 0 = 16 MiB */
    uint16_t mtu;                   /* largest SCTP packet we send; 0 = 1200 (fits DTLS+UDP+IPv6 in 1280) */
    rtc_pool *pool;                 /* borrowed, must outlive the association: where outgoing
                                     * packets come from (a loop's shared pool keeps idle
                                     * associations from each holding spare buffers);
                                     * NULL = a pool of its own */
} rtc_sctp_config;

typedef enum rtc_sctp_event_type {
    RTC_SCTP_EV_CONNECTED = 1,      /* association up; channels created before open now */
    RTC_SCTP_EV_CLOSED,             /* association gone; `err` says why (0: clean shutdown).
                                     * Every channel got its CHANNEL_CLOSE before this. */
    RTC_SCTP_EV_CHANNEL_OPEN,       /* a channel we created is open (`sid`, `label`, `protocol`) */
    RTC_SCTP_EV_DATACHANNEL,        /* the peer opened channel `sid`; it is open */
    RTC_SCTP_EV_MESSAGE,            /* `sid`, `binary`, `buf` */
    RTC_SCTP_EV_BUFFERED_AMOUNT_LOW,/* channel `sid` fell to or below its threshold */
    RTC_SCTP_EV_CHANNEL_CLOSING,    /* the peer started closing `sid` */
    RTC_SCTP_EV_CHANNEL_CLOSE,      /* `sid` is closed (`err` 0 or why); the id is free again */
} rtc_sctp_event_type;

typedef struct rtc_sctp_event {
    rtc_sctp_event_type type;
    uint16_t sid;                   /* stream id = channel id */
    bool binary;                    /* MESSAGE: binary (PPID 53/57) or string (51/56) */
    int err;                        /* CLOSED / CHANNEL_CLOSE: 0 or a negative RTC_E* */
    rtc_buf *buf;                   /* MESSAGE: the whole message (len may be 0);
                                     * ownership passes to the caller (rtc_buf_unref) */
    const char *label, *protocol;   /* CHANNEL_OPEN / DATACHANNEL: NUL-terminated, borrowed:
                                     * valid until the next poll_event call */
} rtc_sctp_event;

typedef struct rtc_sctp_stats {
    uint64_t packets_in, packets_out, bytes_in, bytes_out;
    uint64_t malformed_packets;     /* too short to be SCTP: dropped before usrsctp */
    uint64_t dcep_malformed;        /* DCEP messages that failed to parse or arrived out of place */
    uint64_t dcep_refused;          /* peer OPENs refused (label or protocol too long): stream reset */
    uint64_t unknown_stream;        /* user messages on a stream with no open channel: dropped */
    uint64_t bad_ppid;              /* user messages with a PPID we do not know: dropped */
    uint64_t oversized;             /* incoming messages over max_message_size: dropped, channel closed */
    uint64_t partial_aborted;       /* partial deliveries aborted by usrsctp (PR-SCTP) */
    uint64_t bad_checksum;          /* packets whose CRC32c is wrong: dropped before usrsctp */
    uint32_t channels;              /* channels currently in the table */
    size_t reassembly_bytes;        /* held for messages still arriving in pieces: the
                                     * deprecated partial PPIDs of all channels together
                                     * (at most max_message_size) plus the buffer for a
                                     * message usrsctp hands over in pieces (at most
                                     * max_message_size) */
} rtc_sctp_stats;

/* After any call that takes `now`: the next association (other than the one called)
 * that usrsctp's shared timers gave packets to. The caller runs
 * rtc_sctp_assoc_handle_timeout(*out, now) on it and drains it, until this returns
 * false. Borrowed pointer; never an association already freed. */
bool rtc_sctp_poll_woken(rtc_sctp_assoc **out);

/* One-time process-global usrsctp setup (also done by the first rtc_sctp_assoc_new).
 * Returns 0 or RTC_ESCTP. */
int rtc_sctp_global_init(void);
/* Describe the usrsctp settings in force, one "name=value" per line, into `out`
 * (caller-owned, `cap` bytes, NUL-terminated). Returns the length it needed. */
size_t rtc_sctp_settings_describe(char *out, size_t cap);
/* Release usrsctp's global state when no association is left (tests, process exit).
 * Returns 0, or RTC_ESTATE if associations are still alive. A later new() re-inits. */
int rtc_sctp_global_shutdown(void);

/* Create an association and start connecting (both sides connect, as browsers do:
 * SCTP handles the simultaneous open). `cfg` is copied. On success *out is the new
 * association (caller frees with rtc_sctp_assoc_free) and the INIT is ready in
 * poll_transmit. */
int rtc_sctp_assoc_new(rtc_sctp_assoc **out, const rtc_sctp_config *cfg, rtc_time now);
/* End the association now and tell the peer: an ABORT ("user initiated", which the
 * peer takes as a clean close, as after a SHUTDOWN) is queued for poll_transmit, every
 * channel gets its CHANNEL_CLOSE (RTC_ECLOSED) and EV_CLOSED (err 0) follows. The caller drains as usual and
 * sends the ABORT before it frees. Nothing more is received. Idempotent; returns 0. */
int rtc_sctp_assoc_abort(rtc_sctp_assoc *a, rtc_time now);
/* Free, NULL-safe. Undrained transmits and events are released: an association freed
 * while up says nothing to the peer (call rtc_sctp_assoc_abort and drain first). */
void rtc_sctp_assoc_free(rtc_sctp_assoc *a);

/* One SCTP packet (a DTLS application-data record). `data` is borrowed for the call.
 * Returns 0, or RTC_ETRUNC for a packet too short to be SCTP (counted, dropped),
 * RTC_ECLOSED once the association is gone. A packet with a wrong checksum is dropped
 * and counted (bad_checksum) with 0, as usrsctp drops any other packet it rejects. */
int rtc_sctp_assoc_handle_packet(rtc_sctp_assoc *a, const uint8_t *data, size_t len, rtc_time now);
int rtc_sctp_assoc_handle_timeout(rtc_sctp_assoc *a, rtc_time now);
/* Next SCTP packet to send as DTLS application data; ownership of *out passes to the
 * caller (rtc_buf_unref when done). Returns false when none is queued. */
bool rtc_sctp_assoc_poll_transmit(rtc_sctp_assoc *a, rtc_buf **out);
/* Next event; see rtc_sctp_event for who owns what. Returns false when none. */
bool rtc_sctp_assoc_poll_event(rtc_sctp_assoc *a, rtc_sctp_event *ev);
rtc_time rtc_sctp_assoc_poll_timeout(rtc_sctp_assoc *a);

/* Graceful SHUTDOWN: channels close with RTC_ECLOSED, then EV_CLOSED with err 0. */
int rtc_sctp_assoc_close(rtc_sctp_assoc *a, rtc_time now);
bool rtc_sctp_assoc_is_connected(const rtc_sctp_assoc *a);
/* Largest message we may send: the peer's max-message-size capped by our send buffer. */
size_t rtc_sctp_assoc_max_send_size(const rtc_sctp_assoc *a);
void rtc_sctp_assoc_get_stats(const rtc_sctp_assoc *a, rtc_sctp_stats *out);

#endif
