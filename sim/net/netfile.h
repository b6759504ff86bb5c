/* netfile.h -- the model-file container: read and write safetensors files.
 *
 * A model file is a safetensors container whatever its extension (README.md, "Model files"):
 *
 *     u64 N (little-endian) | N bytes of UTF-8 JSON header | data section (raw, little-endian)
 *
 * The header is a JSON object mapping each tensor name to
 * {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} (byte offsets relative to the
 * start of the data section), plus an optional "__metadata__" object of string values.
 *
 * Reading maps the file and validates the whole header up front, so every later accessor works
 * on a consistent file: each tensor's byte range lies inside the data section, holds exactly
 * numel * dtype size bytes, and overlaps no other tensor; names are unique. Opening touches no
 * tensor data: a timing-only run pays for the header alone. Gaps between tensors and bytes after
 * the last one are accepted (the reference library writes neither, but neither is ambiguous).
 *
 * This module knows the container only; what the tensors mean (layers, timm names, FAR blocks)
 * is the network module's business. */
#ifndef IMC_NETFILE_H
#define IMC_NETFILE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/err.h"

/* Element types, as the safetensors header spells them (see imc_dtype_name()). */
typedef enum imc_dtype {
    IMC_DT_F32,
    IMC_DT_F16,
    IMC_DT_BF16,
    IMC_DT_F64,
    IMC_DT_I8,
    IMC_DT_U8,
    IMC_DT_I16,
    IMC_DT_I32,
    IMC_DT_I64,
    IMC_DT_BOOL,
    IMC_DT_COUNT
} imc_dtype;

/* Bytes per element of DTYPE (1 for BOOL); 0 for a value outside the enum. */
size_t imc_dtype_size(imc_dtype dtype);

/* The header spelling of DTYPE ("F32", "BF16", ...); NULL for a value outside the enum. */
const char *imc_dtype_name(imc_dtype dtype);

/* The dtype spelled NAME (case-sensitive, as in the header), or IMC_DT_COUNT if there is none. */
imc_dtype imc_dtype_from_name(const char *name);

/* Largest number of dimensions a tensor may have. */
#define IMC_TENSOR_MAX_DIMS 8

/* Largest header accepted, in bytes (the reference library's limit). */
#define IMC_NETFILE_MAX_HEADER_BYTES 100000000u

/* One tensor of an open file. ndim 0 is a scalar (one element); a 0 in the shape makes an
 * empty tensor with begin == end. Owned by the netfile; valid until imc_netfile_close(). */
typedef struct imc_tensor {
    const char *name;
    imc_dtype dtype;
    int ndim;                             /* 0 .. IMC_TENSOR_MAX_DIMS */
    int64_t shape[IMC_TENSOR_MAX_DIMS];   /* entries past ndim are 0 */
    uint64_t begin, end;                  /* byte range within the data section */
} imc_tensor;

typedef struct imc_netfile imc_netfile;

/* Open the model file PATH: map it read-only and validate the header; no tensor data is read.
 * On failure *OUT is NULL and ERR says why, pointing at PATH: IMC_EINPUT for a file that cannot
 * be opened or is not a valid safetensors file (the message names the tensor where there is
 * one), IMC_ENOMEM, or IMC_EIO when mapping fails. The file must not be truncated while open. */
int imc_netfile_open(imc_netfile **out, const char *path, imc_err *err);

/* The same over SIZE bytes at BUF, which the caller owns and keeps unchanged until close.
 * NAME stands for the path in messages and imc_netfile_path() (NULL: "<memory>"). */
int imc_netfile_open_memory(imc_netfile **out, const char *name, const void *buf, size_t size,
                            imc_err *err);

/* Unmap and free. NULL is a no-op. */
void imc_netfile_close(imc_netfile *nf);

/* The path (or memory name) the file was opened with. */
const char *imc_netfile_path(const imc_netfile *nf);

/* Number of tensors. */
size_t imc_netfile_count(const imc_netfile *nf);

/* Tensor I (0-based) in header order, or NULL when I >= imc_netfile_count(). */
const imc_tensor *imc_netfile_at(const imc_netfile *nf, size_t i);

/* The tensor called NAME, or NULL if the file has none (binary search over a sorted index). */
const imc_tensor *imc_netfile_find(const imc_netfile *nf, const char *name);

/* Number of elements: the product of the shape (1 for a scalar). Never overflows for a tensor
 * of an open file: open checks that numel * dtype size fits the data section. */
int64_t imc_tensor_numel(const imc_tensor *t);

/* The __metadata__ value for KEY, or NULL when absent. */
const char *imc_netfile_meta(const imc_netfile *nf, const char *key);

/* Number of __metadata__ entries, and the key of entry I in header order (NULL when out of
 * range). */
size_t imc_netfile_meta_count(const imc_netfile *nf);
const char *imc_netfile_meta_key(const imc_netfile *nf, size_t i);

/* The raw little-endian bytes of T (t->end - t->begin of them). Not aligned in general: copy
 * with memcpy or use imc_netfile_read_f32(). Reading them is the first touch of that part of the
 * mapping. */
const void *imc_netfile_data(const imc_netfile *nf, const imc_tensor *t);

/* Convert T's imc_tensor_numel(t) elements to float into OUT, on a host of either byte order.
 * F16 and BF16 convert exactly (subnormals, infinities, NaN and -0 included); F64, I32 and I64
 * round to nearest; BOOL gives 0 or 1. Returns 0, or IMC_EINTERNAL if T does not belong to NF. */
int imc_netfile_read_f32(const imc_netfile *nf, const imc_tensor *t, float *out, imc_err *err);

/* The same for N elements from element FROM (row-major order): a slice of a large tensor
 * without converting the rest. IMC_EINTERNAL past its end. Both read the file with pread, not
 * through the mapping (see netfile.c); IMC_EIO if it shrank since it was opened. */
int imc_netfile_read_f32_at(const imc_netfile *nf, const imc_tensor *t, size_t from, size_t n,
                            float *out, imc_err *err);

/* The raw little-endian bytes of elements FROM .. FROM + N of T into OUT (N x the dtype's size
 * bytes), unconverted: for a scan that asks only which elements are zero. Errors as above. */
int imc_netfile_read_raw(const imc_netfile *nf, const imc_tensor *t, size_t from, size_t n,
                         void *out, imc_err *err);

/* ---- writer ------------------------------------------------------------------------------ */

/* Collects tensors and metadata, then writes one safetensors file that the reference Python
 * library reads: header JSON with tensors in insertion order at ascending contiguous offsets,
 * padded with spaces so the data section starts 8-byte aligned. Tensor data pointers are
 * borrowed until imc_netwriter_write() returns. */
typedef struct imc_netwriter imc_netwriter;

/* A new empty writer, or NULL when out of memory. */
imc_netwriter *imc_netwriter_new(void);

/* Append tensor NAME of DTYPE with NDIM dimensions SHAPE (NULL when NDIM is 0); DATA holds
 * numel * imc_dtype_size(DTYPE) little-endian bytes (may be NULL when that is 0). Fails with
 * IMC_EINPUT for a duplicate or invalid name (not UTF-8, "__metadata__"), a bad dtype, ndim or
 * shape; nothing is added then. */
int imc_netwriter_add(imc_netwriter *w, const char *name, imc_dtype dtype, int ndim,
                      const int64_t *shape, const void *data, imc_err *err);

/* Add a __metadata__ entry; a duplicate KEY or text that is not UTF-8 fails with IMC_EINPUT. */
int imc_netwriter_meta(imc_netwriter *w, const char *key, const char *value, imc_err *err);

/* Write everything to PATH atomically (temporary file renamed into place, see outfile.h; "-" is
 * stdout). The writer stays usable and can write again. */
int imc_netwriter_write(imc_netwriter *w, const char *path, imc_err *err);

/* Free the writer (not the borrowed tensor data). NULL is a no-op. */
void imc_netwriter_free(imc_netwriter *w);

/* cJSON_Parse of TEXT through the hooks that tell an allocation failure (*OOM set) from text
 * that is not JSON (NULL, *OOM 0); for the graph JSON a model file's metadata carries. */
void *imc_json_parse(const char *text, int *oom);

#endif
