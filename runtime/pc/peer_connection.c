/* The transport half of the peer connection: ICE -> DTLS -> SCTP/SRTP composed by
 * polling inside each call (pc__pump), plus the W3C state aggregation. JSEP lives in
 * pc_jsep.c and data channels in pc_channels.c. */
#include "pc/pc_internal.h"
#include "pc/pc_capture.h"
#include "core/rtc_demux.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "turn/turn_client.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TAG "pc"
/* SCTP packet size on a loopback pair. Datagrams then stay under 4096 bytes with any
 * DTLS record overhead: a libdatachannel peer (libjuice) drops larger ones, and other
 * stacks read at least that much. Three times fewer packets than at 1200 bytes. */
/* SCTP streams offered each way when the configuration names none; channel ids of
 * both parities share them, so this is the channel limit of one connection. */
#define PC_DEFAULT_MAX_CHANNELS 256

#ifndef PC_LOOPBACK_SCTP_MTU
#define PC_LOOPBACK_SCTP_MTU 4000
#endif

/* Key material is wiped, not just dropped; volatile keeps the stores. */
static void wipe_keying(rtc_srtp_keying *k)
{
    volatile unsigned char *p = (volatile unsigned char *)k;
    for (size_t i = 0; i < sizeof *k; i++) p[i] = 0;
}

/* ---- small FIFO ------------------------------------------------------------------ */

void pc__queue_push(pc_queue *q, const void *rec)
{
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 16;
        char *nv = malloc(ncap * q->size);
        if (!nv) abort();                       /* queues hold a handful of records */
        for (size_t i = 0; i < q->n; i++)
            memcpy(nv + i * q->size, (char *)q->v + ((q->head + i) % q->cap) * q->size, q->size);
        free(q->v);
        q->v = nv;
        q->cap = ncap;
        q->head = 0;
    }
    memcpy((char *)q->v + ((q->head + q->n) % q->cap) * q->size, rec, q->size);
    q->n++;
}

bool pc__queue_pop(pc_queue *q, void *rec)
{
    if (!q->n) return false;
    memcpy(rec, (char *)q->v + q->head * q->size, q->size);
    q->head = (q->head + 1) % q->cap;
    /* Records come in bursts; an idle connection keeps no storage (events are large). */
    if (--q->n == 0) pc__queue_free(q);
    return true;
}

void pc__queue_free(pc_queue *q)
{
    free(q->v);
    q->v = NULL;
    q->n = q->cap = q->head = 0;
}

/* ---- candidate lists ------------------------------------------------------------- */

int pc__room(void **v, int n, int *cap, int max, size_t size)
{
    if (n < *cap) return 0;
    if (n >= max) return RTC_EQUOTA;
    int ncap = *cap ? *cap * 2 : 2;
    if (ncap > max) ncap = max;
    void *nv = realloc(*v, (size_t)ncap * size);
    if (!nv) return RTC_ENOMEM;
    *v = nv;
    *cap = ncap;
    return 0;
}

int pc__cand_keep(pc_cand **v, int *n, int *cap, const rtc_ice_candidate *c)
{
    char buf[1024];
    int len = rtc_ice_candidate_format(c, buf, sizeof buf);
    if (len < 0) return len;
    /* Most connections see one or two candidates each way. */
    int room = pc__room((void **)v, *n, cap, INT_MAX / 2, sizeof **v);
    if (room < 0) return room;
    char *line = malloc((size_t)len + 1);
    if (!line) return RTC_ENOMEM;
    memcpy(line, buf, (size_t)len + 1);
    (*v)[(*n)++] = (pc_cand){ .line = line, .type = c->type, .addr = c->addr };
    return 0;
}

void pc__cands_clear(pc_cand *v, int *n)
{
    for (int i = 0; i < *n; i++) free(v[i].line);
    *n = 0;
}

/* ---- names ------------------------------------------------------------------------ */

const char *rtc_pc_signaling_state_name(rtc_pc_signaling_state s)
{
    static const char *n[] = { "stable", "have-local-offer", "have-remote-offer",
                               "have-local-pranswer", "have-remote-pranswer", "closed" };
    return (unsigned)s < 6 ? n[s] : "?";
}
const char *rtc_pc_gathering_state_name(rtc_pc_gathering_state s)
{
    static const char *n[] = { "new", "gathering", "complete" };
    return (unsigned)s < 3 ? n[s] : "?";
}
const char *rtc_pc_ice_state_name(rtc_pc_ice_state s)
{
    static const char *n[] = { "new", "checking", "connected", "completed", "disconnected", "failed", "closed" };
    return (unsigned)s < 7 ? n[s] : "?";
}
const char *rtc_pc_connection_state_name(rtc_pc_connection_state s)
{
    static const char *n[] = { "new", "connecting", "connected", "disconnected", "failed", "closed" };
    return (unsigned)s < 6 ? n[s] : "?";
}
const char *rtc_pc_sdp_type_name(rtc_pc_sdp_type t)
{
    static const char *n[] = { "offer", "pranswer", "answer", "rollback" };
    return (unsigned)t < 4 ? n[t] : "?";
}
int rtc_pc_sdp_type_parse(const char *name, rtc_pc_sdp_type *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, rtc_pc_sdp_type_name((rtc_pc_sdp_type)i)) == 0) { *out = (rtc_pc_sdp_type)i; return 0; }
    return RTC_EINVAL;
}

/* ---- errors and events -------------------------------------------------------------- */

int pc__fail(rtc_pc *pc, int err, const char *fmt, ...)
{
    va_list ap;
    if (!pc->err && !(pc->err = malloc(PC_ERR_MAX))) return err;
    int n = snprintf(pc->err, PC_ERR_MAX, "%s: ", rtc_err_domname(err));
    va_start(ap, fmt);
    vsnprintf(pc->err + n, PC_ERR_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    return err;
}

const char *rtc_pc_last_error(const rtc_pc *pc) { return pc->err ? pc->err : ""; }

void pc__emit(rtc_pc *pc, const rtc_pc_event *ev) { pc__queue_push(&pc->events, ev); }

void pc__emit_state(rtc_pc *pc, rtc_pc_event_type type, int state)
{
    rtc_pc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.state = state;
    pc__emit(pc, &ev);
}

void pc__set_signaling(rtc_pc *pc, rtc_pc_signaling_state s)
{
    if (pc->sig == s) return;
    pc->sig = s;
    if (s == RTC_SIG_STABLE) {
        /* Only a pending offer can be rolled back: the descriptions it would restore
         * are not needed once stable (each is a parsed SDP of several KiB). */
        rtc_sdp_free(pc->prev_local);
        rtc_sdp_free(pc->prev_remote);
        pc->prev_local = pc->prev_remote = NULL;
        pc__saved_forget(pc);
    }
    pc__emit_state(pc, RTC_PC_EV_SIGNALING_STATE, s);
}

static void set_gathering(rtc_pc *pc, rtc_pc_gathering_state s)
{
    if (pc->gathering == s) return;
    pc->gathering = s;
    pc__emit_state(pc, RTC_PC_EV_GATHERING_STATE, s);
}

/* W3C RTCPeerConnectionState from the ICE and DTLS transports (one of each here). */
static void update_states(rtc_pc *pc)
{
    rtc_pc_ice_state is;
    if (pc->closed) is = RTC_PC_ICE_CLOSED;
    else switch (pc->ice_raw) {
        case RTC_ICE_CHECKING: is = RTC_PC_ICE_CHECKING; break;
        case RTC_ICE_CONNECTED: is = RTC_PC_ICE_CONNECTED; break;
        case RTC_ICE_COMPLETED: is = RTC_PC_ICE_COMPLETED; break;
        case RTC_ICE_DISCONNECTED: is = RTC_PC_ICE_DISCONNECTED; break;
        case RTC_ICE_FAILED: is = RTC_PC_ICE_FAILED; break;
        case RTC_ICE_CLOSED: is = RTC_PC_ICE_CLOSED; break;
        default: is = RTC_PC_ICE_NEW;
    }
    if (is != pc->ice_state) {
        pc->ice_state = is;
        pc__emit_state(pc, RTC_PC_EV_ICE_STATE, is);
    }
    rtc_pc_connection_state cs;
    if (pc->closed) cs = RTC_CONN_CLOSED;
    else if (is == RTC_PC_ICE_FAILED || pc->dtls_failed) cs = RTC_CONN_FAILED;
    else if (is == RTC_PC_ICE_DISCONNECTED) cs = RTC_CONN_DISCONNECTED;
    else if ((is == RTC_PC_ICE_CONNECTED || is == RTC_PC_ICE_COMPLETED) && pc->dtls_connected) cs = RTC_CONN_CONNECTED;
    else if (is == RTC_PC_ICE_NEW && !pc->dtls_started) cs = RTC_CONN_NEW;
    else cs = RTC_CONN_CONNECTING;
    if (cs != pc->conn_state) {
        pc->conn_state = cs;
        pc__emit_state(pc, RTC_PC_EV_CONNECTION_STATE, cs);
    }
}

/* ---- lifecycle ------------------------------------------------------------------------ */

int rtc_pc_new(rtc_pc **out, const rtc_pc_config *cfg, rtc_time now)
{
    if (!cfg || !cfg->rng) return RTC_EINVAL;
    /* a=max-message-size is a signed 64-bit integer in our SDP model */
    if (cfg->max_message_size > (size_t)INT64_MAX) return RTC_EINVAL;
    rtc_pc *pc = calloc(1, sizeof *pc);
    if (!pc) return RTC_ENOMEM;
    pc->cfg = *cfg;
    pc->now = now;
    pc->events.size = sizeof(rtc_pc_event);
    pc->tx.size = sizeof(rtc_transmit);
    pc->data_msec = -1;
    pc->ice_raw = RTC_ICE_NEW;
    if (cfg->cert) {
        pc->cert = rtc_dtls_cert_ref(cfg->cert);
    } else {
        int r = rtc_dtls_cert_generate(&pc->cert, RTC_DTLS_KEY_ECDSA_P256, cfg->rng, cfg->unix_now);
        if (r < 0) { free(pc); return r; }
    }
    rtc_rng_ice_chars(cfg->rng, pc->ufrag, 8);
    rtc_rng_ice_chars(cfg->rng, pc->pwd, 24);
    pc->sess_id = rtc_rng_u64(cfg->rng) >> 2;    /* fits in a signed 64-bit: some parsers need it */
    pc->sess_version = 1;
    pc->next_relay_only = pc->cfg.relay_only;
    *out = pc;
    return 0;
}

static void free_servers(pc_server *v, int n)
{
    for (int i = 0; i < n; i++) { free(v[i].user); free(v[i].pass); }
    free(v);
}

void rtc_pc_free(rtc_pc *pc)
{
    if (!pc) return;
    rtc_pc_capture_stop(pc);
    pc__media_free(pc);
    rtc_ice_agent_free(pc->agent);
    rtc_sctp_assoc_free(pc->sctp);
    rtc_dtls_transport_free(pc->dtls);
    rtc_srtp_session_free(pc->srtp);
    wipe_keying(&pc->srtp_keying);
    for (int i = 0; i < pc->nearly; i++) rtc_buf_unref(pc->early[i]);
    free_servers(pc->servers, pc->nservers);
    free_servers(pc->next_servers, pc->nnext_servers);
    free(pc->addrs);
    free(pc->remote_ufrag);
    free(pc->rfps);
    free(pc->remote_pwd);
    free(pc->err);
    rtc_pc_event ev;
    while (pc__queue_pop(&pc->events, &ev)) rtc_buf_unref(ev.buf);
    rtc_transmit tx;
    while (pc__queue_pop(&pc->tx, &tx)) rtc_buf_unref(tx.buf);
    pc__queue_free(&pc->events);
    pc__queue_free(&pc->tx);
    pc__channels_free(pc);
    pc__jsep_free(pc);
    pc__cands_clear(pc->lcands, &pc->nlcands);
    pc__cands_clear(pc->rcands, &pc->nrcands);
    free(pc->lcands);
    free(pc->rcands);
    rtc_dtls_cert_unref(pc->cert);
    free(pc);
}

const char *rtc_pc_local_fingerprint(const rtc_pc *pc) { return rtc_dtls_cert_fingerprint(pc->cert); }

static void clamp(rtc_pc *pc, rtc_time now)
{
    if (now > pc->now) pc->now = now;
}

/* ---- gathering input ------------------------------------------------------------------------ */

int rtc_pc_add_local_address(rtc_pc *pc, const rtc_addr *base, uint16_t local_pref, rtc_time now)
{
    clamp(pc, now);
    int room = pc__room((void **)&pc->addrs, pc->naddrs, &pc->capaddrs, PC_MAX_ADDRS, sizeof *pc->addrs);
    if (room < 0) return room;
    pc->addrs[pc->naddrs++] = (pc_addr){ .a = *base, .pref = local_pref };
    if (pc->agent) {
        int r = rtc_ice_agent_add_host_candidate(pc->agent, base, local_pref, NULL, pc->now);
        pc__pump(pc);
        return r == RTC_EEXISTS ? 0 : r;
    }
    return 0;
}

int rtc_pc_add_local_tcp_address(rtc_pc *pc, const rtc_addr *base, uint16_t local_pref, rtc_time now)
{
    clamp(pc, now);
    if (!base || !rtc_addr_family(base) || !rtc_addr_port(base)) return RTC_EINVAL;
    int room = pc__room((void **)&pc->addrs, pc->naddrs, &pc->capaddrs, PC_MAX_ADDRS, sizeof *pc->addrs);
    if (room < 0) return room;
    pc->addrs[pc->naddrs++] = (pc_addr){ .a = *base, .pref = local_pref, .tcp = true };
    if (pc->agent) {
        int r = rtc_ice_agent_add_tcp_host_candidate(pc->agent, base, local_pref, RTC_ICE_TCP_PASSIVE, NULL, pc->now);
        pc__pump(pc);
        return r == RTC_EEXISTS ? 0 : r;
    }
    return 0;
}

/* Adds to the list the agent uses, or, after rtc_pc_replace_servers with an agent
 * running, to the one the next restart takes (*added: the entry). */
static int add_server(rtc_pc *pc, const rtc_addr *base, const rtc_addr *servers, int n, bool turn, int transport,
                      const char *user, const char *pass, pc_server **added)
{
    if (!base || !servers || n < 1 || n > RTC_ICE_MAX_ALT) return RTC_EINVAL;
    for (int i = 1; i < n; i++)
        if (rtc_addr_family(&servers[i]) != rtc_addr_family(&servers[0])) return RTC_EINVAL;
    const rtc_addr *server = &servers[0];
    bool next = pc->next_set;
    pc_server **list = next ? &pc->next_servers : &pc->servers;
    int *nl = next ? &pc->nnext_servers : &pc->nservers, *cap = next ? &pc->capnext_servers : &pc->capservers;
    int room = pc__room((void **)list, *nl, cap, PC_MAX_SERVERS, sizeof **list);
    if (room < 0) return room;
    pc_server *s = &(*list)[(*nl)++];
    *added = s;
    memset(s, 0, sizeof *s);
    s->base = *base;
    s->server = *server;
    s->nalt = n - 1;
    for (int i = 1; i < n; i++) s->alt[i - 1] = servers[i];
    s->turn = turn;
    s->transport = transport;
    if (turn) {
        s->user = strdup(user ? user : "");
        s->pass = strdup(pass ? pass : "");
    }
    return 0;
}

static void agent_add_server(rtc_pc *pc, const pc_server *s)
{
    rtc_addr all[RTC_ICE_MAX_ALT];
    all[0] = s->server;
    for (int i = 0; i < s->nalt; i++) all[i + 1] = s->alt[i];
    if (s->turn) {
        rtc_ice_agent_add_turn_servers(pc->agent, &s->base, all, s->nalt + 1, s->transport,
                                       rtc_str_c(s->user), rtc_str_c(s->pass), pc->now);
        if (s->transport_error)    /* the driver could not reach the first address before the agent existed */
            rtc_ice_agent_turn_transport_failed(pc->agent, &s->base, &s->server, s->transport, s->transport_error,
                                                s->transport_reason, pc->now);
    } else
        rtc_ice_agent_add_stun_servers(pc->agent, &s->base, all, s->nalt + 1, pc->now);
}

static bool server_has(const pc_server *s, const rtc_addr *a)
{
    if (rtc_addr_eq(&s->server, a)) return true;
    for (int i = 0; i < s->nalt; i++) if (rtc_addr_eq(&s->alt[i], a)) return true;
    return false;
}

int rtc_pc_turn_transport_failed(rtc_pc *pc, const rtc_addr *base, const rtc_addr *server, int error,
                                 const char *reason, rtc_time now)
{
    clamp(pc, now);
    /* The list of the next restart too: that server reaches the agent with its error. */
    for (int i = 0; i < pc->nservers + pc->nnext_servers; i++) {
        bool next = i >= pc->nservers;
        pc_server *s = next ? &pc->next_servers[i - pc->nservers] : &pc->servers[i];
        if (!s->turn || s->transport == RTC_TURN_UDP || !server_has(s, server) || !rtc_addr_eq(&s->base, base))
            continue;
        /* not reached yet (no agent, or not handed to it): nothing to replay */
        if ((!pc->agent || next) && !rtc_addr_eq(&s->server, server)) return 0;
        s->transport_error = error < 0 ? error : RTC_EIO;
        snprintf(s->transport_reason, sizeof s->transport_reason, "%s", reason ? reason : "");
        if (pc->agent && !next) {
            rtc_ice_agent_turn_transport_failed(pc->agent, base, server, s->transport, s->transport_error,
                                                s->transport_reason, pc->now);
            pc__pump(pc);
        }
        return 0;
    }
    return RTC_ENOTFOUND;
}

int rtc_pc_add_stun_servers(rtc_pc *pc, const rtc_addr *base, const rtc_addr *servers, int n, rtc_time now)
{
    clamp(pc, now);
    pc_server *s = NULL;
    int r = add_server(pc, base, servers, n, false, 0, NULL, NULL, &s);
    if (r == 0 && pc->agent && !pc->next_set) { agent_add_server(pc, s); pc__pump(pc); }
    return r;
}

int rtc_pc_add_turn_servers(rtc_pc *pc, const rtc_addr *base, const rtc_addr *servers, int n, int transport,
                            const char *user, const char *pass, rtc_time now)
{
    clamp(pc, now);
    pc_server *s = NULL;
    int r = add_server(pc, base, servers, n, true, transport, user, pass, &s);
    if (r == 0 && pc->agent && !pc->next_set) { agent_add_server(pc, s); pc__pump(pc); }
    return r;
}

int rtc_pc_add_stun_server(rtc_pc *pc, const rtc_addr *base, const rtc_addr *server, rtc_time now)
{
    return rtc_pc_add_stun_servers(pc, base, server, 1, now);
}

int rtc_pc_add_turn_server(rtc_pc *pc, const rtc_addr *base, const rtc_addr *server, int transport,
                           const char *user, const char *pass, rtc_time now)
{
    return rtc_pc_add_turn_servers(pc, base, server, 1, transport, user, pass, now);
}

static bool same_server(const pc_server *a, const pc_server *b)
{
    if (a->turn != b->turn || a->transport != b->transport || a->nalt != b->nalt || !rtc_addr_eq(&a->base, &b->base) ||
        !rtc_addr_eq(&a->server, &b->server) || !rtc_str_eq(rtc_str_c(a->user), rtc_str_c(b->user)) ||
        !rtc_str_eq(rtc_str_c(a->pass), rtc_str_c(b->pass)))
        return false;
    for (int i = 0; i < a->nalt; i++) if (!rtc_addr_eq(&a->alt[i], &b->alt[i])) return false;
    return true;
}

int rtc_pc_replace_servers(rtc_pc *pc, rtc_time now)
{
    clamp(pc, now);
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (!pc->agent) {
        /* Nothing gathered yet: the new list is simply the list. */
        free_servers(pc->servers, pc->nservers);
        pc->servers = NULL;
        pc->nservers = pc->capservers = 0;
        return 0;
    }
    free_servers(pc->next_servers, pc->nnext_servers);
    pc->next_servers = NULL;
    pc->nnext_servers = pc->capnext_servers = 0;
    pc->next_set = true;
    return 0;
}

int rtc_pc_set_ice_transport_policy(rtc_pc *pc, bool relay_only, rtc_time now)
{
    clamp(pc, now);
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (!pc->agent) pc->cfg.relay_only = relay_only;   /* nothing gathered yet */
    pc->next_relay_only = relay_only;
    return 0;
}

/* The candidates signalled from this restart on follow the new policy: the ones it no
 * longer allows leave the list (the agent signals the ones it now allows). */
static void apply_transport_policy(rtc_pc *pc)
{
    if (pc->next_relay_only == pc->cfg.relay_only) return;
    pc->cfg.relay_only = pc->next_relay_only;
    rtc_ice_agent_set_relay_only(pc->agent, pc->cfg.relay_only, pc->now);
    if (!pc->cfg.relay_only) return;
    int k = 0, announced = 0;
    for (int i = 0; i < pc->nlcands; i++) {
        if (pc->lcands[i].type != RTC_ICE_RELAY) { free(pc->lcands[i].line); continue; }
        if (i < pc->announced) announced++;
        pc->lcands[k++] = pc->lcands[i];
    }
    pc->nlcands = k;
    pc->announced = announced;
}

void pc__restart_agent(rtc_pc *pc)
{
    apply_transport_policy(pc);
    rtc_ice_agent_restart(pc->agent, rtc_str_c(pc->ufrag), rtc_str_c(pc->pwd), pc->now);
    if (!pc->next_set) return;
    /* The agent gathers from the servers that are new; the ones dropped from the list
     * are not asked again (their candidates stay with the agent until it closes). */
    for (int i = 0; i < pc->nnext_servers; i++) {
        bool known = false;
        for (int k = 0; k < pc->nservers && !known; k++) known = same_server(&pc->next_servers[i], &pc->servers[k]);
        if (known) continue;
        agent_add_server(pc, &pc->next_servers[i]);
        pc->gather_done = false;   /* the agent says GATHERING_DONE again once it answered */
    }
    free_servers(pc->servers, pc->nservers);
    pc->servers = pc->next_servers;
    pc->nservers = pc->nnext_servers;
    pc->capservers = pc->capnext_servers;
    pc->next_servers = NULL;
    pc->nnext_servers = pc->capnext_servers = 0;
    pc->next_set = false;
}

int pc__ensure_agent(rtc_pc *pc, bool controlling)
{
    if (pc->agent) return 0;
    rtc_ice_config ic;
    memset(&ic, 0, sizeof ic);
    ic.controlling = controlling && !pc->cfg.ice_lite;
    ic.lite = pc->cfg.ice_lite;
    ic.relay_only = pc->cfg.relay_only;
    ic.local_ufrag = rtc_str_c(pc->ufrag);
    ic.local_pwd = rtc_str_c(pc->pwd);
    ic.tie_breaker = rtc_rng_u64(pc->cfg.rng);
    ic.rng = pc->cfg.rng;
    ic.pool = pc->cfg.pool;
    ic.ta = pc->cfg.ice_ta;
    int r = rtc_ice_agent_new(&pc->agent, &ic, pc->now);
    if (r < 0) return pc__fail(pc, r, "cannot create the ICE agent");
    for (int i = 0; i < pc->naddrs; i++) {
        if (pc->addrs[i].tcp)
            rtc_ice_agent_add_tcp_host_candidate(pc->agent, &pc->addrs[i].a, pc->addrs[i].pref, RTC_ICE_TCP_PASSIVE,
                                                 NULL, pc->now);
        else
            rtc_ice_agent_add_host_candidate(pc->agent, &pc->addrs[i].a, pc->addrs[i].pref, NULL, pc->now);
    }
    for (int i = 0; i < pc->nservers; i++) agent_add_server(pc, &pc->servers[i]);
    return 0;
}

/* Local candidates are announced once a local description is set (JSEP 5.2/5.3). */
void pc__start_gathering(rtc_pc *pc)
{
    if (pc->gathering == RTC_GATHER_NEW) set_gathering(pc, RTC_GATHER_GATHERING);
}

static void announce_candidates(rtc_pc *pc)
{
    if (!pc->local || pc->gathering == RTC_GATHER_NEW || pc->nmsecs == 0) return;
    const pc_msec *tag = NULL;
    int tag_index = 0;
    for (int i = 0; i < pc->nmsecs; i++)
        if (!pc->msecs[i].rejected) { tag = &pc->msecs[i]; tag_index = i; break; }
    if (!tag) return;
    while (pc->announced < pc->nlcands) {
        rtc_pc_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = RTC_PC_EV_ICE_CANDIDATE;
        snprintf(ev.candidate, sizeof ev.candidate, "%s", pc->lcands[pc->announced++].line);
        snprintf(ev.mid, sizeof ev.mid, "%s", tag->mid);
        ev.mline_index = tag_index;
        pc__emit(pc, &ev);
    }
    if (pc->gather_done && !pc->end_announced) {
        pc->end_announced = true;
        rtc_pc_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = RTC_PC_EV_ICE_CANDIDATE;
        snprintf(ev.mid, sizeof ev.mid, "%s", tag->mid);
        ev.mline_index = tag_index;
        pc__emit(pc, &ev);
        set_gathering(pc, RTC_GATHER_COMPLETE);
    }
}

/* ---- transports ---------------------------------------------------------------------------- */

static void send_on_pair(rtc_pc *pc, rtc_buf *b)
{
    if (!pc->has_pair || !pc->agent) { rtc_buf_unref(b); return; }
    pc->bytes_sent += b->len;
    pc->packets_sent++;
    if (pc->pair.relayed) {
        rtc_ice_agent_send(pc->agent, b->data, b->len, pc->now);   /* wraps for the TURN server */
        rtc_buf_unref(b);
        return;
    }
    rtc_transmit tx;
    memset(&tx, 0, sizeof tx);
    tx.local = pc->pair.local;
    tx.remote = pc->pair.remote;
    tx.proto = pc->pair.proto;
    tx.buf = b;
    pc__queue_push(&pc->tx, &tx);
}

void pc__send_packet(rtc_pc *pc, rtc_buf *b) { send_on_pair(pc, b); }

static void start_dtls(rtc_pc *pc)
{
    if (!pc->dtls || pc->dtls_started || !pc->has_pair) return;
    pc->dtls_started = true;
    rtc_dtls_transport_start(pc->dtls, pc->now);
    for (int i = 0; i < pc->nearly; i++) {
        rtc_dtls_transport_handle_datagram(pc->dtls, pc->early[i]->data, pc->early[i]->len, pc->now);
        rtc_buf_unref(pc->early[i]);
    }
    pc->nearly = 0;
}

/* Called by JSEP once both descriptions are known: DTLS role, fingerprint, SCTP. */
static void start_sctp(rtc_pc *pc);

int pc__apply_transport(rtc_pc *pc)
{
    if (!pc->dtls) {
        rtc_dtls_config dc;
        memset(&dc, 0, sizeof dc);
        dc.role = pc->dtls_client ? RTC_DTLS_CLIENT : RTC_DTLS_SERVER;
        dc.cert = pc->cert;
        dc.pool = pc->cfg.pool;
        int r = rtc_dtls_transport_new(&pc->dtls, &dc, pc->now);
        if (r < 0) return pc__fail(pc, r, "cannot create the DTLS transport");
    }
    if (pc->nrfps > 0) {
        const char *fps[RTC_DTLS_MAX_REMOTE_FPS];
        for (int i = 0; i < pc->nrfps; i++) fps[i] = pc->rfps[i];
        int r = rtc_dtls_transport_set_remote_fingerprints(pc->dtls, pc->rfp_algo, fps, pc->nrfps, pc->now);
        if (r < 0) return pc__fail(pc, RTC_EACCESS, "unsupported fingerprint algorithm %s", pc->rfp_algo);
    }
    start_dtls(pc);
    start_sctp(pc);
    return 0;
}

rtc_srtp_session *pc__srtp(rtc_pc *pc)
{
    if (!pc->srtp && pc->srtp_keying.profile != RTC_SRTP_NONE) {
        if (rtc_srtp_session_new(&pc->srtp, &pc->srtp_keying, pc->dtls_client) < 0) pc->srtp = NULL;
        /* The keys live on in the session; a failed build is not retried per packet. */
        wipe_keying(&pc->srtp_keying);
        pc->srtp_keying.profile = RTC_SRTP_NONE;
    }
    return pc->srtp;
}

/* The association runs once DTLS is up and a data section is negotiated, in either
 * order: a renegotiation may add the first data channel to a connected transport. */
static void start_sctp(rtc_pc *pc)
{
    if (pc->dtls_connected && pc->want_sctp && !pc->sctp && !pc->sctp_failed) {
        rtc_sctp_config sc;
        memset(&sc, 0, sizeof sc);
        sc.remote_port = pc->remote_sctp_port;
        sc.dtls_client = pc->dtls_client;
        sc.max_message_size = pc->cfg.max_message_size;
        sc.pool = pc->cfg.pool;
        /* usrsctp allocates per-stream state up front, about 104 bytes per stream each
         * way (6.7 MiB per association at 65535, 104 KiB at 1024, 26 KiB at 256): offer
         * what a connection plausibly uses; max_channels raises it. */
        sc.max_streams = pc->cfg.max_channels ? pc->cfg.max_channels : PC_DEFAULT_MAX_CHANNELS;
        sc.remote_max_message_size = pc->remote_mms;
        /* Both ends on this host (loopback pair): no path limits the packet size, and
         * each packet costs the same in the kernel, DTLS and usrsctp whatever its size.
         * Real networks keep the 1200-byte default. */
        if (pc->has_pair && !pc->pair.relayed && rtc_addr_is_loopback(&pc->pair.local)
            && rtc_addr_is_loopback(&pc->pair.remote))
            sc.mtu = PC_LOOPBACK_SCTP_MTU;
        if (rtc_sctp_assoc_new(&pc->sctp, &sc, pc->now) < 0) {
            pc->sctp_failed = true;
            rtc_pc_event e;
            memset(&e, 0, sizeof e);
            e.type = RTC_PC_EV_ERROR;
            e.err = RTC_ESCTP;
            snprintf(e.reason, sizeof e.reason, "cannot create the SCTP association");
            pc__emit(pc, &e);
        }
    }
}

static void on_dtls_connected(rtc_pc *pc, const rtc_dtls_event *ev)
{
    pc->dtls_connected = true;
    if (ev->srtp_profile != RTC_SRTP_NONE && !pc->srtp) pc->srtp_keying = ev->keying;
    start_sctp(pc);
}

static void handle_dtls_event(rtc_pc *pc, rtc_dtls_event *ev)
{
    switch (ev->type) {
    case RTC_DTLS_EV_CONNECTED:
        rtc_info(TAG, "DTLS connected (%s)", rtc_dtls_transport_cipher(pc->dtls));
        on_dtls_connected(pc, ev);
        break;
    case RTC_DTLS_EV_DATA:
        pc__capture(pc, PC_CAP_SCTP, false, NULL, NULL, ev->data->data, ev->data->len);
        if (pc->sctp) rtc_sctp_assoc_handle_packet(pc->sctp, ev->data->data, ev->data->len, pc->now);
        rtc_buf_unref(ev->data);
        break;
    case RTC_DTLS_EV_CLOSED:
        /* close_notify: the peer is gone and nothing more can travel, so the association
         * ends now rather than when its retransmissions give up. */
        pc__channels_close_all(pc, RTC_ECLOSED);
        if (pc->sctp) rtc_sctp_assoc_abort(pc->sctp, pc->now);
        break;
    case RTC_DTLS_EV_FAILED: {
        pc->dtls_failed = true;
        rtc_warn(TAG, "DTLS failed: %s", ev->reason ? ev->reason : "?");
        rtc_pc_event e;
        memset(&e, 0, sizeof e);
        e.type = RTC_PC_EV_ERROR;
        e.err = ev->error;
        snprintf(e.reason, sizeof e.reason, "DTLS: %s", ev->reason ? ev->reason : rtc_strerror(ev->error));
        pc__emit(pc, &e);
        pc__channels_close_all(pc, ev->error);
        break;
    }
    }
}

static void handle_ice_event(rtc_pc *pc, rtc_ice_event *ev)
{
    switch (ev->type) {
    case RTC_ICE_EV_STATE:
        pc->ice_raw = ev->u.state;
        break;
    case RTC_ICE_EV_LOCAL_CANDIDATE:
        /* On failure the candidate is not kept for the SDP; the agent still uses it. */
        pc__cand_keep(&pc->lcands, &pc->nlcands, &pc->caplcands, &ev->u.cand);
        break;
    case RTC_ICE_EV_GATHERING_DONE:
        pc->gather_done = true;
        break;
    case RTC_ICE_EV_SELECTED_PAIR:
        pc->has_pair = true;
        pc->pair = ev->u.pair;
        start_dtls(pc);
        break;
    case RTC_ICE_EV_DATA: {
        rtc_buf *b = ev->u.data.buf;
        rtc_pc_handle_datagram(pc, &pc->pair.local, &ev->u.data.from, b->data, b->len, pc->now);
        rtc_buf_unref(b);
        break;
    }
    case RTC_ICE_EV_TURN_FAILED:
    {
        rtc_warn(TAG, "TURN allocation failed: %s", ev->u.turn.reason);
        rtc_pc_event pev = { .type = RTC_PC_EV_ICE_CANDIDATE_ERROR, .server = ev->u.turn.server,
                             .code = ev->u.turn.code, .err = ev->u.turn.error };
        snprintf(pev.reason, sizeof pev.reason, "%s", ev->u.turn.reason);
        pc__emit(pc, &pev);
        break;
    }
    default:
        break;
    }
}

/* Move output between the layers until none has anything left to give. */
void pc__pump(rtc_pc *pc)
{
    bool progress = true;
    while (progress) {
        progress = false;
        if (pc->agent) {
            rtc_ice_event iev;
            while (rtc_ice_agent_poll_event(pc->agent, &iev)) { handle_ice_event(pc, &iev); progress = true; }
        }
        if (pc->sctp) {
            rtc_sctp_event sev;
            while (rtc_sctp_assoc_poll_event(pc->sctp, &sev)) {
                if (sev.type == RTC_SCTP_EV_CONNECTED) pc__channels_on_sctp_up(pc);
                else pc__channels_on_sctp_event(pc, &sev);
                progress = true;
            }
            rtc_buf *b;
            while (rtc_sctp_assoc_poll_transmit(pc->sctp, &b)) {
                pc__capture(pc, PC_CAP_SCTP, true, NULL, NULL, b->data, b->len);
                if (pc->dtls && pc->dtls_connected) rtc_dtls_transport_send(pc->dtls, b->data, b->len, pc->now);
                rtc_buf_unref(b);
                progress = true;
            }
        }
        if (pc->dtls) {
            rtc_dtls_event dev;
            while (rtc_dtls_transport_poll_event(pc->dtls, &dev)) { handle_dtls_event(pc, &dev); progress = true; }
            rtc_buf *b;
            while (rtc_dtls_transport_poll_transmit(pc->dtls, &b)) { send_on_pair(pc, b); progress = true; }
        }
    }
    /* usrsctp's timers are process-wide: one firing during our calls may have queued
     * packets on our association. Others' are served by their own 10 ms tick. */
    rtc_sctp_assoc *w;
    while (pc->sctp && rtc_sctp_poll_woken(&w)) {
        if (w != pc->sctp) continue;
        rtc_sctp_assoc_handle_timeout(w, pc->now);
        pc__pump(pc);
        return;
    }
    pc__media_pump(pc);
    announce_candidates(pc);
    update_states(pc);
}

/* DTLS, SRTP and SRTCP are taken only from the remote address of a pair ICE has
 * validated (libwebrtc and str0m do the same): anyone can send a datagram to our
 * port, and a single unauthenticated epoch-0 alert would end a handshake. A pair
 * switch or an ICE restart validates the new address before it carries data. */
static bool from_peer(const rtc_pc *pc, const rtc_addr *remote)
{
    return pc->agent && remote && rtc_ice_agent_validated(pc->agent, remote);
}

/* ---- I/O verbs ---------------------------------------------------------------------------- */

static int handle_input(rtc_pc *pc, const rtc_addr *local, const rtc_addr *remote,
                        const uint8_t *data, size_t len, int proto, rtc_time now);

int rtc_pc_handle_datagram(rtc_pc *pc, const rtc_addr *local, const rtc_addr *remote,
                           const uint8_t *data, size_t len, rtc_time now)
{
    return handle_input(pc, local, remote, data, len, RTC_PROTO_UDP, now);
}

int rtc_pc_handle_tcp_frame(rtc_pc *pc, const rtc_addr *local, const rtc_addr *remote,
                            const uint8_t *data, size_t len, rtc_time now)
{
    return handle_input(pc, local, remote, data, len, RTC_PROTO_TCP, now);
}

static int handle_input(rtc_pc *pc, const rtc_addr *local, const rtc_addr *remote,
                        const uint8_t *data, size_t len, int proto, rtc_time now)
{
    clamp(pc, now);
    if (pc->closed) return RTC_ECLOSED;
    int r = 0;
    pc->bytes_received += len;
    pc->packets_received++;
    switch (rtc_demux(data, len)) {
    case RTC_PKT_STUN:
    case RTC_PKT_TURN_CHANNEL:
        pc__capture(pc, PC_CAP_STUN, false, local, remote, data, len);
        if (pc->agent) r = rtc_ice_agent_handle_packet(pc->agent, local, remote, data, len, proto, pc->now);
        else r = RTC_EIGNORED;
        break;
    case RTC_PKT_DTLS:
        if (pc->dtls && pc->dtls_started) {
            if (!from_peer(pc, remote)) { r = RTC_EIGNORED; break; }
            r = rtc_dtls_transport_handle_datagram(pc->dtls, data, len, pc->now);
        } else if (pc->nearly < PC_MAX_EARLY && pc->agent && rtc_ice_agent_checked(pc->agent, remote)) {
            /* The peer's handshake can beat its answer to us: keep it for later, but
             * only from an address that has proved it knows our ICE password. */
            pc->early[pc->nearly++] = rtc_buf_from(data, len);
        } else {
            r = RTC_EIGNORED;
        }
        break;
    case RTC_PKT_RTP:
    case RTC_PKT_RTCP:
        if (!from_peer(pc, remote)) { r = RTC_EIGNORED; break; }
        r = pc__media_handle_packet(pc, data, len);
        break;
    default:
        r = RTC_EIGNORED;
    }
    pc__pump(pc);
    return r;
}

int rtc_pc_handle_stream(rtc_pc *pc, const rtc_addr *local, const rtc_addr *server,
                         const uint8_t *data, size_t len, rtc_time now)
{
    clamp(pc, now);
    if (pc->closed || !pc->agent) return RTC_EIGNORED;
    pc->bytes_received += len;
    int r = rtc_ice_agent_handle_packet(pc->agent, local, server, data, len, RTC_PROTO_TCP_RAW, pc->now);
    pc__pump(pc);
    return r;
}

int rtc_pc_handle_timeout(rtc_pc *pc, rtc_time now)
{
    clamp(pc, now);
    if (pc->agent && rtc_ice_agent_poll_timeout(pc->agent) <= pc->now) rtc_ice_agent_handle_timeout(pc->agent, pc->now);
    if (pc->dtls && rtc_dtls_transport_poll_timeout(pc->dtls) <= pc->now) rtc_dtls_transport_handle_timeout(pc->dtls, pc->now);
    if (pc->sctp && rtc_sctp_assoc_poll_timeout(pc->sctp) <= pc->now) rtc_sctp_assoc_handle_timeout(pc->sctp, pc->now);
    pc__media_handle_timeout(pc);
    pc__pump(pc);
    return 0;
}

bool rtc_pc_poll_transmit(rtc_pc *pc, rtc_transmit *out)
{
    bool got = (pc->agent && rtc_ice_agent_poll_transmit(pc->agent, out)) || pc__queue_pop(&pc->tx, out);
    if (got && pc->capture && out->buf && (rtc_demux(out->buf->data, out->buf->len) == RTC_PKT_STUN ||
                                           rtc_demux(out->buf->data, out->buf->len) == RTC_PKT_TURN_CHANNEL))
        pc__capture(pc, PC_CAP_STUN, true, &out->local, &out->remote, out->buf->data, out->buf->len);
    return got;
}

bool rtc_pc_poll_event(rtc_pc *pc, rtc_pc_event *out)
{
    pc__channels_on_poll(pc, NULL);
    while (pc__queue_pop(&pc->events, out)) {
        /* W3C fires negotiationneeded from a queued task that checks again: the caller
         * may have left stable (a rollback, then the peer's offer) or negotiated since. */
        if (out->type == RTC_PC_EV_NEGOTIATION_NEEDED && (pc->sig != RTC_SIG_STABLE || !pc->negotiation_needed))
            continue;
        pc__channels_on_poll(pc, out);
        return true;
    }
    return false;
}

rtc_time rtc_pc_poll_timeout(rtc_pc *pc)
{
    rtc_time t = RTC_TIME_NEVER;
    if (pc->agent) t = rtc_time_min(t, rtc_ice_agent_poll_timeout(pc->agent));
    if (pc->dtls) t = rtc_time_min(t, rtc_dtls_transport_poll_timeout(pc->dtls));
    if (pc->sctp) t = rtc_time_min(t, rtc_sctp_assoc_poll_timeout(pc->sctp));
    t = rtc_time_min(t, pc__media_poll_timeout(pc));
    return t;
}

bool rtc_pc_accepts(const rtc_pc *pc, const rtc_addr *local, const uint8_t *data, size_t len, const rtc_addr *remote)
{
    if (!pc->agent) return false;
    return rtc_ice_agent_accepts(pc->agent, local, data, len, remote);
}

bool rtc_pc_checked(const rtc_pc *pc, const rtc_addr *remote)
{
    return pc->agent && rtc_ice_agent_checked(pc->agent, remote);
}

int rtc_pc_local_ufrags(const rtc_pc *pc, rtc_str out[2])
{
    if (!pc->agent) return 0;
    return rtc_ice_agent_local_ufrags(pc->agent, out);
}

int rtc_pc_close(rtc_pc *pc, rtc_time now)
{
    clamp(pc, now);
    if (pc->closed) return 0;
    pc__channels_close_all(pc, 0);
    /* An ABORT, not a SHUTDOWN: we stop answering right after this, so a SHUTDOWN would
     * leave the peer retransmitting towards nobody; the ABORT (and the close_notify
     * after it) ends the peer's association at once. */
    if (pc->sctp) rtc_sctp_assoc_abort(pc->sctp, pc->now);
    pc__media_bye(pc);                                  /* RFC 3550 6.6: our streams leave */
    pc__pump(pc);
    if (pc->dtls) rtc_dtls_transport_close(pc->dtls, pc->now);
    pc__pump(pc);
    if (pc->agent) rtc_ice_agent_close(pc->agent, pc->now);
    pc->closed = true;
    pc__set_signaling(pc, RTC_SIG_CLOSED);
    update_states(pc);
    return 0;
}

rtc_pc_signaling_state rtc_pc_signaling_state_get(const rtc_pc *pc) { return pc->sig; }
rtc_pc_gathering_state rtc_pc_gathering_state_get(const rtc_pc *pc) { return pc->gathering; }
rtc_pc_ice_state rtc_pc_ice_state_get(const rtc_pc *pc) { return pc->ice_state; }
rtc_pc_connection_state rtc_pc_connection_state_get(const rtc_pc *pc) { return pc->conn_state; }

static int candidate_at(const pc_cand *v, int n, int i, char *buf, size_t size, int *type, rtc_addr *addr)
{
    if (i < 0 || i >= n) return RTC_ENOTFOUND;
    if (buf) snprintf(buf, size, "%s", v[i].line);
    if (type) *type = v[i].type;
    if (addr) *addr = v[i].addr;
    return 0;
}

int rtc_pc_local_candidate(const rtc_pc *pc, int i, char *buf, size_t size, int *type, rtc_addr *addr)
{
    return candidate_at(pc->lcands, pc->nlcands, i, buf, size, type, addr);
}

int rtc_pc_remote_candidate(const rtc_pc *pc, int i, char *buf, size_t size, int *type, rtc_addr *addr)
{
    return candidate_at(pc->rcands, pc->nrcands, i, buf, size, type, addr);
}

int rtc_pc_pair_stats(const rtc_pc *pc, int i, rtc_ice_pair_stats *out)
{
    return pc->agent ? rtc_ice_agent_pair_stats(pc->agent, i, out) : RTC_ENOTFOUND;
}

void rtc_pc_get_stats(rtc_pc *pc, rtc_pc_stats *out)
{
    memset(out, 0, sizeof *out);
    out->bytes_sent = pc->bytes_sent;
    out->bytes_received = pc->bytes_received;
    out->packets_sent = pc->packets_sent;
    out->packets_received = pc->packets_received;
    out->data_channels_opened = pc->dc_opened;
    out->data_channels_closed = pc->dc_closed;
    out->has_pair = pc->has_pair;
    if (pc->has_pair) {
        out->pair_local = pc->pair.local;
        out->pair_remote = pc->pair.remote;
        out->pair_local_type = pc->pair.local_type;
        out->pair_remote_type = pc->pair.remote_type;
        for (int i = 0; pc->pair.relayed && i < pc->nservers; i++) {
            const pc_server *sv = &pc->servers[i];
            if (sv->turn && rtc_addr_eq(&sv->base, &pc->pair.local) && server_has(sv, &pc->pair.relay_server)) {
                out->pair_relay_protocol = sv->transport == RTC_TURN_TLS ? "tls" : sv->transport == RTC_TURN_TCP ? "tcp" : "udp";
                break;
            }
        }
        out->pair_proto = pc->pair.proto;
    }
    snprintf(out->local_fingerprint, sizeof out->local_fingerprint, "%s", rtc_dtls_cert_fingerprint(pc->cert));
    /* The certificate in use once DTLS has it (always SHA-256, as stats name it);
     * before that the description's value when it is SHA-256. */
    const char *rfp = pc->dtls ? rtc_dtls_transport_remote_fingerprint(pc->dtls) : "";
    if (!rfp[0] && strcasecmp(pc->rfp_algo, "sha-256") == 0) rfp = pc->rfp;
    snprintf(out->remote_fingerprint, sizeof out->remote_fingerprint, "%s", rfp);
    out->dtls_role = pc->dtls ? (pc->dtls_client ? "client" : "server") : "unknown";
    out->ice_role = !pc->agent ? "unknown" : rtc_ice_agent_controlling(pc->agent) ? "controlling" : "controlled";
    if (!pc->dtls) out->dtls_state = "new";
    else switch (rtc_dtls_transport_state(pc->dtls)) {
        case RTC_DTLS_CONNECTING: out->dtls_state = "connecting"; break;
        case RTC_DTLS_CONNECTED: out->dtls_state = "connected"; break;
        case RTC_DTLS_CLOSED: out->dtls_state = "closed"; break;
        case RTC_DTLS_FAILED: out->dtls_state = "failed"; break;
        default: out->dtls_state = "new";
    }
    out->tls_cipher = pc->dtls ? rtc_dtls_transport_cipher(pc->dtls) : "";
    rtc_srtp_profile sp = pc->srtp ? rtc_srtp_session_profile(pc->srtp) : pc->srtp_keying.profile;
    out->srtp_cipher = sp != RTC_SRTP_NONE ? rtc_srtp_profile_name(sp) : "";
    if (!out->srtp_cipher) out->srtp_cipher = "";
    if (pc->agent) {
        rtc_ice_stats is;
        rtc_ice_agent_get_stats(pc->agent, &is);
        out->stun_checks_sent = is.checks_sent;
        out->stun_checks_received = is.checks_received;
        out->stun_responses_received = is.responses_received;
    }
}
