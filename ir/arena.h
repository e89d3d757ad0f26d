/* arena.h - the bump allocator a module owns.
 *
 * Every allocation lives until ir_arena_free(); nothing is freed one by one. Memory is zeroed and
 * aligned to 16 bytes. Allocation failure aborts (an out-of-memory compiler cannot recover). */
#ifndef KILN_IR_ARENA_H
#define KILN_IR_ARENA_H

#include <stddef.h>

typedef struct Arena Arena;

Arena *ir_arena_new(void);
void ir_arena_free(Arena *a);
void *ir_arena_alloc(Arena *a, size_t size);
/* Grows an array allocated in the arena: returns a copy of old's first old_size bytes in a new
 * block of new_size bytes (the old block is abandoned, not freed). */
void *ir_arena_grow(Arena *a, void *old, size_t old_size, size_t new_size);
char *ir_arena_strdup(Arena *a, const char *s);
char *ir_arena_strndup(Arena *a, const char *s, size_t n);
/* Bytes handed out so far, for tests and statistics. */
size_t ir_arena_used(const Arena *a);

#endif
