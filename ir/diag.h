/* diag.h - compiler diagnostics.
 *
 * Messages read `FILE:LINE:COL: error: TEXT`, followed by the source line and a caret under the
 * column when the source text is known; without a location, `FILE: error: TEXT`. Errors are
 * counted, not fatal: callers keep going where they can and check nerrors. */
#ifndef KILN_IR_DIAG_H
#define KILN_IR_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ir.h"

typedef enum DiagLevel { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE, DIAG_REMARK } DiagLevel;

typedef struct Diag {
  const char *filename;
  const char *src;  /* the whole input text, for source lines; may be NULL */
  size_t srclen;
  int line_offset;  /* added to line numbers: a chunk of --split-input-file starts mid-file */
  FILE *out;        /* stderr unless set */
  int nerrors, nwarnings, nremarks;
  bool remarks;           /* report remarks at all */
  const char *remark_pass; /* NULL: every pass; else only this one */
} Diag;

void ir_diag_init(Diag *d, const char *filename, const char *src, size_t srclen);
void ir_diag(Diag *d, DiagLevel level, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ir_error(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Formats a reason into err[errlen] (nothing when errlen is 0) and returns false: the one-line
 * error idiom of functions that report through an err buffer rather than a Diag. */
bool ir_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ir_note(Diag *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A remark from a pass: `FILE:LINE:COL: remark: [PASS] TEXT`, shown only when enabled. */
void ir_remark(Diag *d, const char *pass, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
