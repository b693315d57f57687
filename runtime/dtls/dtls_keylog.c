/* DTLS keys in the NSS key log format (SSLKEYLOGFILE, as browsers write it), so a
 * capture of the encrypted traffic can be decrypted by Wireshark. One file for the
 * process, like the environment variable it comes from; lines are appended as each
 * handshake makes them (the file is opened per line: a handshake is rare, and another
 * process, a browser say, may share the file). */
#include "dtls/dtls_transport.h"
#include "core/rtc_errors.h"
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

void dtls__keylog_cb(const SSL *ssl, const char *line);

static char g_keylog[4096];

int rtc_dtls_set_keylog_file(const char *path)
{
    if (!path || !*path) { g_keylog[0] = 0; return 0; }
    if (strlen(path) >= sizeof g_keylog) return RTC_EINVAL;
    FILE *f = fopen(path, "a");
    if (!f) return RTC_EIO;
    fclose(f);
    strcpy(g_keylog, path);
    return 0;
}

const char *rtc_dtls_keylog_file(void) { return g_keylog[0] ? g_keylog : NULL; }

void dtls__keylog_cb(const SSL *ssl, const char *line)
{
    (void)ssl;
    if (!g_keylog[0]) return;
    FILE *f = fopen(g_keylog, "a");
    if (!f) return;
    fprintf(f, "%s\n", line);
    fclose(f);
}
