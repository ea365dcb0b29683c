/* Tests of `--help` across the command line: every command and subcommand answers it with
 * exit 0 and its usage, and the usage line names every option its option table lists. The
 * commands are read from `prism --help` and each dispatcher's "subcommands:" section, so a new
 * command is covered without editing this file. */
#include "harness.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_NAMES = 32, NAME = 64 };

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

/* The first words of the indented lines that follow `header` in text (a command list). */
static int list_names(const char *text, const char *header, char names[][NAME]) {
    const char *p = strstr(text, header);
    int n = 0;
    for (p = p ? p + strlen(header) : NULL;
         p && !strncmp(p, "  ", 2) && isalpha((unsigned char)p[2]);
         p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        size_t len = strcspn(p + 2, " \n");
        if (n < MAX_NAMES && len < NAME) snprintf(names[n++], NAME, "%.*s", (int)len, p + 2);
    }
    return n;
}

/* Check `prism ARGS --help` (whose usage starts "prism COMMAND"), then each subcommand it
 * lists. Returns how many commands it checked. */
static int check_help(const char *command, const char *args) {
    char out[1 << 14];
    int rc = test_prism(out, sizeof out, "%s --help", args);
    if (rc != 0) {
        test_fail(__FILE__, __LINE__, "`prism %s --help` exits %d:\n%s", args, rc, out);
        return 1;
    }
    char want[256];
    snprintf(want, sizeof want, "usage: prism %s", command);
    if (strncmp(out, want, strlen(want))) {
        test_fail(__FILE__, __LINE__, "`prism %s --help` does not start with '%s':\n%s", args, want,
                  out);
        return 1;
    }
    char usage[4096];
    snprintf(usage, sizeof usage, "%.*s", (int)strcspn(out, "\n"), out);
    const char *opts = strstr(out, "\noptions:\n");
    for (const char *p = opts; p && (p = strstr(p + 1, "\n  -"));) {
        char opt[NAME];
        snprintf(opt, sizeof opt, "%.*s", (int)strcspn(p + 3, " \n"), p + 3);
        if (!names_option(usage, opt))
            test_fail(__FILE__, __LINE__, "`prism %s --help`: the usage line omits %s:\n%s", args,
                      opt, usage);
    }
    char subs[MAX_NAMES][NAME];
    int nsubs = list_names(out, "\nsubcommands:\n", subs), checked = 1;
    for (int i = 0; i < nsubs; i++) {
        char sub[320];
        snprintf(sub, sizeof sub, "%.200s %.63s", command, subs[i]);
        checked += check_help(sub, sub);
    }
    return checked;
}

TEST(cli_help_works_for_every_command_and_its_usage_names_every_option) {
    static char out[1 << 16];
    REQUIRE(test_prism(out, sizeof out, "--help") == 0);
    char commands[MAX_NAMES][NAME];
    int ncommands = list_names(out, "\ncommands:\n", commands), checked = 0;
    CHECK(ncommands >= 10);
    for (int i = 0; i < ncommands; i++) checked += check_help(commands[i], commands[i]);
    /* forms the dispatch tables do not list */
    checked += check_help("doctor env", "doctor env");
    checked += check_help("train", "train --agent q-learning");
    /* env, agents, runs and bench have 17 subcommands between them */
    CHECK(checked >= ncommands + 17 + 2);
}

TEST(cli_help_command_is_the_commands_own_help) {
    static char via_help[1 << 14], via_flag[1 << 14];
    const char *const forms[] = {"train", "runs", "runs ls", "agents keys", "bench compare"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        CHECK(test_prism(via_help, sizeof via_help, "help %s", forms[i]) == 0);
        CHECK(test_prism(via_flag, sizeof via_flag, "%s --help", forms[i]) == 0);
        if (strcmp(via_help, via_flag))
            test_fail(__FILE__, __LINE__, "`prism help %s` differs from `prism %s --help`:\n%s",
                      forms[i], forms[i], via_help);
    }
    CHECK(test_prism(via_help, sizeof via_help, "help no-such-command") == 2);
    CHECK(strstr(via_help, "unknown command 'no-such-command'") != NULL);
}

/* What bash completes for the words of `line` (the last one the word being completed), with
 * the script `prism completion bash` printed into `script`. */
static void complete(const char *script, const char *line, char *out, size_t cap) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "bash -c 'source %s; COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
             "_prism 2>/dev/null; echo \" ${COMPREPLY[*]} \"' 2>&1",
             script, line);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, cap - 1, p) : 0;
    out[n] = 0;
    if (p) pclose(p);
}

/* Every name listed after `header` in `help` appears among the completions in `words`. */
static void check_completes_all(const char *help, const char *header, const char *prefix,
                                const char *words, const char *line) {
    const char *p = strstr(help, header);
    REQUIRE(p != NULL);
    int n = 0;
    for (p += strlen(header); !strncmp(p, "  ", 2); p = strchr(p, '\n') + 1, n++) {
        char want[NAME + 4];
        snprintf(want, sizeof want, " %s%.*s ", prefix, (int)strcspn(p + 2 + strlen(prefix), " \n"),
                 p + 2 + strlen(prefix));
        if (!strstr(words, want))
            test_fail(__FILE__, __LINE__, "completing `%s` misses '%s': %s", line, want, words);
        if (!strchr(p, '\n')) break;
    }
    CHECK(n > 2);
}

TEST(cli_completion_bash_completes_commands_options_and_values_from_the_tables) {
    static char help[1 << 14], words[1 << 14];
    char script[512];
    snprintf(script, sizeof script, "%s/prism.bash", test_tmpdir());
    REQUIRE(test_prism(help, sizeof help, "completion bash > %s", script) == 0);
    REQUIRE(test_prism(help, sizeof help, "--help") == 0);
    complete(script, "prism \"\"", words, sizeof words);
    check_completes_all(help, "\ncommands:\n", "", words, "prism");
    REQUIRE(test_prism(help, sizeof help, "runs --help") == 0);
    complete(script, "prism runs \"\"", words, sizeof words);
    check_completes_all(help, "\nsubcommands:\n", "", words, "prism runs");
    REQUIRE(test_prism(help, sizeof help, "train --help") == 0);
    complete(script, "prism train CartPole-v1 --", words, sizeof words);
    check_completes_all(help, "\noptions:\n", "--", words, "prism train CartPole-v1 --");
    complete(script, "prism train Acro", words, sizeof words);
    CHECK(!strcmp(words, " Acrobot-v1 \n"));
    complete(script, "prism train CartPole-v1 --agent rainbow-du", words, sizeof words);
    CHECK(!strcmp(words, " rainbow-dueling \n"));
    complete(script, "prism train CartPole-v1 --set agent.n_st", words, sizeof words);
    CHECK(!strcmp(words, " agent.n_step= \n"));
    complete(script, "prism help wa", words, sizeof words);
    CHECK(!strcmp(words, " watch \n"));
    /* run ids of the runs directory the line names, a sweep's directory included */
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/sw/runs/abc-1 %s/sw/runs/abd-2 %s/sw/runs/notarun && touch "
             "%s/sw/sweep.json %s/sw/runs/abc-1/run.json %s/sw/runs/abd-2/run.json",
             test_tmpdir(), test_tmpdir(), test_tmpdir(), test_tmpdir(), test_tmpdir(),
             test_tmpdir());
    REQUIRE(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "prism eval --runs-dir %s/sw a", test_tmpdir());
    complete(script, cmd, words, sizeof words);
    CHECK(!strcmp(words, " abc-1 abd-2 \n"));
    snprintf(cmd, sizeof cmd, "prism runs show --runs-dir %s/sw/runs abc", test_tmpdir());
    complete(script, cmd, words, sizeof words);
    CHECK(!strcmp(words, " abc-1 \n"));
    /* zsh loads the same functions through bashcompinit */
    REQUIRE(test_prism(help, sizeof help, "completion zsh") == 0);
    CHECK(strstr(help, "bashcompinit") && strstr(help, "complete -o default -F _prism prism"));
    CHECK(test_prism(help, sizeof help, "completion fish") == 2);
}
