/* buf.h - a growable, always NUL-terminated text buffer (heap, not arena: it outlives modules). */
#ifndef KILN_IR_BUF_H
#define KILN_IR_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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
/* Appends everything left in stream f (binary-safe: b->len counts the bytes, NULs included).
 * After the call b->data is never NULL. false on a read error, with errno set. */
bool ir_buf_read_stream(Buf *b, FILE *f);
/* Returns the text ("" when empty); valid until the next write. */
const char *ir_buf_str(const Buf *b);

#endif
