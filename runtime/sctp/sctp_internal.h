/* Internal to runtime/sctp/: the association and channel structs shared by
 * sctp_glue.c (usrsctp process state), sctp_assoc.c (socket, packets, notifications)
 * and data_channel.c (channels, DCEP, send queues, stream resets). Not a public header. */
#ifndef RTC_SCTP_INTERNAL_H
#define RTC_SCTP_INTERNAL_H
#include "data_channel.h"
#include "sctp_assoc.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct socket;

#define SCTP__TICK RTC_MS(10)       /* timer granularity while busy */
#define SCTP__IDLE_TICK RTC_SEC(1)  /* while idle */
#define SCTP__BUSY_AFTER RTC_SEC(1) /* keep ticking this long after the last packet (delayed SACKs) */
#define SCTP__SNDBUF_MIN (1024 * 1024)
#define SCTP__RCVBUF (1024 * 1024)
#define SCTP__SCRATCH (64 * 1024)
#define SCTP__MIN_PACKET 16        /* common header (12) + one chunk header (4) */
#define SCTP__CAUSE_USER_ABORT 12  /* RFC 4960 §3.3.10.12 "User-Initiated Abort" */

/* A message waiting in our layer for room in usrsctp's send buffer. */
typedef struct dc_msg {
    struct dc_msg *next;
    uint32_t ppid;
    bool control;                   /* DCEP: always reliable and ordered */
    size_t len;
    uint8_t data[];
} dc_msg;

typedef struct dc {
    uint16_t sid;
    rtc_dc_state state;
    bool negotiated, unordered, remote_created;
    bool open_pending;              /* DCEP OPEN still to be handed to usrsctp */
    bool ack_received;              /* until then we send ordered (RFC 8832 §6) */
    bool close_requested;           /* local close: reset once our queue is empty */
    bool reset_out_sent, reset_out_done, reset_in_done;
    bool above_low;                 /* buffered_amount went above the threshold since the last LOW event */
    uint8_t channel_type;
    uint16_t priority;
    int max_rtx, max_life;          /* -1 when unset */
    int close_err;
    char *label, *protocol;         /* one allocation, both NUL-terminated */
    dc_msg *q_head, *q_tail;        /* our send queue */
    size_t q_bytes;
    size_t sctp_user, sctp_cost;    /* estimated bytes of ours that usrsctp still holds */
    size_t threshold;
    uint8_t *part;                  /* deprecated partial-PPID reassembly */
    size_t part_len;
    uint64_t msgs_sent, bytes_sent, msgs_recv, bytes_recv;
    struct dc *send_next, *send_prev;   /* in a->send_list while q_head != NULL */
    bool in_send_list;
    struct dc *acct_next, *acct_prev;   /* in a->acct_list while sctp_cost > 0 */
    bool in_acct_list;
} dc;

typedef struct sctp_ev {
    rtc_sctp_event ev;
    dc *dead;                       /* freed when this event is polled */
} sctp_ev;

typedef enum { SCTP__CONNECTING, SCTP__CONNECTED, SCTP__SHUTTING_DOWN, SCTP__CLOSED } sctp__state;

struct rtc_sctp_assoc {
    rtc_sctp_config cfg;
    struct socket *so;
    sctp__state state;
    int closed_err;
    rtc_pool *pool;                 /* cfg.pool (borrowed) or our own */
    bool own_pool;
    rtc_bufq out;                   /* SCTP packets for the caller */
    sctp_ev *ev;                    /* event ring */
    size_t ev_head, ev_count, ev_cap;
    dc *last_polled_dead;
    dc **chans;                     /* indexed by sid, grown on demand */
    uint32_t chans_cap, nchans;
    uint32_t next_id;               /* next id of our parity to try */
    dc *send_list;                  /* channels with queued messages, round robin */
    dc *acct_list;                  /* channels with bytes inside usrsctp */
    size_t acct_cost;               /* sum of sctp_cost over acct_list */
    size_t sndbuf;
    uint8_t *rx;                    /* reassembly of a message usrsctp delivers in pieces */
    size_t rx_len, rx_cap;
    bool rx_active, rx_discard;
    size_t part_bytes;              /* sum of part_len over the channels: at most max_message_size */
    uint16_t rx_sid;
    rtc_time last_activity;
    bool flushing;                  /* guards against re-entry from notifications */
    uint32_t nclosing;              /* channels in RTC_DC_CLOSING */
    uint16_t out_streams, in_streams; /* negotiated at COMM_UP */
    rtc_sctp_stats stats;
    struct rtc_sctp_assoc *woken_next; /* in the process-wide woken list */
    bool woken;
    pthread_t owner;                /* the thread that made it: its loop owns a->pool */
};

/* sctp_glue.c: process-global usrsctp state.
 *
 * usrsctp has one stack per process and its timers are process-wide: a timer that
 * fires during a call made by one worker thread (docs/workers.md) may queue packets
 * on an association of another. So every public entry point of runtime/sctp/ holds
 * one process mutex (recursive: entry points call each other) for its whole call,
 * SCTP__LOCKED at its top. Data channels are not the media hot path (RTP/SRTP take
 * no lock); an uncontended lock costs tens of nanoseconds per call. */
void sctp__lock(void);
void sctp__unlock(void);
static inline void sctp__unlock_cleanup(int *unused) { (void)unused; sctp__unlock(); }
#define SCTP__LOCKED int sctp__guard __attribute__((cleanup(sctp__unlock_cleanup), unused)) = (sctp__lock(), 0)

int sctp__global_ref(void);                 /* init on first use; counts live associations */
void sctp__global_unref(void);
int sctp__registry_add(rtc_sctp_assoc *a);
void sctp__registry_remove(rtc_sctp_assoc *a);
/* Feed the elapsed time to usrsctp's timers on behalf of `self` (the association whose
 * call is running): packets that timers queue on any other association mark it woken. */
void sctp__advance(rtc_sctp_assoc *self, rtc_time now);
rtc_time sctp__last_now(void);

/* sctp_crc32c.c: the packet checksum in hardware when the CPU can (then usrsctp is
 * told it is offloaded and skips it both ways). */
bool sctp__crc_init(void);                  /* once, at global init; true when offloaded */
bool sctp__crc_offloaded(void);
void sctp__crc_fill(uint8_t *pkt, size_t len);         /* outgoing: writes the checksum field */
bool sctp__crc_ok(const uint8_t *pkt, size_t len);     /* incoming; always true when not offloaded */

/* sctp_assoc.c */
void sctp__push_event(rtc_sctp_assoc *a, const rtc_sctp_event *ev, dc *dead);
/* Hand one message to usrsctp. Returns 0, RTC_EAGAIN (send buffer full), RTC_ETOOBIG,
 * RTC_ESCTP. */
int sctp__sendv(rtc_sctp_assoc *a, uint16_t sid, uint32_t ppid, bool unordered,
                int max_rtx, int max_life, const void *data, size_t len);
int sctp__reset_outgoing(rtc_sctp_assoc *a, uint16_t sid);
size_t sctp__usrsctp_queued(rtc_sctp_assoc *a);   /* usrsctp's unacknowledged send bytes */

/* data_channel.c */
void dc__on_connected(rtc_sctp_assoc *a);
void dc__on_message(rtc_sctp_assoc *a, uint16_t sid, uint32_t ppid, const uint8_t *data, size_t len);
void dc__on_oversized(rtc_sctp_assoc *a, uint16_t sid);
void dc__on_stream_reset(rtc_sctp_assoc *a, uint16_t flags, const uint16_t *sids, size_t n);
void dc__on_assoc_closed(rtc_sctp_assoc *a, int err);
void dc__flush(rtc_sctp_assoc *a);          /* push queued messages, resets, accounting */
bool dc__busy(const rtc_sctp_assoc *a);     /* anything queued, unacknowledged or closing */
void dc__free_all(rtc_sctp_assoc *a);
void dc__free(dc *c);

#endif
