/* arena.c - chunked bump allocation; large requests get a chunk of their own. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK_SIZE = 64 * 1024, ALIGN = 16 };

typedef struct Chunk {
  struct Chunk *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
} Chunk;

struct Arena {
  Chunk *head;
  size_t used;
};

static void *xcalloc(size_t n) {
  void *p = calloc(1, n);
  if (!p) {
    fprintf(stderr, "kiln: out of memory allocating %zu bytes\n", n);
    abort();
  }
  return p;
}

Arena *ir_arena_new(void) { return xcalloc(sizeof(Arena)); }

void ir_arena_free(Arena *a) {
  if (!a)
    return;
  for (Chunk *c = a->head, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(a);
}

static Chunk *new_chunk(size_t size) {
  Chunk *c = xcalloc(sizeof(Chunk) + size);
  c->size = size;
  return c;
}

void *ir_arena_alloc(Arena *a, size_t size) {
  size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  if (size == 0)
    size = ALIGN;
  a->used += size;
  if (size > CHUNK_SIZE / 4) {
    /* A big block gets its own chunk behind the head so the head keeps its free space. */
    Chunk *c = new_chunk(size);
    c->used = size;
    if (a->head) {
      c->next = a->head->next;
      a->head->next = c;
    } else {
      a->head = c;
    }
    return c->data;
  }
  if (!a->head || a->head->size - a->head->used < size) {
    Chunk *c = new_chunk(CHUNK_SIZE);
    c->next = a->head;
    a->head = c;
  }
  void *p = a->head->data + a->head->used;
  a->head->used += size;
  return p;
}

void *ir_arena_grow(Arena *a, void *old, size_t old_size, size_t new_size) {
  void *p = ir_arena_alloc(a, new_size);
  if (old && old_size)
    memcpy(p, old, old_size < new_size ? old_size : new_size);
  return p;
}

char *ir_arena_strndup(Arena *a, const char *s, size_t n) {
  char *p = ir_arena_alloc(a, n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *ir_arena_strdup(Arena *a, const char *s) { return ir_arena_strndup(a, s, strlen(s)); }

size_t ir_arena_used(const Arena *a) { return a->used; }
