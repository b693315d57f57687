/* The SCTP checksum we compute in hardware agrees with usrsctp's portable one on every
 * length and alignment, a damaged packet is refused, and an association counts and
 * drops a packet with a wrong checksum without being disturbed by it. */
#include "core/rtc_rng.h"
#include "rtc_test.h"
#include "sctp/sctp_assoc.h"
#include "sctp/sctp_internal.h"
#include <usrsctp.h>

/* usrsctp's checksum of a packet, written where usrsctp writes it. */
static void reference_fill(uint8_t *p, size_t len)
{
    memset(p + 8, 0, 4);
    uint32_t c = usrsctp_crc32c(p, len);
    memcpy(p + 8, &c, 4);
}

static void test_matches_usrsctp(void)
{
    ASSERT_OK(rtc_sctp_global_init());
    if (!sctp__crc_offloaded()) {
        fprintf(stderr, "   no SSE 4.2: usrsctp keeps the checksum; nothing of ours to compare\n");
        ASSERT(sctp__crc_ok((const uint8_t *)"anything at all!", 16));
        return;
    }
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 7);
    static uint8_t buf[1600 + 8], ref[1600 + 8];
    for (size_t len = SCTP__MIN_PACKET; len <= 1600; len += len < 64 ? 1 : 37) {
        for (size_t align = 0; align < 8; align += 3) {
            uint8_t *p = buf + align;
            rtc_rng_bytes(&rng, p, len);
            memcpy(ref, p, len);
            reference_fill(ref, len);
            sctp__crc_fill(p, len);
            ASSERT_MEMEQ(p, ref, len);
            ASSERT(sctp__crc_ok(p, len));
            size_t bit = rtc_rng_below(&rng, (uint32_t)(len * 8));
            p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            ASSERT(!sctp__crc_ok(p, len));
        }
    }
    ASSERT(!sctp__crc_ok(buf, SCTP__MIN_PACKET - 1));
}

static void test_association_drops_bad_checksum(void)
{
    rtc_sctp_assoc *a;
    rtc_sctp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.dtls_client = true;
    ASSERT_OK(rtc_sctp_assoc_new(&a, &cfg, 1000));
    /* Its own INIT, damaged in one bit, fed back to it. */
    rtc_buf *b;
    ASSERT(rtc_sctp_assoc_poll_transmit(a, &b));
    ASSERT_GE(b->len, SCTP__MIN_PACKET);
    b->data[b->len - 1] ^= 0x40;
    ASSERT_EQ(rtc_sctp_assoc_handle_packet(a, b->data, b->len, 2000), 0);
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(a, &st);
    if (sctp__crc_offloaded()) {
        ASSERT_EQ(st.bad_checksum, 1);
        ASSERT_EQ(st.packets_in, 0);
    }
    rtc_buf_unref(b);
    rtc_sctp_assoc_free(a);
    ASSERT_OK(rtc_sctp_global_shutdown());
}

int main(void)
{
    RUN(test_matches_usrsctp);
    RUN(test_association_drops_bad_checksum);
    return 0;
}
