/* engine_forms.c - one engine in its two forms: a bundle (.kiln) that libkilnrt loads, and a
 * shared library (kiln-compile --emit=shared) that this program dlopens, finding the entry points
 * PREFIX_* by name. Both run on the same deterministic input; every output must be bitwise
 * identical, and the library must describe the same bindings as the bundle.
 *
 * usage: engine_forms [--device D] [--batch B] ENGINE.kiln ENGINE.so PREFIX
 *
 * D defaults to "cpu" (POCL), B to the engine's max batch. Inputs: f32 and f64 pseudo-random in
 * [-1, 1) from a fixed seed, other dtypes zero (integer inputs are often indices). Output buffers
 * start with different fill bytes in the two forms, so a byte that a run leaves unwritten shows as
 * a difference. Exit 0 when identical, 1 otherwise or on any error.
 *
 * The program links libkilnrt and loads a library that carries its own copy of the runtime: that
 * works because the library exports only PREFIX_* (its kiln_* symbols are local). */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln.h"

/* The library's binding, as its generated header declares PREFIX_binding. */
typedef struct SoBinding {
  const char *name;
  const char *dtype;
  int rank;
  int64_t dims[8];
  int batched;
  size_t bytes;
} SoBinding;

/* The library's entry points (emit_shared.h lists them). */
typedef struct SoApi {
  int (*load)(const char *device, void **out);
  void (*free)(void *e);
  int (*context_create)(const void *e, void **out);
  void (*context_free)(void *c);
  int (*set_input)(void *c, int index, const void *data, size_t bytes);
  int (*set_output)(void *c, int index, void *data, size_t bytes);
  int (*run)(void *c, int batch);
  const char *(*last_error)(void);
  int (*num_inputs)(void);
  int (*num_outputs)(void);
  int (*max_batch)(void);
  const SoBinding *(*input)(int index);
  const SoBinding *(*output)(int index);
} SoApi;

/* Looks up PREFIX_name into *fn; false after a message. */
static int sym(void *lib, const char *prefix, const char *name, void *fn) {
  char full[256];
  snprintf(full, sizeof full, "%s_%s", prefix, name);
  void *p = dlsym(lib, full);
  if (!p) {
    fprintf(stderr, "engine_forms: the library has no '%s': %s\n", full, dlerror());
    return 0;
  }
  memcpy(fn, &p, sizeof p); /* POSIX: an object pointer from dlsym converts to a function's */
  return 1;
}

static int open_api(const char *path, const char *prefix, SoApi *a) {
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "engine_forms: %s\n", dlerror());
    return 0;
  }
  return sym(lib, prefix, "load", &a->load) && sym(lib, prefix, "free", &a->free) &&
         sym(lib, prefix, "context_create", &a->context_create) &&
         sym(lib, prefix, "context_free", &a->context_free) &&
         sym(lib, prefix, "set_input", &a->set_input) &&
         sym(lib, prefix, "set_output", &a->set_output) && sym(lib, prefix, "run", &a->run) &&
         sym(lib, prefix, "last_error", &a->last_error) &&
         sym(lib, prefix, "num_inputs", &a->num_inputs) &&
         sym(lib, prefix, "num_outputs", &a->num_outputs) &&
         sym(lib, prefix, "max_batch", &a->max_batch) && sym(lib, prefix, "input", &a->input) &&
         sym(lib, prefix, "output", &a->output);
}

/* Whether the library's binding s describes the bundle's b; a message when not. */
static int same_binding(const char *what, int i, const kiln_binding *b, const SoBinding *s) {
  int ok = s && !strcmp(b->name, s->name) && b->rank == s->rank && b->batched == s->batched &&
           b->bytes == s->bytes;
  for (int d = 0; ok && d < b->rank; d++)
    ok = b->dims[d] == s->dims[d];
  if (!ok)
    fprintf(stderr, "engine_forms: %s %d: the library describes '%s', the bundle '%s' "
            "differently\n", what, i, s ? s->name : "(none)", b->name);
  return ok;
}

static void fill_input(const kiln_binding *b, void *data, size_t bytes, uint64_t seed) {
  memset(data, 0, bytes);
  for (size_t k = 0; b->dtype == KILN_DTYPE_F32 && k < bytes / 4; k++) {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    ((float *)data)[k] = (float)((double)(seed >> 11) / 4503599627370496.0 - 1.0);
  }
  for (size_t k = 0; b->dtype == KILN_DTYPE_F64 && k < bytes / 8; k++) {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    ((double *)data)[k] = (double)(seed >> 11) / 4503599627370496.0 - 1.0;
  }
}

#define CHECK(call, form, err)                                                                  \
  do {                                                                                          \
    int st_ = (call);                                                                           \
    if (st_ != 0) {                                                                             \
      fprintf(stderr, "engine_forms: %s: %s: %s\n", form, #call, (err));                        \
      goto done;                                                                                \
    }                                                                                           \
  } while (0)

int main(int argc, char **argv) {
  const char *device = "cpu", *kiln = NULL, *so = NULL, *prefix = NULL;
  int batch = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc)
      device = argv[++i];
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
      batch = atoi(argv[++i]);
    else if (!kiln)
      kiln = argv[i];
    else if (!so)
      so = argv[i];
    else if (!prefix)
      prefix = argv[i];
  }
  if (!prefix) {
    fputs("usage: engine_forms [--device D] [--batch B] ENGINE.kiln ENGINE.so PREFIX\n", stderr);
    return 1;
  }
  SoApi api;
  if (!open_api(so, prefix, &api))
    return 1;

  int status = 1, nin = 0, nout = 0;
  kiln_engine *e = NULL;
  kiln_context *c = NULL;
  void *se = NULL, *sc = NULL;
  void **in = NULL, **out_a = NULL, **out_b = NULL;
  size_t *out_bytes = NULL;
  kiln_options opts = {.device = device};
  CHECK(kiln_engine_load_file(kiln, &opts, &e), "bundle", kiln_last_error());
  CHECK(kiln_context_create(e, &c), "bundle", kiln_last_error());
  CHECK(api.load(device, &se), "library", api.last_error());
  CHECK(api.context_create(se, &sc), "library", api.last_error());

  nin = kiln_engine_num_inputs(e), nout = kiln_engine_num_outputs(e);
  if (api.num_inputs() != nin || api.num_outputs() != nout ||
      api.max_batch() != kiln_engine_max_batch(e)) {
    fprintf(stderr, "engine_forms: the library has %d inputs, %d outputs, max batch %d; the "
            "bundle %d, %d, %d\n", api.num_inputs(), api.num_outputs(), api.max_batch(), nin,
            nout, kiln_engine_max_batch(e));
    goto done;
  }
  if (!batch)
    batch = kiln_engine_max_batch(e);
  in = calloc((size_t)nin + 1, sizeof *in);
  out_a = calloc((size_t)nout + 1, sizeof *out_a);
  out_b = calloc((size_t)nout + 1, sizeof *out_b);
  out_bytes = calloc((size_t)nout + 1, sizeof *out_bytes);
  if (!in || !out_a || !out_b || !out_bytes)
    goto done;
  kiln_binding b;
  for (int i = 0; i < nin; i++) {
    CHECK(kiln_engine_input(e, i, &b), "bundle", kiln_last_error());
    if (!same_binding("input", i, &b, api.input(i)))
      goto done;
    size_t bytes = b.batched ? b.bytes * (size_t)batch : b.bytes;
    if (!(in[i] = malloc(bytes + 1)))
      goto done;
    fill_input(&b, in[i], bytes, 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1));
    CHECK(kiln_context_set_input(c, b.name, in[i], bytes), "bundle", kiln_last_error());
    CHECK(api.set_input(sc, i, in[i], bytes), "library", api.last_error());
  }
  for (int i = 0; i < nout; i++) {
    CHECK(kiln_engine_output(e, i, &b), "bundle", kiln_last_error());
    if (!same_binding("output", i, &b, api.output(i)))
      goto done;
    out_bytes[i] = b.batched ? b.bytes * (size_t)batch : b.bytes;
    if (!(out_a[i] = malloc(out_bytes[i] + 1)) || !(out_b[i] = malloc(out_bytes[i] + 1)))
      goto done;
    memset(out_a[i], 0xAA, out_bytes[i]);
    memset(out_b[i], 0x55, out_bytes[i]);
    CHECK(kiln_context_set_output(c, b.name, out_a[i], out_bytes[i]), "bundle",
          kiln_last_error());
    CHECK(api.set_output(sc, i, out_b[i], out_bytes[i]), "library", api.last_error());
  }
  CHECK(kiln_context_run(c, batch), "bundle", kiln_last_error());
  CHECK(api.run(sc, batch), "library", api.last_error());

  status = 0;
  for (int i = 0; i < nout; i++) {
    kiln_engine_output(e, i, &b);
    size_t k = 0;
    while (k < out_bytes[i] && ((unsigned char *)out_a[i])[k] == ((unsigned char *)out_b[i])[k])
      k++;
    if (k < out_bytes[i]) {
      printf("output '%s': %zu bytes at batch %d differ, first at byte %zu\n", b.name,
             out_bytes[i], batch, k);
      status = 1;
    } else {
      printf("output '%s': %zu bytes at batch %d bitwise identical\n", b.name, out_bytes[i],
             batch);
    }
  }
  printf("%s: %s (library on %s)\n", status ? "FAILED" : "ok", kiln_engine_device_name(e),
         device);

done:
  for (int i = 0; in && i < nin; i++)
    free(in[i]);
  for (int i = 0; out_a && out_b && i < nout; i++)
    free(out_a[i]), free(out_b[i]);
  free(in), free(out_a), free(out_b), free(out_bytes);
  if (sc)
    api.context_free(sc);
  if (se)
    api.free(se);
  kiln_context_free(c);
  kiln_engine_free(e);
  return status;
}
