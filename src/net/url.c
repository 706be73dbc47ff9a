/* url: a small reader of http(s) base URLs, not a general URL parser: the
 * identity of an already-normal URL must stay byte for byte what it was
 * (existing stores key on it), so nothing is re-encoded or resolved. */
#include "net/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/oom.h"

void url_parts_free(url_parts *p)
{
    free(p->identity);
    free(p->user);
    free(p->password);
    memset(p, 0, sizeof *p);
}

static void url_put_lower(buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf_putc(b, (char)tolower((unsigned char)s[i])) < 0)
            oom_abort(b->len + 1);
}

static void url_put(buf_t *b, const char *s, size_t n)
{
    if (buf_append(b, s, n) < 0)
        oom_abort(b->len + n);
}

/* RFC 1918 and loopback addresses, localhost, and names only a local
 * resolver answers: servers run by the user, not a provider's */
static int url_host_is_local(const char *h, size_t n)
{
    char host[256];
    if (n == 0 || n >= sizeof host)
        return 0;
    for (size_t i = 0; i < n; i++)
        host[i] = (char)tolower((unsigned char)h[i]);
    host[n] = '\0';
    unsigned a, b;
    if (!strcmp(host, "localhost") || !strcmp(host, "[::1]") || !strcmp(host, "0.0.0.0"))
        return 1;
    if ((n > 10 && !strcmp(host + n - 10, ".localhost")) || (n > 6 && !strcmp(host + n - 6, ".local")))
        return 1;
    if (sscanf(host, "%u.%u.", &a, &b) == 2 && strspn(host, "0123456789.") == n)
        return a == 127 || a == 10 || (a == 192 && b == 168) || (a == 172 && b >= 16 && b <= 31);
    return 0;
}

int url_parse(const char *url, url_parts *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *sep = strstr(url, "://");
    size_t slen = sep ? (size_t)(sep - url) : 0;
    int https = slen == 5 && strncasecmp(url, "https", 5) == 0;
    if (!sep || !(https || (slen == 4 && strncasecmp(url, "http", 4) == 0))) {
        snprintf(err, errlen, "base_url must be an http:// or https:// URL");
        return -1;
    }
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *rest = auth + alen;
    const char *at = NULL;
    for (const char *p = auth; p < rest; p++)
        if (*p == '@')
            at = p;     /* the last '@': a password may hold one unescaped */
    const char *host = at ? at + 1 : auth;
    size_t hlen = (size_t)(rest - host), port_at = hlen;
    const char *close = host[0] == '[' ? memchr(host, ']', hlen) : NULL;
    const char *colon = memchr(close ? close : host, ':', (size_t)(rest - (close ? close : host)));
    if (colon)
        port_at = (size_t)(colon - host);
    if (port_at == 0) {
        snprintf(err, errlen, "base_url has no host");
        return -1;
    }
    if (at) {
        const char *uc = memchr(auth, ':', (size_t)(at - auth));
        out->user = xmemdup(auth, (size_t)((uc ? uc : at) - auth));
        out->password = uc ? xmemdup(uc + 1, (size_t)(at - uc - 1)) : NULL;
    }
    buf_t id = BUF_INIT;
    url_put_lower(&id, url, slen);
    url_put(&id, "://", 3);
    url_put_lower(&id, host, port_at);
    if (colon) {
        const char *port = colon + 1;
        size_t plen = (size_t)(rest - port);
        int dflt = plen == 0 || (https && plen == 3 && !memcmp(port, "443", 3)) ||
                   (!https && plen == 2 && !memcmp(port, "80", 2));
        if (!dflt) {
            url_put(&id, ":", 1);
            url_put(&id, port, plen);
        }
    }
    size_t rlen = strlen(rest);
    while (rlen && rest[rlen - 1] == '/')
        rlen--;
    url_put(&id, rest, rlen);
    out->identity = buf_steal(&id);
    out->local = !https || url_host_is_local(host, port_at);
    size_t plen = strcspn(rest, "?#");
    while (plen && rest[plen - 1] == '/')
        plen--;
    out->path_ends_v1 = plen >= 3 && !memcmp(rest + plen - 3, "/v1", 3);
    return 0;
}
