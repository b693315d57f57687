/* SDP munging for tests that need a leg without RTX. Header-only: include once per
 * test file. */
#ifndef SDP_STRIP_RTX_H
#define SDP_STRIP_RTX_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Remove RTX from an offer (in place): the rtx payload types from the m= lines and
 * their rtpmap/fmtp/rtcp-fb lines. NACK stays, so repairs are plain resends. */
static void strip_rtx(char *sdp)
{
    int pts[16], npts = 0;
    for (const char *p = sdp; (p = strstr(p, "a=rtpmap:")); p++) {
        int pt;
        char name[8];
        if (sscanf(p, "a=rtpmap:%d %7[^/]", &pt, name) == 2 && strcmp(name, "rtx") == 0 && npts < 16) pts[npts++] = pt;
    }
    char *w = sdp;
    for (char *r = sdp; *r;) {
        char *eol = strchr(r, '\n');
        size_t n = eol ? (size_t)(eol - r + 1) : strlen(r);
        bool drop = false;
        for (int i = 0; i < npts; i++) {
            char pre[3][32];
            snprintf(pre[0], 32, "a=rtpmap:%d ", pts[i]);
            snprintf(pre[1], 32, "a=fmtp:%d ", pts[i]);
            snprintf(pre[2], 32, "a=rtcp-fb:%d ", pts[i]);
            for (int k = 0; k < 3; k++) if (strncmp(r, pre[k], strlen(pre[k])) == 0) drop = true;
        }
        if (drop) { r += n; continue; }
        if (strncmp(r, "m=", 2) == 0) {
            /* copy the m= line word by word, leaving out the rtx payload types */
            char line[512];
            size_t ln = n < sizeof line ? n : sizeof line - 1;
            memcpy(line, r, ln);
            line[ln] = 0;
            char out[512] = "";
            char *save = NULL;
            for (char *tok = strtok_r(line, " \r\n", &save); tok; tok = strtok_r(NULL, " \r\n", &save)) {
                bool skip = false;
                for (int i = 0; i < npts; i++) if (atoi(tok) == pts[i] && tok[0] >= '0' && tok[0] <= '9') skip = true;
                if (skip) continue;
                if (out[0]) strcat(out, " ");
                strcat(out, tok);
            }
            strcat(out, "\r\n");
            size_t on = strlen(out);
            memmove(w, out, on);       /* never longer than the line it replaces */
            w += on;
            r += n;
            continue;
        }
        memmove(w, r, n);
        w += n;
        r += n;
    }
    *w = 0;
}

#endif
