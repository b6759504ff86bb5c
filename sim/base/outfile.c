/* outfile.c -- write to a temporary file, rename into place on success (see outfile.h). */
#include "sim/base/outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int imc_outfile_open(imc_outfile *of, const char *path, imc_err *err)
{
    memset(of, 0, sizeof *of);
    if (strcmp(path, "-") == 0) {
        of->fp = stdout;
        return 0;
    }
    size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
    of->tmp = malloc(n);
    of->path = strdup(path);
    if (!of->tmp || !of->path) {
        imc_outfile_abort(of);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    snprintf(of->tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(of->tmp);
    if (fd >= 0) { /* mkstemp makes 0600; give the file the permissions a plain create would */
        mode_t mask = umask(0);
        umask(mask);
        fchmod(fd, 0666 & ~mask);
    }
    if (fd < 0 || !(of->fp = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(of->tmp);
        }
        free(of->tmp);
        of->tmp = NULL;
        imc_outfile_abort(of);
        return imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot write: %s", strerror(e));
    }
    return 0;
}

int imc_outfile_commit(imc_outfile *of, imc_err *err)
{
    if (!of->path) { /* stdout */
        if (fflush(stdout) != 0)
            return imc_err_set(err, IMC_EIO, "writing to stdout: %s", strerror(errno));
        of->fp = NULL;
        return 0;
    }
    int bad = ferror(of->fp);
    bad |= fclose(of->fp) != 0;
    of->fp = NULL;
    if (bad || rename(of->tmp, of->path) != 0) {
        int rc = imc_err_at(err, IMC_EIO, of->path, 0, 0, "cannot write: %s", strerror(errno));
        imc_outfile_abort(of);
        return rc;
    }
    free(of->tmp);
    free(of->path);
    of->tmp = of->path = NULL;
    return 0;
}

void imc_outfile_abort(imc_outfile *of)
{
    if (of->fp && of->fp != stdout)
        fclose(of->fp);
    if (of->tmp)
        unlink(of->tmp);
    free(of->tmp);
    free(of->path);
    memset(of, 0, sizeof *of);
}

void imc_csv_field(FILE *out, const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) {
        fputs(v, out);
        return;
    }
    fputc('"', out);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', out);
        fputc(*v, out);
    }
    fputc('"', out);
}
