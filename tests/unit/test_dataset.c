/* test_dataset.c -- images for the reference numerics: IDX files (plain and gzipped, by
 * directory or by file, labels found beside the images) read back byte for byte as x / 255;
 * safetensors images and labels in several dtypes, whole and sliced by MAX; the model file's
 * input_mean / input_std applied per channel; synthetic images deterministic per seed and inside
 * [0, 1); the logits file read back; every class of bad input failing with its exact one-line
 * message. The files are written into a mkdtemp directory; Debian's dataset-fashion-mnist is
 * read too when it happens to be installed. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sim/numerics/dataset.h"
#include "sim/net/modelgen.h"
#include "sim/net/netfile.h"
#include "sim/net/network.h"

#include <CUnit/CUnit.h>

#include "tests/unit/require.h"

#include "tests/unit/testmodels.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static char paths[64][4200]; /* the paths tmp_path handed out in this test */
static int n_paths;

/* A fresh test_dir for one test, removed (with all in it) by test_dir_remove at its end. */
static int make_tmpdir(void)
{
    n_paths = 0;
    return test_dir_make("dataset");
}

/* test_dir/NAME, valid until the next make_tmpdir. */
static const char *tmp_path(const char *name)
{
    CU_ASSERT_FATAL(n_paths < 64);
    char *p = paths[n_paths++];
    test_dir_path(p, sizeof paths[0], name);
    return p;
}

static const char *tmp_subdir(const char *name)
{
    const char *p = tmp_path(name);
    CU_ASSERT_EQUAL_FATAL(mkdir(p, 0700), 0);
    return p;
}

static void write_file(const char *path, const void *data, size_t size, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(gzwrite(f, data, (unsigned)size), (int)size);
        CU_ASSERT_EQUAL(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(fwrite(data, 1, size, f), size);
        CU_ASSERT_EQUAL(fclose(f), 0);
    }
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The pixel K of image I in every IDX file of these tests. */
static unsigned char pixel(size_t i, size_t k)
{
    return (unsigned char)((i * 16 + k) * 37 % 256);
}

/* An IDX images file of N images ROWS x COLS with pixel(); SIZE gets its length. */
static unsigned char *idx_images(uint32_t n, uint32_t rows, uint32_t cols, size_t *size)
{
    size_t plane = (size_t)rows * cols;
    *size = 16 + n * plane;
    unsigned char *b = malloc(*size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    put_be32(b, 0x00000803);
    put_be32(b + 4, n);
    put_be32(b + 8, rows);
    put_be32(b + 12, cols);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < plane; k++)
            b[16 + i * plane + k] = pixel(i, k);
    return b;
}

static void write_idx_images(const char *path, uint32_t n, uint32_t rows, uint32_t cols, int gz)
{
    size_t size;
    unsigned char *b = idx_images(n, rows, cols, &size);
    write_file(path, b, size, gz);
    free(b);
}

static void write_idx_labels(const char *path, const unsigned char *labels, uint32_t n, int gz)
{
    unsigned char b[64];
    CU_ASSERT_FATAL(n <= 56);
    put_be32(b, 0x00000801);
    put_be32(b + 4, n);
    memcpy(b + 8, labels, n);
    write_file(path, b, 8 + n, gz);
}

static imc_dataset *load_ok(const char *path, size_t max, const imc_network *net)
{
    imc_dataset *d = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_dataset_load(&d, path, max, net, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL(rc, 0);
    return d;
}

/* A network with no model file (as a trace makes): no normalisation. */
static imc_network bare_net(int img_size, int in_chans, int num_classes)
{
    imc_network net;
    memset(&net, 0, sizeof net);
    net.img_size = net.in_h = net.in_w = img_size;
    net.in_chans = in_chans;
    net.num_classes = num_classes;
    return net;
}

static const unsigned char labels3[3] = {7, 0, 9};

/* The 3 test images of 4 x 4 with labels3 (labels checked only when WITH_LABELS). */
static void check_idx_dataset(const imc_dataset *d, size_t n, int with_labels)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(d->n, n);
    CU_ASSERT_EQUAL(d->channels, 1);
    CU_ASSERT_EQUAL(d->height, 4);
    CU_ASSERT_EQUAL(d->width, 4);
    int exact = 1;
    for (size_t i = 0; i < d->n; i++)
        for (size_t k = 0; k < 16; k++)
            exact &= d->images[i * 16 + k] == pixel(i, k) / 255.0f;
    CU_ASSERT(exact);
    if (!with_labels) {
        CU_ASSERT_PTR_NULL(d->labels);
        return;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->labels);
    for (size_t i = 0; i < d->n; i++)
        CU_ASSERT_EQUAL(d->labels[i], labels3[i]);
}

/* ---- IDX ---------------------------------------------------------------------------------- */

static void test_idx_forms(void)
{
    CU_ASSERT_EQUAL_FATAL(make_tmpdir(), 0);
    imc_network net = bare_net(4, 1, 10);
    for (int gz = 0; gz < 2; gz++) {
        const char *dir = tmp_subdir(gz ? "gz" : "plain");
        char images[700], labels[700];
        snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte%s", gz ? "gz" : "plain",
                 gz ? ".gz" : "");
        snprintf(labels, sizeof labels, "%s/t10k-labels-idx1-ubyte%s", gz ? "gz" : "plain",
                 gz ? ".gz" : "");
        const char *ipath = tmp_path(images), *lpath = tmp_path(labels);
        write_idx_images(ipath, 3, 4, 4, gz);
        write_idx_labels(lpath, labels3, 3, gz);

        imc_dataset *d = load_ok(dir, 0, &net); /* the directory */
        check_idx_dataset(d, 3, 1);
        imc_dataset_free(d);
        char slash[700];
        snprintf(slash, sizeof slash, "%s/", dir);
        d = load_ok(slash, 0, &net);
        check_idx_dataset(d, 3, 1);
        imc_dataset_free(d);
        d = load_ok(ipath, 0, &net); /* the images file: labels found beside it */
        check_idx_dataset(d, 3, 1);
        imc_dataset_free(d);
        d = load_ok(dir, 2, &net); /* max */
        check_idx_dataset(d, 2, 1);
        imc_dataset_free(d);
        d = load_ok(ipath, 1, &net);
        check_idx_dataset(d, 1, 1);
        imc_dataset_free(d);
        d = load_ok(dir, 1000, &net); /* max beyond the file: all */
        check_idx_dataset(d, 3, 1);
        imc_dataset_free(d);
    }

    /* Images plain, labels gzipped beside them; an images file of another name has no labels;
     * a directory without a labels file gives images alone. */
    const char *dir = tmp_subdir("mixed");
    (void)dir;
    const char *ipath = tmp_path("mixed/fashion-images-idx3-ubyte");
    write_idx_images(ipath, 3, 4, 4, 0);
    write_idx_labels(tmp_path("mixed/fashion-labels-idx1-ubyte.gz"), labels3, 3, 1);
    imc_dataset *d = load_ok(ipath, 0, &net);
    check_idx_dataset(d, 3, 1);
    imc_dataset_free(d);
    const char *lone = tmp_path("mixed/digits.idx");
    write_idx_images(lone, 3, 4, 4, 1);
    d = load_ok(lone, 0, &net);
    check_idx_dataset(d, 3, 0);
    imc_dataset_free(d);
    const char *nolabels = tmp_subdir("nolabels");
    write_idx_images(tmp_path("nolabels/t10k-images-idx3-ubyte"), 3, 4, 4, 0);
    d = load_ok(nolabels, 0, &net);
    check_idx_dataset(d, 3, 0);
    imc_dataset_free(d);
    test_dir_remove();
}

/* Debian's dataset-fashion-mnist installs the gzipped test set in this directory; checked only
 * when the package is there (the suite must not need it). */
static void test_fashion_mnist_package(void)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    struct stat st;
    if (stat(dir, &st) != 0) {
        IMC_UNAVAILABLE("dataset-fashion-mnist is not installed (tools/install-deps)");
        return;
    }
    imc_network net = bare_net(28, 1, 10);
    imc_dataset *d = load_ok(dir, 10, &net);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(d->n, 10);
    CU_ASSERT_EQUAL(d->height, 28);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->labels);
    static const int32_t first[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(d->labels[i], first[i]);
    double sum = 0;
    for (int k = 0; k < 784; k++)
        sum += d->images[k] * 255.0;
    CU_ASSERT_DOUBLE_EQUAL(sum, 33456, 1e-2); /* the byte sum of the first image */
    imc_dataset_free(d);
}

/* ---- safetensors -------------------------------------------------------------------------- */

static void test_safetensors(void)
{
    CU_ASSERT_EQUAL_FATAL(make_tmpdir(), 0);
    imc_err err;
    imc_err_clear(&err);

    /* F32 images [3, 2, 4, 4] and I64 labels. */
    float img[3 * 2 * 16];
    for (size_t i = 0; i < sizeof img / sizeof img[0]; i++)
        img[i] = (float)i * 0.125f - 3;
    int64_t lab[3] = {4, 0, 2};
    unsigned char img_le[sizeof img], lab_le[sizeof lab];
    for (size_t i = 0; i < 3 * 2 * 16; i++) {
        uint32_t u;
        memcpy(&u, &img[i], 4);
        for (int k = 0; k < 4; k++)
            img_le[4 * i + k] = (unsigned char)(u >> (8 * k));
    }
    for (size_t i = 0; i < 3; i++)
        for (int k = 0; k < 8; k++)
            lab_le[8 * i + k] = (unsigned char)((uint64_t)lab[i] >> (8 * k));
    imc_netwriter *w = imc_netwriter_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    int64_t shape[4] = {3, 2, 4, 4}, lshape[1] = {3};
    CU_ASSERT_EQUAL(imc_netwriter_add(w, "images", IMC_DT_F32, 4, shape, img_le, &err), 0);
    CU_ASSERT_EQUAL(imc_netwriter_add(w, "labels", IMC_DT_I64, 1, lshape, lab_le, &err), 0);
    const char *path = tmp_path("set.safetensors");
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_write(w, path, &err), 0);
    imc_netwriter_free(w);

    imc_network net = bare_net(4, 2, 5);
    for (size_t max = 0; max <= 4; max++) {
        imc_dataset *d = load_ok(path, max, &net);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        size_t n = max && max < 3 ? max : 3;
        CU_ASSERT_EQUAL(d->n, n);
        CU_ASSERT_EQUAL(d->channels, 2);
        CU_ASSERT_EQUAL(memcmp(d->images, img, n * 32 * sizeof(float)), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d->labels);
        for (size_t i = 0; i < n; i++)
            CU_ASSERT_EQUAL(d->labels[i], lab[i]);
        imc_dataset_free(d);
    }

    /* F16 images sliced by MAX (the ranged conversion), U8 labels, no labels at all. */
    uint16_t half[4 * 16];
    unsigned char half_le[sizeof half], u8lab[4] = {1, 2, 3, 4};
    for (size_t i = 0; i < 64; i++) {
        half[i] = (uint16_t)(0x3800 + (i % 4) * 0x400); /* 0.5, 1, 2, 4 */
        half_le[2 * i] = (unsigned char)half[i];
        half_le[2 * i + 1] = (unsigned char)(half[i] >> 8);
    }
    w = imc_netwriter_new();
    int64_t hshape[4] = {4, 1, 4, 4}, hl[1] = {4};
    CU_ASSERT_EQUAL(imc_netwriter_add(w, "labels", IMC_DT_U8, 1, hl, u8lab, &err), 0);
    CU_ASSERT_EQUAL(imc_netwriter_add(w, "images", IMC_DT_F16, 4, hshape, half_le, &err), 0);
    const char *hpath = tmp_path("half.bin");
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_write(w, hpath, &err), 0);
    imc_netwriter_free(w);
    imc_network net1 = bare_net(4, 1, 10);
    imc_dataset *d = load_ok(hpath, 3, &net1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(d->n, 3);
    static const float hv[4] = {0.5f, 1, 2, 4};
    int exact = 1;
    for (size_t i = 0; i < 48; i++)
        exact &= d->images[i] == hv[i % 4];
    CU_ASSERT(exact);
    CU_ASSERT_EQUAL(d->labels[2], 3);
    imc_dataset_free(d);

    /* Large images: a MAX below N converts in several 4 MiB slices. */
    enum { BIG = 512, NBIG = 10 };
    size_t per = (size_t)BIG * BIG;
    unsigned char *big = malloc(NBIG * per);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    for (size_t i = 0; i < NBIG * per; i++)
        big[i] = (unsigned char)(i * 7 % 251);
    w = imc_netwriter_new();
    int64_t bshape[4] = {NBIG, 1, BIG, BIG};
    CU_ASSERT_EQUAL(imc_netwriter_add(w, "images", IMC_DT_U8, 4, bshape, big, &err), 0);
    const char *bpath = tmp_path("big.st");
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_write(w, bpath, &err), 0);
    imc_netwriter_free(w);
    imc_network netb = bare_net(BIG, 1, 10);
    d = load_ok(bpath, NBIG - 1, &netb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(d->n, NBIG - 1);
    CU_ASSERT_PTR_NULL(d->labels);
    exact = 1;
    for (size_t i = 0; i < (NBIG - 1) * per; i++)
        exact &= d->images[i] == (float)big[i]; /* no scaling: the file is the model's scale */
    CU_ASSERT(exact);
    imc_dataset_free(d);
    free(big);
    test_dir_remove();
}

/* ---- normalisation from the model file ---------------------------------------------------- */

/* A tiny DeiT of IN_CHANS channels, 4 x 4 images and 5 classes, rewritten with the metadata
 * input_mean = MEAN and input_std = STD (each NULL: absent). */
static model tiny_model(const char *name, int in_chans, const char *mean, const char *std)
{
    imc_err err;
    imc_err_clear(&err);
    imc_modelgen_spec s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "tiny");
    s.embed_dim = 8;
    s.depth = 1;
    s.num_heads = 2;
    s.mlp_hidden = 16;
    s.img_size = 4;
    s.patch_size = 2;
    s.in_chans = in_chans;
    s.num_classes = 5;
    s.seed = 1;
    char gen_name[64];
    snprintf(gen_name, sizeof gen_name, "gen-%s", name);
    const char *gen = tmp_path(gen_name), *path = tmp_path(name);
    int rc = imc_modelgen_write(&s, gen, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    imc_netfile *src = NULL;
    CU_ASSERT_EQUAL_FATAL(imc_netfile_open(&src, gen, &err), 0);
    imc_netwriter *w = imc_netwriter_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    for (size_t i = 0; i < imc_netfile_count(src); i++) {
        const imc_tensor *t = imc_netfile_at(src, i);
        CU_ASSERT_EQUAL(imc_netwriter_add(w, t->name, t->dtype, t->ndim, t->shape,
                                          imc_netfile_data(src, t), &err), 0);
    }
    for (size_t i = 0; i < imc_netfile_meta_count(src); i++) {
        const char *key = imc_netfile_meta_key(src, i);
        CU_ASSERT_EQUAL(imc_netwriter_meta(w, key, imc_netfile_meta(src, key), &err), 0);
    }
    if (mean)
        CU_ASSERT_EQUAL(imc_netwriter_meta(w, "input_mean", mean, &err), 0);
    if (std)
        CU_ASSERT_EQUAL(imc_netwriter_meta(w, "input_std", std, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_write(w, path, &err), 0);
    imc_netwriter_free(w);
    imc_netfile_close(src);

    model m = {NULL, NULL};
    CU_ASSERT_EQUAL_FATAL(imc_netfile_open(&m.nf, path, &err), 0);
    rc = imc_network_load(&m.net, m.nf, &err);
    if (rc)
        print_err(&err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(m.net->in_chans, in_chans);
    CU_ASSERT_EQUAL(m.net->img_size, 4);
    return m;
}

static void test_normalisation(void)
{
    CU_ASSERT_EQUAL_FATAL(make_tmpdir(), 0);
    imc_err err;
    imc_err_clear(&err);
    static const struct {
        const char *mean, *std;
        float m[3], s[3];
    } forms[] = {
        {"0.485,0.456,0.406", "0.229,0.224,0.225", {0.485f, 0.456f, 0.406f},
         {0.229f, 0.224f, 0.225f}},
        {" 0.5 ", "[0.5, 0.25, 2]", {0.5f, 0.5f, 0.5f}, {0.5f, 0.25f, 2}},
        {"[ -1e-1 ,0, 1 ]", "1", {-0.1f, 0, 1}, {1, 1, 1}},
    };
    imc_network bare = bare_net(4, 3, 5);
    imc_dataset *raw = NULL;
    CU_ASSERT_EQUAL_FATAL(imc_dataset_synthetic(&raw, 2, &bare, 7, &err), 0);
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        char name[32];
        snprintf(name, sizeof name, "norm%zu.bin", f);
        model m = tiny_model(name, 3, forms[f].mean, forms[f].std);
        imc_dataset *d = NULL;
        int rc = imc_dataset_synthetic(&d, 2, m.net, 7, &err);
        if (rc)
            print_err(&err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        int exact = 1;
        for (size_t i = 0; i < 2 * 3 * 16; i++) {
            size_t c = i / 16 % 3;
            exact &= d->images[i] == (raw->images[i] - forms[f].m[c]) / forms[f].s[c];
        }
        CU_ASSERT(exact);
        imc_dataset_free(d);
        free_model(&m);
    }
    imc_dataset_free(raw);

    /* IDX images through a 1-channel model with a single mean and std. */
    model m = tiny_model("gray.bin", 1, "0.1307", "0.3081");
    const char *ipath = tmp_path("t10k-images-idx3-ubyte");
    write_idx_images(ipath, 3, 4, 4, 0);
    imc_dataset *d = load_ok(ipath, 0, m.net);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int exact = 1;
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; k < 16; k++)
            exact &= d->images[i * 16 + k] == (pixel(i, k) / 255.0f - 0.1307f) / 0.3081f;
    CU_ASSERT(exact);
    imc_dataset_free(d);
    free_model(&m);

    /* Without the metadata: the [0, 1) values as drawn. */
    m = tiny_model("plain.bin", 1, NULL, NULL);
    d = load_ok(ipath, 0, m.net);
    check_idx_dataset(d, 3, 0);
    imc_dataset_free(d);
    free_model(&m);
    test_dir_remove();
}

/* Malformed metadata: each error names the model file and the key. */
static void test_bad_metadata(void)
{
    CU_ASSERT_EQUAL_FATAL(make_tmpdir(), 0);
    static const struct {
        const char *mean, *std, *msg;
    } cases[] = {
        {"0.5,abc,0.5", "1", "__metadata__ 'input_mean': '0.5,abc,0.5' is not a list of numbers "
                             "(one per channel, or one for all, separated by commas)"},
        {"", "1", "__metadata__ 'input_mean': '' is not a list of numbers (one per channel, or "
                  "one for all, separated by commas)"},
        {"0.5,", "1", "__metadata__ 'input_mean': '0.5,' is not a list of numbers (one per "
                      "channel, or one for all, separated by commas)"},
        {"[0.5", "1", "__metadata__ 'input_mean': '[0.5' is not a list of numbers (one per "
                      "channel, or one for all, separated by commas)"},
        {"nan", "1", "__metadata__ 'input_mean': 'nan' is not a list of numbers (one per "
                     "channel, or one for all, separated by commas)"},
        {"0.5,0.5", "1", "__metadata__ 'input_mean': '0.5,0.5' has 2 values; the model has 3 "
                         "channels (give one per channel, or one for all)"},
        {"0,0,0,0", "1", "__metadata__ 'input_mean': '0,0,0,0' has 4 values; the model has 3 "
                         "channels (give one per channel, or one for all)"},
        {"0.5", "0.2,0,0.2", "__metadata__ 'input_std': 0 is not a positive number"},
        {"0.5", "-1", "__metadata__ 'input_std': -1 is not a positive number"},
        {"0.5", "1e-50", "__metadata__ 'input_std': 1e-50 is outside the range of a float"},
        {"1e39", "1", "__metadata__ 'input_mean': 1e+39 is outside the range of a float"},
        {"1e999", "1", "__metadata__ 'input_mean': inf is outside the range of a float"},
        {"0.5", NULL, "__metadata__ has 'input_mean' but not 'input_std' (give both or neither)"},
        {NULL, "0.5", "__metadata__ has 'input_std' but not 'input_mean' (give both or neither)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "m%zu.bin", i);
        model m = tiny_model(name, 3, cases[i].mean, cases[i].std);
        imc_dataset *d = (imc_dataset *)&m; /* must come back NULL */
        imc_err err;
        imc_err_clear(&err);
        CU_ASSERT_EQUAL(imc_dataset_synthetic(&d, 1, m.net, 1, &err), IMC_EINPUT);
        CU_ASSERT_PTR_NULL(d);
        CU_ASSERT_STRING_EQUAL(err.file, imc_netfile_path(m.nf));
        if (strcmp(err.msg, cases[i].msg) != 0)
            fprintf(stderr, "\ncase %zu: got '%s'\n", i, err.msg);
        CU_ASSERT_STRING_EQUAL(err.msg, cases[i].msg);
        free_model(&m);
    }
    test_dir_remove();
}

/* ---- synthetic ---------------------------------------------------------------------------- */

static void test_synthetic(void)
{
    imc_network net = bare_net(8, 3, 10);
    imc_err err;
    imc_err_clear(&err);
    imc_dataset *a = NULL, *b = NULL, *c = NULL;
    CU_ASSERT_EQUAL_FATAL(imc_dataset_synthetic(&a, 5, &net, 42, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_dataset_synthetic(&b, 5, &net, 42, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_dataset_synthetic(&c, 5, &net, 43, &err), 0);
    size_t values = 5 * 3 * 8 * 8;
    CU_ASSERT_EQUAL(a->n, 5);
    CU_ASSERT_EQUAL(a->channels, 3);
    CU_ASSERT_EQUAL(a->height, 8);
    CU_ASSERT_EQUAL(a->width, 8);
    CU_ASSERT_PTR_NULL(a->labels);
    CU_ASSERT_EQUAL(memcmp(a->images, b->images, values * sizeof(float)), 0);
    size_t same = 0;
    double lo = 1, hi = 0, sum = 0;
    for (size_t i = 0; i < values; i++) {
        same += a->images[i] == c->images[i];
        lo = fmin(lo, a->images[i]);
        hi = fmax(hi, a->images[i]);
        sum += a->images[i];
    }
    CU_ASSERT(same < values / 100);
    CU_ASSERT(lo >= 0);
    CU_ASSERT(hi < 1);
    CU_ASSERT(lo < 0.01 && hi > 0.99); /* 960 draws cover the range */
    CU_ASSERT_DOUBLE_EQUAL(sum / (double)values, 0.5, 0.05);
    imc_dataset_free(a);
    imc_dataset_free(b);
    imc_dataset_free(c);

    a = (imc_dataset *)&net;
    CU_ASSERT_EQUAL(imc_dataset_synthetic(&a, 0, &net, 1, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_STRING_EQUAL(err.msg, "synthetic images: the count must be at least 1");
    CU_ASSERT_EQUAL(imc_dataset_synthetic(&a, (size_t)1 << 26, &net, 1, &err), IMC_EINPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "synthetic images: 67108864 images of 192 values are more "
                                    "than the 268435456 values one run holds");
    imc_network none = bare_net(0, 3, 10);
    CU_ASSERT_EQUAL(imc_dataset_synthetic(&a, 1, &none, 1, &err), IMC_EINPUT);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "the network has no input shape (channels, image size, classes)");
}

/* ---- logits ------------------------------------------------------------------------------- */

static void test_logits_round_trip(void)
{
    CU_ASSERT_EQUAL_FATAL(make_tmpdir(), 0);
    imc_err err;
    imc_err_clear(&err);
    float fp32[3 * 4], imc[3 * 4];
    for (int i = 0; i < 12; i++) {
        fp32[i] = (float)i * 0.75f - 4;
        imc[i] = -(float)i / 3;
    }
    int32_t labels[3] = {3, 0, -1};
    for (int with_labels = 0; with_labels < 2; with_labels++) {
        const char *path = tmp_path(with_labels ? "logits-l.safetensors" : "logits.safetensors");
        CU_ASSERT_EQUAL_FATAL(imc_logits_write(path, fp32, imc, with_labels ? labels : NULL, 3, 4, NULL,
                                               &err), 0);
        imc_netfile *nf = NULL;
        CU_ASSERT_EQUAL_FATAL(imc_netfile_open(&nf, path, &err), 0);
        CU_ASSERT_EQUAL(imc_netfile_count(nf), with_labels ? 3u : 2u);
        CU_ASSERT_STRING_EQUAL(imc_netfile_meta(nf, "format"), "imcsim-logits");
        CU_ASSERT_STRING_EQUAL(imc_netfile_meta(nf, "format_version"), "1");
        static const char *names[2] = {"fp32", "imc"};
        const float *want[2] = {fp32, imc};
        for (int k = 0; k < 2; k++) {
            const imc_tensor *t = imc_netfile_find(nf, names[k]);
            CU_ASSERT_PTR_NOT_NULL_FATAL(t);
            CU_ASSERT_EQUAL(t->dtype, IMC_DT_F32);
            CU_ASSERT_EQUAL(t->ndim, 2);
            CU_ASSERT_EQUAL(t->shape[0], 3);
            CU_ASSERT_EQUAL(t->shape[1], 4);
            float got[12];
            CU_ASSERT_EQUAL(imc_netfile_read_f32(nf, t, got, &err), 0);
            CU_ASSERT_EQUAL(memcmp(got, want[k], sizeof got), 0);
        }
        const imc_tensor *t = imc_netfile_find(nf, "labels");
        if (with_labels) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(t);
            CU_ASSERT_EQUAL(t->dtype, IMC_DT_I32);
            CU_ASSERT_EQUAL(t->ndim, 1);
            CU_ASSERT_EQUAL(t->shape[0], 3);
            float got[3];
            CU_ASSERT_EQUAL(imc_netfile_read_f32(nf, t, got, &err), 0);
            CU_ASSERT(got[0] == 3 && got[1] == 0 && got[2] == -1);
        } else {
            CU_ASSERT_PTR_NULL(t);
        }
        imc_netfile_close(nf);
    }
    test_dir_remove();
}

/* ---- bad inputs --------------------------------------------------------------------------- */

/* Write the bad input of a case into DIR; return the path to load. */
typedef const char *(*make_fn)(void);

static const char *bad_magic(void)
{
    unsigned char b[16] = {0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4};
    const char *p = tmp_path("magic");
    write_file(p, b, sizeof b, 0);
    return p;
}

static const char *bad_magic_gz(void)
{
    const char *p = tmp_path("text.gz");
    write_file(p, "hello, world", 12, 1);
    return p;
}

static const char *bad_float_idx(void)
{
    unsigned char b[16] = {0, 0, 0x0d, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    const char *p = tmp_path("floats-idx3");
    write_file(p, b, sizeof b, 0);
    return p;
}

static const char *bad_labels_given(void)
{
    const char *p = tmp_path("t10k-labels-idx1-ubyte");
    write_idx_labels(p, labels3, 3, 0);
    return p;
}

static const char *bad_header_truncated(void)
{
    unsigned char b[10] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0};
    const char *p = tmp_path("short");
    write_file(p, b, sizeof b, 0);
    return p;
}

static const char *bad_data_truncated(void)
{
    size_t size;
    unsigned char *b = idx_images(3, 4, 4, &size);
    const char *p = tmp_path("cut-images-idx3-ubyte");
    write_file(p, b, size - 8, 0);
    free(b);
    return p;
}

static const char *bad_gz_truncated(void)
{
    const char *full = tmp_path("full.gz"), *p = tmp_path("cut.gz");
    write_idx_images(full, 3, 4, 4, 1);
    FILE *f = fopen(full, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    unsigned char b[4096];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    write_file(p, b, n / 2, 0);
    return p;
}

static const char *bad_gz_method(void)
{
    const char *full = tmp_path("full.gz"), *p = tmp_path("method.gz");
    write_idx_images(full, 3, 4, 4, 1);
    FILE *f = fopen(full, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    unsigned char b[4096];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    b[2] = 7; /* compression method: only 8 (deflate) exists */
    write_file(p, b, n, 0);
    return p;
}

static const char *bad_no_images(void)
{
    unsigned char b[16] = {0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4};
    const char *p = tmp_path("empty-images-idx3-ubyte");
    write_file(p, b, sizeof b, 0);
    return p;
}

static const char *bad_huge(void)
{
    unsigned char b[16] = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 4};
    const char *p = tmp_path("huge");
    write_file(p, b, sizeof b, 0);
    return p;
}

static const char *bad_label_count(void)
{
    const char *p = tmp_path("a-images-idx3-ubyte");
    write_idx_images(p, 3, 4, 4, 0);
    unsigned char five[5] = {0, 1, 2, 3, 4};
    write_idx_labels(tmp_path("a-labels-idx1-ubyte"), five, 5, 0);
    return p;
}

static const char *bad_label_range(void)
{
    const char *dir = tmp_subdir("range");
    write_idx_images(tmp_path("range/t10k-images-idx3-ubyte.gz"), 3, 4, 4, 1);
    unsigned char l[3] = {1, 12, 0};
    write_idx_labels(tmp_path("range/t10k-labels-idx1-ubyte.gz"), l, 3, 1);
    return dir;
}

static const char *bad_labels_magic(void)
{
    const char *p = tmp_path("b-images-idx3-ubyte");
    write_idx_images(p, 3, 4, 4, 0);
    write_idx_images(tmp_path("b-labels-idx1-ubyte"), 3, 4, 4, 0);
    return p;
}

static const char *idx_4x4(void)
{
    const char *p = tmp_path("four");
    write_idx_images(p, 3, 4, 4, 0);
    return p;
}

static const char *empty_dir(void)
{
    return tmp_subdir("nothing");
}

static const char *missing(void)
{
    return tmp_path("no-such-file");
}

/* A safetensors file of the tensors named in SPEC: "images:DT:N,C,H,W labels:DT:N". */
static const char *st_file(const char *spec)
{
    static int count;
    char name[32];
    snprintf(name, sizeof name, "st%d.safetensors", count++);
    const char *p = tmp_path(name);
    imc_netwriter *w = imc_netwriter_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    unsigned char *owned[4];
    int n_owned = 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", spec);
    for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *tname = tok, *dt = strchr(tname, ':');
        CU_ASSERT_PTR_NOT_NULL_FATAL(dt);
        *dt++ = '\0';
        char *dims = strchr(dt, ':');
        CU_ASSERT_PTR_NOT_NULL_FATAL(dims);
        *dims++ = '\0';
        int64_t shape[IMC_TENSOR_MAX_DIMS];
        int ndim = 0;
        size_t numel = 1;
        for (char *s2 = NULL, *d = strtok_r(dims, ",", &s2); d; d = strtok_r(NULL, ",", &s2)) {
            shape[ndim] = atoll(d);
            numel *= (size_t)shape[ndim++];
        }
        imc_dtype dtype = imc_dtype_from_name(dt);
        size_t bytes = numel * imc_dtype_size(dtype);
        unsigned char *data = calloc(bytes ? bytes : 1, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(data);
        if (strcmp(tname, "labels") == 0 && numel > 0)
            memset(data, 0xff, imc_dtype_size(dtype)); /* label 0 is -1 (or 255 unsigned) */
        owned[n_owned++] = data;
        imc_err err;
        CU_ASSERT_EQUAL(imc_netwriter_add(w, tname, dtype, ndim, shape, data, &err), 0);
    }
    imc_err err;
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_write(w, p, &err), 0);
    imc_netwriter_free(w);
    while (n_owned > 0)
        free(owned[--n_owned]);
    return p;
}

static const char *st_no_images(void) { return st_file("pixels:F32:1,1,4,4"); }
static const char *st_3d(void) { return st_file("images:F32:2,4,4"); }
static const char *st_empty(void) { return st_file("images:F32:0,1,4,4"); }
static const char *st_channels(void) { return st_file("images:F32:2,3,4,4"); }
static const char *st_size(void) { return st_file("images:F32:2,1,4,5"); }
static const char *st_float_labels(void) { return st_file("images:U8:2,1,4,4 labels:F32:2"); }
static const char *st_label_shape(void) { return st_file("images:U8:2,1,4,4 labels:I32:3"); }
static const char *st_label_2d(void) { return st_file("images:U8:2,1,4,4 labels:I32:2,1"); }
static const char *st_label_negative(void) { return st_file("images:U8:2,1,4,4 labels:I16:2"); }
static const char *st_label_u8(void) { return st_file("images:U8:2,1,4,4 labels:U8:2"); }

static const char *not_safetensors(void)
{
    const char *p = tmp_path("notes.txt");
    write_file(p, "just some text\n", 15, 0);
    return p;
}

static void test_bad_inputs(void)
{
    CU_ASSERT_EQUAL_FATAL(make_tmpdir(), 0);
    /* MSG: the message; "@" in it stands for the temporary directory. FILE: the file the error
     * must point at, relative to the temporary directory (NULL: the path loaded). */
    static const struct {
        const char *what;
        make_fn make;
        int img_size, in_chans, classes;
        const char *file, *msg;
    } cases[] = {
        {"bad magic", bad_magic, 4, 1, 10, NULL,
         "bad IDX magic 0x00000802: an IDX images file starts with 0x00000803"},
        {"gzip of something else", bad_magic_gz, 4, 1, 10, NULL,
         "bad IDX magic 0x68656c6c: an IDX images file starts with 0x00000803"},
        {"IDX of floats", bad_float_idx, 1, 1, 10, NULL,
         "bad IDX magic 0x00000d03: an IDX images file starts with 0x00000803"},
        {"labels file as images", bad_labels_given, 4, 1, 10, NULL,
         "this is an IDX labels file (magic 0x00000801); give the images file (magic "
         "0x00000803)"},
        {"truncated header", bad_header_truncated, 4, 1, 10, NULL,
         "truncated: the file ends inside the IDX header"},
        {"truncated pixels", bad_data_truncated, 4, 1, 10, NULL,
         "truncated: the file ends inside image 2 of 3"},
        {"truncated gzip", bad_gz_truncated, 4, 1, 10, NULL, "gzip: unexpected end of file"},
        {"bad gzip", bad_gz_method, 4, 1, 10, NULL, "gzip: unknown compression method"},
        {"no images", bad_no_images, 4, 1, 10, NULL, "the IDX file holds no images"},
        {"absurd count", bad_huge, 4, 1, 10, NULL,
         "4294967295 images of 16 values are more than the 268435456 values one run reads "
         "(ask for fewer images)"},
        {"label count mismatch", bad_label_count, 4, 1, 10, "a-labels-idx1-ubyte",
         "5 labels for the 3 images of @/a-images-idx3-ubyte"},
        {"labels file of images", bad_labels_magic, 4, 1, 10, "b-labels-idx1-ubyte",
         "bad IDX magic 0x00000803: an IDX labels file starts with 0x00000801"},
        {"label out of range", bad_label_range, 4, 1, 10, "range/t10k-labels-idx1-ubyte.gz",
         "label 12 of image 1 is outside 0..9 (the model has 10 classes)"},
        {"wrong size", idx_4x4, 8, 1, 10, NULL,
         "the model expects 8x8 images, this file has 4x4"},
        {"wrong channels", idx_4x4, 4, 3, 10, NULL,
         "the model expects 3 channels, this file has 1 (IDX images are grayscale)"},
        {"empty directory", empty_dir, 4, 1, 10, NULL,
         "a dataset directory needs t10k-images-idx3-ubyte or t10k-images-idx3-ubyte.gz (the "
         "MNIST family's test set)"},
        {"missing file", missing, 4, 1, 10, NULL, "cannot open: No such file or directory"},
        {"neither IDX nor safetensors", not_safetensors, 4, 1, 10, NULL,
         "neither IDX (plain or gzipped) nor safetensors: header length 7885648055778899306 is "
         "above the limit of 100000000 bytes"},
        {"no images tensor", st_no_images, 4, 1, 10, NULL,
         "no tensor 'images' (a dataset file has images [N, C, H, W] and optionally labels [N])"},
        {"images not 4-d", st_3d, 4, 1, 10, NULL,
         "tensor 'images': shape [2, 4, 4] is not [N, C, H, W]"},
        {"zero images", st_empty, 4, 1, 10, NULL,
         "tensor 'images': shape [0, 1, 4, 4] holds no images"},
        {"channels", st_channels, 4, 1, 10, NULL,
         "tensor 'images': the model expects 1 channel, this file has 3"},
        {"size", st_size, 4, 1, 10, NULL,
         "tensor 'images': the model expects 4x4 images, this file has 4x5"},
        {"float labels", st_float_labels, 4, 1, 10, NULL,
         "tensor 'labels': dtype F32 is not an integer type"},
        {"label count", st_label_shape, 4, 1, 10, NULL,
         "tensor 'labels': shape [3] is not [2], one per image"},
        {"labels 2-d", st_label_2d, 4, 1, 10, NULL,
         "tensor 'labels': shape [2, 1] is not [2], one per image"},
        {"negative label", st_label_negative, 4, 1, 10, NULL,
         "tensor 'labels': label -1 of image 0 is outside 0..9 (the model has 10 classes)"},
        {"label above classes", st_label_u8, 4, 1, 100, NULL,
         "tensor 'labels': label 255 of image 0 is outside 0..99 (the model has 100 classes)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = cases[i].make();
        imc_network net = bare_net(cases[i].img_size, cases[i].in_chans, cases[i].classes);
        imc_dataset *d = (imc_dataset *)&net; /* must come back NULL */
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_dataset_load(&d, path, 0, &net, &err);
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        CU_ASSERT_PTR_NULL(d);
        char want[1024 + sizeof test_dir], file[4200];
        size_t k = 0;
        for (const char *m = cases[i].msg; *m && k + sizeof test_dir < sizeof want; m++) {
            if (*m != '@') {
                want[k++] = *m;
            } else {
                memcpy(want + k, test_dir, strlen(test_dir));
                k += strlen(test_dir);
            }
        }
        want[k] = '\0';
        if (cases[i].file)
            test_dir_path(file, sizeof file, cases[i].file);
        else
            snprintf(file, sizeof file, "%s", path);
        if (strcmp(err.msg, want) != 0 || strcmp(err.file, file) != 0)
            fprintf(stderr, "\n%s: got '%s: %s'\n", cases[i].what, err.file, err.msg);
        CU_ASSERT_STRING_EQUAL(err.msg, want);
        CU_ASSERT_STRING_EQUAL(err.file, file);
    }
    test_dir_remove();
}

/* An input that is not a square image (an imported sequence model's [T][F], held as 1 x T x F):
 * synthetic inputs of its shape, and a safetensors file must match height and width apart. */
static void test_non_square_input(void)
{
    imc_network net = bare_net(0, 1, 10);
    net.in_h = 3, net.in_w = 5;
    imc_err err;
    imc_err_clear(&err);
    imc_dataset *d = NULL;
    CU_ASSERT_EQUAL_FATAL(imc_dataset_synthetic(&d, 2, &net, 1, &err), 0);
    CU_ASSERT_EQUAL(d->channels, 1);
    CU_ASSERT_EQUAL(d->height, 3);
    CU_ASSERT_EQUAL(d->width, 5);
    imc_dataset_free(d);
    char path[4200];
    snprintf(path, sizeof path, "%s/seq.safetensors", test_dir);
    imc_netwriter *w = imc_netwriter_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    static const float v[2 * 5 * 3] = {0};
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_add(w, "images", IMC_DT_F32, 4, (int64_t[]){2, 1, 5, 3}, v, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_write(w, path, &err), 0);
    imc_netwriter_free(w);
    d = NULL;
    CU_ASSERT_EQUAL(imc_dataset_load(&d, path, 0, &net, &err), IMC_EINPUT);
    char line[1024];
    imc_err_format(&err, line, sizeof line);
    char want[4400];
    snprintf(want, sizeof want, "%s: error: tensor 'images': the model expects 3x5 images, this "
             "file has 5x3", path);
    CU_ASSERT_STRING_EQUAL(line, want);
    CU_ASSERT_PTR_NULL(d);
    unlink(path);
}

static CU_TestInfo tests[] = {
    {"inputs of any height and width", test_non_square_input},
    {"IDX plain and gzipped, by directory and by file", test_idx_forms},
    {"Debian's dataset-fashion-mnist when installed", test_fashion_mnist_package},
    {"safetensors images and labels", test_safetensors},
    {"normalisation from the model's metadata", test_normalisation},
    {"bad input_mean / input_std", test_bad_metadata},
    {"synthetic images", test_synthetic},
    {"logits file round trip", test_logits_round_trip},
    {"bad inputs", test_bad_inputs},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "dataset"
#include "tests/unit/cunit_main.h"
