/* libFuzzer target for JSEP with media: an arbitrary remote offer is applied to a peer
 * connection that already holds transceivers, answered and set as the local answer,
 * and the answer must parse back; then an arbitrary remote answer is applied to an
 * offer of ours with audio and video. Media sections, codecs, RTX, extmap ids,
 * directions and SSRC lines come from the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/rtc_errors.h"
#include "pc/pc_media.h"
#include "sdp/sdp.h"

static rtc_rng rng;
static rtc_dtls_cert *cert;

static rtc_pc *new_pc(void)
{
    rtc_pc_config cfg = { .rng = &rng, .cert = cert, .unix_now = 1700000000 };
    rtc_pc *pc;
    if (rtc_pc_new(&pc, &cfg, 0) < 0) abort();
    return pc;
}

static void drain(rtc_pc *pc)
{
    rtc_pc_event ev;
    while (rtc_pc_poll_event(pc, &ev)) rtc_buf_unref(ev.buf);
    rtc_transmit tx;
    while (rtc_pc_poll_transmit(pc, &tx)) rtc_buf_unref(tx.buf);
}

static void touch_transceivers(rtc_pc *pc)
{
    for (int i = 0; i < rtc_pc_transceiver_count(pc); i++) {
        rtc_transceiver_info info;
        if (rtc_pc_transceiver_info(pc, i, &info) < 0) abort();
        uint8_t frame[64] = { 0x10 };
        (void)rtc_pc_send_frame(pc, i, frame, sizeof frame, 0, true, 0);   /* not connected: refused */
        (void)rtc_pc_request_keyframe(pc, i, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cert) {
        rtc_rng_init_seed(&rng, 1);
        if (rtc_dtls_cert_generate(&cert, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000) < 0) abort();
    }
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;

    /* As the answerer, with a video transceiver waiting for a section. */
    rtc_pc *pc = new_pc();
    rtc_pc_add_transceiver(pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDRECV, RTC_CODEC_H264 }, 0);
    if (rtc_pc_set_remote_description(pc, RTC_SDP_OFFER, text, 0) == 0) {
        char *answer = NULL;
        if (rtc_pc_create_answer(pc, &answer, 0) == 0) {
            rtc_sdp *s;
            rtc_sdp_error err;
            if (rtc_sdp_parse(&s, answer, strlen(answer), &err) < 0) {      /* our answers always parse */
                if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "%s\n%s\n", err.msg, answer);
                abort();
            }
            rtc_sdp_free(s);
            (void)rtc_pc_set_local_description(pc, RTC_SDP_ANSWER, answer, 0);
            free(answer);
        }
    }
    touch_transceivers(pc);
    drain(pc);
    rtc_pc_free(pc);

    /* As the offerer: the input is the answer to our audio + video offer. */
    pc = new_pc();
    rtc_pc_add_transceiver(pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDRECV, -1 }, 0);
    rtc_pc_add_transceiver(pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_RECVONLY, -1 }, 0);
    char *offer = NULL;
    if (rtc_pc_create_offer(pc, false, &offer, 0) == 0) {
        if (rtc_pc_set_local_description(pc, RTC_SDP_OFFER, offer, 0) == 0)
            (void)rtc_pc_set_remote_description(pc, RTC_SDP_ANSWER, text, 0);
        free(offer);
    }
    touch_transceivers(pc);
    drain(pc);
    rtc_pc_free(pc);
    free(text);
    return 0;
}
