/* STUN client transaction timing (RFC 8489 section 6.2.1), sans-IO: the owner keeps the
 * encoded request and asks this record when to (re)send it and when to give up.
 * Over UDP: send at 0, RTO, 3 RTO, 7 RTO ... (doubling, optionally capped), Rc sends in
 * all, then wait Rm * RTO after the last one. Over TCP: one send, timeout after Ti. */
#ifndef RTC_STUN_TXN_H
#define RTC_STUN_TXN_H
#include "core/rtc_time.h"
#include <stdbool.h>

typedef struct rtc_stun_rto_cfg {
    rtc_time rto;        /* initial RTO; 0 = 500 ms */
    rtc_time rto_max;    /* cap on the doubled RTO, and then the final wait; 0 = no cap */
    int rc;              /* total sends; 0 = 7 */
    int rm;              /* final wait multiplier; 0 = 16 */
    bool reliable;       /* TCP: no retransmission, timeout at `ti` */
    rtc_time ti;         /* 0 = 39.5 s */
} rtc_stun_rto_cfg;

typedef struct rtc_stun_txn {
    rtc_stun_rto_cfg cfg;
    rtc_time next;       /* next send or the deadline when sends are exhausted */
    rtc_time rto;        /* current interval */
    int sent;
    bool done;
} rtc_stun_txn;

enum { RTC_STUN_TXN_IDLE = 0, RTC_STUN_TXN_SEND = 1, RTC_STUN_TXN_TIMEOUT = 2 };

/* Start: the first send is due at `now`. `cfg` copied (may be NULL for defaults). */
void rtc_stun_txn_start(rtc_stun_txn *t, const rtc_stun_rto_cfg *cfg, rtc_time now);
/* At `now`: RTC_STUN_TXN_SEND (send the request now, once per call that returns it),
 * RTC_STUN_TXN_TIMEOUT (the transaction failed; reported once) or RTC_STUN_TXN_IDLE. */
int rtc_stun_txn_poll(rtc_stun_txn *t, rtc_time now);
/* When to call rtc_stun_txn_poll next; RTC_TIME_NEVER once done. */
rtc_time rtc_stun_txn_timeout(const rtc_stun_txn *t);
/* A response arrived: stop. */
static inline void rtc_stun_txn_stop(rtc_stun_txn *t) { t->done = true; }

#endif
