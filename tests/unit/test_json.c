/* test_json: the strict reader (types, escapes, errors with offsets, depth,
 * raw bytes) and the writer (escaping, UTF-8 repair, number formats), and
 * that what the writer produces the reader reads back unchanged. */
#include "net/json.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Parses from an exact-size heap copy so a read past len shows up under ASan. */
static json_doc *parse_n(const char *text, size_t len, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    json_doc *d = json_parse(copy, len, err, errlen);
    free(copy);   /* the doc must not point into the input */
    return d;
}

static json_doc *parse(const char *text) { return parse_n(text, strlen(text), NULL, 0); }

/* The error message json_parse gives for text ("" if it parsed). */
static const char *parse_err(const char *text)
{
    static char err[128];
    json_doc *d = parse_n(text, strlen(text), err, sizeof err);
    if (d) {
        json_free(d);
        return "";
    }
    return err;
}

static void test_types(void)
{
    json_doc *d = parse(" {\"a\": 1, \"b\": [true, false, null, \"x\"], \"c\": {}, \"d\": [], \"e\": -2.5e1 } ");
    CHECK(d != NULL);
    const json_value *r = json_root(d);
    CHECK(r->type == JSON_OBJECT && r->len == 5);
    CHECK(json_get(r, "a")->type == JSON_NUMBER && json_get(r, "a")->number == 1);
    const json_value *b = json_get(r, "b");
    CHECK(b->type == JSON_ARRAY && b->len == 4);
    CHECK(json_at(b, 0)->type == JSON_BOOL && json_at(b, 0)->boolean == 1);
    CHECK(json_at(b, 1)->type == JSON_BOOL && json_at(b, 1)->boolean == 0);
    CHECK(json_at(b, 2)->type == JSON_NULL);
    size_t n = 99;
    CHECK_STR(json_str(json_at(b, 3), &n), "x");
    CHECK(n == 1);
    CHECK(json_at(b, 4) == NULL);
    CHECK(json_at(r, 0) == NULL);                      /* not an array */
    CHECK(json_get(b, "a") == NULL);                   /* not an object */
    CHECK(json_get(r, "zz") == NULL);
    CHECK(json_get(NULL, "a") == NULL && json_at(NULL, 0) == NULL && json_str(NULL, NULL) == NULL);
    CHECK(json_str(json_get(r, "a"), NULL) == NULL);   /* a number is not a string */
    CHECK(json_get(r, "c")->type == JSON_OBJECT && json_get(r, "c")->len == 0 && json_get(r, "c")->child == NULL);
    CHECK(json_get(r, "d")->type == JSON_ARRAY && json_get(r, "d")->len == 0);
    CHECK(json_get(r, "e")->number == -25.0);
    CHECK_STR(json_get(r, "e")->key, "e");
    CHECK(json_get(r, "e")->key_len == 1);
    json_free(d);

    /* scalars at top level */
    d = parse("\"solo\"");
    CHECK(d && json_root(d)->type == JSON_STRING);
    json_free(d);
    d = parse("  42  ");
    CHECK(d && json_root(d)->number == 42);
    json_free(d);
    json_free(NULL);
    CHECK(json_root(NULL) == NULL);
}

static void test_duplicates_last_wins(void)
{
    json_doc *d = parse("{\"k\":1,\"other\":2,\"k\":3}");
    CHECK(d && json_get(json_root(d), "k")->number == 3);
    CHECK(json_root(d)->len == 3);
    json_free(d);
}

static void test_keys_with_nul(void)
{
    json_doc *d = parse("{\"a\\u0000b\":1,\"a\":2}");
    const json_value *r = json_root(d);
    CHECK(r->child->key_len == 3 && memcmp(r->child->key, "a\0b", 3) == 0);
    CHECK(json_get(r, "a")->number == 2);  /* "a" does not match "a\0b" */
    json_free(d);
}

static void test_escapes(void)
{
    json_doc *d = parse("[\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\", \"\\u0041\\u00e9\\u20ac\", \"\\ud83d\\ude00\","
                        " \"\\ud83dx\", \"\\ude00\", \"\\ud83d\\u0041\", \"a\\u0000b\", \"\\uD83D\\uDE00\"]");
    CHECK(d != NULL);
    const json_value *r = json_root(d);
    size_t n;
    const char *s = json_str(json_at(r, 0), &n);
    CHECK(n == 16 && memcmp(s, "q\"b\\s/b\bf\fn\nr\rt\t", 16) == 0);
    CHECK_STR(json_str(json_at(r, 1), NULL), "A\xc3\xa9\xe2\x82\xac");
    CHECK_STR(json_str(json_at(r, 2), NULL), "\xf0\x9f\x98\x80");          /* surrogate pair */
    CHECK_STR(json_str(json_at(r, 3), NULL), "\xef\xbf\xbdx");             /* lone high */
    CHECK_STR(json_str(json_at(r, 4), NULL), "\xef\xbf\xbd");              /* lone low */
    CHECK_STR(json_str(json_at(r, 5), NULL), "\xef\xbf\xbd" "A");          /* high then non-low */
    s = json_str(json_at(r, 6), &n);
    CHECK(n == 3 && memcmp(s, "a\0b", 4) == 0);                            /* NUL kept, still terminated */
    CHECK_STR(json_str(json_at(r, 7), NULL), "\xf0\x9f\x98\x80");          /* upper-case hex */
    json_free(d);
}

static void test_raw_bytes_accepted(void)
{
    /* invalid UTF-8 from a model must not make the reply unreadable */
    const char text[] = "{\"content\":\"ok \xff\xfe \xe2\x82 \xc3\xa9\"}";
    json_doc *d = parse(text);
    CHECK(d != NULL);
    size_t n;
    const char *s = json_str(json_get(json_root(d), "content"), &n);
    CHECK(s && n == 11 && memcmp(s, "ok \xff\xfe \xe2\x82 \xc3\xa9", 11) == 0);
    json_free(d);
}

static void test_long_strings(void)
{
    /* lengths around the 8-byte fast path, specials at every alignment */
    for (size_t len = 0; len < 40; len++) {
        for (size_t at = 0; at <= len; at++) {
            char text[128], want[64];
            size_t t = 0, w = 0;
            text[t++] = '"';
            for (size_t i = 0; i < len; i++) {
                if (i == at) { text[t++] = '\\'; text[t++] = 'n'; want[w++] = '\n'; }
                else { text[t++] = (char)('a' + i % 26); want[w++] = (char)('a' + i % 26); }
            }
            text[t++] = '"';
            json_doc *d = parse_n(text, t, NULL, 0);
            size_t n = 0;
            const char *s = d ? json_str(json_root(d), &n) : NULL;
            CHECK_MSG(s && n == w && memcmp(s, want, w) == 0, "len %zu at %zu", len, at);
            json_free(d);
        }
    }
}

static void test_numbers(void)
{
    struct { const char *text; double want; } cases[] = {
        {"0", 0}, {"-0", -0.0}, {"1", 1}, {"-1", -1}, {"123456789", 123456789},
        {"9007199254740992", 9007199254740992.0}, {"9007199254740993", 9007199254740992.0},
        {"0.1", 0.1}, {"0.5", 0.5}, {"10.05", 10.05}, {"0.000123", 0.000123}, {"1e3", 1000},
        {"1E+3", 1000}, {"1e-7", 1e-7}, {"2.5e-3", 2.5e-3}, {"1.7976931348623157e308", 1.7976931348623157e308},
        {"5e-324", 5e-324}, {"123456789012345678901234567890", 123456789012345678901234567890.0},
        {"3.141592653589793238462643383279", 3.141592653589793}, {"1e22", 1e22}, {"1e23", 1e23},
        {"0.30000000000000004", 0.30000000000000004}, {"-12.75e+2", -1275},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_doc *d = parse(cases[i].text);
        CHECK_MSG(d && json_root(d)->type == JSON_NUMBER && json_root(d)->number == cases[i].want,
                  "%s -> %.17g", cases[i].text, d ? json_root(d)->number : NAN);
        json_free(d);
    }
    json_doc *d = parse("-0");
    CHECK(d && signbit(json_root(d)->number));
    json_free(d);
    /* the fast path must agree with strtod on many random short decimals */
    srand(7);
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        char text[64];
        snprintf(text, sizeof text, "%d.%0*de%d", rand() % 100000, rand() % 8 + 1, rand() % 1000000,
                 rand() % 40 - 20);
        d = parse(text);
        if (!d || json_root(d)->number != strtod(text, NULL))
            bad++;
        json_free(d);
    }
    CHECK_MSG(bad == 0, "%d random decimals differ from strtod", bad);
}

static void test_errors_with_offsets(void)
{
    CHECK_STR(parse_err("[1,2,]"), "trailing comma at byte 5");
    CHECK_STR(parse_err("{\"a\":1,}"), "trailing comma at byte 7");
    CHECK_STR(parse_err("[01]"), "leading zero in number at byte 1");
    CHECK_STR(parse_err("-012"), "leading zero in number at byte 0");
    CHECK_STR(parse_err("\"a\tb\""), "control character in string at byte 2");
    CHECK_STR(parse_err("\"a\nb\""), "control character in string at byte 2");
    CHECK_STR(parse_err("\"a\x1f\""), "control character in string at byte 2");
    CHECK_STR(parse_err("\"abcdefghijklmnop\x01\""), "control character in string at byte 17");
    CHECK_STR(parse_err("\"a\x7f\x20\""), "");   /* DEL and space are allowed */
    CHECK_STR(parse_err("{} x"), "trailing characters after JSON value at byte 3");
    CHECK_STR(parse_err("1 2"), "trailing characters after JSON value at byte 2");
    CHECK_STR(parse_err("[1] ]"), "trailing characters after JSON value at byte 4");
    CHECK_STR(parse_err(""), "unexpected end of input at byte 0");
    CHECK_STR(parse_err("   "), "unexpected end of input at byte 3");
    CHECK_STR(parse_err("[1,2"), "unexpected end of input at byte 4");
    CHECK_STR(parse_err("{\"a\""), "unexpected end of input at byte 4");
    CHECK_STR(parse_err("\"abc"), "unterminated string at byte 4");
    CHECK_STR(parse_err("\"abc\\"), "unterminated string at byte 5");
    CHECK_STR(parse_err("\"\\x\""), "invalid escape at byte 1");
    CHECK_STR(parse_err("\"\\u12g4\""), "invalid \\u escape at byte 1");
    CHECK_STR(parse_err("\"\\u12\""), "invalid \\u escape at byte 1");
    CHECK_STR(parse_err("[tru]"), "invalid literal at byte 1");
    CHECK_STR(parse_err("nul"), "invalid literal at byte 0");
    CHECK_STR(parse_err("[1 2]"), "expected ',' or ']' at byte 3");
    CHECK_STR(parse_err("{\"a\" 1}"), "expected ':' at byte 5");
    CHECK_STR(parse_err("{\"a\":1 \"b\":2}"), "expected ',' or '}' at byte 7");
    CHECK_STR(parse_err("{a:1}"), "expected string key at byte 1");
    CHECK_STR(parse_err("[,1]"), "unexpected character ',' at byte 1");
    CHECK_STR(parse_err("[1,,2]"), "unexpected character ',' at byte 3");
    CHECK_STR(parse_err("'x'"), "unexpected character ''' at byte 0");
    CHECK_STR(parse_err("+1"), "unexpected character '+' at byte 0");
    CHECK_STR(parse_err(".5"), "unexpected character '.' at byte 0");
    CHECK_STR(parse_err("NaN"), "unexpected character 'N' at byte 0");
    CHECK_STR(parse_err("\xef\xbb\xbf{}"), "unexpected byte 0xef at byte 0");   /* no BOM */
    CHECK_STR(parse_err("-"), "invalid number at byte 1");
    CHECK_STR(parse_err("-a"), "invalid number at byte 1");
    CHECK_STR(parse_err("1."), "invalid number: digit expected after '.' at byte 2");
    CHECK_STR(parse_err("1.e5"), "invalid number: digit expected after '.' at byte 2");
    CHECK_STR(parse_err("1e"), "invalid number: digit expected in exponent at byte 2");
    CHECK_STR(parse_err("1e+"), "invalid number: digit expected in exponent at byte 3");
    CHECK_STR(parse_err("[1]\x0c"), "trailing characters after JSON value at byte 3");  /* \f is not JSON space */

    /* a NUL byte is data, not an end: text after it is still checked */
    json_doc *d = parse_n("[1]\0", 4, NULL, 0);
    CHECK(d == NULL);
    char err[128];
    d = parse_n("\"a\0b\"", 5, err, sizeof err);
    CHECK(d == NULL);
    CHECK_STR(err, "control character in string at byte 2");

    /* only len bytes are read */
    d = parse_n("123456", 3, NULL, 0);
    CHECK(d && json_root(d)->number == 123);
    json_free(d);

    /* a short error buffer is truncated, not overrun; NULL is allowed */
    char tiny[8];
    memset(tiny, 'Z', sizeof tiny);
    CHECK(parse_n("[1,]", 4, tiny, 6) == NULL);
    CHECK(strcmp(tiny, "trail") == 0 && tiny[6] == 'Z');
    CHECK(parse_n("[1,]", 4, NULL, 0) == NULL);
}

static void test_depth(void)
{
    char text[2 * 300 + 1];
    for (int depth = 255; depth <= 258; depth++) {
        memset(text, '[', (size_t)depth);
        memset(text + depth, ']', (size_t)depth);
        json_doc *d = parse_n(text, 2 * (size_t)depth, NULL, 0);
        CHECK_MSG((d != NULL) == (depth <= JSON_MAX_DEPTH), "depth %d", depth);
        json_free(d);
    }
    memset(text, 0, sizeof text);
    memset(text, '[', 257);
    CHECK_STR(parse_err(text), "nesting deeper than 256 at byte 256");
    /* objects count too */
    buf_t b = BUF_INIT;
    for (int i = 0; i < 257; i++) buf_puts(&b, "{\"a\":");
    buf_puts(&b, "1");
    for (int i = 0; i < 257; i++) buf_puts(&b, "}");
    CHECK(json_parse(b.data, b.len, NULL, 0) == NULL);
    buf_free(&b);
}

static void test_many_nodes(void)
{
    /* forces the node arena through several blocks */
    buf_t b = BUF_INIT;
    buf_putc(&b, '[');
    for (int i = 0; i < 200000; i++)
        buf_printf(&b, "%s%d", i ? "," : "", i);
    buf_putc(&b, ']');
    json_doc *d = json_parse(b.data, b.len, NULL, 0);
    CHECK(d && json_root(d)->len == 200000);
    double sum = 0;
    size_t count = 0;
    for (const json_value *c = d ? json_root(d)->child : NULL; c; c = c->next, count++)
        sum += c->number;
    CHECK(count == 200000 && sum == 199999.0 * 200000 / 2);
    CHECK(json_at(json_root(d), 199999)->number == 199999);
    json_free(d);
    buf_free(&b);
}

static const char *write_str(const char *s, size_t len)
{
    static buf_t b = BUF_INIT;
    buf_reset(&b);
    if (json_write_string(&b, s, len) < 0)
        return "(error)";
    return b.data;
}

static void test_write_string(void)
{
    CHECK_STR(write_str("", 0), "\"\"");
    CHECK_STR(write_str("plain text", 10), "\"plain text\"");
    CHECK_STR(write_str("q\"b\\", 4), "\"q\\\"b\\\\\"");
    CHECK_STR(write_str("\n\r\t\b\f", 5), "\"\\n\\r\\t\\b\\f\"");
    CHECK_STR(write_str("\x01\x1f\x7f", 3), "\"\\u0001\\u001f\x7f\"");
    CHECK_STR(write_str("a\0b", 3), "\"a\\u0000b\"");
    CHECK_STR(write_str("/", 1), "\"/\"");
    CHECK_STR(write_str("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    CHECK_STR(write_str("\xff\xfe", 2), "\"\\ufffd\\ufffd\"");
    CHECK_STR(write_str("a\xe2\x82", 3), "\"a\\ufffd\"");             /* truncated at end: one U+FFFD */
    CHECK_STR(write_str("\xe2\x82z", 3), "\"\\ufffdz\"");             /* truncated mid-string */
    CHECK_STR(write_str("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");        /* overlong '/' */
    CHECK_STR(write_str("\xe0\x80\xaf", 3), "\"\\ufffd\\ufffd\\ufffd\"");
    CHECK_STR(write_str("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\""); /* encoded surrogate */
    CHECK_STR(write_str("\xf4\x90\x80\x80", 4), "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    CHECK_STR(write_str("\xf4\x8f\xbf\xbf", 4), "\"\xf4\x8f\xbf\xbf\"");  /* U+10FFFF is fine */
    CHECK_STR(write_str("\x80", 1), "\"\\ufffd\"");                   /* stray continuation */
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    /* independent check with a decoder written differently from json.c's */
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], cp, k;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; }
        else return 0;
        if (i + k >= n) return 0;
        for (unsigned j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000)) return 0;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

static void test_write_round_trip(void)
{
    /* random byte strings: the output always parses; valid UTF-8 comes back
     * byte for byte; the output is itself valid UTF-8 */
    srand(11);
    int unparsable = 0, changed = 0, invalid_out = 0, valid_inputs = 0;
    buf_t b = BUF_INIT;
    for (int iter = 0; iter < 20000; iter++) {
        static const char *const pieces[] = {"a", "\"", "\\", "\n", "\x01", "\xc3\xa9", "\xe2\x82\xac",
                                             "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
        unsigned char s[160];
        size_t n = 0, want = (size_t)(rand() % 32);
        int mode = iter % 3;
        while (n < want) {
            if (mode == 0) s[n++] = (unsigned char)rand();                   /* anything */
            else if (mode == 1) s[n++] = (unsigned char)(rand() % 128);      /* ASCII incl. controls */
            else {                                                           /* valid multibyte */
                const char *p = pieces[rand() % 9];
                memcpy(s + n, p, strlen(p));
                n += strlen(p);
            }
        }
        buf_reset(&b);
        CHECK(json_write_string(&b, (char *)s, n) == 0);
        if (!valid_utf8((unsigned char *)b.data, b.len))
            invalid_out++;
        json_doc *d = json_parse(b.data, b.len, NULL, 0);
        if (!d) {
            unparsable++;
            continue;
        }
        size_t len;
        const char *back = json_str(json_root(d), &len);
        if (valid_utf8(s, n)) {
            valid_inputs++;
            if (!back || len != n || memcmp(back, s, n) != 0)
                changed++;
        }
        json_free(d);
    }
    buf_free(&b);
    CHECK_MSG(unparsable == 0, "%d outputs did not parse", unparsable);
    CHECK_MSG(changed == 0, "%d valid strings changed", changed);
    CHECK_MSG(invalid_out == 0, "%d outputs were not valid UTF-8", invalid_out);
    CHECK(valid_inputs > 10000);
}

static const char *write_num(double x)
{
    static buf_t b = BUF_INIT;
    buf_reset(&b);
    if (json_write_number(&b, x) < 0)
        return "(error)";
    return b.data;
}

static void test_write_number(void)
{
    CHECK_STR(write_num(0), "0");
    CHECK_STR(write_num(-0.0), "0");
    CHECK_STR(write_num(1), "1");
    CHECK_STR(write_num(-42), "-42");
    CHECK_STR(write_num(1e15), "1000000000000000");
    CHECK_STR(write_num(9007199254740992.0), "9007199254740992");
    CHECK_STR(write_num(-9007199254740992.0), "-9007199254740992");
    CHECK_STR(write_num(9007199254740994.0), "9007199254740994");  /* beyond 2^53: %g form */
    CHECK_STR(write_num(0.1), "0.1");
    CHECK_STR(write_num(0.5), "0.5");
    CHECK_STR(write_num(-2.25), "-2.25");
    CHECK_STR(write_num(0.1 + 0.2), "0.30000000000000004");
    CHECK_STR(write_num(1.0 / 3), "0.3333333333333333");
    CHECK_STR(write_num(1e300), "1e+300");
    CHECK_STR(write_num(1e-7), "1e-07");
    CHECK_STR(write_num(NAN), "null");
    CHECK_STR(write_num(INFINITY), "null");
    CHECK_STR(write_num(-INFINITY), "null");

    /* every finite double round-trips through writer and reader */
    srand(5);
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = 0;
        for (int k = 0; k < 4; k++)
            bits = bits << 16 | (uint64_t)(rand() & 0xFFFF);
        double x;
        memcpy(&x, &bits, 8);
        if (i % 4 == 0) x = (double)(rand() % 2000000) / 1000;   /* human-sized numbers too */
        if (isnan(x) || isinf(x))
            continue;
        const char *s = write_num(x);
        json_doc *d = json_parse(s, strlen(s), NULL, 0);
        if (!d || json_root(d)->type != JSON_NUMBER || json_root(d)->number != (x == 0 ? 0.0 : x))
            bad++;
        json_free(d);
    }
    CHECK_MSG(bad == 0, "%d doubles did not round-trip", bad);
}

int main(void)
{
    test_types();
    test_duplicates_last_wins();
    test_keys_with_nul();
    test_escapes();
    test_raw_bytes_accepted();
    test_long_strings();
    test_numbers();
    test_errors_with_offsets();
    test_depth();
    test_many_nodes();
    test_write_string();
    test_write_round_trip();
    test_write_number();
    return check_report();
}
