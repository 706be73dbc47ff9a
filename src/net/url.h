/* url: what llm needs from an endpoint's base URL — its identity (what a
 * sample's key is made of), its userinfo (a secret to redact) and whether
 * it names a server nearby. */
#ifndef SLMMUX_URL_H
#define SLMMUX_URL_H
#include <stddef.h>

typedef struct url_parts {
    /* scheme and host in lower case, no userinfo, no default port (80 for
     * http, 443 for https), no trailing '/'; path and query as given */
    char *identity;
    char *user, *password;      /* the userinfo as written, or NULL */
    int local;                  /* http://, or a loopback or private-network host */
    int path_ends_v1;           /* the path's last segment is "v1" */
} url_parts;

/* 0, or -1 with err filled when url is not http(s)://host... */
int url_parse(const char *url, url_parts *out, char *err, size_t errlen);
void url_parts_free(url_parts *p);

#endif
