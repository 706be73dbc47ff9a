#include "net/json.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nodes live in a chain of blocks; the first is sized from the input length
 * and each next one doubles, so a document costs two or three mallocs. */
typedef struct json_block json_block;
struct json_block {
    json_block *next;
    size_t used, cap;
    json_value nodes[];
};

struct json_doc {
    json_value *root;
    json_block *blocks;
    char *strs;             /* unescaped strings; an escape never grows, so len+1 suffices */
};

typedef struct {
    const char *start, *s, *end;
    char *out;              /* next free byte of doc->strs */
    json_doc *doc;
    char *err;
    size_t errlen;
    int failed;
} json_parser;

/* strtod/printf follow LC_NUMERIC; a host that calls setlocale must not
 * start reading "1.5" as 1, so conversions use a private "C" locale. */
static double json_strtod(const char *s)
{
    static locale_t loc;
    if (!loc)
        loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    return loc ? strtod_l(s, NULL, loc) : strtod(s, NULL);
}

static int json_fail(json_parser *p, const char *what, const char *at)
{
    if (!p->failed && p->err && p->errlen)
        snprintf(p->err, p->errlen, "%s at byte %zu", what, (size_t)(at - p->start));
    p->failed = 1;
    return -1;
}

static json_value *json_node(json_parser *p)
{
    json_block *b = p->doc->blocks;
    if (b->used == b->cap) {
        size_t cap = b->cap * 2;
        json_block *nb = malloc(sizeof *nb + cap * sizeof(json_value));
        if (!nb) {
            json_fail(p, "out of memory", p->s);
            return NULL;
        }
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        p->doc->blocks = b = nb;
    }
    json_value *v = &b->nodes[b->used++];
    memset(v, 0, sizeof *v);
    return v;
}

static void json_skip_ws(json_parser *p)
{
    const char *s = p->s, *e = p->end;
    while (s < e && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
        s++;
    p->s = s;
}

static int json_hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static char *json_put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* Decodes the escape after a backslash at s (s[0] == '\\'); returns the
 * position after it, or NULL on a malformed escape. */
static const char *json_escape(json_parser *p, const char *s, char **op)
{
    const char *e = p->end;
    char *o = *op;
    if (e - s < 2) {
        json_fail(p, "unterminated string", e);
        return NULL;
    }
    switch (s[1]) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
        unsigned cp, lo;
        if (e - s < 6 || json_hex4(s + 2, &cp) < 0) {
            json_fail(p, "invalid \\u escape", s);
            return NULL;
        }
        s += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* only a following \uDC00-\uDFFF completes the pair; anything
             * else is left for the caller to read as itself */
            if (e - s >= 6 && s[0] == '\\' && s[1] == 'u' && json_hex4(s + 2, &lo) == 0 &&
                lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            } else {
                cp = 0xFFFD;
            }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        *op = json_put_utf8(o, cp);
        return s;
    }
    default:
        json_fail(p, "invalid escape", s);
        return NULL;
    }
    *op = o;
    return s + 2;
}

#define JSON_ONES  0x0101010101010101ULL
#define JSON_HIGHS 0x8080808080808080ULL

/* Non-zero when any byte of w is '"', '\\' or below 0x20 (may not say which). */
static inline uint64_t json_special(uint64_t w)
{
    uint64_t q = w ^ (JSON_ONES * '"'), bs = w ^ (JSON_ONES * '\\');
    return ((q - JSON_ONES) & ~q & JSON_HIGHS) | ((bs - JSON_ONES) & ~bs & JSON_HIGHS) |
           ((w - JSON_ONES * 0x20) & ~w & JSON_HIGHS);
}

/* p->s is just after the opening quote. Model replies are mostly long
 * strings, so plain runs are checked and copied eight bytes at a time. */
static int json_string(json_parser *p, const char **str, size_t *len)
{
    const char *s = p->s, *e = p->end;
    char *o = p->out, *o0 = o;
    for (;;) {
        while (e - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            if (json_special(w))
                break;
            memcpy(o, s, 8);
            o += 8;
            s += 8;
        }
        if (s >= e)
            return json_fail(p, "unterminated string", s);
        unsigned char c = (unsigned char)*s;
        if (c == '"') {
            *o = '\0';
            *str = o0;
            *len = (size_t)(o - o0);
            p->out = o + 1;
            p->s = s + 1;
            return 0;
        } else if (c == '\\') {
            if (!(s = json_escape(p, s, &o)))
                return -1;
        } else if (c < 0x20) {
            return json_fail(p, "control character in string", s);
        } else {
            *o++ = (char)c;
            s++;
        }
    }
}

static const double json_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Grammar checked here; value computed exactly when the significand has at
 * most 15 digits and the power of ten is at most 22 (both exact doubles, so
 * one multiply or divide rounds correctly), otherwise by strtod_l. */
static int json_number(json_parser *p, double *out)
{
    const char *s = p->s, *e = p->end, *n0 = s;
    int neg = 0, ndig = 0, exact = 1;
    uint64_t m = 0;
    long e10 = 0;

    if (s < e && *s == '-') {
        neg = 1;
        s++;
    }
    if (s >= e || *s < '0' || *s > '9')
        return json_fail(p, "invalid number", s);
    if (*s == '0') {
        s++;
        if (s < e && *s >= '0' && *s <= '9')
            return json_fail(p, "leading zero in number", n0);
    } else {
        for (; s < e && *s >= '0' && *s <= '9'; s++) {
            if (ndig < 15) { m = m * 10 + (uint64_t)(*s - '0'); ndig++; }
            else { exact = 0; }
        }
    }
    if (s < e && *s == '.') {
        s++;
        if (s >= e || *s < '0' || *s > '9')
            return json_fail(p, "invalid number: digit expected after '.'", s);
        for (; s < e && *s >= '0' && *s <= '9'; s++) {
            if (m == 0 && *s == '0') { e10--; continue; }   /* leading zeros of 0.00x */
            if (ndig < 15) { m = m * 10 + (uint64_t)(*s - '0'); ndig++; e10--; }
            else { exact = 0; }
        }
    }
    if (s < e && (*s == 'e' || *s == 'E')) {
        s++;
        int eneg = 0;
        long x = 0;
        if (s < e && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        if (s >= e || *s < '0' || *s > '9')
            return json_fail(p, "invalid number: digit expected in exponent", s);
        for (; s < e && *s >= '0' && *s <= '9'; s++)
            if (x < 100000)
                x = x * 10 + (*s - '0');
        e10 += eneg ? -x : x;
    }
    p->s = s;
    if (exact && m == 0) {
        *out = neg ? -0.0 : 0.0;
    } else if (exact && e10 >= -22 && e10 <= 22) {
        double d = (double)m;
        d = e10 < 0 ? d / json_pow10[-e10] : d * json_pow10[e10];
        *out = neg ? -d : d;
    } else {
        char tmp[64], *t = tmp;
        size_t n = (size_t)(s - n0);
        if (n >= sizeof tmp && !(t = malloc(n + 1)))
            return json_fail(p, "out of memory", n0);
        memcpy(t, n0, n);
        t[n] = '\0';
        *out = json_strtod(t);
        if (t != tmp)
            free(t);
    }
    return 0;
}

static int json_literal(json_parser *p, const char *word, size_t n)
{
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
        return json_fail(p, "invalid literal", p->s);
    p->s += n;
    return 0;
}

static int json_value_at(json_parser *p, json_value *v, int depth);

/* Appends child c to container v; *last is its last child so far. */
static void json_append(json_value *v, json_value **last, json_value *c)
{
    if (*last) (*last)->next = c;
    else v->child = c;
    *last = c;
    v->len++;
}

/* After a member of an array or object closed by `close`: 1 past a ','
 * (another member follows), 0 past the closing bracket, else -1 (error
 * set). */
static int json_after_member(json_parser *p, char close)
{
    json_skip_ws(p);
    if (p->s < p->end && *p->s == ',') {
        p->s++;
        json_skip_ws(p);
        if (p->s < p->end && *p->s == close)
            return json_fail(p, "trailing comma", p->s);
        return 1;
    }
    if (p->s < p->end && *p->s == close) {
        p->s++;
        return 0;
    }
    if (p->s >= p->end)
        return json_fail(p, "unexpected end of input", p->s);
    return json_fail(p, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'", p->s);
}

static int json_array(json_parser *p, json_value *v, int depth)
{
    json_value *last = NULL;
    p->s++;
    json_skip_ws(p);
    if (p->s < p->end && *p->s == ']') {
        p->s++;
        return 0;
    }
    int more;
    do {
        json_value *c = json_node(p);
        if (!c || json_value_at(p, c, depth + 1) < 0)
            return -1;
        json_append(v, &last, c);
    } while ((more = json_after_member(p, ']')) > 0);
    return more;
}

static int json_object(json_parser *p, json_value *v, int depth)
{
    json_value *last = NULL;
    p->s++;
    json_skip_ws(p);
    if (p->s < p->end && *p->s == '}') {
        p->s++;
        return 0;
    }
    int more;
    do {
        if (p->s >= p->end || *p->s != '"')
            return json_fail(p, p->s < p->end ? "expected string key" : "unexpected end of input", p->s);
        const char *key;
        size_t klen;
        p->s++;
        if (json_string(p, &key, &klen) < 0)
            return -1;
        json_skip_ws(p);
        if (p->s >= p->end || *p->s != ':')
            return json_fail(p, p->s < p->end ? "expected ':'" : "unexpected end of input", p->s);
        p->s++;
        json_value *c = json_node(p);
        if (!c || json_value_at(p, c, depth + 1) < 0)
            return -1;
        c->key = key;
        c->key_len = klen;
        json_append(v, &last, c);
    } while ((more = json_after_member(p, '}')) > 0);
    return more;
}

static int json_value_at(json_parser *p, json_value *v, int depth)
{
    json_skip_ws(p);
    if (p->s >= p->end)
        return json_fail(p, "unexpected end of input", p->s);
    switch (*p->s) {
    case '{':
    case '[':
        if (depth >= JSON_MAX_DEPTH)
            return json_fail(p, "nesting deeper than 256", p->s);
        if (*p->s == '{') {
            v->type = JSON_OBJECT;
            return json_object(p, v, depth);
        }
        v->type = JSON_ARRAY;
        return json_array(p, v, depth);
    case '"':
        v->type = JSON_STRING;
        p->s++;
        return json_string(p, &v->str, &v->len);
    case 't':
        v->type = JSON_BOOL;
        v->boolean = 1;
        return json_literal(p, "true", 4);
    case 'f':
        v->type = JSON_BOOL;
        return json_literal(p, "false", 5);
    case 'n':
        v->type = JSON_NULL;
        return json_literal(p, "null", 4);
    default:
        if (*p->s == '-' || (*p->s >= '0' && *p->s <= '9')) {
            v->type = JSON_NUMBER;
            return json_number(p, &v->number);
        }
        {
            char msg[48];
            unsigned char c = (unsigned char)*p->s;
            if (c > 0x20 && c < 0x7F)
                snprintf(msg, sizeof msg, "unexpected character '%c'", c);
            else
                snprintf(msg, sizeof msg, "unexpected byte 0x%02x", c);
            return json_fail(p, msg, p->s);
        }
    }
}

json_doc *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    json_doc *doc = malloc(sizeof *doc + len + 1);
    size_t cap = 16 + len / 64;
    json_block *b = malloc(sizeof *b + cap * sizeof(json_value));
    json_parser p = {text, text, text + len, NULL, doc, err, errlen, 0};
    if (!doc || !b) {
        free(doc);
        free(b);
        json_fail(&p, "out of memory", text);
        return NULL;
    }
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    doc->blocks = b;
    doc->strs = (char *)(doc + 1);
    p.out = doc->strs;
    doc->root = json_node(&p);
    if (json_value_at(&p, doc->root, 0) == 0) {
        json_skip_ws(&p);
        if (p.s == p.end)
            return doc;
        json_fail(&p, "trailing characters after JSON value", p.s);
    }
    json_free(doc);
    return NULL;
}

const json_value *json_root(const json_doc *doc) { return doc ? doc->root : NULL; }

void json_free(json_doc *doc)
{
    if (!doc)
        return;
    for (json_block *b = doc->blocks, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(doc);
}

const json_value *json_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT || !key)
        return NULL;
    size_t n = strlen(key);
    const json_value *found = NULL;
    for (const json_value *c = obj->child; c; c = c->next)
        if (c->key_len == n && memcmp(c->key, key, n) == 0)
            found = c;
    return found;
}

const json_value *json_at(const json_value *arr, size_t i)
{
    if (!arr || arr->type != JSON_ARRAY || i >= arr->len)
        return NULL;
    const json_value *c = arr->child;
    while (i-- && c)
        c = c->next;
    return c;
}

const char *json_str(const json_value *v, size_t *len)
{
    if (!v || v->type != JSON_STRING)
        return NULL;
    if (len)
        *len = v->len;
    return v->str;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid; on 0,
 * *bad is the length of the maximal invalid subpart to replace by one
 * U+FFFD (Unicode 15, section 3.9 "U+FFFD substitution of maximal subparts"). */
static size_t json_utf8_len(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;           /* overlong */
        else if (c == 0xED) hi = 0x9F;      /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;           /* overlong */
        else if (c == 0xF4) hi = 0x8F;      /* above U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i < need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need;
}

int json_write_string(buf_t *b, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str, *e = s + len;
    if (buf_reserve(b, len + 2) < 0)
        return -1;
    b->data[b->len++] = '"';
    while (s < e) {
        const unsigned char *r = s;
        while (r < e && *r >= 0x20 && *r < 0x80 && *r != '"' && *r != '\\')
            r++;
        if (r > s) {
            if (buf_append(b, s, (size_t)(r - s)) < 0)
                return -1;
            s = r;
            continue;
        }
        unsigned c = *s;
        char esc[8];
        size_t n = 2;
        esc[0] = '\\';
        if (c < 0x80) {
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
            }
            s++;
        } else {
            size_t bad = 0, ok = json_utf8_len(s, (size_t)(e - s), &bad);
            if (ok) {
                if (buf_append(b, s, ok) < 0)
                    return -1;
                s += ok;
                continue;
            }
            memcpy(esc + 1, "ufffd", 5);
            n = 6;
            s += bad;
        }
        if (buf_append(b, esc, n) < 0)
            return -1;
    }
    return buf_putc(b, '"');
}

int json_write_number(buf_t *b, double x)
{
    if (isnan(x) || isinf(x))
        return buf_puts(b, "null");
    if (x == floor(x) && fabs(x) <= 9007199254740992.0)
        return buf_printf(b, "%lld", (long long)x);
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        /* a host that set LC_NUMERIC may have printed a ',' */
        for (char *c = tmp; *c; c++)
            if (*c == ',')
                *c = '.';
        if (prec == 17 || json_strtod(tmp) == x)
            break;
    }
    return buf_puts(b, tmp);
}
