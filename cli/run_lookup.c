/* Finding runs from the command line: RUN as a directory or a run id (or unique prefix) in a
 * runs directory, and a sweep's directory accepted wherever a runs directory is, so the
 * commands that read runs work on a sweep's output as they are. When a run is not found, the
 * message names the sweep that holds it and the --runs-dir to pass. */
#include "cli.h"
#include "prism/file.h"
#include "prism/run_index.h"

#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool has_file(const char *dir, const char *name) {
    char path[PRISM_PATH_MAX];
    return !prism_path_join(path, sizeof path, dir, name) && access(path, F_OK) == 0;
}

const char *cli_runs_dir(const char *given) {
    static char runs[PRISM_PATH_MAX];
    if (has_file(given, "sweep.json") && !prism_path_join(runs, sizeof runs, given, "runs") &&
        is_dir(runs))
        return runs;
    return given;
}

void cli_hint_sweep_runs(const char *cmd, const char *run, const char *how) {
    char pattern[PRISM_PATH_MAX];
    snprintf(pattern, sizeof pattern, "sweeps/*/runs/%s%s", run ? run : "", run ? "*" : "");
    glob_t g;
    if (glob(pattern, GLOB_ONLYDIR, NULL, &g) != 0) return;
    /* the newest sweep sorts last (sweep directories end in their UTC start time) */
    char dir[PRISM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", g.gl_pathv[g.gl_pathc - 1]);
    globfree(&g);
    *strrchr(dir, '/') = 0; /* the runs directory: not the run, nor the pattern's last '/' */
    if (run)
        fprintf(stderr, "prism %s: the run is in the sweep's runs directory %s: pass %s%s\n", cmd,
                dir, how, dir);
    else
        fprintf(stderr, "prism %s: the newest sweep's runs are in %s: pass %s%s\n", cmd, dir, how,
                dir);
}

int cli_find_run(const char *cmd, const char *run, const char *runs_dir, char *dir, size_t cap) {
    if (is_dir(run) && has_file(run, "config.ini")) {
        snprintf(dir, cap, "%s", run);
        return CLI_OK;
    }
    if (strchr(run, '/') || !strcmp(run, ".") || !strcmp(run, "..")) {
        fprintf(stderr,
                "prism %s: error: %s is not a run directory (it has no config.ini); pass a run "
                "directory or a run id (`prism runs ls` lists them)\n",
                cmd, run);
        return CLI_USAGE;
    }
    prism_status st = PRISM_ERR_NOT_FOUND;
    prism_run_record r;
    memset(&r, 0, sizeof r);
    prism_run_index ix;
    /* read-only: resolving an id never writes (a missing or damaged index falls through to the
     * directory name) */
    if (prism_run_index_open_readonly(&ix, runs_dir) == PRISM_OK) {
        st = prism_run_index_find(&ix, run, &r);
        prism_run_index_close(&ix);
        if (st == PRISM_ERR_INVALID) return cli_fail(cmd, st, NULL); /* ambiguous prefix */
    }
    const char *id = st == PRISM_OK && r.id[0] ? r.id : run;
    if (prism_path_join(dir, cap, runs_dir, id) || !is_dir(dir)) {
        fprintf(stderr,
                "prism %s: error: no run '%s' in %s (pass a run directory, or --runs-dir; "
                "`prism runs ls` lists the runs)\n",
                cmd, run, runs_dir);
        cli_hint_sweep_runs(cmd, run, "--runs-dir ");
        return CLI_USAGE;
    }
    return CLI_OK;
}
