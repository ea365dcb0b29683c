/* The JSON a subcommand prints: documents built with prism/json.h's writer (which escapes
 * strings and spells numbers), printed as one line on stdout. No subcommand writes JSON text
 * by hand. */
#include "cli.h"

#include <stdio.h>

int cli_json_print(const char *command, prism_json *j) {
    prism_status st = prism_json_finish(j);
    if (st == PRISM_OK) {
        fputs(prism_json_text(j), stdout);
        putchar('\n');
    }
    prism_json_free(j);
    if (st) return cli_fail(command, st, NULL);
    return CLI_OK;
}
