/* prism agents [ls | show PRESET [--env ENV] | keys]: the presets and the configuration keys. */
#include "cli.h"
#include "prism/config.h"
#include "prism/presets.h"

#include <stdio.h>
#include <string.h>

static int agents_show(int argc, char **argv) {
    enum { O_ENV, NOPTS };
    cli_opt opts[NOPTS] = {
        [O_ENV] = {.name = "env", .metavar = "ENV", .help = "environment (default CartPole-v0)"},
    };
    char *pos[1];
    int npos;
    const char *usage = "prism agents show PRESET [--env ENV]";
    int rc = cli_parse("agents show", usage, argc, argv, opts, NOPTS, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism agents show: which preset? usage: %s\n", usage);
        return CLI_USAGE;
    }
    prism_config c;
    prism_config_defaults(&c);
    prism_status st = prism_preset_apply(&c, pos[0], cli_value(&opts[O_ENV], "CartPole-v0"));
    if (st) return cli_fail("agents show", st, NULL);
    printf("# preset %s resolved for %s\n", pos[0], c.env);
    prism_config_write_ini(&c, stdout, false);
    return CLI_OK;
}

static int agents_keys(int argc, char **argv) {
    int npos;
    int rc = cli_parse("agents keys", "prism agents keys", argc, argv, NULL, 0, NULL, 0, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    for (int i = 0; prism_config_key_name(i); i++)
        printf("%-26s %s\n", prism_config_key_name(i), prism_config_key_help(i));
    printf("%-26s %s\n", "env.<option>", "an environment option (see `prism env info`)");
    return CLI_OK;
}

static int agents_ls(int argc, char **argv) {
    int npos;
    int rc = cli_parse("agents ls", "prism agents ls", argc, argv, NULL, 0, NULL, 0, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    for (int i = 0; prism_preset_name(i); i++)
        printf("%-24s %s\n", prism_preset_name(i), prism_preset_summary(i));
    printf("\nq-iteration, q-learning     tabular agents for small MDPs (e.g. homl-mdp)\n");
    printf("`prism agents show PRESET --env ENV` prints every resolved value.\n");
    return CLI_OK;
}

static const cli_subcommand subcommands[] = {
    {"ls", agents_ls, "list the agent presets (the default)"},
    {"show", agents_show, "print one preset resolved for an environment"},
    {"keys", agents_keys, "list the configuration keys that --set takes"},
};

int cmd_agents(int argc, char **argv) {
    if (argc == 0) return agents_ls(0, argv);
    return cli_dispatch("agents", "prism agents [ls | show PRESET [--env ENV] | keys]", subcommands,
                        (int)(sizeof subcommands / sizeof subcommands[0]), argc, argv);
}
