/* DCEP (RFC 8832) codec: round trips for every channel type, and strict rejection of
 * truncated, inconsistent or unknown messages. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "sctp/dcep.h"

static void test_roundtrip_all_types(void)
{
    static const uint8_t types[] = {
        RTC_DCEP_RELIABLE, RTC_DCEP_RELIABLE_UNORDERED,
        RTC_DCEP_PARTIAL_RELIABLE_REXMIT, RTC_DCEP_PARTIAL_RELIABLE_REXMIT_UNORDERED,
        RTC_DCEP_PARTIAL_RELIABLE_TIMED, RTC_DCEP_PARTIAL_RELIABLE_TIMED_UNORDERED,
    };
    uint8_t buf[128];
    for (size_t i = 0; i < sizeof types; i++) {
        rtc_dcep_open o = { .channel_type = types[i], .priority = 512, .reliability = 1234,
                            .label = RTC_STR("chat"), .protocol = RTC_STR("json") };
        int n = rtc_dcep_build_open(&o, buf, sizeof buf);
        ASSERT_EQ(n, 12 + 4 + 4);
        ASSERT_EQ(buf[0], 0x03);
        ASSERT_EQ(buf[1], types[i]);
        rtc_dcep_msg m;
        ASSERT_EQ(rtc_dcep_parse(buf, (size_t)n, &m), RTC_DCEP_OPEN);
        ASSERT_EQ(m.open.channel_type, types[i]);
        ASSERT_EQ(m.open.priority, 512);
        /* Reliable types carry 0 on the wire and ignore the field on receipt. */
        ASSERT_EQ(m.open.reliability, (types[i] & 0x7f) == RTC_DCEP_RELIABLE ? 0 : 1234);
        ASSERT(rtc_str_eq(m.open.label, RTC_STR("chat")));
        ASSERT(rtc_str_eq(m.open.protocol, RTC_STR("json")));
        ASSERT_EQ(rtc_dcep_is_unordered(types[i]), (types[i] & 0x80) != 0);
    }
}

static void test_wire_layout(void)
{
    /* Byte for byte what RFC 8832 §5.1 draws: type, channel type, priority, reliability,
     * label length, protocol length, label, protocol. */
    uint8_t buf[32];
    rtc_dcep_open o = { .channel_type = RTC_DCEP_PARTIAL_RELIABLE_REXMIT_UNORDERED, .priority = 256,
                        .reliability = 3, .label = RTC_STR("ab"), .protocol = RTC_STR("") };
    static const uint8_t want[] = { 0x03, 0x81, 0x01, 0x00, 0, 0, 0, 3, 0, 2, 0, 0, 'a', 'b' };
    ASSERT_EQ(rtc_dcep_build_open(&o, buf, sizeof buf), sizeof want);
    ASSERT_MEMEQ(buf, want, sizeof want);
    ASSERT_EQ(rtc_dcep_build_ack(buf, sizeof buf), 1);
    ASSERT_EQ(buf[0], 0x02);
    rtc_dcep_msg m;
    ASSERT_EQ(rtc_dcep_parse(buf, 1, &m), RTC_DCEP_ACK);
}

static void test_rejects(void)
{
    uint8_t buf[64];
    rtc_dcep_msg m;
    rtc_dcep_open o = { .channel_type = RTC_DCEP_RELIABLE, .label = RTC_STR("abc"), .protocol = RTC_STR("p") };
    int n = rtc_dcep_build_open(&o, buf, sizeof buf);
    ASSERT_EQ(n, 16);
    ASSERT_EQ(rtc_dcep_parse(buf, 0, &m), RTC_ETRUNC);
    ASSERT_EQ(rtc_dcep_parse(NULL, 5, &m), RTC_ETRUNC);
    for (int cut = 1; cut < 12; cut++) ASSERT_EQ(rtc_dcep_parse(buf, (size_t)cut, &m), RTC_ETRUNC);
    for (int cut = 12; cut < n; cut++) ASSERT_EQ(rtc_dcep_parse(buf, (size_t)cut, &m), RTC_ETRUNC);
    buf[n] = 0;
    ASSERT_EQ(rtc_dcep_parse(buf, (size_t)n + 1, &m), RTC_EPROTO);          /* trailing byte */
    buf[9] = 0xff;                                                          /* label length 255 */
    ASSERT_EQ(rtc_dcep_parse(buf, (size_t)n, &m), RTC_ETRUNC);
    buf[8] = 0xff;                                                          /* 65535 */
    ASSERT_EQ(rtc_dcep_parse(buf, (size_t)n, &m), RTC_ETRUNC);
    buf[8] = 0; buf[9] = 3; buf[10] = 0xff; buf[11] = 0xff;                 /* protocol 65535 */
    ASSERT_EQ(rtc_dcep_parse(buf, (size_t)n, &m), RTC_ETRUNC);
    buf[10] = 0; buf[11] = 1;
    ASSERT_EQ(rtc_dcep_parse(buf, (size_t)n, &m), RTC_DCEP_OPEN);
    buf[1] = 0x03;                                                          /* unknown channel type */
    ASSERT_EQ(rtc_dcep_parse(buf, (size_t)n, &m), RTC_EPROTO);
    buf[1] = 0x80; buf[0] = 0x04;                                           /* unknown message type */
    ASSERT_EQ(rtc_dcep_parse(buf, (size_t)n, &m), RTC_EPROTO);
    uint8_t ack2[2] = { 0x02, 0x00 };
    ASSERT_EQ(rtc_dcep_parse(ack2, 2, &m), RTC_EPROTO);
    /* Building: too small a buffer, an invalid type, over-long strings. */
    ASSERT_EQ(rtc_dcep_build_open(&o, buf, 15), RTC_EOVERFLOW);
    o.channel_type = 0x7f;
    ASSERT_EQ(rtc_dcep_build_open(&o, buf, sizeof buf), RTC_EINVAL);
    o.channel_type = RTC_DCEP_RELIABLE;
    o.label.len = 70000;
    ASSERT_EQ(rtc_dcep_open_size(&o), 0);
    ASSERT_EQ(rtc_dcep_build_open(&o, buf, sizeof buf), RTC_EINVAL);
    ASSERT_EQ(rtc_dcep_build_ack(buf, 0), RTC_EOVERFLOW);
}

static void test_max_lengths(void)
{
    /* 65535-byte label and protocol: the largest legal OPEN parses back exactly. */
    static char big[65535];
    memset(big, 'L', sizeof big);
    rtc_dcep_open o = { .channel_type = RTC_DCEP_RELIABLE, .label = { big, sizeof big }, .protocol = { big, sizeof big } };
    size_t n = rtc_dcep_open_size(&o);
    ASSERT_EQ(n, 12 + 2 * 65535);
    uint8_t *buf = malloc(n);
    ASSERT_EQ(rtc_dcep_build_open(&o, buf, n), (int)n);
    rtc_dcep_msg m;
    ASSERT_EQ(rtc_dcep_parse(buf, n, &m), RTC_DCEP_OPEN);
    ASSERT_EQ(m.open.label.len, 65535);
    ASSERT_EQ(m.open.protocol.len, 65535);
    free(buf);
}

int main(void)
{
    RUN(test_roundtrip_all_types);
    RUN(test_wire_layout);
    RUN(test_rejects);
    RUN(test_max_lengths);
    return 0;
}
