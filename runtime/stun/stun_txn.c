/* STUN retransmission timing (RFC 8489 section 6.2.1). */
#include "stun_txn.h"

void rtc_stun_txn_start(rtc_stun_txn *t, const rtc_stun_rto_cfg *cfg, rtc_time now)
{
    t->cfg = cfg ? *cfg : (rtc_stun_rto_cfg){ 0 };
    if (t->cfg.rto <= 0) t->cfg.rto = RTC_MS(500);
    if (t->cfg.rc <= 0) t->cfg.rc = 7;
    if (t->cfg.rm <= 0) t->cfg.rm = 16;
    if (t->cfg.ti <= 0) t->cfg.ti = RTC_MS(39500);
    t->rto = t->cfg.rto;
    t->next = now;
    t->sent = 0;
    t->done = false;
}

int rtc_stun_txn_poll(rtc_stun_txn *t, rtc_time now)
{
    if (t->done || now < t->next) return RTC_STUN_TXN_IDLE;
    int limit = t->cfg.reliable ? 1 : t->cfg.rc;
    if (t->sent < limit) {
        t->sent++;
        if (t->cfg.reliable) {
            t->next = now + t->cfg.ti;
        } else if (t->sent == limit) {
            /* With a cap the last wait is the cap: the cap exists to bound total time. */
            t->next = now + (t->cfg.rto_max ? t->cfg.rto_max : t->cfg.rto * t->cfg.rm);
        } else {
            t->next = now + t->rto;
            t->rto *= 2;
            if (t->cfg.rto_max && t->rto > t->cfg.rto_max) t->rto = t->cfg.rto_max;
        }
        return RTC_STUN_TXN_SEND;
    }
    t->done = true;
    return RTC_STUN_TXN_TIMEOUT;
}

rtc_time rtc_stun_txn_timeout(const rtc_stun_txn *t)
{
    return t->done ? RTC_TIME_NEVER : t->next;
}
