/* Data channels of a peer connection: stable handles over SCTP stream ids, which are
 * only known once the DTLS role is (RFC 8832 parity) and the association is up. */
#include "pc/pc_internal.h"
#include "core/rtc_errors.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int slot_of(int h) { return h & (PC_CHAN_MAX_SLOTS - 1); }
static int handle_of(rtc_pc *pc, int slot) { return (pc->chans[slot].gen << PC_CHAN_SLOT_BITS) | slot; }

static pc_chan *chan_get(rtc_pc *pc, int h)
{
    if (h < 0) return NULL;
    int slot = slot_of(h);
    if (slot >= pc->nchans) return NULL;
    pc_chan *c = &pc->chans[slot];
    return c->used && c->gen == (h >> PC_CHAN_SLOT_BITS) ? c : NULL;
}

/* O(1) by stream id: every message is routed through here. */
static int chan_by_sid(rtc_pc *pc, int sid)
{
    if (sid < 0 || sid >= pc->cap_sid || !pc->chan_of_sid[sid]) return -1;
    int slot = pc->chan_of_sid[sid] - 1;
    return pc->chans[slot].state != CH_CLOSED ? handle_of(pc, slot) : -1;
}

static int sid_bind(rtc_pc *pc, int h, int sid)
{
    if (sid < 0 || sid > 65535) return RTC_EINVAL;
    if (sid >= pc->cap_sid) {
        int cap = pc->cap_sid ? pc->cap_sid : 16;
        while (cap <= sid) cap *= 2;
        if (cap > 65536) cap = 65536;
        int *n = realloc(pc->chan_of_sid, (size_t)cap * sizeof *n);
        if (!n) return RTC_ENOMEM;
        memset(n + pc->cap_sid, 0, (size_t)(cap - pc->cap_sid) * sizeof *n);
        pc->chan_of_sid = n;
        pc->cap_sid = cap;
    }
    pc->chan_of_sid[sid] = slot_of(h) + 1;
    return 0;
}

/* The channel is closed: its stream id no longer routes to it. */
static void set_closed(rtc_pc *pc, int h)
{
    pc_chan *c = &pc->chans[slot_of(h)];
    c->state = CH_CLOSED;
    c->in_sctp = false;
    if (c->sid >= 0 && c->sid < pc->cap_sid && pc->chan_of_sid[c->sid] == slot_of(h) + 1)
        pc->chan_of_sid[c->sid] = 0;
}

static int chan_add(rtc_pc *pc)
{
    int slot;
    if (pc->free_chan) {
        slot = pc->free_chan - 1;
        pc->free_chan = pc->chans[slot].next_free;
    } else {
        if (pc->nchans == PC_CHAN_MAX_SLOTS) return RTC_EQUOTA;
        if (pc->nchans == pc->capchans) {
            int ncap = pc->capchans ? pc->capchans * 2 : 4;
            pc_chan *n = realloc(pc->chans, (size_t)ncap * sizeof *n);
            if (!n) return RTC_ENOMEM;
            pc->chans = n;
            pc->capchans = ncap;
        }
        slot = pc->nchans++;
        pc->chans[slot].gen = 0;
    }
    pc_chan *c = &pc->chans[slot];
    int gen = c->gen;
    memset(c, 0, sizeof *c);
    c->gen = gen;
    c->used = true;
    c->sid = -1;
    c->max_retransmits = c->max_packet_life_time = -1;
    pc->live_chans++;
    return handle_of(pc, slot);
}

/* Give the slot back: its strings go, and the next user gets a new generation. */
static void chan_release(rtc_pc *pc, int h)
{
    pc_chan *c = chan_get(pc, h);
    if (!c) return;
    int slot = slot_of(h);
    if (c->sid >= 0 && c->sid < pc->cap_sid && pc->chan_of_sid[c->sid] == slot + 1) pc->chan_of_sid[c->sid] = 0;
    free(c->label);
    free(c->protocol);
    c->label = c->protocol = NULL;
    c->used = false;
    c->gen = (c->gen + 1) & PC_CHAN_GEN_MASK;
    c->next_free = pc->free_chan;
    pc->free_chan = slot + 1;
    pc->live_chans--;
}

void pc__channels_on_poll(rtc_pc *pc, const rtc_pc_event *polled)
{
    if (!polled) {
        if (pc->release_chan) chan_release(pc, pc->release_chan - 1);
        pc->release_chan = 0;
    } else if (polled->type == RTC_PC_EV_DC_CLOSE) {
        pc->release_chan = polled->dc + 1;
    }
}

static void emit_dc(rtc_pc *pc, rtc_pc_event_type type, int h, int err)
{
    rtc_pc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.dc = h;
    ev.err = err;
    pc__emit(pc, &ev);
}

/* Hand a channel to the association (creating its stream). */
static void chan_open_in_sctp(rtc_pc *pc, int h)
{
    pc_chan *c = chan_get(pc, h);
    rtc_data_channel_init init;
    memset(&init, 0, sizeof init);
    init.label = c->label;
    init.protocol = c->protocol;
    init.unordered = c->unordered;
    if (c->max_retransmits >= 0) { init.has_max_retransmits = true; init.max_retransmits = (uint16_t)c->max_retransmits; }
    if (c->max_packet_life_time >= 0) {
        init.has_max_packet_life_time = true;
        init.max_packet_life_time = (uint16_t)c->max_packet_life_time;
    }
    init.negotiated = c->negotiated;
    init.id = (uint16_t)c->neg_id;
    int sid = rtc_data_channel_create(pc->sctp, &init, pc->now);
    if (sid >= 0 && sid_bind(pc, h, sid) < 0) {
        rtc_data_channel_close(pc->sctp, (uint16_t)sid, pc->now);
        sid = RTC_ENOMEM;
    }
    if (sid < 0) {
        set_closed(pc, h);
        pc->dc_closed++;
        emit_dc(pc, RTC_PC_EV_DC_CLOSE, h, sid);
        return;
    }
    c->sid = sid;
    c->in_sctp = true;
    if (c->low_threshold) rtc_data_channel_set_buffered_amount_low_threshold(pc->sctp, (uint16_t)sid, c->low_threshold);
}

int rtc_pc_create_data_channel(rtc_pc *pc, const rtc_dc_init *init, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (init->max_retransmits >= 0 && init->max_packet_life_time >= 0)
        return pc__fail(pc, RTC_EINVAL, "max_retransmits and max_packet_life_time are exclusive");
    if (init->max_retransmits > 65535 || init->max_packet_life_time > 65535)
        return pc__fail(pc, RTC_EINVAL, "reliability limit out of range");
    if (init->negotiated && (init->id < 0 || init->id > 65534))
        return pc__fail(pc, RTC_EINVAL, "a negotiated channel needs an id in 0..65534");
    for (int i = 0; init->negotiated && i < pc->nchans; i++)
        if (pc->chans[i].used && pc->chans[i].state != CH_CLOSED && pc->chans[i].sid == init->id)
            return pc__fail(pc, RTC_EOPERATION, "data channel id %d is in use", init->id);   /* W3C */
    if (init->label && strlen(init->label) > RTC_DC_MAX_LABEL)
        return pc__fail(pc, RTC_EINVAL, "label longer than %d bytes", RTC_DC_MAX_LABEL);
    if (init->protocol && strlen(init->protocol) > RTC_DC_MAX_PROTOCOL)
        return pc__fail(pc, RTC_EINVAL, "protocol longer than %d bytes", RTC_DC_MAX_PROTOCOL);
    int h = chan_add(pc);
    if (h < 0) return pc__fail(pc, h, "no room for another data channel");
    pc_chan *c = chan_get(pc, h);
    c->label = strdup(init->label ? init->label : "");
    c->protocol = strdup(init->protocol ? init->protocol : "");
    if (!c->label || !c->protocol) {
        chan_release(pc, h);
        return pc__fail(pc, RTC_ENOMEM, "out of memory");
    }
    c->unordered = init->unordered;
    c->max_retransmits = init->max_retransmits;
    c->max_packet_life_time = init->max_packet_life_time;
    c->negotiated = init->negotiated;
    c->neg_id = init->id;
    if (c->negotiated) c->sid = init->id;
    c->state = CH_CONNECTING;
    /* The first channel needs an m=application section: ask for negotiation. */
    pc__update_negotiation_needed(pc);
    if (pc->sctp && rtc_sctp_assoc_is_connected(pc->sctp)) {
        chan_open_in_sctp(pc, h);
        pc__pump(pc);
    }
    return h;
}

void pc__channels_on_sctp_up(rtc_pc *pc)
{
    for (int i = 0; i < pc->nchans; i++)
        if (pc->chans[i].used && pc->chans[i].state == CH_CONNECTING && !pc->chans[i].in_sctp)
            chan_open_in_sctp(pc, handle_of(pc, i));
}

static void snapshot(rtc_pc *pc, pc_chan *c)
{
    rtc_data_channel_info info;
    if (c->sid >= 0 && pc->sctp && rtc_data_channel_get_info(pc->sctp, (uint16_t)c->sid, &info) == 0) {
        c->msgs_sent = info.messages_sent;
        c->bytes_sent = info.bytes_sent;
        c->msgs_recv = info.messages_received;
        c->bytes_recv = info.bytes_received;
    }
}

void pc__channels_on_sctp_event(rtc_pc *pc, rtc_sctp_event *ev)
{
    int h;
    switch (ev->type) {
    case RTC_SCTP_EV_CHANNEL_OPEN:
        h = chan_by_sid(pc, ev->sid);
        if (h >= 0 && chan_get(pc, h)->state == CH_CONNECTING) {
            chan_get(pc, h)->state = CH_OPEN;
            pc->dc_opened++;
            emit_dc(pc, RTC_PC_EV_DC_OPEN, h, 0);
        }
        break;
    case RTC_SCTP_EV_DATACHANNEL: {
        h = chan_add(pc);
        pc_chan *c = h >= 0 ? chan_get(pc, h) : NULL;
        if (c) {
            c->label = strdup(ev->label ? ev->label : "");
            c->protocol = strdup(ev->protocol ? ev->protocol : "");
        }
        if (!c || !c->label || !c->protocol || sid_bind(pc, h, ev->sid) < 0) {
            /* No room to track it: the peer sees the channel close. */
            if (c) chan_release(pc, h);
            rtc_data_channel_close(pc->sctp, ev->sid, pc->now);
            break;
        }
        rtc_data_channel_info info;
        c->sid = ev->sid;
        c->in_sctp = true;
        c->remote_opened = true;
        if (rtc_data_channel_get_info(pc->sctp, ev->sid, &info) == 0) {
            c->unordered = info.unordered;
            c->max_retransmits = info.max_retransmits;
            c->max_packet_life_time = info.max_packet_life_time;
        }
        c->state = CH_OPEN;
        pc->dc_opened++;
        emit_dc(pc, RTC_PC_EV_DATACHANNEL, h, 0);
        break;
    }
    case RTC_SCTP_EV_MESSAGE: {
        h = chan_by_sid(pc, ev->sid);
        if (h < 0) { rtc_buf_unref(ev->buf); break; }
        chan_get(pc, h)->msgs_recv++;
        chan_get(pc, h)->bytes_recv += ev->buf->len;
        rtc_pc_event e;
        memset(&e, 0, sizeof e);
        e.type = RTC_PC_EV_DC_MESSAGE;
        e.dc = h;
        e.binary = ev->binary;
        e.buf = ev->buf;
        pc__emit(pc, &e);
        break;
    }
    case RTC_SCTP_EV_BUFFERED_AMOUNT_LOW:
        h = chan_by_sid(pc, ev->sid);
        if (h >= 0) emit_dc(pc, RTC_PC_EV_DC_BUFFERED_LOW, h, 0);
        break;
    case RTC_SCTP_EV_CHANNEL_CLOSING:
        h = chan_by_sid(pc, ev->sid);
        if (h >= 0) {
            chan_get(pc, h)->state = CH_CLOSING;
            emit_dc(pc, RTC_PC_EV_DC_CLOSING, h, 0);
        }
        break;
    case RTC_SCTP_EV_CHANNEL_CLOSE:
        h = chan_by_sid(pc, ev->sid);
        if (h >= 0) {
            snapshot(pc, chan_get(pc, h));
            set_closed(pc, h);
            pc->dc_closed++;
            emit_dc(pc, RTC_PC_EV_DC_CLOSE, h, ev->err);
        }
        break;
    case RTC_SCTP_EV_CLOSED:
        pc__channels_close_all(pc, ev->err ? ev->err : RTC_ECLOSED);
        break;
    default:
        break;
    }
}

void pc__channels_close_all(rtc_pc *pc, int err)
{
    for (int i = 0; i < pc->nchans; i++) {
        pc_chan *c = &pc->chans[i];
        if (!c->used || c->state == CH_CLOSED) continue;
        snapshot(pc, c);
        set_closed(pc, handle_of(pc, i));
        pc->dc_closed++;
        emit_dc(pc, RTC_PC_EV_DC_CLOSE, handle_of(pc, i), err);
    }
}

void pc__channels_free(rtc_pc *pc)
{
    for (int i = 0; i < pc->nchans; i++) { free(pc->chans[i].label); free(pc->chans[i].protocol); }
    free(pc->chans);
    free(pc->chan_of_sid);
    pc->chans = NULL;
    pc->chan_of_sid = NULL;
    pc->nchans = pc->capchans = pc->cap_sid = pc->live_chans = 0;
    pc->free_chan = pc->release_chan = 0;
}

int rtc_pc_dc_send(rtc_pc *pc, int h, const void *data, size_t len, bool binary, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    pc_chan *c = chan_get(pc, h);
    if (!c) return pc__fail(pc, RTC_ENOTFOUND, "no such data channel");
    if (c->state != CH_OPEN || !pc->sctp || c->sid < 0)
        return pc__fail(pc, RTC_ESTATE, "data channel is not open");
    int r = rtc_data_channel_send(pc->sctp, (uint16_t)c->sid, data, len, binary, pc->now);
    /* W3C send(): over maxMessageSize is a TypeError */
    if (r == RTC_ETOOBIG) return pc__fail(pc, RTC_EINVAL, "message of %zu bytes is over the peer's max-message-size", len);
    if (r < 0) return pc__fail(pc, r, "send failed: %s", rtc_strerror(r));
    /* Counted here too: the association forgets the channel when it closes. */
    c->msgs_sent++;
    c->bytes_sent += len;
    pc__pump(pc);
    return 0;
}

int rtc_pc_dc_close(rtc_pc *pc, int h, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    pc_chan *c = chan_get(pc, h);
    if (!c) return pc__fail(pc, RTC_ENOTFOUND, "no such data channel");
    if (c->state == CH_CLOSED || c->state == CH_CLOSING) return 0;
    if (c->in_sctp && pc->sctp) {
        c->state = CH_CLOSING;
        rtc_data_channel_close(pc->sctp, (uint16_t)c->sid, pc->now);
        pc__pump(pc);
    } else {
        set_closed(pc, h);
        pc->dc_closed++;
        emit_dc(pc, RTC_PC_EV_DC_CLOSE, h, 0);
    }
    return 0;
}

int rtc_pc_dc_set_low_threshold(rtc_pc *pc, int h, size_t threshold)
{
    pc_chan *c = chan_get(pc, h);
    if (!c) return RTC_ENOTFOUND;
    c->low_threshold = threshold;
    if (c->in_sctp && pc->sctp) rtc_data_channel_set_buffered_amount_low_threshold(pc->sctp, (uint16_t)c->sid, threshold);
    return 0;
}

int rtc_pc_dc_info(rtc_pc *pc, int h, rtc_dc_info *out)
{
    static const char *names[] = { "connecting", "open", "closing", "closed" };
    pc_chan *c = chan_get(pc, h);
    if (!c) return RTC_ENOTFOUND;
    memset(out, 0, sizeof *out);
    out->handle = h;
    out->id = c->sid;
    out->label = c->label;
    out->protocol = c->protocol;
    out->state = names[c->state];
    out->ordered = !c->unordered;
    out->negotiated = c->negotiated;
    out->max_retransmits = c->max_retransmits;
    out->max_packet_life_time = c->max_packet_life_time;
    out->buffered_amount_low_threshold = c->low_threshold;
    if (c->in_sctp && pc->sctp) snapshot(pc, c);
    out->messages_sent = c->msgs_sent;
    out->bytes_sent = c->bytes_sent;
    out->messages_received = c->msgs_recv;
    out->bytes_received = c->bytes_recv;
    if (c->in_sctp && pc->sctp) out->buffered_amount = rtc_data_channel_buffered_amount(pc->sctp, (uint16_t)c->sid);
    return 0;
}

int rtc_pc_dc_count(const rtc_pc *pc) { return pc->live_chans; }
int rtc_pc_dc_slots(const rtc_pc *pc) { return pc->nchans; }
bool rtc_pc_dc_exists(rtc_pc *pc, int h) { return chan_get(pc, h) != NULL; }
