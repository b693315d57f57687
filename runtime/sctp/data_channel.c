/* Data channels on an association: the sid table, DCEP open/ack, message framing by
 * PPID, our send queues and buffered_amount accounting, and close by stream reset
 * (RFC 8831 §6.7). */
#include "sctp_internal.h"
#include "dcep.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#define DC__CHUNK_PAYLOAD 1100   /* rough DATA chunk payload, for overhead estimates only */
#define DC__CHUNK_OVERHEAD 16

/* {====== table ======} */

static dc *chan_get(const rtc_sctp_assoc *a, uint32_t sid)
{
    return sid < a->chans_cap ? a->chans[sid] : NULL;
}

static int chan_put(rtc_sctp_assoc *a, dc *c)
{
    if (c->sid >= a->chans_cap) {
        uint32_t cap = a->chans_cap ? a->chans_cap : 16;
        while (cap <= c->sid) cap *= 2;
        if (cap > 65536) cap = 65536;
        dc **n = realloc(a->chans, cap * sizeof *n);
        if (!n) return RTC_ENOMEM;
        memset(n + a->chans_cap, 0, (cap - a->chans_cap) * sizeof *n);
        a->chans = n;
        a->chans_cap = cap;
    }
    a->chans[c->sid] = c;
    a->nchans++;
    return 0;
}

static size_t buffered(const dc *c)
{
    return c->q_bytes + c->sctp_user;
}

static void send_list_add(rtc_sctp_assoc *a, dc *c)
{
    if (c->in_send_list) return;
    c->in_send_list = true;
    if (!a->send_list) {
        c->send_next = c->send_prev = c;
        a->send_list = c;
        return;
    }
    dc *h = a->send_list;               /* insert at the tail of the ring */
    c->send_next = h;
    c->send_prev = h->send_prev;
    h->send_prev->send_next = c;
    h->send_prev = c;
}

static void send_list_remove(rtc_sctp_assoc *a, dc *c)
{
    if (!c->in_send_list) return;
    c->in_send_list = false;
    if (c->send_next == c) {
        a->send_list = NULL;
    } else {
        c->send_prev->send_next = c->send_next;
        c->send_next->send_prev = c->send_prev;
        if (a->send_list == c) a->send_list = c->send_next;
    }
    c->send_next = c->send_prev = NULL;
}

static void acct_add(rtc_sctp_assoc *a, dc *c, size_t user, size_t cost)
{
    c->sctp_user += user;
    c->sctp_cost += cost;
    a->acct_cost += cost;
    if (c->in_acct_list) return;
    c->in_acct_list = true;
    c->acct_prev = NULL;
    c->acct_next = a->acct_list;
    if (a->acct_list) a->acct_list->acct_prev = c;
    a->acct_list = c;
}

static void acct_remove(rtc_sctp_assoc *a, dc *c)
{
    if (!c->in_acct_list) return;
    a->acct_cost -= c->sctp_cost;
    c->sctp_cost = c->sctp_user = 0;
    c->in_acct_list = false;
    if (c->acct_prev) c->acct_prev->acct_next = c->acct_next; else a->acct_list = c->acct_next;
    if (c->acct_next) c->acct_next->acct_prev = c->acct_prev;
    c->acct_next = c->acct_prev = NULL;
}

static void queue_clear(dc *c)
{
    while (c->q_head) {
        dc_msg *m = c->q_head;
        c->q_head = m->next;
        free(m);
    }
    c->q_tail = NULL;
    c->q_bytes = 0;
}

void dc__free(dc *c)
{
    if (!c) return;
    queue_clear(c);
    free(c->label);
    free(c->part);
    free(c);
}

static void part_drop(rtc_sctp_assoc *a, dc *c)
{
    a->part_bytes -= c->part_len;
    free(c->part);
    c->part = NULL;
    c->part_len = 0;
}

static void set_state(rtc_sctp_assoc *a, dc *c, rtc_dc_state s)
{
    if (c->state == RTC_DC_CLOSING && a->nclosing) a->nclosing--;
    if (s == RTC_DC_CLOSING) a->nclosing++;
    c->state = s;
}

/* Unlink a channel and announce its end; it is freed once the CLOSE event is polled. */
static void finish(rtc_sctp_assoc *a, dc *c, int err)
{
    set_state(a, c, RTC_DC_CLOSED);
    send_list_remove(a, c);
    acct_remove(a, c);
    queue_clear(c);
    part_drop(a, c);
    if (chan_get(a, c->sid) == c) {
        a->chans[c->sid] = NULL;
        a->nchans--;
    }
    rtc_debug("sctp", "channel %u closed%s%s", c->sid, err ? ": " : "", err ? rtc_err_name(err) : "");
    sctp__push_event(a, &(rtc_sctp_event){ .type = RTC_SCTP_EV_CHANNEL_CLOSE, .sid = c->sid, .err = err }, c);
}

static void maybe_finish(rtc_sctp_assoc *a, dc *c)
{
    if (c->reset_out_done && c->reset_in_done) finish(a, c, c->close_err);
}

static void check_low(rtc_sctp_assoc *a, dc *c)
{
    if (c->above_low && buffered(c) <= c->threshold && c->state != RTC_DC_CLOSED) {
        c->above_low = false;
        sctp__push_event(a, &(rtc_sctp_event){ .type = RTC_SCTP_EV_BUFFERED_AMOUNT_LOW, .sid = c->sid }, NULL);
    }
}

static dc *chan_alloc(uint16_t sid, const char *label, size_t llen, const char *proto, size_t plen)
{
    dc *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->label = malloc(llen + plen + 2);
    if (!c->label) {
        free(c);
        return NULL;
    }
    if (llen) memcpy(c->label, label, llen);
    c->label[llen] = 0;
    c->protocol = c->label + llen + 1;
    if (plen) memcpy(c->protocol, proto, plen);
    c->protocol[plen] = 0;
    c->sid = sid;
    c->max_rtx = c->max_life = -1;
    c->priority = 256;
    return c;
}

/* {====== sending ======} */

static size_t cost_of(size_t len)
{
    size_t chunks = len ? (len + DC__CHUNK_PAYLOAD - 1) / DC__CHUNK_PAYLOAD : 1;
    return len + chunks * DC__CHUNK_OVERHEAD;
}

/* Bytes a message adds to buffered_amount: the stand-in byte of an empty message and
 * DCEP messages are not user data. */
static size_t user_bytes(uint32_t ppid, bool control, size_t len)
{
    return control || ppid == RTC_PPID_STRING_EMPTY || ppid == RTC_PPID_BINARY_EMPTY ? 0 : len;
}

static int try_send(rtc_sctp_assoc *a, dc *c, uint32_t ppid, bool control, const uint8_t *data, size_t len)
{
    /* Until the peer's ACK, user data goes ordered so it cannot overtake the OPEN. */
    bool unordered = !control && c->unordered && (c->ack_received || c->negotiated);
    int r = sctp__sendv(a, c->sid, ppid, unordered, control ? -1 : c->max_rtx, control ? -1 : c->max_life, data, len);
    if (r == 0) acct_add(a, c, user_bytes(ppid, control, len), cost_of(len));
    return r;
}

static int enqueue(rtc_sctp_assoc *a, dc *c, uint32_t ppid, bool control, const uint8_t *data, size_t len)
{
    dc_msg *m = malloc(sizeof *m + len);
    if (!m) return RTC_ENOMEM;
    m->next = NULL;
    m->ppid = ppid;
    m->control = control;
    m->len = len;
    if (len) memcpy(m->data, data, len);
    if (c->q_tail) c->q_tail->next = m; else c->q_head = m;
    c->q_tail = m;
    c->q_bytes += user_bytes(ppid, control, len);
    send_list_add(a, c);
    return 0;
}

/* Straight to usrsctp when nothing of this channel waits ahead of it, else queue. */
static int send_or_queue(rtc_sctp_assoc *a, dc *c, uint32_t ppid, bool control, const uint8_t *data, size_t len)
{
    if (!c->q_head && a->state == SCTP__CONNECTED) {
        int r = try_send(a, c, ppid, control, data, len);
        if (r != RTC_EAGAIN) return r;
    }
    return enqueue(a, c, ppid, control, data, len);
}

static void issue_reset(rtc_sctp_assoc *a, dc *c)
{
    if (c->reset_out_sent || c->q_head) return;
    c->reset_out_sent = true;
    if (sctp__reset_outgoing(a, c->sid) < 0) {
        /* The peer cannot take a reset: nothing more will come back, so close here. */
        c->reset_out_done = c->reset_in_done = true;
        maybe_finish(a, c);
    }
}

/* Spread the bytes usrsctp has released over the channels that had bytes in it, in
 * equal shares (usrsctp serves streams round robin). */
static void reconcile(rtc_sctp_assoc *a)
{
    if (!a->acct_list) return;
    size_t held = sctp__usrsctp_queued(a);
    if (held >= a->acct_cost) return;
    size_t excess = a->acct_cost - held;
    dc *touched[64];
    size_t ntouched = 0;
    while (excess && a->acct_list) {
        size_t active = 0;
        for (dc *c = a->acct_list; c; c = c->acct_next) active++;
        size_t share = excess / active ? excess / active : 1;
        for (dc *c = a->acct_list, *next; c && excess; c = next) {
            next = c->acct_next;
            size_t d = share < c->sctp_cost ? share : c->sctp_cost;
            if (d > excess) d = excess;
            size_t user_d = c->sctp_cost ? (size_t)((double)c->sctp_user * d / c->sctp_cost) : 0;
            c->sctp_cost -= d;
            c->sctp_user -= user_d < c->sctp_user ? user_d : c->sctp_user;
            a->acct_cost -= d;
            excess -= d;
            if (ntouched < 64) touched[ntouched++] = c;
            if (!c->sctp_cost) {
                acct_remove(a, c);
                check_low(a, c);
            }
        }
    }
    for (size_t i = 0; i < ntouched; i++)
        if (touched[i]->in_acct_list) check_low(a, touched[i]);
}

void dc__flush(rtc_sctp_assoc *a)
{
    if (a->flushing || a->state != SCTP__CONNECTED) {
        reconcile(a);
        return;
    }
    a->flushing = true;
    while (a->send_list && a->state == SCTP__CONNECTED) {
        dc *c = a->send_list;
        dc_msg *m = c->q_head;
        int r = try_send(a, c, m->ppid, m->control, m->data, m->len);
        if (r == RTC_EAGAIN) break;
        if (r < 0) rtc_debug("sctp", "channel %u: queued message dropped: %s", c->sid, rtc_err_name(r));
        c->q_head = m->next;
        if (!c->q_head) c->q_tail = NULL;
        c->q_bytes -= user_bytes(m->ppid, m->control, m->len);
        if (r < 0) check_low(a, c);
        free(m);
        if (!c->q_head) {
            send_list_remove(a, c);
            if (c->close_requested) issue_reset(a, c);
        } else {
            a->send_list = c->send_next;    /* round robin: one message per channel per turn */
        }
    }
    a->flushing = false;
    reconcile(a);
}

bool dc__busy(const rtc_sctp_assoc *a)
{
    return a->send_list || a->acct_list || a->nclosing;
}

/* {====== opening ======} */

static int send_open(rtc_sctp_assoc *a, dc *c)
{
    if (c->negotiated) {
        c->ack_received = true;
    } else {
        rtc_dcep_open o = {
            .channel_type = c->channel_type, .priority = c->priority,
            .reliability = (uint32_t)(c->max_rtx >= 0 ? c->max_rtx : c->max_life >= 0 ? c->max_life : 0),
            .label = rtc_str_c(c->label), .protocol = rtc_str_c(c->protocol),
        };
        size_t n = rtc_dcep_open_size(&o);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf) return RTC_ENOMEM;
        int len = rtc_dcep_build_open(&o, buf, n);
        int r = len < 0 ? len : send_or_queue(a, c, RTC_PPID_DCEP, true, buf, (size_t)len);
        free(buf);
        if (r < 0) return r;
    }
    set_state(a, c, RTC_DC_OPEN);
    sctp__push_event(a, &(rtc_sctp_event){ .type = RTC_SCTP_EV_CHANNEL_OPEN, .sid = c->sid,
                                           .label = c->label, .protocol = c->protocol }, NULL);
    return 0;
}

void dc__on_connected(rtc_sctp_assoc *a)
{
    for (uint32_t i = 0; i < a->chans_cap; i++) {
        dc *c = a->chans[i];
        if (c && c->state == RTC_DC_CONNECTING && send_open(a, c) < 0) finish(a, c, RTC_ESCTP);
    }
}

static uint8_t channel_type_of(const dc *c)
{
    uint8_t t = c->max_rtx >= 0 ? RTC_DCEP_PARTIAL_RELIABLE_REXMIT
              : c->max_life >= 0 ? RTC_DCEP_PARTIAL_RELIABLE_TIMED : RTC_DCEP_RELIABLE;
    return c->unordered ? (uint8_t)(t | RTC_DCEP_UNORDERED_BIT) : t;
}

int rtc_data_channel_create(rtc_sctp_assoc *a, const rtc_data_channel_init *init, rtc_time now)
{
    SCTP__LOCKED;
    sctp__advance(a, now);
    if (!init || (init->has_max_retransmits && init->has_max_packet_life_time)) return RTC_EINVAL;
    if (a->state == SCTP__CLOSED || a->state == SCTP__SHUTTING_DOWN) return RTC_ECLOSED;
    const char *label = init->label ? init->label : "", *proto = init->protocol ? init->protocol : "";
    size_t llen = strlen(label), plen = strlen(proto);
    if (llen > RTC_DC_MAX_LABEL || plen > RTC_DC_MAX_PROTOCOL) return RTC_EINVAL;
    uint32_t limit = a->cfg.max_streams;
    if (a->state == SCTP__CONNECTED && a->out_streams && a->out_streams < limit) limit = a->out_streams;
    uint32_t sid;
    if (init->negotiated) {
        sid = init->id;
        if (sid >= limit || sid == 65535) return RTC_EINVAL;
        if (chan_get(a, sid)) return RTC_EEXISTS;
    } else {
        /* Our parity only (RFC 8832 §6): ids are picked upward from the last one. */
        uint32_t tries = limit / 2 + 1;
        sid = a->next_id;
        while (tries && (sid >= limit || chan_get(a, sid))) {
            sid = sid + 2 >= limit ? (a->cfg.dtls_client ? 0u : 1u) : sid + 2;
            tries--;
        }
        if (!tries || sid >= limit) return RTC_EQUOTA;
        a->next_id = sid + 2;
    }
    dc *c = chan_alloc((uint16_t)sid, label, llen, proto, plen);
    if (!c) return RTC_ENOMEM;
    c->unordered = init->unordered;
    c->negotiated = init->negotiated;
    if (init->has_max_retransmits) c->max_rtx = init->max_retransmits;
    if (init->has_max_packet_life_time) c->max_life = init->max_packet_life_time;
    if (init->priority) c->priority = init->priority;
    c->channel_type = channel_type_of(c);
    c->threshold = 0;
    if (chan_put(a, c) < 0) {
        dc__free(c);
        return RTC_ENOMEM;
    }
    if (a->state == SCTP__CONNECTED) {
        int r = send_open(a, c);
        if (r < 0) {
            a->chans[sid] = NULL;
            a->nchans--;
            dc__free(c);
            return r;
        }
    }
    return (int)sid;
}

static void on_dcep(rtc_sctp_assoc *a, uint16_t sid, const uint8_t *data, size_t len)
{
    rtc_dcep_msg m;
    int t = rtc_dcep_parse(data, len, &m);
    dc *c = chan_get(a, sid);
    if (t == RTC_DCEP_ACK) {
        if (!c || c->negotiated || c->remote_created || c->ack_received) {
            a->stats.dcep_malformed++;
            return;
        }
        c->ack_received = true;
        return;
    }
    if (t != RTC_DCEP_OPEN) {
        a->stats.dcep_malformed++;
        return;
    }
    /* The opener's parity is the peer's: the odd ids when we are the DTLS client. */
    bool peer_parity = (sid & 1) == (a->cfg.dtls_client ? 1 : 0);
    if (c || !peer_parity) {
        a->stats.dcep_malformed++;
        return;
    }
    if (m.open.label.len > RTC_DC_MAX_LABEL || m.open.protocol.len > RTC_DC_MAX_PROTOCOL) {
        /* Refused without keeping anything: no ACK, and the reset of our side of the
         * stream tells the peer (RFC 8831 §6.7) to close its channel. */
        a->stats.dcep_refused++;
        rtc_debug("sctp", "channel %u refused: label of %zu or protocol of %zu bytes", sid,
                  m.open.label.len, m.open.protocol.len);
        sctp__reset_outgoing(a, sid);
        return;
    }
    c = chan_alloc(sid, m.open.label.p, m.open.label.len, m.open.protocol.p, m.open.protocol.len);
    if (!c) return;
    c->remote_created = true;
    c->ack_received = true;
    c->channel_type = m.open.channel_type;
    c->unordered = rtc_dcep_is_unordered(m.open.channel_type);
    c->priority = m.open.priority;
    uint8_t kind = m.open.channel_type & 0x7f;
    /* Keep the value in the range the W3C attributes (unsigned short) can carry. */
    uint32_t rel = m.open.reliability > 65535 ? 65535 : m.open.reliability;
    if (kind == RTC_DCEP_PARTIAL_RELIABLE_REXMIT) c->max_rtx = (int)rel;
    if (kind == RTC_DCEP_PARTIAL_RELIABLE_TIMED) c->max_life = (int)rel;
    if (chan_put(a, c) < 0) {
        dc__free(c);
        return;
    }
    set_state(a, c, RTC_DC_OPEN);
    uint8_t ack[1];
    rtc_dcep_build_ack(ack, sizeof ack);
    if (send_or_queue(a, c, RTC_PPID_DCEP, true, ack, 1) < 0) {
        finish(a, c, RTC_ESCTP);
        return;
    }
    rtc_debug("sctp", "channel %u opened by the peer (\"%s\")", sid, c->label);
    sctp__push_event(a, &(rtc_sctp_event){ .type = RTC_SCTP_EV_DATACHANNEL, .sid = sid,
                                           .label = c->label, .protocol = c->protocol }, NULL);
}

/* {====== receiving ======} */

static void deliver(rtc_sctp_assoc *a, dc *c, bool binary, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2)
{
    rtc_buf *b = rtc_buf_alloc(NULL, n1 + n2);
    if (!b) return;
    if (n1) memcpy(b->data, p1, n1);
    if (n2) memcpy(b->data + n1, p2, n2);
    b->len = n1 + n2;
    c->msgs_recv++;
    c->bytes_recv += b->len;
    sctp__push_event(a, &(rtc_sctp_event){ .type = RTC_SCTP_EV_MESSAGE, .sid = c->sid, .binary = binary, .buf = b }, NULL);
}

void dc__on_message(rtc_sctp_assoc *a, uint16_t sid, uint32_t ppid, const uint8_t *data, size_t len)
{
    if (ppid == RTC_PPID_DCEP) {
        on_dcep(a, sid, data, len);
        return;
    }
    dc *c = chan_get(a, sid);
    if (!c || c->state == RTC_DC_CONNECTING || c->state == RTC_DC_CLOSED || c->reset_in_done) {
        a->stats.unknown_stream++;
        return;
    }
    switch (ppid) {
    case RTC_PPID_STRING:
    case RTC_PPID_BINARY:
        /* The final piece of a partial message counts towards the whole. */
        if (len > a->cfg.max_message_size - c->part_len) {
            part_drop(a, c);
            a->stats.oversized++;
            dc__on_oversized(a, sid);
            return;
        }
        deliver(a, c, ppid == RTC_PPID_BINARY, c->part, c->part_len, data, len);
        part_drop(a, c);
        break;
    case RTC_PPID_STRING_EMPTY:
    case RTC_PPID_BINARY_EMPTY:
        deliver(a, c, ppid == RTC_PPID_BINARY_EMPTY, NULL, 0, NULL, 0);
        break;
    case RTC_PPID_STRING_PARTIAL:
    case RTC_PPID_BINARY_PARTIAL: {
        /* Deprecated fragments: collected until the final piece. The message is bounded
         * like any other, and so are the fragments of all channels together (one
         * max_message_size per association), so many channels cannot each hold one. */
        if (len > a->cfg.max_message_size - c->part_len || len > a->cfg.max_message_size - a->part_bytes) {
            part_drop(a, c);
            a->stats.oversized++;
            dc__on_oversized(a, sid);
            return;
        }
        uint8_t *n = realloc(c->part, c->part_len + len);
        if (!n) return;
        c->part = n;
        memcpy(c->part + c->part_len, data, len);
        c->part_len += len;
        a->part_bytes += len;
        break;
    }
    default:
        a->stats.bad_ppid++;
        break;
    }
}

/* {====== closing ======} */

static void start_close(rtc_sctp_assoc *a, dc *c, int err)
{
    if (c->state == RTC_DC_CLOSING || c->state == RTC_DC_CLOSED) return;
    if (!c->close_err) c->close_err = err;
    if (c->state == RTC_DC_CONNECTING || a->state != SCTP__CONNECTED) {
        finish(a, c, c->close_err);
        return;
    }
    set_state(a, c, RTC_DC_CLOSING);
    c->close_requested = true;
    issue_reset(a, c);
}

void dc__on_oversized(rtc_sctp_assoc *a, uint16_t sid)
{
    dc *c = chan_get(a, sid);
    rtc_debug("sctp", "message on stream %u over max-message-size %zu: closing the channel", sid, a->cfg.max_message_size);
    if (c) start_close(a, c, RTC_ETOOBIG);
}

void dc__on_stream_reset(rtc_sctp_assoc *a, uint16_t flags, const uint16_t *sids, size_t n)
{
    bool failed = (flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) != 0;
    for (size_t i = 0; i < n; i++) {
        dc *c = chan_get(a, sids[i]);
        if (!c) continue;
        if (flags & SCTP_STREAM_RESET_INCOMING_SSN) {
            c->reset_in_done = true;
            if (c->state == RTC_DC_OPEN) {
                /* The peer closed: answer with our own reset at once; what we still had
                 * queued would have nowhere to go. */
                set_state(a, c, RTC_DC_CLOSING);
                sctp__push_event(a, &(rtc_sctp_event){ .type = RTC_SCTP_EV_CHANNEL_CLOSING, .sid = c->sid }, NULL);
                send_list_remove(a, c);
                queue_clear(c);
                c->close_requested = true;
                issue_reset(a, c);
            }
        }
        if ((flags & SCTP_STREAM_RESET_OUTGOING_SSN) || (failed && c->reset_out_sent)) {
            if (failed) rtc_debug("sctp", "reset of stream %u refused by the peer", c->sid);
            c->reset_out_done = true;
        }
        if (chan_get(a, sids[i]) == c) maybe_finish(a, c);
    }
}

void dc__on_assoc_closed(rtc_sctp_assoc *a, int err)
{
    for (uint32_t i = 0; i < a->chans_cap; i++)
        if (a->chans[i]) finish(a, a->chans[i], err);
}

void dc__free_all(rtc_sctp_assoc *a)
{
    for (uint32_t i = 0; i < a->chans_cap; i++) dc__free(a->chans[i]);
    free(a->chans);
    a->chans = NULL;
    a->chans_cap = a->nchans = 0;
    a->send_list = a->acct_list = NULL;
}

/* {====== public calls ======} */

int rtc_data_channel_send(rtc_sctp_assoc *a, uint16_t sid, const void *data, size_t len, bool binary, rtc_time now)
{
    SCTP__LOCKED;
    sctp__advance(a, now);
    dc *c = chan_get(a, sid);
    if (!c) return RTC_ENOTFOUND;
    if (c->state != RTC_DC_OPEN || c->close_requested || a->state != SCTP__CONNECTED) return RTC_ESTATE;
    if (len && !data) return RTC_EINVAL;
    if (len > rtc_sctp_assoc_max_send_size(a)) return RTC_ETOOBIG;
    if (buffered(c) + len > a->cfg.max_buffered) return RTC_EQUOTA;
    static const uint8_t zero = 0;
    uint32_t ppid = len ? (binary ? RTC_PPID_BINARY : RTC_PPID_STRING)
                        : (binary ? RTC_PPID_BINARY_EMPTY : RTC_PPID_STRING_EMPTY);
    /* SCTP carries no empty user message: one byte stands in, the PPID says "empty". */
    int r = send_or_queue(a, c, ppid, false, len ? data : &zero, len ? len : 1);
    if (r < 0) return r;
    c->msgs_sent++;
    c->bytes_sent += len;
    if (buffered(c) > c->threshold) c->above_low = true;
    return 0;
}

int rtc_data_channel_close(rtc_sctp_assoc *a, uint16_t sid, rtc_time now)
{
    SCTP__LOCKED;
    sctp__advance(a, now);
    dc *c = chan_get(a, sid);
    if (!c) return RTC_ENOTFOUND;
    start_close(a, c, 0);
    return 0;
}

int rtc_data_channel_get_info(const rtc_sctp_assoc *a, uint16_t sid, rtc_data_channel_info *out)
{
    SCTP__LOCKED;
    const dc *c = chan_get(a, sid);
    if (!c) return RTC_ENOTFOUND;
    *out = (rtc_data_channel_info){
        .state = c->state, .id = c->sid, .label = c->label, .protocol = c->protocol,
        .unordered = c->unordered, .negotiated = c->negotiated,
        .max_retransmits = c->max_rtx, .max_packet_life_time = c->max_life, .priority = c->priority,
        .buffered_amount = buffered(c), .buffered_amount_low_threshold = c->threshold,
        .messages_sent = c->msgs_sent, .bytes_sent = c->bytes_sent,
        .messages_received = c->msgs_recv, .bytes_received = c->bytes_recv,
    };
    return 0;
}

size_t rtc_data_channel_buffered_amount(const rtc_sctp_assoc *a, uint16_t sid)
{
    SCTP__LOCKED;
    const dc *c = chan_get(a, sid);
    return c ? buffered(c) : 0;
}

int rtc_data_channel_set_buffered_amount_low_threshold(rtc_sctp_assoc *a, uint16_t sid, size_t threshold)
{
    SCTP__LOCKED;
    dc *c = chan_get(a, sid);
    if (!c) return RTC_ENOTFOUND;
    c->threshold = threshold;
    if (buffered(c) > threshold) c->above_low = true;
    return 0;
}
