/* Layers in the SFU forwarding core: simulcast (one producer per spatial layer, e.g.
 * one per RID or per SSRC of an a=ssrc-group:SIM) and VP8 temporal layers (the TID
 * and Y bits of each packet's payload descriptor).
 *
 * A layered consumer is given its source's layers, lowest first. It forwards one
 * spatial layer at a time: a switch to another is decided at once but happens only
 * at a keyframe of the target layer (one is requested from it; the current layer goes
 * on being forwarded until it arrives). Across a switch the subscriber sees one
 * stream: the consumer's SSRC, sequence numbers without a gap, timestamps moving on
 * by the time elapsed, and VP8 picture ids and TL0PICIDX each continuing by one.
 * VP8/VP9 temporal layers above the chosen one are dropped per frame, without a
 * keyframe: down at the next frame, up at the next frame of a higher layer with the
 * layer-sync bit (or a keyframe); the sequence numbers and picture ids of what is forwarded are
 * rewritten to have no gaps, and a subscriber's NACK maps back to the right packet.
 * VP9 simulcast (one stream per spatial layer) is handled like VP8: its picture id and
 * TL0PICIDX are rewritten, its temporal layers dropped with the U (switching-up) bit
 * as the point to go back up (in flexible mode, without TL0PICIDX, picture ids keep
 * their gaps: references there are picture-id differences). H264 needs no rewrite (it
 * has no descriptor).
 *
 * VP9 SVC (several spatial layers in one stream, one producer: RFC 9628 with SID, P and
 * D bits, as Chromium sends for scalabilityMode L3T3 / L3T3_KEY) is chosen from the same
 * way: a consumer of such a producer has its spatial layers as its layers. Layer frames
 * above the spatial layer forwarded are dropped (gaps closed, picture ids kept: the
 * picture is still there). Down at the next picture; up at a layer frame of the next
 * layer that does not refer to earlier pictures (P = 0: every layer of a keyframe, or an
 * inter-layer switching point), for which a keyframe is requested. The last packet of
 * the highest forwarded layer of each picture carries the marker (the decoder's frame
 * end). Not done: AV1 (dependency descriptor): such a stream is forwarded whole.
 *
 * Which layer: the highest at or below the preferred one (spatial, then temporal)
 * whose measured bitrate fits the subscriber's bandwidth estimate, among the layers
 * receiving packets. A lower choice applies at once; a higher one while the estimate
 * limits the choice only after it has fit for `layer_up_delay` (hysteresis). Each
 * actual change is an RTC_SFU_EV_LAYER_CHANGE event with the reason.
 *
 * Same contract as sfu_router.h: drain transmits and events after each call. */
#ifndef RTC_SFU_LAYERS_H
#define RTC_SFU_LAYERS_H
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_SFU_MAX_SPATIAL 3
#define RTC_SFU_MAX_TEMPORAL 4
#define RTC_SFU_LAYER_IDLE RTC_MS(1500)   /* no packet for this long: the layer has stopped */

typedef enum rtc_sfu_layer_why {
    RTC_SFU_LAYER_WHY_START = 1,        /* the first layer forwarded */
    RTC_SFU_LAYER_WHY_PREFERRED,        /* the preferred layers changed */
    RTC_SFU_LAYER_WHY_BANDWIDTH,        /* the estimate (or a layer's bitrate) moved */
    RTC_SFU_LAYER_WHY_INACTIVE,         /* a layer stopped or started (a temporal one first seen, too) */
} rtc_sfu_layer_why;

/* "start", "preferred", "bandwidth", "inactive". */
const char *rtc_sfu_layer_why_name(int why);

/* Forward `layers` (n of them, lowest spatial layer first; n <= RTC_SFU_MAX_SPATIAL;
 * the array is copied) to c in place of its single source. Same codec and clock
 * rate as c (RTC_ENOTSUP), no NULL entries and no duplicates (RTC_EINVAL). n = 0
 * makes c an ordinary consumer of its current source again. */
int rtc_sfu_consumer_set_layers(rtc_sfu_consumer *c, rtc_sfu_producer *const *layers, size_t n, rtc_time now);
/* The highest layers c may get; -1 (or more than there are) = the highest. */
void rtc_sfu_consumer_set_preferred_layers(rtc_sfu_consumer *c, int spatial, int temporal, rtc_time now);
/* The subscriber's bandwidth estimate for this consumer, bit/s; 0 = unknown (no limit). */
void rtc_sfu_consumer_set_bandwidth(rtc_sfu_consumer *c, uint64_t bps, rtc_time now);

typedef struct rtc_sfu_layers {
    int spatial, temporal;               /* forwarded now; -1 before the first packet */
    int target_spatial, target_temporal; /* chosen (a spatial switch waits for a keyframe) */
    int preferred_spatial, preferred_temporal;
    int nlayers;                         /* 0: not layered (one source) */
} rtc_sfu_layers;
void rtc_sfu_consumer_get_layers(const rtc_sfu_consumer *c, rtc_sfu_layers *out);

/* One producer's measured layer (over the last second). */
typedef struct rtc_sfu_layer_stats {
    bool active;                         /* a packet within RTC_SFU_LAYER_IDLE */
    uint64_t bitrate;                    /* bit/s, all temporal layers */
    uint64_t temporal_bitrate[RTC_SFU_MAX_TEMPORAL];  /* bit/s of temporal layers 0..t together */
    int temporal_layers;                 /* highest TID seen + 1; 1 without TIDs */
    int spatial_layers;                  /* VP9 SVC spatial layers in the stream; 1 otherwise */
    double frame_rate;                   /* frames (pictures) started per second */
    int width, height;                   /* from the last VP8 keyframe or VP9 scalability
                                          * structure (its highest layer); 0 unknown */
} rtc_sfu_layer_stats;
void rtc_sfu_producer_get_layer_stats(const rtc_sfu_producer *p, rtc_time now, rtc_sfu_layer_stats *out);
/* One VP9 SVC spatial layer of p on its own (bitrate, frame rate, resolution, active:
 * a packet of it within RTC_SFU_LAYER_IDLE; spatial_layers as above). RTC_EINVAL for a
 * layer out of 0..RTC_SFU_MAX_SPATIAL-1. Spatial layer 0 of a stream without SVC is the
 * whole stream. */
int rtc_sfu_producer_get_spatial_stats(const rtc_sfu_producer *p, int spatial, rtc_time now, rtc_sfu_layer_stats *out);

#endif
