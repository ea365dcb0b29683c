/* src/run/sweep_slurm.c — the Slurm backend (prism/sweep.h, docs/sweeps.md): DIR/slurm/
 * array.sbatch, a job array whose task k runs line k+1 of manifest.tsv, and report.sbatch, the
 * report once the array has succeeded; and prism_sweep_capture, which the CLI submits them
 * with. It submits nothing itself.
 *
 * The scripts are shell code, so text enters them in two ways only: user text (the binary's
 * path, the sweep directory) single-quoted by sh_quote, and #SBATCH values restricted to
 * characters sbatch reads literally (sbatch_value). A task's `prism train` command line comes
 * from sweep_train_args, the builder the local backend uses too, given shell references that
 * the task fills from its manifest line when it runs. */
#define _POSIX_C_SOURCE 200809L
#include "sweep_internal.h"

#include "prism/file.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Single-quote `s` for sh into out[cap] ('\'' for each quote): bash then reads every other
 * byte literally, $(...), backticks, ';', globs and blanks included. The one way text enters
 * the scripts' shell code. PRISM_ERR_INVALID when it does not fit or holds a control
 * character (a newline would still be literal, but no path or option needs one). */
static prism_status sh_quote(char *out, size_t cap, const char *what, const char *s) {
    size_t n = 0;
    out[n++] = '\'';
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return prism_error(PRISM_ERR_INVALID,
                               "%s contains a newline or another control character; use a "
                               "plain one",
                               what);
        if (n + 6 >= cap)
            return prism_error(PRISM_ERR_INVALID, "%s is too long for the Slurm script", what);
        if (*p == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else
            out[n++] = *p;
    }
    out[n++] = '\'';
    out[n] = 0;
    return PRISM_OK;
}

/* A value for a #SBATCH line. sbatch, not the shell, reads those lines, with its own word and
 * quote rules and '%' patterns in file names, so instead of quoting, only characters it reads
 * literally are let through. */
static prism_status sbatch_value(const char *what, const char *v, const char *allowed) {
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(allowed, *p))
            return prism_error(PRISM_ERR_INVALID,
                               "%s '%s' has the character '%c' (0x%02x), which a #SBATCH line "
                               "cannot carry; use only letters, digits and %s",
                               what, v, isprint((unsigned char)*p) ? *p : '?',
                               (unsigned)(unsigned char)*p, allowed);
    if (!v[0]) return prism_error(PRISM_ERR_INVALID, "%s is empty", what);
    return PRISM_OK;
}

/* " WORD" for each of the words [from, to) of a command line built from this file's shell
 * references into out[cap]: a word the shell reads literally as it is, any other in double
 * quotes. No user text is among them (that enters through sh_quote), so the only expansions
 * are the $NAME references themselves. */
static void shell_words(char *out, size_t cap, const sweep_argv *a, int from, int to) {
    size_t n = 0;
    out[0] = 0;
    for (int i = from; i < to; i++) {
        const char *w = a->argv[i];
        bool plain = w[0] != 0;
        for (const char *p = w; *p; p++) {
            PRISM_ASSERT(isalnum((unsigned char)*p) || strchr("-_./=$", *p));
            PRISM_ASSERT(*p != '$' || isalpha((unsigned char)p[1]) || p[1] == '_');
            if (*p == '$') plain = false;
        }
        int k = snprintf(out + n, cap - n, plain ? " %s" : " \"%s\"", w);
        PRISM_ASSERT(k > 0 && (size_t)k < cap - n); /* a few references and option names */
        n += (size_t)k;
    }
}

/* The text of array.sbatch after the #SBATCH lines into body[cap]: read the task's manifest
 * line, skip a completed run, resume an interrupted one, else start it afresh (its settings
 * split into words, never globbed); run prism train in the background so that Slurm's TERM
 * reaches it. qexe and qdir are sh_quote'd. The two command lines are sweep_train_args's,
 * given the manifest's fields as the task reads them and $kv for each setting word in turn.
 * PRISM_ERR_INVALID when it does not fit; PRISM_ERR_NOMEM. */
static prism_status array_body(char *body, size_t cap, const char *qexe, const char *qdir) {
    sweep_train_values v = {.prog = "$PRISM",
                            .dir = "$SWEEP",
                            .id = "$id",
                            .env = "$env",
                            .preset = "$preset",
                            .seed = "$seed",
                            .agent = "$agent",
                            .settings = "$kv"};
    sweep_argv fresh, resume;
    prism_status st = sweep_train_args(&v, &fresh);
    v.resume = true;
    prism_status st2 = sweep_train_args(&v, &resume);
    if (!st) st = st2;
    if (!st) {
        PRISM_ASSERT(fresh.set_end - fresh.set_begin == 2 && resume.set_begin == resume.set_end);
        char w_resume[256], w_head[256], w_set[256], w_tail[256];
        shell_words(w_resume, sizeof w_resume, &resume, 0, resume.argc);
        shell_words(w_head, sizeof w_head, &fresh, 0, fresh.set_begin);
        shell_words(w_set, sizeof w_set, &fresh, fresh.set_begin, fresh.set_end);
        shell_words(w_tail, sizeof w_tail, &fresh, fresh.set_end, fresh.argc);
        int m = snprintf(
            body, cap,
            "set -u\n"
            "PRISM=%s\n"
            "SWEEP=%s\n"
            "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \"$SWEEP/manifest.tsv\")\n"
            "if [ -z \"$line\" ]; then echo \"no manifest line for task $SLURM_ARRAY_TASK_ID\" "
            ">&2; exit 2; fi\n"
            "IFS=$'\\t' read -r id agent preset env seed settings <<< \"$line\"\n"
            "# the id becomes a path: the same rule as prism's run ids (no '/', no leading '.')\n"
            "case \"$id\" in ''|.*|*/*) echo \"manifest line $((SLURM_ARRAY_TASK_ID + 1)): "
            "unusable run id '$id'; restore manifest.tsv\" >&2; exit 2;; esac\n"
            "run=\"$SWEEP/runs/$id\"\n"
            "if grep -q '\"status\": \"completed\"' \"$run/run.json\" 2>/dev/null; then\n"
            "    echo \"$id: already completed\"; exit 0\n"
            "fi\n"
            "if [ -f \"$run/checkpoints/latest\" ]; then\n"
            "    set --%s\n"
            "else\n"
            "    # a partial directory without a checkpoint cannot be continued: keep it aside\n"
            "    if [ -d \"$run\" ]; then mv \"$run\" \"$SWEEP/failed/$id.$(date +%%s)\"; fi\n"
            "    set --%s\n"
            "    # settings are space-separated words: split them, but never expand them as globs\n"
            "    set -f\n"
            "    for kv in $settings; do set -- \"$@\"%s; done\n"
            "    set +f\n"
            "    set -- \"$@\"%s\n"
            "fi\n"
            "echo \"$id: $*\"\n"
            "# run in the background so this shell can pass Slurm's TERM on (bash defers traps\n"
            "# while a foreground child runs)\n"
            "\"$@\" >> \"$SWEEP/logs/$id.log\" 2>&1 &\n"
            "child=$!\n"
            "trap 'kill -TERM $child 2>/dev/null' TERM INT\n"
            "wait $child\n"
            "rc=$?\n"
            "while kill -0 $child 2>/dev/null; do wait $child; rc=$?; done\n"
            "echo \"$id: exit $rc\"\n"
            "exit $rc\n",
            qexe, qdir, w_resume, w_head, w_set, w_tail);
        if (m < 0 || (size_t)m >= cap) st = prism_error(PRISM_ERR_INVALID, "path too long");
    }
    sweep_argv_free(&fresh);
    sweep_argv_free(&resume);
    return st;
}

prism_status prism_sweep_slurm_write(const prism_sweep *s, const char *dir,
                                     const prism_sweep_slurm_options *o, char *array, size_t cap) {
    PRISM_ASSERT(o->exe && o->max_parallel >= 1);
    /* the array: every run not completed, as ranges */
    array[0] = 0;
    int todo = 0;
    for (int i = 0; i < s->nruns;) {
        if (s->runs[i].state == PRISM_SWEEP_COMPLETED) {
            i++;
            continue;
        }
        int j = i;
        while (j + 1 < s->nruns && s->runs[j + 1].state != PRISM_SWEEP_COMPLETED) j++;
        char piece[48];
        if (j > i)
            snprintf(piece, sizeof piece, "%s%d-%d", array[0] ? "," : "", i, j);
        else
            snprintf(piece, sizeof piece, "%s%d", array[0] ? "," : "", i);
        size_t len = strlen(array);
        if (len + strlen(piece) + 1 > cap)
            return prism_error(PRISM_ERR_INVALID, "the job array specification is too long");
        memcpy(array + len, piece, strlen(piece) + 1);
        todo += j - i + 1;
        i = j + 1;
    }
    if (todo == 0)
        return prism_error(PRISM_ERR_INVALID, "every run of %s is completed; nothing to submit",
                           dir);
    /* everything is checked before anything is written */
    char qexe[PRISM_PATH_MAX * 4], qdir[PRISM_PATH_MAX * 4], qname[96];
    prism_status st;
    if ((st = sh_quote(qexe, sizeof qexe, "the prism binary's path", o->exe)) ||
        (st = sh_quote(qdir, sizeof qdir, "the sweep directory", dir)) ||
        (st = sbatch_value("the sweep directory (in #SBATCH --output)", dir, "/_.,+-=@:")) ||
        (o->partition && (st = sbatch_value("--partition", o->partition, "_.,-"))) ||
        (o->time && (st = sbatch_value("--time", o->time, ":-"))))
        return st;
    /* the name is made of letters, digits and -_.+ (prism_sweep_init) */
    snprintf(qname, sizeof qname, "prism-%s", s->name);
    char sdir[PRISM_PATH_MAX];
    if ((st = sweep_pathf(sdir, sizeof sdir, "%s/slurm", dir)) || (st = prism_mkdir_p(sdir)))
        return st;
    int grace = o->grace_s > 0 ? o->grace_s : 120;

    /* array.sbatch */
    char head[4096];
    int n = snprintf(head, sizeof head,
                     "#!/bin/bash\n"
                     "# prism sweep %s: one array task per run; task k runs line k+1 of\n"
                     "# manifest.tsv (id, agent, preset, env, seed, settings). Written by\n"
                     "# `prism sweep --slurm`; resubmit what is left with\n"
                     "# `prism sweep --resume DIR --slurm`.\n"
                     "#SBATCH --job-name=%s\n"
                     "#SBATCH --array=%s%%%d\n"
                     "#SBATCH --ntasks=1\n"
                     "#SBATCH --cpus-per-task=1\n"
                     "#SBATCH --output=%s/logs/slurm-%%A_%%a.out\n"
                     "# TERM to this script %d s before the time limit: prism train then stops at\n"
                     "# the end of its episode and writes a checkpoint.\n"
                     "#SBATCH --signal=B:TERM@%d\n",
                     s->name, qname, array, o->max_parallel, dir, grace, grace);
    if (n < 0 || (size_t)n >= sizeof head) return prism_error(PRISM_ERR_INVALID, "path too long");
    if (o->partition)
        n += snprintf(head + n, sizeof head - (size_t)n, "#SBATCH --partition=%s\n", o->partition);
    if (o->time && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "#SBATCH --time=%s\n", o->time);
    if (n < 0 || (size_t)n >= sizeof head) return prism_error(PRISM_ERR_INVALID, "path too long");
    char body[8192];
    if ((st = array_body(body, sizeof body, qexe, qdir))) return st;
    char path[PRISM_PATH_MAX], text[sizeof head + sizeof body];
    snprintf(text, sizeof text, "%s%s", head, body);
    if ((st = sweep_pathf(path, sizeof path, "%s/array.sbatch", sdir))) return st;
    if ((st = prism_file_write_atomic(path, text, strlen(text)))) return st;
    chmod(path, 0755);

    /* report.sbatch: the aggregation job (submitted with --dependency=afterok:<array>) */
    n = snprintf(text, sizeof text,
                 "#!/bin/bash\n"
                 "# prism sweep %s: the report, once every array task has succeeded.\n"
                 "#SBATCH --job-name=%s-report\n"
                 "#SBATCH --ntasks=1\n"
                 "#SBATCH --cpus-per-task=1\n"
                 "#SBATCH --output=%s/logs/slurm-report-%%j.out\n"
                 "%s%s%s"
                 "set -eu\n"
                 "PRISM=%s\n"
                 "SWEEP=%s\n"
                 "\"$PRISM\" report \"$SWEEP/runs\" -o \"$SWEEP/report.html\"\n"
                 "echo \"$SWEEP/report.html\"\n",
                 s->name, qname, dir, o->partition ? "#SBATCH --partition=" : "",
                 o->partition ? o->partition : "", o->partition ? "\n" : "", qexe, qdir);
    if (n < 0 || (size_t)n >= sizeof text) return prism_error(PRISM_ERR_INVALID, "path too long");
    if ((st = sweep_pathf(path, sizeof path, "%s/report.sbatch", sdir))) return st;
    if ((st = prism_file_write_atomic(path, text, strlen(text)))) return st;
    chmod(path, 0755);
    return PRISM_OK;
}

prism_status prism_sweep_capture(char *const *argv, char *out, size_t cap, int *exit_code) {
    PRISM_ASSERT(cap > 0);
    out[0] = 0;
    *exit_code = -1;
    int fds[2];
    if (pipe(fds) != 0)
        return prism_error(PRISM_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return prism_error(PRISM_ERR_IO, "cannot fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        char buf[512];
        ssize_t k = read(fds[0], buf, sizeof buf);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        size_t take = (size_t)k < cap - 1 - n ? (size_t)k : cap - 1 - n;
        memcpy(out + n, buf, take);
        n += take;
    }
    out[n] = 0;
    close(fds[0]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) return prism_error(PRISM_ERR_IO, "waitpid: %s", strerror(errno));
    if (WIFEXITED(ws)) *exit_code = WEXITSTATUS(ws);
    if (*exit_code == 127)
        return prism_error(PRISM_ERR_NOT_FOUND, "cannot run '%s' (is it installed and on PATH?)",
                           argv[0]);
    return PRISM_OK;
}
