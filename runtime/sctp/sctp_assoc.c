/* The association: one usrsctp AF_CONN socket, packets in and out, notifications,
 * message reassembly, the event queue and the timer policy. Channels are in
 * data_channel.c; process-global usrsctp state in sctp_glue.c. */
#include "sctp_internal.h"
#include "dcep.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <usrsctp.h>

#ifndef SCTP_GET_SNDBUF_USE
/* Present in usrsctp's sockopt handler but not in its public header. */
#define SCTP_GET_SNDBUF_USE 0x00001101
struct sctp_sockstat {
    sctp_assoc_t ss_assoc_id;
    uint32_t ss_total_sndbuf;
    uint32_t ss_total_recv_buf;
};
#endif


/* {====== events ======} */

void sctp__push_event(rtc_sctp_assoc *a, const rtc_sctp_event *ev, dc *dead)
{
    if (a->ev_count == a->ev_cap) {
        /* Small first: set-up brings a few events and an idle association keeps its ring
         * until the next timeout; bursts double it. */
        size_t cap = a->ev_cap ? a->ev_cap * 2 : 4;
        sctp_ev *n = malloc(cap * sizeof *n);
        if (!n) {
            /* Out of memory: a message is lost (and counted); a dead channel is freed now. */
            if (ev->buf) rtc_buf_unref(ev->buf);
            if (dead) dc__free(dead);
            return;
        }
        for (size_t i = 0; i < a->ev_count; i++) n[i] = a->ev[(a->ev_head + i) % a->ev_cap];
        free(a->ev);
        a->ev = n;
        a->ev_cap = cap;
        a->ev_head = 0;
    }
    sctp_ev *slot = &a->ev[(a->ev_head + a->ev_count) % a->ev_cap];
    slot->ev = *ev;
    slot->dead = dead;
    a->ev_count++;
}

bool rtc_sctp_assoc_poll_event(rtc_sctp_assoc *a, rtc_sctp_event *ev)
{
    SCTP__LOCKED;
    /* The channel behind the previously polled CLOSE is freed now, so the strings an
     * OPEN event lent stay valid until this call. */
    if (a->last_polled_dead) {
        dc__free(a->last_polled_dead);
        a->last_polled_dead = NULL;
    }
    if (!a->ev_count) return false;
    sctp_ev *slot = &a->ev[a->ev_head];
    *ev = slot->ev;
    a->last_polled_dead = slot->dead;
    a->ev_head = (a->ev_head + 1) % a->ev_cap;
    a->ev_count--;
    return true;
}

static void assoc_closed(rtc_sctp_assoc *a, int err)
{
    if (a->state == SCTP__CLOSED) return;
    a->state = SCTP__CLOSED;
    a->closed_err = err;
    a->rx_active = false;
    a->rx_len = 0;
    dc__on_assoc_closed(a, err ? err : RTC_ECLOSED);
    sctp__push_event(a, &(rtc_sctp_event){ .type = RTC_SCTP_EV_CLOSED, .err = err }, NULL);
    rtc_debug("sctp", "association closed: %s", err ? rtc_err_name(err) : "clean");
}

/* {====== usrsctp calls ======} */

size_t sctp__usrsctp_queued(rtc_sctp_assoc *a)
{
    struct sctp_sockstat ss = { 0 };
    socklen_t len = sizeof ss;
    if (!a->so || usrsctp_getsockopt(a->so, IPPROTO_SCTP, SCTP_GET_SNDBUF_USE, &ss, &len) < 0) return 0;
    return ss.ss_total_sndbuf;
}

int sctp__sendv(rtc_sctp_assoc *a, uint16_t sid, uint32_t ppid, bool unordered,
                int max_rtx, int max_life, const void *data, size_t len)
{
    if (a->state != SCTP__CONNECTED) return RTC_ESTATE;
    struct sctp_sendv_spa spa;
    memset(&spa, 0, sizeof spa);
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = sid;
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_sndinfo.snd_flags = unordered ? SCTP_UNORDERED : 0;
    if (max_rtx >= 0) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
        spa.sendv_prinfo.pr_value = (uint32_t)max_rtx;
    } else if (max_life >= 0) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
        spa.sendv_prinfo.pr_value = (uint32_t)max_life;
    }
    ssize_t n = usrsctp_sendv(a->so, data, len, NULL, 0, &spa, sizeof spa, SCTP_SENDV_SPA, 0);
    if (n >= 0) return 0;
    if (errno == EWOULDBLOCK || errno == EAGAIN || errno == ENOBUFS) return RTC_EAGAIN;
    if (errno == EMSGSIZE) return RTC_ETOOBIG;
    rtc_debug("sctp", "sendv on %u: %s", sid, strerror(errno));
    return RTC_ESCTP;
}

int sctp__reset_outgoing(rtc_sctp_assoc *a, uint16_t sid)
{
    if (a->state != SCTP__CONNECTED) return RTC_ESTATE;
    uint8_t raw[sizeof(struct sctp_reset_streams) + sizeof(uint16_t)];
    struct sctp_reset_streams *srs = (struct sctp_reset_streams *)raw;
    memset(raw, 0, sizeof raw);
    srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    srs->srs_number_streams = 1;
    srs->srs_stream_list[0] = sid;
    if (usrsctp_setsockopt(a->so, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs, (socklen_t)sizeof raw) < 0) {
        rtc_debug("sctp", "reset of stream %u: %s", sid, strerror(errno));
        return RTC_ESCTP;
    }
    return 0;
}

/* {====== receiving ======} */

static void on_notification(rtc_sctp_assoc *a, const uint8_t *p, size_t len)
{
    union sctp_notification n;
    if (len < sizeof n.sn_header) return;
    memset(&n, 0, sizeof n);
    memcpy(&n, p, len < sizeof n ? len : sizeof n);
    switch (n.sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
        if (len < sizeof n.sn_assoc_change) return;
        switch (n.sn_assoc_change.sac_state) {
        case SCTP_COMM_UP:
            if (a->state == SCTP__CONNECTING) {
                a->state = SCTP__CONNECTED;
                a->out_streams = n.sn_assoc_change.sac_outbound_streams;
                a->in_streams = n.sn_assoc_change.sac_inbound_streams;
                rtc_debug("sctp", "association up: %u out, %u in streams",
                          n.sn_assoc_change.sac_outbound_streams, n.sn_assoc_change.sac_inbound_streams);
                sctp__push_event(a, &(rtc_sctp_event){ .type = RTC_SCTP_EV_CONNECTED }, NULL);
                dc__on_connected(a);
            }
            break;
        case SCTP_COMM_LOST:
            rtc_debug("sctp", "association lost (error %u)", n.sn_assoc_change.sac_error);
            /* An ABORT carrying "user initiated abort" is the peer closing on purpose
             * (rtc_sctp_assoc_abort, a browser's pc.close()): as clean as a SHUTDOWN. */
            assoc_closed(a, n.sn_assoc_change.sac_error == SCTP__CAUSE_USER_ABORT ? 0 : RTC_ESCTP);
            break;
        case SCTP_CANT_STR_ASSOC:
            assoc_closed(a, RTC_ETIMEDOUT);
            break;
        case SCTP_SHUTDOWN_COMP:
            assoc_closed(a, 0);
            break;
        default:
            break;
        }
        break;
    case SCTP_SHUTDOWN_EVENT:
        if (a->state == SCTP__CONNECTED) a->state = SCTP__SHUTTING_DOWN;
        break;
    case SCTP_STREAM_RESET_EVENT: {
        const size_t hdr = sizeof(struct sctp_stream_reset_event);
        if (len < hdr) return;
        const struct sctp_stream_reset_event *e = (const struct sctp_stream_reset_event *)p;
        uint32_t elen = e->strreset_length < len ? e->strreset_length : (uint32_t)len;
        size_t count = elen > hdr ? (elen - hdr) / sizeof(uint16_t) : 0;
        uint16_t sids[64];
        /* usrsctp reports the streams of one request; copy out in bounded batches so
         * the (possibly unaligned) list is read safely. */
        for (size_t off = 0; off < count;) {
            size_t k = count - off < 64 ? count - off : 64;
            memcpy(sids, p + hdr + off * sizeof(uint16_t), k * sizeof(uint16_t));
            dc__on_stream_reset(a, e->strreset_flags, sids, k);
            off += k;
        }
        break;
    }
    case SCTP_PARTIAL_DELIVERY_EVENT:
        if (len >= sizeof n.sn_pdapi_event && n.sn_pdapi_event.pdapi_indication == SCTP_PARTIAL_DELIVERY_ABORTED) {
            a->rx_active = false;
            a->rx_discard = false;
            a->rx_len = 0;
            a->stats.partial_aborted++;
        }
        break;
    default:
        break;
    }
}

/* One piece of a user message; `eor` marks its last piece. */
static void on_data(rtc_sctp_assoc *a, uint16_t sid, uint32_t ppid, const uint8_t *p, size_t n, bool eor)
{
    if (a->rx_active && a->rx_sid != sid) {
        /* usrsctp does not interleave messages on this socket; a new stream means the
         * previous message was abandoned. */
        a->rx_len = 0;
        a->rx_discard = false;
        a->stats.partial_aborted++;
    }
    if (!a->rx_active && eor) {
        if (n > a->cfg.max_message_size) {
            a->stats.oversized++;
            dc__on_oversized(a, sid);
            return;
        }
        dc__on_message(a, sid, ppid, p, n);
        return;
    }
    a->rx_active = true;
    a->rx_sid = sid;
    if (!a->rx_discard) {
        if (n > a->cfg.max_message_size - a->rx_len) {
            a->rx_discard = true;
            a->rx_len = 0;
        } else {
            if (a->rx_len + n > a->rx_cap) {
                size_t cap = a->rx_cap ? a->rx_cap : 64 * 1024;
                while (cap < a->rx_len + n) cap *= 2;
                if (cap > a->cfg.max_message_size) cap = a->cfg.max_message_size;
                uint8_t *nb = realloc(a->rx, cap);
                if (!nb) {
                    a->rx_discard = true;
                    a->rx_len = 0;
                } else {
                    a->rx = nb;
                    a->rx_cap = cap;
                }
            }
            if (!a->rx_discard) {
                memcpy(a->rx + a->rx_len, p, n);
                a->rx_len += n;
            }
        }
    }
    if (!eor) return;
    bool discard = a->rx_discard;
    a->rx_active = false;
    a->rx_discard = false;
    size_t total = a->rx_len;
    a->rx_len = 0;
    if (discard) {
        a->stats.oversized++;
        dc__on_oversized(a, sid);
        return;
    }
    dc__on_message(a, sid, ppid, a->rx, total);
    /* Do not keep a large reassembly buffer around for one big message. */
    if (a->rx_cap > 256 * 1024) {
        free(a->rx);
        a->rx = NULL;
        a->rx_cap = 0;
    }
}

/* One receive buffer for the process: usrsctp runs without threads, and each message
 * read into it is consumed (copied or delivered) before the next read, so associations
 * need not carry 64 KiB each while idle. */
static uint8_t sctp__scratch[SCTP__SCRATCH];

static void drain_socket(rtc_sctp_assoc *a)
{
    while (a->so && a->state != SCTP__CLOSED) {
        struct sctp_rcvinfo info;
        socklen_t infolen = sizeof info;
        unsigned int infotype = 0;
        int flags = 0;
        struct sockaddr_conn from;
        socklen_t fromlen = sizeof from;
        memset(&info, 0, sizeof info);
        ssize_t n = usrsctp_recvv(a->so, sctp__scratch, SCTP__SCRATCH, (struct sockaddr *)&from, &fromlen,
                                  &info, &infolen, &infotype, &flags);
        if (n < 0) break;                        /* EWOULDBLOCK, or not connected yet */
        if (n == 0 && !(flags & (MSG_NOTIFICATION | MSG_EOR))) break;   /* end of stream */
        if (flags & MSG_NOTIFICATION) {
            /* Notifications are small; one larger than the scratch buffer is dropped. */
            if (flags & MSG_EOR) on_notification(a, sctp__scratch, (size_t)n);
            continue;
        }
        if (infotype != SCTP_RECVV_RCVINFO) {
            a->stats.bad_ppid++;
            continue;
        }
        on_data(a, info.rcv_sid, ntohl(info.rcv_ppid), sctp__scratch, (size_t)n, (flags & MSG_EOR) != 0);
    }
}

/* After every input: read what usrsctp has for us, then push what we have queued. */
static void pump(rtc_sctp_assoc *a)
{
    drain_socket(a);
    dc__flush(a);
    drain_socket(a);   /* a flush can complete resets whose notifications follow at once */
}

/* {====== lifecycle ======} */

static int setopt(struct socket *so, int level, int name, const void *v, socklen_t len)
{
    if (usrsctp_setsockopt(so, level, name, v, len) < 0) {
        rtc_warn("sctp", "setsockopt %d/%d: %s", level, name, strerror(errno));
        return RTC_ESCTP;
    }
    return 0;
}

static int configure_socket(rtc_sctp_assoc *a)
{
    struct socket *so = a->so;
    int r = 0, on = 1;
    if (usrsctp_set_non_blocking(so, 1) < 0) return RTC_ESCTP;
    /* Closing aborts: the association is freed at once, nothing lingers on timers. */
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    r |= setopt(so, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    int sndbuf = (int)a->sndbuf, rcvbuf = SCTP__RCVBUF;
    r |= setopt(so, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    r |= setopt(so, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sctp_assoc_value av = { .assoc_id = SCTP_FUTURE_ASSOC, .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ };
    r |= setopt(so, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof av);
    r |= setopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on);
    r |= setopt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on);
    static const uint16_t events[] = {
        SCTP_ASSOC_CHANGE, SCTP_PARTIAL_DELIVERY_EVENT, SCTP_SHUTDOWN_EVENT,
        SCTP_STREAM_RESET_EVENT, SCTP_SENDER_DRY_EVENT, SCTP_REMOTE_ERROR,
    };
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        struct sctp_event ev = { .se_assoc_id = SCTP_FUTURE_ASSOC, .se_type = events[i], .se_on = 1 };
        r |= setopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev);
    }
    struct sctp_initmsg im;
    memset(&im, 0, sizeof im);
    im.sinit_num_ostreams = a->cfg.max_streams;
    im.sinit_max_instreams = a->cfg.max_streams;
    r |= setopt(so, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof im);
    struct sctp_paddrparams pp;
    memset(&pp, 0, sizeof pp);
    pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
    pp.spp_flags = SPP_PMTUD_DISABLE;
    pp.spp_pathmtu = a->cfg.mtu;
    r |= setopt(so, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof pp);
    return r ? RTC_ESCTP : 0;
}

int rtc_sctp_assoc_new(rtc_sctp_assoc **out, const rtc_sctp_config *cfg, rtc_time now)
{
    SCTP__LOCKED;
    if (!out || !cfg) return RTC_EINVAL;
    *out = NULL;
    rtc_sctp_assoc *a = calloc(1, sizeof *a);
    if (!a) return RTC_ENOMEM;
    a->cfg = *cfg;
    if (!a->cfg.local_port) a->cfg.local_port = RTC_SCTP_DEFAULT_PORT;
    if (!a->cfg.remote_port) a->cfg.remote_port = RTC_SCTP_DEFAULT_PORT;
    if (!a->cfg.max_message_size) a->cfg.max_message_size = RTC_SCTP_DEFAULT_MAX_MESSAGE;
    if (!a->cfg.max_streams) a->cfg.max_streams = 65535;
    if (!a->cfg.max_buffered) a->cfg.max_buffered = RTC_SCTP_DEFAULT_MAX_BUFFERED;
    if (!a->cfg.mtu) a->cfg.mtu = 1200;
    if (a->cfg.mtu < 576 || a->cfg.mtu > 16384 || a->cfg.max_message_size > (1u << 30)) {
        free(a);
        return RTC_EINVAL;
    }
    /* usrsctp refuses a message larger than the send buffer, so the buffer is sized to
     * carry the largest message we are willing to send. */
    size_t want = a->cfg.remote_max_message_size ? a->cfg.remote_max_message_size : a->cfg.max_message_size;
    a->sndbuf = want > SCTP__SNDBUF_MIN ? want : SCTP__SNDBUF_MIN;
    if (a->sndbuf > 64u * 1024 * 1024) a->sndbuf = 64u * 1024 * 1024;
    a->next_id = cfg->dtls_client ? 0 : 1;
    a->last_activity = now;
    a->owner = pthread_self();
    a->own_pool = !cfg->pool;
    a->pool = cfg->pool ? cfg->pool : rtc_pool_new(256);
    int r = sctp__global_ref();
    if (r < 0 || !a->pool) {
        if (r == 0) sctp__global_unref();
        if (a->own_pool) rtc_pool_free(a->pool);
        free(a);
        return r < 0 ? r : RTC_ENOMEM;
    }
    if (sctp__registry_add(a) < 0) {
        sctp__global_unref();
        if (a->own_pool) rtc_pool_free(a->pool);
        free(a);
        return RTC_ENOMEM;
    }
    sctp__advance(a, now);
    usrsctp_register_address(a);
    a->so = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    if (!a->so) {
        rtc_sctp_assoc_free(a);
        return RTC_ESCTP;
    }
    r = configure_socket(a);
    struct sockaddr_conn sc;
    memset(&sc, 0, sizeof sc);
    sc.sconn_family = AF_CONN;
    sc.sconn_port = htons(a->cfg.local_port);
    sc.sconn_addr = a;
    if (r == 0 && usrsctp_bind(a->so, (struct sockaddr *)&sc, sizeof sc) < 0) {
        rtc_warn("sctp", "bind: %s", strerror(errno));
        r = RTC_ESCTP;
    }
    sc.sconn_port = htons(a->cfg.remote_port);
    if (r == 0 && usrsctp_connect(a->so, (struct sockaddr *)&sc, sizeof sc) < 0 && errno != EINPROGRESS) {
        rtc_warn("sctp", "connect: %s", strerror(errno));
        r = RTC_ESCTP;
    }
    if (r < 0) {
        rtc_sctp_assoc_free(a);
        return r;
    }
    *out = a;
    return 0;
}

int rtc_sctp_assoc_abort(rtc_sctp_assoc *a, rtc_time now)
{
    SCTP__LOCKED;
    sctp__advance(a, now);
    if (a->state == SCTP__CLOSED) return 0;
    if (a->so) {
        /* SO_LINGER 0 (configure_socket): usrsctp_close sends the ABORT at once, through
         * conn_output into a->out, where the caller's drain finds it. */
        usrsctp_set_upcall(a->so, NULL, NULL);
        usrsctp_close(a->so);
        a->so = NULL;
    }
    assoc_closed(a, 0);
    return 0;
}

void rtc_sctp_assoc_free(rtc_sctp_assoc *a)
{
    if (!a) return;
    SCTP__LOCKED;
    if (a->so) {
        usrsctp_set_upcall(a->so, NULL, NULL);
        usrsctp_close(a->so);
        a->so = NULL;
    }
    usrsctp_deregister_address(a);
    sctp__registry_remove(a);
    sctp__global_unref();
    a->state = SCTP__CLOSED;
    while (a->ev_count) {
        sctp_ev *e = &a->ev[a->ev_head];
        if (e->ev.buf) rtc_buf_unref(e->ev.buf);
        if (e->dead) dc__free(e->dead);
        a->ev_head = (a->ev_head + 1) % a->ev_cap;
        a->ev_count--;
    }
    if (a->last_polled_dead) dc__free(a->last_polled_dead);
    dc__free_all(a);
    rtc_bufq_clear(&a->out);
    if (a->own_pool) rtc_pool_free(a->pool);
    free(a->ev);
    free(a->rx);
    free(a);
}

/* {====== the five verbs ======} */

int rtc_sctp_assoc_handle_packet(rtc_sctp_assoc *a, const uint8_t *data, size_t len, rtc_time now)
{
    SCTP__LOCKED;
    sctp__advance(a, now);
    if (a->state == SCTP__CLOSED) return RTC_ECLOSED;
    if (!data || len < SCTP__MIN_PACKET) {
        a->stats.malformed_packets++;
        return RTC_ETRUNC;
    }
    if (!sctp__crc_ok(data, len)) {
        a->stats.bad_checksum++;     /* as usrsctp would: dropped, not an error to the caller */
        return 0;
    }
    a->stats.packets_in++;
    a->stats.bytes_in += len;
    a->last_activity = sctp__last_now();
    usrsctp_conninput(a, data, len, 0);
    pump(a);
    return 0;
}

int rtc_sctp_assoc_handle_timeout(rtc_sctp_assoc *a, rtc_time now)
{
    SCTP__LOCKED;
    if (!a->ev_count && a->ev) {
        /* Drained: an idle association keeps no event ring (it grows again on demand). */
        free(a->ev);
        a->ev = NULL;
        a->ev_cap = a->ev_head = 0;
    }
    sctp__advance(a, now);
    if (a->state == SCTP__CLOSED) return 0;
    pump(a);
    return 0;
}

bool rtc_sctp_assoc_poll_transmit(rtc_sctp_assoc *a, rtc_buf **out)
{
    SCTP__LOCKED;
    rtc_buf *b = rtc_bufq_pop(&a->out);
    if (!b) return false;
    a->last_activity = sctp__last_now();
    *out = b;
    return true;
}

rtc_time rtc_sctp_assoc_poll_timeout(rtc_sctp_assoc *a)
{
    SCTP__LOCKED;
    if (a->state == SCTP__CLOSED) return RTC_TIME_NEVER;
    rtc_time now = sctp__last_now();
    bool busy = a->state != SCTP__CONNECTED || a->out.count || dc__busy(a) ||
                now - a->last_activity < SCTP__BUSY_AFTER;
    rtc_time step = busy ? SCTP__TICK : SCTP__IDLE_TICK;
    /* On a grid, so that every association in the process wakes at the same instants
     * and the process-global usrsctp clock advances once per tick. */
    return (now / step + 1) * step;
}

/* {====== the rest of the public surface ======} */

int rtc_sctp_assoc_close(rtc_sctp_assoc *a, rtc_time now)
{
    SCTP__LOCKED;
    sctp__advance(a, now);
    if (a->state == SCTP__CLOSED || a->state == SCTP__SHUTTING_DOWN) return 0;
    if (a->state == SCTP__CONNECTING) {
        assoc_closed(a, RTC_ECLOSED);
        return 0;
    }
    a->state = SCTP__SHUTTING_DOWN;
    if (usrsctp_shutdown(a->so, SHUT_WR) < 0) {
        assoc_closed(a, RTC_ESCTP);
        return 0;
    }
    pump(a);
    return 0;
}

bool rtc_sctp_assoc_is_connected(const rtc_sctp_assoc *a)
{
    return a->state == SCTP__CONNECTED;
}

size_t rtc_sctp_assoc_max_send_size(const rtc_sctp_assoc *a)
{
    size_t remote = a->cfg.remote_max_message_size;
    return remote && remote < a->sndbuf ? remote : a->sndbuf;
}

void rtc_sctp_assoc_get_stats(const rtc_sctp_assoc *a, rtc_sctp_stats *out)
{
    SCTP__LOCKED;
    *out = a->stats;
    out->channels = a->nchans;
    out->reassembly_bytes = a->part_bytes + a->rx_cap;
}
