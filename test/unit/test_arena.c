/* Unit tests of the arena and the text buffer. */
#include <stdint.h>

#include "check.h"
#include "ir/arena.h"
#include "ir/buf.h"

static void test_alloc(void) {
  Arena *a = ir_arena_new();
  unsigned char *p = ir_arena_alloc(a, 10);
  CHECK(p != NULL);
  CHECK(((uintptr_t)p & 15) == 0);
  int zero = 1;
  for (int i = 0; i < 10; i++)
    zero &= p[i] == 0;
  CHECK(zero);
  unsigned char *q = ir_arena_alloc(a, 1);
  CHECK(q >= p + 16 || q + 16 <= p); /* distinct, aligned blocks */
  CHECK(((uintptr_t)q & 15) == 0);
  /* Many small and a few big blocks: all distinct and writable. */
  unsigned char *prev = NULL;
  int distinct = 1;
  for (int i = 0; i < 20000; i++) {
    unsigned char *r = ir_arena_alloc(a, (size_t)(i % 97) + 1);
    r[0] = 0xAB;
    distinct &= r != prev;
    prev = r;
  }
  CHECK(distinct);
  unsigned char *big = ir_arena_alloc(a, 10 << 20);
  big[(10 << 20) - 1] = 1;
  CHECK(((uintptr_t)big & 15) == 0);
  CHECK(ir_arena_used(a) >= (10u << 20));
  unsigned char *after = ir_arena_alloc(a, 32); /* small blocks still come from the head chunk */
  after[31] = 1;
  CHECK(after != big);
  ir_arena_free(a);
}

static void test_strings_and_grow(void) {
  Arena *a = ir_arena_new();
  char *s = ir_arena_strdup(a, "conv");
  CHECK_STR(s, "conv");
  CHECK_STR(ir_arena_strndup(a, "relu6", 4), "relu");
  int *v = ir_arena_alloc(a, 2 * sizeof(int));
  v[0] = 7;
  v[1] = 9;
  int *w = ir_arena_grow(a, v, 2 * sizeof(int), 8 * sizeof(int));
  CHECK(w[0] == 7 && w[1] == 9 && w[7] == 0);
  ir_arena_free(a);
  ir_arena_free(NULL);
}

static void test_buf(void) {
  Buf b = {0};
  CHECK_STR(ir_buf_str(&b), "");
  ir_buf_puts(&b, "a");
  ir_buf_printf(&b, "%d-%s", 42, "x");
  ir_buf_putc(&b, '!');
  CHECK_STR(ir_buf_str(&b), "a42-x!");
  CHECK(b.len == 6);
  for (int i = 0; i < 10000; i++)
    ir_buf_putc(&b, 'z');
  CHECK(b.len == 10006);
  ir_buf_clear(&b);
  CHECK_STR(ir_buf_str(&b), "");
  ir_buf_free(&b);
}

int main(void) {
  test_alloc();
  test_strings_and_grow();
  test_buf();
  return check_finish();
}
