/* Ogg Opus writer and reader (ogg.h). */
#include "media/ogg.h"
#include "codec/opus_codec.h"
#include "core/rtc_errors.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ====== CRC ====== */
static uint32_t ogg__crc_table[256];
static pthread_once_t ogg__crc_ready = PTHREAD_ONCE_INIT;   /* worker threads share the table */

static void ogg__crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t r = i << 24;
        for (int k = 0; k < 8; k++) r = (r & 0x80000000u) ? (r << 1) ^ 0x04c11db7u : r << 1;
        ogg__crc_table[i] = r;
    }
}

uint32_t rtc_ogg_crc(const uint8_t *p, size_t len)
{
    pthread_once(&ogg__crc_ready, ogg__crc_init);
    uint32_t c = 0;
    for (size_t i = 0; i < len; i++) c = (c << 8) ^ ogg__crc_table[((c >> 24) ^ p[i]) & 0xff];
    return c;
}

static void wr32le(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static uint32_t rd32le(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

size_t rtc_opus_head_write(uint8_t *out, int channels, int pre_skip, uint32_t input_rate)
{
    memcpy(out, "OpusHead", 8);
    out[8] = 1;                                   /* version */
    out[9] = (uint8_t)channels;
    out[10] = (uint8_t)pre_skip; out[11] = (uint8_t)(pre_skip >> 8);
    wr32le(out + 12, input_rate);
    out[16] = 0; out[17] = 0;                     /* output gain */
    out[18] = 0;                                  /* mapping family 0: mono or stereo */
    return 19;
}

/* ====== writer ====== */
#define OGG_MAX_SEGS 255
#define OGG_MAX_WRITE_PACKET 60000   /* fits one page; Opus packets are far smaller */
#define OGG_MAX_GAP_SAMPLES ((int64_t)48000 * 3600)

struct rtc_ogg_writer {
    rtc_media_out *out;
    rtc_ogg_writer_config cfg;
    uint32_t seq;
    uint8_t segs[OGG_MAX_SEGS];
    int nsegs;
    uint8_t *data;               /* page body being built */
    size_t dlen;
    int64_t page_samples;        /* audio on the page being built */
    int64_t samples;             /* all samples written (excl. pre-skip) */
    int64_t t0_ms;
    bool started, closed;
    int err;
    rtc_ogg_writer_stats stats;
};

static int ogg__emit_page(rtc_ogg_writer *w, uint8_t flags, int64_t granule)
{
    uint8_t hdr[27 + OGG_MAX_SEGS];
    memcpy(hdr, "OggS", 4);
    hdr[4] = 0;
    hdr[5] = flags;
    uint64_t g = (uint64_t)granule;
    wr32le(hdr + 6, (uint32_t)g); wr32le(hdr + 10, (uint32_t)(g >> 32));
    wr32le(hdr + 14, w->cfg.serial);
    wr32le(hdr + 18, w->seq++);
    wr32le(hdr + 22, 0);
    hdr[26] = (uint8_t)w->nsegs;
    memcpy(hdr + 27, w->segs, (size_t)w->nsegs);
    size_t hlen = 27 + (size_t)w->nsegs;
    /* The CRC covers header and body with the CRC field zero. */
    pthread_once(&ogg__crc_ready, ogg__crc_init);
    uint32_t c = 0;
    for (size_t i = 0; i < hlen; i++) c = (c << 8) ^ ogg__crc_table[((c >> 24) ^ hdr[i]) & 0xff];
    for (size_t i = 0; i < w->dlen; i++) c = (c << 8) ^ ogg__crc_table[((c >> 24) ^ w->data[i]) & 0xff];
    wr32le(hdr + 22, c);
    int r = rtc_media_out_write(w->out, hdr, hlen);
    if (!r) r = rtc_media_out_write(w->out, w->data, w->dlen);
    if (!r) rtc_media_out_mark(w->out);
    w->nsegs = 0; w->dlen = 0; w->page_samples = 0;
    w->stats.pages++;
    if (r && !w->err) w->err = r;
    return r;
}

static void ogg__add_packet(rtc_ogg_writer *w, const uint8_t *p, size_t len)
{
    size_t n = len;
    while (n >= 255) { w->segs[w->nsegs++] = 255; n -= 255; }
    w->segs[w->nsegs++] = (uint8_t)n;
    memcpy(w->data + w->dlen, p, len);
    w->dlen += len;
}

/* Append one audio packet, closing the current page first when it is full or long
 * enough. */
static int ogg__put_audio(rtc_ogg_writer *w, const uint8_t *p, size_t len, int dur)
{
    int need = (int)(len / 255) + 1;
    if (w->nsegs && (w->nsegs + need > OGG_MAX_SEGS || w->page_samples >= (int64_t)w->cfg.page_ms * 48)) {
        int r = ogg__emit_page(w, 0, w->samples);
        if (r) return r;
    }
    ogg__add_packet(w, p, len);
    w->page_samples += dur;
    w->samples += dur;
    return 0;
}

int rtc_ogg_writer_new(rtc_ogg_writer **out_w, rtc_media_out *out, const rtc_ogg_writer_config *cfg)
{
    *out_w = NULL;
    rtc_ogg_writer_config c = cfg ? *cfg : (rtc_ogg_writer_config){ 0 };
    if (!c.channels) c.channels = 2;
    if (!c.pre_skip) c.pre_skip = 312;
    if (!c.serial) c.serial = 0x6c727463;
    if (!c.input_rate) c.input_rate = 48000;
    if (!c.page_ms) c.page_ms = 1000;
    if (c.channels < 1 || c.channels > 2 || c.pre_skip < 0 || c.pre_skip > 65535 || c.page_ms < 0) return RTC_EINVAL;
    const char *vendor = c.vendor ? c.vendor : "luartc";
    size_t vlen = strlen(vendor);
    if (vlen > 1024) return RTC_EINVAL;
    rtc_ogg_writer *w = calloc(1, sizeof *w);
    if (!w) return RTC_ENOMEM;
    w->data = malloc(OGG_MAX_SEGS * 255);
    if (!w->data) { free(w); return RTC_ENOMEM; }
    w->out = out;
    w->cfg = c;
    w->cfg.vendor = NULL;
    uint8_t head[19];
    ogg__add_packet(w, head, rtc_opus_head_write(head, c.channels, c.pre_skip, c.input_rate));
    int r = ogg__emit_page(w, 0x02, 0);
    uint8_t tags[8 + 4 + 1024 + 4];
    memcpy(tags, "OpusTags", 8);
    wr32le(tags + 8, (uint32_t)vlen);
    memcpy(tags + 12, vendor, vlen);
    wr32le(tags + 12 + vlen, 0);                   /* no user comments */
    ogg__add_packet(w, tags, 16 + vlen);
    if (!r) r = ogg__emit_page(w, 0, 0);
    if (r) { rtc_ogg_writer_free(w); return r; }
    w->stats.pages = 2;
    *out_w = w;
    return 0;
}

int rtc_ogg_writer_write(rtc_ogg_writer *w, const uint8_t *pkt, size_t len, int64_t pts_ms)
{
    if (w->closed) return RTC_ECLOSED;
    if (w->err) return w->err;
    if (len > OGG_MAX_WRITE_PACKET) return RTC_ETOOBIG;
    int dur = rtc_opus_packet_samples(pkt, len, 48000);
    if (dur <= 0) return RTC_EPROTO;
    if (pts_ms > RTC_MEDIA_MAX_PTS_MS || pts_ms < -RTC_MEDIA_MAX_PTS_MS) return RTC_ERANGE;
    if (!w->started) { w->started = true; w->t0_ms = pts_ms; }
    int64_t gap = (pts_ms - w->t0_ms) * 48 - w->samples;
    if (gap >= 120 && gap <= OGG_MAX_GAP_SAMPLES) {
        /* TOC-only packets (CELT fullband, code 0, empty frame): decoders conceal them
         * as lost frames, and their durations move the granule to the right time. */
        static const struct { int samples; uint8_t toc; } fill[] = {
            { 960, 0xF8 }, { 480, 0xF0 }, { 240, 0xE8 }, { 120, 0xE0 } };
        uint8_t stereo = w->cfg.channels == 2 ? 0x04 : 0;
        for (int i = 0; i < 4; i++)
            while (gap >= fill[i].samples) {
                uint8_t toc = fill[i].toc | stereo;
                int r = ogg__put_audio(w, &toc, 1, fill[i].samples);
                if (r) return r;
                gap -= fill[i].samples;
                w->stats.gap_packets++;
            }
    }
    int r = ogg__put_audio(w, pkt, len, dur);
    if (!r) w->stats.packets++;
    return r;
}

int rtc_ogg_writer_close(rtc_ogg_writer *w)
{
    if (w->closed) return w->err;
    w->closed = true;
    if (!w->err) ogg__emit_page(w, 0x04, w->samples);
    int r = rtc_media_out_flush(w->out);
    if (r && !w->err) w->err = r;
    return w->err;
}

void rtc_ogg_writer_free(rtc_ogg_writer *w)
{
    if (!w) return;
    free(w->data);
    free(w);
}

void rtc_ogg_writer_get_stats(const rtc_ogg_writer *w, rtc_ogg_writer_stats *out)
{
    *out = w->stats;
    out->samples = (uint64_t)w->samples;
}

/* ====== reader ====== */
typedef struct ogg__view { const uint8_t *p; size_t len; } ogg__view;

struct rtc_ogg_reader {
    const uint8_t *data;
    size_t len, off;
    uint32_t serial;
    bool have_serial;
    int channels, pre_skip;
    uint8_t *join;               /* a packet continued across pages */
    size_t jlen;
    bool joining;
    uint8_t *ready_buf;          /* the completed joined packet of the current page */
    ogg__view pkts[OGG_MAX_SEGS];
    int npkts, next_pkt;
    int64_t granule;             /* of the current page */
    int64_t pos;                 /* samples before the next packet; INT64_MIN until known */
    int headers;                 /* header packets seen (2 when audio starts) */
    size_t audio_off;            /* first page holding audio, for rewind */
    int err;
    bool eos;
};

/* Parse the page at r->off into r->pkts (packets completed on it). 1 = a page was
 * read, 0 = end of data, or an error. */
static int ogg__next_page(rtc_ogg_reader *r)
{
    for (;;) {
        if (r->eos || r->off == r->len) return 0;
        size_t left = r->len - r->off;
        const uint8_t *p = r->data + r->off;
        if (left < 27) return RTC_ETRUNC;
        if (memcmp(p, "OggS", 4) || p[4] != 0) return RTC_EPROTO;
        size_t nseg = p[26];
        if (left < 27 + nseg) return RTC_ETRUNC;
        size_t body = 0;
        for (size_t i = 0; i < nseg; i++) body += p[27 + i];
        size_t plen = 27 + nseg + body;
        if (left < plen) return RTC_ETRUNC;
        uint8_t crcbuf[4];
        memcpy(crcbuf, p + 22, 4);
        pthread_once(&ogg__crc_ready, ogg__crc_init);
        uint32_t c = 0;
        for (size_t i = 0; i < plen; i++) {
            uint8_t b = (i >= 22 && i < 26) ? 0 : p[i];
            c = (c << 8) ^ ogg__crc_table[((c >> 24) ^ b) & 0xff];
        }
        if (c != rd32le(crcbuf)) return RTC_EPROTO;
        r->off += plen;
        uint32_t serial = rd32le(p + 14);
        if (!r->have_serial) {
            if (!(p[5] & 0x02)) return RTC_EPROTO;      /* the first page must open a stream */
            r->serial = serial; r->have_serial = true;
        } else if (serial != r->serial) {
            continue;                                    /* another logical stream: skip */
        }
        bool continued = p[5] & 0x01;
        if (continued != r->joining) return RTC_EPROTO;
        r->granule = (int64_t)((uint64_t)rd32le(p + 6) | (uint64_t)rd32le(p + 10) << 32);
        if (p[5] & 0x04) r->eos = true;
        r->npkts = 0; r->next_pkt = 0;
        const uint8_t *b = p + 27 + nseg;
        size_t start = 0, pos = 0;
        for (size_t i = 0; i < nseg; i++) {
            pos += p[27 + i];
            if (p[27 + i] == 255 && i + 1 < nseg) continue;
            if (p[27 + i] == 255) break;                 /* continues on the next page */
            if (r->joining) {
                size_t add = pos - start;
                if (r->jlen + add > RTC_OGG_MAX_PACKET) return RTC_ETOOBIG;
                memcpy(r->join + r->jlen, b + start, add);
                r->jlen += add;
                memcpy(r->ready_buf, r->join, r->jlen);
                r->pkts[r->npkts++] = (ogg__view){ r->ready_buf, r->jlen };
                r->joining = false; r->jlen = 0;
            } else {
                r->pkts[r->npkts++] = (ogg__view){ b + start, pos - start };
            }
            start = pos;
        }
        if (pos > start || (nseg && p[26 + nseg] == 255)) {  /* an unfinished packet */
            size_t add = pos - start;
            if (r->jlen + add > RTC_OGG_MAX_PACKET) return RTC_ETOOBIG;
            memcpy(r->join + r->jlen, b + start, add);
            r->jlen += add;
            r->joining = true;
        }
        return 1;
    }
}

static int ogg__parse_head(rtc_ogg_reader *r, const ogg__view *v)
{
    if (v->len < 19 || memcmp(v->p, "OpusHead", 8)) return RTC_ENOTSUP;
    if ((v->p[8] & 0xf0) != 0) return RTC_ENOTSUP;       /* major version 0 only */
    r->channels = v->p[9];
    r->pre_skip = rd16le(v->p + 10);
    if (r->channels == 0) return RTC_EPROTO;
    if (v->p[18] > 1) return RTC_ENOTSUP;
    if (v->p[18] == 0 && r->channels > 2) return RTC_EPROTO;
    return 0;
}

/* Page bookkeeping when a new audio page arrives: the first one fixes the time base
 * from its granule (a stream may start at a granule above zero). */
static int ogg__audio_page(rtc_ogg_reader *r)
{
    if (r->pos != INT64_MIN) return 0;
    int64_t sum = 0;
    for (int i = 0; i < r->npkts; i++) {
        int d = rtc_opus_packet_samples(r->pkts[i].p, r->pkts[i].len, 48000);
        if (d < 0) return RTC_EPROTO;
        sum += d;
    }
    int64_t base = r->npkts && !r->eos && r->granule >= sum ? r->granule - sum : 0;
    r->pos = base;
    return 0;
}

static int ogg__fail(rtc_ogg_reader *r, int e) { r->err = e; return e; }

int rtc_ogg_reader_next(rtc_ogg_reader *r, rtc_ogg_packet *pkt)
{
    if (r->err) return r->err;
    while (r->next_pkt >= r->npkts) {
        size_t page_off = r->off;
        int n = ogg__next_page(r);
        if (n < 0) return ogg__fail(r, n);
        if (n == 0) {
            if (r->headers < 2 || r->joining) return ogg__fail(r, RTC_ETRUNC);
            return 0;
        }
        if (r->headers >= 2 && !r->audio_off) r->audio_off = page_off;
        /* Header packets are consumed here; OpusTags must end its page. */
        while (r->headers < 2 && r->next_pkt < r->npkts) {
            ogg__view *v = &r->pkts[r->next_pkt++];
            if (r->headers == 0) {
                int e = ogg__parse_head(r, v);
                if (e) return ogg__fail(r, e);
                if (r->next_pkt < r->npkts) return ogg__fail(r, RTC_EPROTO);
            } else if (v->len < 8 || memcmp(v->p, "OpusTags", 8)) {
                return ogg__fail(r, RTC_EPROTO);
            } else if (r->next_pkt < r->npkts) {
                return ogg__fail(r, RTC_EPROTO);
            }
            r->headers++;
        }
        if (r->headers >= 2 && r->next_pkt < r->npkts) {
            int e = ogg__audio_page(r);
            if (e) return ogg__fail(r, e);
        }
    }
    ogg__view *v = &r->pkts[r->next_pkt++];
    int d = rtc_opus_packet_samples(v->p, v->len, 48000);
    if (d < 0) return ogg__fail(r, RTC_EPROTO);
    pkt->data = v->p;
    pkt->len = v->len;
    pkt->duration = d;
    pkt->pts = r->pos - r->pre_skip;
    pkt->granule = r->next_pkt == r->npkts ? r->granule : -1;
    r->pos += d;
    return 1;
}

int rtc_ogg_reader_new(rtc_ogg_reader **out, const uint8_t *data, size_t len)
{
    *out = NULL;
    rtc_ogg_reader *r = calloc(1, sizeof *r);
    if (!r) return RTC_ENOMEM;
    r->join = malloc(RTC_OGG_MAX_PACKET);
    r->ready_buf = malloc(RTC_OGG_MAX_PACKET);
    if (!r->join || !r->ready_buf) { rtc_ogg_reader_free(r); return RTC_ENOMEM; }
    r->data = data;
    r->len = len;
    r->pos = INT64_MIN;
    /* Read the two header packets now so a wrong file fails at open. */
    while (r->headers < 2) {
        int n = ogg__next_page(r);
        if (n <= 0) { int e = n ? n : RTC_ETRUNC; rtc_ogg_reader_free(r); return e; }
        while (r->headers < 2 && r->next_pkt < r->npkts) {
            ogg__view *v = &r->pkts[r->next_pkt++];
            int e = 0;
            if (r->headers == 0) e = ogg__parse_head(r, v);
            else if (v->len < 8 || memcmp(v->p, "OpusTags", 8)) e = RTC_EPROTO;
            if (!e && r->next_pkt < r->npkts) e = RTC_EPROTO;
            if (e) { rtc_ogg_reader_free(r); return e; }
            r->headers++;
        }
    }
    r->audio_off = r->off;
    *out = r;
    return 0;
}

void rtc_ogg_reader_rewind(rtc_ogg_reader *r)
{
    r->off = r->audio_off;
    r->npkts = r->next_pkt = 0;
    r->joining = false; r->jlen = 0;
    r->pos = INT64_MIN;
    r->eos = false;
    r->err = 0;
}

void rtc_ogg_reader_free(rtc_ogg_reader *r)
{
    if (!r) return;
    free(r->join);
    free(r->ready_buf);
    free(r);
}

int rtc_ogg_reader_channels(const rtc_ogg_reader *r) { return r->channels; }
int rtc_ogg_reader_pre_skip(const rtc_ogg_reader *r) { return r->pre_skip; }
