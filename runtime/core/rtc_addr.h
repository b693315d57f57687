/* A transport address (IPv4 or IPv6 + port) stored by value: machines copy addresses
 * freely, and io/ converts to/from struct sockaddr without allocation. */
#ifndef RTC_ADDR_H
#define RTC_ADDR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

typedef struct rtc_addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } u;
} rtc_addr;

#define RTC_ADDR_STRLEN 64   /* "[ffff:...:ffff]:65535" fits */

/* Parse a numeric IPv4/IPv6 address (no brackets) and a port. 0 or RTC_EINVAL. */
int rtc_addr_set(rtc_addr *a, const char *ip, uint16_t port);
/* Parse "1.2.3.4:5" or "[::1]:5". 0 or RTC_EINVAL. */
int rtc_addr_parse(rtc_addr *a, const char *hostport);
/* From raw bytes (4 or 16) in network order. */
void rtc_addr_from_bytes(rtc_addr *a, int family, const uint8_t *ip, uint16_t port);
int rtc_addr_from_sockaddr(rtc_addr *a, const struct sockaddr *sa);

int rtc_addr_family(const rtc_addr *a);        /* AF_INET, AF_INET6 or 0 when unset */
uint16_t rtc_addr_port(const rtc_addr *a);
void rtc_addr_set_port(rtc_addr *a, uint16_t port);
socklen_t rtc_addr_len(const rtc_addr *a);
/* Pointer to the 4 or 16 address bytes; *len receives 4 or 16. */
const uint8_t *rtc_addr_bytes(const rtc_addr *a, size_t *len);
bool rtc_addr_eq(const rtc_addr *a, const rtc_addr *b);      /* ip and port */
bool rtc_addr_ip_eq(const rtc_addr *a, const rtc_addr *b);   /* ip only */
bool rtc_addr_is_loopback(const rtc_addr *a);
bool rtc_addr_is_private(const rtc_addr *a);    /* RFC 1918, ULA fc00::/7 */
bool rtc_addr_is_link_local(const rtc_addr *a);
bool rtc_addr_is_any(const rtc_addr *a);
/* "ip" only into buf (size >= RTC_ADDR_STRLEN); returns buf. */
const char *rtc_addr_ip_str(const rtc_addr *a, char *buf, size_t size);
/* "ip:port" or "[ip6]:port"; returns buf. */
const char *rtc_addr_str(const rtc_addr *a, char *buf, size_t size);
uint32_t rtc_addr_hash(const rtc_addr *a);

#endif
