/* libFuzzer target for the SDP parser and writer. Properties checked on every input
 * that parses: the model writes (a parsed model is always writable), the text parses
 * back to an equal model (unless the rewrite crossed a size bound), and writing that
 * again gives the same bytes. The lookups and codec matching run over the result too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/rtc_errors.h"
#include "sdp/sdp.h"

static void touch(const rtc_sdp *s)
{
    (void)rtc_sdp_find_group(s, "BUNDLE");
    for (size_t i = 0; i < s->nmedia; i++) {
        const rtc_sdp_media *m = s->media[i];
        (void)rtc_sdp_find_media(s, m->mid);
        (void)rtc_sdp_media_direction(s, m);
        (void)rtc_sdp_media_ice(s, m);
        (void)rtc_sdp_media_dtls(s, m);
        (void)rtc_sdp_ice_option(m->ice.options, "trickle");
        for (size_t k = 0; k < m->ncodecs; k++) {
            const rtc_sdp_codec *c = m->codecs[k];
            (void)rtc_sdp_media_rtx_for(m, c->pt);
            (void)rtc_sdp_codec_has_fb(c, m, "nack");
            (void)rtc_sdp_h264_profile(rtc_sdp_codec_param(c, "profile-level-id"), NULL);
            if (k > 0) {
                char plid[7];
                (void)rtc_sdp_codec_match(m->codecs[k - 1], c);
                (void)rtc_sdp_h264_answer_plid(m->codecs[k - 1], c, plid);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_sdp *a = NULL, *b = NULL;
    rtc_sdp_error err;
    if (rtc_sdp_parse(&a, (const char *)data, size, &err) < 0)
        return 0;
    touch(a);
    char *t1 = NULL, *t2 = NULL;
    size_t l1, l2;
    if (rtc_sdp_write(a, &t1, &l1) < 0)
        abort();
    int rc = rtc_sdp_parse(&b, t1, l1, &err);
    if (rc == RTC_ETOOBIG)
        goto out;
    if (rc < 0 || !rtc_sdp_equal(a, b))
        abort();
    if (rtc_sdp_write(b, &t2, &l2) < 0 || l1 != l2 || memcmp(t1, t2, l1) != 0)
        abort();
out:
    free(t1);
    free(t2);
    rtc_sdp_free(a);
    rtc_sdp_free(b);
    return 0;
}
