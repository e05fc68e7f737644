/*
 * main.c - the lethe command: dispatches `lethe <command>` to the command
 * files in this folder.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_corename(void);

/* Debian's OpenBLAS picks its kernels when it loads, from the CPU model;
 * on CPUs it does not know (common on virtual machines) it falls back to
 * "Prescott" kernels that run SGEMM several times slower. The choice can
 * only be changed before the library loads, so when that happened on a CPU
 * with AVX-512 or AVX2, run this program again with OPENBLAS_CORETYPE set.
 * LETHE_BLAS_DETECT=1 keeps OpenBLAS's own choice. */
static void cli_fix_blas_core(char **argv)
{
    const char *core = openblas_get_corename();
    if (getenv("OPENBLAS_CORETYPE") || getenv("LETHE_BLAS_DETECT") || !core ||
        strcmp(core, "Prescott"))
        return;
    __builtin_cpu_init();
    const char *want = __builtin_cpu_supports("avx512f") ? "SkylakeX" :
                       __builtin_cpu_supports("avx2") ? "Haswell" : NULL;
    if (!want)
        return;
    setenv("OPENBLAS_CORETYPE", want, 1);
    execv("/proc/self/exe", argv); /* returns only on failure: carry on */
}

static const cli_command cli_commands[] = {
    {"train", "train an image classifier and save a safetensors checkpoint",
     cli_train},
    {"unlearn", "remove a forget set from a checkpoint (12 methods, any mask, any optimizer)",
     cli_unlearn},
    {"eval", "loss and accuracy of a checkpoint on each split", cli_eval},
    {"predict", "write a checkpoint's logits on a split as a .npy file",
     cli_predict},
    {"select", "pick a worst-case (or easiest) forget set by bi-level selection",
     cli_select},
    {"bench", "benchmarks: classify, worst-case (image unlearning tables), tofu (LLM unlearning)",
     cli_bench},
    {"lm", "language models: train, generate, score, unlearn, eval", cli_lm},
    {"tokenizer", "byte-level BPE tokenizers: train, encode", cli_tokenizer},
    {"data", "make data sets: tofu-synth, wordnet-qa, muse", cli_data},
    {"dm", "diffusion models: train, sample", cli_dm},
    {"mesh", "triangle meshes: gen (gmsh), solve (P1 Helmholtz), move (Monge-Ampere, UM2N), data (UM2N data sets), png, swirl",
     cli_mesh},
    {"um2n", "the UM2N mesh-movement network: train, eval", cli_um2n},
    {"hash", "the SHA-256 of a checkpoint's weights, its metadata left out",
     cli_hash},
    {"report", "one static HTML page of a benchmark's results folder", cli_report},
};

static void cli_usage(FILE *f)
{
    fprintf(f, "lethe %s - machine-unlearning engine\n\nusage: lethe <command> "
            "[options]\n\ncommands:\n", LETHE_VERSION);
    for (size_t i = 0; i < sizeof cli_commands / sizeof *cli_commands; i++)
        fprintf(f, "  %-8s %s\n", cli_commands[i].name, cli_commands[i].help);
    fprintf(f, "\nRun `lethe <command> --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
    cli_fix_blas_core(argv);
    /* result lines interleave with progress on stderr: keep them in order
     * when both go to a log file */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Ctrl-C or kill: remove the temporaries of writes in flight */
    if (lt_install_cleanup_handlers() != LT_OK)
        fprintf(stderr, "lethe: %s\n", lt_last_error());
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        cli_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("lethe %s\n", LETHE_VERSION);
        return 0;
    }
    /* under mpirun: join the ranks (docs/mpi.md); else a group of one */
    if (lt_dist_init(&argc, &argv) != LT_OK) {
        fprintf(stderr, "lethe: %s\n", lt_last_error());
        return 1;
    }
    cli_record_args(argc, argv); /* the command line result files keep */
    for (size_t i = 0; i < sizeof cli_commands / sizeof *cli_commands; i++)
        if (!strcmp(argv[1], cli_commands[i].name)) {
            int rc = cli_commands[i].run(argc - 1, argv + 1);
            if (rc && lt_dist_size() > 1) /* other ranks may be waiting */
                lt_dist_abort(rc);
            lt_dist_finalize();
            return rc;
        }
    lt_dist_finalize();
    fprintf(stderr, "lethe: unknown command '%s'\n", argv[1]);
    cli_usage(stderr);
    return 2;
}
