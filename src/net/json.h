/* json: a small, strict (RFC 8259) JSON reader and a string/number writer.
 *
 * Reading: json_parse builds a read-only tree in an arena owned by the
 * returned json_doc; every pointer reachable from json_root stays valid until
 * json_free. The input need not be NUL-terminated and is not referenced
 * after json_parse returns (strings are copied, unescaped, into the arena).
 *
 * Strictness: trailing commas, leading zeros, bare control characters in
 * strings, invalid escapes and anything but whitespace after the value are
 * errors; nesting deeper than JSON_MAX_DEPTH is an error. Raw bytes >= 0x80
 * inside strings are kept as they are, even when they are not valid UTF-8,
 * because model output sometimes is not and must not make a reply unreadable.
 * \u escapes become UTF-8; a lone surrogate becomes U+FFFD.
 *
 * Numbers are doubles: integers up to 2^53 are exact; the conversion does not
 * depend on the process locale.
 *
 * Writing: json_write_string/json_write_number append valid JSON to a buf_t.
 *
 * Why a reader of our own rather than a library such as cJSON: a reply's
 * text must come through byte for byte, and cJSON keeps strings as C
 * strings (a \u0000 in model output would cut the text short) and returns
 * the first of repeated keys where JSON.parse returns the last; here every
 * string has its length and the last key wins. One arena per document
 * also makes freeing a reply one call. */
#ifndef SLMMUX_JSON_H
#define SLMMUX_JSON_H
#include <stddef.h>
#include "base/buf.h"

#define JSON_MAX_DEPTH 256

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    int boolean;            /* JSON_BOOL: 0 or 1 */
    double number;          /* JSON_NUMBER */
    const char *str;        /* JSON_STRING: unescaped bytes, NUL-terminated, may contain NUL (use len) */
    size_t len;             /* JSON_STRING byte length; JSON_ARRAY/OBJECT element count */
    const char *key;        /* set when this value is an object member: unescaped key, NUL-terminated */
    size_t key_len;
    json_value *child;      /* first element/member (NULL when empty) */
    json_value *next;       /* next sibling (NULL for the last) */
};

typedef struct json_doc json_doc;

/* Parses text[0..len). Returns NULL on error (or out of memory) and, when
 * err/errlen allow, writes a message such as "expected ',' or ']' at byte 17"
 * (the offset is 0-based into text). */
json_doc *json_parse(const char *text, size_t len, char *err, size_t errlen);
const json_value *json_root(const json_doc *doc);
void json_free(json_doc *doc);                  /* NULL is fine */

/* The member named key (compared as a C string). When an object repeats a
 * key, the LAST occurrence wins, as in JavaScript's JSON.parse and Python's
 * json. NULL if obj is NULL, not an object, or has no such member. */
const json_value *json_get(const json_value *obj, const char *key);
/* Element i (0-based) of an array; NULL if arr is NULL, not an array or i is
 * out of range. It walks the list: to visit every element use child/next. */
const json_value *json_at(const json_value *arr, size_t i);
/* The string's bytes (NUL-terminated) and, if len is not NULL, their count;
 * NULL unless v is a string. */
const char *json_str(const json_value *v, size_t *len);

/* Appends s[0..len) as a quoted JSON string. '"' and '\\' are escaped;
 * \b \f \n \r \t use their short escapes, other control characters \u00XX;
 * each maximal invalid UTF-8 subsequence becomes \ufffd, so the output is
 * always valid JSON (and valid UTF-8). Returns 0, or -1 when out of memory. */
int json_write_string(buf_t *b, const char *s, size_t len);
/* Appends x as a JSON number: integral values with |x| <= 2^53 exactly, as
 * digits (no ".0", no exponent; -0 is written 0); others as the shortest of
 * %.15g/%.16g/%.17g that reads back to the same double. NaN and infinities,
 * which JSON cannot express, are written null. Returns 0 or -1. */
int json_write_number(buf_t *b, double x);

#endif
