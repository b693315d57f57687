#include "rtc_addr.h"
#include "rtc_errors.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rtc_addr_set(rtc_addr *a, const char *ip, uint16_t port)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, ip, &a->u.v4.sin_addr) == 1) {
        a->u.v4.sin_family = AF_INET;
        a->u.v4.sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, &a->u.v6.sin6_addr) == 1) {
        a->u.v6.sin6_family = AF_INET6;
        a->u.v6.sin6_port = htons(port);
        return 0;
    }
    return RTC_EINVAL;
}

int rtc_addr_parse(rtc_addr *a, const char *s)
{
    char host[RTC_ADDR_STRLEN];
    const char *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':') return RTC_EINVAL;
        hl = (size_t)(end - s - 1);
        if (hl >= sizeof host) return RTC_EINVAL;
        memcpy(host, s + 1, hl);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return RTC_EINVAL;
        hl = (size_t)(colon - s);
        if (hl >= sizeof host) return RTC_EINVAL;
        memcpy(host, s, hl);
    }
    host[hl] = 0;
    char *endp;
    long port = strtol(colon + 1, &endp, 10);
    if (*endp || endp == colon + 1 || port < 0 || port > 65535) return RTC_EINVAL;
    return rtc_addr_set(a, host, (uint16_t)port);
}

void rtc_addr_from_bytes(rtc_addr *a, int family, const uint8_t *ip, uint16_t port)
{
    memset(a, 0, sizeof *a);
    if (family == AF_INET) {
        a->u.v4.sin_family = AF_INET;
        memcpy(&a->u.v4.sin_addr, ip, 4);
        a->u.v4.sin_port = htons(port);
    } else {
        a->u.v6.sin6_family = AF_INET6;
        memcpy(&a->u.v6.sin6_addr, ip, 16);
        a->u.v6.sin6_port = htons(port);
    }
}

int rtc_addr_from_sockaddr(rtc_addr *a, const struct sockaddr *sa)
{
    memset(a, 0, sizeof *a);
    if (sa->sa_family == AF_INET) memcpy(&a->u.v4, sa, sizeof a->u.v4);
    else if (sa->sa_family == AF_INET6) memcpy(&a->u.v6, sa, sizeof a->u.v6);
    else return RTC_EINVAL;
    return 0;
}

int rtc_addr_family(const rtc_addr *a) { return a->u.sa.sa_family; }

uint16_t rtc_addr_port(const rtc_addr *a)
{
    return ntohs(a->u.sa.sa_family == AF_INET6 ? a->u.v6.sin6_port : a->u.v4.sin_port);
}

void rtc_addr_set_port(rtc_addr *a, uint16_t port)
{
    if (a->u.sa.sa_family == AF_INET6) a->u.v6.sin6_port = htons(port);
    else a->u.v4.sin_port = htons(port);
}

socklen_t rtc_addr_len(const rtc_addr *a)
{
    return a->u.sa.sa_family == AF_INET6 ? sizeof a->u.v6 : sizeof a->u.v4;
}

const uint8_t *rtc_addr_bytes(const rtc_addr *a, size_t *len)
{
    if (a->u.sa.sa_family == AF_INET6) {
        *len = 16;
        return (const uint8_t *)&a->u.v6.sin6_addr;
    }
    *len = 4;
    return (const uint8_t *)&a->u.v4.sin_addr;
}

bool rtc_addr_ip_eq(const rtc_addr *a, const rtc_addr *b)
{
    size_t la, lb;
    if (a->u.sa.sa_family != b->u.sa.sa_family) return false;
    const uint8_t *pa = rtc_addr_bytes(a, &la), *pb = rtc_addr_bytes(b, &lb);
    return memcmp(pa, pb, la) == 0;
}

bool rtc_addr_eq(const rtc_addr *a, const rtc_addr *b)
{
    return rtc_addr_ip_eq(a, b) && rtc_addr_port(a) == rtc_addr_port(b);
}

bool rtc_addr_is_loopback(const rtc_addr *a)
{
    if (a->u.sa.sa_family == AF_INET) return (ntohl(a->u.v4.sin_addr.s_addr) >> 24) == 127;
    if (a->u.sa.sa_family == AF_INET6) {
        if (IN6_IS_ADDR_V4MAPPED(&a->u.v6.sin6_addr)) return a->u.v6.sin6_addr.s6_addr[12] == 127;
        return IN6_IS_ADDR_LOOPBACK(&a->u.v6.sin6_addr);
    }
    return false;
}

bool rtc_addr_is_private(const rtc_addr *a)
{
    if (a->u.sa.sa_family == AF_INET) {
        uint32_t ip = ntohl(a->u.v4.sin_addr.s_addr);
        return (ip >> 24) == 10 || (ip >> 20) == 0xac1 || (ip >> 16) == 0xc0a8 ||
               (ip >> 22) == (100u << 2 | 1);        /* 100.64/10 carrier-grade NAT */
    }
    if (a->u.sa.sa_family == AF_INET6) return (a->u.v6.sin6_addr.s6_addr[0] & 0xfe) == 0xfc;
    return false;
}

bool rtc_addr_is_link_local(const rtc_addr *a)
{
    if (a->u.sa.sa_family == AF_INET) return (ntohl(a->u.v4.sin_addr.s_addr) >> 16) == 0xa9fe;
    if (a->u.sa.sa_family == AF_INET6) return IN6_IS_ADDR_LINKLOCAL(&a->u.v6.sin6_addr);
    return false;
}

bool rtc_addr_is_any(const rtc_addr *a)
{
    if (a->u.sa.sa_family == AF_INET) return a->u.v4.sin_addr.s_addr == 0;
    if (a->u.sa.sa_family == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&a->u.v6.sin6_addr);
    return true;
}

const char *rtc_addr_ip_str(const rtc_addr *a, char *buf, size_t size)
{
    buf[0] = 0;
    if (a->u.sa.sa_family == AF_INET) inet_ntop(AF_INET, &a->u.v4.sin_addr, buf, (socklen_t)size);
    else if (a->u.sa.sa_family == AF_INET6) inet_ntop(AF_INET6, &a->u.v6.sin6_addr, buf, (socklen_t)size);
    return buf;
}

const char *rtc_addr_str(const rtc_addr *a, char *buf, size_t size)
{
    char ip[RTC_ADDR_STRLEN];
    rtc_addr_ip_str(a, ip, sizeof ip);
    if (a->u.sa.sa_family == AF_INET6) snprintf(buf, size, "[%s]:%u", ip, rtc_addr_port(a));
    else snprintf(buf, size, "%s:%u", ip, rtc_addr_port(a));
    return buf;
}

uint32_t rtc_addr_hash(const rtc_addr *a)
{
    size_t n;
    const uint8_t *p = rtc_addr_bytes(a, &n);
    uint32_t h = 2166136261u;                       /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    uint16_t port = rtc_addr_port(a);
    h = (h ^ (port >> 8)) * 16777619u;
    h = (h ^ (port & 0xff)) * 16777619u;
    return h;
}
