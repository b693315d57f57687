#include "websocket.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_MESSAGE (1u << 20)
#define DEFAULT_CLOSE_TIMEOUT RTC_SEC(5)
#define KEEP_MSG_BUFFER 65536       /* a larger message buffer is freed after use */

struct rtc_ws {
    rtc_ws_config cfg;
    rtc_ws_state state;
    rtc_time now;

    /* frame being parsed */
    uint8_t hdr[RTC_WS_MAX_HEADER];
    size_t hdr_len, hdr_need;
    bool in_payload;
    int op;
    bool fin, masked;
    uint8_t mask[4];
    uint64_t plen, pos;

    /* message being reassembled */
    uint8_t *msg;
    size_t msg_len, msg_cap;
    int msg_op;                     /* TEXT/BINARY while a fragmented message is open */
    bool msg_delivered;             /* the last event handed out msg[]: reset before reuse */
    rtc_utf8 utf8;
    uint8_t ctl[RTC_WS_MAX_CONTROL];

    rtc_ws_event ev[2];
    int nev;

    rtc_bufq out;
    int send_frag_op;
    rtc_utf8 send_utf8;

    bool close_sent;
    rtc_time close_deadline;
    rtc_time next_ping;
    bool ping_outstanding;
    uint64_t ping_seq;
    int fail_err;
    rtc_ws_stats st;
};

int rtc_ws_new(rtc_ws **out, const rtc_ws_config *cfg, rtc_time now)
{
    if (!out || !cfg) return RTC_EINVAL;
    *out = NULL;
    if (cfg->role != RTC_WS_SERVER && cfg->role != RTC_WS_CLIENT) return RTC_EINVAL;
    if (cfg->role == RTC_WS_CLIENT && !cfg->rng) return RTC_EINVAL;
    if (cfg->ping_interval < 0 || cfg->close_timeout < 0) return RTC_EINVAL;
    rtc_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return RTC_ENOMEM;
    ws->cfg = *cfg;
    if (!ws->cfg.max_message) ws->cfg.max_message = DEFAULT_MAX_MESSAGE;
    if (!ws->cfg.close_timeout) ws->cfg.close_timeout = DEFAULT_CLOSE_TIMEOUT;
    ws->now = now;
    ws->hdr_need = 2;
    ws->next_ping = ws->cfg.ping_interval ? now + ws->cfg.ping_interval : RTC_TIME_NEVER;
    *out = ws;
    return 0;
}

void rtc_ws_free(rtc_ws *ws)
{
    if (!ws) return;
    rtc_bufq_clear(&ws->out);
    free(ws->msg);
    free(ws);
}

static rtc_time clamp(rtc_ws *ws, rtc_time now)
{
    if (now > ws->now) ws->now = now;
    return ws->now;
}

static void push_event(rtc_ws *ws, const rtc_ws_event *ev)
{
    if (ws->nev < 2) ws->ev[ws->nev++] = *ev;
}

static int queue_frame(rtc_ws *ws, int op, bool fin, const uint8_t *d, size_t len)
{
    if (len > SIZE_MAX - 2 * RTC_WS_MAX_HEADER - RTC_BUF_HEADROOM - sizeof(rtc_buf)) return RTC_ETOOBIG;
    uint8_t key[4];
    const uint8_t *mk = NULL;
    if (ws->cfg.role == RTC_WS_CLIENT) {
        rtc_rng_bytes(ws->cfg.rng, key, 4);     /* fresh key per frame, §5.3 */
        mk = key;
    }
    rtc_buf *b = rtc_buf_alloc(NULL, RTC_WS_MAX_HEADER + len);
    if (!b) return RTC_ENOMEM;
    size_t h = rtc_ws_frame_header(b->data, op, fin, len, mk);
    if (len) memcpy(b->data + h, d, len);
    if (mk) rtc_ws_mask(b->data + h, len, mk, 0);
    b->len = h + len;
    rtc_bufq_push(&ws->out, b);
    ws->st.bytes_out += len;
    return 0;
}

static void queue_close(rtc_ws *ws, int code, const char *reason)
{
    uint8_t p[RTC_WS_MAX_CONTROL];
    size_t n = 0;
    if (code) {
        size_t rl = reason ? strlen(reason) : 0;
        if (rl > RTC_WS_MAX_CONTROL - 2) rl = RTC_WS_MAX_CONTROL - 2;
        rtc_wr16(p, (uint16_t)code);
        if (rl) memcpy(p + 2, reason, rl);
        n = 2 + rl;
    }
    /* Out of memory here only loses the courtesy frame; the caller closes TCP anyway. */
    (void)queue_frame(ws, RTC_WS_OP_CLOSE, true, p, n);
    ws->close_sent = true;
}

/* _Fail the WebSocket Connection_ (§7.1.7): tell the peer why, report, stop parsing. */
static int fail(rtc_ws *ws, int code, const char *why, int err)
{
    if (!ws->close_sent) queue_close(ws, code, why);
    ws->state = RTC_WS_CLOSED;
    ws->fail_err = err;
    ws->st.protocol_errors++;
    rtc_ws_event ev = { .type = RTC_WS_EV_CLOSE, .code = code,
                        .data = (const uint8_t *)why, .len = strlen(why) };
    push_event(ws, &ev);
    return err;
}

static void closed_abnormally(rtc_ws *ws, const char *why, bool remote)
{
    ws->state = RTC_WS_CLOSED;
    rtc_ws_event ev = { .type = RTC_WS_EV_CLOSE, .code = RTC_WS_CLOSE_ABNORMAL,
                        .data = (const uint8_t *)why, .len = strlen(why), .remote = remote };
    push_event(ws, &ev);
}

static int reserve_msg(rtc_ws *ws, size_t need)
{
    if (need <= ws->msg_cap) return 0;
    size_t cap = ws->msg_cap ? ws->msg_cap : 1024;
    while (cap < need) cap *= 2;
    if (cap > ws->cfg.max_message) cap = ws->cfg.max_message;
    uint8_t *m = realloc(ws->msg, cap);
    if (!m) return RTC_ENOMEM;
    ws->msg = m;
    ws->msg_cap = cap;
    return 0;
}

static void reset_message(rtc_ws *ws)
{
    ws->msg_len = 0;
    ws->msg_op = 0;
    ws->msg_delivered = false;
    memset(&ws->utf8, 0, sizeof ws->utf8);
    if (ws->msg_cap > KEEP_MSG_BUFFER) {
        free(ws->msg);
        ws->msg = NULL;
        ws->msg_cap = 0;
    }
}

/* The header is complete: check it against §5.2 and our role and limits. */
static int header_done(rtc_ws *ws)
{
    const uint8_t *h = ws->hdr;
    ws->fin = h[0] & 0x80;
    ws->op = h[0] & 0x0f;
    ws->masked = h[1] & 0x80;
    uint64_t len = h[1] & 0x7f;
    size_t off = 2;
    if (len == 126) { len = rtc_rd16(h + 2); off = 4; }
    else if (len == 127) { len = rtc_rd64(h + 2); off = 10; }
    if (ws->masked) memcpy(ws->mask, h + off, 4);
    ws->plen = len;
    ws->pos = 0;

    if (h[0] & 0x70) return fail(ws, RTC_WS_CLOSE_PROTOCOL, "reserved bits set", RTC_EPROTO);
    if (len >> 63) return fail(ws, RTC_WS_CLOSE_PROTOCOL, "length has its high bit set", RTC_EPROTO);
    bool want_mask = ws->cfg.role == RTC_WS_SERVER;
    if (ws->masked != want_mask)
        return fail(ws, RTC_WS_CLOSE_PROTOCOL, want_mask ? "unmasked client frame" : "masked server frame", RTC_EPROTO);
    switch (ws->op) {
    case RTC_WS_OP_CLOSE: case RTC_WS_OP_PING: case RTC_WS_OP_PONG:
        if (!ws->fin) return fail(ws, RTC_WS_CLOSE_PROTOCOL, "fragmented control frame", RTC_EPROTO);
        if (len > RTC_WS_MAX_CONTROL) return fail(ws, RTC_WS_CLOSE_PROTOCOL, "control frame too long", RTC_EPROTO);
        return 0;
    case RTC_WS_OP_CONT:
        if (!ws->msg_op) return fail(ws, RTC_WS_CLOSE_PROTOCOL, "continuation without a message", RTC_EPROTO);
        break;
    case RTC_WS_OP_TEXT: case RTC_WS_OP_BINARY:
        if (ws->msg_op) return fail(ws, RTC_WS_CLOSE_PROTOCOL, "new message inside a fragmented one", RTC_EPROTO);
        ws->msg_op = ws->op;
        break;
    default:
        return fail(ws, RTC_WS_CLOSE_PROTOCOL, "reserved opcode", RTC_EPROTO);
    }
    if (len > ws->cfg.max_message - ws->msg_len)
        return fail(ws, RTC_WS_CLOSE_TOO_BIG, "message too big", RTC_ETOOBIG);
    return 0;
}

static int close_frame_done(rtc_ws *ws)
{
    int code = RTC_WS_CLOSE_NO_STATUS;
    const uint8_t *reason = NULL;
    size_t rlen = 0;
    if (ws->plen == 1) return fail(ws, RTC_WS_CLOSE_PROTOCOL, "one-byte close payload", RTC_EPROTO);
    if (ws->plen >= 2) {
        code = rtc_rd16(ws->ctl);
        if (!rtc_ws_close_code_valid(code)) return fail(ws, RTC_WS_CLOSE_PROTOCOL, "invalid close code", RTC_EPROTO);
        reason = ws->ctl + 2;
        rlen = (size_t)ws->plen - 2;
        if (!rtc_utf8_valid(reason, rlen)) return fail(ws, RTC_WS_CLOSE_INVALID_DATA, "close reason is not UTF-8", RTC_EPROTO);
    }
    bool remote = !ws->close_sent;
    if (!ws->close_sent) {
        /* Echo the code (§5.5.1); a close without a code is answered without one. */
        uint8_t p[2];
        if (code != RTC_WS_CLOSE_NO_STATUS) rtc_wr16(p, (uint16_t)code);
        (void)queue_frame(ws, RTC_WS_OP_CLOSE, true, p, code != RTC_WS_CLOSE_NO_STATUS ? 2 : 0);
        ws->close_sent = true;
    }
    ws->state = RTC_WS_CLOSED;
    rtc_ws_event ev = { .type = RTC_WS_EV_CLOSE, .code = code, .data = reason, .len = rlen,
                        .clean = true, .remote = remote };
    push_event(ws, &ev);
    return 0;
}

static int frame_done(rtc_ws *ws)
{
    rtc_ws_event ev = { 0 };
    switch (ws->op) {
    case RTC_WS_OP_PING:
        ws->st.pings_in++;
        if (ws->state == RTC_WS_OPEN) {
            int r = queue_frame(ws, RTC_WS_OP_PONG, true, ws->ctl, (size_t)ws->plen);
            if (r < 0) return fail(ws, RTC_WS_CLOSE_INTERNAL, "out of memory", r);
        }
        ev = (rtc_ws_event){ .type = RTC_WS_EV_PING, .data = ws->ctl, .len = (size_t)ws->plen };
        push_event(ws, &ev);
        return 0;
    case RTC_WS_OP_PONG:
        ws->st.pongs_in++;
        ev = (rtc_ws_event){ .type = RTC_WS_EV_PONG, .data = ws->ctl, .len = (size_t)ws->plen };
        push_event(ws, &ev);
        return 0;
    case RTC_WS_OP_CLOSE:
        return close_frame_done(ws);
    default:
        break;
    }
    if (!ws->fin) return 0;
    if (ws->msg_op == RTC_WS_OP_TEXT && !rtc_utf8_complete(&ws->utf8))
        return fail(ws, RTC_WS_CLOSE_INVALID_DATA, "text ends inside a UTF-8 sequence", RTC_EPROTO);
    ev.type = ws->msg_op == RTC_WS_OP_TEXT ? RTC_WS_EV_TEXT : RTC_WS_EV_BINARY;
    ev.data = ws->msg_len ? ws->msg : (const uint8_t *)"";
    ev.len = ws->msg_len;
    ws->msg_delivered = true;
    ws->st.messages_in++;
    push_event(ws, &ev);
    return 0;
}

static int payload_bytes(rtc_ws *ws, const uint8_t *d, size_t n)
{
    uint8_t *dst;
    if (ws->op >= RTC_WS_OP_CLOSE) {
        dst = ws->ctl + ws->pos;
    } else {
        int r = reserve_msg(ws, ws->msg_len + n);
        if (r < 0) return fail(ws, RTC_WS_CLOSE_INTERNAL, "out of memory", r);
        dst = ws->msg + ws->msg_len;
    }
    memcpy(dst, d, n);
    if (ws->masked) rtc_ws_mask(dst, n, ws->mask, ws->pos);
    ws->pos += n;
    ws->st.bytes_in += n;
    if (ws->op < RTC_WS_OP_CLOSE) {
        ws->msg_len += n;
        /* Fail fast (§8.1): invalid text is refused at the first bad byte. */
        if (ws->msg_op == RTC_WS_OP_TEXT && rtc_utf8_feed(&ws->utf8, dst, n) < 0)
            return fail(ws, RTC_WS_CLOSE_INVALID_DATA, "invalid UTF-8 in text", RTC_EPROTO);
    }
    return 0;
}

int rtc_ws_handle_data(rtc_ws *ws, const uint8_t *d, size_t len, size_t *used, rtc_time now)
{
    size_t i = 0;
    if (used) *used = 0;
    if (!ws || (!d && len)) return RTC_EINVAL;
    clamp(ws, now);
    if (ws->nev) return RTC_EAGAIN;
    if (ws->state == RTC_WS_CLOSED) return ws->fail_err ? ws->fail_err : RTC_ECLOSED;
    if (ws->msg_delivered) reset_message(ws);
    if (len) {
        /* Any byte from the peer shows it is alive, even deep inside a long frame. */
        ws->ping_outstanding = false;
        if (ws->cfg.ping_interval) ws->next_ping = ws->now + ws->cfg.ping_interval;
    }
    int r = 0;
    while (i < len && r == 0 && ws->nev == 0) {
        if (!ws->in_payload) {
            size_t n = ws->hdr_need - ws->hdr_len;
            if (n > len - i) n = len - i;
            memcpy(ws->hdr + ws->hdr_len, d + i, n);
            ws->hdr_len += n;
            i += n;
            if (ws->hdr_len < ws->hdr_need) break;
            if (ws->hdr_need == 2) {
                uint8_t l = ws->hdr[1] & 0x7f;
                ws->hdr_need = 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) + ((ws->hdr[1] & 0x80) ? 4 : 0);
                if (ws->hdr_len < ws->hdr_need) continue;
            }
            r = header_done(ws);
            if (r < 0) break;
            ws->hdr_len = 0;
            ws->hdr_need = 2;
            ws->in_payload = true;
        } else {
            uint64_t left = ws->plen - ws->pos;
            size_t n = len - i;
            if (n > left) n = (size_t)left;
            r = payload_bytes(ws, d + i, n);
            i += n;
            if (r < 0) break;
        }
        if (ws->in_payload && ws->pos == ws->plen) {
            ws->in_payload = false;
            r = frame_done(ws);
        }
    }
    if (used) *used = i;
    return r;
}

int rtc_ws_handle_eof(rtc_ws *ws, rtc_time now)
{
    if (!ws) return RTC_EINVAL;
    clamp(ws, now);
    if (ws->state != RTC_WS_CLOSED) closed_abnormally(ws, "connection lost", true);
    return 0;
}

int rtc_ws_handle_timeout(rtc_ws *ws, rtc_time now)
{
    if (!ws) return RTC_EINVAL;
    now = clamp(ws, now);
    if (ws->state == RTC_WS_CLOSING && now >= ws->close_deadline) {
        closed_abnormally(ws, "no close reply", false);
        return 0;
    }
    if (ws->state == RTC_WS_OPEN && ws->cfg.ping_interval && now >= ws->next_ping) {
        if (ws->ping_outstanding) {
            closed_abnormally(ws, "keepalive ping unanswered", false);
            return 0;
        }
        uint8_t p[8];
        rtc_wr64(p, ++ws->ping_seq);
        int r = queue_frame(ws, RTC_WS_OP_PING, true, p, sizeof p);
        if (r < 0) return r;
        ws->ping_outstanding = true;
        ws->next_ping = now + ws->cfg.ping_interval;
    }
    return 0;
}

bool rtc_ws_poll_event(rtc_ws *ws, rtc_ws_event *ev)
{
    if (!ws || ws->nev == 0) return false;
    *ev = ws->ev[0];
    ws->ev[0] = ws->ev[1];
    ws->nev--;
    return true;
}

rtc_buf *rtc_ws_poll_output(rtc_ws *ws)
{
    return ws ? rtc_bufq_pop(&ws->out) : NULL;
}

rtc_time rtc_ws_poll_timeout(const rtc_ws *ws)
{
    if (!ws || ws->state == RTC_WS_CLOSED) return RTC_TIME_NEVER;
    if (ws->state == RTC_WS_CLOSING) return ws->close_deadline;
    return ws->cfg.ping_interval ? ws->next_ping : RTC_TIME_NEVER;
}

static int send_checks(rtc_ws *ws, rtc_time now)
{
    if (!ws) return RTC_EINVAL;
    clamp(ws, now);
    return ws->state == RTC_WS_OPEN ? 0 : RTC_ECLOSED;
}

static int send_message(rtc_ws *ws, int op, const void *data, size_t len, rtc_time now)
{
    int r = send_checks(ws, now);
    if (r < 0) return r;
    if (!data && len) return RTC_EINVAL;
    if (ws->send_frag_op) return RTC_ESTATE;
    if (op == RTC_WS_OP_TEXT && !rtc_utf8_valid(data, len)) return RTC_EINVAL;
    r = queue_frame(ws, op, true, data, len);
    if (r == 0) ws->st.messages_out++;
    return r;
}

int rtc_ws_send_text(rtc_ws *ws, const void *data, size_t len, rtc_time now)
{
    return send_message(ws, RTC_WS_OP_TEXT, data, len, now);
}

int rtc_ws_send_binary(rtc_ws *ws, const void *data, size_t len, rtc_time now)
{
    return send_message(ws, RTC_WS_OP_BINARY, data, len, now);
}

int rtc_ws_send_fragment(rtc_ws *ws, int opcode, const void *data, size_t len, bool fin, rtc_time now)
{
    int r = send_checks(ws, now);
    if (r < 0) return r;
    if (!data && len) return RTC_EINVAL;
    int frame_op;
    if (!ws->send_frag_op) {
        if (opcode != RTC_WS_OP_TEXT && opcode != RTC_WS_OP_BINARY) return RTC_EINVAL;
        frame_op = opcode;
        memset(&ws->send_utf8, 0, sizeof ws->send_utf8);
    } else {
        if (opcode != RTC_WS_OP_CONT && opcode != ws->send_frag_op) return RTC_ESTATE;
        frame_op = RTC_WS_OP_CONT;
    }
    int msg_op = ws->send_frag_op ? ws->send_frag_op : opcode;
    if (msg_op == RTC_WS_OP_TEXT) {
        rtc_utf8 u = ws->send_utf8;
        if (rtc_utf8_feed(&u, data, len) < 0 || (fin && !rtc_utf8_complete(&u))) return RTC_EINVAL;
        ws->send_utf8 = u;
    }
    r = queue_frame(ws, frame_op, fin, data, len);
    if (r < 0) return r;
    ws->send_frag_op = fin ? 0 : msg_op;
    if (fin) ws->st.messages_out++;
    return 0;
}

int rtc_ws_send_ping(rtc_ws *ws, const void *data, size_t len, rtc_time now)
{
    int r = send_checks(ws, now);
    if (r < 0) return r;
    if ((!data && len) || len > RTC_WS_MAX_CONTROL) return RTC_EINVAL;
    return queue_frame(ws, RTC_WS_OP_PING, true, data, len);
}

int rtc_ws_close(rtc_ws *ws, int code, const char *reason, size_t reason_len, rtc_time now)
{
    if (!ws) return RTC_EINVAL;
    now = clamp(ws, now);
    if (ws->state != RTC_WS_OPEN) return RTC_ECLOSED;
    uint8_t p[RTC_WS_MAX_CONTROL];
    size_t n = 0;
    if (code == 0) {
        if (reason_len) return RTC_EINVAL;
    } else {
        if (!rtc_ws_close_code_valid(code) || reason_len > RTC_WS_MAX_CONTROL - 2 ||
            (!reason && reason_len) || !rtc_utf8_valid((const uint8_t *)reason, reason_len))
            return RTC_EINVAL;
        rtc_wr16(p, (uint16_t)code);
        if (reason_len) memcpy(p + 2, reason, reason_len);
        n = 2 + reason_len;
    }
    int r = queue_frame(ws, RTC_WS_OP_CLOSE, true, p, n);
    if (r < 0) return r;
    ws->close_sent = true;
    ws->state = RTC_WS_CLOSING;
    ws->close_deadline = now + ws->cfg.close_timeout;
    return 0;
}

rtc_ws_state rtc_ws_get_state(const rtc_ws *ws) { return ws ? ws->state : RTC_WS_CLOSED; }
size_t rtc_ws_buffered_amount(const rtc_ws *ws) { return ws ? ws->out.bytes : 0; }
void rtc_ws_get_stats(const rtc_ws *ws, rtc_ws_stats *out)
{
    if (ws && out) *out = ws->st;
}
