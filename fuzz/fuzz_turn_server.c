/* libFuzzer target: the TURN server machine. The input is a script of records, each
 *   kind (1 byte), length (2 bytes), body
 * fed to one fresh server: raw UDP datagrams and TCP stream pieces from a few clients,
 * datagrams from peers on relay sockets, time steps, closed TCP connections, and
 * "signed" requests whose attributes come from the fuzzer but which carry a valid
 * USERNAME/REALM/NONCE/MESSAGE-INTEGRITY, so allocation, permission and channel code
 * is reached, not only the authentication wall. Relay sockets always bind (sometimes
 * fail, by the input), everything is drained after each record. */
#include "core/rtc_errors.h"
#include "stun/stun.h"
#include "turn/turn_server.h"
#include <stdint.h>
#include <string.h>

static rtc_addr listener, clients[4], peers[2];
static uint8_t key[16];
static char nonce[64];
static uint32_t relay_ids[8];
static int nrelays;
static int fail_next;

static void setup(void)
{
    static int done;
    if (done) return;
    done = 1;
    rtc_addr_parse(&listener, "203.0.113.1:3478");
    rtc_addr_parse(&clients[0], "198.51.100.1:1000");
    rtc_addr_parse(&clients[1], "198.51.100.2:1000");
    rtc_addr_parse(&clients[2], "[2001:db8::5]:1000");
    rtc_addr_parse(&clients[3], "198.51.100.1:1001");
    rtc_addr_parse(&peers[0], "192.0.2.9:7000");
    rtc_addr_parse(&peers[1], "[2001:db8::9]:7000");
    uint8_t k[32];
    rtc_stun_long_term_key(RTC_STR("u"), RTC_STR("r"), RTC_STR("p"), RTC_STUN_PWALG_MD5, k);
    memcpy(key, k, 16);
}

static void drain(rtc_turn_server *s, rtc_time now)
{
    for (int guard = 0; guard < 64; guard++) {
        int any = 0;
        rtc_turn_srv_event e;
        while (rtc_turn_server_poll_event(s, &e)) {
            any = 1;
            if (e.type != RTC_TURN_SRV_EV_RELAY_OPEN) continue;
            if (fail_next) {
                fail_next--;
                rtc_turn_server_relay_bound(s, e.relay_id, RTC_EIO, NULL, now);
                continue;
            }
            rtc_addr b = e.addr;
            if (!rtc_addr_port(&b)) rtc_addr_set_port(&b, 40000);
            rtc_turn_server_relay_bound(s, e.relay_id, 0, &b, now);
            relay_ids[nrelays++ % 8] = e.relay_id;
        }
        rtc_transmit t;
        while (rtc_turn_server_poll_transmit(s, &t)) {
            any = 1;
            rtc_stun_msg m;
            rtc_str n;
            if (rtc_stun_parse(t.buf->data, t.buf->len, &m) == 0 &&
                rtc_stun_get_str(&m, RTC_STUN_ATTR_NONCE, &n) == 0 && n.len < sizeof nonce) {
                memcpy(nonce, n.p, n.len);
                nonce[n.len] = 0;
            }
            rtc_buf_unref(t.buf);
        }
        if (!any) return;
    }
}

/* A request with the fuzzer's attribute bytes, signed with the known key. */
static size_t signed_request(uint8_t *out, size_t cap, const uint8_t *body, size_t len)
{
    static const uint16_t methods[] = { RTC_STUN_ALLOCATE, RTC_STUN_REFRESH, RTC_STUN_CREATE_PERMISSION,
                                        RTC_STUN_CHANNEL_BIND, RTC_STUN_BINDING, RTC_STUN_SEND };
    if (len < 2) return 0;
    uint8_t tid[12] = { body[0], body[1] };
    rtc_stun_writer w;
    uint16_t method = methods[body[0] % 6];
    rtc_stun_writer_init(&w, out, cap, method, method == RTC_STUN_SEND ? RTC_STUN_INDICATION : RTC_STUN_REQUEST, tid);
    body += 2; len -= 2;
    /* attributes: type (2), length (1), value */
    while (len >= 3) {
        uint16_t type = rtc_rd16(body);
        size_t n = body[2];
        if (n > len - 3) n = len - 3;
        if (type == 0xFFFF) {
            rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &peers[body[2] & 1]);
        } else if (type != RTC_STUN_ATTR_MESSAGE_INTEGRITY && type != RTC_STUN_ATTR_FINGERPRINT &&
                   type != RTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
            rtc_stun_put(&w, type, body + 3, n);
        }
        body += 3 + n; len -= 3 + n;
    }
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, RTC_STR("u"));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_REALM, RTC_STR("r"));
    rtc_stun_put_str(&w, RTC_STUN_ATTR_NONCE, rtc_str_c(nonce));
    rtc_stun_put_integrity(&w, key, 16);
    int r = rtc_stun_finish(&w);
    return r > 0 ? (size_t)r : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 1);
    rtc_turn_server_config cfg = { .realm = RTC_STR("r"), .rng = &rng, .min_port = 50000, .max_port = 50015,
                                   .max_allocations = 8, .max_per_user = 6, .max_permissions = 4,
                                   .max_channels = 4, .max_tcp_conns = 4, .bandwidth = 100000,
                                   .rest_secret = RTC_STR("s") };
    rtc_addr_parse(&cfg.relay_v4, "203.0.113.1:0");
    rtc_addr_parse(&cfg.relay_v6, "[2001:db8::1]:0");
    rtc_turn_server *s;
    rtc_time now = RTC_SEC(1);
    if (rtc_turn_server_new(&s, &cfg, now) < 0) return 0;
    rtc_turn_server_add_user(s, RTC_STR("u"), RTC_STR("p"));
    rtc_turn_server_set_unix_time(s, 1000);
    nrelays = 0;
    fail_next = 0;
    nonce[0] = 0;
    uint8_t buf[2048];
    while (size >= 3) {
        uint8_t kind = data[0];
        size_t len = rtc_rd16(data + 1);
        data += 3; size -= 3;
        if (len > size) len = size;
        const rtc_addr *c = &clients[kind >> 6];
        switch (kind & 7) {
        case 0: rtc_turn_server_handle_packet(s, &listener, c, RTC_PROTO_UDP, data, len, now); break;
        case 1: rtc_turn_server_handle_packet(s, &listener, c, RTC_PROTO_TCP_RAW, data, len, now); break;
        case 2:
            if (nrelays) rtc_turn_server_handle_relay(s, relay_ids[(kind >> 3) % (nrelays < 8 ? nrelays : 8)],
                                                      &peers[(kind >> 6) & 1], data, len, now);
            break;
        case 3: now += (rtc_time)(len ? data[0] : 1) * RTC_SEC(5); rtc_turn_server_handle_timeout(s, now); break;
        case 4: rtc_turn_server_handle_tcp_closed(s, &listener, c, now); break;
        case 5: case 6: {
            size_t n = signed_request(buf, sizeof buf, data, len);
            if (n) rtc_turn_server_handle_packet(s, &listener, c, (kind & 7) == 6 ? RTC_PROTO_TCP_RAW : RTC_PROTO_UDP,
                                                 buf, n, now);
            break;
        }
        case 7: fail_next = len ? data[0] % 6 : 1; break;
        }
        drain(s, now);
        data += len; size -= len;
    }
    rtc_turn_server_free(s);
    return 0;
}
