/* infile.c -- inputs are regular files, checked before the first read (see infile.h). */
#include "sim/base/infile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int imc_infile_open_fd(int *out, const char *path, imc_err *err)
{
    *out = -1;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    const char *why = fstat(fd, &st) != 0 ? strerror(errno)
                      : S_ISDIR(st.st_mode) ? strerror(EISDIR)
                      : !S_ISREG(st.st_mode) ? "not a regular file (a FIFO or a device cannot be "
                                               "an input)"
                                             : NULL;
    if (why) {
        int rc = imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot open: %s", why);
        close(fd);
        return rc;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot open: %s", strerror(e));
    }
    *out = fd;
    return 0;
}

int imc_infile_open(FILE **out, const char *path, imc_err *err)
{
    *out = NULL;
    int fd;
    int rc = imc_infile_open_fd(&fd, path, err);
    if (rc)
        return rc;
    if (!(*out = fdopen(fd, "rb"))) {
        close(fd);
        return imc_err_set(err, IMC_ENOMEM, "out of memory opening %s", path);
    }
    return 0;
}
