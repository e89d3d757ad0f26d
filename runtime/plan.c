/* plan.c - parsing and validating the engine plan (runtime/README.md, "Engine plan").
 *
 * The plan comes from a file that may be truncated, corrupt or hostile: every field is checked
 * (counts, ranges, dtypes, tensor ids defined before use, extents at max batch inside their pool,
 * kernel geometry, host op names, arities and attribute kinds) and every failure is a message
 * "plan line N: reason", never a crash. Sizes are computed with overflow checks.
 *
 * Grammar (one record per line; fields split on runs of spaces or tabs; a line whose first field
 * starts with '#' is a comment, and a field starting with '#' ends the line; names are
 * percent-encoded, so a name starting with '#' is written %23):
 *
 *   plan    := "kiln-plan 1" NL record*
 *   record  := "max-batch" INT                      (once, before any tensor)
 *            | "pool" ("act"|"weights") BYTES       (each once, before any tensor)
 *            | "tensor" ID POOL OFFSET DTYPE (0|1) RANK DIM*   (ids 0,1,2... in order; "N" only
 *                                                   as dims[0] of a batched tensor)
 *            | "strides" ID STRIDE*                 (right after tensor ID, RANK strides >= 0)
 *            | "input" NAME ID | "output" NAME ID   (act pool, contiguous; names unique)
 *            | "kernel" IDENT WORK_DIM GLOBAL* LOCAL* BATCH_DIM
 *            | "host" OP NIN NOUT ID* "attrs" NATTRS   followed by NATTRS "attr" records
 *   attr    := "attr" NAME ("int" INT | "float" REAL | "string" STR
 *                          | "ints" N INT* | "floats" N REAL* | "strings" N STR*)
 *   STR     := NAME | "%"                          (a lone '%': the empty string)
 *
 * Tensors read by host steps must be contiguous; those they write, in the act pool. Offsets are
 * multiples of the element size (host steps use them as typed pointers). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/plan.h"

enum {
  MAX_BATCH_LIMIT = 1 << 20,
  MAX_TENSORS = 1 << 20,
  MAX_STEPS = 1 << 20,
  MAX_OPERANDS = 4096,
  MAX_ATTRS = 1024,
  MAX_GLOBAL = 1 << 30,
  MAX_LOCAL = 1 << 16,
};

/* Op names and arities from the registry table; only the columns the runtime needs. */
static const struct {
  const char *name;
  int min_in, max_in, min_out, max_out;
} op_table[OP_COUNT] = {
#define OP(id, name, onnx, min_in, max_in, min_out, max_out, fusion, flags, attrs)                \
  [OP_##id] = {name, min_in, max_in, min_out, max_out},
#include "ir/ops.def"
#undef OP
};

typedef struct Parser {
  RtPlan *plan;
  char *err;
  size_t errlen;
  int line;
  char **f; /* fields of the current line */
  int nf;
  int cap_tensors, cap_inputs, cap_outputs, cap_steps;
  bool have_max_batch, have_act, have_weights;
  int strides_ok; /* the tensor id a strides record may follow, or -1 */
  int attrs_left; /* attr records still owed to the last host step */
  int host_line;
} Parser;

static bool fail(Parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(Parser *p, const char *fmt, ...) {
  int n = snprintf(p->err, p->errlen, "plan line %d: ", p->line);
  if (n >= 0 && (size_t)n < p->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* Grows *arr (of elem bytes each) so that index n fits; zeroes the new room. */
static bool grow(Parser *p, void **arr, int *cap, int n, size_t elem, int limit) {
  if (n < *cap)
    return true;
  if (n >= limit)
    return fail(p, "more than %d records of this kind", limit);
  int ncap = *cap ? *cap * 2 : 8;
  if (ncap > limit)
    ncap = limit;
  void *a = realloc(*arr, (size_t)ncap * elem);
  if (!a)
    return fail(p, "out of memory");
  memset((char *)a + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
  *arr = a;
  *cap = ncap;
  return true;
}

/* INT := '-'? DIGIT+ within [lo, hi]. */
static bool parse_int(Parser *p, const char *s, int64_t lo, int64_t hi, const char *what,
                      int64_t *out) {
  const char *c = s;
  bool neg = *c == '-';
  if (neg)
    c++;
  if (*c < '0' || *c > '9')
    return fail(p, "%s '%s' is not an integer", what, s);
  uint64_t v = 0;
  for (; *c >= '0' && *c <= '9'; c++) {
    if (v > (UINT64_MAX - 9) / 10)
      return fail(p, "%s '%s' is out of range", what, s);
    v = v * 10 + (uint64_t)(*c - '0');
  }
  if (*c)
    return fail(p, "%s '%s' is not an integer", what, s);
  if (v > (uint64_t)INT64_MAX + neg)
    return fail(p, "%s '%s' is out of range", what, s);
  int64_t x = neg ? (int64_t)(0 - v) : (int64_t)v;
  if (x < lo || x > hi)
    return fail(p, "%s %s is out of range [%lld, %lld]", what, s, (long long)lo, (long long)hi);
  *out = x;
  return true;
}

static bool parse_real(Parser *p, const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || (errno == ERANGE && v != 0))
    return fail(p, "'%s' is not a real number", s);
  *out = v;
  return true;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* A percent-decoded copy of a NAME field (malloc'd); empty names and %00 are refused. A string
 * attribute value may be empty: a field of a lone '%' stands for "" (a field cannot be empty). */
static char *parse_name(Parser *p, const char *s, const char *what) {
  if (!strcmp(s, "%") && strstr(what, "string")) {
    char *d = calloc(1, 1);
    if (!d)
      fail(p, "out of memory");
    return d;
  }
  size_t n = strlen(s);
  char *d = malloc(n + 1), *o = d;
  if (!d) {
    fail(p, "out of memory");
    return NULL;
  }
  for (const char *c = s; *c; c++) {
    if (*c != '%') {
      *o++ = *c;
      continue;
    }
    int hi = hexval(c[1]), lo = hi < 0 ? -1 : hexval(c[2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      free(d);
      fail(p, "%s '%s' has a bad percent escape", what, s);
      return NULL;
    }
    *o++ = (char)(hi * 16 + lo);
    c += 2;
  }
  *o = 0;
  if (o == d) {
    free(d);
    fail(p, "%s is empty", what);
    return NULL;
  }
  return d;
}

static bool want_fields(Parser *p, int n) {
  if (p->nf != n)
    return fail(p, "'%s' takes %d fields, not %d", p->f[0], n - 1, p->nf - 1);
  return true;
}

static bool tensor_id(Parser *p, const char *s, int *out) {
  int64_t v;
  if (!parse_int(p, s, 0, INT32_MAX, "tensor id", &v))
    return false;
  if (v >= p->plan->ntensors)
    return fail(p, "tensor %lld is not defined (yet)", (long long)v);
  *out = (int)v;
  return true;
}

/* Recomputes contiguity, item bytes and extent of t, and checks it lies inside its pool. */
static bool check_extent(Parser *p, int id, RtPlanTensor *t) {
  uint64_t esize = rt_elem_size((RtElem)t->dtype), last = 0, numel = 1, expect = 1;
  bool empty = false;
  t->contiguous = true;
  for (int i = t->rank - 1; i >= 0; i--) {
    uint64_t d = (uint64_t)t->dims[i], s = (uint64_t)t->strides[i], a;
    if (d == 0)
      empty = true;
    else if (__builtin_mul_overflow(d - 1, s, &a) || __builtin_add_overflow(last, a, &last))
      return fail(p, "tensor %d is too large", id);
    if (d != 1 && s != expect)
      t->contiguous = false;
    if (__builtin_mul_overflow(expect, d, &expect) || __builtin_mul_overflow(numel, d, &numel))
      return fail(p, "tensor %d is too large", id);
  }
  uint64_t bytes;
  if (__builtin_mul_overflow(empty ? 0 : last + 1, esize, &bytes))
    return fail(p, "tensor %d is too large", id);
  t->extent = bytes;
  t->item_bytes = numel * esize;
  if (t->batched)
    t->item_bytes /= (uint64_t)t->dims[0];
  uint64_t pool = t->pool == RT_POOL_ACT ? p->plan->act_bytes : p->plan->weights_bytes, end;
  if (__builtin_add_overflow(t->offset, bytes, &end) || end > pool)
    return fail(p, "tensor %d (bytes %llu..%llu at max batch) overflows the %s pool of %llu bytes",
                id, (unsigned long long)t->offset, (unsigned long long)t->offset + bytes,
                t->pool == RT_POOL_ACT ? "act" : "weights", (unsigned long long)pool);
  return true;
}

/* tensor ID POOL OFFSET DTYPE BATCHED RANK DIM* */
static bool rec_tensor(Parser *p) {
  RtPlan *pl = p->plan;
  if (!p->have_max_batch || !p->have_act || !p->have_weights)
    return fail(p, "tensor before max-batch and both pools");
  if (p->nf < 7)
    return fail(p, "'tensor' takes at least 6 fields, not %d", p->nf - 1);
  int64_t id, off, batched, rank;
  if (!parse_int(p, p->f[1], 0, INT32_MAX, "tensor id", &id))
    return false;
  if (id != pl->ntensors)
    return fail(p, "tensor id %lld out of order (expected %d)", (long long)id, pl->ntensors);
  RtPlanTensor t = {0};
  if (!strcmp(p->f[2], "act"))
    t.pool = RT_POOL_ACT;
  else if (!strcmp(p->f[2], "weights"))
    t.pool = RT_POOL_WEIGHTS;
  else
    return fail(p, "unknown pool '%s' (act or weights)", p->f[2]);
  if (!parse_int(p, p->f[3], 0, INT64_MAX, "offset", &off))
    return false;
  t.offset = (uint64_t)off;
  t.dtype = RT_ELEM_UNKNOWN;
  for (int e = RT_ELEM_UNKNOWN + 1; e < RT_ELEM_COUNT; e++)
    if (!strcmp(p->f[4], rt_elem_name((RtElem)e)))
      t.dtype = e;
  if (t.dtype == RT_ELEM_UNKNOWN)
    return fail(p, "unknown dtype '%s'", p->f[4]);
  if (off % (int64_t)rt_elem_size((RtElem)t.dtype))
    return fail(p, "offset %lld of tensor %lld is not a multiple of its element size %zu",
                (long long)off, (long long)id, rt_elem_size((RtElem)t.dtype));
  if (!parse_int(p, p->f[5], 0, 1, "batched flag", &batched) ||
      !parse_int(p, p->f[6], 0, RT_MAX_RANK, "rank", &rank))
    return false;
  t.batched = batched;
  t.rank = (int)rank;
  if (t.batched && t.pool == RT_POOL_WEIGHTS)
    return fail(p, "a weights tensor cannot be batched");
  if (p->nf != 7 + rank)
    return fail(p, "tensor of rank %lld needs %lld dims, found %d", (long long)rank,
                (long long)rank, p->nf - 7);
  if (t.batched && rank == 0)
    return fail(p, "a batched tensor needs rank >= 1");
  for (int i = 0; i < t.rank; i++) {
    const char *d = p->f[7 + i];
    if (!strcmp(d, "N")) {
      if (i != 0 || !t.batched)
        return fail(p, "'N' is only allowed as the first dim of a batched tensor");
      t.dims[i] = pl->max_batch;
    } else {
      if (i == 0 && t.batched)
        return fail(p, "the first dim of a batched tensor must be 'N', not '%s'", d);
      if (!parse_int(p, d, 0, INT32_MAX, "dim", &t.dims[i]))
        return false;
    }
  }
  int64_t s = 1;
  for (int i = t.rank - 1; i >= 0; i--) {
    t.strides[i] = s;
    if (t.dims[i] > 0 && __builtin_mul_overflow(s, t.dims[i], &s))
      return fail(p, "tensor %lld is too large", (long long)id);
  }
  if (!check_extent(p, (int)id, &t))
    return false;
  if (!grow(p, (void **)&pl->tensors, &p->cap_tensors, pl->ntensors, sizeof t, MAX_TENSORS))
    return false;
  pl->tensors[pl->ntensors++] = t;
  p->strides_ok = (int)id;
  return true;
}

/* strides ID STRIDE* : right after its tensor. */
static bool rec_strides(Parser *p) {
  int id = 0;
  if (p->nf < 2 || !tensor_id(p, p->f[1], &id))
    return p->nf < 2 ? fail(p, "'strides' needs a tensor id") : false;
  if (id != p->strides_ok)
    return fail(p, "strides for tensor %d must follow its tensor record", id);
  RtPlanTensor t = p->plan->tensors[id];
  if (p->nf != 2 + t.rank)
    return fail(p, "tensor %d has rank %d: %d strides given", id, t.rank, p->nf - 2);
  for (int i = 0; i < t.rank; i++)
    if (!parse_int(p, p->f[2 + i], 0, INT64_MAX, "stride", &t.strides[i]))
      return false;
  if (!check_extent(p, id, &t))
    return false;
  p->plan->tensors[id] = t;
  p->strides_ok = -1;
  return true;
}

/* input|output NAME ID */
static bool rec_binding(Parser *p, bool input) {
  RtPlan *pl = p->plan;
  RtBinding **arr = input ? &pl->inputs : &pl->outputs;
  int *n = input ? &pl->ninputs : &pl->noutputs, *cap = input ? &p->cap_inputs : &p->cap_outputs;
  int id = 0;
  if (!want_fields(p, 3) || !tensor_id(p, p->f[2], &id))
    return false;
  const RtPlanTensor *t = &pl->tensors[id];
  if (t->pool != RT_POOL_ACT || !t->contiguous)
    return fail(p, "%s tensor %d must be contiguous in the act pool", p->f[0], id);
  for (int i = 0; i < *n; i++)
    if (!strcmp(p->f[1], (*arr)[i].name)) /* raw field equality suffices: same encoding */
      return fail(p, "duplicate %s '%s'", p->f[0], (*arr)[i].name);
  if (!grow(p, (void **)arr, cap, *n, sizeof **arr, MAX_TENSORS))
    return false;
  char *name = parse_name(p, p->f[1], input ? "input name" : "output name");
  if (!name)
    return false;
  for (int i = 0; i < *n; i++)
    if (!strcmp(name, (*arr)[i].name)) {
      free(name);
      return fail(p, "duplicate %s '%s'", p->f[0], (*arr)[i].name);
    }
  (*arr)[*n] = (RtBinding){name, id};
  (*n)++;
  return true;
}

static bool is_ident(const char *s) {
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_'))
      return false;
  return true;
}

static RtStep *new_step(Parser *p) {
  RtPlan *pl = p->plan;
  if (!grow(p, (void **)&pl->steps, &p->cap_steps, pl->nsteps, sizeof(RtStep), MAX_STEPS))
    return NULL;
  RtStep *s = &pl->steps[pl->nsteps++];
  memset(s, 0, sizeof *s);
  s->line = p->line;
  s->batch_dim = -1;
  return s;
}

/* kernel IDENT WORK_DIM GLOBAL[WORK_DIM] LOCAL[WORK_DIM] BATCH_DIM */
static bool rec_kernel(Parser *p) {
  int64_t wd, v;
  if (p->nf < 3)
    return fail(p, "'kernel' needs a name and a work_dim");
  if (!is_ident(p->f[1]))
    return fail(p, "kernel name '%s' is not an OpenCL C identifier", p->f[1]);
  if (!parse_int(p, p->f[2], 1, 3, "work_dim", &wd) || !want_fields(p, 4 + 2 * (int)wd))
    return false;
  RtStep s = {.kind = RT_STEP_KERNEL, .work_dim = (int)wd, .line = p->line};
  bool any_local = false, all_local = true;
  for (int i = 0; i < wd; i++) {
    if (!parse_int(p, p->f[3 + i], 1, MAX_GLOBAL, "global size", &v))
      return false;
    s.global[i] = (size_t)v;
    if (!parse_int(p, p->f[3 + wd + i], 0, MAX_LOCAL, "local size", &v))
      return false;
    s.local[i] = (size_t)v;
    any_local |= v != 0;
    all_local &= v != 0;
  }
  if (any_local && !all_local)
    return fail(p, "local sizes must be all 0 (runtime's choice) or all positive");
  if (!parse_int(p, p->f[3 + 2 * wd], -1, wd - 1, "batch_dim", &v))
    return false;
  s.batch_dim = (int)v;
  if (s.batch_dim >= 0 && s.global[s.batch_dim] * (uint64_t)p->plan->max_batch > (1ull << 40))
    return fail(p, "global size %zu times max batch %d is too large", s.global[s.batch_dim],
                p->plan->max_batch);
  if (!(s.name = strdup(p->f[1])))
    return fail(p, "out of memory");
  RtStep *d = new_step(p);
  if (!d) {
    free(s.name);
    return false;
  }
  *d = s;
  return true;
}

/* host OP NIN NOUT ID[NIN+NOUT] attrs NATTRS */
static bool rec_host(Parser *p) {
  RtPlan *pl = p->plan;
  int64_t nin, nout, nattrs;
  if (p->nf < 4)
    return fail(p, "'host' needs an op and operand counts");
  int op = OP_INVALID;
  for (int k = 0; k < OP_COUNT; k++)
    if (op_table[k].name && !strcmp(op_table[k].name, p->f[1]))
      op = k;
  if (op == OP_INVALID)
    return fail(p, "unknown op '%s'", p->f[1]);
  if (!rt_ref_kernels[op])
    return fail(p, "op '%s' cannot run as a host step (no reference kernel)", p->f[1]);
  if (!parse_int(p, p->f[2], 0, MAX_OPERANDS, "input count", &nin) ||
      !parse_int(p, p->f[3], 1, MAX_OPERANDS, "output count", &nout))
    return false;
  if (nin < op_table[op].min_in || (op_table[op].max_in >= 0 && nin > op_table[op].max_in) ||
      nout < op_table[op].min_out || (op_table[op].max_out >= 0 && nout > op_table[op].max_out))
    return fail(p, "op '%s' does not take %lld inputs and %lld outputs", p->f[1],
                (long long)nin, (long long)nout);
  if (!want_fields(p, 6 + (int)(nin + nout)))
    return false;
  if (strcmp(p->f[4 + nin + nout], "attrs"))
    return fail(p, "expected 'attrs' after the tensor ids, found '%s'", p->f[4 + nin + nout]);
  if (!parse_int(p, p->f[5 + nin + nout], 0, MAX_ATTRS, "attribute count", &nattrs))
    return false;
  int ids[2 * MAX_OPERANDS];
  for (int i = 0; i < nin + nout; i++) {
    if (!tensor_id(p, p->f[4 + i], &ids[i]))
      return false;
    const RtPlanTensor *t = &pl->tensors[ids[i]];
    if (!t->contiguous)
      return fail(p, "host step tensor %d is not contiguous", ids[i]);
    if (i >= nin && t->pool != RT_POOL_ACT)
      return fail(p, "host step output tensor %d is not in the act pool", ids[i]);
  }
  RtStep *s = new_step(p);
  if (!s)
    return false;
  s->kind = RT_STEP_HOST;
  s->op = op;
  s->ninputs = (int)nin;
  s->noutputs = (int)nout;
  s->name = strdup(p->f[1]);
  s->tensors = malloc(sizeof(int) * (size_t)(nin + nout));
  s->attrs = calloc((size_t)nattrs + 1, sizeof(RtAttr));
  if (!s->name || !s->tensors || !s->attrs)
    return fail(p, "out of memory");
  memcpy(s->tensors, ids, sizeof(int) * (size_t)(nin + nout));
  p->attrs_left = (int)nattrs;
  p->host_line = p->line;
  return true;
}

static int attr_cmp(const void *a, const void *b) {
  return strcmp(((const RtAttr *)a)->name, ((const RtAttr *)b)->name);
}

/* attr NAME KIND VALUES: fills the next attribute of the last host step. */
static bool rec_attr(Parser *p) {
  if (p->attrs_left == 0)
    return fail(p, "'attr' without a host step expecting attributes");
  if (p->nf < 4)
    return fail(p, "'attr' needs a name, a kind and a value");
  RtStep *s = &p->plan->steps[p->plan->nsteps - 1];
  RtAttr *a = &s->attrs[s->nattrs];
  const char *kind = p->f[2];
  int64_t n = 1;
  bool list = !strcmp(kind, "ints") || !strcmp(kind, "floats") || !strcmp(kind, "strings");
  if (list && !parse_int(p, p->f[3], 0, p->nf, "list length", &n))
    return false;
  if (!want_fields(p, list ? 4 + (int)n : 4))
    return false;
  char **v = p->f + (list ? 4 : 3);
  if (!(a->name = parse_name(p, p->f[1], "attribute name")))
    return false;
  s->nattrs++; /* owned by the step from here: rt_plan_free releases what is set */
  a->kind = RT_ATTR_INT;
  a->n = (int)n;
  if (!strcmp(kind, "int")) {
    if (!parse_int(p, v[0], INT64_MIN, INT64_MAX, "int attribute", &a->i))
      return false;
  } else if (!strcmp(kind, "float")) {
    a->kind = RT_ATTR_FLOAT;
    if (!parse_real(p, v[0], &a->f))
      return false;
  } else if (!strcmp(kind, "string")) {
    a->kind = RT_ATTR_STRING;
    if (!(a->s = parse_name(p, v[0], "string attribute")))
      return false;
  } else if (!strcmp(kind, "ints")) {
    a->kind = RT_ATTR_INTS;
    int64_t *x = calloc((size_t)n + 1, sizeof *x);
    if (!(a->ints = x))
      return fail(p, "out of memory");
    for (int i = 0; i < n; i++)
      if (!parse_int(p, v[i], INT64_MIN, INT64_MAX, "int attribute", &x[i]))
        return false;
  } else if (!strcmp(kind, "floats")) {
    a->kind = RT_ATTR_FLOATS;
    double *x = calloc((size_t)n + 1, sizeof *x);
    if (!(a->floats = x))
      return fail(p, "out of memory");
    for (int i = 0; i < n; i++)
      if (!parse_real(p, v[i], &x[i]))
        return false;
  } else if (!strcmp(kind, "strings")) {
    a->kind = RT_ATTR_STRINGS;
    char **x = calloc((size_t)n + 1, sizeof *x);
    if (!(a->strings = (const char *const *)x))
      return fail(p, "out of memory");
    for (int i = 0; i < n; i++)
      if (!(x[i] = parse_name(p, v[i], "string attribute")))
        return false;
  } else {
    a->kind = RT_ATTR_INT;
    return fail(p, "unknown attribute kind '%s' (int float string ints floats strings)", kind);
  }
  for (int i = 0; i < s->nattrs - 1; i++)
    if (!strcmp(s->attrs[i].name, a->name))
      return fail(p, "duplicate attribute '%s'", a->name);
  if (--p->attrs_left == 0)
    qsort(s->attrs, (size_t)s->nattrs, sizeof *s->attrs, attr_cmp);
  return true;
}

static bool rec_pool(Parser *p) {
  int64_t v;
  if (!want_fields(p, 3))
    return false;
  bool act = !strcmp(p->f[1], "act");
  if (!act && strcmp(p->f[1], "weights"))
    return fail(p, "unknown pool '%s' (act or weights)", p->f[1]);
  bool *have = act ? &p->have_act : &p->have_weights;
  if (*have)
    return fail(p, "pool %s declared twice", p->f[1]);
  if (!parse_int(p, p->f[2], 0, INT64_MAX, "pool size", &v))
    return false;
  *(act ? &p->plan->act_bytes : &p->plan->weights_bytes) = (uint64_t)v;
  *have = true;
  return true;
}

static bool record(Parser *p) {
  const char *r = p->f[0];
  if (p->attrs_left && strcmp(r, "attr"))
    return fail(p, "host step on line %d expects %d more 'attr' records", p->host_line,
                p->attrs_left);
  if (strcmp(r, "strides"))
    p->strides_ok = strcmp(r, "tensor") ? -1 : p->strides_ok;
  if (!strcmp(r, "tensor"))
    return rec_tensor(p);
  if (!strcmp(r, "strides"))
    return rec_strides(p);
  if (!strcmp(r, "input") || !strcmp(r, "output"))
    return rec_binding(p, r[0] == 'i');
  if (!strcmp(r, "kernel"))
    return rec_kernel(p);
  if (!strcmp(r, "host"))
    return rec_host(p);
  if (!strcmp(r, "attr"))
    return rec_attr(p);
  if (!strcmp(r, "pool"))
    return rec_pool(p);
  if (!strcmp(r, "max-batch")) {
    int64_t v;
    if (p->have_max_batch)
      return fail(p, "max-batch declared twice");
    if (!want_fields(p, 2) || !parse_int(p, p->f[1], 1, MAX_BATCH_LIMIT, "max-batch", &v))
      return false;
    p->plan->max_batch = (int)v;
    p->have_max_batch = true;
    return true;
  }
  if (!strcmp(r, "kiln-plan"))
    return fail(p, "'kiln-plan' header repeated");
  return fail(p, "unknown record '%s'", r);
}

/* Splits line (modified in place) into p->f; false on NUL bytes. */
static bool split(Parser *p, char *line, size_t n) {
  if (memchr(line, 0, n))
    return fail(p, "NUL byte");
  p->nf = 0;
  char *c = line;
  while (*c) {
    while (*c == ' ' || *c == '\t' || *c == '\r')
      *c++ = 0;
    if (!*c || *c == '#')
      break;
    p->f[p->nf++] = c;
    while (*c && *c != ' ' && *c != '\t' && *c != '\r')
      c++;
  }
  return true;
}

bool rt_plan_parse(const char *text, size_t len, RtPlan *plan, char *err, size_t errlen) {
  memset(plan, 0, sizeof *plan);
  Parser p = {.plan = plan, .err = err, .errlen = errlen, .strides_ok = -1};
  bool ok = true, header = false;
  char *buf = NULL;
  size_t pos = 0;
  if (errlen)
    err[0] = 0;
  while (ok && pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
    p.line++;
    free(buf);
    free(p.f);
    buf = malloc(n + 1);
    p.f = malloc(sizeof(char *) * (n / 2 + 2)); /* at most (n+1)/2 fields */
    if (!buf || !p.f) {
      ok = fail(&p, "out of memory");
      break;
    }
    memcpy(buf, text + pos, n);
    buf[n] = 0;
    pos += n + 1;
    if (!(ok = split(&p, buf, n)) || p.nf == 0)
      continue;
    if (!header) {
      int64_t v;
      if (strcmp(p.f[0], "kiln-plan") || p.nf != 2)
        ok = fail(&p, "not an engine plan (expected 'kiln-plan 1')");
      else if ((ok = parse_int(&p, p.f[1], 0, INT32_MAX, "plan version", &v)) && v != 1)
        ok = fail(&p, "plan version %lld is not supported (this runtime reads 1)", (long long)v);
      header = true;
      continue;
    }
    ok = record(&p);
  }
  free(buf);
  free(p.f);
  p.f = NULL;
  if (ok) {
    p.line++;
    if (!header)
      ok = fail(&p, "empty plan (expected 'kiln-plan 1')");
    else if (p.attrs_left)
      ok = fail(&p, "end of plan: host step on line %d expects %d more 'attr' records",
                p.host_line, p.attrs_left);
    else if (!p.have_max_batch || !p.have_act || !p.have_weights)
      ok = fail(&p, "end of plan: max-batch, pool act and pool weights are required");
    else if (plan->noutputs == 0)
      ok = fail(&p, "end of plan: no output");
  }
  if (!ok)
    rt_plan_free(plan);
  return ok;
}

void rt_plan_free(RtPlan *plan) {
  for (int i = 0; i < plan->ninputs; i++)
    free(plan->inputs[i].name);
  for (int i = 0; i < plan->noutputs; i++)
    free(plan->outputs[i].name);
  for (int i = 0; i < plan->nsteps; i++) {
    RtStep *s = &plan->steps[i];
    for (int j = 0; j < s->nattrs; j++) {
      RtAttr *a = &s->attrs[j];
      free((void *)a->name);
      if (a->kind == RT_ATTR_STRING)
        free((void *)a->s);
      else if (a->kind == RT_ATTR_INTS)
        free((void *)a->ints);
      else if (a->kind == RT_ATTR_FLOATS)
        free((void *)a->floats);
      else if (a->kind == RT_ATTR_STRINGS && a->strings) {
        for (int k = 0; k < a->n; k++)
          free((void *)a->strings[k]);
        free((void *)a->strings);
      }
    }
    free(s->attrs);
    free(s->tensors);
    free(s->name);
  }
  free(plan->steps);
  free(plan->inputs);
  free(plan->outputs);
  free(plan->tensors);
  memset(plan, 0, sizeof *plan);
}
