/* A media pipe: plain RTP and RTCP between two loops of one process (two workers'
 * SFU routers, docs/workers.md "A room bigger than one worker"). No SRTP, no sockets:
 * each direction is one lock-free single-producer single-consumer ring
 * (core/rtc_spsc.h) and an eventfd that wakes the receiving loop.
 *
 * The sending end (rtc_media_pipe_new) pushes RTP and RTCP downstream and takes
 * RTCP feedback back; the receiving end (rtc_media_pipe_open, by the name the sending
 * end got) the reverse. The two ends live on two threads; each end is used only on its
 * own thread (send, peek/pop, bind, close). The ends are found by name through a
 * process-wide table, under a mutex taken only when an end is made, opened or closed
 * (never per packet).
 *
 * Per packet: the sender copies the bytes into a ring slot (the one copy); the
 * receiver reads them in place and releases the slot. A full ring drops the packet
 * (counted): media is not held back for a slow receiver, NACK recovers what matters.
 * The receiver is woken through its eventfd only when it may be asleep (an atomic
 * flag folds the wakes of a burst into one write). */
#ifndef RTC_MEDIA_PIPE_H
#define RTC_MEDIA_PIPE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct rtc_media_pipe rtc_media_pipe;

#define RTC_MEDIA_PIPE_NAME_MAX 32
#define RTC_MEDIA_PIPE_SLOT 1600      /* bytes a packet may have (a forwarded RTP header + payload) */
enum { RTC_MEDIA_PIPE_RTP = 1, RTC_MEDIA_PIPE_RTCP = 2 };

/* What the receiving end needs to know of the stream: fixed when the pipe is made. */
typedef struct rtc_media_pipe_desc {
    int codec;                        /* rtc_codec_id */
    uint8_t pt;
    uint32_t ssrc, clock_rate;
    uint8_t audio_level_id;           /* RFC 6464 extension id in the piped packets, 0 none */
} rtc_media_pipe_desc;

typedef struct rtc_media_pipe_stats { uint64_t sent, dropped, received; } rtc_media_pipe_stats;

/* Called on the end's loop when packets wait (drain with peek/pop until false) or the
 * other end closed (rtc_media_pipe_peer_closed). */
typedef void (*rtc_media_pipe_cb)(rtc_media_pipe *p, void *ud);

/* A new pipe and its sending end; its name (NUL-terminated) is written to `name`.
 * desc copied. 0, RTC_ENOMEM, RTC_EIO. */
int rtc_media_pipe_new(rtc_media_pipe **out, const rtc_media_pipe_desc *desc, char name[RTC_MEDIA_PIPE_NAME_MAX]);
/* The receiving end of the pipe called `name`, once: RTC_ENOTFOUND for an unknown
 * name, one already opened or one whose sending end closed. *desc filled. */
int rtc_media_pipe_open(rtc_media_pipe **out, const char *name, rtc_media_pipe_desc *desc);
/* Watch for packets on `loop` (borrowed, outlives the end): cb runs there (ud borrowed);
 * if packets already wait it runs on the next turn. The watch does not keep the loop
 * alive. RTC_ESTATE when bound already. */
int rtc_media_pipe_bind(rtc_media_pipe *p, uv_loop_t *loop, rtc_media_pipe_cb cb, void *ud);

/* One packet, head[0..hlen) then data[0..len) (both borrowed; copied), to the other
 * end. 0, RTC_EAGAIN (the ring is full: dropped and counted), RTC_ETOOBIG, RTC_ECLOSED. */
int rtc_media_pipe_send(rtc_media_pipe *p, int kind, const void *head, size_t hlen, const void *data, size_t len);
/* The oldest packet waiting, borrowed until rtc_media_pipe_pop. */
bool rtc_media_pipe_peek(rtc_media_pipe *p, int *kind, const uint8_t **data, size_t *len);
void rtc_media_pipe_pop(rtc_media_pipe *p);
bool rtc_media_pipe_peer_closed(const rtc_media_pipe *p);
void rtc_media_pipe_get_stats(const rtc_media_pipe *p, rtc_media_pipe_stats *out);

/* Close this end (on its thread): the other end is woken and sees peer_closed; the
 * pipe is freed when both ends are closed. NULL-safe. */
void rtc_media_pipe_close(rtc_media_pipe *p);

#endif
