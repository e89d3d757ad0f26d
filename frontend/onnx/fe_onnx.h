/* fe_onnx.h - internals shared by the ONNX importer's files (not a public header).
 *
 * One FeCtx lives for one import. It owns a symbol table from ONNX tensor names to what they are:
 * a graph input or node result (an IR value), or a constant (initializer or Constant node output)
 * decoded but materialised as an IR weight only when an op takes it as an operand, so constants
 * that become attributes (Reshape's shape, Slice's starts, ...) leave no unused weight behind.
 *
 * Errors: fe_fail() reports one line prefixed by the current context ("node 3 'c1' (Conv): ",
 * "initializer 'w': ", ...) and marks the import failed; after the first error every later report
 * is dropped, so a bad model gives exactly one line. */
#ifndef KILN_FRONTEND_ONNX_FE_ONNX_H
#define KILN_FRONTEND_ONNX_FE_ONNX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontend/onnx/onnx_import.h"
#include "onnx/onnx.pb-c.h"

#define FE_MIN_IR_VERSION 3
#define FE_MAX_IR_VERSION 10
#define FE_MIN_OPSET 7
#define FE_MAX_OPSET 21
#define FE_MAX_NODE_IO 64 /* inputs or outputs of one node kiln handles */

/* A decoded constant tensor: data is borrowed (raw_data of the model) or owned (heap). */
typedef struct FeConst {
  Type type;
  const void *data;
  size_t nbytes;
  void *owned;
} FeConst;

typedef struct FeSym {
  const char *name; /* borrowed from the model */
  Value *v;         /* NULL while a constant is not materialised */
  FeConst *k;       /* non-NULL for constants */
} FeSym;

typedef struct FeCtx {
  Module *m;
  Diag *d;
  const char *base_dir; /* NULL: external data is an error */
  const FeOnnxOptions *opt;
  int64_t opset;
  bool failed;
  char where[512]; /* the context prefix of messages, "" for none */
  FeSym *syms;
  size_t nsyms, capsyms;
  const char **used; /* open-addressing set of names read by nodes or graph outputs */
  size_t nused, capused;
} FeCtx;

/* ---- import.c ---- */
bool fe_fail(FeCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fe_set_where(FeCtx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
FeSym *fe_sym_find(FeCtx *c, const char *name);
/* Adds a symbol; false (reported) when the name is already defined. */
bool fe_sym_add(FeCtx *c, const char *name, Value *v, FeConst *k);
/* The IR value of a symbol, materialising a constant as a weight named after it. */
Value *fe_sym_value(FeCtx *c, FeSym *s);
bool fe_name_used(const FeCtx *c, const char *name);
static inline const char *fe_str(const char *s) { return s ? s : ""; }

/* ---- model.c: tensors and types ---- */
/* The DType of an ONNX elem type; false (nothing reported) when kiln has none. */
bool fe_dtype_from_onnx(int32_t et, DType *out);
const char *fe_onnx_type_name(int32_t et); /* "FLOAT", "STRING", ... */
/* Decodes a TensorProto (typed fields, raw_data or external data) with every size checked. */
bool fe_const_from_tensor(FeCtx *c, const Onnx__TensorProto *t, FeConst *out);
void fe_const_free(FeConst *k);
/* The directory part of path ("." when none), in a heap string. */
char *fe_dir_name(const char *path);

/* ---- shape.c ---- */
/* The type of graph input vi, with the --shape overrides applied. */
bool fe_input_type(FeCtx *c, const Onnx__ValueInfoProto *vi, Type *out);
/* Checks that every override names one of the graph inputs (not an initializer). */
bool fe_check_overrides(FeCtx *c, const Onnx__GraphProto *g);

/* ---- attrs.c / ops_onnx.c: node conversion ---- */
typedef struct FeNode {
  FeCtx *c;
  const Onnx__NodeProto *np;
  int index;
  FeSym *in[FE_MAX_NODE_IO]; /* per ONNX input position; NULL when empty ("") or absent */
  int nin;
  int nout; /* ONNX outputs up to the last non-empty one */
  bool *taken; /* per attribute: consumed by a conversion rule */
  Op *op;      /* set by fe_node_emit */
} FeNode;

/* The attribute named name (marked taken), or NULL. */
const Onnx__AttributeProto *fe_attr_take(FeNode *n, const char *name);
/* Takes an optional int/ints attribute of the given type; false (reported) on a wrong kind. */
bool fe_attr_take_int(FeNode *n, const char *name, int64_t dflt, int64_t *out);
bool fe_attr_take_string(FeNode *n, const char *name, const char *dflt, const char **out);
bool fe_attr_take_ints(FeNode *n, const char *name, const int64_t **v, int *cnt); /* cnt -1: absent */
/* "transA" -> "trans_a" into buf. */
void fe_snake_case(const char *onnx, char *buf, size_t n);
/* Copies every attribute not taken onto n->op, renamed to snake case and checked against the
 * registry schema (unknown name or wrong kind: error). */
bool fe_attrs_apply(FeNode *n);

/* Creates the op of kind with the given operands (NULL entries are an error of the caller) and
 * nres results, sets its symbol, applies the untaken attributes; checks the registry's arity. */
bool fe_node_emit(FeNode *n, OpKind kind, Value *const *operands, int nops, int nres);
/* The non-empty inputs from position first on, materialised, into ops; returns their count. */
int fe_node_operands(FeNode *n, int first, int last, Value **ops);
/* Input i must be a constant; read as integers / floats (copied to *v, heap; caller frees).
 * Messages name the input as "input I ('param') of OpType". */
bool fe_input_ints(FeNode *n, int i, const char *param, int64_t **v, int *cnt);
bool fe_input_floats(FeNode *n, int i, const char *param, double **v, int *cnt);
/* Converts one node (rules in ops_onnx.c, generic mapping otherwise); n->op is set and linked
 * with its result types inferred, unless it produced no op (Constant). */
bool fe_convert_node(FeNode *n);
/* A registry op whose ONNX name is op_type, or OP_INVALID. */
OpKind fe_op_for_onnx(const char *op_type);

/* ---- ops_onnx.c helpers shared with the per-family rule files ---- */
const char *fe_type_name(const FeNode *n);
/* Emits kind with every non-empty input from position 0 to last (exclusive) and nres results. */
bool fe_emit_inputs(FeNode *n, OpKind k, int last, int nres);
bool fe_convert_generic(FeNode *n, OpKind k);
/* Cast's target: the result dtype, or the `to` attribute while the operand type is unknown. */
void fe_set_cast_target(FeNode *n, DType dt);

/* ---- ops_index.c ---- */
bool fe_convert_trilu(FeNode *n, OpKind k);
bool fe_convert_cum_sum(FeNode *n, OpKind k);
bool fe_convert_one_hot(FeNode *n, OpKind k);
bool fe_convert_top_k(FeNode *n, OpKind k);
bool fe_convert_cast_like(FeNode *n, OpKind k);
bool fe_convert_eye_like(FeNode *n, OpKind k);
bool fe_convert_non_zero(FeNode *n, OpKind k);

/* ---- ops_dyn.c: the operand form (ir/dyn_form.h) ---- */
/* Some present input in [first, first + count) is not a constant. */
bool fe_inputs_dynamic(const FeNode *n, int first, int count);
/* Emits k with inputs [0, base) and then the inputs [first, first + count) up to the last present
 * one as operands; an absent one between them is an empty weight of dtype absent[i] (NULL: i64). */
bool fe_emit_operand_form(FeNode *n, OpKind k, int base, int nres, int first, int count,
                          const DType *absent);
bool fe_convert_constant_of_shape(FeNode *n, OpKind k);
/* The tensor FeOnnxOptions binds graph input name to, or NULL. */
const Tensor *fe_binding(const FeCtx *c, const char *name);

#endif
