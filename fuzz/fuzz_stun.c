/* libFuzzer target: the STUN parser, attribute decoders, integrity check and stream
 * framing; the same bytes also go through the ICE candidate grammar, an ICE agent, the
 * single-port router and a TURN client (over a TCP stream, so framing state is
 * exercised too). */
#include "core/rtc_errors.h"
#include "ice/ice_agent.h"
#include "ice/ice_candidate.h"
#include "ice/ice_router.h"
#include "stun/stun.h"
#include "turn/turn_client.h"
#include <stdint.h>
#include <string.h>

static rtc_rng rng;
static rtc_ice_agent *agent;
static rtc_turn_client *turn;
static rtc_ice_router *router;
static int owner;
static rtc_addr local, remote, server;
static rtc_time now;

static void setup(void)
{
    rtc_rng_init_seed(&rng, 1);
    rtc_addr_parse(&local, "192.0.2.1:1000");
    rtc_addr_parse(&remote, "192.0.2.2:2000");
    rtc_addr_parse(&server, "192.0.2.3:3478");
    rtc_ice_config cfg = { .controlling = true, .tie_breaker = 1, .rng = &rng,
                           .local_ufrag = RTC_STR("fuzz"), .local_pwd = RTC_STR("0123456789abcdefghijklmn") };
    rtc_ice_agent_new(&agent, &cfg, 0);
    rtc_ice_agent_add_host_candidate(agent, &local, 65535, NULL, 0);
    rtc_ice_agent_set_remote_credentials(agent, RTC_STR("peer"), RTC_STR("0123456789abcdefghijklmn"), 0);
    rtc_turn_config tc = { .server = server, .local = local, .transport = RTC_TURN_TCP,
                           .username = RTC_STR("u"), .password = RTC_STR("p"), .rng = &rng };
    rtc_turn_client_new(&turn, &tc, 0);
    rtc_ice_router_new(&router, 64);
    rtc_ice_router_add_ufrag(router, RTC_STR("fuzz"), &owner);
    rtc_ice_router_learn(router, &remote, &owner);
}

static void drain(void)
{
    rtc_transmit t;
    rtc_ice_event e;
    rtc_turn_event te;
    while (rtc_ice_agent_poll_transmit(agent, &t)) rtc_buf_unref(t.buf);
    while (rtc_ice_agent_poll_event(agent, &e)) if (e.type == RTC_ICE_EV_DATA) rtc_buf_unref(e.u.data.buf);
    while (rtc_turn_client_poll_transmit(turn, &t)) rtc_buf_unref(t.buf);
    while (rtc_turn_client_poll_event(turn, &te)) if (te.type == RTC_TURN_EV_DATA) rtc_buf_unref(te.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!agent) setup();
    rtc_stun_msg m;
    if (rtc_stun_parse(data, size, &m) == 0) {
        static const uint16_t addrs[] = { RTC_STUN_ATTR_MAPPED_ADDRESS, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS,
                                          RTC_STUN_ATTR_XOR_PEER_ADDRESS, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS,
                                          RTC_STUN_ATTR_ALTERNATE_SERVER };
        rtc_addr a;
        for (size_t i = 0; i < sizeof addrs / sizeof *addrs; i++) rtc_stun_get_addr(&m, addrs[i], &a);
        int code;
        rtc_str s;
        uint32_t u32;
        uint64_t u64;
        uint16_t ch;
        rtc_stun_get_error(&m, &code, &s);
        rtc_stun_get_str(&m, RTC_STUN_ATTR_USERNAME, &s);
        rtc_stun_get_u32(&m, RTC_STUN_ATTR_PRIORITY, &u32);
        rtc_stun_get_u64(&m, RTC_STUN_ATTR_ICE_CONTROLLING, &u64);
        rtc_stun_get_channel(&m, &ch);
        rtc_stun_check_integrity(&m, (const uint8_t *)"0123456789abcdefghijklmn", 24);
        uint8_t out[512];
        rtc_stun_build_error(&m, 420, "Unknown Attribute", out, sizeof out);
    }
    rtc_stun_frame_len(data, size);

    rtc_ice_candidate c;
    if (rtc_ice_candidate_parse(&c, (const char *)data, size) == 0) {
        char line[1024];
        rtc_ice_candidate_format(&c, line, sizeof line);
        rtc_ice_agent_add_remote_candidate(agent, &c, now);
    }

    rtc_ice_route how;
    rtc_ice_router_route(router, data, size, &server, &how);
    rtc_ice_router_route(router, data, size, &remote, &how);
    rtc_ice_agent_accepts(agent, &local, data, size, &remote);

    now += 1000;
    rtc_ice_agent_handle_packet(agent, &local, &remote, data, size, RTC_PROTO_UDP, now);
    rtc_turn_client_handle_packet(turn, data, size, now);
    rtc_ice_agent_handle_timeout(agent, now);
    rtc_turn_client_handle_timeout(turn, now);
    drain();
    return 0;
}
