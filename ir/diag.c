#include "diag.h"

#include <stdarg.h>
#include <string.h>

static const char *level_names[] = {"error", "warning", "note", "remark"};

void ir_diag_init(Diag *d, const char *filename, const char *src, size_t srclen) {
  memset(d, 0, sizeof *d);
  d->filename = filename;
  d->src = src;
  d->srclen = srclen;
  d->out = stderr;
}

/* Prints line `line` (1-based, relative to src) and a caret under column col. */
static void show_line(Diag *d, int line, int col) {
  const char *p = d->src, *end = d->src + d->srclen;
  for (int l = 1; l < line && p < end; p++)
    if (*p == '\n')
      l++;
  if (p >= end && line > 1)
    return;
  const char *eol = memchr(p, '\n', (size_t)(end - p));
  if (!eol)
    eol = end;
  fprintf(d->out, "%.*s\n", (int)(eol - p), p);
  /* Keep tabs so the caret lines up under them. */
  for (int i = 1; i < col && p + i - 1 < eol; i++)
    fputc(p[i - 1] == '\t' ? '\t' : ' ', d->out);
  fputs("^\n", d->out);
}

static void vreport(Diag *d, DiagLevel level, const char *pass, Loc loc, const char *fmt,
                    va_list ap) {
  FILE *out = d->out ? d->out : stderr;
  d->out = out;
  const char *file = d->filename ? d->filename : "<input>";
  if (loc.line > 0)
    fprintf(out, "%s:%d:%d: %s: ", file, loc.line + d->line_offset, loc.col, level_names[level]);
  else
    fprintf(out, "%s: %s: ", file, level_names[level]);
  if (pass)
    fprintf(out, "[%s] ", pass);
  vfprintf(out, fmt, ap);
  fputc('\n', out);
  if (loc.line > 0 && d->src)
    show_line(d, loc.line, loc.col);
}

static void vdiag(Diag *d, DiagLevel level, Loc loc, const char *fmt, va_list ap) {
  if (level == DIAG_ERROR)
    d->nerrors++;
  else if (level == DIAG_WARNING)
    d->nwarnings++;
  else if (level == DIAG_REMARK) {
    d->nremarks++;
    if (!d->remarks)
      return;
  }
  vreport(d, level, NULL, loc, fmt, ap);
}

void ir_diag(Diag *d, DiagLevel level, Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(d, level, loc, fmt, ap);
  va_end(ap);
}

void ir_error(Diag *d, Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(d, DIAG_ERROR, loc, fmt, ap);
  va_end(ap);
}

void ir_note(Diag *d, Loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(d, DIAG_NOTE, loc, fmt, ap);
  va_end(ap);
}

void ir_remark(Diag *d, const char *pass, Loc loc, const char *fmt, ...) {
  d->nremarks++;
  if (!d->remarks || (d->remark_pass && strcmp(d->remark_pass, pass) != 0))
    return;
  va_list ap;
  va_start(ap, fmt);
  vreport(d, DIAG_REMARK, pass, loc, fmt, ap);
  va_end(ap);
}

bool ir_errf(char *err, size_t errlen, const char *fmt, ...) {
  if (errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return false;
}
