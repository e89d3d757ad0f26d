/* parse.h - kiln's textual IR parser (grammar in ir/README.md).
 *
 * The parser reads back exactly what ir_print_module() writes, and hand-written modules. It
 * checks what the text alone decides (syntax, names and scopes, types, literal ranges, attribute
 * kinds the op schema knows, resources); everything else (operand counts, unknown attributes,
 * shapes) is the verifier's (ir_verify). */
#ifndef KILN_FRONTEND_TEXT_PARSE_H
#define KILN_FRONTEND_TEXT_PARSE_H

#include <stddef.h>

#include "ir/diag.h"
#include "ir/ir.h"

/* Parses a whole .kir text of len bytes (src need not be NUL-terminated; a NUL byte outside a
 * string is a bad character). Reports every error through d (ir_error with the 1-based line and
 * byte column of the offending token; d carries the filename, source text and line offset) and
 * returns NULL if there was any error, else a module the caller frees with ir_module_free().
 * Never aborts and never leaks, on any input. Op locations are those of their op names (or
 * 'output', 'yield'), value locations those of their defining %name or $name. */
Module *fe_parse_text(const char *src, size_t len, Diag *d);

#endif
