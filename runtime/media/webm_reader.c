/* WebM / Matroska reader (webm.h). */
#include "media/webm.h"
#include "core/rtc_errors.h"
#include <string.h>

#define UNKNOWN_SIZE UINT64_MAX

typedef struct ebml__el { uint32_t id; uint64_t size; size_t hdr; } ebml__el;

/* An element header at p[0..len): 1-4 byte ID (kept with its marker), 1-8 byte size.
 * A size of all ones is "unknown". */
static int ebml__read(const uint8_t *p, size_t len, ebml__el *e)
{
    if (len < 2) return RTC_ETRUNC;
    int il = p[0] & 0x80 ? 1 : p[0] & 0x40 ? 2 : p[0] & 0x20 ? 3 : p[0] & 0x10 ? 4 : 0;
    if (!il) return RTC_EPROTO;
    if (len < (size_t)il + 1) return RTC_ETRUNC;
    uint32_t id = 0;
    for (int i = 0; i < il; i++) id = id << 8 | p[i];
    uint8_t b = p[il];
    int sl = 1;
    while (sl <= 8 && !(b & (0x80 >> (sl - 1)))) sl++;
    if (sl > 8) return RTC_EPROTO;
    if (len < (size_t)(il + sl)) return RTC_ETRUNC;
    uint64_t v = b & (0xFF >> sl);
    bool ones = v == (uint64_t)(0xFF >> sl);
    for (int i = 1; i < sl; i++) { v = v << 8 | p[il + i]; ones = ones && p[il + i] == 0xFF; }
    e->id = id;
    e->size = ones ? UNKNOWN_SIZE : v;
    e->hdr = (size_t)(il + sl);
    return 0;
}

static uint64_t ebml__uint(const uint8_t *p, uint64_t n)
{
    uint64_t v = 0;
    for (uint64_t i = 0; i < n && i < 8; i++) v = v << 8 | p[i];
    return v;
}

static double ebml__float(const uint8_t *p, uint64_t n)
{
    if (n == 4) { uint32_t u = (uint32_t)ebml__uint(p, 4); float f; memcpy(&f, &u, 4); return f; }
    if (n == 8) { uint64_t u = ebml__uint(p, 8); double d; memcpy(&d, &u, 8); return d; }
    return 0;
}

/* Children of a sized master element p[0..len), calling fn for each. */
typedef int (*ebml__child_fn)(rtc_webm_reader *r, void *ctx, const ebml__el *e, const uint8_t *body);

static int ebml__each(rtc_webm_reader *r, const uint8_t *p, size_t len, ebml__child_fn fn, void *ctx)
{
    size_t off = 0;
    while (off < len) {
        ebml__el e;
        int rc = ebml__read(p + off, len - off, &e);
        if (rc) return rc;
        if (e.size == UNKNOWN_SIZE || e.size > len - off - e.hdr) return RTC_ETRUNC;
        if ((rc = fn(r, ctx, &e, p + off + e.hdr))) return rc;
        off += e.hdr + (size_t)e.size;
    }
    return 0;
}

static int webm__video_child(rtc_webm_reader *r, void *ctx, const ebml__el *e, const uint8_t *b)
{
    (void)r;
    rtc_webm_track *t = ctx;
    if (e->id == 0xB0) t->width = (uint32_t)ebml__uint(b, e->size);
    if (e->id == 0xBA) t->height = (uint32_t)ebml__uint(b, e->size);
    if (e->id == 0x9F) t->channels = (uint32_t)ebml__uint(b, e->size);
    return 0;
}

static int webm__codec(const uint8_t *b, uint64_t n)
{
    static const struct { const char *id; rtc_codec_id c; } m[] = {
        { "A_OPUS", RTC_CODEC_OPUS }, { "V_VP8", RTC_CODEC_VP8 }, { "V_VP9", RTC_CODEC_VP9 },
        { "V_AV1", RTC_CODEC_AV1 }, { "V_MPEG4/ISO/AVC", RTC_CODEC_H264 } };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strlen(m[i].id) == n && !memcmp(b, m[i].id, (size_t)n)) return (int)m[i].c;
    return -1;
}

static int webm__entry_child(rtc_webm_reader *r, void *ctx, const ebml__el *e, const uint8_t *b)
{
    rtc_webm_track *t = ctx;
    switch (e->id) {
    case 0xD7: t->number = (int)ebml__uint(b, e->size); break;
    case 0x83: t->type = (int)ebml__uint(b, e->size); break;
    case 0x86: t->codec = webm__codec(b, e->size); break;
    case 0x63A2: t->priv = b; t->priv_len = (size_t)e->size; break;
    case 0xE0: case 0xE1: return ebml__each(r, b, (size_t)e->size, webm__video_child, t);
    }
    return 0;
}

static int webm__tracks_child(rtc_webm_reader *r, void *ctx, const ebml__el *e, const uint8_t *b)
{
    (void)ctx;
    if (e->id != 0xAE) return 0;
    if (r->ntracks == RTC_WEBM_MAX_TRACKS) return RTC_ENOTSUP;
    rtc_webm_track t = { .codec = -1 };
    int rc = ebml__each(r, b, (size_t)e->size, webm__entry_child, &t);
    if (rc) return rc;
    if (t.number <= 0 || t.number > 127) return RTC_EPROTO;
    r->tracks[r->ntracks++] = t;
    return 0;
}

static int webm__info_child(rtc_webm_reader *r, void *ctx, const ebml__el *e, const uint8_t *b)
{
    (void)ctx;
    if (e->id == 0x2AD7B1) r->timecode_scale = ebml__uint(b, e->size);
    if (e->id == 0x4489) r->duration_ms = ebml__float(b, e->size);
    return 0;
}

static int webm__header_child(rtc_webm_reader *r, void *ctx, const ebml__el *e, const uint8_t *b)
{
    (void)r;
    if (e->id == 0x4282) {
        *(int *)ctx = (e->size == 4 && !memcmp(b, "webm", 4)) || (e->size == 8 && !memcmp(b, "matroska", 8));
    }
    return 0;
}

int rtc_webm_reader_init(rtc_webm_reader *r, const uint8_t *data, size_t len)
{
    memset(r, 0, sizeof *r);
    ebml__el e;
    int rc = ebml__read(data, len, &e);
    if (rc) return rc;
    if (e.id != 0x1A45DFA3) return RTC_EPROTO;
    if (e.size == UNKNOWN_SIZE || e.size > len - e.hdr) return RTC_ETRUNC;
    int doc_ok = 0;
    if ((rc = ebml__each(r, data + e.hdr, (size_t)e.size, webm__header_child, &doc_ok))) return rc;
    if (!doc_ok) return RTC_ENOTSUP;
    size_t off = e.hdr + (size_t)e.size;
    if ((rc = ebml__read(data + off, len - off, &e))) return rc;
    if (e.id != 0x18538067) return RTC_EPROTO;
    r->seg_start = off + e.hdr;
    /* A segment whose size runs past the data (a cut file) is read up to the end. */
    r->seg_end = e.size == UNKNOWN_SIZE || e.size > len - r->seg_start ? len : r->seg_start + (size_t)e.size;
    r->data = data;
    r->len = len;
    r->timecode_scale = 1000000;
    /* Top-level elements up to the first Cluster: Info and Tracks. */
    off = r->seg_start;
    while (off < r->seg_end) {
        if ((rc = ebml__read(data + off, r->seg_end - off, &e))) return rc;
        if (e.id == 0x1F43B675) break;
        if (e.size == UNKNOWN_SIZE || e.size > r->seg_end - off - e.hdr) return RTC_ETRUNC;
        const uint8_t *b = data + off + e.hdr;
        if (e.id == 0x1549A966 && (rc = ebml__each(r, b, (size_t)e.size, webm__info_child, NULL))) return rc;
        if (e.id == 0x1654AE6B && (rc = ebml__each(r, b, (size_t)e.size, webm__tracks_child, NULL))) return rc;
        off += e.hdr + (size_t)e.size;
    }
    if (!r->ntracks) return RTC_EPROTO;
    if (!r->timecode_scale || r->timecode_scale > 1000000000ull) return RTC_EPROTO;
    r->first_cluster = r->off = off;
    return 0;
}

/* A Block / SimpleBlock body: track vint, int16 timecode, flags, frame. */
static int webm__block(rtc_webm_reader *r, const uint8_t *b, size_t n, bool simple, rtc_webm_frame *f)
{
    if (n < 4) return RTC_ETRUNC;
    if (!(b[0] & 0x80)) return RTC_ENOTSUP;              /* track numbers above 127 */
    int num = b[0] & 0x7f;
    int16_t rel = (int16_t)(b[1] << 8 | b[2]);
    uint8_t flags = b[3];
    if (flags & 0x06) return RTC_ENOTSUP;                /* lacing */
    int ti = -1;
    for (int i = 0; i < r->ntracks; i++) if (r->tracks[i].number == num) ti = i;
    if (ti < 0) return 0;
    if (n == 4) return RTC_EPROTO;
    f->track = ti;
    f->data = b + 4;
    f->len = n - 4;
    __int128 ticks = (__int128)r->cluster_ts + rel;
    __int128 ms = ticks * (__int128)r->timecode_scale / 1000000;
    f->pts_ms = ms > INT64_MAX ? INT64_MAX : ms < INT64_MIN ? INT64_MIN : (int64_t)ms;
    f->keyframe = simple ? (flags & 0x80) != 0 : true;
    return 1;
}

static int webm__fail(rtc_webm_reader *r, int e) { return r->err = e; }

int rtc_webm_reader_next(rtc_webm_reader *r, rtc_webm_frame *f)
{
    if (r->err) return r->err;
    while (r->off < r->seg_end) {
        ebml__el e;
        int rc = ebml__read(r->data + r->off, r->seg_end - r->off, &e);
        if (rc) return webm__fail(r, rc);
        const uint8_t *b = r->data + r->off + e.hdr;
        if (e.id == 0x1F43B675) {                        /* Cluster: descend into it */
            r->off += e.hdr;
            continue;
        }
        if (e.size == UNKNOWN_SIZE || e.size > r->seg_end - r->off - e.hdr) return webm__fail(r, RTC_ETRUNC);
        size_t n = (size_t)e.size;
        r->off += e.hdr + n;
        if (e.id == 0xE7) {
            if (n > 8) return webm__fail(r, RTC_EPROTO);
            r->cluster_ts = (int64_t)(ebml__uint(b, n) & INT64_MAX);
        } else if (e.id == 0xA3) {
            rc = webm__block(r, b, n, true, f);
            if (rc) return rc < 0 ? webm__fail(r, rc) : 1;
        } else if (e.id == 0xA0) {
            /* BlockGroup: its Block is a keyframe unless a ReferenceBlock is present. */
            size_t o = 0, blk = 0, blen = 0;
            bool have = false, refs = false;
            while (o < n) {
                ebml__el c;
                if ((rc = ebml__read(b + o, n - o, &c))) return webm__fail(r, rc);
                if (c.size == UNKNOWN_SIZE || c.size > n - o - c.hdr) return webm__fail(r, RTC_ETRUNC);
                if (c.id == 0xA1 && !have) { have = true; blk = o + c.hdr; blen = (size_t)c.size; }
                if (c.id == 0xFB) refs = true;
                o += c.hdr + (size_t)c.size;
            }
            if (have) {
                rc = webm__block(r, b + blk, blen, false, f);
                if (rc < 0) return webm__fail(r, rc);
                if (rc) { f->keyframe = !refs; return 1; }
            }
        }
    }
    return 0;
}

void rtc_webm_reader_rewind(rtc_webm_reader *r)
{
    r->off = r->first_cluster;
    r->cluster_ts = 0;
    r->err = 0;
}
