/* RTP payload formats: packetizers (frame -> payloads) and depacketizers
 * (payloads -> frame) for Opus, VP8, VP9, H264 and AV1. All pure functions over
 * caller buffers: nothing here allocates, reads a clock or keeps global state.
 *
 * Depacketizing is two-step so a jitter buffer can order packets before touching
 * the bitstream:
 *   1. rtc_depack_parse() on each payload as it arrives: validates the payload
 *      header and says whether the packet starts a frame, ends it, and whether the
 *      frame is a keyframe (what the jitter buffer and keyframe requests need);
 *   2. rtc_depack_assemble() on the payloads of one complete frame, in sequence
 *      order: writes the codec's frame (VP8 raw frame; VP9 raw frame, or a superframe
 *      with its index when the picture has several layer frames; H264 Annex B with
 *      4-byte start codes; AV1 low-overhead OBU stream with size fields; Opus packet).
 *
 * Packetizing is an iterator over one frame: rtc_packetizer_init() then
 * rtc_packetizer_next() until it returns 0; the last payload has *last set, which
 * is the RTP marker bit for video. The frame is borrowed until the last call. */
#ifndef RTC_CODEC_H
#define RTC_CODEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rtc_codec_id {
    RTC_CODEC_OPUS, RTC_CODEC_VP8, RTC_CODEC_VP9, RTC_CODEC_H264, RTC_CODEC_AV1,
    RTC_CODEC__COUNT
} rtc_codec_id;

/* Codec from its SDP rtpmap name ("opus", "VP8", "H264"...; case-insensitive), or -1. */
int rtc_codec_from_name(const char *name);
const char *rtc_codec_name(rtc_codec_id c);
bool rtc_codec_is_video(rtc_codec_id c);

typedef struct rtc_depack_info {
    bool begin;          /* this payload starts a frame */
    bool end;            /* the payload format says it ends a frame (VP9 E bit, Opus); else use the marker */
    bool keyframe;       /* starts a frame that decodes on its own */
    int32_t picture_id;  /* VP8/VP9 PictureID, -1 when absent */
    int16_t tl0picidx;   /* VP8/VP9 TL0PICIDX, -1 when absent */
    int8_t temporal_id;  /* -1 when absent */
    int8_t spatial_id;   /* -1 when absent */
    bool layer_sync;     /* VP8 Y bit (refers only to temporal layer 0), VP9 U bit (a switching-up
                          * point): a temporal layer can be taken up here */
    bool inter_picture;  /* VP9 P bit: the layer frame refers to earlier pictures (so with P = 0
                          * a spatial layer can be taken up here, RFC 9628 4.2) */
    bool inter_layer;    /* VP9 D bit: the layer frame refers to the spatial layer below it */
    bool flexible;       /* VP9 F bit: references are picture-id differences (P_DIFF) */
    int8_t spatial_layers; /* VP9: spatial layers a scalability structure here names, 0 none */
} rtc_depack_info;

/* Validate one payload and describe it. RTC_ETRUNC / RTC_EPROTO on malformed input,
 * RTC_ENOTSUP on a valid but unsupported format (H264 STAP-B, MTAP, FU-B). */
int rtc_depack_parse(rtc_codec_id c, const uint8_t *payload, size_t len, rtc_depack_info *info);

typedef struct rtc_iov { const uint8_t *p; size_t len; } rtc_iov;

/* Bytes that always suffice for rtc_depack_assemble over `n` payloads totalling `total`. */
static inline size_t rtc_depack_bound(size_t total, size_t n) { return 2 * total + 16 * n + 16; }
/* Join the payloads of one frame (borrowed, in sequence order) into out[0..cap).
 * Returns the frame length, RTC_EOVERFLOW if cap is too small, or a parse error when
 * the payloads do not form a frame (e.g. an H264 FU-A end without its start). */
int rtc_depack_assemble(rtc_codec_id c, const rtc_iov *parts, size_t n, uint8_t *out, size_t cap);

typedef struct rtc_pack_params {
    int32_t picture_id;      /* VP8/VP9: 15-bit PictureID for this frame (caller increments per frame) */
    bool keyframe;           /* VP9: frame is a keyframe (sets P=0 and the scalability structure) */
    uint16_t width, height;  /* VP9 keyframes: resolution for the scalability structure (0 = omit) */
} rtc_pack_params;

typedef struct rtc_packetizer {
    rtc_codec_id codec;
    const uint8_t *frame;    /* borrowed */
    size_t len, max_payload;
    rtc_pack_params params;
    size_t off;              /* position in the frame (payload bytes taken so far) */
    size_t count, index;     /* VP8/VP9: number of packets and the next one */
    bool done;
    /* H264 */
    size_t nal_off, nal_len, fu_pos, fu_count, fu_index;
    /* AV1: current OBU element (header rewritten without its size field) */
    uint8_t av1_hdr[2];
    size_t av1_hlen, av1_pay_off, av1_pay_len, av1_pos, av1_next;
    bool av1_have, av1_first;
} rtc_packetizer;

/* Prepare to packetize `frame` (borrowed until the last rtc_packetizer_next()).
 * max_payload is the room for the RTP payload (MTU minus IP/UDP/SRTP/RTP headers,
 * about 1200). H264 takes Annex B (start codes), or a single NAL without one;
 * AV1 takes a low-overhead OBU stream (temporal unit). RTC_ETOOBIG for an Opus
 * frame larger than max_payload, RTC_EINVAL for an empty frame or max_payload
 * too small to make progress (< 8). */
int rtc_packetizer_init(rtc_packetizer *pk, rtc_codec_id c, const uint8_t *frame, size_t len,
                        size_t max_payload, const rtc_pack_params *params);
/* Next payload into out[0..cap) (cap >= max_payload). Returns its length, 0 when the
 * frame is done, or a negative error (a malformed AV1/H264 frame). *last is set on
 * the final payload (the RTP marker for video). */
int rtc_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last);

/* Codec-specific entry points behind the dispatch above, for callers that need them. */
int rtc_opus_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info);
int rtc_vp8_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info, size_t *hdr_len);
int rtc_vp9_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info, size_t *hdr_len);
int rtc_h264_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info);
int rtc_av1_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info);
/* A VP9 frame's uncompressed header (f borrowed): 1 a key frame, 0 not, -1 when
 * f does not start with one. The one detector for the payload format and files. */
int rtc_vp9_frame_is_key(const uint8_t *f, size_t len);
/* The scalability structure of a VP9 payload (RFC 9628 4.2.1), from the same parser as
 * rtc_vp9_depack_parse (p borrowed). 1 found (out filled: spatial layers, and with
 * has_sizes the resolution of each), 0 the payload has none, or a parse error. */
typedef struct rtc_vp9_ss {
    int spatial_layers;                  /* N_S + 1 */
    bool has_sizes;                      /* Y bit */
    uint16_t width[8], height[8];
    int pictures;                        /* N_G: pictures in the group description (non-flexible) */
} rtc_vp9_ss;
int rtc_vp9_scalability(const uint8_t *p, size_t len, rtc_vp9_ss *out);
int rtc_h264_depack_assemble(const rtc_iov *parts, size_t n, uint8_t *out, size_t cap);
int rtc_vp9_depack_assemble(const rtc_iov *parts, size_t n, uint8_t *out, size_t cap);
int rtc_av1_depack_assemble(const rtc_iov *parts, size_t n, uint8_t *out, size_t cap);
int rtc_vp8_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last);
int rtc_vp9_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last);
int rtc_h264_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last);
int rtc_av1_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last);

/* Rewrite a VP8 / VP9 payload descriptor's PictureID and TL0PICIDX in place (an SFU
 * keeping them continuous across simulcast switches). The descriptor keeps its size:
 * a 7-bit PictureID takes the low 7 bits of the new value, a 15-bit one 15 bits.
 * -1 keeps a field. RTC_ENOTFOUND (nothing changed) when a field to set is absent;
 * a parse error for a malformed descriptor. */
int rtc_vp8_rewrite_ids(uint8_t *payload, size_t len, int32_t picture_id, int32_t tl0picidx);
int rtc_vp9_rewrite_ids(uint8_t *payload, size_t len, int32_t picture_id, int32_t tl0picidx);

/* LEB128 as AV1 uses it (at most 8 bytes). Read returns bytes used or RTC_ETRUNC /
 * RTC_EPROTO; write returns bytes written. */
int rtc_leb128_read(const uint8_t *p, size_t len, uint64_t *out);
int rtc_leb128_write(uint8_t *out, uint64_t v);
int rtc_leb128_size(uint64_t v);

#endif
