/* Private to runtime/pc: the peer connection's state, shared by the transport
 * composition (peer_connection.c), JSEP (pc_jsep.c) and data channels (pc_channels.c). */
#ifndef RTC_PC_INTERNAL_H
#define RTC_PC_INTERNAL_H
#include "pc/peer_connection.h"
#include "dtls/dtls_transport.h"
#include "ice/ice_agent.h"
#include "sctp/data_channel.h"
#include "sdp/sdp.h"
#include "srtp/srtp_session.h"

#define PC_MAX_ADDRS 16
#define PC_MAX_SERVERS 8
#define PC_MAX_EARLY 16         /* DTLS datagrams kept while the transport does not exist yet */
#define PC_MAX_MSECS 64
#define PC_ERR_MAX 320

enum { CH_CONNECTING, CH_OPEN, CH_CLOSING, CH_CLOSED };

/* A channel handle is (generation << PC_CHAN_SLOT_BITS) | slot: slots are reused once a
 * channel's CLOSE event has been polled, and a stale handle then finds a newer
 * generation (RTC_ENOTFOUND) instead of somebody else's channel. */
#define PC_CHAN_SLOT_BITS 16
#define PC_CHAN_MAX_SLOTS (1 << PC_CHAN_SLOT_BITS)
#define PC_CHAN_GEN_MASK 0x7fff

typedef struct pc_chan {
    int sid;                    /* -1 until the association assigned one */
    int gen;                    /* generation of the slot, in the handle's high bits */
    bool used;                  /* false: on the free list (next_free) */
    int next_free;              /* slot + 1 of the next free slot, 0: none */
    char *label, *protocol;     /* owned; freed when the slot is released */
    bool unordered, negotiated, in_sctp, remote_opened;
    int max_retransmits, max_packet_life_time, neg_id;
    int state;
    size_t low_threshold;
    uint64_t msgs_sent, bytes_sent, msgs_recv, bytes_recv;
} pc_chan;

typedef struct pc_server {
    rtc_addr base, server;    /* server: the first of the name's addresses */
    rtc_addr alt[RTC_ICE_MAX_ALT - 1];   /* the others, tried in order (ice/ice_agent.h) */
    int nalt;
    int transport;
    bool turn;
    int transport_error;      /* the driver's connection to it failed (RTC_E*), else 0 */
    char transport_reason[128];   /* and why (e.g. the TLS certificate check), "" = generic */
    char *user, *pass;
} pc_server;

typedef struct pc_addr { rtc_addr a; uint16_t pref; bool tcp; } pc_addr;   /* tcp: ICE-TCP listener */

typedef struct pc_msec {       /* one m= section of the negotiated (or offered) session */
    rtc_sdp_kind kind;
    char mid[32];
    bool rejected;
    char *media, *proto, *fmt; /* for mirroring rejected sections in an answer */
    int pt;                    /* first RTP format of the section as offered, -1 if none */
    char codec[32];
    uint32_t clock_rate;
    uint16_t channels;
} pc_msec;

/* A candidate kept for descriptions, events and stats: its text and the two fields asked
 * for, not the parsed form (over 900 bytes, mostly room for rare extensions). */
typedef struct pc_cand {
    char *line;                 /* owned: "candidate:..." as rtc_ice_candidate_format writes it */
    rtc_ice_cand_type type;
    rtc_addr addr;
} pc_cand;

typedef struct pc_queue {       /* a growable FIFO of fixed-size records */
    void *v;
    size_t size, head, n, cap;
} pc_queue;

/* What a pending offer changes, kept from the last stable state so a rollback (JSEP
 * 4.1.8.2) returns to it: the sections, the data section, mid numbering, the remote
 * transport parameters and our own ICE credentials (an offer may start a restart).
 * Taken by the first change made outside stable (create_offer, or applying an offer)
 * and dropped on reaching stable; per-transceiver parts are in pc_tr (pc_media_internal.h). */
typedef struct pc_saved {
    bool valid, remote_taken;   /* remote_taken: the remote ICE parameters below are held */
    pc_msec *msecs;             /* owned deep copy */
    int nmsecs, data_msec, next_mid;
    char rfp_algo[16], rfp[RTC_DTLS_FINGERPRINT_MAX];
    char (*rfps)[RTC_DTLS_FINGERPRINT_MAX];  /* owned copy of the values of rfp_algo */
    int nrfps;
    bool remote_lite, restart_pending, role_set;
    char ufrag[16], pwd[40];
    char *remote_ufrag, *remote_pwd;  /* owned */
    pc_cand *rcands;            /* owned: the list the offer replaced */
    int nrcands, caprcands;
} pc_saved;

/* Decrypted captures (pc_capture.c): called where packets pass in the clear; a no-op
 * unless a capture runs. `local`/`remote` are used for STUN only (the others travel on
 * the selected pair). */
typedef struct pc_capture pc_capture;
typedef enum { PC_CAP_STUN, PC_CAP_RTP, PC_CAP_SCTP } pc_capture_kind;
void pc__capture(rtc_pc *pc, pc_capture_kind kind, bool sent, const rtc_addr *local, const rtc_addr *remote,
                 const uint8_t *data, size_t len);

struct rtc_pc {
    pc_capture *capture;        /* NULL unless capturing */
    rtc_pc_config cfg;
    rtc_dtls_cert *cert;
    char *err;                  /* last failure message; allocated on the first (PC_ERR_MAX) */
    rtc_time now;
    bool closed;

    /* ICE */
    rtc_ice_agent *agent;
    char ufrag[16], pwd[40];
    bool restart_pending;
    /* Local addresses and servers: most connections have one or two, so these grow on
     * demand up to PC_MAX_ADDRS / PC_MAX_SERVERS. */
    pc_addr *addrs;
    int naddrs, capaddrs;
    pc_server *servers;
    int nservers, capservers;
    /* setConfiguration's ICE servers while the agent runs: the list the next ICE
     * restart takes (next_set), gathered into until then. */
    pc_server *next_servers;
    int nnext_servers, capnext_servers;
    bool next_set;
    /* setConfiguration's transport policy while the agent runs: the next restart's */
    bool next_relay_only;
    pc_cand *lcands;            /* gathered local candidates, in order */
    int nlcands, caplcands;
    int announced;              /* lcands already sent as ICE_CANDIDATE events */
    bool gather_done, end_announced;
    pc_cand *rcands;            /* remote candidates as signalled */
    int nrcands, caprcands;
    bool has_pair;
    rtc_ice_pair_info pair;
    rtc_ice_state ice_raw;
    char *remote_ufrag, *remote_pwd;   /* owned; NULL until a remote description gives them */

    /* DTLS / SRTP / SCTP */
    rtc_dtls_transport *dtls;
    bool dtls_client, dtls_started, dtls_connected, dtls_failed;
    rtc_buf *early[PC_MAX_EARLY];
    int nearly;
    char rfp_algo[16], rfp[RTC_DTLS_FINGERPRINT_MAX];   /* strongest hash; rfp = its first value */
    char (*rfps)[RTC_DTLS_FINGERPRINT_MAX];  /* every value of that hash (nrfps); owned */
    int nrfps;
    rtc_srtp_session *srtp;        /* made on first media use: see pc__srtp() */
    rtc_srtp_keying srtp_keying;   /* exported at DTLS connect; profile NONE = none */
    rtc_sctp_assoc *sctp;
    bool want_sctp, sctp_failed;
    uint16_t remote_sctp_port;
    size_t remote_mms;

    /* JSEP */
    rtc_pc_signaling_state sig;
    rtc_pc_gathering_state gathering;
    rtc_pc_ice_state ice_state;
    rtc_pc_connection_state conn_state;
    rtc_sdp *local, *remote;                 /* current descriptions (parsed) */
    rtc_pc_sdp_type local_type, remote_type;
    rtc_sdp *prev_local, *prev_remote;       /* for rollback */
    rtc_pc_signaling_state prev_sig;
    char *last_created;                      /* for an implicit set_local_description */
    rtc_pc_sdp_type last_created_type;
    uint64_t sess_id, sess_version;
    pc_msec *msecs;                          /* the session's m= sections in order; grows
                                                to at most PC_MAX_MSECS (msec_add may move it) */
    int nmsecs, capmsecs;
    int data_msec;                           /* index of the data section, -1 when none */
    bool remote_lite, negotiation_needed;
    bool ice_role_set;                       /* the first offer/answer fixed the ICE role */
    int next_mid;
    pc_saved saved;                          /* pc_rollback.c */

    /* Data channels and output */
    pc_chan *chans;                          /* slots; a freed slot goes on free_chan */
    int nchans, capchans;                    /* slots made, slots allocated */
    int free_chan;                           /* first free slot + 1, 0 when none */
    int live_chans;                          /* slots in use */
    int release_chan;                        /* handle + 1 whose CLOSE was polled last, 0: none */
    int *chan_of_sid;                        /* slot + 1 by SCTP stream id (0: none), grown on demand */
    int cap_sid;
    pc_queue events;                         /* rtc_pc_event */
    pc_queue tx;                             /* rtc_transmit */
    uint64_t bytes_sent, bytes_received, packets_sent, packets_received;
    uint32_t dc_opened, dc_closed;

    struct pc_media *media;                  /* transceivers and RTP streams (pc_media.c) */
};

/* peer_connection.c */
int pc__fail(rtc_pc *pc, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void pc__emit(rtc_pc *pc, const rtc_pc_event *ev);
void pc__emit_state(rtc_pc *pc, rtc_pc_event_type type, int state);
void pc__set_signaling(rtc_pc *pc, rtc_pc_signaling_state s);
void pc__pump(rtc_pc *pc);
int pc__ensure_agent(rtc_pc *pc, bool controlling);
void pc__start_gathering(rtc_pc *pc);
/* rtc_ice_agent_restart with our current credentials, then the server list that
 * rtc_pc_replace_servers left for the next restart. */
void pc__restart_agent(rtc_pc *pc);
int pc__apply_transport(rtc_pc *pc);     /* after offer/answer completes */
void pc__queue_push(pc_queue *q, const void *rec);
bool pc__queue_pop(pc_queue *q, void *rec);
void pc__queue_free(pc_queue *q);
/* Append c (borrowed; its text is copied) to a candidate list that grows from 2.
 * Returns 0 or RTC_ENOMEM. pc__cands_clear frees the texts and keeps the storage. */
/* Room for one more record in a table grown by doubling from 2 up to max records (*v may
 * move). Returns 0, RTC_EQUOTA at max or RTC_ENOMEM. */
int pc__room(void **v, int n, int *cap, int max, size_t size);
int pc__cand_keep(pc_cand **v, int *n, int *cap, const rtc_ice_candidate *c);
void pc__cands_clear(pc_cand *v, int *n);

/* pc_jsep.c */
void pc__jsep_free(rtc_pc *pc);
/* W3C "update the negotiation-needed flag": outside stable it waits for the return to
 * stable; in stable it clears the flag when nothing needs negotiating, or sets it and
 * raises RTC_PC_EV_NEGOTIATION_NEEDED once when something does and it was clear. */
void pc__update_negotiation_needed(rtc_pc *pc);

/* pc_rollback.c */
void pc__saved_take(rtc_pc *pc);          /* no-op when already held */
void pc__saved_take_remote(rtc_pc *pc);   /* before a remote offer replaces remote ICE state */
void pc__saved_restore(rtc_pc *pc, bool remote);   /* rollback; remote: of a remote offer */
void pc__saved_forget(rtc_pc *pc);        /* NULL-safe parts; idempotent */
void pc__msecs_free(pc_msec *v, int n);   /* frees the strings of n sections, not v */

/* peer_connection.c: the SRTP session, created from the DTLS keying on first use, so
 * connections that carry only data channels never build one (libsrtp's crypto contexts
 * are sizeable). NULL before DTLS connects or when no SRTP profile was negotiated. */
rtc_srtp_session *pc__srtp(rtc_pc *pc);

/* pc_media.c: called from the transport and JSEP halves */
void pc__send_packet(rtc_pc *pc, rtc_buf *b);          /* takes the ref; sends on the selected pair */
void pc__media_free(rtc_pc *pc);
int pc__media_handle_packet(rtc_pc *pc, const uint8_t *data, size_t len);   /* SRTP/SRTCP datagram */
void pc__media_handle_timeout(rtc_pc *pc);
rtc_time pc__media_poll_timeout(rtc_pc *pc);
void pc__media_pump(rtc_pc *pc);                       /* drain the streams' output */
void pc__media_bye(rtc_pc *pc);                        /* closing: each sender queues an RTCP BYE */
/* JSEP (pc_media_sdp.c) */
void pc__media_drop_last(rtc_pc *pc);                   /* frees the last transceiver */
void pc__media_save(rtc_pc *pc);                       /* pc_saved's transceiver part */
void pc__media_restore(rtc_pc *pc, bool remote);
bool pc__media_needs_negotiation(rtc_pc *pc);           /* W3C "check if negotiation is needed", media part */
bool pc__media_accept_offer_section(rtc_pc *pc, int index, const rtc_sdp *s, const rtc_sdp_media *m);
void pc__media_new_offer_sections(rtc_pc *pc);          /* sections for unassociated transceivers */
/* JSEP 5.2.2 / 5.3.1: whether section `index` was rejected in the current descriptions
 * (so a new transceiver may take its slot), and giving that slot a new kind and mid. */
bool pc__media_msec_recyclable(rtc_pc *pc, int index);
void pc__media_recycle_msec(rtc_pc *pc, int index, rtc_sdp_kind kind, const char *mid);
/* The section at index belongs to a stopping or stopped transceiver: written with port 0. */
bool pc__media_section_stopped(rtc_pc *pc, int index);
int pc__media_write_section(rtc_pc *pc, rtc_sdp *s, int index, const rtc_sdp_media *offer, rtc_sdp_setup setup);
void pc__media_apply(rtc_pc *pc);                      /* both descriptions known (stable) */
int pc__add_transport_attrs(rtc_pc *pc, rtc_sdp *s, rtc_sdp_media *m, rtc_sdp_setup setup);
pc_msec *pc__msec_add(rtc_pc *pc, rtc_sdp_kind kind, const char *mid);
void pc__next_mid(rtc_pc *pc, char *buf, size_t size);

/* pc_channels.c */
void pc__channels_on_sctp_up(rtc_pc *pc);
void pc__channels_on_sctp_event(rtc_pc *pc, rtc_sctp_event *ev);
void pc__channels_close_all(rtc_pc *pc, int err);
void pc__channels_free(rtc_pc *pc);
/* rtc_pc_poll_event: the channel whose CLOSE the caller polled before is released now
 * (its handle stays good for rtc_pc_dc_info while the caller handles that event). */
void pc__channels_on_poll(rtc_pc *pc, const rtc_pc_event *polled);

#endif
