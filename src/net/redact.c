/* redact: one pass over the text; at each byte the longest secret that
 * starts there wins, so a key that contains another is removed whole. */
#include "net/redact.h"

#include <ctype.h>
#include <string.h>

#include "base/buf.h"
#include "base/oom.h"

/* A redacted copy is a few bytes next to the text it comes from: failing to
 * hold it is out of memory for good. */
static void redact_put(buf_t *b, const char *s, size_t n)
{
    if (buf_append(b, s, n) < 0)
        oom_abort(b->len + n);
}

/* the length of the longest secret at msg[i], or 0 */
static size_t redact_match(const char *msg, size_t len, size_t i, const char *const *secrets, size_t n)
{
    size_t best = 0;
    for (size_t s = 0; s < n; s++) {
        size_t sl = secrets[s] ? strlen(secrets[s]) : 0;
        if (sl >= 4 && sl > best && i + sl <= len && memcmp(msg + i, secrets[s], sl) == 0)
            best = sl;
    }
    return best;
}

char *redact_text(const char *msg, size_t len, const char *const *secrets, size_t n)
{
    buf_t out = BUF_INIT;
    for (size_t i = 0; i < len;) {
        size_t m = redact_match(msg, len, i, secrets, n);
        if (m) {
            redact_put(&out, "[redacted]", 10);
            i += m;
            continue;
        }
        /* key-shaped words: sk-..., and the word after Bearer */
        int bearer = i + 7 <= len && strncmp(msg + i, "Bearer ", 7) == 0;
        int sk = i + 3 <= len && strncmp(msg + i, "sk-", 3) == 0 &&
                 (i == 0 || !isalnum((unsigned char)msg[i - 1]));
        if (bearer || sk) {
            const char *shown = bearer ? "Bearer [redacted]" : "sk-[redacted]";
            redact_put(&out, shown, strlen(shown));
            i += bearer ? 7 : 3;
            while (i < len && !isspace((unsigned char)msg[i]) && msg[i] != '"' && msg[i] != ',')
                i++;
            continue;
        }
        redact_put(&out, msg + i++, 1);
    }
    if (!out.data)
        return xstrdup("");
    return buf_steal(&out);
}
