/* redact: secrets out of text that is shown (messages, traces). */
#ifndef SLMMUX_REDACT_H
#define SLMMUX_REDACT_H
#include <stddef.h>

/* msg[0..len) with each of the n secrets (those of at least 4 bytes; NULL
 * entries are skipped) replaced by "[redacted]", and key-shaped words too:
 * "sk-..." starting a word, the word after "Bearer ". NUL-terminated, never
 * NULL; the caller frees. */
char *redact_text(const char *msg, size_t len, const char *const *secrets, size_t n);

#endif
