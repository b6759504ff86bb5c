/* fuzz_idx.c -- libFuzzer target for the image readers (sim/numerics/dataset.c): an IDX file,
 * plain or gzipped, or a safetensors file of images and labels, whichever the bytes look like.
 *
 * The network expects 4 x 4 grayscale images of 10 classes. Whatever the bytes, the load either
 * succeeds or fails cleanly; a loaded dataset holds at most the 16 images asked for, each value
 * finite, each label (when there are labels) a class of the network. */
#include "tests/fuzz/fuzz.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/numerics/dataset.h"
#include "tests/fuzz/fuzz_tmpfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_tmpfile(data, size, "images-idx3-ubyte");
    imc_network net;
    memset(&net, 0, sizeof net);
    net.img_size = net.in_h = net.in_w = 4;
    net.in_chans = 1;
    net.num_classes = 10;
    imc_dataset *d = NULL;
    imc_err err;
    imc_err_clear(&err);
    int rc = imc_dataset_load(&d, path, 16, &net, &err);
    imc_fuzz_accepted = rc == 0;
    if (rc) {
        imc_fuzz_check_refusal(rc, &err);
        if (d)
            abort();
        return 0;
    }
    if (!d || d->n < 1 || d->n > 16)
        abort();
    for (size_t i = 0; i < d->n * 16; i++)
        if (!isfinite(d->images[i]))
            abort();
    for (size_t i = 0; d->labels && i < d->n; i++)
        if (d->labels[i] < 0 || d->labels[i] >= 10)
            abort();
    imc_dataset_free(d);
    return 0;
}
