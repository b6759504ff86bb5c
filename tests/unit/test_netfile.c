/* test_netfile.c -- the safetensors model-file container: the writer's files read back with
 * every dtype, shape and metadata intact; F16/BF16/integer conversion to float is exact and
 * independent of host byte order; the byte layout matches the reference Python library's
 * (header padded with spaces); every class of bad file fails with its exact one-line message. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/net/netfile.h"

#include <CUnit/CUnit.h>

#include "tests/unit/testdir.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* A whole safetensors file in memory: length prefix (LEN, or the JSON's length when LEN is
 * UINT64_MAX), JSON, then DATA_BYTES bytes of the pattern i & 0xff (or DATA when not NULL). */
static unsigned char *make_file(const char *json, size_t json_len, uint64_t len,
                                const void *data, size_t data_bytes, size_t *size)
{
    if (len == UINT64_MAX)
        len = json_len;
    *size = 8 + json_len + data_bytes;
    unsigned char *f = malloc(*size ? *size : 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 8; i++)
        f[i] = (unsigned char)(len >> (8 * i));
    memcpy(f + 8, json, json_len);
    for (size_t i = 0; i < data_bytes; i++)
        f[8 + json_len + i] = data ? ((const unsigned char *)data)[i] : (unsigned char)i;
    return f;
}

/* Open JSON + data from memory as "t.st"; the caller frees *BUF after closing. */
static imc_netfile *open_json(const char *json, const void *data, size_t data_bytes,
                              unsigned char **buf)
{
    size_t size;
    *buf = make_file(json, strlen(json), UINT64_MAX, data, data_bytes, &size);
    imc_netfile *nf = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_netfile_open_memory(&nf, "t.st", *buf, size, &err);
    if (rc)
        fprintf(stderr, "\nunexpected error: %s: %s\n", err.file, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return nf;
}

static void put_le(unsigned char *p, uint64_t v, size_t size)
{
    for (size_t i = 0; i < size; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ---- dtypes -------------------------------------------------------------------------------- */

static void test_dtype_table(void)
{
    static const struct {
        imc_dtype dt;
        const char *name;
        size_t size;
    } table[] = {
        {IMC_DT_F32, "F32", 4}, {IMC_DT_F16, "F16", 2}, {IMC_DT_BF16, "BF16", 2},
        {IMC_DT_F64, "F64", 8}, {IMC_DT_I8, "I8", 1},   {IMC_DT_U8, "U8", 1},
        {IMC_DT_I16, "I16", 2}, {IMC_DT_I32, "I32", 4}, {IMC_DT_I64, "I64", 8},
        {IMC_DT_BOOL, "BOOL", 1},
    };
    CU_ASSERT_EQUAL(sizeof table / sizeof table[0], IMC_DT_COUNT);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        CU_ASSERT_STRING_EQUAL(imc_dtype_name(table[i].dt), table[i].name);
        CU_ASSERT_EQUAL(imc_dtype_size(table[i].dt), table[i].size);
        CU_ASSERT_EQUAL(imc_dtype_from_name(table[i].name), table[i].dt);
    }
    CU_ASSERT_EQUAL(imc_dtype_from_name("f32"), IMC_DT_COUNT);
    CU_ASSERT_EQUAL(imc_dtype_size(IMC_DT_COUNT), 0);
    CU_ASSERT_PTR_NULL(imc_dtype_name(IMC_DT_COUNT));
}

/* ---- writer -> file -> reader --------------------------------------------------------------- */

typedef struct rt_tensor {
    const char *name;
    imc_dtype dtype;
    int ndim;
    int64_t shape[IMC_TENSOR_MAX_DIMS];
    uint64_t raw[6];     /* element bit patterns, stored little-endian */
    float expect[6];     /* read_f32 result */
} rt_tensor;

static const rt_tensor rt[] = {
    {"blocks.0.attn.qkv.weight", IMC_DT_F32, 2, {2, 3},
     {0x3fc00000, 0xc0100000, 0, 0x80000000, 0x7f800000, 0x3eaaaaab},
     {1.5f, -2.25f, 0.0f, -0.0f, INFINITY, 0x1.555556p-2f}},
    {"f16", IMC_DT_F16, 1, {4}, {0x3c00, 0xc000, 0x0001, 0x7bff}, {1, -2, 0x1p-24f, 65504}},
    {"bf16", IMC_DT_BF16, 2, {2, 2}, {0x3f80, 0xc000, 0x4049, 0x0001},
     {1, -2, 3.140625f, 0x1p-133f}},
    {"f64", IMC_DT_F64, 1, {3}, {0x3ff0000000000000, 0xbfd0000000000000, 0x7e37e43c8800759c},
     {1, -0.25f, INFINITY}},
    {"i8", IMC_DT_I8, 1, {5}, {0x80, 0xff, 0x00, 0x01, 0x7f}, {-128, -1, 0, 1, 127}},
    {"u8", IMC_DT_U8, 1, {3}, {0, 128, 255}, {0, 128, 255}},
    {"i16", IMC_DT_I16, 1, {2}, {0x8000, 0x7fff}, {-32768, 32767}},
    {"i32", IMC_DT_I32, 3, {1, 1, 2}, {0xffffffff, 0x80000000}, {-1, -2147483648.0f}},
    {"scalar", IMC_DT_I64, 0, {0}, {0x8000000000000000}, {-0x1p63f}},
    {"mask", IMC_DT_BOOL, 1, {3}, {0, 1, 1}, {0, 1, 1}},
    {"empty", IMC_DT_U8, 2, {0, 3}, {0}, {0}},
    {"cls_token", IMC_DT_F32, 3, {1, 1, 0}, {0}, {0}},
};
#define RT_COUNT (sizeof rt / sizeof rt[0])

static int64_t rt_numel(const rt_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

static void test_round_trip_every_dtype(void)
{
    CU_ASSERT_EQUAL_FATAL(test_dir_make("netfile"), 0);
    char path[4200];
    test_dir_path(path, sizeof path, "model.bin");

    unsigned char bytes[RT_COUNT][48];
    imc_netwriter *w = imc_netwriter_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    imc_err err;
    imc_err_clear(&err);
    for (size_t i = 0; i < RT_COUNT; i++) {
        size_t size = imc_dtype_size(rt[i].dtype);
        for (int64_t k = 0; k < rt_numel(&rt[i]); k++)
            put_le(bytes[i] + k * size, rt[i].raw[k], size);
        CU_ASSERT_EQUAL(imc_netwriter_add(w, rt[i].name, rt[i].dtype, rt[i].ndim, rt[i].shape,
                                          bytes[i], &err), 0);
    }
    CU_ASSERT_EQUAL(imc_netwriter_meta(w, "format", "pt", &err), 0);
    CU_ASSERT_EQUAL(imc_netwriter_meta(w, "model", "far_deit_s \"quoted\" \\ \xc3\xa9\n", &err),
                    0);
    CU_ASSERT_EQUAL(imc_netwriter_meta(w, "heads", "6", &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_write(w, path, &err), 0);
    imc_netwriter_free(w);

    imc_netfile *nf = NULL;
    int rc = imc_netfile_open(&nf, path, &err);
    if (rc)
        fprintf(stderr, "\nunexpected error: %s: %s\n", err.file, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(imc_netfile_path(nf), path);
    CU_ASSERT_EQUAL_FATAL(imc_netfile_count(nf), RT_COUNT);
    uint64_t offset = 0;
    for (size_t i = 0; i < RT_COUNT; i++) {
        const imc_tensor *t = imc_netfile_at(nf, i);
        CU_ASSERT_STRING_EQUAL(t->name, rt[i].name); /* header order = insertion order */
        CU_ASSERT_PTR_EQUAL(imc_netfile_find(nf, rt[i].name), t);
        CU_ASSERT_EQUAL(t->dtype, rt[i].dtype);
        CU_ASSERT_EQUAL(t->ndim, rt[i].ndim);
        for (int d = 0; d < t->ndim; d++)
            CU_ASSERT_EQUAL(t->shape[d], rt[i].shape[d]);
        int64_t n = imc_tensor_numel(t);
        CU_ASSERT_EQUAL(n, rt_numel(&rt[i]));
        CU_ASSERT_EQUAL(t->begin, offset); /* ascending and contiguous */
        CU_ASSERT_EQUAL(t->end - t->begin, (uint64_t)n * imc_dtype_size(t->dtype));
        offset = t->end;
        CU_ASSERT_EQUAL(memcmp(imc_netfile_data(nf, t), bytes[i], t->end - t->begin), 0);
        float out[6];
        CU_ASSERT_EQUAL(imc_netfile_read_f32(nf, t, out, &err), 0);
        for (int64_t k = 0; k < n; k++)
            CU_ASSERT_EQUAL(f32_bits(out[k]), f32_bits(rt[i].expect[k]));
        if (n >= 2) { /* a slice: elements 1 .. n - 2 */
            float mid[6] = {0};
            CU_ASSERT_EQUAL(imc_netfile_read_f32_at(nf, t, 1, (size_t)n - 2, mid, &err), 0);
            for (int64_t k = 1; k < n - 1; k++)
                CU_ASSERT_EQUAL(f32_bits(mid[k - 1]), f32_bits(rt[i].expect[k]));
            /* the same slice's raw bytes, unconverted */
            size_t size = imc_dtype_size(t->dtype);
            unsigned char raw[48];
            memset(raw, 0xa5, sizeof raw);
            CU_ASSERT_EQUAL(imc_netfile_read_raw(nf, t, 1, (size_t)n - 2, raw, &err), 0);
            CU_ASSERT_EQUAL(memcmp(raw, bytes[i] + size, ((size_t)n - 2) * size), 0);
            CU_ASSERT_EQUAL(raw[((size_t)n - 2) * size], 0xa5); /* nothing past the slice */
        }
    }
    CU_ASSERT_PTR_NULL(imc_netfile_at(nf, RT_COUNT));
    CU_ASSERT_PTR_NULL(imc_netfile_find(nf, "absent"));
    CU_ASSERT_PTR_NULL(imc_netfile_find(nf, "__metadata__"));
    CU_ASSERT_EQUAL(imc_netfile_meta_count(nf), 3);
    CU_ASSERT_STRING_EQUAL(imc_netfile_meta_key(nf, 0), "format");
    CU_ASSERT_STRING_EQUAL(imc_netfile_meta_key(nf, 1), "model");
    CU_ASSERT_STRING_EQUAL(imc_netfile_meta_key(nf, 2), "heads");
    CU_ASSERT_PTR_NULL(imc_netfile_meta_key(nf, 3));
    CU_ASSERT_STRING_EQUAL(imc_netfile_meta(nf, "format"), "pt");
    CU_ASSERT_STRING_EQUAL(imc_netfile_meta(nf, "model"), "far_deit_s \"quoted\" \\ \xc3\xa9\n");
    CU_ASSERT_STRING_EQUAL(imc_netfile_meta(nf, "heads"), "6");
    CU_ASSERT_PTR_NULL(imc_netfile_meta(nf, "patch"));
    imc_netfile_close(nf);

    /* Byte layout: 8-byte aligned header, padded with spaces, data right after. */
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    unsigned char raw[4096];
    size_t size = fread(raw, 1, sizeof raw, f);
    fclose(f);
    uint64_t len = 0;
    for (int i = 7; i >= 0; i--)
        len = len << 8 | raw[i];
    CU_ASSERT_EQUAL(len % 8, 0);
    CU_ASSERT_EQUAL(size, 8 + len + offset);
    CU_ASSERT_EQUAL(memcmp(raw + 8, "{\"__metadata__\":{\"format\":\"pt\",", 31), 0);
    size_t end = 8 + (size_t)len;
    while (raw[end - 1] == ' ')
        end--;
    CU_ASSERT_EQUAL(raw[end - 1], '}');
    CU_ASSERT(8 + len - end < 8);

    /* Tensors are read from the file, not through the mapping: a file cut short after it was
       opened is an error naming the bytes missing, not a SIGBUS. */
    CU_ASSERT_EQUAL_FATAL(imc_netfile_open(&nf, path, &err), 0);
    const imc_tensor *last = imc_netfile_find(nf, "mask"); /* the data's last bytes */
    CU_ASSERT_EQUAL_FATAL(last->end, offset);
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL_FATAL(truncate(path, st.st_size - 1), 0);
    float whole[6];
    CU_ASSERT_EQUAL(imc_netfile_read_f32(nf, last, whole, &err), IMC_EIO);
    char line[4400], want[4400];
    imc_err_format(&err, line, sizeof line);
    snprintf(want, sizeof want, "%s: error: cannot read 1 bytes at offset %jd: the file is "
             "shorter than when opened", path, (intmax_t)st.st_size - 1);
    CU_ASSERT_STRING_EQUAL(line, want);
    imc_netfile_close(nf);
    test_dir_remove();
}

/* The writer's bytes, exactly as safetensors.torch.save_file() lays out the same content:
 * compact JSON, __metadata__ first, spaces to a multiple of 8, little-endian data. */
static void test_writer_layout_matches_reference(void)
{
    CU_ASSERT_EQUAL_FATAL(test_dir_make("netfile"), 0);
    char path[4200];
    test_dir_path(path, sizeof path, "w.safetensors");
    const unsigned char data[8] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}; /* F32 1, -2 */
    imc_netwriter *w = imc_netwriter_new();
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_netwriter_meta(w, "format", "pt", &err), 0);
    CU_ASSERT_EQUAL(imc_netwriter_add(w, "w", IMC_DT_F32, 1, (int64_t[]){2}, data, &err), 0);
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_write(w, path, &err), 0);
    imc_netwriter_free(w);

    static const char header[] = "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\","
                                 "\"shape\":[2],\"data_offsets\":[0,8]}}";
    CU_ASSERT_EQUAL(strlen(header), 85); /* so 3 spaces of padding make 88 */
    unsigned char want[8 + 88 + 8] = {88};
    memcpy(want + 8, header, 85);
    memset(want + 8 + 85, ' ', 3);
    memcpy(want + 96, data, 8);
    unsigned char got[256];
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    CU_ASSERT_EQUAL(n, sizeof want);
    CU_ASSERT_EQUAL(memcmp(got, want, sizeof want), 0);
    test_dir_remove();
}

/* Headers as the Python library writes them (padded with spaces), and other whitespace. */
static void test_padding_accepted(void)
{
    /* The reference library's own documentation example, byte for byte: header length 60
     * ('<'), then 16 bytes of I32 data. */
    static const char doc[] = "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":"
                              "[0,16]}}";
    CU_ASSERT_EQUAL(strlen(doc), 60);
    static const char *const headers[] = {
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ", /* to 56 */
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"
        "                                                                ",
        " \n{ \"w\" : { \"dtype\" : \"F32\" , \"shape\" : [ 2 ] ,\n\t\"data_offsets\" : [ 0 , 8 ] "
        "} }\r\n ",
        "{\"w\":{\"data_offsets\":[0,8],\"shape\":[2],\"dtype\":\"F32\",\"extra\":[1]}}",
    };
    unsigned char *buf;
    imc_netfile *nf = open_json(doc, NULL, 16, &buf);
    CU_ASSERT_EQUAL(imc_netfile_count(nf), 1);
    CU_ASSERT_EQUAL(imc_netfile_find(nf, "test")->end, 16);
    imc_netfile_close(nf);
    free(buf);
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        nf = open_json(headers[i], NULL, 8, &buf);
        CU_ASSERT_EQUAL(imc_netfile_count(nf), 1);
        const imc_tensor *t = imc_netfile_find(nf, "w");
        CU_ASSERT_PTR_NOT_NULL(t);
        if (t) {
            CU_ASSERT_EQUAL(t->ndim, 1);
            CU_ASSERT_EQUAL(t->shape[0], 2);
            CU_ASSERT_EQUAL(t->end, 8);
        }
        imc_netfile_close(nf);
        free(buf);
    }
}

/* ---- conversions --------------------------------------------------------------------------- */

static void test_f16_bf16_exact(void)
{
    static const struct {
        imc_dtype dt;
        uint16_t in;
        float out;        /* compared bit for bit */
        uint32_t nan_bits; /* when non-zero: the expected bits instead */
    } cases[] = {
        {IMC_DT_F16, 0x0000, 0.0f, 0},           {IMC_DT_F16, 0x8000, -0.0f, 0},
        {IMC_DT_F16, 0x3c00, 1.0f, 0},           {IMC_DT_F16, 0xc000, -2.0f, 0},
        {IMC_DT_F16, 0x3555, 0x1.554p-2f, 0},    {IMC_DT_F16, 0x7bff, 65504.0f, 0},
        {IMC_DT_F16, 0x0400, 0x1p-14f, 0},       /* smallest normal */
        {IMC_DT_F16, 0x03ff, 0x1.ff8p-15f, 0},   /* largest subnormal */
        {IMC_DT_F16, 0x0001, 0x1p-24f, 0},       /* smallest subnormal */
        {IMC_DT_F16, 0x8001, -0x1p-24f, 0},      {IMC_DT_F16, 0x0200, 0x1p-15f, 0},
        {IMC_DT_F16, 0x7c00, INFINITY, 0},       {IMC_DT_F16, 0xfc00, -INFINITY, 0},
        {IMC_DT_F16, 0x7e00, 0, 0x7fc00000},     /* quiet NaN */
        {IMC_DT_F16, 0xfc01, 0, 0xff802000},     /* signalling NaN, payload kept */
        {IMC_DT_BF16, 0x0000, 0.0f, 0},          {IMC_DT_BF16, 0x8000, -0.0f, 0},
        {IMC_DT_BF16, 0x3f80, 1.0f, 0},          {IMC_DT_BF16, 0xc000, -2.0f, 0},
        {IMC_DT_BF16, 0x4049, 3.140625f, 0},     {IMC_DT_BF16, 0x7f7f, 0x1.fep127f, 0},
        {IMC_DT_BF16, 0x0080, 0x1p-126f, 0},     {IMC_DT_BF16, 0x0001, 0x1p-133f, 0},
        {IMC_DT_BF16, 0x807f, -0x1.fcp-127f, 0}, {IMC_DT_BF16, 0x7f80, INFINITY, 0},
        {IMC_DT_BF16, 0xff80, -INFINITY, 0},     {IMC_DT_BF16, 0x7fc0, 0, 0x7fc00000},
        {IMC_DT_BF16, 0xffc1, 0, 0xffc10000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[160];
        snprintf(json, sizeof json, "{\"x\":{\"dtype\":\"%s\",\"shape\":[],\"data_offsets\":[0,2]}}",
                 imc_dtype_name(cases[i].dt));
        unsigned char data[2] = {(unsigned char)cases[i].in, (unsigned char)(cases[i].in >> 8)};
        unsigned char *buf;
        imc_netfile *nf = open_json(json, data, 2, &buf);
        float got = 1234;
        imc_err err;
        CU_ASSERT_EQUAL(imc_netfile_read_f32(nf, imc_netfile_at(nf, 0), &got, &err), 0);
        uint32_t want = cases[i].nan_bits ? cases[i].nan_bits : f32_bits(cases[i].out);
        if (f32_bits(got) != want)
            fprintf(stderr, "\n%s 0x%04x: got 0x%08x, want 0x%08x\n", imc_dtype_name(cases[i].dt),
                    cases[i].in, (unsigned)f32_bits(got), (unsigned)want);
        CU_ASSERT_EQUAL(f32_bits(got), want);
        if (cases[i].nan_bits)
            CU_ASSERT(isnan(got));
        imc_netfile_close(nf);
        free(buf);
    }
}

static void test_read_f32_rejects_foreign_tensor(void)
{
    unsigned char *buf;
    imc_netfile *nf =
        open_json("{\"x\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]}}", NULL, 2, &buf);
    imc_tensor other = *imc_netfile_at(nf, 0);
    float out[2];
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_netfile_read_f32(nf, &other, out, &err), IMC_EINTERNAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "imc_netfile_read_f32: the tensor does not belong to this file");
    CU_ASSERT_EQUAL(imc_netfile_read_f32(nf, imc_netfile_at(nf, 0), out, &err), 0);
    CU_ASSERT_EQUAL(out[0], 0);
    CU_ASSERT_EQUAL(out[1], 1);
    CU_ASSERT_EQUAL(imc_netfile_read_f32_at(nf, imc_netfile_at(nf, 0), 1, 2, out, &err),
                    IMC_EINTERNAL);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "imc_netfile_read_f32: elements 1 .. 3 past the 2 of the tensor");
    imc_netfile_close(nf);
    free(buf);
}

/* ---- bad files: every class, with its exact message --------------------------------------- */

typedef struct bad_file {
    const char *what;
    const char *json;    /* the header */
    size_t json_len;     /* 0: strlen(json) */
    uint64_t len;        /* the length prefix; UINT64_MAX: the header's length */
    size_t data_bytes;   /* size of the data section */
    size_t cut;          /* when non-zero: keep only this many bytes of the file */
    const char *message; /* as imcsim prints it */
} bad_file;

#define T(body) "{\"x\":{" body "}}"
#define F32_2x2 "\"dtype\":\"F32\",\"shape\":[2,2]"

static const bad_file bad_files[] = {
    {"truncated file", "{}", 0, UINT64_MAX, 0, 5,
     "bad.st: error: file too short for a safetensors header (5 bytes)"},
    {"header length past the end", "{}", 0, 1000, 190, 0,
     "bad.st: error: header length 1000 runs past the end of the file (200 bytes)"},
    {"header length one past the end", "{}  ", 0, 5, 0, 0,
     "bad.st: error: header length 5 runs past the end of the file (12 bytes)"},
    {"header length absurd", "{}", 0, UINT64_MAX - 1, 0, 0,
     "bad.st: error: header length 18446744073709551614 is above the limit of 100000000 bytes"},
    {"header length 0", "", 0, UINT64_MAX, 0, 0,
     "bad.st: error: header is not valid JSON (near byte 0 of the header)"},
    {"bad JSON", "{\"x\": {\"dtype\": \"F32\",, }}", 0, UINT64_MAX, 0, 0,
     "bad.st: error: header is not valid JSON (near byte 23 of the header)"},
    {"unterminated JSON", "{\"x\": {", 0, UINT64_MAX, 0, 0,
     "bad.st: error: header is not valid JSON (near byte 6 of the header)"},
    {"bytes after the object", "{}  x", 0, UINT64_MAX, 0, 0,
     "bad.st: error: header is not valid JSON (near byte 4 of the header)"},
    {"two objects", "{}{}", 0, UINT64_MAX, 0, 0,
     "bad.st: error: header is not valid JSON (near byte 2 of the header)"},
    {"not an object", "[1, 2]", 0, UINT64_MAX, 0, 0,
     "bad.st: error: header is not a JSON object"},
    {"not UTF-8", "{\"\xff\": 1}", 0, UINT64_MAX, 0, 0,
     "bad.st: error: header is not valid UTF-8 (byte 2 of the header)"},
    {"overlong UTF-8", "{\"a\xc0\xaf\": 1}", 0, UINT64_MAX, 0, 0,
     "bad.st: error: header is not valid UTF-8 (byte 3 of the header)"},
    {"NUL in the header", "{}\0 ", 4, UINT64_MAX, 0, 0,
     "bad.st: error: header is not valid UTF-8 (byte 2 of the header)"},
    {"entry not an object", "{\"x\": [1]}", 0, UINT64_MAX, 0, 0,
     "bad.st: error: tensor 'x': expected an object with dtype, shape and data_offsets"},
    {"missing dtype", T("\"shape\":[2],\"data_offsets\":[0,8]"), 0, UINT64_MAX, 8, 0,
     "bad.st: error: tensor 'x': missing field 'dtype'"},
    {"missing shape", T("\"dtype\":\"F32\",\"data_offsets\":[0,8]"), 0, UINT64_MAX, 8, 0,
     "bad.st: error: tensor 'x': missing field 'shape'"},
    {"missing data_offsets", T("\"dtype\":\"F32\",\"shape\":[2]"), 0, UINT64_MAX, 8, 0,
     "bad.st: error: tensor 'x': missing field 'data_offsets'"},
    {"duplicate field", T(F32_2x2 ",\"dtype\":\"F16\",\"data_offsets\":[0,16]"), 0, UINT64_MAX,
     16, 0, "bad.st: error: tensor 'x': duplicate field 'dtype'"},
    {"dtype not a string", T("\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]"), 0,
     UINT64_MAX, 4, 0, "bad.st: error: tensor 'x': dtype is not a string"},
    {"unknown dtype", T("\"dtype\":\"F8\",\"shape\":[1],\"data_offsets\":[0,1]"), 0, UINT64_MAX,
     1, 0,
     "bad.st: error: tensor 'x': unknown dtype 'F8' (one of: F32, F16, BF16, F64, I8, U8, I16, "
     "I32, I64, BOOL)"},
    {"shape not a list", T("\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]"), 0,
     UINT64_MAX, 8, 0, "bad.st: error: tensor 'x': shape is not a list of integers >= 0"},
    {"negative dimension", T("\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]"), 0,
     UINT64_MAX, 8, 0, "bad.st: error: tensor 'x': shape is not a list of integers >= 0"},
    {"fractional dimension", T("\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]"), 0,
     UINT64_MAX, 8, 0, "bad.st: error: tensor 'x': shape is not a list of integers >= 0"},
    {"text dimension", T("\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]"), 0,
     UINT64_MAX, 8, 0, "bad.st: error: tensor 'x': shape is not a list of integers >= 0"},
    {"huge dimension", T("\"dtype\":\"F32\",\"shape\":[0,1e300],\"data_offsets\":[0,0]"), 0,
     UINT64_MAX, 0, 0, "bad.st: error: tensor 'x': shape has a dimension above 2^53"},
    {"too many dimensions",
     T("\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]"), 0, UINT64_MAX,
     1, 0, "bad.st: error: tensor 'x': shape has 9 dimensions, above the maximum 8"},
    {"shape overflows", T("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                          "\"data_offsets\":[0,0]"),
     0, UINT64_MAX, 0, 0,
     "bad.st: error: tensor 'x': shape [4294967296, 4294967296] of F32 overflows a 64-bit byte "
     "count"},
    {"data_offsets not a pair", T(F32_2x2 ",\"data_offsets\":[0]"), 0, UINT64_MAX, 16, 0,
     "bad.st: error: tensor 'x': data_offsets is not two integers [begin, end] >= 0"},
    {"data_offsets negative", T(F32_2x2 ",\"data_offsets\":[-16,0]"), 0, UINT64_MAX, 16, 0,
     "bad.st: error: tensor 'x': data_offsets is not two integers [begin, end] >= 0"},
    {"data_offsets reversed", T(F32_2x2 ",\"data_offsets\":[16,0]"), 0, UINT64_MAX, 16, 0,
     "bad.st: error: tensor 'x': data_offsets [16, 0] end before they begin"},
    {"size/shape mismatch", T(F32_2x2 ",\"data_offsets\":[0,12]"), 0, UINT64_MAX, 16, 0,
     "bad.st: error: tensor 'x': data_offsets [0, 12] hold 12 bytes but shape [2, 2] of F32 "
     "needs 16"},
    {"scalar size mismatch", T("\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,4]"), 0,
     UINT64_MAX, 16, 0,
     "bad.st: error: tensor 'x': data_offsets [0, 4] hold 4 bytes but shape [] of F64 needs 8"},
    {"past the data section", T(F32_2x2 ",\"data_offsets\":[0,400]"), 0, UINT64_MAX, 100, 0,
     "bad.st: error: tensor 'x': data_offsets [0, 400] run past the end of the data section "
     "(100 bytes)"},
    {"offset overflow", T(F32_2x2 ",\"data_offsets\":[18446744073709551600,18446744073709551616]"),
     0, UINT64_MAX, 100, 0,
     "bad.st: error: tensor 'x': data_offsets [1.8446744073709552e+19, 1.8446744073709552e+19] "
     "run past the end of the data section (100 bytes)"},
    {"offset infinite", T(F32_2x2 ",\"data_offsets\":[0,1e999]"), 0, UINT64_MAX, 100, 0,
     "bad.st: error: tensor 'x': data_offsets [0, inf] run past the end of the data section "
     "(100 bytes)"},
    {"overlap", "{\"a\":{" F32_2x2 ",\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\","
                "\"shape\":[4],\"data_offsets\":[8,24]}}",
     0, UINT64_MAX, 24, 0, "bad.st: error: tensors 'a' and 'b' overlap in the data section"},
    {"overlap inside a larger tensor",
     "{\"big\":{\"dtype\":\"U8\",\"shape\":[32],\"data_offsets\":[0,32]},"
     "\"mid\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[20,24]},"
     "\"small\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}",
     0, UINT64_MAX, 32, 0, "bad.st: error: tensors 'big' and 'small' overlap in the data section"},
    {"duplicate name", "{\"x\":{" F32_2x2 ",\"data_offsets\":[0,16]},\"x\":{" F32_2x2
                       ",\"data_offsets\":[16,32]}}",
     0, UINT64_MAX, 32, 0, "bad.st: error: duplicate tensor name 'x'"},
    {"__metadata__ not an object", "{\"__metadata__\":[\"a\"]}", 0, UINT64_MAX, 0, 0,
     "bad.st: error: __metadata__ is not an object of strings"},
    {"__metadata__ value not a string", "{\"__metadata__\":{\"format\":\"pt\",\"heads\":6}}", 0,
     UINT64_MAX, 0, 0, "bad.st: error: __metadata__ 'heads' is not a string"},
    {"__metadata__ duplicate key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
     UINT64_MAX, 0, 0, "bad.st: error: duplicate __metadata__ key 'k'"},
    {"__metadata__ twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, UINT64_MAX, 0, 0,
     "bad.st: error: duplicate key '__metadata__'"},
};

static void test_bad_file_messages(void)
{
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        const bad_file *bf = &bad_files[i];
        size_t json_len = bf->json_len ? bf->json_len : strlen(bf->json), size;
        unsigned char *buf = make_file(bf->json, json_len, bf->len, NULL, bf->data_bytes, &size);
        if (bf->cut)
            size = bf->cut;
        imc_netfile *nf = NULL;
        imc_err err;
        imc_err_clear(&err);
        int rc = imc_netfile_open_memory(&nf, "bad.st", buf, size, &err);
        char line[1024];
        imc_err_format(&err, line, sizeof line);
        if (rc != IMC_EINPUT || strcmp(line, bf->message) != 0)
            fprintf(stderr, "\ncase '%s':\n  got:  %s\n  want: %s\n", bf->what, line, bf->message);
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        CU_ASSERT_PTR_NULL(nf);
        CU_ASSERT_STRING_EQUAL(line, bf->message);
        free(buf);
    }
}

static void test_open_errors(void)
{
    CU_ASSERT_EQUAL_FATAL(test_dir_make("netfile"), 0);
    char path[4200], want[4400], line[4400];
    imc_netfile *nf = NULL;
    imc_err err;

    test_dir_path(path, sizeof path, "missing.bin");
    CU_ASSERT_EQUAL(imc_netfile_open(&nf, path, &err), IMC_EINPUT);
    CU_ASSERT_PTR_NULL(nf);
    imc_err_format(&err, line, sizeof line);
    snprintf(want, sizeof want, "%s: error: cannot open: No such file or directory", path);
    CU_ASSERT_STRING_EQUAL(line, want);

    CU_ASSERT_EQUAL(imc_netfile_open(&nf, test_dir, &err), IMC_EINPUT);
    imc_err_format(&err, line, sizeof line);
    snprintf(want, sizeof want, "%s: error: cannot open: Is a directory", test_dir);
    CU_ASSERT_STRING_EQUAL(line, want);

    /* Empty and short files, in memory and on disk (mmap cannot map an empty one). */
    CU_ASSERT_EQUAL(imc_netfile_open_memory(&nf, NULL, "", 0, &err), IMC_EINPUT);
    imc_err_format(&err, line, sizeof line);
    CU_ASSERT_STRING_EQUAL(line, "<memory>: error: file too short for a safetensors header (0 bytes)");
    for (size_t len = 0; len < 8; len += 7) {
        test_dir_path(path, sizeof path, "short.bin");
        FILE *f = fopen(path, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fwrite("\x02\0\0\0\0\0\0", 1, len, f);
        fclose(f);
        CU_ASSERT_EQUAL(imc_netfile_open(&nf, path, &err), IMC_EINPUT);
        imc_err_format(&err, line, sizeof line);
        snprintf(want, sizeof want,
                 "%s: error: file too short for a safetensors header (%zu bytes)", path, len);
        CU_ASSERT_STRING_EQUAL(line, want);
        unlink(path);
    }

    /* A failed write leaves no file behind. */
    test_dir_path(path, sizeof path, "no/such/dir/m.bin");
    imc_netwriter *w = imc_netwriter_new();
    CU_ASSERT(imc_netwriter_write(w, path, &err) < 0);
    imc_netwriter_free(w);
    test_dir_remove();
}

static void test_writer_rejects(void)
{
    const float v[4] = {0};
    imc_netwriter *w = imc_netwriter_new();
    imc_err err;
    imc_err_clear(&err);
    CU_ASSERT_EQUAL(imc_netwriter_add(w, "a", IMC_DT_F32, 1, (int64_t[]){4}, v, &err), 0);
    static const struct {
        const char *name;
        int dtype, ndim;
        int64_t shape[2];
        int null_data;
        const char *message;
    } cases[] = {
        {"a", IMC_DT_F32, 1, {4}, 0, "duplicate tensor name 'a'"},
        {"__metadata__", IMC_DT_F32, 0, {0}, 0, "tensor name '__metadata__' is reserved"},
        {"b\xff", IMC_DT_F32, 0, {0}, 0, "tensor name is missing or not valid UTF-8"},
        {NULL, IMC_DT_F32, 0, {0}, 0, "tensor name is missing or not valid UTF-8"},
        {"b", IMC_DT_COUNT, 0, {0}, 0, "tensor 'b': invalid dtype 10"},
        {"b", IMC_DT_F32, 9, {0}, 0, "tensor 'b': ndim 9 is outside 0..8"},
        {"b", IMC_DT_F32, -1, {0}, 0, "tensor 'b': ndim -1 is outside 0..8"},
        {"b", IMC_DT_F32, 2, {2, -2}, 0, "tensor 'b': shape [2, -2] has a negative dimension"},
        {"b", IMC_DT_I64, 2, {INT64_MAX, 2}, 0,
         "tensor 'b': shape [9223372036854775807, 2] of I64 is too large"},
        {"b", IMC_DT_F32, 1, {2}, 1, "tensor 'b': data is NULL for 8 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imc_err_clear(&err);
        int rc = imc_netwriter_add(w, cases[i].name, (imc_dtype)cases[i].dtype, cases[i].ndim,
                                   cases[i].shape, cases[i].null_data ? NULL : v, &err);
        CU_ASSERT_EQUAL(rc, IMC_EINPUT);
        CU_ASSERT_STRING_EQUAL(err.msg, cases[i].message);
    }
    /* Zero-size tensors need no data. */
    CU_ASSERT_EQUAL(imc_netwriter_add(w, "z", IMC_DT_F32, 1, (int64_t[]){0}, NULL, &err), 0);
    CU_ASSERT_EQUAL(imc_netwriter_meta(w, "k", "1", &err), 0);
    CU_ASSERT_EQUAL(imc_netwriter_meta(w, "k", "2", &err), IMC_EINPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "duplicate __metadata__ key 'k'");
    CU_ASSERT_EQUAL(imc_netwriter_meta(w, "k2", "\xc3", &err), IMC_EINPUT);
    CU_ASSERT_STRING_EQUAL(err.msg, "__metadata__ key or value is missing or not valid UTF-8");
    imc_netwriter_free(w);
    imc_netwriter_free(NULL);
    imc_netfile_close(NULL);
}

/* A file the size of a real network: 1000 tensors, found by name; names with JSON escapes. */
static void test_find_among_many(void)
{
    CU_ASSERT_EQUAL_FATAL(test_dir_make("netfile"), 0);
    char path[4200];
    test_dir_path(path, sizeof path, "many.bin");
    enum { N = 1000 };
    static char names[N][40];
    static uint8_t data[N];
    imc_netwriter *w = imc_netwriter_new();
    imc_err err;
    imc_err_clear(&err);
    for (int i = 0; i < N; i++) {
        int k = (i * 7919) % N; /* a permutation: not in sorted order */
        if (i % 100 == 7)
            snprintf(names[i], sizeof names[i], "odd \"name\"\t%d\\ \xc3\xa9", k);
        else
            snprintf(names[i], sizeof names[i], "blocks.%d.w", k);
        data[i] = (uint8_t)i;
        CU_ASSERT_EQUAL(imc_netwriter_add(w, names[i], IMC_DT_U8, 1, (int64_t[]){1}, &data[i],
                                          &err), 0);
    }
    CU_ASSERT_EQUAL_FATAL(imc_netwriter_write(w, path, &err), 0);
    imc_netwriter_free(w);
    imc_netfile *nf = NULL;
    CU_ASSERT_EQUAL_FATAL(imc_netfile_open(&nf, path, &err), 0);
    CU_ASSERT_EQUAL(imc_netfile_count(nf), N);
    for (int i = 0; i < N; i++) {
        const imc_tensor *t = imc_netfile_find(nf, names[i]);
        CU_ASSERT_PTR_EQUAL(t, imc_netfile_at(nf, (size_t)i));
        if (t)
            CU_ASSERT_EQUAL(*(const uint8_t *)imc_netfile_data(nf, t), (uint8_t)i);
    }
    CU_ASSERT_PTR_NULL(imc_netfile_find(nf, "blocks.1000.w"));
    CU_ASSERT_PTR_NULL(imc_netfile_find(nf, ""));
    CU_ASSERT_PTR_NULL(imc_netfile_find(nf, "zzz"));
    imc_netfile_close(nf);
    test_dir_remove();
}

/* Gaps between tensors and bytes after the last one are not errors; empty tensors overlap
 * nothing, even at the same offset as a non-empty one. */
static void test_lenient_layouts(void)
{
    unsigned char *buf;
    imc_netfile *nf = open_json("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]},"
                                "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[5,5]},"
                                "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
                                NULL, 16, &buf);
    CU_ASSERT_EQUAL(imc_netfile_count(nf), 3);
    CU_ASSERT_EQUAL(imc_netfile_meta_count(nf), 0);
    const imc_tensor *a = imc_netfile_find(nf, "a");
    CU_ASSERT_EQUAL(((const unsigned char *)imc_netfile_data(nf, a))[0], 4);
    imc_netfile_close(nf);
    free(buf);
}

static CU_TestInfo tests[] = {
    {"dtype table", test_dtype_table},
    {"round trip of every dtype", test_round_trip_every_dtype},
    {"writer layout matches the reference library", test_writer_layout_matches_reference},
    {"padding and whitespace accepted", test_padding_accepted},
    {"F16 and BF16 convert exactly", test_f16_bf16_exact},
    {"read_f32 rejects a foreign tensor", test_read_f32_rejects_foreign_tensor},
    {"bad file messages", test_bad_file_messages},
    {"open errors", test_open_errors},
    {"writer rejects bad tensors", test_writer_rejects},
    {"find among 1000 tensors", test_find_among_many},
    {"gaps and trailing bytes accepted", test_lenient_layouts},
    CU_TEST_INFO_NULL,
};

#define SUITE_NAME "netfile"
#include "tests/unit/cunit_main.h"
