/* tests/xml_check.c — see xml_check.h. A stack of open tag names, a scan for '<'. */
#include "xml_check.h"

#include <stdio.h>
#include <string.h>

enum { MAX_DEPTH = 64, MAX_NAME = 32 };

static int is_void(const char *name, const char *void_tags) {
    if (!void_tags) return 0;
    size_t n = strlen(name);
    for (const char *p = void_tags; (p = strstr(p, name)) != NULL; p += n)
        if ((p == void_tags || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0)) return 1;
    return 0;
}

int xml_check(const char *text, const char *void_tags, char *err, size_t cap, const char *count_tag,
              int *count) {
    char stack[MAX_DEPTH][MAX_NAME];
    int depth = 0;
    if (count) *count = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '&') {
            static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#"};
            int ok = 0;
            for (int i = 0; i < 5 && !ok; i++) ok = !strncmp(p, ents[i], strlen(ents[i]));
            if (!ok) return snprintf(err, cap, "bare '&' at offset %ld", (long)(p - text)), -1;
            continue;
        }
        if (*p == '>') return snprintf(err, cap, "stray '>' at offset %ld", (long)(p - text)), -1;
        if (*p != '<') continue;
        if (!strncmp(p, "<!--", 4)) {
            const char *e = strstr(p, "-->");
            if (!e) return snprintf(err, cap, "unclosed comment"), -1;
            p = e + 2;
            continue;
        }
        if (p[1] == '!' || p[1] == '?') { /* doctype, xml declaration */
            const char *e = strchr(p, '>');
            if (!e) return snprintf(err, cap, "unclosed declaration"), -1;
            p = e;
            continue;
        }
        int closing = p[1] == '/';
        const char *q = p + 1 + closing;
        char name[MAX_NAME];
        size_t n = 0;
        while (*q && *q != ' ' && *q != '>' && *q != '/' && *q != '\n' && n + 1 < MAX_NAME)
            name[n++] = *q++;
        name[n] = 0;
        if (!n) return snprintf(err, cap, "empty tag name at offset %ld", (long)(p - text)), -1;
        /* scan the tag to its '>', honouring quoted attribute values */
        char quote = 0;
        for (; *q && (quote || *q != '>'); q++) {
            if (quote && *q == quote)
                quote = 0;
            else if (!quote && (*q == '"' || *q == '\''))
                quote = *q;
            else if (!quote && *q == '<')
                return snprintf(err, cap, "'<' inside tag <%s>", name), -1;
        }
        if (!*q) return snprintf(err, cap, "unterminated tag <%s>", name), -1;
        int self = q[-1] == '/';
        if (closing) {
            if (!depth || strcmp(stack[depth - 1], name))
                return snprintf(err, cap, "</%s> closes <%s>", name,
                                depth ? stack[depth - 1] : "nothing"),
                       -1;
            depth--;
        } else {
            if (count_tag && count && !strcmp(name, count_tag)) (*count)++;
            if (!self && !is_void(name, void_tags)) {
                if (depth == MAX_DEPTH) return snprintf(err, cap, "nesting too deep"), -1;
                strcpy(stack[depth++], name);
                /* raw text elements: skip to their end tag */
                if (!strcmp(name, "style") || !strcmp(name, "script")) {
                    char end[48];
                    snprintf(end, sizeof end, "</%s>", name);
                    const char *e = strstr(q, end);
                    if (!e) return snprintf(err, cap, "unclosed <%s>", name), -1;
                    q = e - 1;
                }
            }
        }
        p = q;
    }
    if (depth) return snprintf(err, cap, "<%s> never closed", stack[depth - 1]), -1;
    return 0;
}
