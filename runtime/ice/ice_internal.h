/* Internal state of the ICE agent, shared by ice_agent.c (candidates, gathering, TURN,
 * input routing, queues) and ice_check.c (checklist, checks, nomination, consent). */
#ifndef RTC_ICE_INTERNAL_H
#define RTC_ICE_INTERNAL_H
#include "ice_agent.h"
#include "stun/stun_txn.h"
#include "turn/turn_client.h"

#define ICE_MAX_LOCAL 16
#define ICE_MAX_REMOTE 64
#define ICE_MAX_PAIRS 256
#define ICE_MAX_TXNS 512
#define ICE_MAX_GATHER 8
#define ICE_MAX_TURN 4
#define ICE_MAX_OUT 4096
#define ICE_MAX_EVENTS 1024
#define ICE_INLINE_OUT 8
#define ICE_INLINE_EVENTS 4

/* A queued event: the small ones in place, the others (LOCAL_CANDIDATE,
 * PEER_REFLEXIVE, TURN_FAILED) as a heap copy handed out by poll_event. */
typedef struct ice_qev {
    rtc_ice_ev_type type;
    union {
        rtc_ice_state state;
        rtc_ice_pair_info pair;
        bool controlling;
        struct { rtc_addr from; rtc_buf *buf; } data;
        rtc_ice_event *big;
    } u;
} ice_qev;
#define ICE_CRED_MAX 256
#define ICE_MSG_MAX 704
/* With nothing left to check, wait this long after the last sign of the peer before
 * failing: its checks may still bring a peer-reflexive candidate. */
#define ICE_FAIL_GRACE RTC_SEC(2)

/* What the agent keeps of a candidate: the fields checks and pairing use. The public
 * rtc_ice_candidate is over 900 bytes (room for host names and extensions) and an
 * agent may hold 80 of them; ice__cand_full rebuilds one for events and the API. */
typedef struct ice_cand {
    char foundation[RTC_ICE_FOUNDATION_MAX];
    rtc_ice_cand_type type;
    uint32_t priority;
    rtc_addr addr;                  /* family 0 while `hostname` is unresolved */
    uint16_t port;
    bool has_related;
    rtc_addr related;
    char *hostname;                 /* owned; remote FQDN / mDNS name, NULL when none */
    bool checked;                   /* remote: sent us a check that passed integrity */
    uint8_t transport;              /* RTC_ICE_UDP / RTC_ICE_TCP */
    uint8_t tcptype;                /* rtc_ice_tcptype; NONE for UDP */
} ice_cand;

typedef struct ice_local {
    ice_cand c;                     /* hostname always NULL */
    rtc_addr base;        /* address that sends: the socket; for relay the relayed address */
    int turn;             /* index in turns[] for relay candidates, else -1 */
    bool announced;
} ice_local;

enum { PAIR_FROZEN, PAIR_WAITING, PAIR_IN_PROGRESS, PAIR_SUCCEEDED, PAIR_FAILED };

/* Per-pair STUN counters and round trips (W3C RTCIceCandidatePairStats). */
typedef struct ice_pair_counts {
    uint32_t requests_sent, requests_received, responses_sent, responses_received, consent_sent;
    uint32_t rtt_n;                 /* responses timed (to requests sent once: Karn) */
    rtc_time rtt_total, rtt_last;
} ice_pair_counts;

typedef struct ice_pair {
    int local, remote;
    uint64_t prio;
    int state;
    bool valid, nominated, nominate_on_success, queued;
    bool answered_back;   /* controlled: re-checked once after the peer's check on a valid pair */
    ice_pair_counts n;
} ice_pair;

enum { TXN_CHECK, TXN_CONSENT, TXN_GATHER };

typedef struct ice_txn {
    int kind;
    int pair;             /* TXN_CHECK */
    int gather;           /* TXN_GATHER */
    bool use_cand, old_creds, sent_controlling;
    rtc_time sent_at;     /* the last (re)transmission */
    bool kicked;          /* sent again ahead of its schedule: its response is not timed */
    uint8_t tid[RTC_STUN_TID_LEN];
    rtc_stun_txn t;
    rtc_addr base, remote;    /* where it went */
    int turn;
    int proto;                /* RTC_PROTO_UDP, or RTC_PROTO_TCP on an ICE-TCP connection */
    uint8_t msg[ICE_MSG_MAX];
    size_t len;
} ice_txn;

/* A server name may resolve to several addresses: `server` is the one in use, alt[]
 * the ones still to try in order when it does not answer (RTC_ICE_MAX_ALT in all). */
typedef struct ice_gather {
    rtc_addr base, server;
    bool done;
    rtc_addr alt[RTC_ICE_MAX_ALT - 1];
    uint8_t nalt, next_alt;
} ice_gather;
typedef struct ice_turn {
    rtc_turn_client *tc;
    rtc_addr base, server;
    int transport;
    bool done;
    rtc_addr alt[RTC_ICE_MAX_ALT - 1];
    uint8_t nalt, next_alt;
    char *user, *pass;              /* kept for a client to the next address */
} ice_turn;

typedef struct ice_selected {
    bool set;
    int pair;             /* index in pairs[], -1 once a restart dropped the checklist */
    rtc_addr base, remote;
    int turn;
    int proto;            /* RTC_PROTO_UDP / RTC_PROTO_TCP */
    rtc_ice_cand_type ltype, rtype;
    uint64_t prio;
    ice_pair_counts n;    /* the pair's counters once a restart dropped it from pairs[] */
} ice_selected;

/* The credentials of the generation before an ICE restart: 1 KiB at the RFC's lengths,
 * so held on the heap only between a restart and the next selected pair. */
typedef struct ice_creds {
    char lufrag[ICE_CRED_MAX], lpwd[ICE_CRED_MAX], rufrag[ICE_CRED_MAX], rpwd[ICE_CRED_MAX];
} ice_creds;

_Static_assert(ICE_MAX_PAIRS <= 256, "trig[] holds pair indices in a byte");

struct rtc_ice_agent {
    rtc_ice_config cfg;
    /* Owned, of their length (under ICE_CRED_MAX): the RFC allows 256 characters but
     * peers use 4-32. Never NULL once the agent exists; remote ones "" until known. */
    char *lufrag, *lpwd, *rufrag, *rpwd;
    ice_creds *old;                 /* before a restart, while consent uses them; else NULL */
    bool have_remote, remote_eoc, controlling;
    rtc_ice_state state, state_before_disc;
    rtc_time now;

    /* Candidates are large (host names, extensions): the tables grow on demand up to
     * their caps, so an agent with one local and one remote candidate stays small. */
    ice_local *locals;              /* caplocal slots, at most ICE_MAX_LOCAL */
    int nlocal, caplocal;
    ice_cand *remotes;              /* capremote slots, at most ICE_MAX_REMOTE */
    int nremote, capremote;
    ice_pair *pairs;                /* cappairs slots, at most ICE_MAX_PAIRS */
    int npairs, cappairs;
    uint8_t trig[ICE_MAX_PAIRS];    /* triggered check FIFO (pair indices, < ICE_MAX_PAIRS) */
    int trig_head, ntrig;
    ice_txn **txns;                 /* heap objects: pointers stay valid as the table changes */
    int ntxn, captxn;
    ice_gather gathers[ICE_MAX_GATHER];
    int ngather;
    ice_turn turns[ICE_MAX_TURN];
    int nturn;
    bool gathering_done_sent;
    bool dirty;                     /* an API call changed inputs: evaluate at the next timeout */

    rtc_time next_check_at, first_valid_at, checking_since, last_activity;
    bool nominating;
    ice_selected sel;
    rtc_time consent_ok_at, next_consent_at;
    rtc_time peer_heard_at;         /* last authenticated check from the selected remote */

    /* Output and event rings start inside the agent and move to the heap only for a
     * burst (core/rtc_ring.h): a datagram relayed or sent costs no allocation. Events
     * are queued compact; the rare big ones (a candidate: 912 bytes) as a heap copy. */
    rtc_transmit *out;
    int out_head, out_n, out_cap;
    ice_qev *ev;
    int ev_head, ev_n, ev_cap;
    rtc_transmit out_inline[ICE_INLINE_OUT];
    ice_qev ev_inline[ICE_INLINE_EVENTS];
    rtc_ice_stats stats;
};

/* ice_agent.c */
/* The public form of c (all other fields at their rtc_ice_candidate_init values). */
void ice__cand_full(const ice_cand *c, rtc_ice_candidate *out);
void ice__emit(rtc_ice_agent *a, const rtc_ice_event *e);
/* Room for one more local / remote candidate / pair: false at the cap or out of memory. May
 * move the table: re-take pointers into it afterwards. */
bool ice__local_room(rtc_ice_agent *a);
bool ice__remote_room(rtc_ice_agent *a);
bool ice__pair_room(rtc_ice_agent *a);
void ice__set_state(rtc_ice_agent *a, rtc_ice_state s);
/* Send STUN bytes (copied) from local candidate base/turn to remote; `proto`
 * RTC_PROTO_TCP for the ICE-TCP connection (base, remote). */
void ice__send(rtc_ice_agent *a, const rtc_addr *base, int turn, const rtc_addr *remote, int proto,
               const uint8_t *p, size_t len);
/* RTC_PROTO_* a local candidate's packets travel on. */
static inline int ice__local_proto(const ice_local *l)
{
    return l->c.transport == RTC_ICE_TCP ? RTC_PROTO_TCP : RTC_PROTO_UDP;
}
ice_txn *ice__txn_new(rtc_ice_agent *a);
ice_txn *ice__txn_find(const rtc_ice_agent *a, const uint8_t *tid);
void ice__txn_del(rtc_ice_agent *a, ice_txn *t);
int ice__local_find(const rtc_ice_agent *a, const rtc_addr *addr, int turn, int transport);
int ice__remote_find(const rtc_ice_agent *a, const rtc_addr *addr);
/* The same, for candidates of `transport` only (RTC_ICE_UDP / RTC_ICE_TCP). */
int ice__remote_find_t(const rtc_ice_agent *a, const rtc_addr *addr, int transport);

/* ice_check.c */
void ice__form_pairs(rtc_ice_agent *a);
void ice__recompute_priorities(rtc_ice_agent *a);
int ice__on_request(rtc_ice_agent *a, const rtc_stun_msg *m, int local, const rtc_addr *remote);
int ice__on_response(rtc_ice_agent *a, ice_txn *t, const rtc_stun_msg *m, const rtc_addr *base, int turn,
                     const rtc_addr *remote);
void ice__on_txn_timeout(rtc_ice_agent *a, ice_txn *t);
void ice__tick(rtc_ice_agent *a);
rtc_time ice__check_timeout(const rtc_ice_agent *a);
void ice__reset_checklist(rtc_ice_agent *a);
/* The counters of the pair a transaction went on (NULL when it is gone), and the
 * selected pair's (sel.set only). */
ice_pair_counts *ice__txn_counts(rtc_ice_agent *a, const ice_txn *t);
ice_pair_counts *ice__sel_counts(rtc_ice_agent *a);

#endif
