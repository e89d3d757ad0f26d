/* kiln.h - the public C API of libkilnrt, kiln's runtime library.
 *
 * An application links libkilnrt (pkg-config kiln, or CMake find_package(kiln) and
 * target kiln::kilnrt) and loads engine bundles written by kiln-compile. The library never exits
 * and never prints: every call returns a status, and kiln_last_error() says what went wrong.
 *
 * Objects and threads: a kiln_engine is immutable after loading; any number of threads may use one
 * engine at once (introspection, kiln_context_create) and free it once every context is freed.
 * A kiln_context belongs to one thread at a time (it owns the activation memory, a command queue
 * and the OpenCL kernel objects, which are not thread-safe): use one context per thread or
 * stream. No call allocates per inference. */
#ifndef KILN_H
#define KILN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define KILN_API __attribute__((visibility("default")))
#else
#define KILN_API
#endif

#define KILN_VERSION_MAJOR 0
#define KILN_VERSION_MINOR 1
#define KILN_VERSION_PATCH 0

typedef enum kiln_status {
  KILN_OK = 0,
  KILN_ERROR_INVALID_ARGUMENT,
  KILN_ERROR_IO,
  KILN_ERROR_FORMAT,
  KILN_ERROR_DEVICE,
  KILN_ERROR_OUT_OF_MEMORY,
  KILN_ERROR_UNSUPPORTED,
  KILN_ERROR_EXECUTION, /* a host step's reference kernel refused its operands */
} kiln_status;

/* "0.1.0": the version of the library actually loaded. */
KILN_API const char *kiln_version(void);
/* A constant name for a status: "KILN_OK", "KILN_ERROR_IO", ... ("unknown status" otherwise). */
KILN_API const char *kiln_status_name(kiln_status s);
/* The message of the last failing call on this thread ("" if none). */
KILN_API const char *kiln_last_error(void);

/* ---- engines -------------------------------------------------------------------------------- */

typedef struct kiln_engine kiln_engine;
typedef struct kiln_context kiln_context;

/* Load options; a zeroed struct (or NULL) gives the defaults. */
typedef struct kiln_options {
  /* "cpu", "gpu", an index into all OpenCL devices of all platforms, or a case-insensitive part
   * of the device name. NULL or "": $KILN_DEVICE, else the first GPU, else the first CPU. */
  const char *device;
  /* Directory of the program-binary cache. NULL: $XDG_CACHE_HOME/kiln or ~/.cache/kiln;
   * "": no cache. A cache that cannot be written is not an error. */
  const char *cache_dir;
} kiln_options;

/* The sections of a bundle (runtime/README.md), borrowed for the duration of the load call only:
 * the engine copies what it keeps. binaries: the binary.N sections, in order. */
typedef struct kiln_blob {
  const void *data;
  size_t size;
} kiln_blob;

typedef struct kiln_sections {
  kiln_blob plan, kernels, weights;
  const kiln_blob *binaries;
  int nbinaries;
} kiln_sections;

/* Loads the engine bundle at path / in data[size] (borrowed for the call only). */
KILN_API kiln_status kiln_engine_load_file(const char *path, const kiln_options *opts,
                                           kiln_engine **out);
KILN_API kiln_status kiln_engine_load_memory(const void *data, size_t size,
                                             const kiln_options *opts, kiln_engine **out);
/* Loads an engine from its sections (what the two calls above do after reading the bundle). */
KILN_API kiln_status kiln_engine_load_sections(const kiln_sections *s, const kiln_options *opts,
                                               kiln_engine **out);
/* Frees the engine (NULL is fine); every context of it must be freed first. */
KILN_API void kiln_engine_free(kiln_engine *e);

/* Element types, numbered as the runtime's tensors (runtime/ref/ref.h RtElem). */
typedef enum kiln_dtype {
  KILN_DTYPE_UNKNOWN,
  KILN_DTYPE_F32,
  KILN_DTYPE_F16,
  KILN_DTYPE_BF16,
  KILN_DTYPE_F64,
  KILN_DTYPE_I8,
  KILN_DTYPE_U8,
  KILN_DTYPE_I16,
  KILN_DTYPE_U16,
  KILN_DTYPE_I32,
  KILN_DTYPE_U32,
  KILN_DTYPE_I64,
  KILN_DTYPE_U64,
  KILN_DTYPE_BOOL,
} kiln_dtype;

#define KILN_MAX_RANK 8

/* One input or output. dims[0] is -1 for a batched binding (any batch 1..max batch); bytes is the
 * size of one batch item (batched) or of the whole tensor. The name lives as long as the engine. */
typedef struct kiln_binding {
  const char *name;
  kiln_dtype dtype;
  int rank;
  int64_t dims[KILN_MAX_RANK];
  int batched;
  size_t bytes;
} kiln_binding;

KILN_API int kiln_engine_num_inputs(const kiln_engine *e);
KILN_API int kiln_engine_num_outputs(const kiln_engine *e);
/* The i-th input / output (in the model's order); KILN_ERROR_INVALID_ARGUMENT if out of range. */
KILN_API kiln_status kiln_engine_input(const kiln_engine *e, int i, kiln_binding *out);
KILN_API kiln_status kiln_engine_output(const kiln_engine *e, int i, kiln_binding *out);
KILN_API int kiln_engine_max_batch(const kiln_engine *e);
/* The OpenCL device the engine runs on (CL_DEVICE_NAME). */
KILN_API const char *kiln_engine_device_name(const kiln_engine *e);
/* Where the program came from: "source" (compiled now), "cache" (the binary cache),
 * "embedded" (a binary.N section of the bundle), or "none" (the plan has no kernel step). */
KILN_API const char *kiln_engine_program_origin(const kiln_engine *e);
/* The program binary as a binary.N section for this device ("device=NAME;driver=VERSION", NUL,
 * the binary): kiln-compile embeds it as is. *data is malloc'd: release it with kiln_free. */
KILN_API kiln_status kiln_engine_program_binary(const kiln_engine *e, void **data, size_t *size);
KILN_API void kiln_free(void *p);

/* The device a spec names (as kiln_options.device: NULL or "" for the default choice): its
 * name and whether it is a GPU. kiln-compile asks this to tune code for the device it builds
 * for. */
typedef struct kiln_device_info {
  char name[256];
  int is_gpu;
} kiln_device_info;

KILN_API kiln_status kiln_device_query(const char *device, kiln_device_info *out);

/* ---- contexts ------------------------------------------------------------------------------- */

/* A context: the activation memory (sized by the plan at max batch), a profiling command queue,
 * the kernels and host scratch. */
KILN_API kiln_status kiln_context_create(const kiln_engine *e, kiln_context **out);
/* Frees the context (NULL is fine), waiting for a pending run first. */
KILN_API void kiln_context_free(kiln_context *c);

/* Binds host memory to an input or output by name. The pointer is kept (not copied) and read or
 * written at each run until rebound; bytes must be batch * binding.bytes for the batch of the
 * run (checked at set time against 1..max batch, and at run time against the batch). */
KILN_API kiln_status kiln_context_set_input(kiln_context *c, const char *name, const void *data,
                                            size_t bytes);
KILN_API kiln_status kiln_context_set_output(kiln_context *c, const char *name, void *data,
                                             size_t bytes);

/* Runs the engine on batch items (1..max batch) and returns when the outputs are written. */
KILN_API kiln_status kiln_context_run(kiln_context *c, int batch);
/* Starts a run; the bound memory must stay valid and untouched until kiln_context_wait returns.
 * Host steps run on the calling thread inside enqueue (they wait for the device work before
 * them); kernel steps after the last host step overlap with the caller until wait. */
KILN_API kiln_status kiln_context_enqueue(kiln_context *c, int batch);
/* Waits for the run started by kiln_context_enqueue; its status (a device failure surfaces here). */
KILN_API kiln_status kiln_context_wait(kiln_context *c);

typedef enum kiln_step_kind { KILN_STEP_KERNEL, KILN_STEP_HOST } kiln_step_kind;

/* One step of the last finished run: a kernel's device time (OpenCL profiling events, start to
 * end) or a host step's wall time (its reference kernel and unmapping its tensors; not the wait
 * for the device work before it). */
typedef struct kiln_step_profile {
  const char *name; /* kernel name, or host op name */
  kiln_step_kind kind;
  uint64_t ns;
} kiln_step_profile;

/* The steps of the last finished run, in plan order; valid until the next run or free. */
KILN_API kiln_status kiln_context_profile(const kiln_context *c, const kiln_step_profile **steps,
                                          int *n);

#ifdef __cplusplus
}
#endif

#endif
