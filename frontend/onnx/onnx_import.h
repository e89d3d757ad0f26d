/* onnx_import.h - kiln's ONNX importer: a ModelProto (protobuf-c) to a kiln Module.
 *
 * Supports IR versions 3..10 and default-domain opsets 7..21. Every error is reported through the
 * Diag (whose filename should be the model's path) as one line without a location, e.g.
 * `model.onnx: error: node 37 'Conv_12' (Conv): ...`; importing stops at the first one, so a bad
 * model gives exactly one error line and no module. Never aborts, never leaks, never reads out of
 * bounds, on any bytes. */
#ifndef KILN_FRONTEND_ONNX_ONNX_IMPORT_H
#define KILN_FRONTEND_ONNX_ONNX_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/diag.h"
#include "ir/ir.h"

/* A --shape NAME=DIMS override: fixes every dimension of graph input NAME. */
typedef struct FeShapeOverride {
  const char *name;
  int rank;
  int64_t dims[IR_MAX_RANK];
} FeShapeOverride;

/* A graph input imported as a constant (a weight) holding tensor's data, as if it were an
 * initializer: the conformance runner binds inputs that determine shapes. */
typedef struct FeBinding {
  const char *name;
  const Tensor *tensor; /* borrowed for the import; its type is the constant's */
} FeBinding;

typedef struct FeOnnxOptions {
  const FeShapeOverride *shapes;
  int nshapes;
  const FeBinding *bindings;
  int nbindings;
} FeOnnxOptions;

/* Imports a model file; external data is read relative to the file's directory. opt may be NULL.
 * NULL on error (reported through d: exactly one error line for a bad model). */
Module *fe_onnx_import_file(const char *path, const FeOnnxOptions *opt, Diag *d);

/* The same from bytes (fuzzing); filename names the model in messages; base_dir is where external
 * data lives, may be NULL (then external data is an error). */
Module *fe_onnx_import(const void *data, size_t len, const char *filename, const char *base_dir,
                       const FeOnnxOptions *opt, Diag *d);

/* Reads a serialized TensorProto (a .pb file as in ONNX test data) into *out (data in m's arena,
 * type from its dims and data_type); *name receives its name ("" if none, in m's arena). External
 * data is read relative to the file's directory. False with one error through d. */
bool fe_onnx_read_tensor_file(const char *path, Module *m, Tensor *out, const char **name,
                              Diag *d);

/* Reads a whole file into a NUL-terminated heap buffer (free() it); NULL with errno set. */
void *fe_read_file(const char *path, size_t *len);

/* Writes data (numel(t) elements of t's dtype, little-endian) as a serialized TensorProto named
 * name, in raw_data, as the ONNX test data stores tensors. False with the reason in err. */
bool fe_onnx_write_tensor_file(const char *path, const char *name, const Type *t, const void *data,
                               char *err, size_t errlen);

/* Parses "NAME=1x3x640x640" (the last '=' separates, so NAME may contain '='; "NAME=" is a
 * scalar; the first dimension may be N, the batch). out->name is a malloc'd copy of NAME the
 * caller frees. False with a message in err (and nothing to free). */
bool fe_parse_shape_override(const char *text, FeShapeOverride *out, char *err, size_t errlen);

#endif
