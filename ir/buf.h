/* buf.h - a growable, always NUL-terminated text buffer (heap, not arena: it outlives modules). */
#ifndef KILN_IR_BUF_H
#define KILN_IR_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct Buf {
  char *data; /* NUL-terminated; NULL until the first write */
  size_t len, cap;
} Buf;

void ir_buf_puts(Buf *b, const char *s);
void ir_buf_putn(Buf *b, const char *s, size_t n);
void ir_buf_putc(Buf *b, char c);
void ir_buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ir_buf_vprintf(Buf *b, const char *fmt, va_list ap);
void ir_buf_clear(Buf *b);
void ir_buf_free(Buf *b);
/* Returns the text ("" when empty); valid until the next write. */
const char *ir_buf_str(const Buf *b);

#endif
