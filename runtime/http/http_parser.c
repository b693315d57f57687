#include "http_parser.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

enum {
    ST_HEAD,            /* start line + header lines, copied into head[] */
    ST_BODY_LEN,        /* Content-Length body */
    ST_BODY_EOF,        /* response body delimited by the end of the stream */
    ST_CHUNK_SIZE,      /* hex digits of a chunk-size line */
    ST_CHUNK_EXT,       /* after the size: BWS, chunk extensions, up to CR */
    ST_CHUNK_SIZE_LF,
    ST_CHUNK_DATA,
    ST_CHUNK_DATA_CR,
    ST_CHUNK_DATA_LF,
    ST_TRAILER,         /* trailer lines, copied into head[] after the header section */
    ST_READY,           /* a complete message waits in the parser */
    ST_CLOSED,          /* the last message ended the connection */
    ST_ERROR
};

#define CHUNK_LINE_MAX 4096   /* a chunk-size line with its extensions */

typedef struct hdr_ref { uint32_t name, name_len, val, val_len; } hdr_ref;

struct rtc_http_parser {
    rtc_http_kind kind;
    rtc_http_limits lim;
    int state;
    bool polled;               /* the READY message was handed out */
    bool no_body_next;         /* the next response answers HEAD */
    int err_status;
    const char *err_text;

    uint8_t *head;             /* head bytes (and trailer lines after them) */
    size_t head_len, head_cap, head_max;
    size_t line_start;         /* offset in head[] of the line being read */
    size_t start_line_end;     /* offset of the CR ending the start line, 0 until known */
    size_t header_bytes;       /* bytes of header + trailer lines so far */
    size_t nlines;             /* header lines (excluding the start line) */
    size_t trailer_start;      /* offset in head[] where trailer lines begin */
    bool prev_cr;

    uint8_t *body;
    size_t body_len, body_cap;
    uint64_t remaining;        /* CL body or current chunk bytes still to come */
    size_t chunk_line;         /* bytes of the current chunk-size line */
    int chunk_digits;

    hdr_ref *hrefs, *trefs;
    size_t nh, nt;
    rtc_http_header *views;    /* built at poll time: headers then trailers */

    rtc_http_message msg;      /* fields resolved when the head completed */
};

static const rtc_http_limits default_limits = { 8192, 16384, 64, 1 << 20 };

int rtc_http_parser_new(rtc_http_parser **out, rtc_http_kind kind, const rtc_http_limits *lim)
{
    if (!out || (kind != RTC_HTTP_REQUEST && kind != RTC_HTTP_RESPONSE)) return RTC_EINVAL;
    *out = NULL;
    rtc_http_parser *p = calloc(1, sizeof *p);
    if (!p) return RTC_ENOMEM;
    p->kind = kind;
    p->lim = default_limits;
    if (lim) {
        if (lim->max_start_line) p->lim.max_start_line = lim->max_start_line;
        if (lim->max_header_bytes) p->lim.max_header_bytes = lim->max_header_bytes;
        if (lim->max_headers) p->lim.max_headers = lim->max_headers;
        if (lim->max_body) p->lim.max_body = lim->max_body;
    }
    if (p->lim.max_start_line > (1u << 24) || p->lim.max_header_bytes > (1u << 24) ||
        p->lim.max_headers > 10000) {
        free(p);
        return RTC_EINVAL;
    }
    /* +2 for the CRLF ending the start line, +2 for the empty line ending the head */
    p->head_max = p->lim.max_start_line + 2 + p->lim.max_header_bytes + 2;
    p->hrefs = calloc(p->lim.max_headers, sizeof *p->hrefs);
    p->trefs = calloc(p->lim.max_headers, sizeof *p->trefs);
    p->views = calloc(2 * p->lim.max_headers, sizeof *p->views);
    if (!p->hrefs || !p->trefs || !p->views) {
        rtc_http_parser_free(p);
        return RTC_ENOMEM;
    }
    *out = p;
    return 0;
}

void rtc_http_parser_free(rtc_http_parser *p)
{
    if (!p) return;
    free(p->head);
    free(p->body);
    free(p->hrefs);
    free(p->trefs);
    free(p->views);
    free(p);
}

static void reset_message(rtc_http_parser *p)
{
    p->state = ST_HEAD;
    p->polled = false;
    p->head_len = p->line_start = p->start_line_end = 0;
    p->header_bytes = p->nlines = p->trailer_start = 0;
    p->prev_cr = false;
    p->body_len = 0;
    p->remaining = 0;
    p->chunk_line = 0;
    p->chunk_digits = 0;
    p->nh = p->nt = 0;
    memset(&p->msg, 0, sizeof p->msg);
}

static int fail(rtc_http_parser *p, int status, const char *text)
{
    p->state = ST_ERROR;
    p->err_status = status;
    p->err_text = text;
    if (status == 400) return RTC_EPROTO;
    if (status == 501 || status == 505) return RTC_ENOTSUP;
    return RTC_ETOOBIG;
}

static int error_code(const rtc_http_parser *p)
{
    if (p->err_status == 400) return RTC_EPROTO;
    if (p->err_status == 501 || p->err_status == 505) return RTC_ENOTSUP;
    return RTC_ETOOBIG;
}

/* ---- character classes (RFC 9110 §5.6.2) ---- */

static bool is_tchar(uint8_t c)
{
    if (c >= '0' && c <= '9') return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}
static bool is_vchar(uint8_t c) { return c >= 0x21 && c <= 0x7e; }
static bool is_field_char(uint8_t c) { return c == '\t' || c == ' ' || is_vchar(c) || c >= 0x80; }
static uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c; }

bool rtc_http_str_ieq(rtc_str a, const char *b)
{
    size_t n = strlen(b);
    if (a.len != n) return false;
    for (size_t i = 0; i < n; i++)
        if (lower((uint8_t)a.p[i]) != lower((uint8_t)b[i])) return false;
    return true;
}

bool rtc_http_has_token(rtc_str v, const char *token)
{
    size_t i = 0;
    while (i <= v.len && v.p) {
        size_t s = i;
        while (i < v.len && v.p[i] != ',') i++;
        size_t e = i;
        while (s < e && (v.p[s] == ' ' || v.p[s] == '\t')) s++;
        while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t')) e--;
        if (rtc_http_str_ieq((rtc_str){ v.p + s, e - s }, token)) return true;
        i++;
    }
    return false;
}

const rtc_http_header *rtc_http_find_header(const rtc_http_header *h, size_t n,
                                            const char *name, size_t *from)
{
    for (size_t i = from ? *from : 0; i < n; i++) {
        if (rtc_http_str_ieq(h[i].name, name)) {
            if (from) *from = i + 1;
            return &h[i];
        }
    }
    if (from) *from = n;
    return NULL;
}

rtc_str rtc_http_message_header(const rtc_http_message *m, const char *name)
{
    const rtc_http_header *h = rtc_http_find_header(m->headers, m->nheaders, name, NULL);
    return h ? h->value : (rtc_str){ NULL, 0 };
}

bool rtc_http_message_has_token(const rtc_http_message *m, const char *name, const char *token)
{
    size_t it = 0;
    const rtc_http_header *h;
    while ((h = rtc_http_find_header(m->headers, m->nheaders, name, &it)))
        if (rtc_http_has_token(h->value, token)) return true;
    return false;
}

/* ---- head parsing, once the empty line arrived ---- */

static rtc_str head_str(const rtc_http_parser *p, uint32_t off, uint32_t len)
{
    return (rtc_str){ (const char *)p->head + off, len };
}

/* Split one field line [s, e) (no CRLF) into a hdr_ref. */
static int parse_field_line(rtc_http_parser *p, size_t s, size_t e, hdr_ref *r)
{
    const uint8_t *h = p->head;
    if (h[s] == ' ' || h[s] == '\t') return fail(p, 400, "obsolete line folding");
    size_t i = s;
    while (i < e && is_tchar(h[i])) i++;
    if (i == s || i >= e || h[i] != ':') return fail(p, 400, "malformed header field");
    r->name = (uint32_t)s;
    r->name_len = (uint32_t)(i - s);
    i++;
    while (i < e && (h[i] == ' ' || h[i] == '\t')) i++;
    size_t ve = e;
    while (ve > i && (h[ve - 1] == ' ' || h[ve - 1] == '\t')) ve--;
    for (size_t k = i; k < ve; k++)
        if (!is_field_char(h[k])) return fail(p, 400, "invalid character in header value");
    r->val = (uint32_t)i;
    r->val_len = (uint32_t)(ve - i);
    return 0;
}

/* Parse the field lines in head[from, to) into refs; each line ends with CRLF. */
static int parse_fields(rtc_http_parser *p, size_t from, size_t to, hdr_ref *refs, size_t *n)
{
    size_t s = from;
    *n = 0;
    while (s < to) {
        size_t e = s;
        while (p->head[e] != '\r') e++;       /* the accumulator guaranteed CRLF endings */
        if (e == s) break;                    /* the empty line */
        if (*n >= p->lim.max_headers) return fail(p, 431, "too many header fields");
        int r = parse_field_line(p, s, e, &refs[*n]);
        if (r < 0) return r;
        (*n)++;
        s = e + 2;
    }
    return 0;
}

static int parse_version(const uint8_t *v, size_t len, int *out)
{
    if (len != 8 || memcmp(v, "HTTP/", 5) || v[6] != '.' ||
        v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
        return -1;
    if (v[5] != '1') return -2;
    *out = v[7] == '0' ? 10 : 11;
    return 0;
}

static int parse_start_line(rtc_http_parser *p)
{
    const uint8_t *h = p->head;
    size_t e = p->start_line_end;
    rtc_http_message *m = &p->msg;
    if (p->kind == RTC_HTTP_REQUEST) {
        size_t i = 0;
        while (i < e && is_tchar(h[i])) i++;
        if (i == 0 || i >= e || h[i] != ' ') return fail(p, 400, "malformed request line");
        m->method = head_str(p, 0, (uint32_t)i);
        size_t t = ++i;
        while (i < e && is_vchar(h[i])) i++;
        if (i == t || i >= e || h[i] != ' ') return fail(p, 400, "malformed request target");
        m->target = head_str(p, (uint32_t)t, (uint32_t)(i - t));
        int r = parse_version(h + i + 1, e - i - 1, &m->version);
        if (r == -2) return fail(p, 505, "HTTP version not supported");
        if (r < 0) return fail(p, 400, "malformed HTTP version");
        m->is_request = true;
        return 0;
    }
    if (e < 12) return fail(p, 400, "malformed status line");
    int r = parse_version(h, 8, &m->version);
    if (r == -2) return fail(p, 505, "HTTP version not supported");
    if (r < 0 || h[8] != ' ') return fail(p, 400, "malformed status line");
    int st = 0;
    for (int k = 9; k < 12; k++) {
        if (h[k] < '0' || h[k] > '9') return fail(p, 400, "malformed status code");
        st = st * 10 + (h[k] - '0');
    }
    if (st < 100) return fail(p, 400, "malformed status code");
    m->status = st;
    if (e > 12) {
        if (h[12] != ' ') return fail(p, 400, "malformed status line");
        for (size_t k = 13; k < e; k++)
            if (!is_field_char(h[k])) return fail(p, 400, "invalid character in reason");
        m->reason = head_str(p, 13, (uint32_t)(e - 13));
    }
    return 0;
}

static bool ref_is(const rtc_http_parser *p, const hdr_ref *r, const char *name)
{
    return rtc_http_str_ieq(head_str(p, r->name, r->name_len), name);
}

/* Decide keep-alive, upgrade and how the body is delimited (RFC 9112 §6.3). */
static int resolve_framing(rtc_http_parser *p)
{
    rtc_http_message *m = &p->msg;
    bool te = false, chunked = false, close = false, keep = false, has_upgrade = false, conn_upgrade = false;
    int64_t cl = -1;
    size_t hosts = 0;
    for (size_t i = 0; i < p->nh; i++) {
        const hdr_ref *r = &p->hrefs[i];
        rtc_str v = head_str(p, r->val, r->val_len);
        if (ref_is(p, r, "content-length")) {
            if (v.len == 0) return fail(p, 400, "empty Content-Length");
            uint64_t n = 0;
            for (size_t k = 0; k < v.len; k++) {
                if (v.p[k] < '0' || v.p[k] > '9') return fail(p, 400, "malformed Content-Length");
                if (n > (UINT64_MAX - 9) / 10) return fail(p, 413, "body too large");
                n = n * 10 + (uint64_t)(v.p[k] - '0');
            }
            if (n > (uint64_t)INT64_MAX) return fail(p, 413, "body too large");
            if (cl >= 0 && (uint64_t)cl != n) return fail(p, 400, "conflicting Content-Length");
            cl = (int64_t)n;
        } else if (ref_is(p, r, "transfer-encoding")) {
            /* a list of codings; only "chunked", once, and last */
            size_t s = 0;
            while (s <= v.len) {
                size_t e = s;
                while (e < v.len && v.p[e] != ',') e++;
                size_t a = s, b = e;
                while (a < b && (v.p[a] == ' ' || v.p[a] == '\t')) a++;
                while (b > a && (v.p[b - 1] == ' ' || v.p[b - 1] == '\t')) b--;
                if (b > a) {
                    if (chunked) return fail(p, 400, "coding after chunked");
                    if (!rtc_http_str_ieq((rtc_str){ v.p + a, b - a }, "chunked"))
                        return fail(p, 501, "transfer coding not implemented");
                    chunked = true;
                }
                s = e + 1;
            }
            te = true;
        } else if (ref_is(p, r, "connection")) {
            if (rtc_http_has_token(v, "close")) close = true;
            if (rtc_http_has_token(v, "keep-alive")) keep = true;
            if (rtc_http_has_token(v, "upgrade")) conn_upgrade = true;
        } else if (ref_is(p, r, "upgrade")) {
            has_upgrade = true;
        } else if (ref_is(p, r, "host")) {
            hosts++;
        }
    }
    if (te && !chunked) return fail(p, 400, "empty Transfer-Encoding");
    /* Both framings at once is how requests get smuggled past proxies: refuse. */
    if (te && cl >= 0) return fail(p, 400, "both Transfer-Encoding and Content-Length");
    if (te && m->version == 10) return fail(p, 400, "Transfer-Encoding in HTTP/1.0");
    /* RFC 9112 §3.2: an HTTP/1.1 request names exactly one Host. */
    if (m->is_request && (hosts > 1 || (m->version == 11 && hosts == 0)))
        return fail(p, 400, "missing or repeated Host");
    m->content_length = cl;
    m->chunked = chunked;
    m->keep_alive = m->version == 11 ? !close : (keep && !close);

    bool no_body = false;
    if (m->is_request) {
        m->upgrade = has_upgrade && conn_upgrade;
    } else {
        m->upgrade = m->status == 101;
        no_body = p->no_body_next || m->status < 200 || m->status == 204 || m->status == 304;
        p->no_body_next = false;
    }
    if (no_body) {
        p->state = ST_READY;
    } else if (chunked) {
        p->state = ST_CHUNK_SIZE;
    } else if (cl >= 0) {
        if ((uint64_t)cl > p->lim.max_body) return fail(p, 413, "body too large");
        p->remaining = (uint64_t)cl;
        p->state = cl ? ST_BODY_LEN : ST_READY;
    } else if (!m->is_request) {
        m->keep_alive = false;            /* the end of the stream ends the body */
        p->state = ST_BODY_EOF;
    } else {
        p->state = ST_READY;
    }
    /* An interim response (100 Continue) is followed by the real one on the same
     * connection whatever its headers say. */
    if (!m->is_request && m->status < 200 && m->status != 101) m->keep_alive = true;
    return 0;
}

static int head_complete(rtc_http_parser *p)
{
    int r = parse_start_line(p);
    if (r < 0) return r;
    r = parse_fields(p, p->start_line_end + 2, p->head_len, p->hrefs, &p->nh);
    if (r < 0) return r;
    return resolve_framing(p);
}

/* ---- byte accumulation ---- */

static int head_push(rtc_http_parser *p, uint8_t c)
{
    if (p->head_len == p->head_cap) {
        size_t n = p->head_cap ? p->head_cap * 2 : 512;
        if (n > p->head_max) n = p->head_max;
        if (n <= p->head_len) return fail(p, 431, "header section too large");
        uint8_t *h = realloc(p->head, n);
        if (!h) return fail(p, 413, "out of memory");
        p->head = h;
        p->head_cap = n;
    }
    p->head[p->head_len++] = c;
    return 0;
}

/* One byte of a head or trailer section. Sets *done at the empty line. */
static int line_byte(rtc_http_parser *p, uint8_t c, bool trailer, bool *done)
{
    bool in_start = !trailer && p->start_line_end == 0;
    if (!trailer && p->head_len == 0 && (c == '\r' || c == '\n'))
        return 0;                             /* empty lines before a request line are ignored */
    if (p->prev_cr && c != '\n') return fail(p, 400, "CR not followed by LF");
    if (c == '\n' && !p->prev_cr) return fail(p, 400, "bare LF line ending");
    if (c == 0) return fail(p, 400, "NUL in header section");
    size_t line_len = p->head_len - p->line_start;
    if (in_start) {
        if (c != '\r' && c != '\n' && line_len >= p->lim.max_start_line)
            return fail(p, p->kind == RTC_HTTP_REQUEST ? 414 : 400, "start line too long");
    } else if (p->header_bytes >= p->lim.max_header_bytes) {
        return fail(p, 431, "header section too large");
    } else {
        p->header_bytes++;
    }
    int r = head_push(p, c);
    if (r < 0) return r;
    p->prev_cr = c == '\r';
    if (c != '\n') return 0;
    if (in_start) {
        p->start_line_end = p->head_len - 2;
        if (p->start_line_end == 0) return fail(p, 400, "empty start line");
    } else if (line_len == 1) {               /* only the CR before this LF: empty line */
        *done = true;
    } else if (++p->nlines > p->lim.max_headers) {
        return fail(p, 431, "too many header fields");
    }
    p->line_start = p->head_len;
    return 0;
}

static int body_append(rtc_http_parser *p, const uint8_t *d, size_t n)
{
    if (n > p->lim.max_body - p->body_len) return fail(p, 413, "body too large");
    if (p->body_len + n > p->body_cap) {
        size_t cap = p->body_cap ? p->body_cap : 1024;
        while (cap < p->body_len + n) cap *= 2;
        if (cap > p->lim.max_body) cap = p->lim.max_body;
        uint8_t *b = realloc(p->body, cap);
        if (!b) return fail(p, 413, "out of memory");
        p->body = b;
        p->body_cap = cap;
    }
    memcpy(p->body + p->body_len, d, n);
    p->body_len += n;
    return 0;
}

/* Body bytes whose count is known (Content-Length, one chunk's data): up to
 * p->remaining of d[*i..len) are appended and *i moves past them; the state becomes
 * `next` once the last one has come. */
static int body_counted(rtc_http_parser *p, const uint8_t *d, size_t len, size_t *i, int next)
{
    size_t n = len - *i;
    if (n > p->remaining) n = (size_t)p->remaining;
    int r = body_append(p, d + *i, n);
    *i += n;
    p->remaining -= n;
    if (r == 0 && p->remaining == 0) p->state = next;
    return r;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int rtc_http_parser_handle_data(rtc_http_parser *p, const uint8_t *d, size_t len, size_t *used)
{
    size_t i = 0;
    int r = 0;
    if (used) *used = 0;
    if (!p || (!d && len)) return RTC_EINVAL;
    if (p->state == ST_ERROR) return error_code(p);
    if (p->state == ST_CLOSED) return RTC_ECLOSED;
    if (p->state == ST_READY) {
        if (!p->polled) return RTC_EAGAIN;
        if (!p->msg.keep_alive) { p->state = ST_CLOSED; return RTC_ECLOSED; }
        reset_message(p);
    }
    while (i < len && r == 0 && p->state != ST_READY) {
        uint8_t c = d[i];
        switch (p->state) {
        case ST_HEAD: {
            bool done = false;
            i++;
            r = line_byte(p, c, false, &done);
            if (r == 0 && done) r = head_complete(p);
            break;
        }
        case ST_BODY_LEN:
            r = body_counted(p, d, len, &i, ST_READY);
            break;
        case ST_BODY_EOF:
            r = body_append(p, d + i, len - i);
            i = len;
            break;
        case ST_CHUNK_SIZE: {
            int v = hexval(c);
            if (v >= 0) {
                if (p->chunk_digits >= 15) { r = fail(p, 413, "chunk too large"); break; }
                p->remaining = p->remaining << 4 | (uint64_t)v;
                p->chunk_digits++;
                p->chunk_line++;
                i++;
                break;
            }
            if (p->chunk_digits == 0 || (c != ';' && c != ' ' && c != '\t' && c != '\r')) {
                r = fail(p, 400, "malformed chunk size");
                break;
            }
            p->state = ST_CHUNK_EXT;
            break;
        }
        case ST_CHUNK_EXT:
            /* Extensions carry nothing we use; they are checked for line syntax and
             * length only. */
            i++;
            if (++p->chunk_line > CHUNK_LINE_MAX) { r = fail(p, 400, "chunk line too long"); break; }
            if (c == '\r') p->state = ST_CHUNK_SIZE_LF;
            else if (c == '\n' || c == 0 || (c < 0x20 && c != '\t') || c == 0x7f)
                r = fail(p, 400, "malformed chunk extension");
            break;
        case ST_CHUNK_SIZE_LF:
            i++;
            if (c != '\n') { r = fail(p, 400, "malformed chunk line"); break; }
            if (p->remaining > p->lim.max_body - p->body_len) { r = fail(p, 413, "body too large"); break; }
            p->chunk_line = 0;
            p->chunk_digits = 0;
            if (p->remaining == 0) {
                p->trailer_start = p->head_len;
                p->line_start = p->head_len;
                p->prev_cr = false;
                p->nlines = 0;
                p->state = ST_TRAILER;
            } else {
                p->state = ST_CHUNK_DATA;
            }
            break;
        case ST_CHUNK_DATA:
            r = body_counted(p, d, len, &i, ST_CHUNK_DATA_CR);
            break;
        case ST_CHUNK_DATA_CR:
            i++;
            if (c != '\r') r = fail(p, 400, "chunk data not followed by CRLF");
            else p->state = ST_CHUNK_DATA_LF;
            break;
        case ST_CHUNK_DATA_LF:
            i++;
            if (c != '\n') r = fail(p, 400, "chunk data not followed by CRLF");
            else p->state = ST_CHUNK_SIZE;
            break;
        case ST_TRAILER: {
            bool done = false;
            i++;
            r = line_byte(p, c, true, &done);
            if (r == 0 && done) {
                r = parse_fields(p, p->trailer_start, p->head_len, p->trefs, &p->nt);
                if (r == 0) p->state = ST_READY;
            }
            break;
        }
        default:
            r = RTC_ESTATE;
            break;
        }
    }
    if (used) *used = i;
    return r;
}

int rtc_http_parser_handle_eof(rtc_http_parser *p)
{
    if (!p) return RTC_EINVAL;
    if (p->state == ST_BODY_EOF) { p->state = ST_READY; return 0; }
    if (p->state == ST_HEAD && p->head_len == 0) { p->state = ST_CLOSED; return 0; }
    if (p->state == ST_READY || p->state == ST_CLOSED) return 0;
    if (p->state == ST_ERROR) return error_code(p);
    p->state = ST_ERROR;
    p->err_status = 400;
    p->err_text = "connection closed in the middle of a message";
    return RTC_ETRUNC;
}

int rtc_http_parser_poll_message(rtc_http_parser *p, rtc_http_message *m)
{
    if (!p || p->state != ST_READY || p->polled) return 0;
    p->polled = true;
    for (size_t i = 0; i < p->nh; i++) {
        p->views[i].name = head_str(p, p->hrefs[i].name, p->hrefs[i].name_len);
        p->views[i].value = head_str(p, p->hrefs[i].val, p->hrefs[i].val_len);
    }
    for (size_t i = 0; i < p->nt; i++) {
        p->views[p->nh + i].name = head_str(p, p->trefs[i].name, p->trefs[i].name_len);
        p->views[p->nh + i].value = head_str(p, p->trefs[i].val, p->trefs[i].val_len);
    }
    /* The head buffer may have moved while trailers arrived: refresh the views. */
    rtc_http_message *s = &p->msg;
    if (s->is_request) {
        s->method.p = (const char *)p->head;
        s->target.p = (const char *)p->head + s->method.len + 1;
    } else if (s->reason.len) {
        s->reason.p = (const char *)p->head + 13;
    }
    s->headers = p->views;
    s->nheaders = p->nh;
    s->trailers = p->views + p->nh;
    s->ntrailers = p->nt;
    s->body = p->body_len ? p->body : NULL;
    s->body_len = p->body_len;
    *m = *s;
    return 1;
}

void rtc_http_parser_expect_no_body(rtc_http_parser *p) { if (p) p->no_body_next = true; }
int rtc_http_parser_error_status(const rtc_http_parser *p) { return p && p->state == ST_ERROR ? p->err_status : 0; }
const char *rtc_http_parser_error_text(const rtc_http_parser *p)
{
    return p && p->state == ST_ERROR && p->err_text ? p->err_text : "";
}
size_t rtc_http_parser_buffered(const rtc_http_parser *p) { return p ? p->head_len + p->body_len : 0; }
