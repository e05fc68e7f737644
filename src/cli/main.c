/*
 * main.c - the lethe command: dispatches `lethe <command>` to the command
 * files in this folder.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_corename(void);

/* Two settings can only be made before OpenBLAS and OpenMP load, so when
 * either is needed this program runs itself again with them in the
 * environment (one execv; it returns only on failure, then carry on):
 * - Debian's OpenBLAS picks its kernels from the CPU model; on CPUs it does
 *   not know (common on virtual machines) it falls back to "Prescott"
 *   kernels that run SGEMM several times slower: set OPENBLAS_CORETYPE on
 *   a CPU with AVX-512 or AVX2 (LETHE_BLAS_DETECT=1 keeps OpenBLAS's own
 *   choice).
 * - OpenMP threads that spin while they wait make a busy machine several
 *   times slower, and threads that sleep at once slow an idle one: run
 *   with a short spin (GOMP_SPINCOUNT=3000, then sleep) unless the user
 *   set OMP_WAIT_POLICY or GOMP_SPINCOUNT (measurements in
 *   docs/performance.md, "Busy machines"). */
static void cli_fix_env(char **argv)
{
    bool again = false;
    const char *core = openblas_get_corename();
    if (!getenv("OPENBLAS_CORETYPE") && !getenv("LETHE_BLAS_DETECT") &&
        core && !strcmp(core, "Prescott")) {
        __builtin_cpu_init();
        const char *want = __builtin_cpu_supports("avx512f") ? "SkylakeX"
                           : __builtin_cpu_supports("avx2") ? "Haswell"
                                                             : NULL;
        if (want) {
            setenv("OPENBLAS_CORETYPE", want, 1);
            again = true;
        }
    }
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) {
        setenv("GOMP_SPINCOUNT", "3000", 1);
        again = true;
    }
    if (again)
        execv("/proc/self/exe", argv);
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
    {"bench", "benchmarks: classify, worst-case (image unlearning tables), tofu (LLM unlearning), um2n (mesh movers)",
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
    {"plot", "overlay loss curves written by --loss-plot FILE.csv", cli_plot},
    {"report", "one static HTML page of a results folder; merge: per-seed reports into one", cli_report},
};

static void cli_usage(FILE *f)
{
    fprintf(f, "lethe %s - machine-unlearning engine\n\nusage: lethe <command> "
            "[options]\n\ncommands:\n", LETHE_VERSION);
    for (size_t i = 0; i < sizeof cli_commands / sizeof *cli_commands; i++)
        fprintf(f, "  %-8s %s\n", cli_commands[i].name, cli_commands[i].help);
    fprintf(f, "\nRun `lethe <command> --help` for a command's options.\n");
}

/* Under mpirun, each rank's share of time in the collectives that move
 * data (gradients, sweep rows), on stderr: bench/mpi_scaling.sh reads it. */
static void cli_dist_stats(double wall)
{
    if (lt_dist_size() < 2)
        return;
    lt_dist_stats s = lt_dist_get_stats();
    fprintf(stderr, "[rank %d] collectives: %.3f s of %.3f s (%.1f%%), %lld "
            "calls, %.3f MB sent\n", lt_dist_rank(), s.seconds, wall,
            wall > 0 ? 100 * s.seconds / wall : 0, (long long)s.calls,
            s.bytes / 1e6);
}

int main(int argc, char **argv)
{
    cli_fix_env(argv);
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
            double t0 = lt_clock_seconds();
            int rc = cli_commands[i].run(argc - 1, argv + 1);
            if (rc && lt_dist_size() > 1) /* other ranks may be waiting */
                lt_dist_abort(rc);
            cli_dist_stats(lt_clock_seconds() - t0);
            lt_dist_finalize();
            return rc;
        }
    lt_dist_finalize();
    fprintf(stderr, "lethe: unknown command '%s'\n", argv[1]);
    cli_usage(stderr);
    return 2;
}
