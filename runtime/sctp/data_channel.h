/* WebRTC data channels (RFC 8831) on an rtc_sctp_assoc, opened in-band with DCEP
 * (RFC 8832) or pre-negotiated. A channel is named by its SCTP stream id (`sid`), which
 * is also the W3C `id`. Channels have no handle of their own: every call names the
 * association and the sid, so a stale id gives RTC_ENOTFOUND instead of a dangling
 * pointer.
 *
 * Contract: these calls take `now` and may queue packets and events on the
 * association; the caller drains the association afterwards as described in
 * sctp_assoc.h.
 *
 * Flow control: rtc_data_channel_send() hands a message to usrsctp while its send
 * buffer has room and otherwise queues a copy in this layer, flushed as SACKs free
 * space. buffered_amount is the bytes queued here plus this channel's share of the
 * bytes usrsctp holds unacknowledged: the association total is exact; with several
 * busy channels the split between them is estimated (round-robin), and it is exact
 * when usrsctp is drained. A sender that writes only while buffered_amount is below a
 * threshold, and resumes on RTC_SCTP_EV_BUFFERED_AMOUNT_LOW, pushes any amount of data
 * with memory bounded by that threshold plus usrsctp's send buffer. */
#ifndef RTC_DATA_CHANNEL_H
#define RTC_DATA_CHANNEL_H
#include "sctp_assoc.h"

typedef enum rtc_dc_state {
    RTC_DC_CONNECTING = 0,          /* created before the association is up */
    RTC_DC_OPEN,
    RTC_DC_CLOSING,                 /* our reset is in flight, or the peer's is being answered */
    RTC_DC_CLOSED,
} rtc_dc_state;

/* Longest label and protocol, in bytes, each. DCEP carries up to 65535 of each, and
 * Chromium accepts that much, but an association keeps both for every open channel
 * (up to max_streams of them), so we keep the per-channel cost small: a local channel
 * with a longer one is refused (RTC_EINVAL), and a peer's DATA_CHANNEL_OPEN with one is
 * answered with a stream reset (the peer sees its channel close) and counted
 * (dcep_refused). */
#define RTC_DC_MAX_LABEL 1024
#define RTC_DC_MAX_PROTOCOL 1024

typedef struct rtc_data_channel_init {
    const char *label;              /* copied; NULL = "" */
    const char *protocol;           /* copied; NULL = "" */
    bool unordered;                 /* W3C ordered = false */
    bool has_max_retransmits;       /* partial reliability by retransmissions (SCTP_PR_SCTP_RTX) */
    uint16_t max_retransmits;
    bool has_max_packet_life_time;  /* partial reliability by lifetime in ms (SCTP_PR_SCTP_TTL) */
    uint16_t max_packet_life_time;
    uint16_t priority;              /* DCEP priority field (RFC 8832), 0 = default 256 */
    bool negotiated;                /* agreed out of band: no DCEP, both sides create it with `id` */
    uint16_t id;                    /* with negotiated: the stream id (0..65534) */
} rtc_data_channel_init;

typedef struct rtc_data_channel_info {
    rtc_dc_state state;
    uint16_t id;
    const char *label, *protocol;   /* borrowed: valid until the channel is closed and its CLOSE event polled */
    bool unordered, negotiated;
    int max_retransmits;            /* -1 when not set */
    int max_packet_life_time;       /* -1 when not set */
    uint16_t priority;
    size_t buffered_amount;
    size_t buffered_amount_low_threshold;
    uint64_t messages_sent, bytes_sent, messages_received, bytes_received;
} rtc_data_channel_info;

/* Create a channel. `init` is borrowed for the call (strings copied). A non-negotiated
 * channel gets the next free id of our parity (even for the DTLS client, odd for the
 * server). If the association is up the DATA_CHANNEL_OPEN goes out now, else when it
 * comes up; RTC_SCTP_EV_CHANNEL_OPEN follows once the OPEN is handed to SCTP (the
 * sender may send before the ACK; it sends ordered until then, RFC 8832 §6).
 * Returns the sid (>= 0), or RTC_EINVAL (both reliability limits, id out of range,
 * label or protocol over RTC_DC_MAX_LABEL / RTC_DC_MAX_PROTOCOL),
 * RTC_EEXISTS (id in use), RTC_EQUOTA (no free id), RTC_ECLOSED. */
int rtc_data_channel_create(rtc_sctp_assoc *a, const rtc_data_channel_init *init, rtc_time now);

/* Send one message; `data` is copied (or handed to usrsctp at once). len 0 is allowed
 * (sent as PPID 56/57). Returns 0, RTC_ENOTFOUND, RTC_ESTATE (not open), RTC_ETOOBIG
 * (over rtc_sctp_assoc_max_send_size), RTC_EQUOTA (over max_buffered), RTC_ESCTP. */
int rtc_data_channel_send(rtc_sctp_assoc *a, uint16_t sid, const void *data, size_t len,
                          bool binary, rtc_time now);

/* Close: data already queued is sent first, then the outgoing stream is reset; the
 * peer resets its side and both get RTC_SCTP_EV_CHANNEL_CLOSE. Idempotent. */
int rtc_data_channel_close(rtc_sctp_assoc *a, uint16_t sid, rtc_time now);

int rtc_data_channel_get_info(const rtc_sctp_assoc *a, uint16_t sid, rtc_data_channel_info *out);
/* Bytes queued and not yet acknowledged; 0 for an unknown sid. */
size_t rtc_data_channel_buffered_amount(const rtc_sctp_assoc *a, uint16_t sid);
int rtc_data_channel_set_buffered_amount_low_threshold(rtc_sctp_assoc *a, uint16_t sid, size_t threshold);

#endif
