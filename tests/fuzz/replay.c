/* replay.c -- a main() for the fuzz targets without libFuzzer, so that `make check` replays
 * the committed corpus with any C compiler.
 *
 * Runs LLVMFuzzerTestOneInput() once on each file named on the command line; a directory
 * stands for the files in it, in name order. With no arguments it replays REPLAY_CORPUS, a
 * directory relative to $IMCSIM_SRCDIR (set by `make check`; else the current directory), and
 * fails if that holds no input: a replay of nothing would be a test that cannot fail. Each
 * input is read into a buffer of exactly its size, as libFuzzer passes it. A finding shows as
 * a crash or abort after the "replay: FILE" line naming the input.
 *
 * An input's name promises its outcome, and the replay holds it to that: valid-* must be
 * accepted by the target, bad-* refused with a clean error, any-* (an input the fuzzer found
 * interesting, kept for coverage) may go either way; any other name is an error, so that no
 * committed input promises nothing. Exit status 0, 1 when an outcome differs from its name,
 * or 99 when an input cannot be read. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static long outcomes[2]; /* inputs refused, accepted */

/* 0, -1 when the input cannot be read, 1 when its outcome is not the one its name promises. */
static int replay_file(const char *path, size_t size)
{
    /* Exactly SIZE bytes, so that a read one byte past the input is an error under ASan or
     * valgrind, as under libFuzzer. */
    unsigned char *buf = malloc(size ? size : 1);
    FILE *f = fopen(path, "rb");
    int ok = buf && f && fread(buf, 1, size, f) == size && getc(f) == EOF && !ferror(f);
    if (f)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "replay: %s: cannot read it\n", path);
        free(buf);
        return -1;
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int want = !strncmp(base, "valid-", 6) ? 1 : !strncmp(base, "bad-", 4) ? 0
               : !strncmp(base, "any-", 4) ? -1 : -2;
    if (want == -2) {
        fprintf(stderr, "replay: %s: the name must start with valid-, bad- or any-\n", path);
        free(buf);
        return 1;
    }
    printf("replay: %s (%zu bytes)\n", path, size);
    fflush(stdout);
    imc_fuzz_accepted = -1;
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    if (imc_fuzz_accepted != 0 && imc_fuzz_accepted != 1) {
        fprintf(stderr, "replay: %s: the target did not say whether it accepted it\n", path);
        return 1;
    }
    if (want >= 0 && imc_fuzz_accepted != want) {
        fprintf(stderr, "replay: %s: %s, but its name says it %s\n", path,
                imc_fuzz_accepted ? "accepted" : "refused",
                want ? "must be accepted (valid-)" : "must be refused (bad-)");
        return 1;
    }
    outcomes[imc_fuzz_accepted]++;
    return 0;
}

static int is_input(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static long mismatches; /* inputs whose outcome is not their name's */

/* Replay PATH, or each file in it; returns the number of inputs, or -1. */
static long replay(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        int rc = replay_file(path, (size_t)st.st_size);
        mismatches += rc > 0;
        return rc < 0 ? -1 : 1;
    }
    struct dirent **names;
    int n = scandir(path, &names, is_input, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    long count = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
        char *file = malloc(len);
        if (!file)
            count = -1;
        if (count >= 0) {
            snprintf(file, len, "%s/%s", path, names[i]->d_name);
            int rc = stat(file, &st) == 0 ? replay_file(file, (size_t)st.st_size) : -1;
            mismatches += rc > 0;
            count = rc < 0 ? -1 : count + 1;
        }
        free(file);
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    long total = 0;
    if (argc < 2) {
        const char *srcdir = getenv("IMCSIM_SRCDIR");
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", srcdir && *srcdir ? srcdir : ".", REPLAY_CORPUS);
        total = replay(dir);
        if (total == 0)
            fprintf(stderr, "replay: %s holds no input\n", dir);
        if (total <= 0)
            return 99;
    }
    for (int i = 1; i < argc; i++) {
        long n = replay(argv[i]);
        if (n < 0)
            return 99;
        total += n;
    }
    printf("replay: %ld inputs (%ld accepted, %ld refused), %ld not as their names say\n", total,
           outcomes[1], outcomes[0], mismatches);
    return mismatches ? 1 : 0;
}
