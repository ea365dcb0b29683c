/* tests/fixture.h — reading the reference traces: gzip'd JSON lines (see
 * tests/fixtures/reference/README.md), decompressed through `gzip -dc` and parsed by a minimal JSON
 * reader. Numbers are parsed with strtod, so Python's repr floats round-trip exactly.
 *
 *     fixture f;
 *     if (!fixture_open(&f, "cartpole-v1_seed0_2000.jsonl.gz")) return;   (test already failed)
 *     for (const json *rec; (rec = fixture_next(&f));)
 *         if (!strcmp(json_str(json_get(rec, "type")), "step")) ...
 *     fixture_close(&f);
 *
 * A record and everything under it stay valid until the next fixture_next call.
 */
#ifndef PRISM_TEST_FIXTURE_H
#define PRISM_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>

typedef enum json_kind {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_kind;

typedef struct json {
    json_kind kind;
    int n;              /* items in an array or object */
    double number;      /* JSON_NUMBER; JSON_BOOL as 0/1 */
    const char *string; /* JSON_STRING (unescaped) */
    struct json *items; /* JSON_ARRAY, JSON_OBJECT: n values */
    const char **keys;  /* JSON_OBJECT: n keys */
} json;

typedef struct fixture {
    FILE *pipe;
    char *line;
    size_t cap;
    long line_no;
    const char *name;
    void *arena; /* private */
} fixture;

bool fixture_open(fixture *f, const char *name);
/* Read JSON lines from the standard output of a shell command instead (e.g. a `prism ...
 * --json` run); fixture_close fails the test if the command exits non-zero. */
bool fixture_open_command(fixture *f, const char *command);
/* The next record, or NULL at the end (or on a parse error, which fails the test). */
const json *fixture_next(fixture *f);
void fixture_close(fixture *f);

/* Lookups return NULL when the key, index or kind does not match. */
const json *json_get(const json *obj, const char *key);
const json *json_at(const json *arr, int i);
/* Convenience readers: "" / NAN / false when missing. */
const char *json_str(const json *v);
double json_num(const json *v);
bool json_bool(const json *v);

#endif
