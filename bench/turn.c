/* TURN relay throughput and CPU per relayed packet: our server (luartc running
 * examples/turn_server.lua) against coturn's turnserver, same machine, same load.
 *
 * The load generator is N TURN clients (our turn_client machine, each over its own UDP
 * socket) and one peer socket on 127.0.0.1. Each client keeps `window` datagrams in
 * flight through its channel; the peer echoes each one back to the relayed address, so
 * every round trip is two relayed packets (client->peer as ChannelData in, plain UDP
 * out; peer->client the other way). Server CPU is read from /proc/<pid>/stat (all its
 * threads) over the measured interval.
 *
 * Usage: bench_turn [seconds per server (5)] [payload bytes (200)] [window (64)] [clients (1)]
 * Needs the luartc executable beside this one and coturn's /usr/bin/turnserver. */
#define _GNU_SOURCE
#include "core/rtc_errors.h"
#include "core/rtc_time.h"
#include "stun/stun.h"
#include "turn/turn_client.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child = -1;

static void kill_child(void)
{
    if (child > 0) { kill(child, SIGKILL); waitpid(child, NULL, 0); child = -1; }
}

static int udp_socket(rtc_addr *bind_to)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int big = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    if (bind(fd, &bind_to->u.sa, rtc_addr_len(bind_to)) != 0) { perror("bind"); exit(1); }
    socklen_t n = sizeof bind_to->u;
    getsockname(fd, &bind_to->u.sa, &n);
    return fd;
}

static uint16_t free_port(void)
{
    rtc_addr a;
    rtc_addr_set(&a, "127.0.0.1", 0);
    int fd = udp_socket(&a);
    close(fd);
    return rtc_addr_port(&a);
}

static bool answers(const rtc_addr *server)
{
    rtc_addr me;
    rtc_addr_set(&me, "127.0.0.1", 0);
    int fd = udp_socket(&me);
    uint8_t tid[12] = { 1 }, b[128];
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, b, sizeof b, RTC_STUN_BINDING, RTC_STUN_REQUEST, tid);
    int n = rtc_stun_finish(&w);
    sendto(fd, b, (size_t)n, 0, &server->u.sa, rtc_addr_len(server));
    struct pollfd pf = { .fd = fd, .events = POLLIN };
    bool ok = poll(&pf, 1, 100) == 1 && recv(fd, b, sizeof b, 0) > 0;
    close(fd);
    return ok;
}

static void start(char *const argv[], const rtc_addr *server)
{
    child = fork();
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 1);
        dup2(nul, 2);
        setenv("RTC_LOG", "warn", 1);
        execv(argv[0], argv);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        if (answers(server)) return;
        usleep(20000);
    }
    fprintf(stderr, "%s did not start\n", argv[0]);
    kill_child();
    exit(1);
}

static double cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (p) sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

typedef struct result { double pps, cpu_us_per_pkt, cpu_share; uint64_t lost; } result;

static void flush_client(rtc_turn_client *c, int fd)
{
    rtc_transmit t;
    while (rtc_turn_client_poll_transmit(c, &t)) {
        sendto(fd, t.buf->data, t.buf->len, 0, &t.remote.u.sa, rtc_addr_len(&t.remote));
        rtc_buf_unref(t.buf);
    }
}

#define MAX_CLIENTS 64

typedef struct loadc {
    rtc_turn_client *c;
    int fd;
    bool ready;
    uint64_t sent, back;
} loadc;

static result run_load(const rtc_addr *server, double seconds, size_t size, int window, int nclients)
{
    rtc_addr paddr;
    rtc_addr_set(&paddr, "127.0.0.1", 0);
    int fp = udp_socket(&paddr);
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 3);
    rtc_pool *pool = rtc_pool_new(256);
    loadc cl[MAX_CLIENTS];
    for (int i = 0; i < nclients; i++) {
        rtc_addr caddr;
        rtc_addr_set(&caddr, "127.0.0.1", 0);
        cl[i] = (loadc){ .fd = udp_socket(&caddr) };
        rtc_turn_config cfg = { .server = *server, .local = caddr, .transport = RTC_TURN_UDP,
                                .username = RTC_STR("u"), .password = RTC_STR("p"), .rng = &rng, .pool = pool };
        if (rtc_turn_client_new(&cl[i].c, &cfg, rtc_clock_now()) < 0) exit(1);
        flush_client(cl[i].c, cl[i].fd);
    }
    uint8_t payload[1500], buf[2048];
    memset(payload, 0x5A, sizeof payload);
    bool measuring = false;
    uint64_t m_back = 0;
    rtc_time t0 = 0, end = rtc_clock_now() + RTC_SEC(10) + (rtc_time)(seconds * 1e6);
    double cpu0 = 0;
    result res = {0};
    struct pollfd pf[MAX_CLIENTS + 1];
    for (;;) {
        rtc_time now = rtc_clock_now();
        uint64_t back = 0, channel = 0;
        for (int i = 0; i < nclients; i++) back += cl[i].back;
        if (now > end) { fprintf(stderr, "load did not finish (allocation failed?)\n"); break; }
        if (measuring && now - t0 >= (rtc_time)(seconds * 1e6)) {
            double cpu = cpu_ticks(child) - cpu0, dt = (double)(now - t0) / 1e6;
            uint64_t pkts = 2 * (back - m_back);
            res.pps = (double)pkts / dt;
            res.cpu_us_per_pkt = pkts ? cpu * 1e6 / (double)pkts : 0;
            res.cpu_share = cpu / dt;
            break;
        }
        rtc_time to = RTC_TIME_NEVER;
        for (int i = 0; i < nclients; i++) {
            loadc *c = &cl[i];
            if (c->ready) {
                while ((int64_t)(c->sent - c->back) < window) {
                    if (rtc_turn_client_send(c->c, &paddr, payload, size, now) < 0) break;
                    c->sent++;
                }
                flush_client(c->c, c->fd);
            }
            to = rtc_time_min(to, rtc_turn_client_poll_timeout(c->c));
            pf[i] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
        }
        pf[nclients] = (struct pollfd){ .fd = fp, .events = POLLIN };
        int ms = to == RTC_TIME_NEVER ? 50 : (int)((to - now) / 1000);
        if (ms < 0) ms = 0;
        if (ms > 50) ms = 50;
        if (poll(pf, (nfds_t)nclients + 1, ms) == 0) {
            /* a window that stays empty for long means the relay dropped packets: refill it */
            for (int i = 0; i < nclients; i++)
                if (cl[i].ready && cl[i].sent != cl[i].back) { cl[i].back = cl[i].sent; res.lost++; }
        }
        now = rtc_clock_now();
        for (;;) {   /* the peer echoes everything back to the relayed address */
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(fp, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
            if (n < 0) break;
            sendto(fp, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        }
        for (int i = 0; i < nclients; i++) {
            loadc *c = &cl[i];
            for (;;) {
                ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n < 0) break;
                rtc_turn_client_handle_packet(c->c, buf, (size_t)n, now);
            }
            rtc_turn_client_handle_timeout(c->c, now);
            rtc_turn_event ev;
            while (rtc_turn_client_poll_event(c->c, &ev)) {
                if (ev.type == RTC_TURN_EV_ALLOCATED) c->ready = true;
                if (ev.type == RTC_TURN_EV_FAILED) { fprintf(stderr, "allocation failed: %d %s\n", ev.code, ev.reason); exit(1); }
                if (ev.type == RTC_TURN_EV_DATA) { c->back++; rtc_buf_unref(ev.data); }
            }
            flush_client(c->c, c->fd);
            rtc_turn_stats st;
            rtc_turn_client_get_stats(c->c, &st);
            channel += st.sent_channel;
        }
        /* measure once the channels carry the traffic (warm-up done) */
        if (!measuring && channel > 1000u * (uint64_t)nclients) {
            measuring = true;
            t0 = rtc_clock_now();
            cpu0 = cpu_ticks(child);
            m_back = 0;
            for (int i = 0; i < nclients; i++) m_back += cl[i].back;
        }
    }
    for (int i = 0; i < nclients; i++) { rtc_turn_client_free(cl[i].c); close(cl[i].fd); }
    rtc_pool_free(pool);
    close(fp);
    return res;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 5;
    size_t size = argc > 2 ? (size_t)atoi(argv[2]) : 200;
    int window = argc > 3 ? atoi(argv[3]) : 64;
    int nclients = argc > 4 ? atoi(argv[4]) : 1;
    if (size < 1 || size > 1400 || window < 1 || nclients < 1 || nclients > MAX_CLIENTS) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    atexit(kill_child);
    signal(SIGPIPE, SIG_IGN);
    char exe[PATH_MAX], luartc[PATH_MAX + 16], src[PATH_MAX], example[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 1;
    exe[n] = 0;
    snprintf(luartc, sizeof luartc, "%s/luartc", dirname(exe));
    snprintf(src, sizeof src, "%s", __FILE__);
    snprintf(example, sizeof example, "%s/../examples/turn_server.lua", dirname(src));
    if (access(luartc, X_OK) != 0 || access(example, R_OK) != 0) {
        fprintf(stderr, "need %s and %s\n", luartc, example);
        return 1;
    }
    bool have_coturn = access("/usr/bin/turnserver", X_OK) == 0;

    printf("TURN relay, %d client(s) + one echoing peer on 127.0.0.1, %zu-byte payloads, window %d per client, "
           "%.0f s each\n", nclients, size, window, seconds);
    printf("%-8s %14s %12s %14s %8s\n", "server", "relayed pkt/s", "server CPU", "CPU us/packet", "timeouts");
    result r[2] = {{0}};
    for (int which = 0; which < 2; which++) {
        if (which == 1 && !have_coturn) break;
        uint16_t port = free_port();
        unsigned base = 40000 + (unsigned)(getpid() % 200) * 50;
        rtc_addr server;
        rtc_addr_set(&server, "127.0.0.1", port);
        char listen[64], lp[64], minp[64], maxp[64], minp2[32], maxp2[32];
        snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
        snprintf(minp2, sizeof minp2, "%u", base);
        snprintf(maxp2, sizeof maxp2, "%u", base + 49);
        if (which == 0) {
            char *args[] = { luartc, example, "--listen", listen, "--realm", "bench", "--user", "u:p",
                             "--allow-loopback", "--min-port", minp2, "--max-port", maxp2, NULL };
            start(args, &server);
        } else {
            snprintf(lp, sizeof lp, "--listening-port=%u", port);
            snprintf(minp, sizeof minp, "--min-port=%u", base);
            snprintf(maxp, sizeof maxp, "--max-port=%u", base + 49);
            char *args[] = { "/usr/bin/turnserver", "-n", "--listening-ip=127.0.0.1", lp, "--relay-ip=127.0.0.1",
                             minp, maxp, "--lt-cred-mech", "--user=u:p", "--realm=bench", "--allow-loopback-peers",
                             "--no-cli", "--no-tls", "--no-dtls", "--log-file=/dev/null", "--no-stdout-log", NULL };
            start(args, &server);
        }
        r[which] = run_load(&server, seconds, size, window, nclients);
        printf("%-8s %14.0f %11.0f%% %14.2f %8llu\n", which == 0 ? "luartc" : "coturn", r[which].pps,
               r[which].cpu_share * 100, r[which].cpu_us_per_pkt, (unsigned long long)r[which].lost);
        fflush(stdout);
        kill_child();
    }
    if (have_coturn && r[1].pps > 0 && r[1].cpu_us_per_pkt > 0) {
        printf("ratio luartc/coturn: throughput %.2fx, CPU per packet %.2fx (lower is better)\n",
               r[0].pps / r[1].pps, r[0].cpu_us_per_pkt / r[1].cpu_us_per_pkt);
    } else if (!have_coturn) {
        printf("coturn (turnserver) not installed: no comparison\n");
    }
    return 0;
}
