/* Cross-check against an independent implementation, both ways. ffmpeg encodes a
 * short clip (H264, VP8, VP9; an Opus tone) and streams it with its own RTP packetizer to loopback
 * sockets of this test: the frames our jitter buffer and depacketizers rebuild must
 * equal the encoded ones, and ffmpeg's RTCP (SR + SDES, BYE) must parse. Then our
 * packetizer sends the same frames to an ffmpeg reading an SDP: what its
 * depacketizer rebuilds must equal them too. Needs the ffmpeg binary (a listed
 * dependency); traffic stays on 127.0.0.1. */
#include "rtc_test.h"
#include "codec/codec.h"
#include "codec/opus_codec.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include "rtp/jitter_buffer.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SSRC 4660
#define MAXPK 20000

static char dir[] = "/tmp/rtc-ffmpeg-XXXXXX";

typedef struct blob { uint8_t *p; size_t len; } blob;

static blob read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    blob b = { malloc((size_t)n + 1), (size_t)n };
    ASSERT_EQ(fread(b.p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return b;
}

static int udp_socket(int *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT(fd >= 0);
    int sz = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void run(const char *cmd)
{
    int r = system(cmd);
    if (r != 0) RTC_TEST_FAIL("command failed (%d): %s", r, cmd);
}

typedef struct capture { blob rtp[MAXPK]; size_t nrtp; blob rtcp[64]; size_t nrtcp; } capture;

static void drain_socket(int fd, blob *out, size_t *n, size_t max)
{
    uint8_t buf[2048];
    ssize_t r;
    while ((r = recv(fd, buf, sizeof buf, 0)) > 0) {
        ASSERT(*n < max);
        out[*n].p = malloc((size_t)r);
        memcpy(out[*n].p, buf, (size_t)r);
        out[*n].len = (size_t)r;
        (*n)++;
    }
}

/* Stream `file` with ffmpeg's RTP muxer to our sockets and keep every datagram. */
static void capture_stream(const char *file, capture *c)
{
    int rp, cp;
    int rfd = udp_socket(&rp), cfd = udp_socket(&cp);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i %s/%s -c copy -strict experimental -f rtp -payload_type 96 -ssrc %d "
             "-rtpflags send_bye -cname ffmpeg-test 'rtp://127.0.0.1:%d?rtcpport=%d&pkt_size=1200' > /dev/null",
             dir, file, SSRC, rp, cp);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) { execl("/bin/sh", "sh", "-c", cmd, (char *)NULL); _exit(127); }
    c->nrtp = c->nrtcp = 0;
    int status = 0;
    bool done = false;
    while (!done) {
        struct pollfd pf[2] = { { rfd, POLLIN, 0 }, { cfd, POLLIN, 0 } };
        poll(pf, 2, 50);
        drain_socket(rfd, c->rtp, &c->nrtp, MAXPK);
        drain_socket(cfd, c->rtcp, &c->nrtcp, 64);
        if (waitpid(pid, &status, WNOHANG) == pid) done = true;
    }
    drain_socket(rfd, c->rtp, &c->nrtp, MAXPK);
    drain_socket(cfd, c->rtcp, &c->nrtcp, 64);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(rfd);
    close(cfd);
}

static void capture_free(capture *c)
{
    for (size_t i = 0; i < c->nrtp; i++) free(c->rtp[i].p);
    for (size_t i = 0; i < c->nrtcp; i++) free(c->rtcp[i].p);
}

/* ffmpeg's RTCP: SR(s) with SDES CNAME from our SSRC, and a BYE at the end. */
static void check_rtcp(const capture *c, size_t rtp_packets)
{
    ASSERT(c->nrtcp >= 2);
    int srs = 0, byes = 0, cnames = 0;
    for (size_t i = 0; i < c->nrtcp; i++) {
        rtc_rtcp_view v[8];
        int n = rtc_rtcp_parse_compound(c->rtcp[i].p, c->rtcp[i].len, v, 8);
        ASSERT(n > 0);
        for (int k = 0; k < n; k++) {
            if (v[k].pt == RTC_RTCP_SR) {
                rtc_rtcp_sr sr;
                ASSERT_EQ(rtc_rtcp_read_sr(&v[k], &sr), 0);
                ASSERT_EQ(sr.ssrc, SSRC);
                ASSERT(sr.packet_count <= rtp_packets);
                srs++;
            } else if (v[k].pt == RTC_RTCP_SDES) {
                rtc_rtcp_sdes_chunk ch[2];
                ASSERT_EQ(rtc_rtcp_read_sdes(&v[k], ch, 2), 1);
                ASSERT_EQ(ch[0].ssrc, SSRC);
                ASSERT(rtc_str_eq(ch[0].cname, RTC_STR("ffmpeg-test")));
                cnames++;
            } else if (v[k].pt == RTC_RTCP_BYE) {
                rtc_rtcp_bye b;
                ASSERT_EQ(rtc_rtcp_read_bye(&v[k], &b), 0);
                ASSERT_EQ(b.count, 1); ASSERT_EQ(b.ssrc[0], SSRC);
                byes++;
            }
        }
    }
    ASSERT(srs >= 1); ASSERT(cnames >= 1); ASSERT_EQ(byes, 1);
}

/* Our receive path: RTP parse -> jitter buffer -> depacketizer; frames out in order. */
static size_t receive_frames(rtc_codec_id codec, const capture *c, blob *frames, size_t max, bool *keys)
{
    rtc_jitter_buffer *jb;
    rtc_jitter_buffer_config cfg = { .codec = codec, .capacity = 32768, .latency = RTC_SEC(5), .wait_keyframe = true };
    ASSERT_EQ(rtc_jitter_buffer_new(&jb, &cfg, 0), 0);
    size_t n = 0;
    rtc_jb_frame f;
    for (size_t i = 0; i <= c->nrtp; i++) {
        if (i < c->nrtp) {
            rtc_rtp_packet p;
            ASSERT_EQ(rtc_rtp_parse(&p, c->rtp[i].p, c->rtp[i].len), 0);
            ASSERT_EQ(p.h.ssrc, SSRC); ASSERT_EQ(p.h.pt, 96);
            ASSERT_LE(c->rtp[i].len, 1200);
            rtc_buf *b = rtc_buf_from(c->rtp[i].p, c->rtp[i].len);
            ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, b, (rtc_time)i), 0);
            rtc_buf_unref(b);
        } else {
            rtc_jitter_buffer_handle_timeout(jb, RTC_SEC(100));
        }
        while (rtc_jitter_buffer_poll_frame(jb, &f)) {
            ASSERT(n < max);
            frames[n].p = malloc(f.data->len);
            memcpy(frames[n].p, f.data->data, f.data->len);
            frames[n].len = f.data->len;
            keys[n] = f.keyframe;
            n++;
            rtc_buf_unref(f.data);
        }
    }
    rtc_jb_stats st;
    rtc_jitter_buffer_get_stats(jb, &st);
    ASSERT_EQ(st.frames_dropped, 0); ASSERT_EQ(st.bad_payload, 0);
    rtc_jitter_buffer_free(jb);
    return n;
}

/* A free even UDP port whose successor is free too (RTP + RTCP for ffmpeg to bind). */
static int free_port_pair(void)
{
    for (int tries = 0; tries < 100; tries++) {
        int p, q;
        int a = udp_socket(&p);
        if (p % 2 || p > 65000) { close(a); continue; }
        int b = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)(p + 1)) };
        q = bind(b, (struct sockaddr *)&sa, sizeof sa);
        close(a); close(b);
        if (q == 0) return p;
    }
    RTC_TEST_FAIL("no free port pair");
}

/* Whether some process has bound UDP `port` on loopback or any address. */
static bool port_bound(int port)
{
    FILE *f = fopen("/proc/net/udp", "r");
    if (!f) return false;
    char line[512], want1[32], want2[32];
    snprintf(want1, sizeof want1, "0100007F:%04X", port);
    snprintf(want2, sizeof want2, "00000000:%04X", port);
    bool found = false;
    while (fgets(line, sizeof line, f)) if (strstr(line, want1) || strstr(line, want2)) found = true;
    fclose(f);
    return found;
}

/* Packetize frames with our packetizer, send them to an ffmpeg reading an SDP, end
 * with an RTCP BYE, and let ffmpeg copy what its depacketizer rebuilt to out_file. */
static void send_to_ffmpeg(rtc_codec_id codec, const char *rtpmap, const char *fmtp, const blob *frames,
                           const bool *keys, size_t n, const char *out_opts, const char *out_file)
{
    bool audio = codec == RTC_CODEC_OPUS;
    int port = free_port_pair();
    char sdp[256], cmd[1024];
    snprintf(sdp, sizeof sdp, "%s/in.sdp", dir);
    FILE *f = fopen(sdp, "w");
    ASSERT(f != NULL);
    fprintf(f, "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=%s %d RTP/AVP 96\r\na=rtpmap:96 %s\r\n%s", audio ? "audio" : "video", port, rtpmap, fmtp);
    fclose(f);
    /* -copyinkf: ffmpeg's VP9 depacketizer does not flag keyframes, and stream copy
     * would otherwise wait for a flagged one. */
    snprintf(cmd, sizeof cmd, "exec ffmpeg -nostdin -y -v error -protocol_whitelist file,udp,rtp -i %s "
             "%s %s/%s", sdp, out_opts, dir, out_file);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) { execl("/bin/sh", "sh", "-c", cmd, (char *)NULL); _exit(127); }
    int status, waited = 0;
    while (!port_bound(port)) {                            /* ready when its socket exists */
        ASSERT(waitpid(pid, &status, WNOHANG) == 0);
        ASSERT(waited++ < 2000);
        usleep(5000);
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons((uint16_t)port) };
    uint16_t seq = 40000;
    for (size_t i = 0; i < n; i++) {
        rtc_packetizer pk;
        rtc_pack_params pp = { .picture_id = (int32_t)i, .keyframe = keys[i], .width = 320, .height = 240 };
        ASSERT_EQ(rtc_packetizer_init(&pk, codec, frames[i].p, frames[i].len, 1100, &pp), 0);
        uint8_t pl[1200], pkt[1300];
        bool last;
        int len;
        while ((len = rtc_packetizer_next(&pk, pl, sizeof pl, &last)) > 0) {
            rtc_rtp_header h = { .marker = last && !audio, .pt = 96, .seq = seq++,
                                 .ts = 1000 + (uint32_t)i * (audio ? 960 : 6000), .ssrc = 0x5EED };
            int w = rtc_rtp_write(pkt, sizeof pkt, &h, pl, (size_t)len, 0);
            ASSERT(w > 0);
            ASSERT_EQ(sendto(fd, pkt, (size_t)w, 0, (struct sockaddr *)&to, sizeof to), w);
            /* Pace: ffmpeg reads as it probes, and on a loaded machine (the sanitizer run,
             * parallel tests) a burst overflows its socket buffer. */
            usleep(1000);
        }
    }
    uint8_t bye[64];                                       /* a proper compound: RR then BYE */
    uint32_t ss = 0x5EED;
    rtc_rtcp_rr rr = { .ssrc = ss };
    int bl = rtc_rtcp_write_rr(bye, sizeof bye, &rr);
    bl += rtc_rtcp_write_bye(bye + bl, sizeof bye - (size_t)bl, &ss, 1, (rtc_str){ NULL, 0 });
    to.sin_port = htons((uint16_t)(port + 1));
    for (waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited++) {
        if (waited % 100 == 0) sendto(fd, bye, (size_t)bl, 0, (struct sockaddr *)&to, sizeof to);
        if (waited > 2000) { kill(pid, SIGKILL); waitpid(pid, &status, 0); RTC_TEST_FAIL("ffmpeg did not end"); }
        usleep(5000);
    }
    close(fd);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static size_t ivf_frames(blob ivf, blob *ref, size_t max)
{
    ASSERT(ivf.len > 32 && memcmp(ivf.p, "DKIF", 4) == 0);
    size_t n = 0, off = rtc_rd16(ivf.p + 6) >= 32 ? (size_t)(ivf.p[6] | ivf.p[7] << 8) : 32;
    while (off + 12 <= ivf.len && n < max) {
        size_t fl = (size_t)ivf.p[off] | (size_t)ivf.p[off + 1] << 8 | (size_t)ivf.p[off + 2] << 16 | (size_t)ivf.p[off + 3] << 24;
        ASSERT(off + 12 + fl <= ivf.len);
        ref[n++] = (blob){ ivf.p + off + 12, fl };
        off += 12 + fl;
    }
    return n;
}

static void test_vpx(const char *enc, const char *file, rtc_codec_id codec)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -y -v error -f lavfi -i testsrc2=size=320x240:rate=15 "
             "-vf noise=alls=12:allf=t -frames:v 20 -c:v %s -g 10 -b:v 1500k -auto-alt-ref 0 -lag-in-frames 0 "
             "-f ivf %s/%s", enc, dir, file);
    run(cmd);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    blob ivf = read_file(path);
    blob ref[64];
    size_t nref = ivf_frames(ivf, ref, 64);
    ASSERT_EQ(nref, 20);
    static capture c;
    capture_stream(file, &c);
    ASSERT(c.nrtp > 40);                                  /* frames span several packets */
    check_rtcp(&c, c.nrtp);
    blob got[64];
    bool keys[64];
    size_t n = receive_frames(codec, &c, got, 64, keys);
    ASSERT_EQ(n, nref);
    for (size_t i = 0; i < n; i++) {
        ASSERT_EQ(got[i].len, ref[i].len);
        ASSERT_MEMEQ(got[i].p, ref[i].p, ref[i].len);
        ASSERT_EQ(keys[i], i % 10 == 0);                  /* -g 10 */
        free(got[i].p);
    }
    capture_free(&c);
    /* The other way: our packetizer, ffmpeg's depacketizer. */
    send_to_ffmpeg(codec, codec == RTC_CODEC_VP8 ? "VP8/90000" : "VP9/90000", "", ref, keys, nref, "-copyinkf -c copy -f ivf", "back.ivf");
    snprintf(path, sizeof path, "%s/back.ivf", dir);
    blob back = read_file(path);
    blob bf[64];
    ASSERT_EQ(ivf_frames(back, bf, 64), nref);
    for (size_t i = 0; i < nref; i++) {
        ASSERT_EQ(bf[i].len, ref[i].len);
        ASSERT_MEMEQ(bf[i].p, ref[i].p, ref[i].len);
    }
    free(back.p);
    free(ivf.p);
}

static void test_vp8(void) { test_vpx("libvpx", "ref.vp8.ivf", RTC_CODEC_VP8); }
static void test_vp9(void) { test_vpx("libvpx-vp9", "ref.vp9.ivf", RTC_CODEC_VP9); }

/* NAL units of an Annex B stream, in order (access unit delimiters left out: an RTP
 * packetizer may drop them). */
static size_t nal_list(const uint8_t *p, size_t len, blob *out, size_t max)
{
    size_t n = 0, i = 0;
    while (i + 3 <= len) {
        if (!(p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)) { i++; continue; }
        size_t s = i + 3, e = s;
        while (e + 3 <= len && !(p[e] == 0 && p[e + 1] == 0 && (p[e + 2] == 1 || (p[e + 2] == 0 && e + 3 < len && p[e + 3] == 1)))) e++;
        if (e + 3 > len) e = len;
        if (e > s && (p[s] & 0x1F) != 9) { ASSERT(n < max); out[n++] = (blob){ (uint8_t *)p + s, e - s }; }
        i = e;
    }
    return n;
}

static void test_h264(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -y -v error -f lavfi -i testsrc2=size=320x240:rate=15 "
             "-vf noise=alls=12:allf=t -frames:v 20 -c:v libx264 -g 10 -bf 0 -crf 24 -f h264 %s/ref.h264", dir);
    run(cmd);
    char path[256];
    snprintf(path, sizeof path, "%s/ref.h264", dir);
    blob ref = read_file(path);
    static blob rn[4096], gn[4096];
    size_t nr = nal_list(ref.p, ref.len, rn, 4096);
    ASSERT(nr >= 20);
    static capture c;
    capture_stream("ref.h264", &c);
    check_rtcp(&c, c.nrtp);
    bool fu = false, stap = false;
    for (size_t i = 0; i < c.nrtp; i++) {
        rtc_rtp_packet p;
        rtc_rtp_parse(&p, c.rtp[i].p, c.rtp[i].len);
        fu |= (p.payload[0] & 0x1F) == 28;
        stap |= (p.payload[0] & 0x1F) == 24;
    }
    ASSERT(fu);                                           /* the clip exercises FU-A */
    blob got[64];
    bool keys[64];
    size_t n = receive_frames(RTC_CODEC_H264, &c, got, 64, keys);
    ASSERT_EQ(n, 20);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += got[i].len;
    uint8_t *all = malloc(total), *w = all;
    size_t idr = 0, nkeys = 0;                            /* x264 may add IDRs at scene cuts */
    for (size_t i = 0; i < nr; i++) idr += (rn[i].p[0] & 0x1F) == 5;
    ASSERT(keys[0]);
    for (size_t i = 0; i < n; i++) {
        nkeys += keys[i];
        ASSERT(got[i].len > 4 && memcmp(got[i].p, "\0\0\0\1", 4) == 0);
        memcpy(w, got[i].p, got[i].len); w += got[i].len;
        free(got[i].p);
    }
    ASSERT_EQ(nkeys, idr);
    size_t ng = nal_list(all, total, gn, 4096);
    ASSERT_EQ(ng, nr);
    for (size_t i = 0; i < nr; i++) {
        ASSERT_EQ(gn[i].len, rn[i].len);
        ASSERT_MEMEQ(gn[i].p, rn[i].p, rn[i].len);
    }
    (void)stap;
    /* The other way: our packetizer (STAP-A, FU-A), ffmpeg's depacketizer. */
    size_t off = 0;
    for (size_t i = 0; i < n; i++) { got[i].p = all + off; off += got[i].len; }
    send_to_ffmpeg(RTC_CODEC_H264, "H264/90000", "a=fmtp:96 packetization-mode=1\r\n", got, keys, n, "-c copy -f h264", "back.h264");
    snprintf(path, sizeof path, "%s/back.h264", dir);
    blob back = read_file(path);
    ng = nal_list(back.p, back.len, gn, 4096);
    ASSERT_EQ(ng, nr);
    for (size_t i = 0; i < nr; i++) {
        ASSERT_EQ(gn[i].len, rn[i].len);
        ASSERT_MEMEQ(gn[i].p, rn[i].p, rn[i].len);
    }
    free(back.p);
    free(all);
    capture_free(&c);
    free(ref.p);
}

/* Opus both ways, judged by the level of the decoded tone. */
static void test_opus(void)
{
    /* ffmpeg encodes a 440 Hz tone at 1/8 of full scale and streams it to us. */
    static capture c;
    char file[64];
    snprintf(file, sizeof file, "tone.opus.ogg");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -y -v error -f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 "
             "-c:a libopus -b:a 64k -f ogg %s/%s", dir, file);
    run(cmd);
    capture_stream(file, &c);
    check_rtcp(&c, c.nrtp);
    blob frames[128];
    bool keys[128];
    size_t n = receive_frames(RTC_CODEC_OPUS, &c, frames, 128, keys);
    ASSERT(n >= 45 && n <= 55);                           /* 20 ms packets */
    rtc_opus_decoder *d;
    ASSERT_EQ(rtc_opus_decoder_new(&d, 48000, 1), 0);
    static int16_t pcm[48000 * 2];
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int k = rtc_opus_decode(d, frames[i].p, frames[i].len, pcm + total, 5760);
        ASSERT(k > 0);
        total += (size_t)k;
        free(frames[i].p);
    }
    ASSERT(total >= 46000);
    double rms = rtc_pcm_rms(pcm + 9600, total - 19200);  /* away from the edges */
    ASSERT(rms > 32767.0 / 8 / 1.4142 * 0.8 && rms < 32767.0 / 8 / 1.4142 * 1.2);
    rtc_opus_decoder_free(d);
    capture_free(&c);

    /* We encode a tone at 8000 peak and stream it to ffmpeg, which decodes it. */
    rtc_opus_encoder *e;
    ASSERT_EQ(rtc_opus_encoder_new(&e, &(rtc_opus_encoder_config){ .bitrate = 64000 }), 0);
    blob out[50];
    bool k2[50];
    for (int f = 0; f < 50; f++) {
        int16_t in[960];
        for (int i = 0; i < 960; i++) in[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * (f * 960 + i) / 48000.0));
        out[f].p = malloc(1500);
        int len = rtc_opus_encode(e, in, 960, out[f].p, 1500);
        ASSERT(len > 0);
        out[f].len = (size_t)len;
        k2[f] = true;
    }
    rtc_opus_encoder_free(e);
    send_to_ffmpeg(RTC_CODEC_OPUS, "opus/48000/2", "", out, k2, 50, "-f s16le -ac 1 -ar 48000", "back.raw");
    for (int f = 0; f < 50; f++) free(out[f].p);
    char path[256];
    snprintf(path, sizeof path, "%s/back.raw", dir);
    blob raw = read_file(path);
    size_t ns = raw.len / 2;
    ASSERT(ns >= 46000 && ns <= 52000);
    int16_t *s16 = (int16_t *)raw.p;
    rms = rtc_pcm_rms(s16 + 9600, ns - 19200);
    ASSERT(rms > 5657 * 0.8 && rms < 5657 * 1.2);
    free(raw.p);
}

/* AV1 (ffmpeg 5.1 has no AV1 RTP): libaom encodes a clip as an OBU stream; each
 * temporal unit goes through our packetizer, RTP, the jitter buffer and our
 * depacketizer, must come back byte for byte, and ffmpeg (dav1d/libaom) must decode
 * the rebuilt stream to the same pictures as the original. */
static void test_av1(void)
{
    char cmd[1024], path[256];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -y -v error -f lavfi -i testsrc2=size=320x240:rate=15 "
             "-vf noise=alls=12:allf=t -frames:v 10 -c:v libaom-av1 -cpu-used 8 -usage realtime -g 5 "
             "-b:v 800k -f obu %s/ref.obu", dir);
    run(cmd);
    snprintf(path, sizeof path, "%s/ref.obu", dir);
    blob ref = read_file(path);
    /* Temporal units start at each temporal delimiter (0x12 0x00). */
    blob tu[64];
    size_t ntu = 0, off = 0, start = 0;
    while (off < ref.len) {
        uint8_t h = ref.p[off];
        size_t hl = (h & 0x04) ? 2 : 1;
        uint64_t sz;
        ASSERT(h & 0x02);                                 /* libaom writes size fields */
        int k = rtc_leb128_read(ref.p + off + hl, ref.len - off - hl, &sz);
        ASSERT(k > 0);
        if (((h >> 3) & 0x0F) == 2 && off > start) { ASSERT(ntu < 64); tu[ntu++] = (blob){ ref.p + start, off - start }; start = off; }
        off += hl + (size_t)k + (size_t)sz;
    }
    tu[ntu++] = (blob){ ref.p + start, ref.len - start };
    ASSERT_EQ(ntu, 10);
    rtc_jitter_buffer *jb;
    rtc_jitter_buffer_config cfg = { .codec = RTC_CODEC_AV1, .latency = RTC_SEC(1) };
    ASSERT_EQ(rtc_jitter_buffer_new(&jb, &cfg, 0), 0);
    uint16_t seq = 65500;
    size_t got = 0, packets = 0, keys = 0;
    snprintf(path, sizeof path, "%s/back.obu", dir);
    FILE *fo = fopen(path, "wb");
    ASSERT(fo != NULL);
    for (size_t i = 0; i < ntu; i++) {
        rtc_packetizer pk;
        ASSERT_EQ(rtc_packetizer_init(&pk, RTC_CODEC_AV1, tu[i].p, tu[i].len, 1100, NULL), 0);
        uint8_t pl[1200];
        bool last;
        int len;
        while ((len = rtc_packetizer_next(&pk, pl, sizeof pl, &last)) > 0) {
            rtc_rtp_header h = { .marker = last, .pt = 96, .seq = seq++, .ts = (uint32_t)i * 6000, .ssrc = 1 };
            rtc_buf *b = rtc_buf_alloc(NULL, 1300);
            b->len = (size_t)rtc_rtp_write(b->data, b->cap, &h, pl, (size_t)len, 0);
            ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, b, (rtc_time)i * 1000), 0);
            rtc_buf_unref(b);
            packets++;
        }
        rtc_jitter_buffer_handle_timeout(jb, RTC_SEC(10) + (rtc_time)i);
        rtc_jb_frame f;
        while (rtc_jitter_buffer_poll_frame(jb, &f)) {
            ASSERT_EQ(f.data->len, tu[got].len);
            ASSERT_MEMEQ(f.data->data, tu[got].p, tu[got].len);
            keys += f.keyframe;
            fwrite(f.data->data, 1, f.data->len, fo);
            got++;
            rtc_buf_unref(f.data);
        }
    }
    fclose(fo);
    rtc_jitter_buffer_free(jb);
    ASSERT_EQ(got, ntu);
    ASSERT(packets > 2 * ntu);                            /* OBUs were fragmented */
    ASSERT_EQ(keys, 2);                                   /* -g 5: sequence headers at 0 and 5 */
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i %s/ref.obu -f framemd5 - | grep -v '^#' > %s/ref.md5 && "
             "ffmpeg -nostdin -v error -i %s/back.obu -f framemd5 - | grep -v '^#' > %s/back.md5 && "
             "test $(wc -l < %s/ref.md5) -eq 10 && cmp -s %s/ref.md5 %s/back.md5", dir, dir, dir, dir, dir, dir, dir);
    run(cmd);
    free(ref.p);
}

int main(void)
{
    ASSERT(mkdtemp(dir) != NULL);
    RUN(test_h264);
    RUN(test_vp8);
    RUN(test_vp9);
    RUN(test_opus);
    RUN(test_av1);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run(cmd);
    return 0;
}
