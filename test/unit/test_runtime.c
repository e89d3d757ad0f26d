/* test_runtime.c - libkilnrt through its public API only (kiln.h), on the CPU OpenCL device
 * (POCL): a hand-written plan and OpenCL source (kernel add, host relu, kernel scale by a weight,
 * host add of a weight, host leaky_relu with an attribute) at batches 1 and 3 of max 4; the
 * binary cache; embedded binaries; device choice; run-time argument errors; malformed plans. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <threads.h>
#include <xxhash.h>

#include "check.h"
#include "kiln.h"
#include "runtime/bundle_format.h"

/* LSan (sanitized builds): POCL and its LLVM keep compiler state alive until exit, and leak in
 * clGetProgramInfo(CL_PROGRAM_BINARIES); only stacks through those libraries are suppressed. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
  return "leak:libpocl.so\nleak:libLLVM\nleak:libclang\nleak:libOpenCL.so\n";
}

static const char *SOURCE =
    "__kernel void k_add(__global uchar *act, __global const uchar *wts, const int batch) {\n"
    "  int i = get_global_id(0);\n"
    "  if (i >= batch * 4) return;\n"
    "  __global const float *a = (__global const float *)(act + 0);\n"
    "  __global const float *b = (__global const float *)(act + 64);\n"
    "  __global float *s = (__global float *)(act + 128);\n"
    "  s[i] = a[i] + b[i];\n"
    "}\n"
    "__kernel void k_scale(__global uchar *act, __global const uchar *wts, const int batch) {\n"
    "  int i = get_global_id(0);\n"
    "  if (i >= batch * 4) return; /* global is rounded up to a multiple of local (3) */\n"
    "  __global const float *r = (__global const float *)(act + 192);\n"
    "  __global const float *w = (__global const float *)(wts + 0);\n"
    "  __global float *y = (__global float *)(act + 256);\n"
    "  y[i] = r[i] * w[i % 4];\n"
    "}\n"
    "__kernel void k_bad_abi(__global uchar *act) { act[0] = 0; }\n";

/* a, "b x" -> s = a + b (kernel) -> r = relu(s) (host) -> y0 = r * w (kernel, local 3)
 *   -> y = y0 + w (host, reads a weight); lr = leaky_relu(s, alpha 0.5) (host, attribute) */
static const char *PLAN =
    "kiln-plan 1\n"
    "# a comment line\n"
    "max-batch 4\n"
    "pool act 448    # trailing comment\n"
    "pool weights 16\n"
    "tensor 0 act 0 f32 1 2 N 4\n"
    "tensor 1 act 64 f32 1 2 N 4\n"
    "tensor 2 act 128 f32 1 2 N 4\n"
    "strides 2 4 1\n"
    "tensor 3 act 192 f32 1 2 N 4\n"
    "tensor 4 weights 0 f32 0 1 4\n"
    "tensor 5 act 256 f32 1 2 N 4\n"
    "tensor 6 act 320 f32 1 2 N 4\n"
    "tensor 7 act 384 f32 1 2 N 4\n"
    "input a 0\n"
    "input b%20x 1\n"
    "output y 6\n"
    "output lr 7\n"
    "kernel k_add 1 4 0 0\n"
    "host relu 1 1 2 3 attrs 0\n"
    "kernel k_scale 1 4 3 0\n"
    "host add 2 1 5 4 6 attrs 0\n"
    "host leaky_relu 1 1 2 7 attrs 1\n"
    "attr alpha float 0.5\n";

static const float WEIGHTS[4] = {1.0f, 2.0f, -1.0f, 0.5f};

/* The device under test: $KILN_TEST_DEVICE (e.g. "gpu" on the NVIDIA machine), else the CPU. */
static const char *dev(void) {
  const char *d = getenv("KILN_TEST_DEVICE");
  return d && *d ? d : "cpu";
}

static kiln_sections sections(const char *plan, const char *src) {
  kiln_sections s = {{plan, strlen(plan)}, {src, strlen(src)}, {WEIGHTS, sizeof WEIGHTS}, NULL, 0};
  return s;
}

static kiln_status load(const char *plan, const char *src, const char *device, const char *cache,
                        kiln_engine **e) {
  kiln_sections s = sections(plan, src);
  kiln_options o = {device, cache};
  return kiln_engine_load_sections(&s, &o, e);
}

static bool contains(const char *s, const char *sub) { return s && strstr(s, sub) != NULL; }

/* Runs the model at batch on e and checks both outputs against the formulas above. */
static void check_run(kiln_engine *e, int batch, bool async) {
  kiln_context *c = NULL;
  CHECK(kiln_context_create(e, &c) == KILN_OK);
  if (!c)
    return;
  float a[16], b[16], y[16], lr[16];
  for (int i = 0; i < 16; i++) {
    a[i] = (float)(i % 7) - 3.0f;
    b[i] = 0.25f * (float)i - 1.0f;
    y[i] = lr[i] = -99.0f;
  }
  size_t n = (size_t)batch * 4 * sizeof(float);
  CHECK(kiln_context_set_input(c, "a", a, n) == KILN_OK);
  CHECK(kiln_context_set_input(c, "b x", b, n) == KILN_OK);
  CHECK(kiln_context_set_output(c, "y", y, n) == KILN_OK);
  CHECK(kiln_context_set_output(c, "lr", lr, n) == KILN_OK);
  if (async) {
    CHECK(kiln_context_enqueue(c, batch) == KILN_OK);
    CHECK(kiln_context_enqueue(c, batch) == KILN_ERROR_INVALID_ARGUMENT); /* one at a time */
    CHECK(kiln_context_wait(c) == KILN_OK);
  } else {
    CHECK(kiln_context_run(c, batch) == KILN_OK);
  }
  int bad = 0;
  for (int i = 0; i < 16; i++) {
    float s = a[i] + b[i], r = s > 0 ? s : 0, w = WEIGHTS[i % 4];
    float want_y = r * w + w, want_lr = s > 0 ? s : 0.5f * s;
    if (i < batch * 4)
      bad += y[i] != want_y || lr[i] != want_lr;
    else
      bad += y[i] != -99.0f || lr[i] != -99.0f; /* nothing past the batch is written */
  }
  CHECK(bad == 0);
  const kiln_step_profile *p = NULL;
  int np = 0;
  CHECK(kiln_context_profile(c, &p, &np) == KILN_OK);
  CHECK(np == 5);
  if (np == 5) {
    CHECK_STR(p[0].name, "k_add");
    CHECK(p[0].kind == KILN_STEP_KERNEL);
    CHECK_STR(p[1].name, "relu");
    CHECK(p[1].kind == KILN_STEP_HOST && p[1].ns > 0);
    CHECK_STR(p[4].name, "leaky_relu");
  }
  kiln_context_free(c);
}

static int count_cache_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d)
    return 0;
  for (struct dirent *de; (de = readdir(d));)
    n += strlen(de->d_name) == 20 && !strcmp(de->d_name + 16, ".bin");
  closedir(d);
  return n;
}

static void first_cache_entry(const char *dir, char *path, size_t n) {
  DIR *d = opendir(dir);
  path[0] = 0;
  if (!d)
    return;
  for (struct dirent *de; (de = readdir(d));)
    if (strlen(de->d_name) == 20 && !strcmp(de->d_name + 16, ".bin"))
      snprintf(path, n, "%s/%s", dir, de->d_name);
  closedir(d);
}

static void test_run_and_cache(const char *tmp) {
  char cache[512], dir[600], entry[700];
  snprintf(cache, sizeof cache, "%s/xdg", tmp);
  snprintf(dir, sizeof dir, "%s/kiln", cache);
  setenv("XDG_CACHE_HOME", cache, 1);

  kiln_engine *e = NULL;
  CHECK(load(PLAN, SOURCE, dev(), NULL, &e) == KILN_OK);
  if (!e) {
    fprintf(stderr, "load failed: %s\n", kiln_last_error());
    return;
  }
  CHECK_STR(kiln_engine_program_origin(e), "source");
  printf("device under test: %s\n", kiln_engine_device_name(e));
  CHECK(count_cache_entries(dir) == 1);
  CHECK(kiln_engine_num_inputs(e) == 2 && kiln_engine_num_outputs(e) == 2);
  CHECK(kiln_engine_max_batch(e) == 4);
  CHECK(strlen(kiln_engine_device_name(e)) > 0);
  kiln_binding bd;
  CHECK(kiln_engine_input(e, 1, &bd) == KILN_OK);
  CHECK_STR(bd.name, "b x");
  CHECK(bd.dtype == KILN_DTYPE_F32 && bd.rank == 2 && bd.dims[0] == -1 && bd.dims[1] == 4);
  CHECK(bd.batched && bd.bytes == 16);
  CHECK(kiln_engine_output(e, 2, &bd) == KILN_ERROR_INVALID_ARGUMENT);

  check_run(e, 1, false);
  check_run(e, 3, false);
  check_run(e, 4, true);

  /* run-time argument errors */
  kiln_context *c = NULL;
  float buf[16] = {0};
  CHECK(kiln_context_create(e, &c) == KILN_OK);
  CHECK(kiln_context_run(c, 1) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(contains(kiln_last_error(), "input 'a' is not set"));
  CHECK(kiln_context_set_input(c, "nope", buf, 16) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(contains(kiln_last_error(), "no input named 'nope' (the engine's inputs: 'a', 'b x')"));
  CHECK(kiln_context_set_input(c, "a", buf, 15) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(kiln_context_set_input(c, "a", buf, 80) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(kiln_context_set_output(c, "a", buf, 16) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(kiln_context_set_input(c, "a", buf, 16) == KILN_OK);
  CHECK(kiln_context_set_input(c, "b x", buf, 16) == KILN_OK);
  CHECK(kiln_context_set_output(c, "y", buf, 16) == KILN_OK);
  CHECK(kiln_context_run(c, 1) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(contains(kiln_last_error(), "output 'lr' is not set"));
  CHECK(kiln_context_set_output(c, "lr", buf, 32) == KILN_OK);
  CHECK(kiln_context_run(c, 1) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(contains(kiln_last_error(), "output 'lr': 32 bytes bound, batch 1 needs 16"));
  CHECK(kiln_context_run(c, 0) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(kiln_context_run(c, 5) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(contains(kiln_last_error(), "batch 5 is out of range 1..4"));
  CHECK(kiln_context_wait(c) == KILN_ERROR_INVALID_ARGUMENT);
  const kiln_step_profile *p;
  int np;
  CHECK(kiln_context_profile(c, &p, &np) == KILN_ERROR_INVALID_ARGUMENT);
  kiln_context_free(c);

  /* the embedded binary, as kiln-compile would write it into binary.0 */
  void *bin = NULL;
  size_t nbin = 0;
  CHECK(kiln_engine_program_binary(e, &bin, &nbin) == KILN_OK);
  CHECK(bin && nbin > 8 && !memcmp(bin, "device=", 7) && memchr(bin, 0, nbin));
  kiln_engine_free(e);

  /* second load: the cache */
  CHECK(load(PLAN, SOURCE, dev(), NULL, &e) == KILN_OK);
  CHECK_STR(kiln_engine_program_origin(e), "cache");
  if (e)
    check_run(e, 2, false);
  kiln_engine_free(e);

  /* a corrupt entry is ignored and rewritten */
  first_cache_entry(dir, entry, sizeof entry);
  FILE *f = fopen(entry, "r+b");
  CHECK(f != NULL);
  if (f) {
    fseek(f, 30, SEEK_SET);
    fputs("garbage", f);
    fclose(f);
  }
  CHECK(load(PLAN, SOURCE, dev(), NULL, &e) == KILN_OK);
  CHECK_STR(kiln_engine_program_origin(e), "source");
  kiln_engine_free(e);
  CHECK(load(PLAN, SOURCE, dev(), NULL, &e) == KILN_OK);
  CHECK_STR(kiln_engine_program_origin(e), "cache");
  kiln_engine_free(e);
  /* a truncated entry too */
  CHECK(truncate(entry, 10) == 0);
  CHECK(load(PLAN, SOURCE, dev(), NULL, &e) == KILN_OK);
  CHECK_STR(kiln_engine_program_origin(e), "source");
  kiln_engine_free(e);

  /* a read-only cache directory still loads (with its entry, and without one) */
  chmod(dir, 0555);
  CHECK(load(PLAN, SOURCE, dev(), NULL, &e) == KILN_OK);
  CHECK(e && strcmp(kiln_engine_program_origin(e), "cache") == 0);
  kiln_engine_free(e);
  chmod(dir, 0755);
  char unwritable[700];
  snprintf(unwritable, sizeof unwritable, "%s/a-file", tmp);
  f = fopen(unwritable, "w");
  if (f)
    fclose(f);
  strcat(unwritable, "/cache"); /* under a regular file: no directory can be made there */
  CHECK(load(PLAN, SOURCE, dev(), unwritable, &e) == KILN_OK);
  CHECK(e && strcmp(kiln_engine_program_origin(e), "source") == 0);
  if (e)
    check_run(e, 1, false);
  kiln_engine_free(e);

  /* embedded binaries: a matching key is used, a foreign one ignored */
  kiln_blob blobs[2] = {{"device=other;driver=1\n\0xyz", 26}, {bin, nbin}};
  kiln_sections s = sections(PLAN, SOURCE);
  s.binaries = blobs;
  s.nbinaries = 2;
  kiln_options o = {dev(), ""};
  CHECK(kiln_engine_load_sections(&s, &o, &e) == KILN_OK);
  CHECK(e && strcmp(kiln_engine_program_origin(e), "embedded") == 0);
  if (e)
    check_run(e, 3, false);
  kiln_engine_free(e);
  s.nbinaries = 1;
  CHECK(kiln_engine_load_sections(&s, &o, &e) == KILN_OK);
  CHECK(e && strcmp(kiln_engine_program_origin(e), "source") == 0);
  kiln_engine_free(e);
  kiln_free(bin);
  unsetenv("XDG_CACHE_HOME");
}

static void test_devices(const char *tmp) {
  char cache[600];
  snprintf(cache, sizeof cache, "%s/dev-cache", tmp);
  kiln_engine *e = NULL;
  CHECK(load(PLAN, SOURCE, "0", cache, &e) == KILN_OK);
  char name[256] = "";
  if (e)
    snprintf(name, sizeof name, "%s", kiln_engine_device_name(e));
  kiln_engine_free(e);
  /* a case-insensitive part of the name */
  char part[8] = "";
  for (int i = 0; i < 4 && name[i + 1]; i++)
    part[i] = (char)((name[i + 1] >= 'a' && name[i + 1] <= 'z') ? name[i + 1] - 32 : name[i + 1]);
  CHECK(load(PLAN, SOURCE, part, cache, &e) == KILN_OK);
  kiln_engine_free(e);
  CHECK(load(PLAN, SOURCE, "no-such-device", cache, &e) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(e == NULL);
  CHECK(contains(kiln_last_error(), "no OpenCL device matches 'no-such-device'"));
  CHECK(contains(kiln_last_error(), "available: 0: "));
  CHECK(contains(kiln_last_error(), name));
  CHECK(load(PLAN, SOURCE, "99", cache, &e) == KILN_ERROR_INVALID_ARGUMENT);
  setenv("KILN_DEVICE", "cpu", 1);
  CHECK(load(PLAN, SOURCE, NULL, cache, &e) == KILN_OK);
  kiln_engine_free(e);
  setenv("KILN_DEVICE", "bogus", 1);
  CHECK(load(PLAN, SOURCE, "", cache, &e) == KILN_ERROR_INVALID_ARGUMENT);
  CHECK(contains(kiln_last_error(), "'bogus'"));
  unsetenv("KILN_DEVICE");
}

static void test_load_errors(const char *tmp) {
  char cache[600];
  snprintf(cache, sizeof cache, "%s/err-cache", tmp);
  kiln_engine *e = NULL;
  CHECK(load(PLAN, "__kernel void k_add( {", dev(), cache, &e) == KILN_ERROR_DEVICE);
  CHECK(contains(kiln_last_error(), "clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE (-11)"));
  CHECK(contains(kiln_last_error(), "build log:"));
  CHECK(load("kiln-plan 1\nmax-batch 1\npool act 4\npool weights 0\ntensor 0 act 0 f32 0 0\n"
             "output o 0\nkernel k_missing 1 1 0 -1\n", SOURCE, dev(), cache, &e) ==
        KILN_ERROR_FORMAT);
  CHECK(contains(kiln_last_error(), "plan line 7: kernel 'k_missing' is not in the program"));
  CHECK(load("kiln-plan 1\nmax-batch 1\npool act 4\npool weights 0\ntensor 0 act 0 f32 0 0\n"
             "output o 0\nkernel k_bad_abi 1 1 0 -1\n", SOURCE, dev(), cache, &e) ==
        KILN_ERROR_FORMAT);
  CHECK(contains(kiln_last_error(), "takes 1 arguments, not the ABI's 3"));
  kiln_sections s = sections(PLAN, SOURCE);
  s.weights.size = 8;
  CHECK(kiln_engine_load_sections(&s, NULL, &e) == KILN_ERROR_FORMAT);
  CHECK(contains(kiln_last_error(), "weights section has 8 bytes, the plan needs 16"));
  CHECK(kiln_engine_load_file("/nonexistent/x.kiln", NULL, &e) == KILN_ERROR_IO);
  CHECK(contains(kiln_last_error(), "/nonexistent/x.kiln: No such file"));
  CHECK(e == NULL);
}

/* Malformed plans: each gives KILN_ERROR_FORMAT with this message (checked before any device). */
static const char *const HDR = "kiln-plan 1\nmax-batch 4\npool act 64\npool weights 16\n";
static const struct {
  const char *body, *error;
} BAD[] = {
    {"", "plan line 5: end of plan: no output"},
    {"tensor 0 act 0 f32 1 2 N 4\ninput a 0\n", "end of plan: no output"},
    {"tensor 0 act 0 f32 1 2 N 5\noutput y 0\n",
     "plan line 5: tensor 0 (bytes 0..80 at max batch) overflows the act pool of 64 bytes"},
    {"tensor 1 act 0 f32 0 1 4\n", "plan line 5: tensor id 1 out of order (expected 0)"},
    {"tensor 0 act 0 f33 0 1 4\n", "plan line 5: unknown dtype 'f33'"},
    {"tensor 0 act 2 f32 0 1 4\n", "offset 2 of tensor 0 is not a multiple of its element size 4"},
    {"tensor 0 act 0 f32 0 2 4\n", "plan line 5: tensor of rank 2 needs 2 dims, found 1"},
    {"tensor 0 act 0 f32 0 1 N\n", "'N' is only allowed as the first dim of a batched tensor"},
    {"tensor 0 act 0 f32 1 1 4\n", "the first dim of a batched tensor must be 'N', not '4'"},
    {"tensor 0 act 0 f32 0 9 1 1 1 1 1 1 1 1 1\n", "rank 9 is out of range [0, 8]"},
    {"tensor 0 act 0 f32 0 1 99999999999999999999\n", "dim '99999999999999999999' is out of range"},
    {"tensor 0 act 0 f32 0 1 4\ntensor 1 act 0 f32 0 1 4\nstrides 0 1\n",
     "plan line 7: strides for tensor 0 must follow its tensor record"},
    {"tensor 0 act 0 f32 0 2 4 4\nstrides 0 4 1 1\n", "tensor 0 has rank 2: 3 strides given"},
    {"tensor 0 act 0 f32 0 1 4\nstrides 0 100\n", "overflows the act pool"},
    {"tensor 0 act 0 f32 0 2 2 2\nstrides 0 1 2\noutput y 0\n",
     "plan line 7: output tensor 0 must be contiguous in the act pool"},
    {"tensor 0 weights 0 f32 0 1 4\ninput x 0\n", "input tensor 0 must be contiguous in the act pool"},
    {"input x 0\n", "plan line 5: tensor 0 is not defined (yet)"},
    {"tensor 0 act 0 f32 0 1 4\ninput x 0\ninput x 0\n", "plan line 7: duplicate input 'x'"},
    {"tensor 0 act 0 f32 0 1 4\ninput x%2 0\n", "input name 'x%2' has a bad percent escape"},
    {"tensor 0 act 0 f32 0 1 4\ninput x%00 0\n", "bad percent escape"},
    {"kernel 9k 1 4 0 0\n", "kernel name '9k' is not an OpenCL C identifier"},
    {"kernel k 4 1 1 1 1 1 1 1 1 0\n", "work_dim 4 is out of range [1, 3]"},
    {"kernel k 1 4 0\n", "'kernel' takes 5 fields, not 4"},
    {"kernel k 2 4 4 8 0 0\n", "local sizes must be all 0 (runtime's choice) or all positive"},
    {"kernel k 1 4 0 1\n", "batch_dim 1 is out of range [-1, 0]"},
    {"kernel k 1 0 0 0\n", "global size 0 is out of range"},
    {"host frobnicate 1 1 0 1 attrs 0\n", "plan line 5: unknown op 'frobnicate'"},
    {"host yield 0 1 0 attrs 0\n", "op 'yield' cannot run as a host step (no reference kernel)"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 2 1 0 0 0 attrs 0\n",
     "op 'relu' does not take 2 inputs and 1 outputs"},
    {"tensor 0 act 0 f32 0 1 4\ntensor 1 weights 0 f32 0 1 4\nhost relu 1 1 0 1 attrs 0\n",
     "host step output tensor 1 is not in the act pool"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 1 1 0 0 attrz 0\n",
     "expected 'attrs' after the tensor ids, found 'attrz'"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 1 1 0 0 attrs 2\nattr a int 1\noutput y 0\n",
     "plan line 8: host step on line 6 expects 1 more 'attr' records"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 1 1 0 0 attrs 1\n",
     "end of plan: host step on line 6 expects 1 more 'attr' records"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 1 1 0 0 attrs 2\nattr a int 1\nattr a int 2\n",
     "plan line 8: duplicate attribute 'a'"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 1 1 0 0 attrs 1\nattr a tensor 1\n",
     "unknown attribute kind 'tensor'"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 1 1 0 0 attrs 1\nattr a ints 3 1 2\n",
     "'attr' takes 6 fields, not 5"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 1 1 0 0 attrs 1\nattr a float 1.5x\n",
     "'1.5x' is not a real number"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 1 1 0 0 attrs 1\nattr a strings 2 x %zz\n",
     "string attribute '%zz' has a bad percent escape"},
    {"attr a int 1\n", "plan line 5: 'attr' without a host step expecting attributes"},
    {"tensor 0 weights 0 f32 1 2 N 1\n", "plan line 5: a weights tensor cannot be batched"},
    {"tensor 0 act 0 f32 0 1 4\nhost relu 1 1 0 0 attrs 1\nattr % int 1\n",
     "attribute name '%' has a bad percent escape"},
    {"max-batch 2\n", "plan line 5: max-batch declared twice"},
    {"pool act 1\n", "pool act declared twice"},
    {"bogus 1\n", "plan line 5: unknown record 'bogus'"},
    {"tensor 0 act 0 f32 0 1 4\x00\n", "NUL byte"},
};

static void test_bad_plans(void) {
  char text[1024];
  kiln_engine *e = NULL;
  for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
    size_t n = (size_t)snprintf(text, sizeof text, "%s%s", HDR, BAD[i].body);
    if (i == sizeof BAD / sizeof *BAD - 1) /* the embedded NUL */
      n = strlen(HDR) + strlen(BAD[i].body) + 2, text[n - 1] = '\n', text[n - 2] = 0;
    kiln_sections s = sections("", SOURCE);
    s.plan = (kiln_blob){text, n};
    kiln_status st = kiln_engine_load_sections(&s, NULL, &e);
    CHECK(st == KILN_ERROR_FORMAT && e == NULL);
    if (!contains(kiln_last_error(), BAD[i].error)) {
      fprintf(stderr, "bad plan %zu: got '%s', want '%s'\n", i, kiln_last_error(), BAD[i].error);
      CHECK(0);
    }
  }
  const char *const whole[][2] = {
      {"", "plan line 1: empty plan (expected 'kiln-plan 1')"},
      {"kiln-plan 2\n", "plan line 1: plan version 2 is not supported (this runtime reads 1)"},
      {"KILNENG\n", "plan line 1: not an engine plan (expected 'kiln-plan 1')"},
      {"kiln-plan 1\ntensor 0 act 0 f32 0 1 4\n", "tensor before max-batch and both pools"},
      {"kiln-plan 1\nmax-batch 0\n", "max-batch 0 is out of range"},
      {"kiln-plan 1\nkiln-plan 1\n", "'kiln-plan' header repeated"},
  };
  for (size_t i = 0; i < sizeof whole / sizeof *whole; i++) {
    kiln_sections s = sections(whole[i][0], SOURCE);
    CHECK(kiln_engine_load_sections(&s, NULL, &e) == KILN_ERROR_FORMAT);
    if (!contains(kiln_last_error(), whole[i][1])) {
      fprintf(stderr, "whole plan %zu: got '%s'\n", i, kiln_last_error());
      CHECK(0);
    }
  }
}

/* Every prefix and many byte mutations of the good plan: an error or an engine, never a crash
 * (ASan and LSan watch the sanitized build). */
static void test_plan_mutations(const char *tmp) {
  char cache[600];
  snprintf(cache, sizeof cache, "%s/mut-cache", tmp);
  kiln_options o = {dev(), cache};
  size_t len = strlen(PLAN);
  char *text = malloc(len);
  int loaded = 0, refused = 0;
  for (size_t n = 0; n <= len; n++) {
    memcpy(text, PLAN, n); /* exactly n bytes: the parser must not read past them */
    kiln_sections s = sections("", SOURCE);
    s.plan = (kiln_blob){text, n};
    kiln_engine *e = NULL;
    kiln_status st = kiln_engine_load_sections(&s, &o, &e);
    st == KILN_OK ? loaded++ : refused++;
    kiln_engine_free(e);
  }
  const char alphabet[] = " \n\t#%-0123456789Nafkxz";
  unsigned seed = 12345;
  for (int it = 0; it < 3000; it++) {
    memcpy(text, PLAN, len);
    for (int k = 0; k < 1 + it % 3; k++) {
      seed = seed * 1103515245u + 12345u;
      size_t at = (seed >> 8) % len;
      seed = seed * 1103515245u + 12345u;
      text[at] = (seed >> 16) % 4 ? alphabet[(seed >> 8) % (sizeof alphabet - 1)]
                                  : (char)(seed >> 8);
    }
    kiln_sections s = sections("", SOURCE);
    s.plan = (kiln_blob){text, len};
    kiln_engine *e = NULL;
    kiln_status st = kiln_engine_load_sections(&s, &o, &e);
    CHECK(st == KILN_OK || kiln_last_error()[0] != 0);
    st == KILN_OK ? loaded++ : refused++;
    kiln_engine_free(e);
  }
  free(text);
  CHECK(loaded > 0 && refused > 0);
  printf("plan mutations: %d loaded, %d refused\n", loaded, refused);
}

/* Writes a bundle of the given sections (runtime/README.md layout) to path; its size. */
static size_t write_bundle(const char *path, const char *const *names, const kiln_blob *secs,
                           int n) {
  uint64_t off = kiln_bundle_table_end((uint32_t)n), total = off;
  for (int i = 0; i < n; i++)
    total = kiln_bundle_align_up(total) + secs[i].size;
  total = kiln_bundle_align_up(total);
  uint8_t *b = calloc(1, total);
  for (int i = 0; i < n; i++) {
    uint8_t *e = b + KILN_BUNDLE_HEADER_SIZE + i * KILN_BUNDLE_ENTRY_SIZE;
    off = kiln_bundle_align_up(off);
    memcpy(e + KILN_BUNDLE_E_NAME, names[i], strlen(names[i]));
    kiln_le64_store(e + KILN_BUNDLE_E_OFFSET, off);
    kiln_le64_store(e + KILN_BUNDLE_E_SIZE, secs[i].size);
    kiln_le64_store(e + KILN_BUNDLE_E_HASH, XXH3_64bits(secs[i].data, secs[i].size));
    memcpy(b + off, secs[i].data, secs[i].size);
    off += secs[i].size;
  }
  memcpy(b, KILN_BUNDLE_MAGIC, KILN_BUNDLE_MAGIC_SIZE);
  kiln_le32_store(b + KILN_BUNDLE_H_VERSION, KILN_BUNDLE_VERSION);
  kiln_le32_store(b + KILN_BUNDLE_H_NSECTIONS, (uint32_t)n);
  kiln_le64_store(b + KILN_BUNDLE_H_FILE_SIZE, total);
  kiln_le64_store(b + KILN_BUNDLE_H_TABLE_HASH,
                  XXH3_64bits(b + KILN_BUNDLE_HEADER_SIZE, (size_t)n * KILN_BUNDLE_ENTRY_SIZE));
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(b, 1, total, f) == total);
  if (f)
    fclose(f);
  free(b);
  return (size_t)total;
}

/* A bundle through kiln_engine_load_file, with an embedded binary, and a corrupt one. */
static void test_bundle(const char *tmp) {
  char path[600], cache[600];
  snprintf(path, sizeof path, "%s/model.kiln", tmp);
  snprintf(cache, sizeof cache, "%s/bundle-cache", tmp);
  kiln_engine *e = NULL;
  void *bin = NULL;
  size_t nbin = 0;
  CHECK(load(PLAN, SOURCE, dev(), "", &e) == KILN_OK);
  CHECK(kiln_engine_program_binary(e, &bin, &nbin) == KILN_OK);
  kiln_engine_free(e);
  const char *meta = "kiln-version = 0.1.0\nmax-batch = 4\n";
  const char *names[] = {"meta", "plan", "kernels", "weights", "binary.0"};
  kiln_blob secs[] = {{meta, strlen(meta)}, {PLAN, strlen(PLAN)}, {SOURCE, strlen(SOURCE)},
                      {WEIGHTS, sizeof WEIGHTS}, {bin, nbin}};
  kiln_options o = {dev(), cache};
  write_bundle(path, names, secs, 4);
  CHECK(kiln_engine_load_file(path, &o, &e) == KILN_OK);
  CHECK(e && strcmp(kiln_engine_program_origin(e), "source") == 0);
  if (e)
    check_run(e, 3, false);
  kiln_engine_free(e);
  size_t size = write_bundle(path, names, secs, 5);
  CHECK(kiln_engine_load_file(path, &o, &e) == KILN_OK);
  CHECK(e && strcmp(kiln_engine_program_origin(e), "embedded") == 0);
  if (e)
    check_run(e, 2, false);
  kiln_engine_free(e);
  kiln_free(bin);
  CHECK(truncate(path, (off_t)size - 64) == 0);
  CHECK(kiln_engine_load_file(path, &o, &e) == KILN_ERROR_FORMAT && e == NULL);
  CHECK(contains(kiln_last_error(), path));
  CHECK(contains(kiln_last_error(), "truncated"));
  write_bundle(path, names + 1, secs + 1, 3);
  CHECK(kiln_engine_load_file(path, &o, &e) == KILN_ERROR_FORMAT);
  CHECK(contains(kiln_last_error(), "missing required section: meta"));
}

/* One engine, a context per thread, runs at different batches at once. */
static kiln_engine *shared_engine;
static int thread_run(void *arg) {
  int id = (int)(intptr_t)arg, bad = 0;
  kiln_context *c = NULL;
  if (kiln_context_create(shared_engine, &c) != KILN_OK)
    return 1;
  for (int it = 0; it < 20; it++) {
    int batch = 1 + (id + it) % 4;
    float a[16], b[16], y[16], lr[16];
    for (int i = 0; i < 16; i++)
      a[i] = (float)(id * 16 + i) - 30.0f, b[i] = (float)it;
    size_t n = (size_t)batch * 16;
    bad += kiln_context_set_input(c, "a", a, n) || kiln_context_set_input(c, "b x", b, n) ||
           kiln_context_set_output(c, "y", y, n) || kiln_context_set_output(c, "lr", lr, n) ||
           kiln_context_run(c, batch);
    for (int i = 0; i < batch * 4; i++) {
      float s = a[i] + b[i], w = WEIGHTS[i % 4];
      bad += y[i] != (s > 0 ? s : 0) * w + w || lr[i] != (s > 0 ? s : 0.5f * s);
    }
  }
  kiln_context_free(c);
  return bad != 0;
}

static void test_threads(const char *tmp) {
  char cache[600];
  snprintf(cache, sizeof cache, "%s/thread-cache", tmp);
  CHECK(load(PLAN, SOURCE, dev(), cache, &shared_engine) == KILN_OK);
  if (!shared_engine)
    return;
  thrd_t t[4];
  for (int i = 0; i < 4; i++)
    CHECK(thrd_create(&t[i], thread_run, (void *)(intptr_t)i) == thrd_success);
  for (int i = 0; i < 4; i++) {
    int rc = 1;
    thrd_join(t[i], &rc);
    CHECK(rc == 0);
  }
  kiln_engine_free(shared_engine);
}

int main(void) {
  char tmp[] = "/tmp/kiln-test-runtime-XXXXXX";
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 1;
  }
  test_bad_plans();
  test_run_and_cache(tmp);
  test_devices(tmp);
  test_load_errors(tmp);
  test_plan_mutations(tmp);
  test_bundle(tmp);
  test_threads(tmp);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", tmp);
  return check_finish();
}
