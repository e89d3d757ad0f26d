/* pass.h - the pass interface and the pass manager.
 *
 * A pass is one file with one PassInfo: a name, a one-line summary, its options and a run
 * function. The manager (manager.c) parses pipeline strings such as
 * 'canonicalize,segment{min-size=3}', validates names and options against the table in
 * registry.c, runs the passes, prints IR dumps, and verifies after each pass. Passes never print
 * IR, never verify and never exit; they report through the context's Diag. */
#ifndef KILN_PASSES_PASS_H
#define KILN_PASSES_PASS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/diag.h"
#include "ir/ir.h"

typedef enum PassOptionKind { PASS_OPT_INT, PASS_OPT_FLOAT, PASS_OPT_BOOL, PASS_OPT_STRING } PassOptionKind;

typedef struct PassOptionSpec {
  const char *name;
  PassOptionKind kind;
  const char *dflt; /* default value as text */
  const char *help;
} PassOptionSpec;

typedef struct PassContext PassContext;

typedef struct PassInfo {
  const char *name;
  const char *summary;
  const PassOptionSpec *options;
  int noptions;
  /* Returns false after reporting an error; the pipeline stops there. */
  bool (*run)(PassContext *pc);
} PassInfo;

/* What the device can run, as code generation knows it (codegen's cg_op_supported): false with
 * a reason phrase. The passes cannot link codegen (it links them), so drivers pass it in. */
typedef bool (*PassDeviceFn)(const Op *op, char *why, size_t n);

struct PassContext {
  Module *m;
  Diag *diag;
  const PassInfo *pass;
  const char *const *values; /* option values as text, parallel to pass->options */
  PassDeviceFn device_ok;    /* NULL: the registry's word alone (ir_op_device_ok) */
};

/* Whether op can run on the device: the registry's rules (ir_op_device_ok, ir/device.h), then the
 * driver's predicate when it gave one. false with the first reason in why. */
bool pass_device_ok(const PassContext *pc, const Op *op, char *why, size_t n);

/* Option getters; the manager has checked that the values parse as their kinds. */
int64_t pass_opt_int(const PassContext *pc, const char *name);
double pass_opt_float(const PassContext *pc, const char *name);
bool pass_opt_bool(const PassContext *pc, const char *name);
const char *pass_opt_string(const PassContext *pc, const char *name);

/* A remark (why the pass did not do something) at op's location, tagged with the pass name. */
void pass_remark(PassContext *pc, const Op *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The table of every pass (registry.c). */
extern const PassInfo *const pass_table[];
extern const int pass_count;
const PassInfo *pass_lookup(const char *name);

/* ---- pipelines ---- */

typedef struct PipelineStep {
  const PassInfo *pass;
  const char **values; /* one per option of the pass */
} PipelineStep;

typedef struct Pipeline {
  PipelineStep *steps;
  int nsteps;
} Pipeline;

/* Parses text into p. On error returns false with a message in err that names the known passes
 * or options. Aliases: 'default' expands to the default pipeline. */
bool pass_pipeline_parse(const char *text, Pipeline *p, char *err, size_t errlen);
void pass_pipeline_free(Pipeline *p);

typedef struct PassManagerOptions {
  const char *print_before;   /* pass name or NULL */
  const char *print_after;    /* pass name or NULL */
  bool print_before_all, print_after_all;
  bool verify_each;           /* default true */
  const PrintOptions *print;  /* for dumps */
  FILE *dump;                 /* where dumps go (stderr) */
  PassDeviceFn device_ok;     /* see PassContext; NULL: the registry's word alone */
  /* Called after each pass, once verified and dumped; step counts from 1. Returning false stops
   * the pipeline: pass_pipeline_run returns false and reports nothing itself (the hook's owner
   * says why). NULL: no hook. kiln-opt's --check-numerics is one. */
  bool (*after_pass)(void *ctx, const PassInfo *pass, int step, Module *m);
  void *after_pass_ctx;
} PassManagerOptions;

/* Checks a comma-separated list of pass names (for --print-ir-after=...). */
bool pass_name_list_check(const char *list, char *err, size_t errlen);

/* Runs the pipeline on m. Returns false when a pass fails or the IR fails to verify after one
 * (the message names the pass), or when opt->after_pass returns false. */
bool pass_pipeline_run(const Pipeline *p, Module *m, Diag *d, const PassManagerOptions *opt);

#endif
