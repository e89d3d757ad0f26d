/* shape.c - graph input types and --shape overrides.
 *
 * A graph input's dims come from its ValueInfo: a leading dynamic dimension (dim_param or no
 * dim_value) becomes the batch N; an override (--shape NAME=DIMS) replaces the whole shape, of
 * the same rank, and must agree with every static dimension; any other dynamic dimension is an
 * error naming the input and the flag. */
#include <stdio.h>
#include <string.h>

#include "frontend/onnx/fe_onnx.h"

bool fe_parse_shape_override(const char *text, FeShapeOverride *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  const char *eq = strrchr(text, '=');
  if (!eq || eq == text) {
    snprintf(err, errlen, "--shape '%s': expected NAME=DIMS, e.g. x=1x3x640x640", text);
    return false;
  }
  const char *p = eq + 1;
  if (*p)
    for (;;) {
      if (out->rank == IR_MAX_RANK) {
        snprintf(err, errlen, "--shape '%s': more than %d dimensions", text, IR_MAX_RANK);
        return false;
      }
      int64_t v = 0;
      if (*p == 'N' && out->rank == 0) {
        v = IR_DIM_N;
        p++;
      } else {
        if (*p < '0' || *p > '9') {
          snprintf(err, errlen, "--shape '%s': dimension %d is not a non-negative integer "
                   "(dimensions are separated by 'x', e.g. x=1x3x640x640)", text, out->rank);
          return false;
        }
        for (; *p >= '0' && *p <= '9'; p++) {
          if (v > (INT32_MAX - 9) / 10) {
            snprintf(err, errlen, "--shape '%s': dimension %d is too large", text, out->rank);
            return false;
          }
          v = v * 10 + (*p - '0');
        }
      }
      out->dims[out->rank++] = v;
      if (!*p)
        break;
      if (*p != 'x') {
        snprintf(err, errlen, "--shape '%s': unexpected '%c' after dimension %d (dimensions are "
                 "separated by 'x', e.g. x=1x3x640x640)", text, *p, out->rank - 1);
        return false;
      }
      p++;
    }
  out->name = strndup(text, (size_t)(eq - text));
  if (!out->name) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  return true;
}

static bool override_names(const FeShapeOverride *o, const char *name) {
  return o->name && strcmp(o->name, name) == 0;
}

static const FeShapeOverride *find_override(const FeCtx *c, const char *name) {
  for (int i = 0; c->opt && i < c->opt->nshapes; i++)
    if (override_names(&c->opt->shapes[i], name))
      return &c->opt->shapes[i];
  return NULL;
}

static void dims_text(char *buf, size_t n, const int64_t *dims, int rank) {
  size_t at = 0;
  buf[0] = 0;
  for (int i = 0; i < rank && at < n; i++)
    at += (size_t)snprintf(buf + at, n - at, i ? "x%lld" : "%lld", (long long)dims[i]);
}

bool fe_input_type(FeCtx *c, const Onnx__ValueInfoProto *vi, Type *out) {
  const char *name = fe_str(vi->name);
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    return fe_fail(c, "only tensor inputs are supported");
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  DType dt;
  if (!fe_dtype_from_onnx(tt->elem_type, &dt))
    return fe_fail(c, "element type %s is not supported", fe_onnx_type_name(tt->elem_type));
  const FeShapeOverride *o = find_override(c, name);
  if (!tt->shape) {
    if (!o)
      return fe_fail(c, "the input has no shape: give one with --shape %s=DIMS", name);
    *out = ir_type_make(dt, o->rank, o->dims);
    return true;
  }
  size_t rank = tt->shape->n_dim;
  if (rank > IR_MAX_RANK)
    return fe_fail(c, "rank %zu is more than the %d kiln supports", rank, IR_MAX_RANK);
  if (o && o->rank != (int)rank) {
    char got[256];
    dims_text(got, sizeof got, o->dims, o->rank);
    return fe_fail(c, "--shape %s=%s has rank %d, the input has rank %zu", name, got, o->rank,
                   rank);
  }
  int64_t dims[IR_MAX_RANK];
  for (size_t i = 0; i < rank; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    bool known = d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    if (known && d->dim_value < 0)
      return fe_fail(c, "dimension %zu is negative (%lld)", i, (long long)d->dim_value);
    if (known && d->dim_value > INT32_MAX)
      return fe_fail(c, "dimension %zu (%lld) is too large", i, (long long)d->dim_value);
    if (o) {
      if (known && o->dims[i] != d->dim_value) {
        char got[256];
        dims_text(got, sizeof got, o->dims, o->rank);
        return fe_fail(c, "--shape %s=%s sets dimension %zu to %lld, the model fixes it at %lld",
                       name, got, i, (long long)o->dims[i], (long long)d->dim_value);
      }
      dims[i] = o->dims[i];
    } else if (known) {
      dims[i] = d->dim_value;
    } else if (i == 0) {
      dims[i] = IR_DIM_N;
    } else {
      const char *param = d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                              ? fe_str(d->dim_param) : "";
      return fe_fail(c, "dimension %zu%s%s%s is dynamic: fix it with --shape %s=DIMS (e.g. "
                        "1x3x640x640)", i, *param ? " ('" : "", param, *param ? "')" : "", name);
    }
  }
  *out = ir_type_make(dt, (int)rank, dims);
  return true;
}

bool fe_check_overrides(FeCtx *c, const Onnx__GraphProto *g) {
  for (int i = 0; c->opt && i < c->opt->nshapes; i++) {
    const FeShapeOverride *o = &c->opt->shapes[i];
    bool found = false;
    for (size_t j = 0; j < g->n_input && !found; j++)
      found = override_names(o, fe_str(g->input[j]->name));
    if (found) /* an input that is also an initializer is a weight, not an input */
      for (size_t j = 0; j < g->n_initializer && found; j++)
        found = !override_names(o, fe_str(g->initializer[j]->name));
    if (!found) {
      fe_set_where(c, "%s", "");
      return fe_fail(c, "--shape %s: the model has no input named '%s'", fe_str(o->name),
                     fe_str(o->name));
    }
  }
  return true;
}
