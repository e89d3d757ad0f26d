/* common.h - what the command-line tools share: reading inputs, loading a model (ONNX or textual
 * IR), and writing an output file whole or not at all. */
#ifndef KILN_TOOLS_COMMON_H
#define KILN_TOOLS_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "frontend/onnx/onnx_import.h"
#include "ir/diag.h"
#include "ir/ir.h"

/* Reads a whole file (stdin for NULL or "-") into a NUL-terminated heap buffer; NULL with errno
 * set on failure. */
char *tool_read_file(const char *path, size_t *len);

/* Whether path names an ONNX model (by its .onnx suffix). */
bool tool_is_onnx(const char *path);

/* Loads path: an ONNX model through the importer (fo may be NULL), else textual IR from src[len]
 * (the file's contents), then verifies it. NULL after reporting through d. */
Module *tool_load_module(const char *path, const char *src, size_t len, const FeOnnxOptions *fo,
                         Diag *d);

/* The tool's name in its messages ("kiln-compile"); set first thing in main. */
extern const char *tool_name;

/* Prints "TOOL: error: MESSAGE" on stderr and returns 1 (an exit status). */
int tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tool_verror(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Seconds on a monotonic clock. */
double tool_now(void);

/* Appends s[n] as a JSON string literal (quotes, escapes). */
void tool_json_str(Buf *b, const char *s, size_t n);

/* Options: whether arg is the flag name, alone or as "name=value"; and its value, from after the
 * '=' or from the next argument (advancing *i), or NULL when there is none. */
bool tool_is_flag(const char *arg, const char *name);
const char *tool_flag_value(int argc, char **argv, int *i, const char *name);

/* Writes data to path through a temporary file in the same directory and a rename, so an error
 * never leaves a partial file; stdout for NULL; straight to a non-regular file (/dev/null, a pipe).
 * Prints "TOOL: error: cannot write ..." on failure. */
bool tool_write_file(const char *tool, const char *path, const void *data, size_t n);

#endif
