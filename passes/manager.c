/* manager.c - pipeline strings, pass options, IR dumps and verification between passes.
 *
 * Pipeline grammar:  pipeline ::= step (',' step)*
 *                    step     ::= pass-name ('{' option '=' value (',' option '=' value)* '}')?
 * White space around names is ignored. The name `default` stands for DEFAULT_PIPELINE. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ir/device.h"
#include "pass.h"

/* kiln's default pipeline; it grows as passes land (DESIGN.md lists the full one). */
#define DEFAULT_PIPELINE \
  "infer-shapes,canonicalize,fold-batchnorm,segment,precision,fuse,canonicalize"

static int option_index(const PassInfo *p, const char *name) {
  for (int i = 0; i < p->noptions; i++)
    if (strcmp(p->options[i].name, name) == 0)
      return i;
  return -1;
}

static const char *value_of(const PassContext *pc, const char *name) {
  int i = option_index(pc->pass, name);
  if (i < 0) {
    fprintf(stderr, "kiln: internal error: pass '%s' has no option '%s'\n", pc->pass->name, name);
    abort();
  }
  return pc->values && pc->values[i] ? pc->values[i] : pc->pass->options[i].dflt;
}

int64_t pass_opt_int(const PassContext *pc, const char *name) {
  return strtoll(value_of(pc, name), NULL, 10);
}

double pass_opt_float(const PassContext *pc, const char *name) {
  return strtod(value_of(pc, name), NULL);
}

bool pass_opt_bool(const PassContext *pc, const char *name) {
  const char *v = value_of(pc, name);
  return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

const char *pass_opt_string(const PassContext *pc, const char *name) { return value_of(pc, name); }

void pass_remark(PassContext *pc, const Op *op, const char *fmt, ...) {
  Buf b = {0};
  va_list ap;
  va_start(ap, fmt);
  ir_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  ir_remark(pc->diag, pc->pass->name, op ? op->loc : (Loc){0, 0}, "%s", ir_buf_str(&b));
  ir_buf_free(&b);
}

/* ---- parsing ---- */

static void list_passes(char *out, size_t n) {
  size_t len = 0;
  out[0] = 0;
  for (int i = 0; i < pass_count && len < n; i++)
    len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : "", pass_table[i]->name);
}

static void list_options(const PassInfo *p, char *out, size_t n) {
  size_t len = 0;
  out[0] = 0;
  for (int i = 0; i < p->noptions && len < n; i++)
    len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : "", p->options[i].name);
}

static bool value_ok(PassOptionKind kind, const char *v) {
  char *end;
  switch (kind) {
  case PASS_OPT_INT: strtoll(v, &end, 10); return *v && !*end;
  case PASS_OPT_FLOAT: strtod(v, &end); return *v && !*end;
  case PASS_OPT_BOOL:
    return !strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "1") || !strcmp(v, "0");
  case PASS_OPT_STRING: return true;
  }
  return false;
}

static const char *kind_words[] = {"an integer", "a number", "true or false", "a string"};

static bool parse_into(const char *text, Pipeline *p, char *err, size_t errlen, int depth);

static char *trimmed(const char *s, size_t n) {
  while (n && isspace((unsigned char)*s))
    s++, n--;
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  return strndup(s, n);
}

/* Parses "opt=v,opt=v" (the text between braces) into step->values. */
static bool parse_options(PipelineStep *step, const char *s, size_t n, char *err, size_t errlen) {
  const PassInfo *p = step->pass;
  char *text = strndup(s, n), *save = NULL;
  bool ok = true;
  for (char *item = strtok_r(text, ",", &save); item && ok; item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    char *name = trimmed(item, eq ? (size_t)(eq - item) : strlen(item));
    char known[512];
    list_options(p, known, sizeof known);
    int i = option_index(p, name);
    if (i < 0) {
      if (p->noptions)
        snprintf(err, errlen, "unknown option '%s' for pass '%s'; known options: %s", name,
                 p->name, known);
      else
        snprintf(err, errlen, "unknown option '%s': pass '%s' takes no options", name, p->name);
      ok = false;
    } else if (!eq) {
      snprintf(err, errlen, "option '%s' of pass '%s' needs a value ('%s=...')", name, p->name,
               name);
      ok = false;
    } else {
      char *value = trimmed(eq + 1, strlen(eq + 1));
      if (!value_ok(p->options[i].kind, value)) {
        snprintf(err, errlen, "option '%s' of pass '%s' expects %s, got '%s'", name, p->name,
                 kind_words[p->options[i].kind], value);
        free(value);
        ok = false;
      } else {
        free((char *)step->values[i]);
        step->values[i] = value;
      }
    }
    free(name);
  }
  free(text);
  return ok;
}

/* Parses one step, "name" or "name{opt=v,...}", already trimmed. */
static bool parse_step(const char *s, size_t n, Pipeline *p, char *err, size_t errlen, int depth) {
  size_t name_len = strcspn(s, "{");
  if (name_len > n)
    name_len = n;
  char *name = trimmed(s, name_len);
  bool has_options = name_len < n;
  if (!*name) {
    char known[512];
    list_passes(known, sizeof known);
    snprintf(err, errlen, "empty pass name in pipeline; known passes: %s", known);
    free(name);
    return false;
  }
  if (strcmp(name, "default") == 0 && depth == 0) {
    free(name);
    if (has_options) {
      snprintf(err, errlen, "the 'default' pipeline takes no options");
      return false;
    }
    return parse_into(DEFAULT_PIPELINE, p, err, errlen, 1);
  }
  const PassInfo *info = pass_lookup(name);
  if (!info) {
    char known[512];
    list_passes(known, sizeof known);
    snprintf(err, errlen, "unknown pass '%s'; known passes: %s (and 'default')", name, known);
    free(name);
    return false;
  }
  free(name);
  p->steps = realloc(p->steps, sizeof *p->steps * (size_t)(p->nsteps + 1));
  PipelineStep *step = &p->steps[p->nsteps++];
  step->pass = info;
  step->values = calloc((size_t)info->noptions + 1, sizeof *step->values);
  if (!has_options)
    return true;
  const char *open = s + name_len, *close = memchr(open, '}', n - name_len);
  if (!close) {
    snprintf(err, errlen, "missing '}' after the options of pass '%s'", info->name);
    return false;
  }
  if ((size_t)(close - s) != n - 1) {
    snprintf(err, errlen, "expected ',' after the options of pass '%s'", info->name);
    return false;
  }
  return parse_options(step, open + 1, (size_t)(close - open - 1), err, errlen);
}

/* Splits text at the commas outside braces and parses each step. */
static bool parse_into(const char *text, Pipeline *p, char *err, size_t errlen, int depth) {
  const char *s = text;
  while (isspace((unsigned char)*s))
    s++;
  if (!*s)
    return true; /* an empty pipeline runs no pass */
  for (;;) {
    size_t n = 0;
    for (int braces = 0; s[n] && (braces || s[n] != ','); n++)
      braces += s[n] == '{' ? 1 : s[n] == '}' ? -1 : 0;
    while (n && isspace((unsigned char)*s))
      s++, n--;
    size_t len = n;
    while (len && isspace((unsigned char)s[len - 1]))
      len--;
    if (!parse_step(s, len, p, err, errlen, depth))
      return false;
    if (!s[n])
      return true;
    s += n + 1;
  }
}

bool pass_pipeline_parse(const char *text, Pipeline *p, char *err, size_t errlen) {
  memset(p, 0, sizeof *p);
  if (!parse_into(text, p, err, errlen, 0)) {
    pass_pipeline_free(p);
    return false;
  }
  return true;
}

void pass_pipeline_free(Pipeline *p) {
  for (int i = 0; i < p->nsteps; i++) {
    for (int j = 0; j < p->steps[i].pass->noptions; j++)
      free((char *)p->steps[i].values[j]);
    free(p->steps[i].values);
  }
  free(p->steps);
  memset(p, 0, sizeof *p);
}

/* ---- running ---- */

static bool name_in_list(const char *list, const char *name) {
  if (!list)
    return false;
  size_t n = strlen(name);
  for (const char *s = list; *s;) {
    size_t len = strcspn(s, ",");
    if (len == n && strncmp(s, name, n) == 0)
      return true;
    s += len;
    if (*s == ',')
      s++;
  }
  return false;
}

static void dump(const Module *m, const char *when, const PassInfo *pass,
                 const PassManagerOptions *opt) {
  Buf b = {0};
  ir_buf_printf(&b, "// -----// IR Dump %s %s //----- //\n", when, pass->name);
  ir_print_module(m, &b, opt->print);
  FILE *out = opt->dump ? opt->dump : stderr;
  fputs(ir_buf_str(&b), out);
  fflush(out);
  ir_buf_free(&b);
}

bool pass_pipeline_run(const Pipeline *p, Module *m, Diag *d, const PassManagerOptions *opt) {
  for (int i = 0; i < p->nsteps; i++) {
    const PipelineStep *step = &p->steps[i];
    if (opt->print_before_all || name_in_list(opt->print_before, step->pass->name))
      dump(m, "Before", step->pass, opt);
    PassContext pc = {m, d, step->pass, step->values, opt->device_ok};
    int errors = d->nerrors;
    bool ok = step->pass->run(&pc) && d->nerrors == errors;
    if (!ok) {
      ir_error(d, (Loc){0, 0}, "pass '%s' failed", step->pass->name);
      return false;
    }
    if (opt->verify_each && ir_verify(m, d) != 0) {
      ir_error(d, (Loc){0, 0}, "IR is invalid after pass '%s'", step->pass->name);
      return false;
    }
    if (opt->print_after_all || name_in_list(opt->print_after, step->pass->name))
      dump(m, "After", step->pass, opt);
    if (opt->after_pass && !opt->after_pass(opt->after_pass_ctx, step->pass, i + 1, m))
      return false;
  }
  return true;
}

bool pass_name_list_check(const char *list, char *err, size_t errlen) {
  if (!list)
    return true;
  char *copy = strdup(list), *save = NULL;
  bool ok = true;
  for (char *n = strtok_r(copy, ",", &save); n && ok; n = strtok_r(NULL, ",", &save))
    if (!pass_lookup(n)) {
      char known[512];
      list_passes(known, sizeof known);
      snprintf(err, errlen, "unknown pass '%s'; known passes: %s", n, known);
      ok = false;
    }
  free(copy);
  return ok;
}

bool pass_device_ok(const PassContext *pc, const Op *op, char *why, size_t n) {
  return ir_op_device_ok(op, why, n) && (!pc->device_ok || pc->device_ok(op, why, n));
}
