/* TensorBoard event files, natively: TFRecord framing with masked CRC32C and the Event /
 * Summary / Summary.Value protobuf messages encoded by hand (only the fields prism writes:
 * wall_time, step, file_version, summary.value{tag, simple_value}). Also a reader that checks
 * every CRC and decodes the scalars, for tests and `prism runs`. Not a protobuf library: the
 * reader skips fields it does not know by wire type and decodes nothing else. */
#include "prism/archive.h"
#include "prism/tfevents.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Protobuf wire types. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static const char FILE_VERSION[] = "brain.Event:2";
enum { TAG_MAX = 1024 };

uint32_t prism_tfrecord_masked_crc(const void *data, size_t len) {
    uint32_t crc = prism_crc32c(0, data, len);
    /* TFRecord's mask (crc32c.h in TensorFlow): rotate right by 15 and add a constant, so that
     * a CRC computed over data that itself holds CRCs does not degenerate. */
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static size_t put_varint(unsigned char *o, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        o[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    o[n++] = (unsigned char)v;
    return n;
}

static size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) v >>= 7, n++;
    return n;
}

static void put_le32(unsigned char *o, uint32_t v) {
    for (int i = 0; i < 4; i++) o[i] = (unsigned char)(v >> (8 * i));
}
static void put_le64(unsigned char *o, uint64_t v) {
    for (int i = 0; i < 8; i++) o[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_le32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The header part of an Event: wall_time (field 1, fixed64) and step (field 2, varint; a
 * negative int64 is its two's complement, ten bytes, as protobuf specifies). */
static size_t put_event_head(unsigned char *o, double wall_time, long long step) {
    size_t n = 0;
    uint64_t bits;
    memcpy(&bits, &wall_time, 8);
    o[n++] = (1 << 3) | WT_I64;
    put_le64(o + n, bits);
    n += 8;
    o[n++] = (2 << 3) | WT_VARINT;
    n += put_varint(o + n, (uint64_t)step);
    return n;
}

/* Frame the event bytes at buf[12 .. 12+len) in place and write the record. */
static prism_status write_record(prism_tfevents *w, size_t len) {
    unsigned char *b = w->buf;
    put_le64(b, (uint64_t)len);
    put_le32(b + 8, prism_tfrecord_masked_crc(b, 8));
    put_le32(b + 12 + len, prism_tfrecord_masked_crc(b + 12, len));
    size_t total = 12 + len + 4;
    if (fwrite(b, 1, total, w->f) != total)
        return prism_error(PRISM_ERR_IO, "cannot write '%s': %s", w->path, strerror(errno));
    w->records++;
    return PRISM_OK;
}

prism_status prism_tfevents_open_at(prism_tfevents *w, const char *dir, double wall_time,
                                    const char *host) {
    memset(w, 0, sizeof *w);
    char name[PRISM_PATH_MAX];
    /* TensorBoard orders the files of a directory by name; <unix seconds> keeps a resumed run's
     * new file after the old one. A clash within the same second gets a counter, zero-padded so
     * that name order stays opening order (".010" after ".009"; ".10" would sort before ".2"). */
    for (int k = 0; k < 1000; k++) {
        int n = k ? snprintf(name, sizeof name, "%s/events.out.tfevents.%lld.%s.%03d", dir,
                             (long long)wall_time, host, k)
                  : snprintf(name, sizeof name, "%s/events.out.tfevents.%lld.%s", dir,
                             (long long)wall_time, host);
        if (n < 0 || (size_t)n >= sizeof name)
            return prism_error(PRISM_ERR_INVALID, "event file path in '%s' is too long", dir);
        if (access(name, F_OK) != 0) break;
    }
    memcpy(w->path, name, sizeof w->path);
    /* The file_version record is written to a temporary file that is then linked into place, so
     * a run killed while opening never leaves an event file without it; link() also refuses to
     * replace another writer's file. The temporary name has no "tfevents" in it: TensorBoard
     * reads only files that do. */
    char tmp[PRISM_PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s/.prism-events-header.%ld", dir, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return prism_error(PRISM_ERR_INVALID, "event file path in '%s' is too long", dir);
    w->f = fopen(tmp, "wb");
    if (!w->f)
        return prism_error(PRISM_ERR_IO, "cannot create event file '%s': %s", tmp, strerror(errno));
    unsigned char *e = w->buf + 12;
    size_t len = put_event_head(e, wall_time, 0);
    e[len++] = (3 << 3) | WT_LEN;
    len += put_varint(e + len, sizeof FILE_VERSION - 1);
    memcpy(e + len, FILE_VERSION, sizeof FILE_VERSION - 1);
    len += sizeof FILE_VERSION - 1;
    prism_status st = write_record(w, len);
    if (fclose(w->f) != 0 && !st)
        st = prism_error(PRISM_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
    w->f = NULL;
    if (!st && link(tmp, name) != 0)
        st = prism_error(PRISM_ERR_IO, "cannot create event file '%s': %s", name, strerror(errno));
    unlink(tmp);
    if (st) return st;
    w->f = fopen(name, "ab");
    if (!w->f)
        return prism_error(PRISM_ERR_IO, "cannot open event file '%s': %s", name, strerror(errno));
    return PRISM_OK;
}

prism_status prism_tfevents_open(prism_tfevents *w, const char *dir) {
    char host[256];
    prism_host_name(host, sizeof host);
    /* a host name with '/' would make a path; replace it (never happens on Linux, but cheap) */
    for (char *p = host; *p; p++)
        if (*p == '/') *p = '_';
    return prism_tfevents_open_at(w, dir, prism_unix_time(), host);
}

/* Encoded size of one Summary.Value {tag, simple_value}. */
static size_t value_size(size_t taglen) {
    return 1 + varint_size(taglen) + taglen + 1 + 4;
}

prism_status prism_tfevents_scalars(prism_tfevents *w, long long step, double wall_time, int n,
                                    const char *const *tags, const float *values) {
    PRISM_ASSERT(w->f);
    for (int i = 0; i < n; i++) {
        size_t l = strlen(tags[i]);
        if (l == 0 || l > TAG_MAX)
            return prism_error(PRISM_ERR_INVALID,
                               "TensorBoard tag %d is empty or longer than %d bytes", i, TAG_MAX);
    }
    int i = 0;
    while (i < n) {
        /* How many values fit one event: head (<= 20 bytes) + summary key and length (<= 6)
         * + values, inside the buffer minus framing (16). */
        size_t room = PRISM_TFEVENTS_BUF - 16 - 20 - 6, summary_len = 0;
        int j = i;
        while (j < n) {
            size_t vs = value_size(strlen(tags[j]));
            size_t add = 1 + varint_size(vs) + vs;
            if (summary_len + add > room) break;
            summary_len += add;
            j++;
        }
        PRISM_ASSERT(j > i); /* a single value always fits (TAG_MAX << buffer) */
        unsigned char *e = w->buf + 12;
        size_t len = put_event_head(e, wall_time, step);
        e[len++] = (5 << 3) | WT_LEN;
        len += put_varint(e + len, summary_len);
        for (int k = i; k < j; k++) {
            size_t tl = strlen(tags[k]);
            e[len++] = (1 << 3) | WT_LEN; /* Summary.value */
            len += put_varint(e + len, value_size(tl));
            e[len++] = (1 << 3) | WT_LEN; /* Value.tag */
            len += put_varint(e + len, tl);
            memcpy(e + len, tags[k], tl);
            len += tl;
            e[len++] = (2 << 3) | WT_I32; /* Value.simple_value */
            uint32_t bits;
            memcpy(&bits, &values[k], 4);
            put_le32(e + len, bits);
            len += 4;
        }
        prism_status st = write_record(w, len);
        if (st) return st;
        i = j;
    }
    return PRISM_OK;
}

static int starts(const char *s, const char *prefix) {
    return !strncmp(s, prefix, strlen(prefix));
}

void prism_tfevents_default_tag(const char *column, char *out, size_t cap) {
    static const char *const aliases[][2] = {
        {"return_mean", "charts/episodic_return"},
        {"length_mean", "charts/episodic_length"},
        {"td_loss", "losses/td_loss"},
        {"epsilon", "charts/epsilon"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(column, aliases[i][0])) {
            snprintf(out, cap, "%s", aliases[i][1]);
            return;
        }
    static const char *const value_prefixes[] = {"q_",    "td_target",    "grad",
                                                 "param", "update_ratio", "priority",
                                                 "per_",  "is_weight",    "c51_"};
    const char *group = "charts";
    const char *name = column;
    if (starts(column, "sys_")) {
        name = column + 4;
        group = starts(name, "rss") || starts(name, "mem") ? "system" : "time";
    } else if (strstr(column, "loss"))
        group = "losses";
    else if (strstr(column, "entropy"))
        group = "values";
    else
        for (size_t i = 0; i < sizeof value_prefixes / sizeof value_prefixes[0]; i++)
            if (starts(column, value_prefixes[i])) group = "values";
    snprintf(out, cap, "%s/%s", group, name);
}

prism_status prism_tfevents_scalar(prism_tfevents *w, const char *tag, long long step,
                                   float value) {
    return prism_tfevents_scalars(w, step, prism_unix_time(), 1, &tag, &value);
}

prism_status prism_tfevents_session_start(prism_tfevents *w, long long step, double wall_time) {
    enum { SESSION_LOG_FIELD = 6, SESSION_LOG_START = 1 };
    unsigned char *e = w->buf + 12;
    size_t n = put_event_head(e, wall_time, step);
    e[n++] = (SESSION_LOG_FIELD << 3) | WT_LEN;
    e[n++] = 2; /* SessionLog { status (field 1, varint) = START } */
    e[n++] = (1 << 3) | WT_VARINT;
    e[n++] = SESSION_LOG_START;
    return write_record(w, n);
}

prism_status prism_tfevents_flush(prism_tfevents *w) {
    if (w->f && fflush(w->f) != 0)
        return prism_error(PRISM_ERR_IO, "cannot write '%s': %s", w->path, strerror(errno));
    return PRISM_OK;
}

void prism_tfevents_close(prism_tfevents *w) {
    if (w->f) fclose(w->f);
    w->f = NULL;
}

/* ---- reader ---- */

typedef struct cursor {
    const unsigned char *p, *end;
} cursor;

static int read_varint(cursor *c, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (c->p >= c->end) return 0;
        unsigned char b = *c->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

/* Skip one field of wire type wt; 0 on malformed input. */
static int skip_field(cursor *c, unsigned wt) {
    uint64_t v;
    switch (wt) {
    case WT_VARINT:
        return read_varint(c, &v);
    case WT_I64:
        if (c->end - c->p < 8) return 0;
        c->p += 8;
        return 1;
    case WT_I32:
        if (c->end - c->p < 4) return 0;
        c->p += 4;
        return 1;
    case WT_LEN:
        if (!read_varint(c, &v) || v > (uint64_t)(c->end - c->p)) return 0;
        c->p += v;
        return 1;
    }
    return 0;
}

/* Decode one Summary.Value; on success *tag holds the NUL-terminated tag. */
static int decode_value(cursor c, char *tag, size_t tagcap, float *value, int *has_value) {
    tag[0] = 0;
    *has_value = 0;
    while (c.p < c.end) {
        uint64_t key, len;
        if (!read_varint(&c, &key)) return 0;
        unsigned field = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
        if (field == 1 && wt == WT_LEN) {
            if (!read_varint(&c, &len) || len > (uint64_t)(c.end - c.p) || len >= tagcap) return 0;
            memcpy(tag, c.p, len);
            tag[len] = 0;
            c.p += len;
        } else if (field == 2 && wt == WT_I32) {
            if (c.end - c.p < 4) return 0;
            uint32_t bits = get_le32(c.p);
            memcpy(value, &bits, 4);
            c.p += 4;
            *has_value = 1;
        } else if (!skip_field(&c, wt))
            return 0;
    }
    return 1;
}

typedef struct read_state {
    const char *path;
    long long record;
    long long offset;
} read_state;

static prism_status corrupt(const read_state *s, const char *problem) {
    return prism_error(PRISM_ERR_CORRUPT, "%s: record %lld at byte %lld: %s", s->path, s->record,
                       s->offset, problem);
}

/* Decode one Event and report its scalars. *stop set when visit asked to stop. */
static prism_status decode_event(const read_state *s, const unsigned char *data, size_t len,
                                 prism_tfevents_visit visit, void *ctx, int *stop) {
    cursor c = {data, data + len};
    double wall_time = 0;
    long long step = 0;
    const unsigned char *summary = NULL;
    size_t summary_len = 0;
    int has_version = 0, session_start = 0;
    char version[64] = "";
    while (c.p < c.end) {
        uint64_t key, v;
        if (!read_varint(&c, &key)) return corrupt(s, "bad protobuf field key");
        unsigned field = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
        if (field == 1 && wt == WT_I64) {
            if (c.end - c.p < 8) return corrupt(s, "truncated wall_time");
            uint64_t bits = get_le64(c.p);
            memcpy(&wall_time, &bits, 8);
            c.p += 8;
        } else if (field == 2 && wt == WT_VARINT) {
            if (!read_varint(&c, &v)) return corrupt(s, "bad step varint");
            step = (long long)v;
        } else if (field == 3 && wt == WT_LEN) {
            if (!read_varint(&c, &v) || v > (uint64_t)(c.end - c.p))
                return corrupt(s, "bad file_version length");
            snprintf(version, sizeof version, "%.*s", (int)(v < 63 ? v : 63), (const char *)c.p);
            c.p += v;
            has_version = 1;
        } else if (field == 5 && wt == WT_LEN) {
            if (!read_varint(&c, &v) || v > (uint64_t)(c.end - c.p))
                return corrupt(s, "bad summary length");
            summary = c.p;
            summary_len = (size_t)v;
            c.p += v;
        } else if (field == 6 && wt == WT_LEN) {
            /* SessionLog: only its status (field 1) matters here */
            if (!read_varint(&c, &v) || v > (uint64_t)(c.end - c.p))
                return corrupt(s, "bad session_log length");
            cursor lc = {c.p, c.p + v};
            c.p += v;
            while (lc.p < lc.end) {
                uint64_t lkey, lv;
                if (!read_varint(&lc, &lkey)) return corrupt(s, "bad session_log field key");
                if (lkey == ((1 << 3) | WT_VARINT)) {
                    if (!read_varint(&lc, &lv)) return corrupt(s, "bad session_log status");
                    session_start = lv == 1;
                } else if (!skip_field(&lc, (unsigned)(lkey & 7))) {
                    return corrupt(s, "malformed session_log");
                }
            }
        } else if (!skip_field(&c, wt))
            return corrupt(s, "malformed protobuf field");
    }
    if (s->record == 0) {
        if (!has_version || strcmp(version, FILE_VERSION) != 0)
            return corrupt(s, "the first event is not file_version \"brain.Event:2\"");
        return PRISM_OK;
    }
    if (session_start && visit && visit(ctx, wall_time, step, PRISM_TFEVENTS_START_TAG, NAN)) {
        *stop = 1;
        return PRISM_OK;
    }
    if (!summary) return PRISM_OK; /* other event kinds: nothing prism decodes */
    cursor sc = {summary, summary + summary_len};
    while (sc.p < sc.end) {
        uint64_t key, v;
        if (!read_varint(&sc, &key)) return corrupt(s, "bad summary field key");
        if (key != ((1 << 3) | WT_LEN)) {
            if (!skip_field(&sc, (unsigned)(key & 7))) return corrupt(s, "malformed summary");
            continue;
        }
        if (!read_varint(&sc, &v) || v > (uint64_t)(sc.end - sc.p))
            return corrupt(s, "bad summary value length");
        cursor vc = {sc.p, sc.p + v};
        sc.p += v;
        char tag[TAG_MAX + 1];
        float value = 0;
        int has_value;
        if (!decode_value(vc, tag, sizeof tag, &value, &has_value))
            return corrupt(s, "malformed summary value");
        if (!has_value) continue; /* not a simple scalar (image, histogram, ...) */
        if (visit && visit(ctx, wall_time, step, tag, value)) {
            *stop = 1;
            return PRISM_OK;
        }
    }
    return PRISM_OK;
}

prism_status prism_tfevents_read(const char *path, prism_tfevents_visit visit, void *ctx,
                                 long long *nrecords) {
    if (nrecords) *nrecords = 0;
    char *text;
    size_t size;
    prism_status st = prism_file_read(path, &text, &size);
    if (st) return st;
    const unsigned char *b = (const unsigned char *)text;
    read_state s = {path, 0, 0};
    size_t pos = 0;
    int stop = 0;
    while (pos < size && !stop) {
        s.offset = (long long)pos;
        if (size - pos < 12) {
            st = corrupt(&s, "truncated record header");
            break;
        }
        uint64_t len = get_le64(b + pos);
        if (get_le32(b + pos + 8) != prism_tfrecord_masked_crc(b + pos, 8)) {
            st = corrupt(&s, "length CRC mismatch");
            break;
        }
        if (len > size - pos - 12 || size - pos - 12 - len < 4) {
            st = corrupt(&s, "truncated record data");
            break;
        }
        const unsigned char *data = b + pos + 12;
        if (get_le32(data + len) != prism_tfrecord_masked_crc(data, (size_t)len)) {
            st = corrupt(&s, "data CRC mismatch");
            break;
        }
        st = decode_event(&s, data, (size_t)len, visit, ctx, &stop);
        if (st) break;
        pos += 12 + (size_t)len + 4;
        s.record++;
    }
    if (!st && s.record == 0 && !stop) st = corrupt(&s, "empty event file (no file_version)");
    if (nrecords) *nrecords = s.record;
    prism_free(text);
    return st;
}
