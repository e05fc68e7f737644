/*
 * main.c - the lethe command: dispatches `lethe <command>` to the command
 * files in this folder.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const lt_cli_command lt_commands[] = {
    {"demo", "train an MLP on Fashion-MNIST with the engine (main job for now)",
     lt_cli_demo},
};

static void lt_usage(FILE *f)
{
    fprintf(f, "lethe %s - machine-unlearning engine\n\nusage: lethe <command> "
            "[options]\n\ncommands:\n", LETHE_VERSION);
    for (size_t i = 0; i < sizeof lt_commands / sizeof *lt_commands; i++)
        fprintf(f, "  %-8s %s\n", lt_commands[i].name, lt_commands[i].help);
    fprintf(f, "\nRun `lethe <command> --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        lt_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("lethe %s\n", LETHE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof lt_commands / sizeof *lt_commands; i++)
        if (!strcmp(argv[1], lt_commands[i].name))
            return lt_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "lethe: unknown command '%s'\n", argv[1]);
    lt_usage(stderr);
    return 2;
}
