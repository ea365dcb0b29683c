/* The INI reader (include/prism/ini.h): splits config.ini's text into section / key / value
 * entries, in place in one buffer. Not the writer (src/run/config.c writes config.ini from the
 * key table) and not the configuration's key checks (prism_config_set). */
#include "prism/ini.h"
#include "prism/file.h"

#include <ctype.h>
#include <string.h>

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) *--end = 0;
    return s;
}

/* A quoted value: "..." with \" and \\ escapes, then only blanks or a comment. Unquotes in
 * place; NULL when the quote is not closed or text follows it. */
static char *unquote(char *s) {
    char *w = s;
    for (char *p = s + 1; *p; p++) {
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
            *w++ = *++p;
        else if (*p == '"') {
            *w = 0;
            p++;
            while (*p == ' ' || *p == '\t') p++;
            return *p == 0 || *p == '#' || *p == ';' ? s : NULL;
        } else
            *w++ = *p;
    }
    return NULL;
}

/* Split one line (NUL-terminated, in place). Adds an entry for `key = value`, updates *section
 * for a header. */
static prism_status parse_line(prism_ini *ini, char *line, int line_no, const char *path,
                               const char **section) {
    char *s = trim(line);
    if (!*s || *s == '#' || *s == ';') return PRISM_OK;
    if (*s == '[') {
        char *comment = strpbrk(s, "#;");
        if (comment) *comment = 0;
        s = trim(s);
        char *close = strchr(s, ']');
        if (!close || close[1])
            return prism_error(PRISM_ERR_INVALID,
                               "%s:%d: malformed section header '%s' (expected [name])", path,
                               line_no, s);
        *close = 0;
        *section = trim(s + 1);
        return PRISM_OK;
    }
    char *eq = strchr(s, '='), *comment = strpbrk(s, "#;");
    if (!eq || (comment && comment < eq)) {
        if (comment) *comment = 0;
        return prism_error(PRISM_ERR_INVALID, "%s:%d: expected 'key = value', got '%s'", path,
                           line_no, trim(s));
    }
    *eq = 0;
    char *key = trim(s), *value = trim(eq + 1);
    if (*value == '"') {
        if (!(value = unquote(value)))
            return prism_error(PRISM_ERR_INVALID,
                               "%s:%d: %s: unterminated quoted value or text after the closing "
                               "quote; close the quote (write \\\" for a quote inside)",
                               path, line_no, key);
    } else {
        if ((comment = strpbrk(value, "#;"))) *comment = 0;
        value = trim(value);
    }
    prism_ini_entry *e = &ini->entries[ini->n++];
    e->section = *section;
    e->key = key;
    e->value = value;
    e->line = line_no;
    return PRISM_OK;
}

prism_status prism_ini_read(const char *path, prism_ini *out) {
    memset(out, 0, sizeof *out);
    size_t len;
    prism_status st = prism_file_read_max(path, PRISM_INI_MAX_BYTES, &out->text, &len);
    if (st) return st;
    /* every entry is a line, so the line count bounds the table */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += out->text[i] == '\n';
    out->entries = prism_calloc(lines, sizeof *out->entries);
    if (!out->entries) {
        prism_ini_free(out);
        return prism_error(PRISM_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    const char *section = "";
    char *line = out->text;
    for (int line_no = 1; line; line_no++) {
        char *nl = memchr(line, '\n', len - (size_t)(line - out->text));
        if (nl) *nl = 0;
        if (memchr(line, 0, (size_t)((nl ? nl : out->text + len) - line))) {
            prism_ini_free(out);
            return prism_error(PRISM_ERR_INVALID,
                               "%s:%d: a NUL byte in the text; is this a config.ini?", path,
                               line_no);
        }
        st = parse_line(out, line, line_no, path, &section);
        if (st) {
            prism_ini_free(out);
            return st;
        }
        line = nl ? nl + 1 : NULL;
    }
    return PRISM_OK;
}

const char *prism_ini_get(const prism_ini *ini, const char *section, const char *key) {
    for (int i = ini->n - 1; i >= 0; i--)
        if (!strcmp(ini->entries[i].section, section) && !strcmp(ini->entries[i].key, key))
            return ini->entries[i].value;
    return NULL;
}

void prism_ini_free(prism_ini *ini) {
    prism_free(ini->entries);
    prism_free(ini->text);
    memset(ini, 0, sizeof *ini);
}
