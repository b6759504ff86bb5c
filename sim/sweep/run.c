/* sweep_run.c -- running sweep points as imcsim processes, resumably (see sweep_run.h).
 *
 * The parent forks one worker per run, at most `jobs` at once. A worker builds the run in a
 * hidden folder named for its host and pid (so concurrent Slurm tasks never collide) and
 * locked while the worker lives (so a dead worker's leftovers are recognisable), runs imcsim
 * in it, turns stats.yaml (and numerics.csv) into the run's results row, and renames the
 * folder into place. Nothing here
 * reads a wall clock into a result: results.csv is the same for the same spec, whoever ran it. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "sim/sweep/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"

#include "sim/arch/arch.h"
#include "sim/base/digest.h"
#include "sim/base/ytree.h"
#include "sim/engine/ledger.h"

enum { PATH_LEN = 4096 };

/* ---- small file helpers ------------------------------------------------------------------- */

static int io_fail(imc_err *err, const char *what, const char *path)
{
    return imc_err_set(err, IMC_EIO, "%s %s: %s", what, path, strerror(errno));
}

/* Format a path into BUF (PATH_LEN bytes); an overlong one is cut (and then not found). */
static void pathf(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, PATH_LEN, fmt, ap);
    va_end(ap);
}

static int mkdir_p(const char *path, imc_err *err)
{
    char buf[PATH_LEN];
    pathf(buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return io_fail(err, "cannot create", buf);
            *p = c;
            if (!c)
                return 0;
        }
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int rm_rf(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Write TEXT to PATH whole or not at all (temporary file + rename). */
static int write_atomic(const char *path, const char *text, size_t len, imc_err *err)
{
    char tmp[PATH_LEN];
    pathf(tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return io_fail(err, "cannot write", tmp);
    int bad = fwrite(text, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        remove(tmp);
        return io_fail(err, "cannot write", path);
    }
    return 0;
}

/* A growing string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* A CSV field: quoted when it holds a comma, quote or newline. */
static void sb_field(sbuf *b, const char *v)
{
    if (!strpbrk(v, ",\"\n\r")) {
        sb_add(b, "%s", v);
        return;
    }
    sb_add(b, "\"");
    for (const char *p = v; *p; p++)
        if (*p == '"')
            sb_add(b, "\"\"");
        else
            sb_add(b, "%c", *p);
    sb_add(b, "\"");
}

/* A shell word (after a space when SPACE), single-quoted unless it is plainly safe. */
static void sb_word(sbuf *b, const char *v, int space)
{
    if (*v && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-") ==
                  strlen(v)) {
        sb_add(b, space ? " %s" : "%s", v);
        return;
    }
    sb_add(b, space ? " '" : "'");
    for (const char *p = v; *p; p++)
        if (*p == '\'')
            sb_add(b, "'\\''");
        else
            sb_add(b, "%c", *p);
    sb_add(b, "'");
}

/* ---- naming ------------------------------------------------------------------------------- */

static size_t n_runs(const imc_sweep_spec *s)
{
    return s->n_points * s->n_models;
}

/* The folder of point P, and of run R (point R / models, model R % models) in it. */
static void point_dir(const imc_sweep_opts *o, size_t p, char *buf)
{
    pathf(buf, "%s/points/%04zu", o->outdir, p);
}

static void run_dir(const imc_sweep_spec *s, const imc_sweep_opts *o, size_t r, char *buf)
{
    char pd[PATH_LEN];
    point_dir(o, r / s->n_models, pd);
    pathf(buf, "%s/%s", pd, s->models[r % s->n_models].label);
}

/* ---- the manifest: what defines the runs (all but the model list) ------------------------- */

static void manifest(const imc_sweep_spec *s, sbuf *b)
{
    sb_add(b, "# imcsim sweep manifest: a resumed sweep must have the same lines\n");
    sb_add(b, "arch=%s\n", s->arch);
    for (size_t i = 0; i < s->n_set; i++)
        sb_add(b, "set %s\n", s->set[i]);
    sb_add(b, "batch=%d kernel=%s\n", s->batch, s->kernel ? s->kernel : "");
    if (s->numerics)
        sb_add(b, "numerics dataset=%s images=%ld seed=%ld\n", s->dataset ? s->dataset : "",
               s->images, s->seed);
    for (size_t p = 0; p < s->n_points; p++) {
        sb_add(b, "point %04zu", p);
        for (size_t a = 0; a < s->n_axes; a++)
            sb_add(b, " %s=%s", s->axes[a].key, imc_sweep_value(s, p, a));
        sb_add(b, "\n");
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    sbuf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sb_add(&b, "%.*s", (int)n, chunk);
    fclose(f);
    if (b.oom || !b.s) {
        free(b.s);
        b.s = strdup("");
        b.len = 0;
    }
    if (len)
        *len = b.len;
    return b.s;
}

/* 1 when nobody holds the worker lock of the run folder DIR: its worker is gone (a lock dies
 * with its process, zombie or not, on any host that shares the folder's locks). */
static int abandoned(const char *dir)
{
    char path[PATH_LEN];
    pathf(path, "%s/.worker.lock", dir);
    int fd = open(path, O_RDWR);
    if (fd < 0) /* a worker between mkdir and taking its lock, or one that died there */
        return 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int free_ = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK; /* tests, takes nothing */
    close(fd);
    return free_;
}

/* 1 when NAME is ".LABEL.KIND.HOST.PID" of a process of this HOST that is gone. */
static int dead_local(const char *name, const char *kind, const char *host)
{
    const char *k = strstr(name, kind);
    if (!k)
        return 0;
    const char *h = k + strlen(kind), *dot = strrchr(h, '.');
    if (!dot || (size_t)(dot - h) != strlen(host) || strncmp(h, host, strlen(host)) != 0)
        return 0;
    long pid = strtol(dot + 1, NULL, 10);
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Remove what dead workers left: temporary run folders nobody holds the lock of, and this
 * host's half-made (.init.) or half-removed (.old.) folders of processes that are gone. */
static void remove_dead_temporaries(const char *outdir)
{
    char root[PATH_LEN], host[256] = "";
    gethostname(host, sizeof host - 1);
    pathf(root, "%s/points", outdir);
    DIR *d = opendir(root);
    struct dirent *pe;
    while (d && (pe = readdir(d))) {
        if (pe->d_name[0] == '.')
            continue;
        char pd[PATH_LEN];
        pathf(pd, "%s/%s", root, pe->d_name);
        DIR *e = opendir(pd);
        struct dirent *re;
        while (e && (re = readdir(e))) {
            if (re->d_name[0] != '.' || !strcmp(re->d_name, ".") || !strcmp(re->d_name, ".."))
                continue;
            char victim[PATH_LEN];
            pathf(victim, "%s/%s", pd, re->d_name);
            if ((strstr(re->d_name, ".tmp.") && abandoned(victim)) ||
                dead_local(re->d_name, ".init.", host) || dead_local(re->d_name, ".old.", host))
                rm_rf(victim);
        }
        if (e)
            closedir(e);
    }
    if (d)
        closedir(d);
}

int imc_sweep_prepare(const imc_sweep_spec *s, const imc_sweep_opts *o, imc_err *err)
{
    char path[PATH_LEN];
    pathf(path, "%s/points", o->outdir);
    int rc = mkdir_p(path, err);
    if (rc)
        return rc;
    sbuf want = {0};
    manifest(s, &want);
    if (want.oom) {
        free(want.s);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    pathf(path, "%s/manifest.txt", o->outdir);
    size_t len;
    char *have = slurp(path, &len);
    if (have && (len != want.len || memcmp(have, want.s, len) != 0))
        rc = imc_err_set(err, IMC_EINPUT,
                         "%s: this folder holds a different sweep (other arch, set, points or "
                         "numerics than %s); give another -o DIR", path, s->path);
    else if (!have)
        rc = write_atomic(path, want.s, want.len, err);
    free(have);
    free(want.s);
    if (!rc)
        remove_dead_temporaries(o->outdir);
    return rc;
}

/* ---- one run ------------------------------------------------------------------------------ */

/* An argument vector sized for the spec (CAP entries + the NULL); OWNED are the strings it
 * made and frees. */
typedef struct argv_list {
    char **v;
    int n, cap;
    char **owned;
    int n_owned;
} argv_list;

static int argv_init(argv_list *a, int cap)
{
    a->n = a->n_owned = 0;
    a->cap = cap;
    a->v = calloc((size_t)cap + 1, sizeof *a->v);
    a->owned = calloc((size_t)cap + 1, sizeof *a->owned);
    return a->v && a->owned ? 0 : -1;
}

static void argv_free(argv_list *a)
{
    for (int i = 0; i < a->n_owned; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->v);
}

static void arg(argv_list *a, const char *s)
{
    if (a->n < a->cap) /* the cap counts every argument commands() adds */
        a->v[a->n++] = (char *)s;
    a->v[a->n] = NULL;
}

/* An argument made from FMT, owned by A; 0, or -1 when out of memory. */
static int argf(argv_list *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int argf(argv_list *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s || a->n_owned >= a->cap)
        return free(s), -1;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    a->owned[a->n_owned++] = s;
    arg(a, s);
    return 0;
}

enum { RUN_OK = 0, RUN_FAILED = 1, RUN_NOT_STARTED = 2 };
enum { EXIT_NOT_STARTED = 127 }; /* the child's status when it could not start imcsim */

/* Run ARGV in DIR with stdout to OUT and stderr to stderr.txt: RUN_OK on exit status 0;
 * RUN_FAILED (imcsim's last line of stderr in WHY) when imcsim failed; RUN_NOT_STARTED when
 * it could not be started at all (WHY says why). */
static int run_child(const char *dir, char *const *argv, const char *out, char *why, size_t n)
{
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, n, "cannot fork: %s", strerror(errno));
        return RUN_NOT_STARTED;
    }
    if (pid == 0) {
        int fo, fe;
        if (chdir(dir) || (fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0 ||
            (fe = open("stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0)
            _exit(EXIT_NOT_STARTED);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], argv);
        dprintf(fe, "cannot run %s: %s\n", argv[0], strerror(errno)); /* into stderr.txt */
        _exit(EXIT_NOT_STARTED);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            snprintf(why, n, "waitpid: %s", strerror(errno));
            return RUN_NOT_STARTED;
        }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return RUN_OK;
    if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_NOT_STARTED) { /* imcsim exits 0, 1 or 2 */
        snprintf(why, n, "cannot run %s in %s", argv[0], dir);
        return RUN_NOT_STARTED;
    }
    /* imcsim reports a failure as one line on stderr: keep its last line */
    char path[PATH_LEN];
    pathf(path, "%s/stderr.txt", dir);
    char *text = slurp(path, NULL);
    char *last = NULL;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
        if (*line)
            last = line;
    if (last) { /* "imcsim: FILE:LINE:COL: error: what" -> "FILE:LINE:COL: error: what" */
        if (strncmp(last, "imcsim: ", 8) == 0)
            last += 8;
        snprintf(why, n, "%s", last);
    }
    else if (WIFSIGNALED(st))
        snprintf(why, n, "imcsim was killed by signal %d", WTERMSIG(st));
    else
        snprintf(why, n, "imcsim exited with status %d", WEXITSTATUS(st));
    free(text);
    return RUN_FAILED;
}

/* The scalar at the dotted PATH under NODE, or NULL. */
static const char *yget(imc_ynode *node, const char *path)
{
    char key[128];
    while (node && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        imc_yentry *e = imc_ynode_find(node, key);
        node = e ? e->val : NULL;
        path += n + (path[n] == '.');
    }
    return node && node->kind == IMC_Y_SCALAR ? node->scalar : NULL;
}

/* The columns of results.csv after point, the axes and model. */
static const char *const timing_cols[] = {
    "status", "latency_us", "inferences_per_s", "energy_uj", "leakage_uj", "inferences_per_j",
    "area_mm2", "peak_power_w", "xbars_used", "tiles_used"};
static const char *const numerics_cols[] = {"top1_fp32", "top1_imc", "agreement", "cosine_mean",
                                            "cosine_min"};
enum { N_TIMING = sizeof timing_cols / sizeof timing_cols[0],
       N_NUMERICS = sizeof numerics_cols / sizeof numerics_cols[0] };

static void header(const imc_sweep_spec *s, sbuf *b)
{
    sb_add(b, "point");
    for (size_t a = 0; a < s->n_axes; a++) {
        sb_add(b, ",");
        sb_field(b, s->axes[a].key);
    }
    sb_add(b, ",model");
    for (int c = 0; c < N_TIMING; c++)
        sb_add(b, ",%s", timing_cols[c]);
    for (int m = 0; m < IMC_MEM_COUNT; m++)
        sb_add(b, ",traffic_%s_bytes", imc_mem_level_name((imc_mem_level)m));
    for (int c = 0; s->numerics && c < N_NUMERICS; c++)
        sb_add(b, ",%s", numerics_cols[c]);
    sb_add(b, ",imcsim_version,inputs_sha256,error\n");
}

static void num(sbuf *b, const char *v, double scale)
{
    if (!v) {
        sb_add(b, ",");
        return;
    }
    double x = strtod(v, NULL) * scale;
    if (x == floor(x) && fabs(x) < 9007199254740992.0) /* whole (counts, bytes): every digit */
        sb_add(b, ",%.0f", x);
    else
        sb_add(b, ",%.10g", x);
}

/* The numerics metric NAME from numerics.csv (model,metric,layer,value): the value of the row
 * that ends in ",NAME,,VALUE" (a whole-network metric has no layer; found from the right, so
 * a model name with commas cannot mislead it), or NULL. */
static const char *metric(const char *csv, const char *name, char *buf, size_t n)
{
    char key[64];
    snprintf(key, sizeof key, ",%s,,", name);
    for (const char *line = csv; line && *line;) {
        const char *end = line + strcspn(line, "\n"), *k = NULL;
        for (const char *p = strstr(line, key); p && p < end; p = strstr(p + 1, key))
            k = p;
        if (k && !memchr(k + strlen(key), ',', (size_t)(end - k - strlen(key)))) {
            snprintf(buf, n, "%.*s", (int)(end - k - strlen(key)), k + strlen(key));
            return buf;
        }
        line = *end ? end + 1 : NULL;
    }
    return NULL;
}

/* The results row of run R with inputs PROV, from the files in DIR (ok) or the failure WHY. */
static int make_row(const imc_sweep_spec *s, size_t r, const char *dir, const char *why,
                    const imc_provenance *prov, sbuf *b)
{
    size_t p = r / s->n_models;
    sb_add(b, "%zu", p);
    for (size_t a = 0; a < s->n_axes; a++) {
        sb_add(b, ",");
        sb_field(b, imc_sweep_value(s, p, a));
    }
    sb_add(b, ",");
    sb_field(b, s->models[r % s->n_models].label);
    if (why) {
        sb_add(b, ",failed");
        for (int c = 1; c < N_TIMING; c++)
            sb_add(b, ",");
        for (int m = 0; m < IMC_MEM_COUNT; m++)
            sb_add(b, ",");
        for (int c = 0; s->numerics && c < N_NUMERICS; c++)
            sb_add(b, ",");
        sb_add(b, ",%s,%s,", prov->version, prov->digest);
        sb_field(b, why);
        sb_add(b, "\n");
        return 0;
    }
    char path[PATH_LEN];
    pathf(path, "%s/stats.yaml", dir);
    imc_ytree *t;
    imc_err e;
    imc_err_clear(&e);
    if (imc_ytree_load_file(&t, path, &e))
        return -1;
    imc_ynode *root = imc_ytree_root(t);
    imc_yentry *runs = imc_ynode_find(root, "runs");
    imc_ynode *run = runs && runs->val->kind == IMC_Y_SEQ && runs->val->n ? runs->val->items[0]
                                                                         : NULL;
    sb_add(b, ",ok");
    num(b, yget(run, "latency_ps"), 1e-6);
    num(b, yget(run, "inferences_per_s"), 1);
    num(b, yget(run, "energy_pj_total"), 1e-6);
    num(b, yget(run, "energy_pj_leakage"), 1e-6); /* the static part of energy_uj */
    num(b, yget(run, "inferences_per_j"), 1);
    num(b, yget(root, "hardware.area_mm2"), 1);
    num(b, yget(root, "hardware.peak_power_w"), 1);
    num(b, yget(run, "mapping.xbars_used"), 1);
    num(b, yget(run, "mapping.tiles_used"), 1);
    for (int m = 0; m < IMC_MEM_COUNT; m++) {
        char key[96];
        snprintf(key, sizeof key, "traffic_bits.%s", imc_mem_level_name((imc_mem_level)m));
        num(b, yget(run, key), 1.0 / 8);
    }
    imc_ytree_free(t);
    if (s->numerics) {
        pathf(path, "%s/numerics.csv", dir);
        char *csv = slurp(path, NULL);
        for (int c = 0; c < N_NUMERICS; c++) {
            char v[64];
            num(b, csv ? metric(csv, numerics_cols[c], v, sizeof v) : NULL, 1);
        }
        free(csv);
    }
    sb_add(b, ",%s,%s,\n", prov->version, prov->digest);
    return 0;
}

typedef struct run_ctx {
    const imc_sweep_spec *s;
    const imc_sweep_opts *o;
    const char *arch, *dataset;   /* absolute where they exist */
    char **models;                /* absolute */
    char (*model_sha)[65];        /* [m]: the digest of model m's file, hashed once */
    char dataset_sha[65];         /* of the dataset (numerics), or "" */
} run_ctx;

/* The provenance of run R (digest.h): the point's resolved architecture (the base file with the
 * spec's set and the point's axes: an edited base file or include shows), its model and dataset
 * by content, and the options. A resumed sweep reruns a run whose digest changed. */
static int run_inputs(const run_ctx *c, size_t r, imc_provenance *prov, imc_err *err)
{
    const imc_sweep_spec *s = c->s;
    size_t p = r / s->n_models, n = s->n_set + s->n_axes;
    imc_provenance_init(prov, PACKAGE_VERSION);
    char **sets = calloc(n + 1, sizeof *sets);
    int rc = sets ? 0 : imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < s->n_set; i++)
        if (!(sets[i] = strdup(s->set[i])))
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    for (size_t a = 0; !rc && a < s->n_axes; a++) {
        const char *v = imc_sweep_value(s, p, a);
        size_t len = strlen(s->axes[a].key) + strlen(v) + 2;
        if (!(sets[s->n_set + a] = malloc(len)))
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
        else
            snprintf(sets[s->n_set + a], len, "%s=%s", s->axes[a].key, v);
    }
    if (!rc) {
        char found[PATH_LEN];
        imc_arch *a = NULL;
        imc_err e;
        imc_err_clear(&e);
        if (imc_arch_load(&a, imc_arch_find(c->arch, found, sizeof found),
                          (const char *const *)sets, n, &e) == 0) {
            char *dump = NULL;
            size_t len = 0;
            FILE *mem = open_memstream(&dump, &len);
            if (mem) {
                imc_arch_dump(a, mem);
                fclose(mem);
                const char *body = strchr(dump, '\n'); /* after the line naming the file */
                body = body ? body + 1 : dump;
                imc_provenance_text(prov, "arch", body, len - (size_t)(body - dump));
            } else {
                rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
            }
            free(dump);
        } else { /* the run fails the same way as long as the message is the same */
            imc_provenance_text(prov, "arch-error", e.msg, strlen(e.msg));
        }
        imc_arch_free(a);
    }
    for (size_t i = 0; sets && i < n; i++)
        free(sets[i]);
    free(sets);
    imc_provenance_hex(prov, "model", c->model_sha[r % s->n_models]);
    if (s->numerics && c->dataset_sha[0])
        imc_provenance_hex(prov, "dataset", c->dataset_sha);
    char opts[160];
    snprintf(opts, sizeof opts, "batch=%d kernel=%s numerics=%d images=%ld seed=%ld", s->batch,
             s->kernel ? s->kernel : "native", s->numerics, s->images, s->seed);
    imc_provenance_option(prov, opts);
    return rc ? rc : imc_provenance_finish(prov, err);
}

/* What a finished run's inputs.txt says differs from PROV: "" when nothing (it is current), else
 * the first differing input's name ("arch", "model", "imcsim", ...) in WHAT. */
static void changed_input(const char *dir, const imc_provenance *prov, char *what, size_t n)
{
    char path[PATH_LEN];
    pathf(path, "%s/inputs.txt", dir);
    size_t len;
    char *have = slurp(path, &len);
    snprintf(what, n, "%s", have ? "" : "no inputs.txt: run before imcsim recorded its inputs");
    if (have && (len != prov->len || memcmp(have, prov->lines, len) != 0)) {
        const char *a = have, *b = prov->lines;
        while (*a && *a == *b) { /* to the first differing line */
            const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
            if (!na || !nb || na - a != nb - b || memcmp(a, b, (size_t)(na - a)) != 0)
                break;
            a = na + 1;
            b = nb + 1;
        }
        snprintf(what, n, "%.*s", (int)strcspn(*b ? b : a, " \n"), *b ? b : a);
        if (!what[0])
            snprintf(what, n, "the inputs");
    }
    free(have);
}

/* The commands of run R (T: the timing run; NQ: the numerics run, when the spec asks), written
 * into its command.sh too; imcsim runs in the run's folder. 0, or -1 when out of memory. */
static int commands(const run_ctx *c, size_t r, argv_list *t, argv_list *nq)
{
    const imc_sweep_spec *s = c->s;
    size_t p = r / s->n_models;
    const char *model = c->models[r % s->n_models];
    if (argv_init(t, (int)(2 * (s->n_set + s->n_axes)) + 16) || argv_init(nq, 16))
        return -1;
    arg(t, c->o->imcsim);
    arg(t, "--arch");
    arg(t, c->arch);
    for (size_t i = 0; i < s->n_set; i++) {
        arg(t, "--set");
        arg(t, s->set[i]);
    }
    int rc = 0;
    for (size_t a = 0; a < s->n_axes; a++) {
        arg(t, "--set");
        rc |= argf(t, "%s=%s", s->axes[a].key, imc_sweep_value(s, p, a));
    }
    arg(t, "--model");
    arg(t, model);
    if (s->batch) {
        arg(t, "--batch");
        rc |= argf(t, "%d", s->batch);
    }
    if (s->kernel) {
        arg(t, "--kernel");
        arg(t, s->kernel);
    }
    const char *outs[] = {"--dump-config", "arch.yaml", "--stats", "stats.yaml", "--csv",
                          "energy.csv"};
    for (size_t i = 0; i < 6; i++)
        arg(t, outs[i]);
    if (!s->numerics)
        return rc;
    const char *nargs[] = {c->o->imcsim, "--arch", "arch.yaml", "--model", model, "--numerics",
                           "--csv", "numerics.csv"};
    for (size_t i = 0; i < 8; i++)
        arg(nq, nargs[i]);
    if (c->dataset) {
        arg(nq, "--dataset");
        arg(nq, c->dataset);
    }
    if (s->images) {
        arg(nq, "--images");
        rc |= argf(nq, "%ld", s->images);
    }
    if (s->seed) {
        arg(nq, "--seed");
        rc |= argf(nq, "%ld", s->seed);
    }
    return rc;
}

static void script_line(sbuf *b, const argv_list *a, const char *out)
{
    for (int i = 0; i < a->n; i++)
        sb_word(b, a->v[i], i > 0);
    sb_add(b, " > %s\n", out);
}

/* Make the run's temporary folder, locked: created as .LABEL.init.HOST.PID, locked, then
 * renamed to .LABEL.tmp.HOST.PID (the lock stays with the file), so a folder named .tmp. always
 * has a live lock while its worker lives. TMP gets its name; *LOCK the held descriptor. */
static int make_locked_tmp(const char *pd, const char *label, const char *host, char *tmp,
                           int *lock, imc_err *err)
{
    char init[PATH_LEN], path[PATH_LEN];
    pathf(init, "%s/.%s.init.%s.%ld", pd, label, host, (long)getpid());
    pathf(tmp, "%s/.%s.tmp.%s.%ld", pd, label, host, (long)getpid());
    int rc = mkdir_p(init, err);
    if (rc)
        return rc;
    pathf(path, "%s/.worker.lock", init);
    *lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (*lock < 0 || fcntl(*lock, F_SETLK, &fl) < 0 || rename(init, tmp) != 0) {
        rc = io_fail(err, "cannot make the locked folder", init);
        if (*lock >= 0)
            close(*lock);
        rm_rf(init);
    }
    return rc;
}

/* The worker of run R: 0 when its result (ok or failed) is in place. */
static int run_one(const run_ctx *c, size_t r, const char *host, imc_err *err)
{
    const imc_sweep_spec *s = c->s;
    char final[PATH_LEN], tmp[PATH_LEN], pd[PATH_LEN], path[PATH_LEN];
    run_dir(s, c->o, r, final);
    point_dir(c->o, r / s->n_models, pd);
    int lock;
    int rc = make_locked_tmp(pd, s->models[r % s->n_models].label, host, tmp, &lock, err);
    if (rc)
        return rc;
    imc_provenance prov;
    rc = run_inputs(c, r, &prov, err);
    pathf(path, "%s/inputs.txt", tmp);
    if (!rc) /* what this run was made from: a resumed sweep compares it */
        rc = write_atomic(path, prov.lines, prov.len, err);
    argv_list t, nq;
    if (commands(c, r, &t, &nq) && !rc)
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    sbuf sh = {0};
    sb_add(&sh, "#!/bin/sh\n# imcsim-sweep %s: point %zu, model %s. Reproduces this run in this "
                "folder.\ncd \"$(dirname \"$0\")\" || exit 1\n", s->path, r / s->n_models,
           s->models[r % s->n_models].label);
    script_line(&sh, &t, "summary.txt");
    if (s->numerics)
        script_line(&sh, &nq, "numerics.txt");
    pathf(path, "%s/command.sh", tmp);
    if (!rc)
        rc = sh.oom ? imc_err_set(err, IMC_ENOMEM, "out of memory")
                    : write_atomic(path, sh.s, sh.len, err);
    free(sh.s);
    if (!rc)
        chmod(path, 0755);
    char why[PATH_LEN] = "";
    int failed = 0;
    if (!rc) {
        failed = run_child(tmp, t.v, "summary.txt", why, sizeof why);
        if (!failed && s->numerics)
            failed = run_child(tmp, nq.v, "numerics.txt", why, sizeof why);
        if (failed == RUN_NOT_STARTED) /* the sweep's fault, not the point's: no result */
            rc = imc_err_set(err, IMC_EIO, "%s", why);
    }
    argv_free(&t);
    argv_free(&nq);
    sbuf row = {0};
    if (!rc) {
        header(s, &row);
        if (make_row(s, r, tmp, failed ? why : NULL, &prov, &row)) {
            row.len = 0;
            header(s, &row);
            pathf(why, "cannot read %s/stats.yaml", final);
            failed = 1;
            make_row(s, r, tmp, why, &prov, &row);
        }
        pathf(path, "%s/row.csv", tmp);
        rc = row.oom ? imc_err_set(err, IMC_ENOMEM, "out of memory")
                     : write_atomic(path, row.s, row.len, err);
    }
    free(row.s);
    if (!rc && failed) {
        sbuf e = {0};
        sb_add(&e, "%s\n", why);
        pathf(path, "%s/error.txt", tmp);
        rc = e.oom ? imc_err_set(err, IMC_ENOMEM, "out of memory")
                   : write_atomic(path, e.s, e.len, err);
        free(e.s);
    }
    if (!rc && rename(tmp, final)) {
        if (errno == EEXIST || errno == ENOTEMPTY) /* another task finished it first */
            rm_rf(tmp);
        else
            rc = io_fail(err, "cannot rename into", final);
    }
    if (rc)
        rm_rf(tmp);
    close(lock);
    imc_provenance_free(&prov);
    return rc;
}

/* ---- the pool ----------------------------------------------------------------------------- */

static char *absolute(const char *path)
{
    char *a = realpath(path, NULL);
    return a ? a : strdup(path);
}

static void free_ctx(run_ctx *c, size_t n_models)
{
    free(c->model_sha);
    free((char *)c->arch);
    free((char *)c->dataset);
    for (size_t m = 0; c->models && m < n_models; m++)
        free(c->models[m]);
    free(c->models);
}

static int failed_run(const char *dir)
{
    char path[PATH_LEN];
    pathf(path, "%s/error.txt", dir);
    return exists(path);
}

int imc_sweep_run(const imc_sweep_spec *s, const imc_sweep_opts *o, imc_sweep_summary *sum,
                  imc_err *err)
{
    memset(sum, 0, sizeof *sum);
    run_ctx c = {s, o, NULL, NULL, calloc(s->n_models, sizeof(char *)),
                 calloc(s->n_models, sizeof *c.model_sha), ""};
    int rc = 0;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (!c.models || !c.model_sha) {
        free_ctx(&c, 0);
        return imc_err_set(err, IMC_ENOMEM, "out of memory");
    }
    c.arch = strchr(s->arch, '/') ? absolute(s->arch) : strdup(s->arch); /* bare: a search */
    c.dataset = s->dataset ? absolute(s->dataset) : NULL;
    for (size_t m = 0; m < s->n_models; m++)
        c.models[m] = absolute(s->models[m].file);
    for (size_t m = 0; !rc && m < s->n_models; m++) { /* each file once, not once per run */
        rc = imc_digest_path(c.models[m], c.model_sha[m], err);
        if (!rc) /* and the runs take it from here rather than hash it again */
            rc = imc_digest_export(c.models[m], c.model_sha[m], err);
    }
    if (!rc && s->numerics && c.dataset) {
        rc = imc_digest_path(c.dataset, c.dataset_sha, err);
        if (!rc)
            rc = imc_digest_export(c.dataset, c.dataset_sha, err);
    }
    size_t total = n_runs(s), mine = 0;
    for (size_t r = 0; r < total; r++)
        mine += (int)(r % (size_t)o->tasks) == o->task;
    sum->runs = mine;
    int jobs = o->jobs < 1 ? 1 : (size_t)o->jobs > mine ? (int)(mine ? mine : 1) : o->jobs;
    pid_t *pids = calloc((size_t)jobs, sizeof *pids);
    size_t *runs_of = calloc((size_t)jobs, sizeof *runs_of);
    if (!pids || !runs_of)
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    int active = 0;
    for (size_t r = 0; !rc && (r < total || active > 0);) {
        if (r < total && active < jobs) {
            size_t me = r++;
            if ((int)(me % (size_t)o->tasks) != o->task)
                continue;
            char dir[PATH_LEN];
            run_dir(s, o, me, dir);
            if (exists(dir)) {
                /* done already: skipped, unless it failed and failures are retried, or what it
                 * was made from (architecture, model, dataset, imcsim) has changed since */
                imc_provenance prov;
                char changed[256] = "";
                if ((rc = run_inputs(&c, me, &prov, err)) == 0)
                    changed_input(dir, &prov, changed, sizeof changed);
                imc_provenance_free(&prov);
                if (rc)
                    break;
                if (changed[0])
                    imc_notify(o->notify, IMC_NOTE_INFO,
                               "point %zu %s: its inputs changed since it ran (%s): running it "
                               "again", me / s->n_models, s->models[me % s->n_models].label,
                               changed);
                else if (!(o->retry_failed && failed_run(dir))) {
                    sum->skipped++;
                    continue;
                }
                /* out of the way in one step, then removed: a kill leaves no half run */
                char old[PATH_LEN], pd[PATH_LEN];
                point_dir(o, me / s->n_models, pd);
                pathf(old, "%s/.%s.old.%s.%ld", pd, s->models[me % s->n_models].label, host,
                      (long)getpid());
                if (rename(dir, old) != 0) {
                    rc = io_fail(err, "cannot move away", dir);
                    break;
                }
                rm_rf(old);
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                rc = io_fail(err, "cannot fork for", dir);
                break;
            }
            if (pid == 0) { /* the worker: free what it owns, so leak checkers see no loss */
                imc_err e;
                imc_err_clear(&e);
                int st = run_one(&c, me, host, &e);
                if (st)
                    imc_notify(o->notify, IMC_NOTE_ERROR, "%s", e.msg);
                free(pids);
                free(runs_of);
                free_ctx(&c, s->n_models);
                _exit(st ? 1 : 0);
            }
            for (int j = 0; j < jobs; j++)
                if (!pids[j]) {
                    pids[j] = pid;
                    runs_of[j] = me;
                    break;
                }
            active++;
            continue;
        }
        int st;
        pid_t done = wait(&st);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            rc = io_fail(err, "wait", "for workers");
            break;
        }
        for (int j = 0; j < jobs; j++) {
            if (pids[j] != done)
                continue;
            pids[j] = 0;
            active--;
            sum->ran++;
            size_t me = runs_of[j];
            char dir[PATH_LEN];
            run_dir(s, o, me, dir);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                rc = imc_err_set(err, IMC_EIO, "the worker of point %zu, model %s failed",
                                 me / s->n_models, s->models[me % s->n_models].label);
            else
                imc_notify(o->notify, IMC_NOTE_INFO, "[%zu/%zu] point %zu %s: %s",
                           sum->ran + sum->skipped, mine, me / s->n_models,
                           s->models[me % s->n_models].label, failed_run(dir) ? "failed" : "ok");
        }
    }
    while (active > 0) { /* after an error: let the running workers finish */
        int st;
        if (wait(&st) > 0 || errno != EINTR)
            active--;
    }
    free(pids);
    free(runs_of);
    free_ctx(&c, s->n_models);
    return rc ? rc : imc_sweep_collect(s, o, sum, err); /* it fills total, finished, failed */
}

/* ---- results.csv -------------------------------------------------------------------------- */

int imc_sweep_collect(const imc_sweep_spec *s, const imc_sweep_opts *o, imc_sweep_summary *sum,
                      imc_err *err)
{
    char path[PATH_LEN];
    pathf(path, "%s/.lock", o->outdir);
    int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (lock < 0)
        return io_fail(err, "cannot open", path);
    while (fcntl(lock, F_SETLKW, &fl) < 0)
        if (errno != EINTR) {
            close(lock);
            return io_fail(err, "cannot lock", path);
        }
    sbuf out = {0}, want = {0};
    header(s, &out);
    header(s, &want);
    sum->total = n_runs(s);
    sum->finished = sum->failed = 0;
    int rc = 0;
    for (size_t r = 0; !rc && r < n_runs(s); r++) {
        char dir[PATH_LEN];
        run_dir(s, o, r, dir);
        pathf(path, "%s/row.csv", dir);
        size_t len;
        char *text = slurp(path, &len);
        if (!text)
            continue;
        if (len < want.len || memcmp(text, want.s, want.len) != 0)
            rc = imc_err_set(err, IMC_EINPUT, "%s: its columns are not this sweep's", path);
        else
            sb_add(&out, "%s", text + want.len);
        sum->finished++;
        sum->failed += failed_run(dir);
        free(text);
    }
    pathf(path, "%s/results.csv", o->outdir);
    if (!rc)
        rc = out.oom ? imc_err_set(err, IMC_ENOMEM, "out of memory")
                     : write_atomic(path, out.s, out.len, err);
    free(out.s);
    free(want.s);
    close(lock); /* releases the lock */
    return rc;
}

/* ---- Slurm -------------------------------------------------------------------------------- */

int imc_sweep_write_slurm(const imc_sweep_spec *s, const imc_sweep_opts *o, const char *sweep,
                          const char *script, const char *const *sbatch, size_t n_sbatch,
                          imc_err *err)
{
    char logs[PATH_LEN];
    char *dir = absolute(o->outdir), *spec = absolute(s->path), *imcsim = absolute(o->imcsim);
    pathf(logs, "%s/slurm", dir);
    int rc = mkdir_p(logs, err);
    sbuf b = {0};
    sb_add(&b, "#!/bin/sh\n"
               "# imcsim-sweep job array for %s: %zu runs (%zu points x %zu models) in %d tasks.\n"
               "# Submit with: sbatch %s\n"
               "# Each task runs its share (run r belongs to task r %% %d), skipping runs already\n"
               "# done, then rewrites %s/results.csv from every finished run.\n",
           spec, n_runs(s), s->n_points, s->n_models, o->tasks, script, o->tasks, dir);
    sb_add(&b, "#SBATCH --job-name=imcsim-sweep\n#SBATCH --array=0-%d\n#SBATCH --ntasks=1\n"
               "#SBATCH --cpus-per-task=1\n#SBATCH --output=%s/%%A_%%a.out\n",
           o->tasks - 1, logs);
    for (size_t i = 0; i < n_sbatch; i++)
        sb_add(&b, "#SBATCH %s\n", sbatch[i]);
    sb_add(&b, "exec");
    sb_word(&b, sweep, 1);
    sb_word(&b, spec, 1);
    sb_add(&b, " -o");
    sb_word(&b, dir, 1);
    sb_add(&b, " --imcsim");
    sb_word(&b, imcsim, 1);
    sb_add(&b, " --tasks %d --task \"$SLURM_ARRAY_TASK_ID\" -j 1\n", o->tasks);
    if (!rc)
        rc = b.oom ? imc_err_set(err, IMC_ENOMEM, "out of memory")
                   : write_atomic(script, b.s, b.len, err);
    if (!rc)
        chmod(script, 0755);
    free(b.s);
    free(dir);
    free(spec);
    free(imcsim);
    return rc;
}
