/* testdir.h -- the scratch directory of a CUnit suite, shared by the suites that write files.
 *
 * test_dir_make("tag") creates $TMPDIR/imcsim-tag-XXXXXX (/tmp when TMPDIR is unset or empty)
 * and leaves its name in test_dir; test_dir_path() names a file in it; test_dir_remove()
 * deletes it with everything in it (subdirectories too) and returns rmdir's result. Neither
 * uses CUnit assertions, so both may run in a suite's init and cleanup (test_dir_remove is a
 * CU_CleanupFunc as it is) as well as inside a test. Header only: include it once per suite. */
#ifndef IMC_TESTDIR_H
#define IMC_TESTDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char test_dir[4096];

/* Create a fresh directory imcsim-TAG-XXXXXX; 0, or -1 (and test_dir empty) when it fails. */
static inline int test_dir_make(const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    int n = snprintf(test_dir, sizeof test_dir, "%s/imcsim-%s-XXXXXX", base, tag);
    if (n < 0 || (size_t)n >= sizeof test_dir || !mkdtemp(test_dir)) {
        test_dir[0] = '\0';
        return -1;
    }
    return 0;
}

/* test_dir/NAME into BUF of SIZE bytes. */
static inline void test_dir_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", test_dir, name);
}

/* Remove PATH and everything below it; rmdir's result. */
static inline int test_dir_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char entry[8192];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                snprintf(entry, sizeof entry, "%s/%s", path, e->d_name) < (int)sizeof entry &&
                unlink(entry) != 0)
                test_dir_remove_tree(entry); /* a subdirectory */
        closedir(d);
    }
    return rmdir(path);
}

/* Remove test_dir and everything in it; rmdir's result (-1 when there is none). */
static inline int test_dir_remove(void)
{
    return test_dir[0] ? test_dir_remove_tree(test_dir) : -1;
}

#endif
