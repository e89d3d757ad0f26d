/* npy.h - a reader of NumPy .npy files (format versions 1.0, 2.0 and 3.0) for kiln's tools.
 *
 * Accepted: little-endian (or byte-order-free) float32, float16, int64, int32 and bool arrays in
 * C order, rank 0 to IR_MAX_RANK. Every size in the header is checked against the file: the data
 * must be exactly numel * element size bytes. */
#ifndef KILN_TOOLS_NPY_H
#define KILN_TOOLS_NPY_H

#include <stdbool.h>
#include <stddef.h>

#include "ir/ir.h"

/* Parses .npy bytes into *out (type from the header; data malloc'd, the caller frees it). False
 * with the reason in err (without the file name). */
bool npy_parse(const void *bytes, size_t len, Tensor *out, char *err, size_t errlen);

/* Reads and parses the file at path. False with the reason in err (without the file name). */
bool npy_read_file(const char *path, Tensor *out, char *err, size_t errlen);

#endif
