/* fuzz_tmpfile.h -- for targets whose loader takes a path: the input written to a file in a
 * folder of this process's own (made once, removed at exit). */
#ifndef IMC_FUZZ_TMPFILE_H
#define IMC_FUZZ_TMPFILE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[64];
static char fuzz_path[128];

static void fuzz_tmp_remove(void)
{
    unlink(fuzz_path);
    rmdir(fuzz_dir);
}

/* Write DATA to DIR/NAME and return that path; abort() when it cannot. */
static inline const char *fuzz_tmpfile(const uint8_t *data, size_t size, const char *name)
{
    if (!fuzz_dir[0]) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/imcsim-fuzz-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(fuzz_dir))
            abort();
        atexit(fuzz_tmp_remove);
    }
    snprintf(fuzz_path, sizeof fuzz_path, "%s/%s", fuzz_dir, name);
    FILE *f = fopen(fuzz_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    return fuzz_path;
}

#endif
