/* sdp/: malformed descriptions give RTC_EPROTO (or RTC_ETOOBIG past a bound) with the
 * line number and a message; nothing leaks on any error path. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "sdp/sdp.h"

/* Four session lines, so a fault in the first media line is on line 6 (m= is 5). */
#define HEAD "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\n"
#define AUDIO HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 96\n"
#define DATA HEAD "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"

typedef struct bad {
    const char *sdp;
    int rc, line;
    const char *msg;       /* substring of err.msg */
} bad;

static const bad cases[] = {
    { "", RTC_EPROTO, 0, "missing v= line" },
    { "o=- 1 1 IN IP4 0.0.0.0\nv=0\n", RTC_EPROTO, 1, "missing v= line" },
    { "\n\ns=-\n", RTC_EPROTO, 3, "missing v= line" },
    { "v=1\no=- 1 1 IN IP4 0.0.0.0\n", RTC_EPROTO, 1, "version" },
    { "v=0\nm=audio 9 RTP/AVP 0\no=- 1 1 IN IP4 0.0.0.0\n", RTC_EPROTO, 2, "m= line before o= line" },
    { "v=0\ns=-\n", RTC_EPROTO, 2, "missing o= line" },
    { "v=0\no=- 1 IN IP4 0.0.0.0\n", RTC_EPROTO, 2, "invalid o= line" },
    { "v=0\no=- abc 1 IN IP4 0.0.0.0\n", RTC_EPROTO, 2, "invalid o= line" },
    { "v=0\no=- 1 1 IN IP4 0.0.0.0 extra\n", RTC_EPROTO, 2, "invalid o= line" },
    { "v=0\no=- 99999999999999999999 1 IN IP4 0.0.0.0\n", RTC_EPROTO, 2, "invalid o= line" },
    { HEAD "o=- 1 1 IN IP4 0.0.0.0\n", RTC_EPROTO, 5, "duplicate o= line" },
    { HEAD "v=0\n", RTC_EPROTO, 5, "duplicate v= line" },
    { "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0\n", RTC_EPROTO, 4, "invalid t= line" },
    { HEAD "garbage\n", RTC_EPROTO, 5, "invalid line" },
    { HEAD "A=foo\n", RTC_EPROTO, 5, "invalid line" },
    { HEAD "=\n", RTC_EPROTO, 5, "invalid line" },
    { HEAD "c=IN IP4\n", RTC_EPROTO, 5, "invalid c= line" },
    { HEAD "b=AS\n", RTC_EPROTO, 5, "invalid b= line" },
    { HEAD "b=AS:fast\n", RTC_EPROTO, 5, "invalid b= line" },
    { HEAD "m=audio 70000 RTP/AVP 0\n", RTC_EPROTO, 5, "invalid port" },
    { HEAD "m=audio -1 RTP/AVP 0\n", RTC_EPROTO, 5, "invalid port" },
    { HEAD "m=audio 9/0 RTP/AVP 0\n", RTC_EPROTO, 5, "invalid port" },
    { HEAD "m=audio 9 RTP/AVP\n", RTC_EPROTO, 5, "invalid m= line" },
    { HEAD "m=audio\n", RTC_EPROTO, 5, "invalid m= line" },
    { HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 abc\n", RTC_EPROTO, 5, "invalid payload type" },
    { HEAD "m=video 9 UDP/TLS/RTP/SAVPF 128\n", RTC_EPROTO, 5, "invalid payload type" },
    { AUDIO "o=- 1 1 IN IP4 0.0.0.0\n", RTC_EPROTO, 6, "o= line in a media section" },
    { AUDIO "t=0 0\n", RTC_EPROTO, 6, "t= line in a media section" },
    { AUDIO "c=IN IP4 0.0.0.0\nc=IN IP4 0.0.0.0\n", RTC_EPROTO, 7, "duplicate c= line" },
    { AUDIO "a=rtpmap:96 VP8\n", RTC_EPROTO, 6, "invalid a=rtpmap" },
    { AUDIO "a=rtpmap:200 VP8/90000\n", RTC_EPROTO, 6, "invalid a=rtpmap" },
    { AUDIO "a=rtpmap:96 VP8/abc\n", RTC_EPROTO, 6, "clock rate" },
    { AUDIO "a=rtpmap:96 opus/48000/0\n", RTC_EPROTO, 6, "clock rate or channels" },
    { AUDIO "a=rtpmap:96 /48000\n", RTC_EPROTO, 6, "invalid a=rtpmap" },
    { AUDIO "a=fmtp:x foo=1\n", RTC_EPROTO, 6, "invalid a=fmtp" },
    { AUDIO "a=rtcp-fb:96\n", RTC_EPROTO, 6, "invalid a=rtcp-fb" },
    { AUDIO "a=rtcp-fb:x nack\n", RTC_EPROTO, 6, "invalid a=rtcp-fb" },
    { AUDIO "a=extmap:0 urn:x\n", RTC_EPROTO, 6, "invalid a=extmap id" },
    { AUDIO "a=extmap:256 urn:x\n", RTC_EPROTO, 6, "invalid a=extmap id" },
    { AUDIO "a=extmap:1/sideways urn:x\n", RTC_EPROTO, 6, "invalid a=extmap direction" },
    { AUDIO "a=extmap:1\n", RTC_EPROTO, 6, "invalid a=extmap" },
    { HEAD "a=extmap:x urn:x\n", RTC_EPROTO, 5, "invalid a=extmap id" },
    { AUDIO "a=setup:maybe\n", RTC_EPROTO, 6, "invalid a=setup" },
    { HEAD "a=setup\n", RTC_EPROTO, 5, "a=setup needs a value" },
    { AUDIO "a=fingerprint:sha-256\n", RTC_EPROTO, 6, "invalid a=fingerprint" },
    { AUDIO "a=fingerprint:sha-256 AA:BB extra\n", RTC_EPROTO, 6, "invalid a=fingerprint" },
    { AUDIO "a=mid\n", RTC_EPROTO, 6, "a=mid needs a value" },
    { AUDIO "a=mid:   \n", RTC_EPROTO, 6, "a=mid needs a value" },
    { AUDIO "a=ice-ufrag:\n", RTC_EPROTO, 6, "a=ice-ufrag needs a value" },
    { HEAD "a=ice-pwd\n", RTC_EPROTO, 5, "a=ice-pwd needs a value" },
    { AUDIO "a=candidate:\n", RTC_EPROTO, 6, "a=candidate needs a value" },
    { AUDIO "a=msid:\n", RTC_EPROTO, 6, "a=msid needs a value" },
    { AUDIO "a=msid:a b c\n", RTC_EPROTO, 6, "invalid a=msid" },
    { HEAD "a=group:\n", RTC_EPROTO, 5, "a=group needs a value" },
    { AUDIO "a=ssrc:abc cname:x\n", RTC_EPROTO, 6, "invalid a=ssrc" },
    { AUDIO "a=ssrc:4294967296 cname:x\n", RTC_EPROTO, 6, "invalid a=ssrc" },
    { AUDIO "a=ssrc:1\n", RTC_EPROTO, 6, "invalid a=ssrc" },
    { AUDIO "a=ssrc:1 :x\n", RTC_EPROTO, 6, "invalid a=ssrc" },
    { AUDIO "a=ssrc-group:FID\n", RTC_EPROTO, 6, "invalid a=ssrc-group" },
    { AUDIO "a=ssrc-group:FID 1 x\n", RTC_EPROTO, 6, "invalid ssrc in a=ssrc-group" },
    { AUDIO "a=rid:1 both\n", RTC_EPROTO, 6, "invalid a=rid direction" },
    { AUDIO "a=rid:1\n", RTC_EPROTO, 6, "invalid a=rid" },
    { AUDIO "a=rid:1 send pt=96,x\n", RTC_EPROTO, 6, "invalid a=rid restrictions" },
    { AUDIO "a=rid:1 send pt=96,\n", RTC_EPROTO, 6, "invalid a=rid restrictions" },
    { AUDIO "a=rid:1 send pt=\n", RTC_EPROTO, 6, "invalid a=rid restrictions" },
    { AUDIO "a=simulcast:send\n", RTC_EPROTO, 6, "invalid a=simulcast" },
    { AUDIO "a=simulcast:send a;;b\n", RTC_EPROTO, 6, "invalid a=simulcast" },
    { AUDIO "a=simulcast:send a;b;\n", RTC_EPROTO, 6, "invalid a=simulcast" },
    { AUDIO "a=simulcast:send ~\n", RTC_EPROTO, 6, "invalid a=simulcast" },
    { AUDIO "a=simulcast:sideways a\n", RTC_EPROTO, 6, "invalid a=simulcast" },
    { AUDIO "a=simulcast:send a send b\n", RTC_EPROTO, 6, "invalid a=simulcast" },
    { AUDIO "a=simulcast:send a!b\n", RTC_EPROTO, 6, "invalid a=simulcast" },
    { DATA "a=sctp-port:70000\n", RTC_EPROTO, 6, "invalid a=sctp-port" },
    { DATA "a=sctp-port:5000 5001\n", RTC_EPROTO, 6, "invalid a=sctp-port" },
    { DATA "a=max-message-size:-5\n", RTC_EPROTO, 6, "invalid a=max-message-size" },
    { DATA "a=max-message-size:9223372036854775808\n", RTC_EPROTO, 6, "invalid a=max-message-size" },
    { DATA "a=sctpmap:5000\n", RTC_EPROTO, 6, "invalid a=sctpmap" },
    { DATA "a=sctpmap:5000 webrtc-datachannel many\n", RTC_EPROTO, 6, "invalid a=sctpmap" },
    { DATA "a=mid:0\r\n\r\na=sctp-port:x\r\n", RTC_EPROTO, 8, "invalid a=sctp-port" },
    { DATA "a=candida\re:1 1 udp 1 127.0.0.1 9 typ host\n", RTC_EPROTO, 6, "CR inside line" },
    { DATA "a=mid:0\r\r\na=x\ra=y\r\n", RTC_EPROTO, 7, "CR inside line" },
};

static void test_malformed(void)
{
    size_t n = sizeof cases / sizeof cases[0];
    ASSERT_GE(n, 20);
    for (size_t i = 0; i < n; i++) {
        rtc_sdp *s = (rtc_sdp *)1;
        rtc_sdp_error err;
        int rc = rtc_sdp_parse(&s, cases[i].sdp, strlen(cases[i].sdp), &err);
        if (rc != cases[i].rc || err.line != cases[i].line || !strstr(err.msg, cases[i].msg))
            RTC_TEST_FAIL("case %zu: rc %d line %d msg \"%s\"; wanted rc %d line %d \"%s\"\n%s",
                          i, rc, err.line, err.msg, cases[i].rc, cases[i].line, cases[i].msg, cases[i].sdp);
        ASSERT(s == NULL);
        char want[32];
        snprintf(want, sizeof want, "line %d: ", cases[i].line);
        ASSERT(strncmp(err.msg, want, strlen(want)) == 0);
        /* the same input without an error struct fails the same way */
        ASSERT_EQ(rtc_sdp_parse(&s, cases[i].sdp, strlen(cases[i].sdp), NULL), cases[i].rc);
    }
}

static void test_nul_byte(void)
{
    const char t[] = HEAD "a=tool:x\0y\n";
    rtc_sdp *s;
    rtc_sdp_error err;
    ASSERT_EQ(rtc_sdp_parse(&s, t, sizeof t - 1, &err), RTC_EPROTO);
    ASSERT_EQ(err.line, 5);
    ASSERT(strstr(err.msg, "NUL"));
}

/* A growable string for building large inputs. */
typedef struct { char *p; size_t len, cap; } sbuf;
static void sb_add(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        ASSERT(b->p);
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void expect_toobig(sbuf *b, int line, const char *msg)
{
    rtc_sdp *s;
    rtc_sdp_error err;
    ASSERT_EQ(rtc_sdp_parse(&s, b->p, b->len, &err), RTC_ETOOBIG);
    ASSERT_EQ(err.line, line);
    if (!strstr(err.msg, msg))
        RTC_TEST_FAIL("\"%s\" lacks \"%s\"", err.msg, msg);
    free(b->p);
    *b = (sbuf){ 0 };
}

static void test_limits(void)
{
    sbuf b = { 0 };
    char line[64];

    /* exactly the maximum of m= sections parses; one more does not */
    sb_add(&b, HEAD);
    for (int i = 0; i < RTC_SDP_MAX_MEDIA; i++)
        sb_add(&b, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n");
    rtc_sdp *s;
    ASSERT_OK(rtc_sdp_parse(&s, b.p, b.len, NULL));
    ASSERT_EQ(s->nmedia, RTC_SDP_MAX_MEDIA);
    rtc_sdp_free(s);
    sb_add(&b, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\n");
    expect_toobig(&b, 4 + RTC_SDP_MAX_MEDIA + 1, "too many m= sections");

    sb_add(&b, HEAD "m=application 9 UDP/DTLS/SCTP");
    for (int i = 0; i <= RTC_SDP_MAX_FORMATS; i++)
        sb_add(&b, " x");
    sb_add(&b, "\n");
    expect_toobig(&b, 5, "too many formats");

    sb_add(&b, AUDIO);
    for (int i = 0; i <= RTC_SDP_MAX_ATTRS; i++)
        sb_add(&b, "a=x-filler\n");
    expect_toobig(&b, 5 + RTC_SDP_MAX_ATTRS + 1, "too many lines");

    /* other line types are few in practice; a flood of them is refused */
    sb_add(&b, HEAD);
    for (int i = 0; i <= RTC_SDP_MAX_LINES; i++)
        sb_add(&b, "k=prompt\n");
    expect_toobig(&b, 5 + RTC_SDP_MAX_LINES, "too many k= lines");

    /* list-heavy lines would take far more memory than their text: the parse budget
     * (RTC_SDP_MEM_FACTOR) stops them */
    sb_add(&b, AUDIO "a=simulcast:send a");
    for (int i = 0; i < 200000; i++)
        sb_add(&b, ";a");
    sb_add(&b, "\n");
    size_t len = b.len;
    expect_toobig(&b, 6, "too complex");
    sb_add(&b, AUDIO "a=fmtp:96 x");
    for (int i = 0; i < 200000; i++)
        sb_add(&b, ";x");
    sb_add(&b, "\n");
    expect_toobig(&b, 6, "too complex");
    /* while a big but ordinary description stays well inside it */
    sb_add(&b, HEAD);
    for (int i = 0; b.len < len; i++) {
        snprintf(line, sizeof line, "m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:%d\n", i);
        sb_add(&b, line);
        sb_add(&b, "a=rtpmap:96 VP8/90000\na=rtcp-fb:96 nack\na=rtcp-fb:96 nack pli\n"
                   "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\na=ssrc:1 cname:abcdefgh\n");
        if (i == RTC_SDP_MAX_MEDIA - 1)
            break;
    }
    ASSERT_OK(rtc_sdp_parse(&s, b.p, b.len, NULL));
    ASSERT_EQ(s->nmedia, RTC_SDP_MAX_MEDIA);
    ASSERT_LE(s->arena_bytes, RTC_SDP_MEM_FACTOR / 2 * b.len + 65536);
    rtc_sdp_free(s);
    free(b.p);
    b = (sbuf){ 0 };

    /* an input past the size bound is not read */
    sb_add(&b, HEAD);
    while (b.len <= RTC_SDP_MAX_SIZE) {
        snprintf(line, sizeof line, "a=tool:%0*d\n", 40, (int)b.len);
        sb_add(&b, line);
    }
    expect_toobig(&b, 0, "too large");
}

int main(void)
{
    RUN(test_malformed);
    RUN(test_nul_byte);
    RUN(test_limits);
    return 0;
}
