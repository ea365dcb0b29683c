/* Tests for scripts/check_layers.sh, the include-direction check that `make test` runs: it
 * passes on this tree, and it fails on small trees that break the layer order. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* Write `text` to root/rel, creating its folders. */
static void put(const char *root, const char *rel, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = 0;
        mkdir(path, 0755); /* EEXIST is fine; a real failure shows at fopen */
        *slash = '/';
    }
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* Run the check on root; its exit status, and its output in out. */
static int check(const char *root, char *out, size_t cap) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "sh scripts/check_layers.sh '%s' 2>&1", root);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A clean miniature tree: core, nn on core, agent on nn, run on agent, cli on everything. */
static void clean_tree(const char *root) {
    put(root, "include/prism/core.h", "/* core */\n");
    put(root, "include/prism/nn.h", "#include \"prism/core.h\"\n");
    put(root, "include/prism/agent.h", "#include \"prism/nn.h\"\n");
    put(root, "include/prism/config.h", "#include \"prism/agent.h\"\n");
    put(root, "src/core/status.c", "#include \"prism/core.h\"\n");
    put(root, "src/nn/nn.c", "#include \"nn_internal.h\"\n#include \"prism_build_info.h\"\n");
    put(root, "src/nn/nn_internal.h", "#include \"prism/nn.h\"\n");
    put(root, "src/agent/dqn_agent.c", "#include \"prism/agent.h\"\n#include <math.h>\n");
    put(root, "src/run/config.c", "#include \"prism/config.h\"\n");
    put(root, "cli/prism.c", "#include \"prism/config.h\"\n#include \"prism/core.h\"\n");
}

/* Write rel with text into root, run the check, and expect exit status rc with `want` in the
 * output. */
static void expect(const char *root, const char *rel, const char *text, int rc, const char *want) {
    char out[8192];
    put(root, rel, text);
    int got = check(root, out, sizeof out);
    if (got != rc || !strstr(out, want))
        test_fail(__FILE__, __LINE__, "after writing %s: exit %d (want %d), output lacks '%s':\n%s",
                  rel, got, rc, want, out);
}

/* A fresh clean tree named `name` in the test's temporary folder, checked clean. */
static const char *fresh_tree(const char *name) {
    static char root[1024];
    char out[8192];
    snprintf(root, sizeof root, "%s/%s", test_tmpdir(), name);
    clean_tree(root);
    CHECK_EQ_INT(check(root, out, sizeof out), 0);
    return root;
}

TEST(layers_check_passes_on_this_tree) {
    char out[8192];
    int rc = check(".", out, sizeof out);
    if (rc != 0) test_fail(__FILE__, __LINE__, "check_layers.sh exited %d:\n%s", rc, out);
}

TEST(layers_check_fails_on_an_upward_include) {
    const char *root = fresh_tree("up");
    /* the agent's public header reaching up into the run layer */
    expect(root, "include/prism/agent.h", "#include \"prism/nn.h\"\n#include \"prism/config.h\"\n",
           1, "include/prism/agent.h:2: layer agent (rank 3) includes prism/config.h of layer run");
}

TEST(layers_check_fails_on_a_sibling_or_relative_include) {
    const char *root = fresh_tree("side");
    /* nn and env share a rank but know nothing of each other */
    put(root, "include/prism/env.h", "#include \"prism/core.h\"\n");
    expect(root, "src/env/env.c", "#include \"prism/env.h\"\n#include \"prism/nn.h\"\n", 1,
           "src/env/env.c:2: layer env");
    /* a relative include into another folder counts as that folder's layer */
    put(root, "src/env/env.c", "#include \"prism/env.h\"\n");
    expect(root, "src/core/status.c", "#include \"../nn/nn_internal.h\"\n", 1,
           "src/core/status.c:1: layer core");
}

TEST(layers_check_refuses_a_header_without_a_layer) {
    const char *root = fresh_tree("unmapped");
    put(root, "include/prism/mystery.h", "/* nobody placed me */\n");
    expect(root, "src/run/config.c", "#include \"prism/mystery.h\"\n", 2,
           "no layer for this public header");
}
