/* outline.h - grouping ops of a block into region ops (segment, fused), and restoring the
 * block's topological order afterwards. Shared by segment.c and fuse.c.
 *
 * Contract of a grouping pass: choose disjoint sets of ops of one block such that contracting each
 * set to one node leaves the block's dependence graph acyclic (segment and fuse check this with
 * their own reachability tests before they commit a set), outline every set, then sort the block
 * once. Outlining alone may leave a region op before a value it reads; pass_block_sort repairs
 * that, and reports a cycle if the sets were not convex. */
#ifndef KILN_PASSES_OUTLINE_H
#define KILN_PASSES_OUTLINE_H

#include <stdbool.h>

#include "ir/ir.h"

/* Moves the n distinct ops of block b (given in any order) into the body of a new op of region
 * kind `kind` (OP_FUSED or OP_SEGMENT), keeping their block order, and ends the body with a yield.
 *   operands: every value the ops read that is not a result of an op of the set (inputs, weights,
 *             results of other ops), once each, in first-read order (block order, operand order);
 *   results:  every result of the set that something outside the set reads (including the
 *             module's output op), once each, in block order, with the inner value's type; every
 *             outside use is redirected to the new result, so names stay with the inner values.
 *             When nothing outside reads the set, the results of its last op (block order), so
 *             that the region op has the result it must have (dead, for DCE).
 * The new op is linked before the first op of the set and has no symbol or attributes. The ops
 * must not include a terminator. */
Op *pass_outline(Module *m, Block *b, Op *const *ops, int n, OpKind kind);

/* Reorders the ops of b into a topological order of their dependences (an op after the ops of b
 * that define its operands), stable: among the ops that are ready, the one that came first in the
 * old order goes first, so an already ordered block is unchanged and the terminator stays last.
 * Returns false (leaving b unchanged) when the dependences have a cycle. */
bool pass_block_sort(Module *m, Block *b);

/* Makes every region op under b (at any depth, innermost first: an inner region's new captures
 * are reads of the enclosing body) capture exactly the outside values its body reads: its current
 * operands that the body still reads, in their order, then the values it newly reads, in program
 * order. Passes that rewrite operands inside regions call it to keep the verifier's capture rule.
 * Returns whether any operand list changed. */
bool pass_recapture(Module *m, Block *b);

/* The positions of the ops of one block: ops[i] is its i-th op; pass_op_index_pos maps back. */
typedef struct OpIndex {
  Op **ops;
  int n;
  Op **by_ptr; /* the ops sorted by address, */
  int *pos_of; /* with their positions alongside */
} OpIndex;

/* (Re)builds x for the current order of b; x starts zeroed; free with pass_op_index_free. */
void pass_op_index_build(OpIndex *x, const Block *b);
/* op's position, or -1 when op is not an op of the block (as of the last build). */
int pass_op_index_pos(const OpIndex *x, const Op *op);
void pass_op_index_free(OpIndex *x);

/* The op of block b that holds op (op itself, or the region op of b whose body holds it at any
 * depth); NULL when op is not under b. */
Op *pass_op_in_block(Op *op, const Block *b);

#endif
