/* Helpers for serving static files: a request-target to file-path normaliser that
 * cannot be talked out of its root, and Content-Type by file extension. Pure
 * functions; the driver does the file I/O. */
#ifndef RTC_HTTP_STATIC_H
#define RTC_HTTP_STATIC_H
#include <stddef.h>
#include "core/rtc_bytes.h"

#define RTC_HTTP_PATH_ALLOW_DOTFILES 1u   /* accept segments starting with '.' (".well-known") */

/* Turn an origin-form request target ("/a/./b%20c/?q=1") into a clean absolute path
 * ("/a/b c/") under a virtual root: query and fragment dropped, percent-escapes decoded
 * once, empty and "." segments removed, ".." resolved without ever leaving the root,
 * a trailing '/' kept (the caller maps it to an index file).
 * Rejected with RTC_EACCESS: ".." above the root, NUL or control bytes, backslashes,
 * an encoded '/' (%2F), and (unless RTC_HTTP_PATH_ALLOW_DOTFILES) dot-files such as
 * "/.git/config". RTC_EPROTO: a target not starting with '/', a malformed escape.
 * RTC_EOVERFLOW: `out` (caller's, `cap` bytes) too small. Returns the length of the
 * NUL-terminated result. */
int rtc_http_path_normalize(rtc_str target, char *out, size_t cap, unsigned flags);

/* Content-Type for a path's extension (case-insensitive): html, htm, js, mjs, css,
 * json, map, png, jpg, jpeg, gif, webp, svg, ico, wasm, txt, woff2; text types carry
 * "; charset=utf-8". Anything else: "application/octet-stream". Static string. */
const char *rtc_http_content_type(rtc_str path);

#endif
