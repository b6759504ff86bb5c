/* outfile.c -- output files that appear whole or not at all, and never clobber (see
 * outfile.h).
 *
 * A temporary's name carries the host and the process id (PATH.tmp.HOST.PID.XXXXXX) so that a
 * later open in the same folder can tell a temporary whose writer is gone (a SIGKILL) from one
 * that another run on this host or another host is still writing. The signal handler only calls
 * unlink() and raise(), which are async-signal-safe, on a fixed table of names. */
#include "sim/base/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim/base/mix64.h"

/* ---- temporaries removed on a signal ------------------------------------------------------ */

#define MAX_LIVE 32
static char *volatile live[MAX_LIVE]; /* open temporaries; NULL: a free slot */

static void track(char *tmp)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (!live[i]) {
            live[i] = tmp;
            return;
        }
}

static void untrack(const char *tmp)
{
    for (int i = 0; tmp && i < MAX_LIVE; i++)
        if (live[i] == tmp)
            live[i] = NULL;
}

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i])
            unlink(live[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void imc_outfile_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        /* a signal ignored by the caller (nohup) stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
}

/* ---- names -------------------------------------------------------------------------------- */

/* 1 for a name under /dev or /proc: /dev/stdout, /dev/fd/N and /proc/self/fd/N are the
 * kernel's links to open files (a pipe's is not even a path), written as they are. */
static int kernel_name(const char *p)
{
    return !strncmp(p, "/dev/", 5) || !strncmp(p, "/proc/", 6);
}

/* PATH with every symbolic link along its last component followed, as open() would follow
 * them: a relative target is relative to the link's folder. Malloc'd; NULL with errno set.
 * *KERNEL is set when the chain passes through a kernel name. */
static char *follow(const char *path, int *kernel)
{
    char *p = strdup(path);
    for (int hops = 0; p && hops < 40; hops++) {
        struct stat st;
        *kernel |= kernel_name(p);
        if (*kernel || lstat(p, &st) != 0 || !S_ISLNK(st.st_mode))
            return p;
        char target[PATH_MAX];
        ssize_t n = readlink(p, target, sizeof target - 1);
        if (n < 0) {
            free(p);
            return NULL;
        }
        target[n] = '\0';
        const char *slash = strrchr(p, '/');
        size_t dir = target[0] == '/' || !slash ? 0 : (size_t)(slash - p + 1);
        char *next = malloc(dir + (size_t)n + 1);
        if (next) {
            memcpy(next, p, dir);
            memcpy(next + dir, target, (size_t)n + 1);
        }
        free(p);
        p = next;
    }
    if (p) {
        free(p);
        errno = ELOOP;
    }
    return NULL;
}

static void host_name(char *buf, size_t size)
{
    if (gethostname(buf, size - 1) != 0 || !buf[0])
        snprintf(buf, size, "localhost");
    buf[size - 1] = '\0';
    for (char *c = buf; *c; c++) /* a name component, whatever the host calls itself */
        if (*c == '/')
            *c = '_';
}

/* 1 when NAME is a temporary of ours, "*.tmp.HOST.PID.XXXXXX", whose process PID is gone. */
static int abandoned(const char *name, const char *host)
{
    size_t n = strlen(name), hl = strlen(host);
    if (n < 7 || name[n - 7] != '.')
        return 0;
    for (size_t i = n - 6; i < n; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= 'A' && name[i] <= 'Z')))
            return 0;
    size_t e = n - 7, b = e; /* the PID: name[b..e) */
    while (b > 0 && name[b - 1] >= '0' && name[b - 1] <= '9')
        b--;
    if (b == e || e - b > 9 || b < hl + 6 || name[b - 1] != '.' ||
        strncmp(name + b - 1 - hl, host, hl) != 0 || strncmp(name + b - 1 - hl - 5, ".tmp.", 5))
        return 0;
    long pid = strtol(name + b, NULL, 10);
    return pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Create the temporary TMP (ending in six X, replaced by letters and digits) as mkstemp does,
 * but tracked before it exists, so that a signal handled at any point leaves nothing behind.
 * (Holding the signals around mkstemp and the tracking instead sends a signal that comes in
 * between to another thread, an OpenBLAS worker, whose handler does not know the file yet: a
 * CI run under load saw one left.) Returns the descriptor, or -1 with errno set. */
static int create_tracked(char *tmp)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static uint64_t count;
    char *x = tmp + strlen(tmp) - 6;
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t r = imc_mix64(((uint64_t)ts.tv_sec << 30 ^ (uint64_t)ts.tv_nsec) +
                               IMC_MIX64_WEYL * (__atomic_add_fetch(&count, 1, __ATOMIC_RELAXED) +
                                                 (uint64_t)getpid()));
        for (int i = 0; i < 6; i++, r /= 62)
            x[i] = digits[r % 62];
        track(tmp);
        int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0)
            return fd;
        int e = errno;
        untrack(tmp);
        errno = e;
        if (e != EEXIST)
            return -1;
    }
    return -1;
}

/* Remove the temporaries that killed processes of this host left in TARGET's folder. */
static void remove_abandoned(const char *target, const char *host)
{
    const char *slash = strrchr(target, '/');
    char *dir = slash ? strndup(target, (size_t)(slash - target + 1)) : strdup("./");
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (abandoned(e->d_name, host)) {
            size_t n = strlen(dir) + strlen(e->d_name) + 1;
            char *victim = malloc(n);
            if (victim) {
                snprintf(victim, n, "%s%s", dir, e->d_name);
                unlink(victim);
            }
            free(victim);
        }
    if (d)
        closedir(d);
    free(dir);
}

/* ---- open, commit, abort ------------------------------------------------------------------ */

/* A copy of the descriptor PATH names (/dev/stdout, /dev/fd/N, /proc/self/fd/N), or -1. Writing
 * to the copy shares the file offset with the process's own descriptor, so a file that stdout
 * is redirected to is appended to, not overwritten from its start. */
static int open_fd(const char *path)
{
    static const struct {
        const char *prefix;
        int fd; /* -1: the number follows the prefix */
    } names[] = {{"/dev/stdout", 1}, {"/dev/fd/", -1}, {"/proc/self/fd/", -1}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i].prefix);
        if (strncmp(path, names[i].prefix, n) != 0)
            continue;
        char *end;
        long fd = names[i].fd;
        if (fd < 0) {
            fd = strtol(path + n, &end, 10);
            if (end == path + n || *end || fd < 0 || fd > INT_MAX)
                return -1;
        } else if (path[n]) {
            return -1;
        }
        return fcntl((int)fd, F_DUPFD_CLOEXEC, 3);
    }
    return -1;
}

int imc_outfile_open(imc_outfile *of, const char *path, imc_err *err)
{
    memset(of, 0, sizeof *of);
    of->shown = path;
    if (strcmp(path, "-") == 0) {
        of->fp = stdout;
        return 0;
    }
    int kernel = 0;
    char *target = follow(path, &kernel);
    if (!target)
        return errno == ENOMEM ? imc_err_set(err, IMC_ENOMEM, "out of memory")
                               : imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot write: %s",
                                            strerror(errno));
    struct stat st;
    int exists = stat(target, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        free(target);
        return imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot write: it is a folder");
    }
    if (kernel || (exists && !S_ISREG(st.st_mode))) { /* cannot be renamed over */
        int fd = open_fd(path);
        of->fp = fd >= 0 ? fdopen(fd, "w") : fopen(target, "w");
        if (fd >= 0 && !of->fp)
            close(fd);
        int e = errno;
        free(target);
        if (!of->fp)
            return imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot write: %s", strerror(e));
        return 0;
    }
    char host[256];
    host_name(host, sizeof host);
    remove_abandoned(target, host);
    size_t n = strlen(target) + strlen(host) + 48;
    if (!(of->tmp = malloc(n))) {
        free(target);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    snprintf(of->tmp, n, "%s.tmp.%s.%ld.XXXXXX", target, host, (long)getpid());
    of->path = target;
    int fd = create_tracked(of->tmp);
    if (fd >= 0) {
        if (exists) { /* keep what the file was: its mode, its owner, its other names */
            fchmod(fd, st.st_mode & 07777);
            if (st.st_uid != geteuid() || st.st_gid != getegid())
                (void)!fchown(fd, st.st_uid, st.st_gid); /* only root may; best effort */
            of->in_place = st.st_nlink > 1;
        } else { /* created 0600; give the file the permissions a plain create would */
            mode_t mask = umask(0);
            umask(mask);
            fchmod(fd, 0666 & ~mask);
        }
    }
    if (fd < 0 || !(of->fp = fdopen(fd, of->in_place ? "w+" : "w"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(of->tmp);
        }
        imc_outfile_abort(of);
        return imc_err_at(err, IMC_EINPUT, path, 0, 0, "cannot write: %s", strerror(e));
    }
    return 0;
}

/* Copy the complete temporary FP into PATH, truncating it: the file keeps its inode. */
static int copy_into(FILE *fp, const char *path)
{
    if (fseek(fp, 0, SEEK_SET) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return -1;
    char buf[65536];
    size_t got;
    int rc = 0;
    while (!rc && (got = fread(buf, 1, sizeof buf, fp)) > 0)
        for (size_t done = 0; !rc && done < got;) {
            ssize_t w = write(fd, buf + done, got - done);
            if (w < 0 && errno != EINTR)
                rc = -1;
            done += w > 0 ? (size_t)w : 0;
        }
    if (ferror(fp))
        rc = -1;
    int e = errno;
    if (close(fd) != 0)
        rc = -1;
    else
        errno = e;
    return rc;
}

int imc_outfile_commit(imc_outfile *of, imc_err *err)
{
    if (!of->fp)
        return 0;
    errno = 0;
    int bad = fflush(of->fp) != 0 || ferror(of->fp);
    int e = errno ? errno : EIO;
    if (!of->tmp) { /* stdout or a device: written directly */
        int is_stdout = of->fp == stdout;
        if (!is_stdout && fclose(of->fp) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
        of->fp = NULL;
        if (bad)
            return is_stdout ? imc_err_set(err, IMC_EIO, "writing to stdout: %s", strerror(e))
                             : imc_err_at(err, IMC_EIO, of->shown, 0, 0, "cannot write: %s",
                                          strerror(e));
        return 0;
    }
    if (!bad && of->in_place && copy_into(of->fp, of->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (fclose(of->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    of->fp = NULL;
    if (!bad && !of->in_place && rename(of->tmp, of->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        int rc = imc_err_at(err, IMC_EIO, of->shown, 0, 0, "cannot write: %s", strerror(e));
        imc_outfile_abort(of);
        return rc;
    }
    if (of->in_place)
        unlink(of->tmp);
    untrack(of->tmp);
    free(of->tmp);
    free(of->path);
    memset(of, 0, sizeof *of);
    return 0;
}

void imc_outfile_abort(imc_outfile *of)
{
    if (of->fp && of->fp != stdout)
        fclose(of->fp);
    if (of->tmp)
        unlink(of->tmp);
    untrack(of->tmp);
    free(of->tmp);
    free(of->path);
    memset(of, 0, sizeof *of);
}

/* ---- checks ------------------------------------------------------------------------------- */

/* Fill ST for PATH when it names an existing regular file; 0 otherwise. */
static int regular(const char *path, struct stat *st)
{
    return path && strcmp(path, "-") != 0 && stat(path, st) == 0 && S_ISREG(st->st_mode);
}

int imc_outfile_check_distinct(const imc_io_name *outputs, size_t n_out, const imc_io_name *inputs,
                               size_t n_in, imc_err *err)
{
    for (size_t o = 0; o < n_out; o++) {
        struct stat so, si;
        if (!regular(outputs[o].path, &so))
            continue;
        for (size_t i = 0; i < n_in; i++)
            if (regular(inputs[i].path, &si) && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
                return imc_err_at(err, IMC_EINPUT, outputs[o].path, 0, 0,
                                  "%s would overwrite the input of %s %s; nothing was run",
                                  outputs[o].option, inputs[i].option, inputs[i].path);
    }
    for (size_t o = 0; o < n_out; o++) {
        struct stat so, sp;
        int exists = regular(outputs[o].path, &so);
        if (!outputs[o].path || !strcmp(outputs[o].path, "-") ||
            (!exists && stat(outputs[o].path, &so) == 0)) /* a device may be named twice */
            continue;
        for (size_t p = 0; p < o; p++)
            if (outputs[p].path && (!strcmp(outputs[p].path, outputs[o].path) ||
                                    (exists && regular(outputs[p].path, &sp) &&
                                     sp.st_dev == so.st_dev && sp.st_ino == so.st_ino)))
                return imc_err_at(err, IMC_EINPUT, outputs[o].path, 0, 0,
                                  "%s and %s name the same file; nothing was run",
                                  outputs[p].option, outputs[o].option);
    }
    return 0;
}

int imc_outfile_close_stdout(imc_err *err)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        return imc_err_set(err, IMC_EIO, "writing to stdout: %s", strerror(errno ? errno : EIO));
    return 0;
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

/* ---- escaping ----------------------------------------------------------------------------- */

int imc_utf8_len(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80)
        return u[0] ? 1 : 0;
    int n = u[0] >= 0xc2 && u[0] <= 0xdf ? 2 : u[0] >= 0xe0 && u[0] <= 0xef ? 3
          : u[0] >= 0xf0 && u[0] <= 0xf4 ? 4 : 0;
    for (int i = 1; i < n; i++)
        if ((u[i] & 0xc0) != 0x80)
            return 0;
    if ((u[0] == 0xe0 && u[1] < 0xa0) || (u[0] == 0xed && u[1] >= 0xa0) || /* overlong, surrogate */
        (u[0] == 0xf0 && u[1] < 0x90) || (u[0] == 0xf4 && u[1] >= 0x90))    /* overlong, > U+10FFFF */
        return 0;
    return n;
}

int imc_text_ok(const char *s)
{
    for (int n; *s; s += n)
        if (!(n = imc_utf8_len(s)) || ((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return 0;
    return 1;
}

/* Write V escaped as JSON does (\uXXXX) or YAML does (\xXX) for control bytes, unquoted. */
static void escaped(FILE *out, const char *v, int yaml)
{
    for (int n; *v; v += n) {
        unsigned char c = (unsigned char)*v;
        n = imc_utf8_len(v);
        if (!n) {
            fputs(yaml ? "\\uFFFD" : "\\ufffd", out);
            n = 1;
        } else if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, yaml ? "\\x%02X" : "\\u%04x", c);
        } else {
            fwrite(v, 1, (size_t)n, out);
        }
    }
}

void imc_json_text(FILE *out, const char *v)
{
    escaped(out, v, 0);
}

void imc_json_string(FILE *out, const char *v)
{
    fputc('"', out);
    escaped(out, v, 0);
    fputc('"', out);
}

void imc_yaml_string(FILE *out, const char *v)
{
    fputc('"', out);
    escaped(out, v, 1);
    fputc('"', out);
}
