/* fuse_internal.h - the state the `fuse` pass shares between its files: fuse.c (vertical grouping,
 * outlining, naming), fuse_horizontal.c (sibling convs/gemms merged), fuse_concat.c (concats
 * written in place). Not a public interface.
 *
 * A group is a set of ops of one block that will become one `fused` op (one kernel). While groups
 * are formed, ops are addressed by their position in the block (FuseIndex); the horizontal merge
 * rewrites the IR and then rebuilds the index from the groups' op lists. */
#ifndef KILN_PASSES_FUSE_INTERNAL_H
#define KILN_PASSES_FUSE_INTERNAL_H

#include <stdbool.h>

#include "outline.h"
#include "pass.h"

typedef struct FuseGroup {
  Op **ops; /* members; ops[0] is the anchor (conv/gemm, reduction or first elementwise op) */
  int n, cap;
  bool dead; /* merged into another group */
} FuseGroup;

typedef struct Fuse {
  PassContext *pc;
  Module *m;
  Block *b;
  OpIndex ix;    /* positions of the ops of b */
  int *group_of; /* per position: group index, or -1 */
  int *mark;     /* per position: DFS stamps */
  int stamp;
  int *stack;
  FuseGroup *groups;
  int ngroups, cap_groups;
} Fuse;

/* Rebuilds positions and group_of from the block and the groups' op lists. */
void fuse_reindex(Fuse *f);
/* The position of an op of b, or -1 when op is not directly in b. */
int fuse_pos(const Fuse *f, const Op *op);
/* The position in b of the op defining v (the op of b holding it), or -1 for inputs, weights and
 * values from outside b. */
int fuse_def_pos(const Fuse *f, const Value *v);
void fuse_group_add(FuseGroup *g, Op *op);
/* True when contracting every group to one node leaves the block's dependences acyclic. */
bool fuse_quotient_acyclic(Fuse *f);

/* fuse_horizontal.c: merges sibling conv/gemm/matmul groups that read one input (see there). */
void fuse_horizontal(Fuse *f);
/* fuse_concat.c: marks the concats whose inputs are all written in place; returns whether op is
 * such a concat (it then stays outside every kernel). */
bool fuse_concat_in_place(Fuse *f, Op *concat);

/* Shape equality of two known types (dims only). */
bool fuse_same_shape(Type a, Type b);

#endif
