#include "io/rtc_netif.h"
#include "core/rtc_errors.h"
#include <stdio.h>
#include <uv.h>

int rtc_netif_list(rtc_netif_addr *out, int max, bool loopback)
{
    uv_interface_address_t *ifs;
    int n;
    if (uv_interface_addresses(&ifs, &n) != 0) return RTC_EIO;
    int k = 0;
    for (int i = 0; i < n && k < max; i++) {
        rtc_addr a;
        if (rtc_addr_from_sockaddr(&a, (const struct sockaddr *)&ifs[i].address) < 0) continue;
        bool lo = ifs[i].is_internal || rtc_addr_is_loopback(&a);
        if (lo && !loopback) continue;
        if (rtc_addr_family(&a) == AF_INET6 && rtc_addr_is_link_local(&a)) continue;
        rtc_addr_set_port(&a, 0);
        out[k].addr = a;
        out[k].loopback = lo;
        snprintf(out[k].name, sizeof out[k].name, "%s", ifs[i].name);
        k++;
    }
    uv_free_interface_addresses(ifs, n);
    return k;
}
