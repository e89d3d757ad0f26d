#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(Buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) {
    fprintf(stderr, "kiln: out of memory growing a buffer to %zu bytes\n", cap);
    abort();
  }
  b->data = p;
  b->cap = cap;
}

void ir_buf_putn(Buf *b, const char *s, size_t n) {
  reserve(b, n);
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = 0;
}

bool ir_buf_read_stream(Buf *b, FILE *f) {
  reserve(b, 1 << 16);
  size_t got;
  while ((got = fread(b->data + b->len, 1, b->cap - b->len - 1, f)) > 0) {
    b->len += got;
    if (b->len + 1 == b->cap)
      reserve(b, b->len); /* full: double */
  }
  b->data[b->len] = 0;
  return !ferror(f);
}

void ir_buf_puts(Buf *b, const char *s) { ir_buf_putn(b, s, strlen(s)); }

void ir_buf_putc(Buf *b, char c) { ir_buf_putn(b, &c, 1); }

void ir_buf_vprintf(Buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return;
  reserve(b, (size_t)n);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void ir_buf_printf(Buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ir_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void ir_buf_clear(Buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = 0;
}

void ir_buf_free(Buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

const char *ir_buf_str(const Buf *b) { return b->data ? b->data : ""; }
