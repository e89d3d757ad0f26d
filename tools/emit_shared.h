/* emit_shared.h - kiln-compile --emit=shared: an engine linked with the static thin runtime into
 * one shared library, plus a header that describes it (DESIGN.md, "Codegen and bundle").
 *
 * For `-o DIR/STEM.EXT` (e.g. model.so) kiln-compile writes DIR/STEM.EXT, the library, and
 * DIR/STEM.h, its header. PREFIX is STEM with every character outside [A-Za-z0-9_] made '_',
 * and "m_" put in front when it does not start with a letter ("tiny-fp16.so": tiny_fp16).
 *
 * The library holds the very bundle --emit=bundle writes for the same model and flags, embedded
 * with .incbin in .rodata (64-byte aligned; no C array, so 100 MB of weights cost no compile
 * time), and thin wrappers over kiln.h that load it with kiln_engine_load_memory. It links
 * libkilnrt.a (the runtime built as a static PIC archive, installed beside libkilnrt.so) and
 * needs at run time only libc, libm, libOpenCL (the ICD loader) and libxxhash: no kiln
 * installation. A linker version script exports exactly the PREFIX_* entry points below; the
 * runtime's kiln_* symbols stay local, so an application may also link libkilnrt, or load
 * several engine libraries, without clashes. Its soname is the output's base name.
 *
 * The generated API (the header declares it; every call returns 0 or a kiln_status code, kiln.h
 * numbering, and PREFIX_last_error() says why; the threading rules are kiln.h's):
 *   int  PREFIX_load(const char *device, PREFIX_engine **out);   device as kiln_options.device
 *   void PREFIX_free(PREFIX_engine *e);
 *   const char *PREFIX_device_name(const PREFIX_engine *e);
 *   int  PREFIX_context_create(const PREFIX_engine *e, PREFIX_context **out);
 *   void PREFIX_context_free(PREFIX_context *c);
 *   int  PREFIX_set_input(PREFIX_context *c, int index, const void *data, size_t bytes);
 *   int  PREFIX_set_output(PREFIX_context *c, int index, void *data, size_t bytes);
 *   int  PREFIX_run(PREFIX_context *c, int batch);  (and PREFIX_enqueue, PREFIX_wait)
 *   const char *PREFIX_last_error(void);  const char *PREFIX_status_name(int status);
 *   int  PREFIX_num_inputs(void), PREFIX_num_outputs(void), PREFIX_max_batch(void);
 *   const PREFIX_binding *PREFIX_input(int index), *PREFIX_output(int index);  (NULL: out of range)
 * The last group is for applications that dlopen the library without its header. The header
 * also has PREFIX_NUM_INPUTS, PREFIX_NUM_OUTPUTS, PREFIX_MAX_BATCH and static const tables
 * PREFIX_inputs[] and PREFIX_outputs[] of PREFIX_binding {name, dtype ("f32", ...), rank,
 * dims (dims[0] = -1 for the batch), batched, bytes (of one batch item, or of the whole
 * tensor)}, taken from the engine plan; PREFIX_load checks that the embedded engine agrees.
 *
 * Toolchain: the C compiler is $CC (split on blanks) or else `cc`. libkilnrt.a and kiln.h come
 * from $KILN_RUNTIME_ARCHIVE and $KILN_INCLUDE_DIR when set; otherwise from the build tree when
 * this kiln-compile is the build tree's; otherwise from the installation kiln-compile sits in
 * (BINDIR/../LIBDIR, BINDIR/../INCLUDEDIR), then the configured install prefix, then the build
 * tree. Every failure (no runtime archive, no compiler, a compile or link error, a write error)
 * is reported as "kiln-compile: error: ...", and leaves neither output nor temporary file: the
 * work happens in a temporary directory beside the output, renamed into place at the end. */
#ifndef KILN_TOOLS_EMIT_SHARED_H
#define KILN_TOOLS_EMIT_SHARED_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ToolSharedInput {
  const char *output;  /* the library to write (-o) */
  const void *bundle;  /* the engine bundle, as --emit=bundle writes it */
  size_t bundle_size;
  const char *plan;    /* the engine plan in it, for the header's binding tables */
  size_t plan_len;
  const char *model;   /* the model's file name, for the header's comment */
  bool verbose;        /* print the compiler command */
} ToolSharedInput;

/* Writes in->output and its header; false after reporting why (nothing written then). */
bool tool_emit_shared(const ToolSharedInput *in);

#endif
