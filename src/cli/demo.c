/* demo.c - placeholder until the demo lands (replaced below). */
#include "cli/cli.h"
#include <stdio.h>
int lt_cli_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lethe demo: not built yet\n");
    return 1;
}
