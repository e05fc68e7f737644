/*
 * hash.c - `lethe hash FILE...`: the identity of each checkpoint's weights
 * (lt_st_weights_sha256: names, shapes and float32 values, not the
 * metadata), one "HEX  FILE" line per file as sha256sum prints. Two runs
 * that learned the same weights hash the same even when their command
 * lines (--out paths) differ.
 */
#include "cli/cli.h"
#include "cli/common.h"

#include <stdio.h>
#include <string.h>

int cli_hash(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: lethe hash FILE.safetensors...\nThe SHA-256 of each "
               "checkpoint's weights (tensor names, shapes and float32 "
               "values; the metadata is left out).\n");
        return argc < 2 ? 2 : 0;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        char hex[65];
        if (lt_st_weights_sha256(argv[i], hex) != LT_OK)
            rc = cli_fail("hash", NULL);
        else
            printf("%s  %s\n", hex, argv[i]);
    }
    return rc;
}
