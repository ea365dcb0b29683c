/* prism agents [ls | show PRESET [--env ENV] | keys]: the presets and the configuration keys. */
#include "cli.h"
#include "prism/config.h"
#include "prism/presets.h"

#include <stdio.h>
#include <string.h>

static int agents_show(int argc, char **argv) {
    cli_opt opts[] = {{.name = "env", .metavar = "ENV", .help = "environment (default CartPole-v0)"}};
    char *pos[1];
    int npos;
    const char *usage = "prism agents show PRESET [--env ENV]";
    int rc = cli_parse("agents show", usage, argc, argv, opts, 1, pos, 1, &npos);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (npos != 1) {
        fprintf(stderr, "prism agents show: which preset? usage: %s\n", usage);
        return CLI_USAGE;
    }
    prism_config c;
    prism_config_defaults(&c);
    prism_status st = prism_preset_apply(&c, pos[0], cli_value(&opts[0], "CartPole-v0"));
    if (st) return cli_fail("agents show", st, NULL);
    printf("# preset %s resolved for %s\n", pos[0], c.env);
    prism_config_write_ini(&c, stdout, false);
    return CLI_OK;
}

int cmd_agents(int argc, char **argv) {
    if (argc >= 1 && !strcmp(argv[0], "show")) return agents_show(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "keys")) {
        for (int i = 0; prism_config_key_name(i); i++)
            printf("%-26s %s\n", prism_config_key_name(i), prism_config_key_help(i));
        printf("%-26s %s\n", "env.<option>", "an environment option (see `prism env info`)");
        return CLI_OK;
    }
    if (argc >= 1 && strcmp(argv[0], "ls")) {
        fprintf(stderr, "prism agents: unknown subcommand '%s'\nusage: prism agents [ls | show "
                        "PRESET [--env ENV] | keys]\n",
                argv[0]);
        return CLI_USAGE;
    }
    for (int i = 0; prism_preset_name(i); i++)
        printf("%-24s %s\n", prism_preset_name(i), prism_preset_summary(i));
    printf("\nq-iteration, q-learning     tabular agents for small MDPs (e.g. homl-mdp)\n");
    printf("`prism agents show PRESET --env ENV` prints every resolved value.\n");
    return CLI_OK;
}
