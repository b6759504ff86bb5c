/* numerics.c -- FP32 vs IMC over a set of images, and the metrics (see numerics.h).
 *
 * Images go through both passes in batches. For per-layer SQNR the FP32 pass records every
 * layer output of the batch in call order; the IMC pass, which calls the layers in the same
 * order, compares its outputs with them and accumulates signal and error energy per layer. */
#include "sim/numerics/numerics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/numerics/dataset.h"
#include "sim/numerics/forward.h"
#include "sim/numerics/imc.h"
#include "sim/map/mapper.h"
#include "sim/base/blas.h"
#include "sim/base/vectorize.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"
#include "sim/base/hugepages.h"
#include "sim/base/outfile.h"

typedef struct recorder {
    float *data;     /* FP32 outputs of the batch, in call order */
    size_t used, cap;
    size_t cursor;   /* the IMC pass's position in data */
    double *signal, *noise; /* per layer */
    int failed;
    /* progress within a batch: the IMC pass's share of the batch's outputs compared so far */
    const imc_notifier *notify;
    size_t first, batch, total, shown; /* images before the batch, in it, in all; last shown */
} recorder;

static void record(void *ctx, size_t layer, const float *y, size_t rows, size_t out)
{
    recorder *r = ctx;
    (void)layer;
    size_t n = rows * out;
    if (r->used + n > r->cap) {
        size_t cap = r->cap ? r->cap : 1 << 20;
        while (cap < r->used + n)
            cap *= 2;
        /* only where the batch's size, given up front (imc_numerics_run), falls short */
        float *grown = imc_hugepages_grow(r->data, r->used * sizeof *grown, cap * sizeof *grown);
        if (!grown) {
            r->failed = 1;
            return;
        }
        r->data = grown;
        r->cap = cap;
    }
    memcpy(r->data + r->used, y, n * sizeof *y);
    r->used += n;
}

/* *SIGNAL += sum of REF[i]^2 and *NOISE += sum of (Y[i] - REF[i])^2 over N values, in double,
 * LANES sums side by side (one chain of dependent adds took 33 ms of a DeiT-S image, on the
 * thread every worker waits for). */
static WIDEST void power_sums(const float *ref, const float *y, size_t n, double *signal,
                              double *noise)
{
    enum { LANES = 8 };
    double s[LANES] = {0}, z[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (size_t k = 0; k < LANES; k++) {
            double d = (double)y[i + k] - ref[i + k];
            s[k] += (double)ref[i + k] * ref[i + k];
            z[k] += d * d;
        }
    for (; i < n; i++) {
        double d = (double)y[i] - ref[i];
        s[0] += (double)ref[i] * ref[i];
        z[0] += d * d;
    }
    for (size_t k = 0; k < LANES; k++)
        *signal += s[k], *noise += z[k];
}

static void compare(void *ctx, size_t layer, const float *y, size_t rows, size_t out)
{
    recorder *r = ctx;
    size_t n = rows * out;
    if (r->failed || r->cursor + n > r->used) {
        r->failed = 1;
        return;
    }
    power_sums(r->data + r->cursor, y, n, &r->signal[layer], &r->noise[layer]);
    r->cursor += n;
    /* a long batch (slow devices, large batches) shows progress before it ends: images done
     * estimated from the share of the batch's layer outputs the IMC pass has produced */
    size_t done = r->first + (size_t)((double)r->batch * (double)r->cursor / (double)r->used);
    if (done > r->shown && done < r->first + r->batch) {
        r->shown = done;
        imc_notify_progress(r->notify, "images", done, r->total);
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static size_t argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

static double sqnr_db(double signal, double noise)
{
    if (noise == 0)
        return INFINITY;
    return 10 * log10(signal / noise);
}

/* One row: model,metric,layer,value (the model and layer names quoted where CSV needs it). */
static void csv_row(FILE *fp, const char *model, const char *metric, const char *layer, double v)
{
    imc_csv_field(fp, model);
    fprintf(fp, ",%s,", metric);
    imc_csv_field(fp, layer);
    fprintf(fp, ",%.17g\n", v);
}

static void write_csv(FILE *fp, const imc_network *net, const imc_numerics_result *res,
                      const recorder *r)
{
    fprintf(fp, "model,metric,layer,value\n");
    if (res->labelled) {
        csv_row(fp, net->name, "top1_fp32", "", res->top1_fp32);
        csv_row(fp, net->name, "top1_imc", "", res->top1_imc);
    }
    csv_row(fp, net->name, "agreement", "", res->agreement);
    csv_row(fp, net->name, "cosine_mean", "", res->cosine_mean);
    csv_row(fp, net->name, "cosine_min", "", res->cosine_min);
    for (size_t l = 0; l < net->n_layers; l++)
        csv_row(fp, net->name, "sqnr_db", net->layers[l].name,
                sqnr_db(r->signal[l], r->noise[l]));
}

int imc_numerics_run(const imc_arch *arch, const imc_numerics_request *rq, FILE *out,
                     imc_numerics_result *res, imc_err *err)
{
    memset(res, 0, sizeof *res);
    if (rq->threads > 0)
        imc_blas_set_threads(rq->threads);
    imc_netfile *nf = NULL;
    imc_network *net = NULL;
    imc_placement *place = NULL;
    imc_forward *fwd = NULL;
    imc_emul *emul = NULL;
    imc_dataset *ds = NULL;
    recorder rec = {0};
    float *fp32 = NULL, *imc = NULL;
    imc_outfile csv = {0}, lg = {0};
    int rc = imc_netfile_open(&nf, rq->model, err);
    if (!rc)
        rc = imc_network_load(&net, nf, err);
    if (!rc)
        rc = imc_mapper_place(&place, arch, net, err);
    if (!rc && rq->dataset)
        rc = imc_dataset_load(&ds, rq->dataset, rq->images, net, err);
    else if (!rc)
        rc = imc_dataset_synthetic(&ds, rq->images ? rq->images : 16, net, rq->seed, err);
    if (!rc && rq->csv)
        rc = imc_outfile_open(&csv, rq->csv, err);
    if (!rc && csv.fp && rq->prov)
        imc_provenance_csv(csv.fp, rq->prov);
    if (!rc && rq->logits)
        rc = imc_outfile_open(&lg, rq->logits, err);
    if (!rc)
        rc = imc_forward_new(&fwd, net, err);
    if (!rc)
        rc = imc_emul_new(&emul, arch, place, fwd, rq->seed, err);
    if (!rc) { /* as many workers as BLAS threads */
        int threads = rq->threads > 0 ? rq->threads
                      : imc_blas_threads();
        imc_emul_threads(emul, threads, 0);
        imc_forward_threads(fwd, threads);
    }
    size_t n = ds ? ds->n : 0, K = net ? (size_t)net->num_classes : 0;
    size_t img = ds ? (size_t)ds->channels * ds->height * ds->width : 0;
    if (!rc && (!(fp32 = malloc(n * K * sizeof *fp32)) || !(imc = malloc(n * K * sizeof *imc)) ||
                !(rec.signal = calloc(net->n_layers, sizeof *rec.signal)) ||
                !(rec.noise = calloc(net->n_layers, sizeof *rec.noise))))
        rc = imc_err_set(err, IMC_ENOMEM, "out of memory");
    size_t batch = rq->batch > 0 ? (size_t)rq->batch : 4;
    if (!rc) { /* room for a batch's layer outputs at once: no copies as it fills (DeiT-S 4
                * images: 127 MB, 255 MB copied and zeroed growing it from 1 MB) */
        size_t per_image = 0;
        for (size_t l = 0; l < net->n_layers; l++)
            per_image += (size_t)net->layers[l].vectors * (size_t)net->layers[l].out;
        size_t cap = per_image * (batch < n ? batch : n);
        if (cap && (rec.data = imc_hugepages_alloc(cap * sizeof *rec.data)))
            rec.cap = cap;
    }
    imc_mvm_ops ops = emul ? imc_emul_ops(emul) : (imc_mvm_ops){0};
    imc_probe rp = {&rec, record}, cp = {&rec, compare};
    double t_fp32 = 0, t_imc = 0;
    rec.notify = rq->notify;
    rec.total = n;
    if (!rc) /* the clock of the progress line starts now, not after the first batch */
        imc_notify_progress(rq->notify, "images", 0, n);
    for (size_t i = 0; !rc && i < n; i += batch) {
        size_t b = n - i < batch ? n - i : batch;
        rec.used = rec.cursor = 0;
        rec.first = rec.shown = i;
        rec.batch = b;
        double t0 = now_s();
        rc = imc_forward_run(fwd, ds->images + i * img, b, fp32 + i * K, NULL, &rp, err);
        double t1 = now_s();
        if (!rc)
            rc = imc_forward_run(fwd, ds->images + i * img, b, imc + i * K, &ops, &cp, err);
        t_fp32 += t1 - t0;
        t_imc += now_s() - t1;
        if (!rc && rec.failed)
            rc = imc_err_set(err, IMC_ENOMEM, "out of memory comparing layer outputs");
        imc_notify_progress(rq->notify, "images", i + b, n);
    }
    if (!rc) {
        res->n = n;
        res->exact = imc_emul_exact(emul);
        res->fp32_s = t_fp32 / (double)n;
        res->imc_s = t_imc / (double)n;
        res->cosine_min = 1;
        size_t agree = 0, ok_fp32 = 0, ok_imc = 0;
        for (size_t i = 0; i < n; i++) {
            const float *a = fp32 + i * K, *c = imc + i * K;
            size_t pa = argmax(a, K), pc = argmax(c, K);
            agree += pa == pc;
            if (ds->labels) {
                ok_fp32 += (int32_t)pa == ds->labels[i];
                ok_imc += (int32_t)pc == ds->labels[i];
            }
            double dot = 0, na = 0, nc = 0;
            for (size_t k = 0; k < K; k++)
                dot += (double)a[k] * c[k], na += (double)a[k] * a[k], nc += (double)c[k] * c[k];
            double cs = na > 0 && nc > 0 ? dot / sqrt(na * nc) : (na == nc ? 1 : 0);
            res->cosine_mean += cs / (double)n;
            res->cosine_min = cs < res->cosine_min ? cs : res->cosine_min;
        }
        res->agreement = (double)agree / (double)n;
        if (ds->labels) {
            res->labelled = n;
            res->top1_fp32 = (double)ok_fp32 / (double)n;
            res->top1_imc = (double)ok_imc / (double)n;
        }
        fprintf(out, "imcsim numerics: %s on %s\n", net->name, arch->file);
        if (rq->dataset)
            fprintf(out, "  images               %zu from %s%s\n", n, rq->dataset,
                    ds->labels ? " (labelled)" : "");
        else
            fprintf(out, "  images               %zu synthetic (seed %lu)\n", n, rq->seed);
        fprintf(out, "  devices              seed %lu; %s\n", rq->seed,
                res->exact ? "ideal, ADC lossless: exact integer path"
                           : "full bit-slice emulation");
        if (res->labelled)
            fprintf(out, "  top-1 accuracy       FP32 %.2f %%   IMC %.2f %%\n", 100 * res->top1_fp32,
                    100 * res->top1_imc);
        fprintf(out, "  top-1 agreement      %.2f %% of images (IMC vs FP32)\n", 100 * res->agreement);
        fprintf(out, "  logit cosine         mean %.6f, min %.6f\n", res->cosine_mean, res->cosine_min);
        fprintf(out, "  time per image       FP32 %.3f s, IMC %.3f s\n", res->fp32_s, res->imc_s);
        double gflop = imc_forward_flops(net) * 1e-9;
        fprintf(out, "  FP32 rate            %.1f GFLOP/s (%.2f GFLOP per image)\n",
                res->fp32_s > 0 ? gflop / res->fp32_s : 0, gflop);
        fprintf(out, "  per-layer SQNR of the IMC output vs FP32 (dB):\n");
        for (size_t l = 0; l < net->n_layers; l++) {
            double q = sqnr_db(rec.signal[l], rec.noise[l]);
            fprintf(out, "    %-34s %8.2f\n", net->layers[l].name, q);
        }
        if (csv.fp)
            write_csv(csv.fp, net, res, &rec);
        if (lg.fp) { /* the logits file is written whole by the netfile writer */
            imc_outfile_abort(&lg);
            rc = imc_logits_write(rq->logits, fp32, imc, ds->labels, n, (int)K, rq->prov, err);
        }
        if (!rc && csv.fp)
            rc = imc_outfile_commit(&csv, err);
    }
    if (rc) {
        imc_outfile_abort(&csv);
        imc_outfile_abort(&lg);
    }
    free(rec.data), free(rec.signal), free(rec.noise), free(fp32), free(imc);
    imc_dataset_free(ds);
    imc_emul_free(emul);
    imc_forward_free(fwd);
    imc_placement_free(place);
    imc_network_free(net);
    imc_netfile_close(nf);
    return rc;
}
