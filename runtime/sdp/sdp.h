/* SDP (RFC 8866) as WebRTC uses it (RFC 8829 JSEP, RFC 8839 ICE, RFC 8842 DTLS,
 * RFC 8841 SCTP, RFC 8853 simulcast, RFC 8851 rid, RFC 8285 extmap, RFC 8830 msid).
 *
 * A description is a plain tree of structs (rtc_sdp -> rtc_sdp_media -> codecs, ...)
 * that callers read directly. It is not a protocol machine: parse and write are pure
 * functions over text, so there is no time, no transmit and no event here.
 *
 * Memory: every string and array reachable from an rtc_sdp lives in that description's
 * arena and is released by rtc_sdp_free() at once; nothing inside is freed alone.
 *  - To set a string field, store a pointer that lives at least as long as the
 *    description, normally one from rtc_sdp_strdup(s, ...).
 *  - Lists grow only through the rtc_sdp_*_add_* functions (capacity is implied by
 *    the count). A pointer to an element of a value list (rtc_sdp_extmap *, ...) is
 *    valid until the next add to that same list; rtc_sdp_media * and rtc_sdp_codec *
 *    stay valid until rtc_sdp_free (or the codec's removal).
 *  - Strings are NUL-terminated and never contain CR or LF; the writer rejects a model
 *    whose strings do (RTC_EINVAL).
 *
 * Unknown a= attributes are kept in order per level (attrs), and other line types
 * (i=, u=, e=, p=, k=, r=, z=, extra t=) in `lines`, so a round trip keeps them.
 * Parse is tolerant of what browsers differ on (LF or CRLF, trailing whitespace, empty
 * lines, unknown attributes, attributes without values) and strict where a misread
 * would matter (v= first, o= before m=, numbers and ports, malformed known attributes,
 * bounded counts). */
#ifndef RTC_SDP_H
#define RTC_SDP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds that keep memory proportional to, and small against, the input. */
#define RTC_SDP_MAX_SIZE      (1024 * 1024)  /* bytes of SDP text accepted by the parser */
#define RTC_SDP_MAX_MEDIA     256            /* m= sections */
#define RTC_SDP_MAX_ATTRS     2048           /* lines in one section (session or media) */
#define RTC_SDP_MAX_FORMATS   128            /* formats on one m= line (PTs are 0..127) */
#define RTC_SDP_MAX_LINES     64             /* i=, k=, r=, ... lines per section */
/* The parser's model may take at most this many bytes per input byte (plus 64 KiB):
 * list-heavy lines ("a=simulcast:send a;b;c;...") cannot blow up memory. */
#define RTC_SDP_MEM_FACTOR    16

typedef enum { RTC_SDP_AUDIO, RTC_SDP_VIDEO, RTC_SDP_APPLICATION, RTC_SDP_OTHER } rtc_sdp_kind;
/* UNSET: no direction attribute at this level (media then inherits the session's, and
 * sendrecv is the default; see rtc_sdp_media_direction()). */
typedef enum { RTC_SDP_DIR_UNSET, RTC_SDP_SENDRECV, RTC_SDP_SENDONLY, RTC_SDP_RECVONLY,
               RTC_SDP_INACTIVE } rtc_sdp_direction;
typedef enum { RTC_SDP_SETUP_UNSET, RTC_SDP_SETUP_ACTPASS, RTC_SDP_SETUP_ACTIVE,
               RTC_SDP_SETUP_PASSIVE, RTC_SDP_SETUP_HOLDCONN } rtc_sdp_setup;

typedef struct rtc_sdp_error {
    int line;            /* 1-based line of the fault; 0 when not tied to a line */
    char msg[128];       /* "line 7: invalid m= line" */
} rtc_sdp_error;

typedef struct rtc_sdp_attr { const char *name, *value; } rtc_sdp_attr;   /* value NULL: "a=name" */
typedef struct rtc_sdp_line { char type; const char *value; } rtc_sdp_line;
typedef struct rtc_sdp_param { const char *key, *value; } rtc_sdp_param;  /* value NULL: bare key */
typedef struct rtc_sdp_conn {                    /* c=; address NULL when absent */
    const char *nettype, *addrtype, *address;    /* "IN", "IP4"/"IP6", "0.0.0.0" */
} rtc_sdp_conn;
typedef struct rtc_sdp_bandwidth { const char *type; uint64_t value; } rtc_sdp_bandwidth; /* b=AS:30 */
typedef struct rtc_sdp_fingerprint { const char *algorithm, *value; } rtc_sdp_fingerprint;
typedef struct rtc_sdp_ice {
    const char *ufrag, *pwd;     /* NULL when absent */
    const char *options;         /* raw "trickle renomination"; see rtc_sdp_ice_option() */
} rtc_sdp_ice;
typedef struct rtc_sdp_dtls {
    rtc_sdp_fingerprint *fingerprints; size_t nfingerprints;   /* several allowed */
    rtc_sdp_setup setup;
} rtc_sdp_dtls;
typedef struct rtc_sdp_extmap {
    uint16_t id;                 /* 1..255 */
    rtc_sdp_direction direction; /* UNSET when the line has no "/dir" */
    const char *uri;
    const char *attributes;      /* rest of the line, NULL when none */
} rtc_sdp_extmap;
typedef struct rtc_sdp_group { const char *semantics; const char **mids; size_t nmids; } rtc_sdp_group;

typedef struct rtc_sdp_origin {
    const char *username;        /* "-" */
    uint64_t sess_id, sess_version;
    const char *nettype, *addrtype, *address;
} rtc_sdp_origin;

typedef struct rtc_sdp_codec {
    int pt;                      /* 0..127 */
    const char *name;            /* from a=rtpmap ("opus"); NULL when none was given */
    uint32_t clock_rate;
    uint16_t channels;           /* 0 when the rtpmap has no channel count */
    const char *fmtp;            /* raw a=fmtp value after the PT; NULL when none */
    rtc_sdp_param *params; size_t nparams;   /* fmtp split on ';' into key=value */
    const char **rtcp_fb; size_t nrtcp_fb;   /* "nack", "nack pli", "transport-cc" */
} rtc_sdp_codec;

typedef struct rtc_sdp_ssrc { uint32_t ssrc; const char *attribute, *value; } rtc_sdp_ssrc; /* value may be NULL */
typedef struct rtc_sdp_ssrc_group { const char *semantics; uint32_t *ssrcs; size_t nssrcs; } rtc_sdp_ssrc_group;
typedef struct rtc_sdp_msid { const char *stream_id, *track_id; } rtc_sdp_msid;   /* track_id may be NULL */

typedef struct rtc_sdp_rid {
    const char *id;
    bool recv;                   /* false: "send", true: "recv" */
    uint16_t *pts; size_t npts;  /* from "pt=96,97"; empty when none */
    rtc_sdp_param *params; size_t nparams;   /* other restrictions: max-width=1280, ... */
} rtc_sdp_rid;

typedef struct rtc_sdp_simulcast_alt { const char *rid; bool paused; } rtc_sdp_simulcast_alt;
typedef struct rtc_sdp_simulcast_stream { rtc_sdp_simulcast_alt *alts; size_t nalts; } rtc_sdp_simulcast_stream;
typedef struct rtc_sdp_simulcast {
    bool present;
    rtc_sdp_simulcast_stream *send; size_t nsend;   /* "send a;b,~c": streams, then alternatives */
    rtc_sdp_simulcast_stream *recv; size_t nrecv;
} rtc_sdp_simulcast;

typedef struct rtc_sdp_sctpmap {                     /* legacy a=sctpmap:5000 webrtc-datachannel 1024 */
    bool present;
    uint16_t port;
    const char *app;
    uint32_t streams;                                /* 0 when not given */
} rtc_sdp_sctpmap;

typedef struct rtc_sdp_media {
    rtc_sdp_kind kind;
    const char *media;           /* raw m= media token ("audio", "message", ...) */
    uint16_t port;               /* 0: rejected / bundled-away section */
    uint16_t nports;             /* the "/2" of "9/2"; 0 when absent */
    const char *proto;           /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", "DTLS/SCTP" */
    const char **fmts; size_t nfmts;   /* m= formats as written: "111", "webrtc-datachannel" */
    rtc_sdp_line *lines; size_t nlines;            /* i=, k=, ... */
    rtc_sdp_conn conn;
    rtc_sdp_bandwidth *bw; size_t nbw;
    const char *mid;             /* NULL when absent */
    rtc_sdp_direction direction;
    bool rtcp_mux, rtcp_mux_only, rtcp_rsize, bundle_only, end_of_candidates, extmap_allow_mixed;
    rtc_sdp_ice ice;
    rtc_sdp_dtls dtls;
    const char **candidates; size_t ncandidates;    /* a=candidate values (after "candidate:"), raw */
    rtc_sdp_codec **codecs; size_t ncodecs;         /* one per RTP PT, in m= order */
    const char **rtcp_fb_all; size_t nrtcp_fb_all;  /* a=rtcp-fb:* values */
    rtc_sdp_extmap *extmaps; size_t nextmaps;
    rtc_sdp_msid *msids; size_t nmsids;
    rtc_sdp_ssrc *ssrcs; size_t nssrcs;
    rtc_sdp_ssrc_group *ssrc_groups; size_t nssrc_groups;
    rtc_sdp_rid *rids; size_t nrids;
    rtc_sdp_simulcast simulcast;
    int32_t sctp_port;           /* -1 when absent */
    int64_t max_message_size;    /* -1 when absent; 0 means "no limit" (RFC 8841) */
    rtc_sdp_sctpmap sctpmap;
    rtc_sdp_attr *attrs; size_t nattrs;             /* unknown a= lines, in order */
} rtc_sdp_media;

typedef struct rtc_sdp {
    rtc_sdp_origin origin;
    const char *name;            /* s=; "-" by default */
    uint64_t t_start, t_stop;    /* first t=; 0 0 by default */
    rtc_sdp_line *lines; size_t nlines;            /* i=, u=, e=, p=, k=, r=, z=, more t= */
    rtc_sdp_conn conn;
    rtc_sdp_bandwidth *bw; size_t nbw;
    rtc_sdp_group *groups; size_t ngroups;         /* BUNDLE, LS, ... */
    const char *msid_semantic;   /* raw value without leading blanks: "WMS *"; NULL when absent */
    bool ice_lite, extmap_allow_mixed;
    rtc_sdp_ice ice;
    rtc_sdp_dtls dtls;
    rtc_sdp_direction direction;
    rtc_sdp_extmap *extmaps; size_t nextmaps;
    rtc_sdp_attr *attrs; size_t nattrs;
    rtc_sdp_media **media; size_t nmedia;
    struct sdp__arena *arena;    /* private: memory blocks */
    size_t arena_bytes, arena_limit;   /* private: bytes taken; 0 = no limit (the parser sets one) */
    bool arena_over;                   /* private: an allocation was refused by arena_limit */
    size_t arena_first;                /* private: size of the first block; 0 = the default */
} rtc_sdp;

/* ---- lifecycle, parse, write ---------------------------------------------------- */

/* An empty description: o=- 0 0 IN IP4 127.0.0.1, s=-, t=0 0, no media.
 * *out: caller frees with rtc_sdp_free. RTC_ENOMEM. */
int  rtc_sdp_new(rtc_sdp **out);
void rtc_sdp_free(rtc_sdp *s);   /* NULL-safe; frees everything reachable from s */

/* Parse `len` bytes of SDP text (borrowed for the call; need not be NUL-terminated).
 * 0 and *out (caller frees) on success. RTC_EPROTO with err->line/msg on malformed
 * input, RTC_ETOOBIG over a bound (also with err), RTC_ENOMEM. err may be NULL. */
int rtc_sdp_parse(rtc_sdp **out, const char *text, size_t len, rtc_sdp_error *err);

/* Write s as SDP text with CRLF line endings, in browser order. *out is malloc'd and
 * NUL-terminated (caller free()s), *len its length without the NUL (len may be NULL).
 * RTC_EINVAL when a required field is missing or a string holds CR/LF, RTC_ENOMEM. */
int rtc_sdp_write(const rtc_sdp *s, char **out, size_t *len);

/* Deep copy (written then parsed back). *out: caller frees. */
int rtc_sdp_clone(rtc_sdp **out, const rtc_sdp *s);
/* For a description kept a long time: remakes *s (written then parsed back) in one
 * block of exactly the size it uses, when its blocks hold more than a little unused
 * room. On success *s is replaced (the old model freed); on failure it is left as it
 * was. Returns 0 or RTC_ENOMEM / the parse error. */
int rtc_sdp_compact(rtc_sdp **s);

/* Deep structural equality of two models (string contents, list orders, numbers). */
bool rtc_sdp_equal(const rtc_sdp *a, const rtc_sdp *b);

/* A copy of str (n bytes, or strlen when n is (size_t)-1) in s's arena; NULL on ENOMEM. */
char *rtc_sdp_strdup(rtc_sdp *s, const char *str, size_t n);
#define RTC_SDP_STR(s, str) rtc_sdp_strdup((s), (str), (size_t)-1)

/* ---- lookups ------------------------------------------------------------------- */

rtc_sdp_media *rtc_sdp_find_media(const rtc_sdp *s, const char *mid);   /* NULL: none */
/* The first group with this semantics ("BUNDLE"), case-insensitive; NULL: none. */
const rtc_sdp_group *rtc_sdp_find_group(const rtc_sdp *s, const char *semantics);
bool rtc_sdp_group_has(const rtc_sdp_group *g, const char *mid);
/* The codec with payload type pt; NULL: none. */
rtc_sdp_codec *rtc_sdp_media_codec(const rtc_sdp_media *m, int pt);
/* The first codec named `name` (case-insensitive, "H264") at index >= *from; sets *from
 * past it so a loop visits every match. from may be NULL (start at 0). NULL: none left. */
rtc_sdp_codec *rtc_sdp_media_find_codec(const rtc_sdp_media *m, const char *name, size_t *from);
/* The RTX codec that repairs payload type pt (rtx with fmtp apt=pt); NULL: none. The
 * other way is rtc_sdp_media_codec(m, atoi(rtc_sdp_codec_param(rtx, "apt"))). */
rtc_sdp_codec *rtc_sdp_media_rtx_for(const rtc_sdp_media *m, int pt);
/* A value from a parameter list (fmtp, rid): key case-insensitive. NULL when absent;
 * "" for a bare key. */
const char *rtc_sdp_param_get(const rtc_sdp_param *p, size_t n, const char *key);
const char *rtc_sdp_codec_param(const rtc_sdp_codec *c, const char *key);
/* Whether codec c (may be NULL) or m's a=rtcp-fb:* lines (m may be NULL) list fb exactly. */
bool rtc_sdp_codec_has_fb(const rtc_sdp_codec *c, const rtc_sdp_media *m, const char *fb);
/* The first unknown attribute with this name in m (NULL m: session); its value, or ""
 * for a flag; NULL when absent. */
const char *rtc_sdp_attr_get(const rtc_sdp *s, const rtc_sdp_media *m, const char *name);
/* Effective values: the media level's, else the session level's. */
rtc_sdp_direction rtc_sdp_media_direction(const rtc_sdp *s, const rtc_sdp_media *m); /* never UNSET */
const rtc_sdp_ice *rtc_sdp_media_ice(const rtc_sdp *s, const rtc_sdp_media *m);      /* ufrag/pwd */
const rtc_sdp_dtls *rtc_sdp_media_dtls(const rtc_sdp *s, const rtc_sdp_media *m);    /* fingerprints */
rtc_sdp_setup rtc_sdp_media_setup(const rtc_sdp *s, const rtc_sdp_media *m);
/* Whether a space-separated option list ("trickle renomination") names `opt`. */
bool rtc_sdp_ice_option(const char *options, const char *opt);
/* The a=ssrc line of this SSRC with this attribute ("cname"); NULL: none. */
const rtc_sdp_ssrc *rtc_sdp_media_ssrc_attr(const rtc_sdp_media *m, uint32_t ssrc, const char *attribute);
const rtc_sdp_ssrc_group *rtc_sdp_media_ssrc_group(const rtc_sdp_media *m, const char *semantics);
const rtc_sdp_extmap *rtc_sdp_media_extmap(const rtc_sdp_media *m, const char *uri);  /* by URI */
const rtc_sdp_rid *rtc_sdp_media_rid(const rtc_sdp_media *m, const char *id);
/* Rejected section: port 0 without a=bundle-only (RFC 8829 section 5.3.1 / 5.7). */
bool rtc_sdp_media_rejected(const rtc_sdp_media *m);
/* A data channel section (proto ends in SCTP: UDP/DTLS/SCTP, TCP/DTLS/SCTP, DTLS/SCTP). */
bool rtc_sdp_media_is_sctp(const rtc_sdp_media *m);
/* The peer's SCTP port: a=sctp-port, else the legacy a=sctpmap or DTLS/SCTP format
 * number, else 5000 (RFC 8841 section 5). -1 for a section that is not SCTP. */
int rtc_sdp_media_sctp_port(const rtc_sdp_media *m);
/* The largest message the peer accepts: a=max-message-size, 65536 when absent
 * (RFC 8841 section 6); 0 means no limit. */
int64_t rtc_sdp_media_max_message_size(const rtc_sdp_media *m);
const char *rtc_sdp_kind_name(rtc_sdp_kind k);             /* "audio", "video", "application", "" */
const char *rtc_sdp_direction_name(rtc_sdp_direction d);   /* "sendrecv", ...; "" for UNSET */
const char *rtc_sdp_setup_name(rtc_sdp_setup s);           /* "actpass", ...; "" for UNSET */
/* The direction as seen from the other side (sendonly <-> recvonly). */
rtc_sdp_direction rtc_sdp_direction_reverse(rtc_sdp_direction d);

/* ---- building ------------------------------------------------------------------- */
/* Strings passed in are copied into s's arena (borrowed for the call). Each returns 0,
 * RTC_EINVAL for a bad argument (out-of-range number, empty or CR/LF string), RTC_ENOMEM,
 * or RTC_EEXISTS where noted. */

/* A new section at the end. proto NULL picks "UDP/TLS/RTP/SAVPF" for audio/video and
 * "UDP/DTLS/SCTP" for application. An SCTP proto gets its format ("webrtc-datachannel",
 * or "5000" for the old "DTLS/SCTP"); RTP sections get theirs from add_codec. Port 9,
 * c=IN IP4 0.0.0.0, sctp_port/max_message_size -1. *out: owned by s. */
int rtc_sdp_add_media(rtc_sdp *s, rtc_sdp_kind kind, const char *proto, rtc_sdp_media **out);
int rtc_sdp_set_origin(rtc_sdp *s, const char *username, uint64_t sess_id, uint64_t sess_version);
int rtc_sdp_add_group(rtc_sdp *s, const char *semantics, const char *const *mids, size_t nmids);
/* Append one mid to the group with this semantics, creating the group if needed. */
int rtc_sdp_group_add_mid(rtc_sdp *s, const char *semantics, const char *mid);
int rtc_sdp_add_attr(rtc_sdp *s, rtc_sdp_media *m, const char *name, const char *value); /* m NULL: session */
int rtc_sdp_add_fingerprint(rtc_sdp *s, rtc_sdp_media *m, const char *algorithm, const char *value); /* m NULL: session */
int rtc_sdp_add_extmap(rtc_sdp *s, rtc_sdp_media *m, uint16_t id, const char *uri); /* m NULL: session; EEXISTS on id */
int rtc_sdp_add_bandwidth(rtc_sdp *s, rtc_sdp_media *m, const char *type, uint64_t value);
int rtc_sdp_set_ice(rtc_sdp *s, rtc_sdp_media *m, const char *ufrag, const char *pwd, const char *options);
/* Media-only */
int rtc_sdp_media_set_mid(rtc_sdp *s, rtc_sdp_media *m, const char *mid);
/* Adds the PT to the m= line and its rtpmap/fmtp/rtcp-fb. fmtp may be NULL (parsed
 * into params); rtcp_fb is NULL or a NULL-terminated list. EEXISTS when pt is taken.
 * *out (may be NULL): owned by s. */
int rtc_sdp_media_add_codec(rtc_sdp *s, rtc_sdp_media *m, int pt, const char *name,
                            uint32_t clock_rate, uint16_t channels, const char *fmtp,
                            const char *const *rtcp_fb, rtc_sdp_codec **out);
int rtc_sdp_codec_add_fb(rtc_sdp *s, rtc_sdp_codec *c, const char *fb);
/* Add a copy of src (borrowed; e.g. a codec of the remote offer going into the local
 * answer) with the same PT, or with `pt` when pt >= 0. EINVAL when src has no name. */
int rtc_sdp_media_add_codec_copy(rtc_sdp *s, rtc_sdp_media *m, const rtc_sdp_codec *src, int pt,
                                 rtc_sdp_codec **out);
/* Drops the codec and its PT from the m= line; RTC_ENOTFOUND when absent. */
int rtc_sdp_media_remove_codec(rtc_sdp_media *m, int pt);
/* candidate: the attribute value, "842163049 1 udp 1677729535 ..." (the W3C
 * RTCIceCandidate.candidate string is "candidate:" followed by it; a leading
 * "candidate:" is accepted and dropped). */
int rtc_sdp_media_add_candidate(rtc_sdp *s, rtc_sdp_media *m, const char *candidate);
int rtc_sdp_media_add_msid(rtc_sdp *s, rtc_sdp_media *m, const char *stream_id, const char *track_id);
int rtc_sdp_media_add_ssrc(rtc_sdp *s, rtc_sdp_media *m, uint32_t ssrc, const char *attribute, const char *value);
int rtc_sdp_media_add_ssrc_group(rtc_sdp *s, rtc_sdp_media *m, const char *semantics,
                                 const uint32_t *ssrcs, size_t n);
/* restrictions: NULL or "max-width=1280;max-height=720" (without pt=, which is pts). */
int rtc_sdp_media_add_rid(rtc_sdp *s, rtc_sdp_media *m, const char *id, bool recv,
                          const uint16_t *pts, size_t npts, const char *restrictions);
/* Parse an a=simulcast value ("send a;b;c", "recv 1,~2") into m->simulcast. EPROTO. */
int rtc_sdp_media_set_simulcast(rtc_sdp *s, rtc_sdp_media *m, const char *value);

/* ---- codec matching (offer/answer) --------------------------------------------- */

typedef enum {
    RTC_H264_UNKNOWN = 0, RTC_H264_CONSTRAINED_BASELINE, RTC_H264_BASELINE, RTC_H264_MAIN,
    RTC_H264_EXTENDED, RTC_H264_HIGH, RTC_H264_CONSTRAINED_HIGH, RTC_H264_HIGH10,
    RTC_H264_HIGH422, RTC_H264_HIGH444
} rtc_h264_profile;
/* Classify a profile-level-id ("42e01f") per RFC 6184 section 8.1 (profile_idc plus
 * constraint flags). NULL means absent and gives constrained baseline level 3.1, as
 * browsers assume. *level (may be NULL) gets level_idc. RTC_H264_UNKNOWN when malformed. */
rtc_h264_profile rtc_sdp_h264_profile(const char *profile_level_id, int *level);
/* Whether two codecs from different sides may be negotiated together: same name
 * (case-insensitive), clock rate and channel count (absent = 1), then per codec:
 * H264 same profile and packetization-mode (level may differ), VP9 same profile-id,
 * AV1 same profile (absent = 0), RTX/red/ulpfec by name only. */
bool rtc_sdp_codec_match(const rtc_sdp_codec *a, const rtc_sdp_codec *b);
/* The same per-codec test on two raw fmtp values (either may be NULL) of codec `name`:
 * whether a stream sent under fmtp a can be received by a side that negotiated b. */
bool rtc_sdp_fmtp_match(const char *name, const char *a, const char *b);
/* The profile-level-id an answer carries for a matched H264 pair (RFC 6184 section
 * 8.2.2): the local profile bytes with the local level when both sides allow level
 * asymmetry (level-asymmetry-allowed=1), else the lower of the two levels (level 1b
 * ordered between 1 and 1.1). Writes six lowercase hex digits and a NUL into out.
 * RTC_EINVAL when the two are not matching H264 codecs. */
int rtc_sdp_h264_answer_plid(const rtc_sdp_codec *offer, const rtc_sdp_codec *local, char out[7]);

#endif
