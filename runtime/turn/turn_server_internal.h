/* Internal state shared by turn_server.c (tables, timers, relaying, output queues)
 * and turn_server_req.c (authentication and the STUN/TURN requests). */
#ifndef RTC_TURN_SERVER_INTERNAL_H
#define RTC_TURN_SERVER_INTERNAL_H
#include "turn/turn_server.h"
#include "stun/stun.h"

#define TSV_MAX_SLOTS      65535u
/* Binds tried per relay before 508. The range is shared with other programs: with a
 * third of its ports taken, an EVEN-PORT R pair (two free ports) fails half the time,
 * and five tries lost one Allocate in thirty. A failed bind costs one syscall. */
#define TSV_PORT_TRIES     16
#define TSV_TX_RING        4096u      /* queued transmits; more are dropped and counted */
#define TSV_TCP_IDLE       RTC_SEC(60) /* a TCP connection without allocation is closed after */
#define TSV_TCP_MAX_FRAME  (4 + 65536)
/* ADDITIONAL-ADDRESS-FAMILY as the TURN drafts numbered it before RFC 8656 gave it
 * 0x8000; coturn's clients still send this one. */
#define TSV_ATTR_AAF_DRAFT 0x8032
#define TSV_MSG_MAX        1500       /* our STUN responses always fit */

typedef struct tsv_perm { rtc_addr ip; rtc_time expires; } tsv_perm;
/* An expired channel stays reserved for TSV_CHAN_QUARANTINE: neither its number nor
 * its peer may be bound to something else meanwhile (RFC 8656 section 12), so late
 * ChannelData cannot reach the wrong peer. */
typedef struct tsv_chan { uint16_t num; rtc_addr peer; rtc_time expires; bool counted; } tsv_chan;
#define TSV_CHAN_QUARANTINE RTC_SEC(300)

enum { TSV_RELAY_NONE = 0, TSV_RELAY_OPENING, TSV_RELAY_BOUND };
typedef struct tsv_relay {
    int state, tries;
    uint16_t failed[TSV_PORT_TRIES];   /* ports whose bind failed (tries of them): not asked again */
    rtc_addr addr;          /* asked-for address while opening, bound address after */
    bool port_reserved;     /* the port is marked in our range bitmap */
} tsv_relay;

typedef struct tsv_bucket { double tokens; rtc_time last; } tsv_bucket;

typedef struct tsv_alloc {
    uint32_t id;            /* relay ids are id | 0 (first relay) and id | 1 (second) */
    uint32_t slot;
    rtc_addr local, client;
    int proto;              /* RTC_PROTO_UDP or RTC_PROTO_TCP_RAW */
    struct tsv_alloc *hnext;
    char user[RTC_TURN_SRV_NAME_MAX + 1];
    size_t ulen;
    uint8_t key[16];
    uint8_t tid[RTC_STUN_TID_LEN];   /* the Allocate's: a retransmit gets the same answer */
    bool ready, fp, want_even;
    bool quota_counted;     /* counted under its user in the max_per_user table */
    bool reserve_next;      /* EVEN-PORT with R: keep port + 1 for a later Allocate */
    bool has_token;         /* token below goes into the success response */
    uint8_t token[8];
    uint16_t fixed_port;    /* from a RESERVATION-TOKEN: that port, already marked */
    tsv_relay relay[2];
    int nrelay;
    int v6_error;           /* ADDITIONAL-ADDRESS-FAMILY refused: 440 reported in the answer */
    uint32_t lifetime;
    rtc_time expires;
    tsv_perm *perms;
    uint32_t nperm;
    tsv_chan *chans;
    uint32_t nchan;
    tsv_bucket up, down;
} tsv_alloc;

typedef struct tsv_conn {
    rtc_addr local, client;
    struct tsv_conn *hnext;
    uint8_t *buf;
    size_t len, cap;
    rtc_time last_rx;
} tsv_conn;

/* A port kept for a RESERVATION-TOKEN (RFC 8656 section 7.2, EVEN-PORT R bit). The
 * port is held by a socket of its own, not just marked in our bitmap: the range is
 * shared with whatever else binds ports on the host, and a port nobody holds can be
 * taken before the token comes back, which left the token's Allocate nothing but 508.
 * Its relay id has TSV_RESV_ID set (allocation ids never do). */
typedef struct tsv_resv {
    uint8_t token[8];
    uint16_t port;
    int family;
    rtc_time expires;
    uint32_t relay_id;      /* TSV_RESV_ID | sequence: the socket holding the port */
    uint32_t owner;         /* the allocation it was made for until that one is ready, then 0 */
    int state;              /* TSV_RELAY_OPENING until the driver bound it, then TSV_RELAY_BOUND */
} tsv_resv;
#define TSV_RESV_ID 0x80000000u
#define TSV_MAX_RESV 1024
#define TSV_RESV_LIFETIME RTC_SEC(30)

typedef struct tsv_user tsv_user;        /* turn_server_users.c */
typedef struct tsv_ucount tsv_ucount;    /* turn_server_quota.c */
typedef struct tsv_rule { rtc_addr net; int prefix; bool allow; } tsv_rule;

typedef struct tsv_tx { rtc_transmit t; uint32_t relay_id; } tsv_tx;

struct rtc_turn_server {
    rtc_turn_server_config cfg;      /* strings point into owned copies below */
    char *realm, *software, *rest_secret;
    uint8_t nonce_key[20];
    uint8_t ind_tid[RTC_STUN_TID_LEN];   /* Data indication ids: random base + counter */
    int64_t unix_now;
    rtc_time now;

    tsv_alloc **slots;               /* by slot number */
    uint32_t nslots, *free_slots, nfree;
    uint16_t gen;
    tsv_alloc **ahash;               /* by 5-tuple */
    uint32_t ahash_mask;
    tsv_conn **chash;                /* TCP connections by (local, client) */
    uint32_t chash_mask;
    uint32_t nconns;
    uint8_t *ports_used[2];          /* bitmaps over 0..65535 per family */

    tsv_user **users;                /* static users by name (turn_server_users.c) */
    uint32_t users_mask;
    size_t nusers;
    tsv_ucount **uhash;              /* live allocations by username (max_per_user only) */
    uint32_t uhash_mask;
    tsv_resv *resv;
    uint32_t nresv, resv_seq;
    tsv_rule *rules;
    size_t nrules;
    rtc_addr *own;
    size_t nown;

    tsv_tx tx[TSV_TX_RING];
    uint32_t tx_head, tx_count;
    rtc_turn_srv_event *ev;
    uint32_t ev_head, ev_count, ev_cap;

    rtc_time next_check;
    rtc_turn_server_stats st;
};

/* turn_server.c */
uint32_t tsv__tuple_hash(const rtc_addr *local, const rtc_addr *client, int proto);
tsv_alloc *tsv__find_alloc(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto);
tsv_alloc *tsv__new_alloc(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto);
void tsv__release_relay(rtc_turn_server *s, tsv_alloc *a, int idx);
void tsv__free_alloc(rtc_turn_server *s, tsv_alloc *a, const char *reason);
int tsv__open_relay(rtc_turn_server *s, tsv_alloc *a, int idx, int family);
/* Why tsv__open_relay found no port, for the log: how full the range is. */
void tsv__no_port_why(const rtc_turn_server *s, int family, char *out, size_t size);
void tsv__queue_client(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto, rtc_buf *b);
void tsv__queue_peer(rtc_turn_server *s, tsv_alloc *a, int idx, const rtc_addr *peer, rtc_buf *b);
rtc_turn_srv_event *tsv__push_event(rtc_turn_server *s, rtc_turn_srv_ev_type type);
rtc_buf *tsv__buf(rtc_turn_server *s, size_t size);
void tsv__schedule(rtc_turn_server *s, rtc_time t);
bool tsv__take_tokens(rtc_turn_server *s, tsv_bucket *b, size_t n);
bool tsv__peer_allowed(const rtc_turn_server *s, const rtc_addr *peer);
bool tsv__own_port_allowed(const rtc_turn_server *s, const rtc_addr *peer);
tsv_perm *tsv__find_perm(tsv_alloc *a, const rtc_addr *peer, rtc_time now);
tsv_chan *tsv__find_chan_num(tsv_alloc *a, uint16_t num, rtc_time now);
tsv_chan *tsv__find_chan_peer(tsv_alloc *a, const rtc_addr *peer, rtc_time now);
/* Takes the reservation of `token` (it works once) and closes the socket that held its
 * port; the port stays marked for the caller, who reopens it as a relay or unmarks it. */
bool tsv__take_reservation(rtc_turn_server *s, const uint8_t token[8], uint16_t *port, int *family);
int tsv__relay_index(const tsv_alloc *a, int family);
void tsv__send_allocate_ok(rtc_turn_server *s, tsv_alloc *a);
void tsv__event_alloc(rtc_turn_server *s, rtc_turn_srv_ev_type type, tsv_alloc *a, const char *reason);

/* turn_server_quota.c: live allocations per username in O(1) */
/* Static users (turn_server_users.c): set adds or replaces (key copied); key returns
 * the user's long-term key (borrowed, valid until the user is set again or the server
 * is freed) or NULL; O(1) expected. The hash is the one the quota counters use. */
uint32_t tsv__name_hash(const rtc_turn_server *s, rtc_str user);
int tsv__user_set(rtc_turn_server *s, rtc_str user, const uint8_t key[16]);
const uint8_t *tsv__user_key(const rtc_turn_server *s, rtc_str user);
void tsv__users_free(rtc_turn_server *s);
uint32_t tsv__users_longest_chain(const rtc_turn_server *s);   /* for tests: names compared per lookup at most */

int tsv__quota_init(rtc_turn_server *s);
void tsv__quota_free(rtc_turn_server *s);
uint32_t tsv__quota_count(const rtc_turn_server *s, rtc_str user);
int tsv__quota_add(rtc_turn_server *s, rtc_str user);
void tsv__quota_del(rtc_turn_server *s, rtc_str user);

/* turn_server_req.c */
int tsv__handle_stun(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto,
                     const uint8_t *data, size_t len);
int tsv__handle_channel_data(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto,
                             const uint8_t *data, size_t len);
/* Answers the pending Allocate with `code` and frees it; `why` (borrowed) names the limit
 * that was hit, for the log. */
void tsv__allocate_failed(rtc_turn_server *s, tsv_alloc *a, int code, const char *why);

#endif
