/* emit_shared.c - see emit_shared.h.
 *
 * Steps: parse the plan (the runtime's own parser, so the header says what the runtime binds),
 * name things (prefix, header path), find the runtime archive and kiln.h, make a work directory
 * beside the output holding bundle.kiln, engine.h (the header), engine.c (the .incbin and the
 * wrappers) and exports.map, run the C compiler there (child process, relative file names: no
 * path reaches the library and no quoting is needed), then rename the header and the library
 * into place and remove the work directory. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ir/buf.h"
#include "ir/type.h"
#include "runtime/plan.h"
#include "tools/common.h"
#include "tools/emit_shared.h"

/* tool_error, returning false. */
static bool report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool report(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tool_verror(fmt, ap);
  va_end(ap);
  return false;
}

static char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p)
    abort();
  return p;
}

/* ---- names ---- */

/* The output split into its directory ("." when none), its stem (the base name without its last
 * extension; a leading dot is not an extension) and the C prefix made from the stem. */
typedef struct Names {
  char *dir, *base, *stem, *prefix, *header;
} Names;

static void names_make(const char *output, Names *n) {
  const char *slash = strrchr(output, '/');
  n->dir = slash ? strndup(output, (size_t)(slash - output) + (slash == output)) : xstrdup(".");
  n->base = xstrdup(slash ? slash + 1 : output);
  if (!n->dir)
    abort();
  const char *dot = strrchr(n->base, '.');
  n->stem = dot && dot != n->base ? strndup(n->base, (size_t)(dot - n->base)) : xstrdup(n->base);
  if (!n->stem)
    abort();
  size_t len = strlen(n->stem);
  bool letter = (n->stem[0] | 32) >= 'a' && (n->stem[0] | 32) <= 'z';
  n->prefix = malloc(len + 3);
  n->header = malloc(strlen(n->dir) + len + 4);
  if (!n->prefix || !n->header)
    abort();
  char *p = n->prefix;
  if (!letter)
    *p++ = 'm', *p++ = '_';
  for (const char *s = n->stem; *s; s++) {
    char c = *s;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    *p++ = ok ? c : '_';
  }
  *p = 0;
  sprintf(n->header, "%s/%s.h", n->dir, n->stem);
}

static void names_free(Names *n) {
  free(n->dir), free(n->base), free(n->stem), free(n->prefix), free(n->header);
}

/* ---- where the runtime is ---- */

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/rel/name when rel is relative, rel/name when absolute. */
static void join(char *out, size_t n, const char *dir, const char *rel, const char *name) {
  if (rel[0] == '/')
    snprintf(out, n, "%s/%s", rel, name);
  else
    snprintf(out, n, "%s/%s/%s", dir, rel, name);
}

/* Finds libkilnrt.a and kiln.h (emit_shared.h says in which order); absolute paths into archive
 * and incdir (PATH_MAX each). */
static bool find_runtime(char *archive, char *incdir) {
  const char *env_a = getenv("KILN_RUNTIME_ARCHIVE"), *env_i = getenv("KILN_INCLUDE_DIR");
  char exe[PATH_MAX] = "", exedir[PATH_MAX] = "", prefix[PATH_MAX] = "", build[PATH_MAX] = "";
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len > 0) {
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    snprintf(exedir, sizeof exedir, "%.*s", slash ? (int)(slash - exe) : 0, exe);
    /* The installation prefix: the directory above the tool's (exe has room for "/.."). */
    snprintf(prefix, sizeof prefix, "%.*s/..", (int)(sizeof prefix - 4), exedir);
  }
  if (!realpath(KILN_BUILD_TOOL_DIR, build))
    build[0] = 0;
  bool in_build = build[0] && exedir[0] && !strcmp(build, exedir);
  /* Candidates in order of preference: {archive, include dir}. */
  char cand[4][2][PATH_MAX];
  int nc = 0;
  if (in_build) {
    snprintf(cand[nc][0], PATH_MAX, "%s", KILN_BUILD_RUNTIME_ARCHIVE);
    snprintf(cand[nc++][1], PATH_MAX, "%s", KILN_BUILD_INCLUDE_DIR);
  }
  if (prefix[0]) {
    join(cand[nc][0], PATH_MAX, prefix, KILN_INSTALL_LIBDIR, "libkilnrt.a");
    join(cand[nc++][1], PATH_MAX, prefix, KILN_INSTALL_INCLUDEDIR, "");
  }
  snprintf(cand[nc][0], PATH_MAX, "%s/libkilnrt.a", KILN_INSTALL_FULL_LIBDIR);
  snprintf(cand[nc++][1], PATH_MAX, "%s", KILN_INSTALL_FULL_INCLUDEDIR);
  snprintf(cand[nc][0], PATH_MAX, "%s", KILN_BUILD_RUNTIME_ARCHIVE);
  snprintf(cand[nc++][1], PATH_MAX, "%s", KILN_BUILD_INCLUDE_DIR);

  const char *a = env_a, *inc = env_i;
  for (int i = 0; i < nc && !a; i++)
    if (is_file(cand[i][0]))
      a = cand[i][0];
  char h[PATH_MAX + 8];
  for (int i = 0; i < nc && !inc; i++) {
    snprintf(h, sizeof h, "%s/kiln.h", cand[i][1]);
    if (is_file(h))
      inc = cand[i][1];
  }
  if (!a || !realpath(a, archive) || !is_file(archive)) {
    Buf b = {0};
    for (int i = 0; i < nc; i++)
      ir_buf_printf(&b, "%s%s", i ? ", " : "", cand[i][0]);
    if (env_a)
      report("--emit=shared: KILN_RUNTIME_ARCHIVE '%s' is not a file", env_a);
    else
      report("--emit=shared: cannot find the static runtime libkilnrt.a (looked at %s); set "
           "KILN_RUNTIME_ARCHIVE", b.data);
    ir_buf_free(&b);
    return false;
  }
  snprintf(h, sizeof h, "%s/kiln.h", inc ? inc : "");
  if (!inc || !realpath(inc, incdir) || !is_file(h)) {
    if (env_i)
      return report("--emit=shared: KILN_INCLUDE_DIR '%s' holds no kiln.h", env_i);
    return report("--emit=shared: cannot find kiln.h (looked in %s, %s); set KILN_INCLUDE_DIR",
                cand[0][1], cand[nc - 1][1]);
  }
  return true;
}

/* ---- the generated files ---- */

/* s as a C string literal: printable ASCII as is, everything else in octal ('?' too: trigraphs). */
static void put_cstr(Buf *b, const char *s) {
  ir_buf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      ir_buf_printf(b, "\\%c", *p);
    else if (*p < 32 || *p > 126 || *p == '?')
      ir_buf_printf(b, "\\%03o", *p);
    else
      ir_buf_putc(b, (char)*p);
  }
  ir_buf_putc(b, '"');
}

static void put_bindings(Buf *h, const char *P, const char *what, const RtPlan *pl,
                         const RtBinding *bs, int n) {
  if (!n)
    return;
  ir_buf_printf(h, "static const %s_binding %s_%s[%d] = {\n", P, P, what, n);
  for (int i = 0; i < n; i++) {
    const RtPlanTensor *t = &pl->tensors[bs[i].tensor];
    ir_buf_puts(h, "  {");
    put_cstr(h, bs[i].name);
    ir_buf_printf(h, ", \"%s\", %d, {", ir_dtype_name((DType)t->dtype), t->rank);
    for (int d = 0; d < t->rank; d++)
      ir_buf_printf(h, "%s%lld", d ? ", " : "", t->batched && d == 0 ? -1LL : (long long)t->dims[d]);
    ir_buf_printf(h, "}, %d, %llu},\n", t->batched, (unsigned long long)t->item_bytes);
  }
  ir_buf_puts(h, "};\n");
}

/* The header: self-contained (no kiln.h), C and C++. */
static void gen_header(Buf *h, const Names *nm, const ToolSharedInput *in, const RtPlan *pl) {
  const char *P = nm->prefix;
  char guard[PATH_MAX];
  snprintf(guard, sizeof guard, "%s_H", P);
  for (char *g = guard; *g; g++)
    *g = (char)(*g >= 'a' && *g <= 'z' ? *g - 32 : *g);
  ir_buf_printf(h,
    "/* %s.h - generated by kiln-compile --emit=shared (do not edit): the engine of '%s' in %s.\n"
    " *\n"
    " * Link %s (or dlopen it and dlsym the %s_* entry points); it needs no kiln installation.\n"
    " * Every int-returning call gives 0 on success, else a kiln_status code (kiln.h numbering);\n"
    " * %s_last_error() then says why. An engine is immutable and thread-safe; a context belongs\n"
    " * to one thread at a time. Bound memory is kept (not copied) and read or written at each\n"
    " * run: an input or output of a batched binding takes batch * bytes, 1 <= batch <=\n"
    " * %s_MAX_BATCH; an unbatched one takes exactly bytes. */\n",
    nm->stem, strstr(in->model, "*/") ? "the model" : in->model, nm->base, nm->base, P, P, P);
  ir_buf_printf(h, "#ifndef %s\n#define %s\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
                "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", guard, guard);
  ir_buf_printf(h, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n#define %s_MAX_BATCH "
                "%d\n#define %s_MAX_RANK %d\n\n", P, pl->ninputs, P, pl->noutputs, P,
                pl->max_batch, P, RT_MAX_RANK);
  ir_buf_printf(h,
    "typedef struct %s_engine %s_engine;\n"
    "typedef struct %s_context %s_context;\n\n"
    "/* An input or output. dims[0] is -1 for a batched binding; bytes is the size of one batch\n"
    " * item (batched) or of the whole tensor. dtype: \"f32\", \"f16\", \"i8\", \"i32\", ... */\n"
    "typedef struct %s_binding {\n"
    "  const char *name;\n  const char *dtype;\n  int rank;\n  int64_t dims[%s_MAX_RANK];\n"
    "  int batched;\n  size_t bytes;\n} %s_binding;\n\n", P, P, P, P, P, P, P);
  put_bindings(h, P, "inputs", pl, pl->inputs, pl->ninputs);
  put_bindings(h, P, "outputs", pl, pl->outputs, pl->noutputs);
  ir_buf_printf(h,
    "\n/* Loads the embedded engine on device (\"cpu\", \"gpu\", an index or a name part; NULL:\n"
    " * $KILN_DEVICE, else the first GPU, else the first CPU). */\n"
    "int %s_load(const char *device, %s_engine **out);\n"
    "/* Frees the engine (NULL is fine) after all its contexts. */\n"
    "void %s_free(%s_engine *e);\n"
    "const char *%s_device_name(const %s_engine *e);\n"
    "int %s_context_create(const %s_engine *e, %s_context **out);\n"
    "void %s_context_free(%s_context *c);\n"
    "/* Binds host memory to input / output index (the order of the tables above). */\n"
    "int %s_set_input(%s_context *c, int index, const void *data, size_t bytes);\n"
    "int %s_set_output(%s_context *c, int index, void *data, size_t bytes);\n"
    "/* Runs on batch items and returns when the outputs are written; or starts the run\n"
    " * (enqueue) and waits for it (wait). */\n"
    "int %s_run(%s_context *c, int batch);\n"
    "int %s_enqueue(%s_context *c, int batch);\n"
    "int %s_wait(%s_context *c);\n"
    "/* The message of the last failing call on this thread (\"\" if none). */\n"
    "const char *%s_last_error(void);\n"
    "const char *%s_status_name(int status);\n"
    "/* The tables above, for applications that dlopen the library without this header. */\n"
    "int %s_num_inputs(void);\nint %s_num_outputs(void);\nint %s_max_batch(void);\n"
    "const %s_binding *%s_input(int index);\nconst %s_binding *%s_output(int index);\n\n"
    "#ifdef __cplusplus\n}\n#endif\n\n#endif\n",
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P);
}

/* The exported entry points, for the version script. */
static const char *const entry_points[] = {
    "load", "free", "device_name", "context_create", "context_free", "set_input", "set_output",
    "run", "enqueue", "wait", "last_error", "status_name", "num_inputs", "num_outputs",
    "max_batch", "input", "output"};

static void gen_exports(Buf *b, const char *P) {
  ir_buf_puts(b, "{\n  global:\n");
  for (size_t i = 0; i < sizeof entry_points / sizeof *entry_points; i++)
    ir_buf_printf(b, "    %s_%s;\n", P, entry_points[i]);
  ir_buf_puts(b, "  local: *;\n};\n");
}

/* The wrappers: P_* over kiln.h on the embedded bundle. The text uses "P_" for the prefix and
 * "@SIZE@" for the bundle size; gen_source substitutes them. */
static const char source_template[] =
    "/* Generated by kiln-compile --emit=shared: the embedded engine and its entry points. */\n"
    "#include <stdarg.h>\n#include <stdio.h>\n#include <string.h>\n\n"
    "#include \"kiln.h\"\n#include \"engine.h\"\n\n"
    "/* The bundle, as --emit=bundle writes it: 64-byte aligned in .rodata, hidden. */\n"
    "__asm__(\".pushsection .rodata.kiln_bundle,\\\"a\\\"\\n\"\n"
    "        \".balign 64\\n\"\n"
    "        \".globl P_bundle\\n\"\n"
    "        \".hidden P_bundle\\n\"\n"
    "        \"P_bundle:\\n\"\n"
    "        \".incbin \\\"bundle.kiln\\\"\\n\"\n"
    "        \".popsection\\n\");\n"
    "extern const unsigned char P_bundle[] __attribute__((visibility(\"hidden\")));\n"
    "#define BUNDLE_SIZE ((size_t)@SIZE@u)\n\n"
    "/* Errors found here rather than in the runtime (a bad index, a mismatched engine). */\n"
    "static _Thread_local char wrap_error[512];\n"
    "static _Thread_local int wrap_failed;\n\n"
    "__attribute__((format(printf, 2, 3)))\n"
    "static int wrap_fail(int status, const char *fmt, ...) {\n"
    "  va_list ap;\n  va_start(ap, fmt);\n"
    "  vsnprintf(wrap_error, sizeof wrap_error, fmt, ap);\n"
    "  va_end(ap);\n  wrap_failed = 1;\n  return status;\n}\n\n"
    "const char *P_last_error(void) { return wrap_failed ? wrap_error : kiln_last_error(); }\n"
    "const char *P_status_name(int s) { return kiln_status_name((kiln_status)s); }\n"
    "int P_num_inputs(void) { return P_NUM_INPUTS; }\n"
    "int P_num_outputs(void) { return P_NUM_OUTPUTS; }\n"
    "int P_max_batch(void) { return P_MAX_BATCH; }\n"
    "const P_binding *P_input(int i) { @INPUT@ }\n"
    "const P_binding *P_output(int i) { @OUTPUT@ }\n\n"
    "/* Whether engine binding b is what table entry t says. */\n"
    "static int same(const kiln_binding *b, const P_binding *t) {\n"
    "  if (strcmp(b->name, t->name) || b->rank != t->rank || b->batched != t->batched ||\n"
    "      b->bytes != t->bytes)\n    return 0;\n"
    "  for (int d = 0; d < b->rank; d++)\n"
    "    if (b->dims[d] != t->dims[d])\n      return 0;\n"
    "  return 1;\n}\n\n"
    "int P_load(const char *device, P_engine **out) {\n"
    "  wrap_failed = 0;\n"
    "  if (!out)\n    return wrap_fail(KILN_ERROR_INVALID_ARGUMENT, \"P_load: out is NULL\");\n"
    "  *out = NULL;\n"
    "  kiln_options opts = {.device = device};\n"
    "  kiln_engine *e = NULL;\n"
    "  kiln_status st = kiln_engine_load_memory(P_bundle, BUNDLE_SIZE, &opts, &e);\n"
    "  if (st != KILN_OK)\n    return st;\n"
    "  int ok = kiln_engine_num_inputs(e) == P_NUM_INPUTS &&\n"
    "           kiln_engine_num_outputs(e) == P_NUM_OUTPUTS &&\n"
    "           kiln_engine_max_batch(e) == P_MAX_BATCH;\n"
    "  kiln_binding b;\n"
    "  for (int i = 0; ok && i < P_NUM_INPUTS; i++)\n"
    "    ok = kiln_engine_input(e, i, &b) == KILN_OK && same(&b, P_input(i));\n"
    "  for (int i = 0; ok && i < P_NUM_OUTPUTS; i++)\n"
    "    ok = kiln_engine_output(e, i, &b) == KILN_OK && same(&b, P_output(i));\n"
    "  if (!ok) {\n    kiln_engine_free(e);\n"
    "    return wrap_fail(KILN_ERROR_FORMAT, \"P_load: the embedded engine's bindings differ \"\n"
    "                     \"from the header's tables\");\n  }\n"
    "  *out = (P_engine *)e;\n  return KILN_OK;\n}\n\n"
    "void P_free(P_engine *e) { kiln_engine_free((kiln_engine *)e); }\n\n"
    "const char *P_device_name(const P_engine *e) {\n"
    "  return kiln_engine_device_name((const kiln_engine *)e);\n}\n\n"
    "int P_context_create(const P_engine *e, P_context **out) {\n"
    "  wrap_failed = 0;\n"
    "  if (!out)\n"
    "    return wrap_fail(KILN_ERROR_INVALID_ARGUMENT, \"P_context_create: out is NULL\");\n"
    "  kiln_context *c = NULL;\n"
    "  kiln_status st = kiln_context_create((const kiln_engine *)e, &c);\n"
    "  *out = (P_context *)c;\n  return st;\n}\n\n"
    "void P_context_free(P_context *c) { kiln_context_free((kiln_context *)c); }\n\n"
    "int P_set_input(P_context *c, int i, const void *data, size_t bytes) {\n"
    "  wrap_failed = 0;\n"
    "  if (i < 0 || i >= P_NUM_INPUTS)\n"
    "    return wrap_fail(KILN_ERROR_INVALID_ARGUMENT, \"P_set_input: no input %d (the engine \"\n"
    "                     \"has %d)\", i, P_NUM_INPUTS);\n"
    "  return kiln_context_set_input((kiln_context *)c, P_input(i)->name, data, bytes);\n}\n\n"
    "int P_set_output(P_context *c, int i, void *data, size_t bytes) {\n"
    "  wrap_failed = 0;\n"
    "  if (i < 0 || i >= P_NUM_OUTPUTS)\n"
    "    return wrap_fail(KILN_ERROR_INVALID_ARGUMENT, \"P_set_output: no output %d (the engine \"\n"
    "                     \"has %d)\", i, P_NUM_OUTPUTS);\n"
    "  return kiln_context_set_output((kiln_context *)c, P_output(i)->name, data, bytes);\n}\n\n"
    "int P_run(P_context *c, int batch) {\n"
    "  wrap_failed = 0;\n  return kiln_context_run((kiln_context *)c, batch);\n}\n\n"
    "int P_enqueue(P_context *c, int batch) {\n"
    "  wrap_failed = 0;\n  return kiln_context_enqueue((kiln_context *)c, batch);\n}\n\n"
    "int P_wait(P_context *c) {\n"
    "  wrap_failed = 0;\n  return kiln_context_wait((kiln_context *)c);\n}\n";

/* Copies the template with P_ as the prefix's "PREFIX_" (P_ never occurs inside another word of
 * the template: it is always at a word start) and the @...@ fields filled. */
static void gen_source(Buf *b, const char *P, size_t size, const RtPlan *pl) {
  char n[32];
  for (const char *s = source_template; *s;) {
    if (s[0] == 'P' && s[1] == '_' && (s == source_template || !(s[-1] == '_' ||
        (s[-1] >= 'a' && s[-1] <= 'z') || (s[-1] >= 'A' && s[-1] <= 'Z')))) {
      ir_buf_printf(b, "%s_", P);
      s += 2;
    } else if (!strncmp(s, "@SIZE@", 6)) {
      snprintf(n, sizeof n, "%zu", size);
      ir_buf_puts(b, n);
      s += 6;
    } else if (!strncmp(s, "@INPUT@", 7) || !strncmp(s, "@OUTPUT@", 8)) {
      bool in = s[1] == 'I';
      if (in ? pl->ninputs : pl->noutputs)
        ir_buf_printf(b, "return i >= 0 && i < %s_NUM_%s ? &%s_%s[i] : NULL;", P,
                      in ? "INPUTS" : "OUTPUTS", P, in ? "inputs" : "outputs");
      else
        ir_buf_puts(b, "(void)i;\n  return NULL;");
      s += in ? 7 : 8;
    } else {
      ir_buf_putc(b, *s++);
    }
  }
}

/* ---- running the compiler ---- */

/* Runs argv in directory dir; true when it exits 0. The child reports an exec failure through a
 * close-on-exec pipe, so "no compiler" reads differently from "the compiler failed". */
static bool run_in(const char *dir, char **argv) {
  int fds[2];
  if (pipe(fds) != 0)
    return report("--emit=shared: pipe: %s", strerror(errno));
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]), close(fds[1]);
    return report("--emit=shared: fork: %s", strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    int err = chdir(dir) == 0 ? (execvp(argv[0], argv), errno) : errno;
    ssize_t w = write(fds[1], &err, sizeof err);
    (void)w;
    _exit(127);
  }
  close(fds[1]);
  int child_errno = 0;
  ssize_t got = read(fds[0], &child_errno, sizeof child_errno);
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (got == (ssize_t)sizeof child_errno)
    return report("--emit=shared: cannot run the C compiler '%s': %s (set CC to one)", argv[0],
                strerror(child_errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return true;
  if (WIFEXITED(status))
    return report("--emit=shared: the C compiler '%s' failed (exit status %d) building the engine "
                "library", argv[0], WEXITSTATUS(status));
  return report("--emit=shared: the C compiler '%s' was killed by signal %d", argv[0],
              WTERMSIG(status));
}

/* ---- the driver ---- */

static bool write_in(const char *dir, const char *name, const void *data, size_t n) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(data, 1, n, f) == n;
  ok = (f && fclose(f) == 0) && ok;
  if (!ok)
    report("cannot write '%s': %s", path, strerror(errno));
  return ok;
}

static const char *const work_files[] = {"bundle.kiln", "engine.h", "engine.c", "exports.map",
                                         "engine.so"};

static void remove_work(const char *work) {
  char path[PATH_MAX + 32];
  for (size_t i = 0; i < sizeof work_files / sizeof *work_files; i++) {
    snprintf(path, sizeof path, "%s/%s", work, work_files[i]);
    unlink(path);
  }
  rmdir(work);
}

/* cc's words: $CC split on blanks, or "cc"; then the fixed arguments. */
static char **compiler_argv(const Names *nm, const char *archive, const char *incdir,
                            char **words) {
  const char *cc = getenv("CC");
  char *p = xstrdup(cc && *cc ? cc : "cc");
  *words = p;
  char **argv = calloc(64, sizeof *argv);
  if (!argv)
    abort();
  int n = 0;
  for (char *w = strtok(p, " \t"); w && n < 40; w = strtok(NULL, " \t"))
    argv[n++] = w;
  static char soname[PATH_MAX + 16], inc[PATH_MAX + 4];
  snprintf(soname, sizeof soname, "-Wl,-soname,%s", nm->base);
  snprintf(inc, sizeof inc, "-I%s", incdir);
  /* No -fvisibility=hidden: a hidden symbol cannot be exported; the version script decides. */
  const char *fixed[] = {"-O2", "-fPIC", "-shared", inc,
                         "-Wl,--version-script=exports.map", soname, "-o", "engine.so",
                         "engine.c", archive, "-lOpenCL", "-lxxhash", "-lm", NULL};
  for (int i = 0; fixed[i]; i++)
    argv[n++] = (char *)fixed[i];
  return argv;
}

bool tool_emit_shared(const ToolSharedInput *in) {
  if (!strcmp(in->output, "-"))
    return report("--emit=shared writes a file: give -o FILE.so");
  RtPlan pl;
  char err[512];
  if (!rt_plan_parse(in->plan, in->plan_len, &pl, err, sizeof err))
    return report("--emit=shared: the engine plan does not parse: %s", err);
  Names nm;
  names_make(in->output, &nm);
  char archive[PATH_MAX], incdir[PATH_MAX], work[PATH_MAX];
  bool ok = false, header_placed = false;
  Buf h = {0}, src = {0}, map = {0};
  if (!strcmp(nm.header, in->output)) {
    report("--emit=shared: -o %s: the header %s would overwrite the library", in->output,
         nm.header);
    goto done;
  }
  if (!find_runtime(archive, incdir))
    goto done;
  snprintf(work, sizeof work, "%s/.%s.kiln-emit.XXXXXX", nm.dir, nm.base);
  if (!mkdtemp(work)) {
    report("cannot create a work directory in '%s': %s", nm.dir, strerror(errno));
    goto done;
  }
  gen_header(&h, &nm, in, &pl);
  gen_source(&src, nm.prefix, in->bundle_size, &pl);
  gen_exports(&map, nm.prefix);
  if (!write_in(work, "bundle.kiln", in->bundle, in->bundle_size) ||
      !write_in(work, "engine.h", h.data, h.len) || !write_in(work, "engine.c", src.data,
      src.len) || !write_in(work, "exports.map", map.data, map.len))
    goto cleanup;
  char *words;
  char **argv = compiler_argv(&nm, archive, incdir, &words);
  if (in->verbose) {
    fprintf(stderr, "kiln-compile: in %s:", work);
    for (char **a = argv; *a; a++)
      fprintf(stderr, " %s", *a);
    fputc('\n', stderr);
  }
  ok = run_in(work, argv);
  free(argv);
  free(words);
  if (!ok)
    goto cleanup;
  /* The header first, so that a library in place always has its header beside it. */
  char from[PATH_MAX + 16];
  snprintf(from, sizeof from, "%s/engine.h", work);
  ok = rename(from, nm.header) == 0;
  header_placed = ok;
  if (ok) {
    snprintf(from, sizeof from, "%s/engine.so", work);
    ok = rename(from, in->output) == 0;
  }
  if (!ok) {
    report("cannot write '%s': %s", header_placed ? in->output : nm.header, strerror(errno));
    if (header_placed)
      unlink(nm.header);
  }
cleanup:
  remove_work(work);
done:
  ir_buf_free(&h);
  ir_buf_free(&src);
  ir_buf_free(&map);
  names_free(&nm);
  rt_plan_free(&pl);
  return ok;
}
