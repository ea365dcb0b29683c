/* The JSON reader: a recursive-descent parser into a tree of nodes. Enough JSON for prism's own
 * files (run.json) and for reading them back robustly: strict syntax, \uXXXX escapes including
 * surrogate pairs, depth limited to PRISM_JSON_MAX_DEPTH. Not a streaming or zero-copy parser. */
#include "prism/file.h"
#include "prism/json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *s;
    size_t len, pos;
    const char *what;
    prism_status st;
} parser;

static prism_status fail(parser *p, const char *problem) {
    if (!p->st)
        p->st = prism_error(PRISM_ERR_CORRUPT, "%s: invalid JSON at byte %zu: %s", p->what, p->pos,
                            problem);
    return p->st;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static prism_json_value *new_value(parser *p, prism_json_type t) {
    prism_json_value *v = prism_calloc(1, sizeof *v);
    if (!v) {
        if (!p->st) p->st = prism_error(PRISM_ERR_NOMEM, "%s: out of memory parsing JSON", p->what);
        return NULL;
    }
    v->type = t;
    return v;
}

void prism_json_value_free(prism_json_value *v) {
    while (v) {
        prism_json_value *next = v->next;
        prism_json_value_free(v->child);
        prism_free(v->string);
        prism_free(v->key);
        prism_free(v);
        v = next;
    }
}

static int hex4(parser *p, unsigned *out) {
    if (p->pos + 4 > p->len) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos + (size_t)i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    p->pos += 4;
    *out = v;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parse a string starting at the opening quote into a fresh buffer (decoded text is never
 * longer than the source, so the raw span bounds the allocation). */
static char *parse_string(parser *p) {
    PRISM_ASSERT(p->s[p->pos] == '"');
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
    if (end >= p->len) {
        fail(p, "unterminated string");
        return NULL;
    }
    char *out = prism_alloc(end - start + 1);
    if (!out) {
        if (!p->st) p->st = prism_error(PRISM_ERR_NOMEM, "%s: out of memory parsing JSON", p->what);
        return NULL;
    }
    size_t n = 0;
    while (p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            fail(p, "control character in a string (must be escaped)");
            goto bad;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            p->pos++;
            continue;
        }
        p->pos++;
        char e = p->s[p->pos++];
        switch (e) {
        case '"':
        case '\\':
        case '/':
            out[n++] = e;
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u': {
            unsigned cp;
            if (!hex4(p, &cp)) {
                fail(p, "bad \\u escape");
                goto bad;
            }
            if (cp >= 0xd800 && cp < 0xdc00) {
                unsigned lo;
                if (p->pos + 2 <= p->len && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
                    p->pos += 2;
                    if (!hex4(p, &lo) || lo < 0xdc00 || lo >= 0xe000) {
                        fail(p, "bad surrogate pair");
                        goto bad;
                    }
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else {
                    fail(p, "lone high surrogate");
                    goto bad;
                }
            }
            /* "\u0000" cannot live in a C string: it ends the text there, which is the best a
             * NUL-terminated API can do. A 4-byte UTF-8 form is never longer than its escape. */
            n += put_utf8(out + n, cp);
            break;
        }
        default:
            fail(p, "unknown escape");
            goto bad;
        }
    }
    p->pos++; /* closing quote */
    out[n] = 0;
    return out;
bad:
    prism_free(out);
    return NULL;
}

/* The exact value of a number written as a plain integer (digits after an optional '-', the
 * grammar already checked) when it lies in [-2^63, 2^64); other numbers keep only the double. */
static void exact_integer(const char *text, prism_json_value *v) {
    bool negative = text[0] == '-';
    uint64_t m = 0;
    for (const char *d = text + negative; *d; d++) {
        if (*d < '0' || *d > '9') return;
        unsigned digit = (unsigned)(*d - '0');
        if (m > (UINT64_MAX - digit) / 10) return; /* above 2^64 - 1 */
        m = m * 10 + digit;
    }
    if (negative && m > (uint64_t)1 << 63) return; /* below -2^63 */
    v->integer = true;
    v->negative = negative && m != 0;
    v->magnitude = m;
}

static prism_json_value *parse_value(parser *p, int depth);

static prism_json_value *parse_container(parser *p, int depth, int is_obj) {
    if (depth >= PRISM_JSON_MAX_DEPTH) {
        fail(p, "nested too deeply");
        return NULL;
    }
    prism_json_value *v = new_value(p, is_obj ? PRISM_JSON_OBJECT : PRISM_JSON_ARRAY);
    if (!v) return NULL;
    p->pos++; /* '{' or '[' */
    prism_json_value **tail = &v->child;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == (is_obj ? '}' : ']')) {
        p->pos++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(p);
        if (is_obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                fail(p, "expected a member name in quotes");
                goto bad;
            }
            key = parse_string(p);
            if (!key) goto bad;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                prism_free(key);
                fail(p, "expected ':' after a member name");
                goto bad;
            }
            p->pos++;
        }
        prism_json_value *c = parse_value(p, depth + 1);
        if (!c) {
            prism_free(key);
            goto bad;
        }
        c->key = key;
        *tail = c;
        tail = &c->next;
        v->count++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == (is_obj ? '}' : ']')) {
            p->pos++;
            return v;
        }
        fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        goto bad;
    }
bad:
    prism_json_value_free(v);
    return NULL;
}

static int literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->pos + n <= p->len && !memcmp(p->s + p->pos, word, n)) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static prism_json_value *parse_value(parser *p, int depth) {
    skip_ws(p);
    if (p->pos >= p->len) {
        fail(p, "unexpected end of text");
        return NULL;
    }
    char c = p->s[p->pos];
    if (c == '{' || c == '[') return parse_container(p, depth, c == '{');
    if (c == '"') {
        prism_json_value *v = new_value(p, PRISM_JSON_STRING);
        if (!v) return NULL;
        v->string = parse_string(p);
        if (!v->string) {
            prism_json_value_free(v);
            return NULL;
        }
        return v;
    }
    if (literal(p, "null")) return new_value(p, PRISM_JSON_NULL);
    if (literal(p, "true") || literal(p, "false")) {
        prism_json_value *v = new_value(p, PRISM_JSON_BOOL);
        if (v) v->boolean = p->s[p->pos - 1] == 'e' && p->s[p->pos - 2] == 'u';
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        /* Check the JSON number grammar by hand, then let strtod convert (locale "C" assumed:
         * the CLI never calls setlocale). strtod needs a NUL-terminated copy. */
        size_t start = p->pos, i = p->pos;
        if (p->s[i] == '-') i++;
        if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') {
            fail(p, "bad number");
            return NULL;
        }
        if (p->s[i] == '0')
            i++;
        else
            while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
        if (i < p->len && p->s[i] == '.') {
            i++;
            if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') {
                p->pos = i;
                fail(p, "bad number: digits must follow '.'");
                return NULL;
            }
            while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
        }
        if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
            i++;
            if (i < p->len && (p->s[i] == '+' || p->s[i] == '-')) i++;
            if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') {
                p->pos = i;
                fail(p, "bad number exponent");
                return NULL;
            }
            while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
        }
        char tmp[64];
        if (i - start >= sizeof tmp) {
            fail(p, "number too long");
            return NULL;
        }
        memcpy(tmp, p->s + start, i - start);
        tmp[i - start] = 0;
        p->pos = i;
        prism_json_value *v = new_value(p, PRISM_JSON_NUMBER);
        if (v) {
            v->number = strtod(tmp, NULL);
            exact_integer(tmp, v);
        }
        return v;
    }
    fail(p, "unexpected character");
    return NULL;
}

prism_status prism_json_parse(const char *text, size_t len, const char *what,
                              prism_json_value **out) {
    parser p = {text, len, 0, what ? what : "JSON", PRISM_OK};
    *out = NULL;
    prism_json_value *v = parse_value(&p, 0);
    if (!v) return p.st;
    skip_ws(&p);
    if (p.pos != p.len) {
        prism_json_value_free(v);
        return fail(&p, "text after the end of the document");
    }
    *out = v;
    return PRISM_OK;
}

prism_status prism_json_parse_file(const char *path, prism_json_value **out) {
    char *text;
    size_t len;
    *out = NULL;
    prism_status st = prism_file_read(path, &text, &len);
    if (st) return st;
    st = prism_json_parse(text, len, path, out);
    prism_free(text);
    return st;
}

const prism_json_value *prism_json_get(const prism_json_value *v, const char *key) {
    if (!v || v->type != PRISM_JSON_OBJECT) return NULL;
    const prism_json_value *found = NULL;
    /* the last duplicate wins, as in most parsers */
    for (const prism_json_value *c = v->child; c; c = c->next)
        if (c->key && !strcmp(c->key, key)) found = c;
    return found;
}

const char *prism_json_get_string(const prism_json_value *v, const char *key,
                                  const char *fallback) {
    const prism_json_value *c = prism_json_get(v, key);
    return c && c->type == PRISM_JSON_STRING ? c->string : fallback;
}

double prism_json_get_number(const prism_json_value *v, const char *key, double fallback) {
    const prism_json_value *c = prism_json_get(v, key);
    return c && c->type == PRISM_JSON_NUMBER ? c->number : fallback;
}

/* A JSON number is a double; converting one outside the target type's range to an integer is
 * undefined behaviour in C, so the range is checked on the double first, against bounds that
 * are exact powers of two (2^63 and 2^64 are representable; their integer maxima are not). */
static prism_status integer_member(const prism_json_value *v, const char *key, const char *what,
                                   double lo, double hi_excl, double *out) {
    const prism_json_value *c = prism_json_get(v, key);
    if (!c || c->type == PRISM_JSON_NULL) return PRISM_ERR_NOT_FOUND;
    if (c->type != PRISM_JSON_NUMBER || !(c->number >= lo && c->number < hi_excl) ||
        c->number != floor(c->number)) {
        if (c->type == PRISM_JSON_NUMBER)
            return prism_error(PRISM_ERR_CORRUPT,
                               "%s: \"%s\" is %.17g, not an integer in [%.0f, %.0f); fix the "
                               "value or restore the file",
                               what, key, c->number, lo, hi_excl);
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: \"%s\" is not a number; fix the value or restore the file", what,
                           key);
    }
    *out = c->number;
    return PRISM_OK;
}

/* The exact integer member `key` when it was written as a plain integer: PRISM_OK when it is
 * in [-2^63, 2^63) (signed) or [0, 2^64) (unsigned) and stored in *neg / *mag; PRISM_ERR_INVALID
 * (no message) when it is not a plain integer, so the caller goes through the double. */
static prism_status exact_member(const prism_json_value *v, const char *key, bool is_signed,
                                 const char *what, bool *neg, uint64_t *mag) {
    const prism_json_value *c = prism_json_get(v, key);
    if (!c || c->type != PRISM_JSON_NUMBER || !c->integer) return PRISM_ERR_INVALID;
    bool fits = is_signed ? (c->negative ? c->magnitude <= (uint64_t)1 << 63
                                         : c->magnitude < (uint64_t)1 << 63)
                          : !c->negative;
    if (!fits)
        return prism_error(PRISM_ERR_CORRUPT,
                           "%s: \"%s\" is %s%llu, not an integer in [%s); fix the value or "
                           "restore the file",
                           what, key, c->negative ? "-" : "", (unsigned long long)c->magnitude,
                           is_signed ? "-9223372036854775808, 9223372036854775808"
                                     : "0, 18446744073709551616");
    *neg = c->negative;
    *mag = c->magnitude;
    return PRISM_OK;
}

/* The integer member `key` as a sign and magnitude: exactly from its digits when it was written
 * as a plain integer, else from the double, range-checked first. */
static prism_status get_integer(const prism_json_value *v, const char *key, const char *what,
                                bool is_signed, bool *neg, uint64_t *mag) {
    prism_status st = exact_member(v, key, is_signed, what, neg, mag);
    if (st != PRISM_ERR_INVALID) return st;
    double d;
    st = is_signed ? integer_member(v, key, what, -9223372036854775808.0, 9223372036854775808.0, &d)
                   : integer_member(v, key, what, 0.0, 18446744073709551616.0, &d);
    if (st) return st;
    *neg = d < 0;
    *mag = *neg ? (uint64_t)-d : (uint64_t)d; /* -d <= 2^63: in range */
    return PRISM_OK;
}

prism_status prism_json_get_int64(const prism_json_value *v, const char *key, const char *what,
                                  long long *out) {
    bool neg;
    uint64_t mag;
    prism_status st = get_integer(v, key, what, true, &neg, &mag);
    /* negate in unsigned arithmetic: -2^63 has no positive long long */
    if (!st) *out = neg ? (long long)(0 - mag) : (long long)mag;
    return st;
}

prism_status prism_json_get_uint64(const prism_json_value *v, const char *key, const char *what,
                                   uint64_t *out) {
    bool neg;
    uint64_t mag;
    prism_status st = get_integer(v, key, what, false, &neg, &mag);
    if (!st) *out = mag;
    return st;
}
