/* Hosts the SFU forwarding core (sfu/sfu_router.h) on an rtc_loop, between peer
 * connections hosted by rtc_pc_host: a producer is a tapped incoming stream of one
 * connection's transceiver, a consumer an injected outgoing stream on another's
 * (pc/pc_tap.h). Packets go from the publisher's drain straight into the router and
 * out through the subscribers' SRTP within the same loop callback; the router's timer
 * (sender reports, keyframe requests, NACKs) is one uv_timer.
 *
 * A connection belongs to at most one sfu host (its tap is the host's). When a
 * connection closes, its producers and consumers are removed (their `removed` event
 * fires); consumers of a removed producer stay, without a source.
 *
 * After calling an rtc_sfu_* function on a producer or consumer directly (pause,
 * resume, set_muted, request_keyframe, set_source), call rtc_sfu_host_kick(h). */
#ifndef RTC_SFU_HOST_H
#define RTC_SFU_HOST_H
#include "io/rtc_loop.h"
#include "io/rtc_media_pipe.h"
#include "io/rtc_pc_host.h"
#include "pc/pc_tap.h"
#include "sfu/sfu_router.h"
#include "sfu/sfu_speaker.h"

typedef struct rtc_sfu_host rtc_sfu_host;

typedef enum {
    RTC_SFU_HOST_EV_STARTED = 1,      /* consumer forwarded its first packet */
    RTC_SFU_HOST_EV_KEYFRAME_REQUESTED,  /* a PLI/FIR went upstream for producer */
    RTC_SFU_HOST_EV_BYE,              /* producer's publisher sent RTCP BYE */
    RTC_SFU_HOST_EV_REMOVED,          /* producer or consumer removed (its connection closed) */
    RTC_SFU_HOST_EV_LAYER_CHANGE,     /* consumer forwards another layer (rtc_sfu_host_event_detail) */
    RTC_SFU_HOST_EV_LAYER_STARTED,    /* producer (a layer) receives packets */
    RTC_SFU_HOST_EV_LAYER_STOPPED,    /* producer received nothing for RTC_SFU_LAYER_IDLE */
} rtc_sfu_host_event_type;

/* `user` is the value given when the producer or consumer was added. Called inside
 * the host's drain; it may call the host again (kicks are folded into that drain). */
typedef void (*rtc_sfu_host_event_cb)(rtc_sfu_host *h, rtc_sfu_host_event_type type, void *user, void *ud);

int rtc_sfu_host_new(rtc_sfu_host **out, rtc_loop *lp, rtc_sfu_host_event_cb cb, void *ud);
/* Removes every producer and consumer (no events), detaches from the connections and
 * frees the host once libuv is done with its timer. NULL-safe. */
void rtc_sfu_host_close(rtc_sfu_host *h);
rtc_sfu_router *rtc_sfu_host_router(rtc_sfu_host *h);   /* borrowed */
/* Inside the event callback: the router's event being reported (its spatial, temporal
 * and why for LAYER_CHANGE); borrowed for the callback; NULL outside it. */
const rtc_sfu_event *rtc_sfu_host_event_detail(const rtc_sfu_host *h);

typedef struct rtc_sfu_host_producer_opts {
    const char *rid;                  /* simulcast layer ("" / NULL: the stream without RID) */
    rtc_time keyframe_interval;       /* 0 = router default */
    rtc_sfu_cache_config cache;       /* zeros = defaults */
} rtc_sfu_host_producer_opts;

/* Forward the incoming stream of transceiver tr of ph's connection (negotiated, with a
 * receive direction: RTC_ESTATE otherwise). opts may be NULL. */
int rtc_sfu_host_add_producer(rtc_sfu_host *h, rtc_pc_host *ph, int tr, const rtc_sfu_host_producer_opts *opts,
                              void *user, rtc_sfu_producer **out);
/* Send `source` on transceiver tr of ph's connection (negotiated to send:
 * RTC_ESTATE otherwise). RTC_ENOTSUP when that transceiver negotiated another codec
 * than the source's: the subscriber cannot receive it. */
int rtc_sfu_host_add_consumer(rtc_sfu_host *h, rtc_pc_host *ph, int tr, rtc_sfu_producer *source, bool paused,
                              void *user, rtc_sfu_consumer **out);
/* The configurations the two calls above give the router, from what the connection
 * negotiated (pure, so tests build them the same way): extension ids, payload types and
 * SSRCs are that connection's own. The consumer's first sequence numbers come from rng
 * (borrowed). `user` is left NULL; opts may be NULL. */
void rtc_sfu_host_producer_config(const rtc_pc_forward_params *fp, const rtc_sfu_host_producer_opts *opts,
                                  rtc_sfu_producer_config *out);
void rtc_sfu_host_consumer_config(const rtc_pc_forward_params *fp, rtc_rng *rng, bool paused,
                                  rtc_sfu_consumer_config *out);
/* No event; the pointer is invalid afterwards. */
void rtc_sfu_host_remove_producer(rtc_sfu_host *h, rtc_sfu_producer *p);
void rtc_sfu_host_remove_consumer(rtc_sfu_host *h, rtc_sfu_consumer *c);
void rtc_sfu_host_kick(rtc_sfu_host *h);

/* Pipes between hosts on two loops of one process (io/rtc_media_pipe.h): a room bigger
 * than one worker. pipe_out adds a consumer of `source` (a producer of this host) whose
 * packets go into a new pipe, named in `name`; pipe_in, on the other host, opens the
 * pipe by that name and adds a producer fed by it (*desc: what it carries), which
 * consumers subscribe to as to any other. Feedback crosses back: the receiving host's
 * keyframe requests and the NACKs its cache cannot answer reach the sending host's
 * consumer (answered from that host's cache, or asked upstream in turn). When either
 * end closes (removed, or its host closes), the other end's leg is removed and its
 * REMOVED event fires. RTC_ENOTFOUND (pipe_in): no pipe waits under that name. */
int rtc_sfu_host_pipe_out(rtc_sfu_host *h, rtc_sfu_producer *source, void *user, rtc_sfu_consumer **out,
                          char name[RTC_MEDIA_PIPE_NAME_MAX]);
int rtc_sfu_host_pipe_in(rtc_sfu_host *h, const char *name, void *user, rtc_sfu_producer **out,
                         rtc_media_pipe_desc *desc);
/* The pipe counters of a pipe leg (p or c); RTC_ENOTFOUND for another leg. */
int rtc_sfu_host_pipe_stats(rtc_sfu_host *h, const rtc_sfu_producer *p, const rtc_sfu_consumer *c,
                            rtc_media_pipe_stats *out);

/* Active speaker observers (sfu/sfu_speaker.h). `user` is the caller's value for the
 * observer. Its events go to the speaker callback, called inside the host's drain:
 * ACTIVE_SPEAKER with the dominant producer's user; AUDIO_LEVELS with the report,
 * each level's user being its producer's (levels borrowed for the call). */
typedef enum { RTC_SFU_HOST_SPEAKER_ACTIVE = 1, RTC_SFU_HOST_SPEAKER_LEVELS } rtc_sfu_host_speaker_event;
typedef struct rtc_sfu_host_level { void *user; uint8_t level; bool voice; } rtc_sfu_host_level;
typedef void (*rtc_sfu_host_speaker_cb)(rtc_sfu_host *h, rtc_sfu_host_speaker_event type, void *speaker_user,
                                        void *producer_user, const rtc_sfu_host_level *levels, int n, void *ud);
void rtc_sfu_host_set_speaker_cb(rtc_sfu_host *h, rtc_sfu_host_speaker_cb cb, void *ud);
/* cfg copied (its user is replaced by `user`). */
int rtc_sfu_host_add_speaker(rtc_sfu_host *h, const rtc_sfu_speaker_config *cfg, void *user, rtc_sfu_speaker **out);
/* No event follows; the pointer is invalid afterwards. */
void rtc_sfu_host_remove_speaker(rtc_sfu_host *h, rtc_sfu_speaker *s);
/* Observe producer p (an audio producer of this host) in s; RTC_EINVAL for video. */
int rtc_sfu_host_speaker_add_producer(rtc_sfu_host *h, rtc_sfu_speaker *s, rtc_sfu_producer *p);

#endif
