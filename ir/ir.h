/* ir.h - kiln's SSA graph: modules, values, ops, blocks, attributes; builder and rewrite API.
 *
 * Ownership: a Module owns one Arena; every Value, Op, Block, Attr and tensor byte below it lives
 * there. Passes unlink and erase ops; memory is reclaimed only by ir_module_free().
 *
 * Use lists: every operand slot is an Operand linked into its value's use list, so
 * ir_value_replace_all_uses() and "has no uses" are exact. Go through the API (ir_op_set_operand,
 * ir_op_erase, ...) to keep them so. */
#ifndef KILN_IR_IR_H
#define KILN_IR_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "opkind.h"
#include "type.h"

/* ---- The op registry (ops.def) ---------------------------------------------------------------- */


/* How an op fuses (TVM's pattern kinds): what it may absorb and be absorbed into. */
typedef enum FusionKind {
  FK_ELEMENTWISE, /* out[i] = f(in[i]) */
  FK_BROADCAST,   /* elementwise over broadcast operands */
  FK_INJECTIVE,   /* each output element is one input element (reshape, transpose, slice) */
  FK_REDUCTION,   /* reduces along axes (softmax, pooling over the whole plane, norms) */
  FK_CONV,        /* conv/gemm-like: a heavy producer that takes an elementwise epilogue */
  FK_OPAQUE,      /* never fused */
} FusionKind;

enum OpFlags {
  F_DEVICE = 1u << 0,      /* codegen can emit it (until codegen lands, the registry's word) */
  F_NOOP = 1u << 1,        /* moves no data on the device (a view): not counted by segment */
  F_COMMUTATIVE = 1u << 2, /* binary op whose operands may be swapped */
  F_REGION = 1u << 3,      /* carries a body region ending in yield */
  F_TERMINATOR = 1u << 4,  /* ends a block: yield in regions, output in the module */
  F_FOLD = 1u << 5,        /* canonicalize may fold it on constant operands */
  /* The result shapes depend on the operand values (non_zero, non_max_suppression): inference
   * leaves the result types as given (unknown `?` after import); canonicalize folds the op once
   * every operand is a weight with data, evaluating it into an upper-bound buffer (rt_ref_bound,
   * runtime/ref/ref.h) that the kernel trims to the actual shape. kiln compiles static shapes
   * only, so anything past such an op on non-constant operands keeps unknown types. */
  F_DATA_SHAPE = 1u << 6,
};

typedef enum AttrKind {
  ATTR_INT,
  ATTR_FLOAT,
  ATTR_STRING,
  ATTR_INTS,
  ATTR_FLOATS,
  ATTR_STRINGS,
  ATTR_TENSOR,
  ATTR_KIND_COUNT
} AttrKind;

typedef struct AttrSpec {
  const char *name;
  AttrKind kind;
  bool optional;
} AttrSpec;

typedef struct OpInfo {
  const char *name; /* text name */
  const char *onnx; /* ONNX op type, "" for structural ops */
  int min_operands, max_operands; /* max -1: unbounded */
  int min_results, max_results;
  FusionKind fusion;
  unsigned flags;
  const char *attr_spec; /* see ops.def */
} OpInfo;

extern const OpInfo ir_ops[OP_COUNT];

OpKind ir_op_lookup(const char *name); /* by text name; OP_INVALID if none */
const char *ir_op_name(OpKind k);
const char *ir_attr_kind_name(AttrKind k); /* "int", "floats", ... */
const char *ir_fusion_kind_name(FusionKind k);
/* The parsed attribute schema of an op; *n receives the count. Valid for the program's life. */
const AttrSpec *ir_op_attr_specs(OpKind k, int *n);
const AttrSpec *ir_op_attr_spec(OpKind k, const char *attr); /* NULL if the op has none such */

/* ---- Values, ops, blocks ------------------------------------------------------------------- */

typedef struct Op Op;
typedef struct Value Value;
typedef struct Block Block;

typedef struct Loc {
  int line, col; /* 1-based; 0 when the op was built, not parsed */
} Loc;

/* Tensor bytes: little-endian, row-major, numel(type) * dtype size. data == NULL: elided. */
typedef struct Tensor {
  Type type;
  void *data;
  size_t nbytes;
} Tensor;

typedef struct Attr {
  const char *name;
  AttrKind kind;
  int n; /* element count of list kinds */
  union {
    int64_t i;
    double f;
    const char *s;
    int64_t *ints;
    double *floats;
    const char **strings;
    Tensor *tensor;
  };
} Attr;

typedef struct Operand {
  Value *value;
  Op *owner;
  int index;
  struct Operand *next_use; /* in value->uses */
} Operand;

typedef enum ValueKind { VAL_INPUT, VAL_WEIGHT, VAL_RESULT } ValueKind;

struct Value {
  ValueKind kind;
  const char *name; /* without sigil; NULL: anonymous, numbered by the printer */
  Type type;
  Op *def;          /* VAL_RESULT: the defining op */
  int index;        /* VAL_RESULT: result number; else position in the module's list */
  Tensor *tensor;   /* VAL_WEIGHT: the data (type equals the value's type) */
  Operand *uses;
  int id;           /* unique in the module, in creation order */
  Loc loc;
};

struct Block {
  Op *first, *last;
  Op *parent; /* the op owning this region; NULL for the module body */
};

struct Op {
  OpKind kind;
  const char *sym; /* optional @symbol: kernel name of fused ops, ONNX node name */
  Operand *operands;
  int noperands;
  Value **results;
  int nresults;
  Attr *attrs; /* sorted by name */
  int nattrs;
  Block *body;   /* region of F_REGION ops, else NULL */
  Block *parent; /* NULL while unlinked */
  Op *prev, *next;
  Loc loc;
};

typedef struct Module {
  Arena *arena;
  const char *name; /* NULL: none */
  Value **inputs;
  int ninputs, cap_inputs;
  Value **weights;
  int nweights, cap_weights;
  Block body; /* ends with the output op once complete */
  int next_id;
} Module;

Module *ir_module_new(const char *name);
void ir_module_free(Module *m);

Value *ir_add_input(Module *m, const char *name, Type t);
/* Copies nbytes of data into the arena; data NULL makes an elided weight. */
Value *ir_add_weight(Module *m, const char *name, Type t, const void *data, size_t nbytes);
void ir_value_set_name(Module *m, Value *v, const char *name); /* NULL: anonymous */
/* Finds an input or result ('%') or a weight ('$') by name, anywhere in the module. */
Value *ir_lookup_value(const Module *m, char sigil, const char *name);
bool ir_value_has_uses(const Value *v);
int ir_value_num_uses(const Value *v);
void ir_value_replace_all_uses(Value *from, Value *to);

/* Creates an unlinked op with fresh anonymous results (result_types may be NULL: unknown). */
Op *ir_op_create(Module *m, OpKind kind, int noperands, Value *const *operands, int nresults,
                 const Type *result_types);
void ir_op_set_operand(Op *op, int i, Value *v);
/* Replaces the whole operand list (e.g. a region op's captures); values may repeat old ones. */
void ir_op_set_operands(Module *m, Op *op, int n, Value *const *values);
void ir_op_set_sym(Module *m, Op *op, const char *sym);
/* Adds the body region of an F_REGION op (empty). */
Block *ir_op_add_body(Module *m, Op *op);

/* Attributes: set replaces an attribute of the same name, keeping the array sorted. Float
 * attributes hold f32 values (ONNX's), widened to double: setters round to f32. */
void ir_op_set_attr(Module *m, Op *op, const Attr *a); /* deep-copies names, lists and tensors */
void ir_op_set_int(Module *m, Op *op, const char *name, int64_t v);
void ir_op_set_float(Module *m, Op *op, const char *name, double v);
void ir_op_set_string(Module *m, Op *op, const char *name, const char *v);
void ir_op_set_ints(Module *m, Op *op, const char *name, const int64_t *v, int n);
void ir_op_set_floats(Module *m, Op *op, const char *name, const double *v, int n);
void ir_op_set_strings(Module *m, Op *op, const char *name, const char *const *v, int n);
void ir_op_remove_attr(Op *op, const char *name);
const Attr *ir_op_attr(const Op *op, const char *name); /* NULL if absent */
/* Typed getters with a default for an absent attribute (kinds are the verifier's business; a
 * getter for a present attribute of another kind returns the default). */
int64_t ir_attr_int(const Op *op, const char *name, int64_t dflt);
double ir_attr_float(const Op *op, const char *name, double dflt);
const char *ir_attr_string(const Op *op, const char *name, const char *dflt);
/* List getters return the count and point *v at the elements (or return -1 if absent). */
int ir_attr_ints(const Op *op, const char *name, const int64_t **v);
int ir_attr_floats(const Op *op, const char *name, const double **v);
bool ir_attr_equal(const Attr *a, const Attr *b);

/* Linking. */
void ir_block_append(Block *b, Op *op);
void ir_op_insert_before(Op *pos, Op *op);
void ir_op_insert_after(Op *pos, Op *op);
void ir_op_unlink(Op *op);            /* out of its block; operands keep their uses */
void ir_op_move_into(Op *op, Block *dst); /* unlink and append to dst (a region) */
/* Unlinks the op and drops its operand uses (recursively for its body). Its results must have no
 * uses left; that is a bug to abort on. */
void ir_op_erase(Op *op);

/* The output op of the module (last op of the body), or NULL. */
Op *ir_module_output(const Module *m);
/* The op whose region holds op, or NULL at module level. */
Op *ir_op_parent_op(const Op *op);

/* Pre-order walk over every op of a block and, recursively, its regions. The callback may not
 * unlink the op it is given; collect and rewrite afterwards. Returns early when fn returns false. */
typedef bool (*ir_walk_fn)(Op *op, void *ctx);
bool ir_walk(Block *b, ir_walk_fn fn, void *ctx);

/* ---- Shape inference (infer*.c), verifier, printer ------------------------------------------ */

/* Computes the result types of op from its operand types and attributes into out[op->nresults].
 * Returns false with a reason in err (without the op name: the caller adds it). Operand types are
 * known when called. The table has an entry for every op; a unit test checks it. */
typedef bool (*ir_infer_fn)(const Op *op, Type *out, char *err, size_t errlen);
extern const ir_infer_fn ir_infer_fns[OP_COUNT];
/* Infers op's result types into a new heap array (free() it), seeded with the declared types
 * (cast reads its target there); NULL with the reason in err when inference fails. */
Type *ir_infer_op(const Op *op, char *err, size_t errlen);

struct Diag;
/* Checks every structural and per-op rule (see verify.c); reports each violation through d and
 * returns the number of errors. */
int ir_verify(const Module *m, struct Diag *d);

#define IR_INLINE_MAX 16 /* tensors of at most this many elements print inline */

typedef struct PrintOptions {
  bool elide_constants; /* large tensors as dense_resource<__elided__>, no resources section */
} PrintOptions;

void ir_print_module(const Module *m, Buf *b, const PrintOptions *opt);
/* Names print bare when made of [A-Za-z0-9_.] only, else as a quoted string with escapes. */
bool ir_name_is_bare(const char *s);
void ir_print_name(Buf *b, const char *name);
/* Writes how the printer names v ("%x", "$w", "%3") into buf, for messages. */
void ir_value_label(const Module *m, const Value *v, char *buf, size_t n);
/* Prints one op (with its region) as in a dump, for remarks and messages. */
void ir_print_op(const Module *m, const Op *op, Buf *b, const PrintOptions *opt);

#endif
