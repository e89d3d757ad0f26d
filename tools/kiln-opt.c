/* kiln-opt - parse textual IR or import an ONNX model, run a pass pipeline, print the IR (like
 * mlir-opt).
 *
 * Exit status: 0 on success; 1 on any error (bad flag, unreadable input, parse or verifier error,
 * failing pass). Output goes to stdout or, with -o, to a file written whole or not at all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/onnx/onnx_import.h"
#include "frontend/text/parse.h"
#include "ir/diag.h"
#include "codegen/codegen.h"
#include "passes/numerics.h"
#include "passes/pass.h"
#include "tools/common.h"
#include "tools/npy.h"

static const char usage[] =
    "usage: kiln-opt [options] [FILE]\n"
    "\n"
    "Parses kiln textual IR from FILE (or standard input when FILE is '-' or absent), or\n"
    "imports FILE as an ONNX model when its name ends in '.onnx'; verifies it, runs a pass\n"
    "pipeline and prints the resulting IR.\n"
    "\n"
    "options:\n"
    "  -p, --pass-pipeline PIPELINE  passes to run, e.g. 'canonicalize,infer-shapes';\n"
    "                                options in braces: 'pass{opt=value,opt=value}';\n"
    "                                'default' is kiln's default pipeline\n"
    "  -o FILE                       write the IR to FILE instead of standard output\n"
    "  --print-ir-before=P[,P...]    dump the IR before each named pass (to stderr)\n"
    "  --print-ir-after=P[,P...]     dump the IR after each named pass (to stderr)\n"
    "  --print-ir-before-all         dump the IR before every pass\n"
    "  --print-ir-after-all          dump the IR after every pass\n"
    "  --verify-each                 verify the IR after every pass (the default)\n"
    "  --no-verify-each              do not verify between passes\n"
    "  --split-input-file            treat each chunk between '// -----' lines as its own\n"
    "                                input; outputs are joined with '// -----'\n"
    "  --remarks[=PASS]              print remarks (why a pass did not do something), of\n"
    "                                every pass or of PASS only\n"
    "  --elide-constants             print large constants as dense_resource<__elided__>\n"
    "  --shape NAME=DIMS             ONNX input only: fix the shape of input NAME, e.g.\n"
    "                                --shape images=1x3x640x640 (repeatable; the first\n"
    "                                dimension may be N, the batch)\n"
    "  --check-numerics              run the module on the reference kernels before the\n"
    "                                pipeline and after every pass that changes it; fail\n"
    "                                (exit 1) naming the first pass that moves an output\n"
    "                                beyond the tolerance, and the output and its error\n"
    "                                (max |new - ref| / max |ref|); inputs are random from a\n"
    "                                fixed seed (floats in [-1,1], integers 0, bools false)\n"
    "  --check-numerics-tol=X        the relative error allowed (default 1e-05)\n"
    "  --check-numerics-batch=N      the batch N of random inputs (default 1, or that of\n"
    "                                the given inputs)\n"
    "  --check-numerics-input NAME=FILE\n"
    "                                use FILE for input NAME instead of random values: a\n"
    "                                .npy file (float32, float16, int64, int32, int8, uint8,\n"
    "                                bool) or else a serialized ONNX TensorProto (.pb)\n"
    "                                (repeatable)\n"
    "  -v, --verbose                 with --check-numerics: one line per pass checked\n"
    "  --list-passes                 list the passes and their options\n"
    "  --version                     print kiln's version\n"
    "  -h, --help                    print this help\n"
    "\n"
    "Dumps start with one banner line: // -----// IR Dump After PASS //----- //\n";

typedef struct Options {
  const char *input, *output, *pipeline;
  const char *print_before, *print_after;
  bool print_before_all, print_after_all, verify_each, split, elide;
  bool remarks;
  const char *remark_pass;
  FeShapeOverride shapes[64];
  int nshapes;
  bool check_numerics, verbose;
  const char *check_tol_text, *check_batch_text; /* as given, for messages; NULL: unset */
  double check_tol;
  int64_t check_batch;
  struct {
    char *name;       /* malloc'd */
    const char *path; /* in argv */
  } check_inputs[64];
  int ncheck_inputs;
} Options;

static int fail(const char *fmt, const char *arg) {
  fprintf(stderr, "kiln-opt: error: ");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return 1;
}

static void list_passes(void) {
  for (int i = 0; i < pass_count; i++) {
    const PassInfo *p = pass_table[i];
    printf("  %-16s %s\n", p->name, p->summary);
    for (int j = 0; j < p->noptions; j++)
      printf("      %s=%s (default %s): %s\n", p->options[j].name,
             (const char *[]){"int", "float", "bool", "string"}[p->options[j].kind],
             p->options[j].dflt, p->options[j].help);
  }
}

/* Matches "--name=value" or "--name value"; advances *i past a separate value. */
static bool value_flag(int argc, char **argv, int *i, const char *name, const char **out,
                       int *err) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0)
    return false;
  if (a[n] == '=') {
    *out = a + n + 1;
    return true;
  }
  if (a[n] != 0)
    return false;
  if (*i + 1 >= argc) {
    *err = fail("option '%s' needs a value", name);
    return true;
  }
  *out = argv[++*i];
  return true;
}

static void free_options(Options *o) {
  for (int i = 0; i < o->nshapes; i++)
    free((char *)o->shapes[i].name);
  o->nshapes = 0;
  for (int i = 0; i < o->ncheck_inputs; i++)
    free(o->check_inputs[i].name);
  o->ncheck_inputs = 0;
}

/* Parses the values of the --check-numerics-* flags. Returns -1 to go on, else the exit status. */
static int parse_check_numerics(Options *o, const char *input_text) {
  if (input_text) {
    const char *eq = strchr(input_text, '=');
    if (!eq || eq == input_text || !eq[1])
      return fail("--check-numerics-input expects NAME=FILE, got '%s'", input_text);
    if (o->ncheck_inputs == (int)(sizeof o->check_inputs / sizeof o->check_inputs[0]))
      return fail("%s", "too many --check-numerics-input options");
    o->check_inputs[o->ncheck_inputs].name = strndup(input_text, (size_t)(eq - input_text));
    o->check_inputs[o->ncheck_inputs++].path = eq + 1;
  }
  return -1;
}

/* Checks the --check-numerics-* values once all flags are read. */
static int check_numerics_args(Options *o) {
  char *end;
  if (!o->check_numerics && (o->check_tol_text || o->check_batch_text || o->ncheck_inputs))
    return fail("%s", o->check_tol_text ? "--check-numerics-tol needs --check-numerics"
                      : o->check_batch_text ? "--check-numerics-batch needs --check-numerics"
                                            : "--check-numerics-input needs --check-numerics");
  o->check_tol = -1;
  if (o->check_tol_text) {
    o->check_tol = strtod(o->check_tol_text, &end);
    if (!*o->check_tol_text || *end || !(o->check_tol >= 0) || o->check_tol > 1e300)
      return fail("--check-numerics-tol expects a number >= 0, got '%s'", o->check_tol_text);
  }
  if (o->check_batch_text) {
    errno = 0;
    long long b = strtoll(o->check_batch_text, &end, 10);
    if (!*o->check_batch_text || *end || errno || b < 1 || b > (1 << 20))
      return fail("--check-numerics-batch expects an integer from 1 to 1048576, got '%s'",
                  o->check_batch_text);
    o->check_batch = b;
  }
  return -1;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, Options *o) {
  *o = (Options){.verify_each = true};
  int status;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int err = 0;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(usage, stdout);
      return 0;
    } else if (!strcmp(a, "--version")) {
      printf("kiln-opt %s\n", KILN_VERSION_STRING);
      return 0;
    } else if (!strcmp(a, "--list-passes")) {
      list_passes();
      return 0;
    } else if (value_flag(argc, argv, &i, "-p", &o->pipeline, &err) ||
               value_flag(argc, argv, &i, "--pass-pipeline", &o->pipeline, &err) ||
               value_flag(argc, argv, &i, "-o", &o->output, &err) ||
               value_flag(argc, argv, &i, "--print-ir-before", &o->print_before, &err) ||
               value_flag(argc, argv, &i, "--print-ir-after", &o->print_after, &err) ||
               value_flag(argc, argv, &i, "--check-numerics-tol", &o->check_tol_text, &err) ||
               value_flag(argc, argv, &i, "--check-numerics-batch", &o->check_batch_text,
                          &err)) {
      if (err)
        return err;
    } else if (!strcmp(a, "--check-numerics")) {
      o->check_numerics = true;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      o->verbose = true;
    } else if (!strncmp(a, "--check-numerics-input", 22) && (a[22] == 0 || a[22] == '=')) {
      const char *text = NULL;
      value_flag(argc, argv, &i, "--check-numerics-input", &text, &err);
      if (err)
        return err;
      if ((status = parse_check_numerics(o, text)) >= 0)
        return status;
    } else if (!strncmp(a, "--shape", 7) && (a[7] == 0 || a[7] == '=')) {
      const char *text = NULL;
      if (!value_flag(argc, argv, &i, "--shape", &text, &err))
        return fail("unknown option '%s'; see kiln-opt --help", a);
      if (err)
        return err;
      if (o->nshapes == (int)(sizeof o->shapes / sizeof o->shapes[0]))
        return fail("%s", "too many --shape options");
      char msg[512];
      if (!fe_parse_shape_override(text, &o->shapes[o->nshapes], msg, sizeof msg))
        return fail("%s", msg);
      o->nshapes++;
    } else if (!strcmp(a, "--print-ir-before-all")) {
      o->print_before_all = true;
    } else if (!strcmp(a, "--print-ir-after-all")) {
      o->print_after_all = true;
    } else if (!strcmp(a, "--verify-each")) {
      o->verify_each = true;
    } else if (!strcmp(a, "--no-verify-each")) {
      o->verify_each = false;
    } else if (!strcmp(a, "--split-input-file")) {
      o->split = true;
    } else if (!strcmp(a, "--elide-constants")) {
      o->elide = true;
    } else if (!strcmp(a, "--remarks")) {
      o->remarks = true;
    } else if (!strncmp(a, "--remarks=", 10)) {
      o->remarks = true;
      o->remark_pass = a + 10;
      if (!pass_lookup(o->remark_pass))
        return fail("--remarks: unknown pass '%s'; see kiln-opt --list-passes", o->remark_pass);
    } else if (a[0] == '-' && a[1] != 0) {
      return fail("unknown option '%s'; see kiln-opt --help", a);
    } else if (o->input) {
      return fail("more than one input file ('%s'); see kiln-opt --help", a);
    } else {
      o->input = a;
    }
  }
  if (o->nshapes && !tool_is_onnx(o->input))
    return fail("%s", "--shape applies to ONNX models (FILE.onnx) only");
  if ((status = check_numerics_args(o)) >= 0)
    return status;
  char msg[1024];
  if (!pass_name_list_check(o->print_before, msg, sizeof msg) ||
      !pass_name_list_check(o->print_after, msg, sizeof msg))
    return fail("%s", msg);
  return -1;
}

/* Is the line starting at p a split marker ("// -----" with optional trailing space)? */
static bool is_split_line(const char *p, const char *end) {
  static const char marker[] = "// -----";
  size_t n = sizeof marker - 1;
  if ((size_t)(end - p) < n || strncmp(p, marker, n) != 0)
    return false;
  for (p += n; p < end && *p != '\n'; p++)
    if (*p != ' ' && *p != '\t' && *p != '\r')
      return false;
  return true;
}

/* ---- --check-numerics ---- */

typedef struct NumericsHook {
  NumericsCheck *check;
  bool verbose;
} NumericsHook;

/* The pass manager's after_pass hook: checks, and prints the error or (with -v) the step line. */
static bool check_after_pass(void *ctx, const PassInfo *pass, int step, Module *m) {
  NumericsHook *h = ctx;
  bool ok = pass_numerics_check(h->check, pass, step, m);
  if (!ok)
    fprintf(stderr, "kiln-opt: error: %s\n", pass_numerics_message(h->check));
  else if (h->verbose)
    fprintf(stderr, "%s\n", pass_numerics_message(h->check));
  return ok;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

/* Reads the --check-numerics-input files: .npy into owned[i] (malloc'd; the caller frees),
 * anything else as an ONNX TensorProto into m's arena. Prints the error and returns false. */
static bool load_check_inputs(const Options *o, Module *m, NumericsInput *in, void **owned) {
  for (int i = 0; i < o->ncheck_inputs; i++) {
    const char *name = o->check_inputs[i].name, *path = o->check_inputs[i].path;
    in[i] = (NumericsInput){.name = name, .source = path};
    char why[512] = "";
    bool ok;
    if (ends_with(path, ".npy")) {
      ok = npy_read_file(path, &in[i].tensor, why, sizeof why);
      owned[i] = in[i].tensor.data;
    } else {
      /* The reader reports through a Diag: capture its one line and drop its "PATH: error: ". */
      char *text = NULL;
      size_t len = 0;
      FILE *mem = open_memstream(&text, &len);
      Diag pd;
      ir_diag_init(&pd, path, NULL, 0);
      pd.out = mem ? mem : stderr;
      const char *tname = NULL;
      ok = fe_onnx_read_tensor_file(path, m, &in[i].tensor, &tname, &pd);
      if (mem)
        fclose(mem);
      const char *msg = text ? text : "";
      size_t plen = strlen(path);
      if (!strncmp(msg, path, plen) && !strncmp(msg + plen, ": error: ", 9))
        msg += plen + 9;
      snprintf(why, sizeof why, "%.*s", (int)strcspn(msg, "\n"), msg);
      free(text);
    }
    if (!ok) {
      fprintf(stderr, "kiln-opt: error: --check-numerics-input %s=%s: %s\n", name, path, why);
      return false;
    }
  }
  return true;
}

/* Runs the pipeline on m under the numeric checker; prints every message. */
static bool run_checked(const Options *o, const Pipeline *pl, Module *m, Diag *d,
                        PassManagerOptions *pm) {
  int n = o->ncheck_inputs;
  NumericsInput *in = calloc((size_t)n + 1, sizeof *in);
  void **owned = calloc((size_t)n + 1, sizeof *owned);
  if (!in || !owned)
    abort();
  NumericsCheck *check = NULL;
  char err[1024];
  bool ok = load_check_inputs(o, m, in, owned);
  if (ok) {
    NumericsOptions nopt = {.tol = o->check_tol, .batch = o->check_batch, .inputs = in,
                            .ninputs = n};
    check = pass_numerics_begin(m, &nopt, err, sizeof err);
    if (!check)
      fprintf(stderr, "kiln-opt: error: %s\n", err);
    ok = check != NULL;
  }
  for (int i = 0; i < n; i++)
    free(owned[i]);
  free(owned);
  free(in);
  if (!ok)
    return false;
  NumericsHook hook = {check, o->verbose};
  pm->after_pass = check_after_pass;
  pm->after_pass_ctx = &hook;
  ok = pass_pipeline_run(pl, m, d, pm);
  if (ok)
    fprintf(stderr, "%s\n", pass_numerics_summary(check));
  pass_numerics_free(check);
  return ok;
}

/* Parses, verifies, runs the pipeline and prints one chunk into out. Returns false on error. */
static bool process(const Options *o, const Pipeline *pl, const char *name, const char *src,
                    size_t len, int line_offset, Buf *out) {
  Diag d;
  ir_diag_init(&d, name, src, len);
  d.line_offset = line_offset;
  d.remarks = o->remarks;
  d.remark_pass = o->remark_pass;
  FeOnnxOptions fo = {.shapes = o->shapes, .nshapes = o->nshapes};
  Module *m = tool_load_module(o->input, src, len, &fo, &d);
  if (!m)
    return false;
  PrintOptions popt = {.elide_constants = o->elide};
  bool ok = true;
  {
    PassManagerOptions pm = {.print_before = o->print_before,
                             .print_after = o->print_after,
                             .print_before_all = o->print_before_all,
                             .print_after_all = o->print_after_all,
                             .verify_each = o->verify_each,
                             .print = &popt,
                             .dump = stderr,
                             .device_ok = cg_op_supported};
    ok = o->check_numerics ? run_checked(o, pl, m, &d, &pm) : pass_pipeline_run(pl, m, &d, &pm);
  }
  if (ok)
    ir_print_module(m, out, &popt);
  ir_module_free(m);
  return ok;
}

int main(int argc, char **argv) {
  Options o;
  int status = parse_args(argc, argv, &o);
  if (status >= 0) {
    free_options(&o);
    return status;
  }
  Pipeline pl = {0};
  char err[1024];
  if (o.pipeline && !pass_pipeline_parse(o.pipeline, &pl, err, sizeof err)) {
    free_options(&o);
    return fail("%s", err);
  }
  if (tool_is_onnx(o.input) && o.split) {
    free_options(&o);
    return fail("%s", "--split-input-file applies to textual IR only");
  }
  const char *name = o.input && strcmp(o.input, "-") ? o.input : "<stdin>";
  size_t len = 0;
  char *src = tool_read_file(o.input, &len);
  if (!src) {
    fprintf(stderr, "kiln-opt: error: cannot read '%s': %s\n", name, strerror(errno));
    pass_pipeline_free(&pl);
    free_options(&o);
    return 1;
  }
  Buf out = {0};
  bool ok = true;
  if (!o.split) {
    ok = process(&o, &pl, name, src, len, 0, &out);
  } else {
    const char *end = src + len, *chunk = src;
    int line = 0, chunk_line = 0, nchunks = 0;
    for (const char *p = src; p <= end;) {
      const char *eol = memchr(p, '\n', (size_t)(end - p));
      bool last = p == end;
      if (last || is_split_line(p, end)) {
        if (nchunks++)
          ir_buf_puts(&out, "// -----\n");
        ok &= process(&o, &pl, name, chunk, (size_t)(p - chunk), chunk_line, &out);
        if (last)
          break;
        chunk = eol ? eol + 1 : end;
        chunk_line = line + 1;
      }
      line++;
      p = eol ? eol + 1 : end;
    }
  }
  /* Chunks that succeeded still print to stdout; a file is written only when all did. */
  if (ok || !o.output)
    ok = tool_write_file("kiln-opt", o.output, ir_buf_str(&out), out.len) && ok;
  ir_buf_free(&out);
  free(src);
  pass_pipeline_free(&pl);
  free_options(&o);
  return ok ? 0 : 1;
}
