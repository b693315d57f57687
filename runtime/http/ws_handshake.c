#include "ws_handshake.h"
#include "http_crypto.h"
#include "core/rtc_errors.h"
#include <string.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int rtc_ws_accept_key(rtc_str key, char out[RTC_WS_ACCEPT_LEN + 1])
{
    char buf[128];
    if (!key.p || key.len == 0 || key.len + sizeof ws_guid > sizeof buf) return RTC_EINVAL;
    memcpy(buf, key.p, key.len);
    memcpy(buf + key.len, ws_guid, sizeof ws_guid - 1);
    uint8_t digest[RTC_SHA1_LEN];
    rtc_sha1(buf, key.len + sizeof ws_guid - 1, digest);
    return rtc_base64_encode(digest, sizeof digest, out, RTC_WS_ACCEPT_LEN + 1, false);
}

/* Does any Sec-WebSocket-Protocol header of m list `proto` (tokens are case-sensitive). */
static bool offers_protocol(const rtc_http_message *m, const char *proto)
{
    size_t it = 0, n = strlen(proto);
    const rtc_http_header *h;
    while ((h = rtc_http_find_header(m->headers, m->nheaders, "sec-websocket-protocol", &it))) {
        rtc_str v = h->value;
        size_t i = 0;
        while (i <= v.len) {
            size_t s = i;
            while (i < v.len && v.p[i] != ',') i++;
            size_t e = i;
            while (s < e && (v.p[s] == ' ' || v.p[s] == '\t')) s++;
            while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t')) e--;
            if (e - s == n && memcmp(v.p + s, proto, n) == 0) return true;
            i++;
        }
    }
    return false;
}

static int reject(rtc_http_buf *out, int status, const char *why)
{
    int r = rtc_http_write_status_line(out, status, NULL);
    if (r == 0 && status == 426) r = rtc_http_write_header(out, "Sec-WebSocket-Version", "13");
    if (r == 0) r = rtc_http_write_header(out, "Content-Type", "text/plain; charset=utf-8");
    if (r == 0) r = rtc_http_write_header(out, "Connection", "close");
    if (r == 0) r = rtc_http_write_body(out, why, strlen(why));
    if (r < 0) return r;
    return status == 426 ? RTC_ENOTSUP : RTC_EPROTO;
}

int rtc_ws_server_handshake(const rtc_http_message *req, const char *const *protocols,
                            size_t nprotocols, rtc_http_buf *out, const char **selected)
{
    if (selected) *selected = NULL;
    if (!req || !out || !req->is_request) return RTC_EINVAL;
    if (!rtc_http_str_ieq(req->method, "GET") || req->version != 11)
        return reject(out, 400, "WebSocket upgrade needs GET over HTTP/1.1\n");
    if (!rtc_http_message_has_token(req, "upgrade", "websocket"))
        return reject(out, 400, "missing Upgrade: websocket\n");
    if (!rtc_http_message_has_token(req, "connection", "upgrade"))
        return reject(out, 400, "missing Connection: upgrade\n");
    rtc_str ver = rtc_http_message_header(req, "sec-websocket-version");
    if (!rtc_str_eq(ver, RTC_STR("13")))
        return reject(out, 426, "unsupported Sec-WebSocket-Version\n");
    size_t it = 0;
    const rtc_http_header *kh = rtc_http_find_header(req->headers, req->nheaders, "sec-websocket-key", &it);
    if (!kh || rtc_http_find_header(req->headers, req->nheaders, "sec-websocket-key", &it))
        return reject(out, 400, "need exactly one Sec-WebSocket-Key\n");
    uint8_t nonce[18];
    if (kh->value.len != RTC_WS_KEY_LEN ||
        rtc_base64_decode(kh->value.p, kh->value.len, nonce, sizeof nonce, false) != 16)
        return reject(out, 400, "malformed Sec-WebSocket-Key\n");

    const char *proto = NULL;
    for (size_t i = 0; i < nprotocols && !proto; i++)
        if (protocols[i] && offers_protocol(req, protocols[i])) proto = protocols[i];

    char accept[RTC_WS_ACCEPT_LEN + 1];
    int r = rtc_ws_accept_key(kh->value, accept);
    if (r < 0) return r;
    size_t mark = out->len;
    r = rtc_http_write_status_line(out, 101, NULL);
    if (r == 0) r = rtc_http_write_header(out, "Upgrade", "websocket");
    if (r == 0) r = rtc_http_write_header(out, "Connection", "Upgrade");
    if (r == 0) r = rtc_http_write_header(out, "Sec-WebSocket-Accept", accept);
    if (r == 0 && proto) r = rtc_http_write_header(out, "Sec-WebSocket-Protocol", proto);
    if (r == 0) r = rtc_http_write_end_head(out);
    if (r < 0) {
        out->len = mark;
        return r;
    }
    if (selected) *selected = proto;
    return 0;
}

int rtc_ws_client_request(rtc_http_buf *out, rtc_rng *rng, const char *host, const char *target,
                          const char *origin, const char *const *protocols, size_t nprotocols,
                          char key_out[RTC_WS_KEY_LEN + 1])
{
    if (!out || !rng || !host || !target || !key_out) return RTC_EINVAL;
    uint8_t nonce[16];
    rtc_rng_bytes(rng, nonce, sizeof nonce);
    int r = rtc_base64_encode(nonce, sizeof nonce, key_out, RTC_WS_KEY_LEN + 1, false);
    if (r < 0) return r;
    size_t mark = out->len;
    r = rtc_http_write_request_line(out, "GET", target);
    if (r == 0) r = rtc_http_write_header(out, "Host", host);
    if (r == 0) r = rtc_http_write_header(out, "Upgrade", "websocket");
    if (r == 0) r = rtc_http_write_header(out, "Connection", "Upgrade");
    if (r == 0) r = rtc_http_write_header(out, "Sec-WebSocket-Key", key_out);
    if (r == 0) r = rtc_http_write_header(out, "Sec-WebSocket-Version", "13");
    if (r == 0 && origin) r = rtc_http_write_header(out, "Origin", origin);
    if (r == 0 && nprotocols) {
        char list[1024];
        size_t n = 0;
        for (size_t i = 0; i < nprotocols && r == 0; i++) {
            size_t l = protocols[i] ? strlen(protocols[i]) : 0;
            if (l == 0 || n + l + 3 > sizeof list || strpbrk(protocols[i], ", \t")) { r = RTC_EINVAL; break; }
            if (n) { list[n++] = ','; list[n++] = ' '; }
            memcpy(list + n, protocols[i], l);
            n += l;
        }
        if (r == 0) r = rtc_http_write_header_n(out, "Sec-WebSocket-Protocol", list, n);
    }
    if (r == 0) r = rtc_http_write_end_head(out);
    if (r < 0) out->len = mark;
    return r;
}

int rtc_ws_client_check_response(const rtc_http_message *resp, const char *key,
                                 const char *const *protocols, size_t nprotocols,
                                 const char **selected)
{
    if (selected) *selected = NULL;
    if (!resp || !key || resp->is_request) return RTC_EINVAL;
    if (resp->status != 101) return RTC_EPROTO;
    if (!rtc_http_message_has_token(resp, "upgrade", "websocket")) return RTC_EPROTO;
    if (!rtc_http_message_has_token(resp, "connection", "upgrade")) return RTC_EPROTO;
    if (rtc_http_message_header(resp, "sec-websocket-extensions").p) return RTC_EPROTO;
    char want[RTC_WS_ACCEPT_LEN + 1];
    if (rtc_ws_accept_key(rtc_str_c(key), want) < 0) return RTC_EINVAL;
    rtc_str got = rtc_http_message_header(resp, "sec-websocket-accept");
    if (!rtc_ct_equal(got.p ? got.p : "", got.len, want, RTC_WS_ACCEPT_LEN)) return RTC_EAUTH;
    size_t it = 0;
    const rtc_http_header *ph = rtc_http_find_header(resp->headers, resp->nheaders, "sec-websocket-protocol", &it);
    if (ph) {
        if (rtc_http_find_header(resp->headers, resp->nheaders, "sec-websocket-protocol", &it)) return RTC_EPROTO;
        for (size_t i = 0; i < nprotocols; i++) {
            if (protocols[i] && rtc_str_eq(ph->value, rtc_str_c(protocols[i]))) {
                if (selected) *selected = protocols[i];
                return 0;
            }
        }
        return RTC_EPROTO;                    /* a protocol we never offered */
    }
    return 0;
}
