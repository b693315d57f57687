#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "sdp/sdp.h"
static void test_min(void)
{
    const char *t = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";
    rtc_sdp *s; rtc_sdp_error e;
    ASSERT_OK(rtc_sdp_parse(&s, t, strlen(t), &e));
    char *out; size_t n;
    ASSERT_OK(rtc_sdp_write(s, &out, &n));
    fputs(out, stderr);
    free(out);
    rtc_sdp_free(s);
}
int main(void) { RUN(test_min); return 0; }
