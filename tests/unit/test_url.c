/* test_url: base URLs into identities (what a sample's key is made of),
 * userinfo and the local/provider kind; and redaction of several secrets. */
#include "check.h"
#include "net/redact.h"
#include "net/url.h"

#include <stdlib.h>

static void identity(const char *url, const char *want, int local)
{
    url_parts p;
    char err[160];
    CHECK_MSG(url_parse(url, &p, err, sizeof err) == 0, "%s: %s", url, err);
    CHECK_STR(p.identity, want);
    CHECK_MSG(p.local == local, "%s: local %d", url, p.local);
    url_parts_free(&p);
}

static void test_identities(void)
{
    /* already normal: byte for byte as before (existing stores) */
    identity("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1", 1);
    identity("https://api.together.xyz/v1", "https://api.together.xyz/v1", 0);
    identity("http://localhost:8000/v1/", "http://localhost:8000/v1", 1);
    /* spellings of one endpoint */
    identity("HTTPS://API.Together.XYZ:443/v1//", "https://api.together.xyz/v1", 0);
    identity("http://Box:80/v1", "http://box/v1", 1);
    identity("https://host:8443/V1/Chat", "https://host:8443/V1/Chat", 0);   /* path case kept */
    identity("https://host:/v1", "https://host/v1", 0);
    identity("http://[::1]:8080/v1", "http://[::1]:8080/v1", 1);
    identity("https://10.1.2.3/v1", "https://10.1.2.3/v1", 1);
    identity("https://172.20.0.5/v1", "https://172.20.0.5/v1", 1);
    identity("https://172.40.0.5/v1", "https://172.40.0.5/v1", 0);
    identity("https://gpu.local/v1", "https://gpu.local/v1", 1);
    identity("https://192.168.1.9.example.com/v1", "https://192.168.1.9.example.com/v1", 0);
}

static void test_userinfo(void)
{
    url_parts p;
    char err[160];
    CHECK(url_parse("https://alice:p@ss:w@Host.example/v1", &p, err, sizeof err) == 0);
    CHECK_STR(p.identity, "https://host.example/v1");
    CHECK_STR(p.user, "alice");
    CHECK_STR(p.password, "p@ss:w");      /* the last '@' ends the userinfo */
    CHECK(p.path_ends_v1 == 1);
    url_parts_free(&p);
    CHECK(url_parse("https://tok3n@host/api", &p, err, sizeof err) == 0);
    CHECK_STR(p.user, "tok3n");
    CHECK(p.password == NULL && p.path_ends_v1 == 0);
    url_parts_free(&p);
    CHECK(url_parse("ftp://host/v1", &p, err, sizeof err) == -1);
    CHECK(url_parse("http:///v1", &p, err, sizeof err) == -1);
    CHECK(url_parse("localhost:8000/v1", &p, err, sizeof err) == -1);
}

static void test_redact(void)
{
    const char *secrets[] = {"abcd", NULL, "abcdefgh", "xyz"};
    char *r = redact_text("k=abcdefgh, k2=abcd, short xyz, Bearer tok, sk-live1", 51, secrets, 4);
    CHECK_STR(r, "k=[redacted], k2=[redacted], short xyz, Bearer [redacted], sk-[redacted]");
    free(r);
    r = redact_text("", 0, secrets, 4);
    CHECK_STR(r, "");
    free(r);
}

int main(void)
{
    test_identities();
    test_userinfo();
    test_redact();
    return check_report();
}
