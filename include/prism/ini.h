/* prism/ini.h — the reader of the INI text prism writes (config.ini, by prism_config_write_ini):
 * `[section]` headers and `key = value` lines, nothing more. Keys and sections are not
 * interpreted here (the configuration's key table does that); the reader only splits the text.
 *
 * The rules are the writer's: a value is the rest of the line after '=', trimmed, up to a '#'
 * or ';' that starts a comment; a value the writer had to quote (free text holding '#', ';',
 * quotes, backslashes or outer blanks) is "..." with \" and \\ escapes, and may be followed
 * only by a comment. Blank lines are skipped; a line is any length (nothing is ever split). A
 * key before the first header has the section "".
 *
 *     prism_ini ini;
 *     if (prism_ini_read("runs/x/config.ini", &ini) != PRISM_OK) return ...;
 *     const char *lr = prism_ini_get(&ini, "agent", "lr");   // NULL when absent
 *     for (int i = 0; i < ini.n; i++) printf("%s.%s = %s\n", ini.entries[i].section, ...);
 *     prism_ini_free(&ini);
 */
#ifndef PRISM_INI_H
#define PRISM_INI_H

#include "prism/core.h"

#include <stddef.h>

/* Largest INI file the reader accepts (prism's config.ini is a few KiB). */
#define PRISM_INI_MAX_BYTES ((size_t)1 << 20)

typedef struct prism_ini_entry {
    const char *section; /* "" before the first [section] */
    const char *key;
    const char *value;
    int line; /* 1-based line number, for messages */
} prism_ini_entry;

typedef struct prism_ini {
    prism_ini_entry *entries; /* in file order; a key may repeat (the last one wins) */
    int n;
    char *text; /* owns every string above */
} prism_ini;

/* Read and split the file at `path`. PRISM_ERR_NOT_FOUND / PRISM_ERR_IO naming the file (the
 * bounded reader: regular files only, at most PRISM_INI_MAX_BYTES); PRISM_ERR_INVALID as
 * "path:line: ..." for a malformed section header or a line that is not `key = value`;
 * PRISM_ERR_NOMEM. On failure nothing needs freeing. */
prism_status prism_ini_read(const char *path, prism_ini *out);
/* The value of section/key (the last occurrence), or NULL. */
const char *prism_ini_get(const prism_ini *ini, const char *section, const char *key);
/* Free what read allocated. Safe on a zeroed struct. */
void prism_ini_free(prism_ini *ini);

#endif
