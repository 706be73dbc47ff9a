/* buf: a growable byte buffer. Bytes may contain NUL; data is always
 * NUL-terminated after len so it can be handed to C string APIs when safe. */
#ifndef SLMMUX_BUF_H
#define SLMMUX_BUF_H
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len, cap;
} buf_t;

#define BUF_INIT {NULL, 0, 0}

/* All return 0 on success, -1 when out of memory (buffer left unchanged). */
int buf_reserve(buf_t *b, size_t extra);
int buf_append(buf_t *b, const void *p, size_t n);
int buf_puts(buf_t *b, const char *s);
int buf_putc(buf_t *b, char c);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(buf_t *b);           /* len = 0, keeps memory */
void buf_free(buf_t *b);            /* releases memory, back to BUF_INIT */
char *buf_steal(buf_t *b);          /* hands data to the caller (free()), resets b */

#endif
