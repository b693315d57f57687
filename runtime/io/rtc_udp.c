#define _GNU_SOURCE   /* sendmmsg */
#include "io/rtc_udp.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define UDP_MAX_PAYLOAD 65507

typedef struct udp_item { rtc_addr to; rtc_buf *buf; } udp_item;

/* A datagram handed to uv_udp_send after EAGAIN; holds its buffer until sent. */
typedef struct udp_req { uv_udp_send_t req; rtc_buf *buf; rtc_udp *u; } udp_req;

struct rtc_udp {
    uv_udp_t h;                   /* h.data == this */
    rtc_loop *lp;
    rtc_udp_recv_cb recv_cb;
    rtc_udp_close_cb close_cb;
    void *ud;
    udp_item *q;                  /* ring of queued datagrams */
    size_t qhead, qlen, qcap;
    int in_flush_list, closing;
    rtc_udp_stats st;
};

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    rtc_udp *u = h->data;
    size_t len;
    buf->base = rtc_loop__recv_buf(u->lp, &len);
    buf->len = len;
}

static void recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags)
{
    rtc_udp *u = h->data;
    (void)buf;
    if (flags & UV_UDP_MMSG_FREE) return;         /* end of a batch: the buffer is shared */
    if (nread < 0) { u->st.rx_errors++; return; }
    if (nread == 0 && !from) return;              /* nothing more to read */
    if (flags & UV_UDP_PARTIAL) { u->st.rx_truncated++; return; }
    rtc_addr a;
    if (rtc_addr_from_sockaddr(&a, from) < 0) { u->st.rx_errors++; return; }
    u->st.rx_packets++;
    u->st.rx_bytes += (uint64_t)nread;
    if (u->recv_cb && !u->closing) u->recv_cb(u, (const uint8_t *)buf->base, (size_t)nread, &a, u->ud);
}

int rtc_udp_new(rtc_udp **out, rtc_loop *lp, const rtc_addr *local, const rtc_udp_opts *opts,
                rtc_udp_recv_cb cb, void *ud)
{
    *out = NULL;
    int fam = rtc_addr_family(local);
    if (fam != AF_INET && fam != AF_INET6) return RTC_EINVAL;
    rtc_udp *u = calloc(1, sizeof *u);
    if (!u) return RTC_ENOMEM;
    u->lp = lp; u->recv_cb = cb; u->ud = ud;
    int r = uv_udp_init_ex(rtc_loop_uv(lp), &u->h, (unsigned)fam | UV_UDP_RECVMMSG);
    if (r) { free(u); return RTC_EIO; }
    u->h.data = u;
    unsigned flags = 0;
    if (opts && opts->reuseaddr) flags |= UV_UDP_REUSEADDR;
    if (opts && opts->ipv6only && fam == AF_INET6) flags |= UV_UDP_IPV6ONLY;
    r = uv_udp_bind(&u->h, &local->u.sa, flags);
    if (!r && opts && opts->sndbuf > 0) { int v = opts->sndbuf; r = uv_send_buffer_size((uv_handle_t *)&u->h, &v); }
    if (!r && opts && opts->rcvbuf > 0) { int v = opts->rcvbuf; r = uv_recv_buffer_size((uv_handle_t *)&u->h, &v); }
    if (!r && cb) r = uv_udp_recv_start(&u->h, alloc_cb, recv_cb);
    if (r) {
        rtc_debug("io", "udp bind: %s", uv_strerror(r));
        u->closing = 1;
        uv_close((uv_handle_t *)&u->h, (uv_close_cb)free);
        return r == UV_EADDRINUSE || r == UV_EADDRNOTAVAIL || r == UV_EACCES ? RTC_EACCESS : RTC_EIO;
    }
    *out = u;
    return 0;
}

int rtc_udp_local_addr(rtc_udp *u, rtc_addr *out)
{
    int n = sizeof out->u;
    memset(out, 0, sizeof *out);
    return uv_udp_getsockname(&u->h, &out->u.sa, &n) ? RTC_EIO : 0;
}

void rtc_udp_get_stats(const rtc_udp *u, rtc_udp_stats *out) { *out = u->st; }

static void req_cb(uv_udp_send_t *req, int status)
{
    udp_req *r = (udp_req *)req;
    if (status) r->u->st.tx_errors++;
    rtc_buf_unref(r->buf);
    free(r);
}

/* Hand one datagram to libuv's own queue, which waits for the socket to drain. */
static int send_via_uv(rtc_udp *u, const rtc_addr *to, rtc_buf *b)
{
    udp_req *r = malloc(sizeof *r);
    if (!r) { rtc_buf_unref(b); u->st.tx_dropped++; return RTC_ENOMEM; }
    r->buf = b; r->u = u;
    uv_buf_t ub = uv_buf_init((char *)b->data, (unsigned)b->len);
    if (uv_udp_send(&r->req, &u->h, &ub, 1, &to->u.sa, req_cb) != 0) {
        rtc_buf_unref(b); free(r); u->st.tx_errors++;
        return RTC_EIO;
    }
    u->st.tx_deferred++;
    u->st.tx_packets++;
    u->st.tx_bytes += b->len;
    return 0;
}

int rtc_udp_send_buf(rtc_udp *u, const rtc_addr *to, rtc_buf *b)
{
    if (u->closing) { rtc_buf_unref(b); return RTC_ECLOSED; }
    if (b->len > UDP_MAX_PAYLOAD) { rtc_buf_unref(b); return RTC_ETOOBIG; }
    if (rtc_addr_family(to) == 0) { rtc_buf_unref(b); return RTC_EINVAL; }
    if (u->qlen == u->qcap) {
        if (u->qcap >= RTC_UDP_QUEUE_MAX) { rtc_buf_unref(b); u->st.tx_dropped++; return RTC_EAGAIN; }
        /* Start small: a socket per connection is mostly idle, and bursts double it. */
        size_t ncap = u->qcap ? u->qcap * 2 : 8;
        udp_item *nq = malloc(ncap * sizeof *nq);
        if (!nq) { rtc_buf_unref(b); u->st.tx_dropped++; return RTC_ENOMEM; }
        for (size_t i = 0; i < u->qlen; i++) nq[i] = u->q[(u->qhead + i) % u->qcap];
        free(u->q);
        u->q = nq; u->qcap = ncap; u->qhead = 0;
    }
    udp_item *it = &u->q[(u->qhead + u->qlen) % u->qcap];
    it->to = *to;
    it->buf = b;
    u->qlen++;
    if (!u->in_flush_list) {
        u->in_flush_list = 1;
        rtc_loop__want_flush(u->lp, u);
    }
    return 0;
}

int rtc_udp_send(rtc_udp *u, const rtc_addr *to, const void *data, size_t len)
{
    if (u->closing) return RTC_ECLOSED;
    if (len > UDP_MAX_PAYLOAD) return RTC_ETOOBIG;
    rtc_buf *b = rtc_buf_alloc(rtc_loop_pool(u->lp), len);
    if (!b) return RTC_ENOMEM;
    memcpy(b->data, data, len);
    b->len = len;
    return rtc_udp_send_buf(u, to, b);
}

static void pop_front(rtc_udp *u, size_t n, int unref)
{
    for (size_t i = 0; i < n; i++) {
        udp_item *it = &u->q[u->qhead];
        if (unref) rtc_buf_unref(it->buf);
        u->qhead = (u->qhead + 1) % u->qcap;
        u->qlen--;
    }
}

int rtc_udp_flush(rtc_udp *u)
{
    struct mmsghdr msgs[RTC_UDP_SEND_BATCH];
    struct iovec iov[RTC_UDP_SEND_BATCH];
    int sent = 0;
    uv_os_fd_t fd;
    u->in_flush_list = 0;
    if (u->qlen == 0) return 0;
    if (uv_fileno((uv_handle_t *)&u->h, &fd) != 0) return 0;
    while (u->qlen > 0) {
        /* Once libuv holds queued sends, ours must follow them or order breaks. */
        if (uv_udp_get_send_queue_count(&u->h) > 0) {
            while (u->qlen > 0) {
                udp_item *it = &u->q[u->qhead];
                if (send_via_uv(u, &it->to, it->buf) == 0) sent++;
                pop_front(u, 1, 0);
            }
            break;
        }
        size_t n = u->qlen < RTC_UDP_SEND_BATCH ? u->qlen : RTC_UDP_SEND_BATCH;
        for (size_t i = 0; i < n; i++) {
            udp_item *it = &u->q[(u->qhead + i) % u->qcap];
            iov[i].iov_base = it->buf->data;
            iov[i].iov_len = it->buf->len;
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_name = &it->to.u.sa;
            msgs[i].msg_hdr.msg_namelen = rtc_addr_len(&it->to);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int r;
        do r = sendmmsg(fd, msgs, (unsigned)n, 0); while (r < 0 && errno == EINTR);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            /* Socket buffer full: let libuv wait for writability with the rest. */
            udp_item *it = &u->q[u->qhead];
            if (send_via_uv(u, &it->to, it->buf) == 0) sent++;
            pop_front(u, 1, 0);
            continue;
        }
        if (r < 0) {
            /* The first datagram failed on its own (EMSGSIZE, unreachable...): drop it. */
            rtc_debug("io", "udp sendmmsg: %s", strerror(errno));
            u->st.tx_errors++;
            pop_front(u, 1, 1);
            continue;
        }
        u->st.tx_batches++;
        for (int i = 0; i < r; i++) {
            u->st.tx_packets++;
            u->st.tx_bytes += u->q[(u->qhead + (size_t)i) % u->qcap].buf->len;
        }
        pop_front(u, (size_t)r, 1);
        sent += r;
    }
    return sent;
}

static void close_cb(uv_handle_t *h)
{
    rtc_udp *u = h->data;
    if (u->close_cb) u->close_cb(u, u->ud);
    free(u->q);
    free(u);
}

void rtc_udp_close(rtc_udp *u, rtc_udp_close_cb cb)
{
    if (!u || u->closing) return;
    rtc_udp_flush(u);
    rtc_loop__drop_flush(u->lp, u);
    u->closing = 1;
    u->close_cb = cb;
    while (u->qlen) pop_front(u, 1, 1);
    uv_udp_recv_stop(&u->h);
    uv_close((uv_handle_t *)&u->h, close_cb);
}
