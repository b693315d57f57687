/* Internal to runtime/sdp/: the arena, list growth and value parsers shared by the
 * parser and the builders. Not for other modules. */
#ifndef RTC_SDP_INTERNAL_H
#define RTC_SDP_INTERNAL_H
#include "sdp/sdp.h"

/* Zeroed memory from s's arena, freed with s. NULL on ENOMEM. */
void *sdp__alloc(rtc_sdp *s, size_t n);
/* rtc_sdp_parse with the first arena block `first_block` bytes (0 = the default size). */
int sdp__parse(rtc_sdp **out, const char *text, size_t len, rtc_sdp_error *err, size_t first_block);
/* Append one zeroed element to the list (*arr, *n), growing it in the arena when *n
 * is 0 or a power of two >= 4 (the implied capacity). NULL on ENOMEM. */
void *sdp__push(rtc_sdp *s, void **arr, size_t *n, size_t elem);
#define SDP__PUSH(s, arr, n) ((__typeof__(arr))sdp__push((s), (void **)&(arr), &(n), sizeof *(arr)))

static inline bool sdp__blank(char c) { return c == ' ' || c == '\t'; }

/* Strict unsigned decimal: digits only, no sign, no overflow past max. */
bool sdp__u64(const char *p, size_t n, uint64_t max, uint64_t *out);

/* "k=v;k2;k3=v3" (blanks around items ignored, empty items skipped) appended to the
 * list. ENOMEM only. */
int sdp__parse_params(rtc_sdp *s, const char *str, rtc_sdp_param **out, size_t *n);
/* rid restrictions: "pt=96,97;max-width=1280". RTC_EPROTO on a bad pt list. */
int sdp__parse_rid_restrictions(rtc_sdp *s, rtc_sdp_rid *r, const char *str);
/* a=simulcast value into sc (which is reset first). RTC_EPROTO / RTC_ENOMEM. */
int sdp__parse_simulcast(rtc_sdp *s, rtc_sdp_simulcast *sc, const char *value);
/* A codec for static payload types a peer may list without rtpmap (RFC 3551). */
void sdp__static_codec(rtc_sdp_codec *c);

/* Where a non-a= line goes: session i u e p (0-3) before c=, then t r (4), z (5),
 * k (6), unknown (7) after t=; media i (0) before c=, the rest (1) after b=. */
static inline int sdp__line_rank(char type, bool media)
{
    if (media)
        return type == 'i' ? 0 : 1;
    switch (type) {
    case 'i': return 0;
    case 'u': return 1;
    case 'e': return 2;
    case 'p': return 3;
    case 't': case 'r': return 4;
    case 'z': return 5;
    case 'k': return 6;
    default: return 7;
    }
}

/* Case-insensitive ASCII compare of NUL-terminated strings. */
bool sdp__ieq(const char *a, const char *b);

#endif
