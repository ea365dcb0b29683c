/* Option parsing shared by every subcommand. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_value(const cli_opt *o, const char *fallback) {
    return o->count ? o->values[o->count - 1] : fallback;
}

static int prefix_distance(const char *a, const char *b) {
    /* crude closeness: characters in common at the same positions, minus length difference */
    int la = (int)strlen(a), lb = (int)strlen(b), same = 0;
    for (int i = 0; i < la && i < lb; i++) same += a[i] == b[i];
    return (la > lb ? la : lb) - same;
}

/* Whether `opt` (e.g. "--seed", "-j") occurs in `line` as a whole option name: not as the
 * start of a longer one (--seed in --seed-start) nor inside another word. */
static bool names_option(const char *line, const char *opt) {
    size_t n = strlen(opt);
    for (const char *p = strstr(line, opt); p; p = strstr(p + 1, opt)) {
        bool starts = p == line || p[-1] == ' ' || p[-1] == '[' || p[-1] == '|' || p[-1] == '(';
        bool ends = !(isalnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '_');
        if (starts && ends) return true;
    }
    return false;
}

static void option_name(const cli_opt *o, char *out, size_t cap) {
    /* one-letter options (-j, -o) take one dash */
    snprintf(out, cap, "%s%s", o->name[1] ? "--" : "-", o->name);
}

/* The usage line: the command's synopsis, then every option of the table the synopsis does not
 * already name, so the line can never fall behind the table. */
static void print_usage(const char *usage, const cli_opt *opts, int nopts) {
    printf("usage: %s", usage);
    for (int i = 0; i < nopts; i++) {
        char name[64];
        option_name(&opts[i], name, sizeof name);
        if (names_option(usage, name)) continue;
        printf(" [%s%s%s]", name, opts[i].metavar ? " " : "",
               opts[i].metavar ? opts[i].metavar : "");
    }
    printf("\n");
    if (nopts) printf("\noptions:\n");
    for (int i = 0; i < nopts; i++) {
        char name[64], left[96];
        option_name(&opts[i], name, sizeof name);
        snprintf(left, sizeof left, "%s%s%s", name, opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        printf("  %-26s %s\n", left, opts[i].help);
    }
}

static const cli_help_sink *help_sink;

void cli_set_help_sink(const cli_help_sink *sink) {
    help_sink = sink;
}

int cli_parse(const char *command, const char *usage, int argc, char **argv, cli_opt *opts,
              int nopts, char **positional, int max_positional, int *npositional) {
    /* Tables are indexed by an enum through designated initializers; an index left out of the
     * table leaves a nameless slot, a bug that must not pass silently. */
    for (int k = 0; k < nopts; k++) PRISM_ASSERT(opts[k].name && opts[k].help);
    *npositional = 0;
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == 0) {
            if (*npositional >= max_positional) {
                fprintf(stderr, "prism %s: unexpected argument '%s'\nusage: %s\n", command, arg,
                        usage);
                return CLI_USAGE;
            }
            positional[(*npositional)++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_positional = true;
            continue;
        }
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            if (help_sink)
                help_sink->options(help_sink->ctx, command, usage, opts, nopts);
            else
                print_usage(usage, opts, nopts);
            return -1;
        }
        const char *name = arg + (arg[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        cli_opt *o = NULL;
        for (int k = 0; k < nopts; k++)
            if (strlen(opts[k].name) == len && !strncmp(opts[k].name, name, len)) o = &opts[k];
        if (!o) {
            const char *best = NULL;
            int best_d = 1 << 30;
            char given[64];
            snprintf(given, sizeof given, "%.*s", (int)(len < 63 ? len : 63), name);
            for (int k = 0; k < nopts; k++) {
                int d = prefix_distance(given, opts[k].name);
                if (d < best_d) best_d = d, best = opts[k].name;
            }
            fprintf(stderr, "prism %s: unknown option '%s'", command, arg);
            if (best && best_d <= 3) fprintf(stderr, "; did you mean --%s?", best);
            fprintf(stderr, "\n(`prism %s --help` lists the options)\n", command);
            return CLI_USAGE;
        }
        const char *value = NULL;
        if (o->metavar) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                fprintf(stderr, "prism %s: option --%s needs a value (%s)\n", command, o->name,
                        o->metavar);
                return CLI_USAGE;
            }
        } else if (eq) {
            fprintf(stderr, "prism %s: option --%s takes no value\n", command, o->name);
            return CLI_USAGE;
        }
        if (o->count >= CLI_MAX_VALUES) {
            fprintf(stderr, "prism %s: option --%s given too many times (at most %d)\n", command,
                    o->name, CLI_MAX_VALUES);
            return CLI_USAGE;
        }
        o->values[o->count++] = value;
    }
    return CLI_OK;
}

bool cli_int(const char *command, const cli_opt *o, long long lo, long long hi, long long fallback,
             long long *out) {
    if (!o->count) {
        *out = fallback;
        return true;
    }
    const char *s = cli_value(o, "");
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == 0 || *end != 0 || errno || v < lo || v > hi) {
        fprintf(stderr, "prism %s: --%s must be a whole number from %lld to %lld (got '%s')\n",
                command, o->name, lo, hi, s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_double(const char *command, const cli_opt *o, double lo, double hi, double fallback,
                double *out) {
    if (!o->count) {
        *out = fallback;
        return true;
    }
    const char *s = cli_value(o, "");
    char *end;
    double v = strtod(s, &end);
    if (*s == 0 || *end != 0 || !(v >= lo && v <= hi)) {
        fprintf(stderr, "prism %s: --%s must be a number from %g to %g (got '%s')\n", command,
                o->name, lo, hi, s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_u64(const char *command, const cli_opt *o, uint64_t fallback, uint64_t *out) {
    if (!o->count) {
        *out = fallback;
        return true;
    }
    const char *s = cli_value(o, "");
    if (!prism_parse_u64(s, out)) {
        fprintf(stderr, "prism %s: --%s must be a plain whole number from 0 to %llu (got '%s')\n",
                command, o->name, (unsigned long long)UINT64_MAX, s);
        return false;
    }
    return true;
}

int cli_exit_code(prism_status st) {
    switch (st) {
    case PRISM_OK:
        return CLI_OK;
    case PRISM_ERR_INVALID:
    case PRISM_ERR_NOT_FOUND:
    case PRISM_ERR_CORRUPT:
    case PRISM_ERR_UNSUPPORTED:
        return CLI_USAGE;
    default:
        return CLI_FAILURE;
    }
}

int cli_fail(const char *command, prism_status st, const char *hint) {
    fprintf(stderr, "prism %s: error: %s\n", command, prism_error_message());
    if (hint) fprintf(stderr, "%s\n", hint);
    return cli_exit_code(st);
}

int cli_dispatch(const char *command, const char *usage, const cli_subcommand *subs, int n,
                 int argc, char **argv) {
    if (argc >= 1)
        for (int i = 0; i < n; i++)
            if (!strcmp(argv[0], subs[i].name)) return subs[i].run(argc - 1, argv + 1);
    bool help = argc >= 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"));
    if (help && help_sink) {
        help_sink->subcommands(help_sink->ctx, command, subs, n);
        return CLI_OK;
    }
    FILE *f = help ? stdout : stderr;
    if (argc >= 1 && !help) fprintf(f, "prism %s: unknown subcommand '%s'\n", command, argv[0]);
    fprintf(f, "usage: %s\n\nsubcommands:\n", usage);
    for (int i = 0; i < n; i++) fprintf(f, "  %-10s %s\n", subs[i].name, subs[i].summary);
    return help ? CLI_OK : CLI_USAGE;
}
