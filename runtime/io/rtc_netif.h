/* Local interface addresses for ICE host candidates. */
#ifndef RTC_NETIF_H
#define RTC_NETIF_H
#include <stdbool.h>
#include <stddef.h>
#include "core/rtc_addr.h"

typedef struct rtc_netif_addr {
    rtc_addr addr;        /* port 0 */
    char name[32];        /* interface name */
    bool loopback;
} rtc_netif_addr;

/* Fill up to `max` usable addresses: every up interface's IPv4 and global IPv6
 * addresses (IPv6 link-local skipped: they need a scope id to be reachable). Loopback
 * addresses are listed only when `loopback` is true. Returns the count, or RTC_EIO. */
int rtc_netif_list(rtc_netif_addr *out, int max, bool loopback);

#endif
