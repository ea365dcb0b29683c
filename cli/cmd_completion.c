/* prism completion bash|zsh — a shell completion script made from the same option and
 * subcommand tables as the help. It runs every command with --help while a help sink collects the
 * tables instead of printing them (cli_set_help_sink), so a new option or subcommand completes
 * as soon as it is in its table. Values complete where prism knows them: environment ids, agent
 * presets, configuration keys for --set, run ids of the runs directory; other values fall back
 * to file names. */
#include "cli.h"
#include "prism/config.h"
#include "prism/env.h"
#include "prism/presets.h"

#include <stdio.h>
#include <string.h>

enum { MAX_NODES = 128, PATH_LEN = 96, WORDS_LEN = 4096, MAX_DEPTH = 4 };

/* One command path ("", "runs", "runs ls"): the words that may follow it, and which of its
 * options take a value of a known kind. */
typedef struct node {
    char path[PATH_LEN];
    char words[WORDS_LEN];  /* subcommands, options and positional values, space-separated */
    char subs[WORDS_LEN];   /* the subcommands alone, to walk */
    char valued[WORDS_LEN]; /* "--opt=kind ..." for every option that takes a value */
} node;

typedef struct walker {
    node nodes[MAX_NODES];
    int n;
    node *current;
} walker;

static void append(char *buf, const char *word) {
    size_t len = strlen(buf);
    snprintf(buf + len, WORDS_LEN - len, "%s%s", len ? " " : "", word);
}

/* What an option's value or a positional argument is, from its metavar or synopsis word. */
static const char *value_kind(const char *metavar, const char *path) {
    if (!strcmp(metavar, "PRESET")) return "preset";
    if (!strcmp(metavar, "ENV") || (!strcmp(metavar, "ID") && !strncmp(path, "env ", 4)))
        return "env";
    if (!strcmp(metavar, "KEY=VALUE") || !strcmp(metavar, "key=value")) return "key";
    if (!strcmp(metavar, "RUN") || (!strcmp(metavar, "ID") && !strncmp(path, "runs ", 5)))
        return "run";
    return "file";
}

static void add_env_ids(char *words) {
    for (int i = 0; i < prism_env_class_count(); i++) append(words, prism_env_class_at(i)->id);
}

static void add_presets(char *words) {
    for (int i = 0; prism_preset_name(i); i++) append(words, prism_preset_name(i));
    append(words, "q-iteration");
    append(words, "q-learning");
}

static void on_options(void *ctx, const char *command, const char *usage, const cli_opt *opts,
                       int n) {
    (void)command;
    node *nd = ((walker *)ctx)->current;
    for (int i = 0; i < n; i++) {
        char name[80];
        snprintf(name, sizeof name, "%s%s", opts[i].name[1] ? "--" : "-", opts[i].name);
        append(nd->words, name);
        if (!opts[i].metavar) continue;
        char valued[160];
        snprintf(valued, sizeof valued, "%s=%s", name, value_kind(opts[i].metavar, nd->path));
        append(nd->valued, valued);
    }
    /* the first positional argument of the synopsis: "prism PATH WORD ..." */
    size_t skip = strlen("prism ") + strlen(nd->path) + 1;
    if (strlen(usage) <= skip) return;
    skip += usage[skip] == '('; /* "(ENV | --resume RUN)" */
    char word[32];
    snprintf(word, sizeof word, "%.*s", (int)strcspn(usage + skip, " |[]"), usage + skip);
    const char *kind = value_kind(word, nd->path);
    /* the lists are printed once, as variables the words expand at completion time */
    if (!strcmp(kind, "env")) append(nd->words, "$_prism_envs");
    if (!strcmp(kind, "preset")) append(nd->words, "$_prism_presets");
    if (!strcmp(kind, "run")) append(nd->words, "$(_prism_runs)");
}

static void on_subcommands(void *ctx, const char *command, const cli_subcommand *subs, int n) {
    (void)command;
    node *nd = ((walker *)ctx)->current;
    for (int i = 0; i < n; i++) {
        append(nd->words, subs[i].name);
        append(nd->subs, subs[i].name);
    }
}

/* Collect the node for `path` (words[0..depth-1]) by running its command with --help, then the
 * nodes of its subcommands. */
static void walk(walker *w, int (*run)(int, char **), char **words, int depth) {
    if (w->n >= MAX_NODES || depth > MAX_DEPTH) return;
    node *nd = &w->nodes[w->n++];
    memset(nd, 0, sizeof *nd);
    for (int i = 0; i < depth; i++) append(nd->path, words[i]);
    char help[] = "--help";
    char *argv[MAX_DEPTH + 2];
    for (int i = 1; i < depth; i++) argv[i - 1] = words[i];
    argv[depth - 1] = help;
    argv[depth] = NULL;
    w->current = nd;
    run(depth, argv);
    char subs[WORDS_LEN];
    snprintf(subs, sizeof subs, "%s", nd->subs);
    for (char *save = NULL, *sub = strtok_r(subs, " ", &save); sub;
         sub = strtok_r(NULL, " ", &save)) {
        words[depth] = sub;
        walk(w, run, words, depth + 1);
    }
}

static void print_words_case(const walker *w, int ncommands, const cli_subcommand *commands) {
    printf("_prism_words() {\n    case \"$1\" in\n");
    printf("    \"\") echo \"help");
    for (int i = 0; i < ncommands; i++) printf(" %s", commands[i].name);
    printf("\" ;;\n    help) echo \"");
    for (int i = 0; i < ncommands; i++) printf("%s%s", i ? " " : "", commands[i].name);
    printf("\" ;;\n    completion) echo \"bash zsh\" ;;\n");
    for (int i = 0; i < w->n; i++)
        printf("    \"%s\") echo \"%s\" ;;\n", w->nodes[i].path, w->nodes[i].words);
    printf("    *) return 1 ;;\n    esac\n}\n\n");
}

static void print_value_case(const walker *w) {
    printf("_prism_value_kind() {\n    case \"$1\" in\n");
    for (int i = 0; i < w->n; i++) {
        char valued[WORDS_LEN];
        snprintf(valued, sizeof valued, "%s", w->nodes[i].valued);
        for (char *save = NULL, *v = strtok_r(valued, " ", &save); v;
             v = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(v, '=');
            *eq = 0;
            printf("    \"%s %s\") echo %s ;;\n", w->nodes[i].path, v, eq + 1);
        }
    }
    printf("    *) return 1 ;;\n    esac\n}\n\n");
}

static void print_values(void) {
    char words[WORDS_LEN] = "";
    add_env_ids(words);
    printf("_prism_envs=\"%s\"\n", words);
    words[0] = 0;
    add_presets(words);
    printf("_prism_presets=\"%s\"\n", words);
    words[0] = 0;
    for (int i = 0; prism_config_key_name(i); i++) {
        char key[96];
        snprintf(key, sizeof key, "%s=", prism_config_key_name(i));
        append(words, key);
    }
    printf("_prism_keys=\"%s\"\n\n", words);
}

static const char bash_driver[] =
    "# the run ids of the runs directory the line names (--runs-dir, a sweep's directory too)\n"
    "_prism_runs() {\n"
    "    local dir=runs i\n"
    "    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do\n"
    "        [[ ${COMP_WORDS[i]} == --runs-dir ]] && dir=${COMP_WORDS[i+1]}\n"
    "    done\n"
    "    [[ -f $dir/sweep.json ]] && dir=$dir/runs\n"
    "    for i in \"$dir\"/*/run.json; do [[ -f $i ]] && i=${i%/run.json} && echo \"${i##*/}\"; "
    "done\n"
    "}\n"
    "_prism() {\n"
    "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
    "    local path=\"\" i w kind\n"
    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "        w=\"${COMP_WORDS[i]}\"\n"
    "        [[ $w == -* ]] && break\n"
    "        _prism_words \"${path:+$path }$w\" >/dev/null || break\n"
    "        path=\"${path:+$path }$w\"\n"
    "    done\n"
    "    if [[ $prev == -* ]] && kind=$(_prism_value_kind \"$path $prev\"); then\n"
    "        case $kind in\n"
    "        env) COMPREPLY=($(compgen -W \"$_prism_envs\" -- \"$cur\")) ;;\n"
    "        preset) COMPREPLY=($(compgen -W \"$_prism_presets\" -- \"$cur\")) ;;\n"
    "        run) COMPREPLY=($(compgen -W \"$(_prism_runs)\" -- \"$cur\") $(compgen -d -- "
    "\"$cur\")) ;;\n"
    "        key) COMPREPLY=($(compgen -W \"$_prism_keys\" -- \"$cur\"))\n"
    "             compopt -o nospace 2>/dev/null ;;\n"
    "        *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
    "        esac\n"
    "        return 0\n"
    "    fi\n"
    "    COMPREPLY=($(compgen -W \"$(_prism_words \"$path\")\" -- \"$cur\"))\n"
    "}\n"
    "complete -o default -F _prism prism\n";

int cmd_completion(int argc, char **argv) {
    enum { NOPTS = 0 };
    char *pos[1];
    int npos;
    const char *usage = "prism completion bash|zsh";
    int rc = cli_parse("completion", usage, argc, argv, NULL, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    bool zsh = npos == 1 && !strcmp(pos[0], "zsh");
    if (npos != 1 || (!zsh && strcmp(pos[0], "bash"))) {
        fprintf(stderr,
                "prism completion: which shell, bash or zsh? usage: %s\n"
                "(e.g. `source <(prism completion bash)` in ~/.bashrc)\n",
                usage);
        return CLI_USAGE;
    }
    static walker w; /* ~1.5 MB: not on the stack */
    w.n = 0;
    cli_help_sink sink = {.options = on_options, .subcommands = on_subcommands, .ctx = &w};
    int ncommands;
    const cli_subcommand *commands = cli_commands(&ncommands);
    /* the tables print nothing while the sink takes them; completion itself is not walked */
    cli_set_help_sink(&sink);
    for (int i = 0; i < ncommands; i++) {
        if (!strcmp(commands[i].name, "completion")) continue;
        char name[PATH_LEN];
        snprintf(name, sizeof name, "%s", commands[i].name);
        char *words[MAX_DEPTH + 1] = {name};
        walk(&w, commands[i].run, words, 1);
    }
    cli_set_help_sink(NULL);
    printf("# prism %s completion, made by `prism completion %s` from prism's option tables.\n",
           PRISM_VERSION, zsh ? "zsh" : "bash");
    printf("# Load it with: source <(prism completion %s)\n", zsh ? "zsh" : "bash");
    if (zsh) printf("autoload -U +X bashcompinit && bashcompinit\n");
    printf("\n");
    print_values();
    print_words_case(&w, ncommands, commands);
    print_value_case(&w);
    fputs(bash_driver, stdout);
    return CLI_OK;
}
