/* type.c - dtypes, shapes, broadcasting and number formatting. */
#include "type.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *name;
  size_t size;
} dtypes[DT_COUNT] = {
    [DT_UNKNOWN] = {"?", 0}, [DT_F32] = {"f32", 4}, [DT_F16] = {"f16", 2},
    [DT_BF16] = {"bf16", 2}, [DT_F64] = {"f64", 8}, [DT_I8] = {"i8", 1},
    [DT_U8] = {"u8", 1},     [DT_I16] = {"i16", 2}, [DT_U16] = {"u16", 2},
    [DT_I32] = {"i32", 4},   [DT_U32] = {"u32", 4}, [DT_I64] = {"i64", 8},
    [DT_U64] = {"u64", 8},   [DT_BOOL] = {"bool", 1},
};

const char *ir_dtype_name(DType dt) { return dt < DT_COUNT ? dtypes[dt].name : "?"; }

DType ir_dtype_from_name(const char *s) {
  for (int i = 1; i < DT_COUNT; i++)
    if (strcmp(s, dtypes[i].name) == 0)
      return (DType)i;
  return DT_UNKNOWN;
}

size_t ir_dtype_size(DType dt) { return dt < DT_COUNT ? dtypes[dt].size : 0; }

bool ir_dtype_is_float(DType dt) {
  return dt == DT_F32 || dt == DT_F16 || dt == DT_BF16 || dt == DT_F64;
}

bool ir_dtype_is_int(DType dt) { return dt >= DT_I8 && dt <= DT_U64; }

Type ir_type_unknown(void) { return (Type){.dtype = DT_UNKNOWN}; }

Type ir_type_scalar(DType dt) { return (Type){.dtype = dt}; }

Type ir_type_make(DType dt, int rank, const int64_t *dims) {
  if (rank < 0 || rank > IR_MAX_RANK) {
    fprintf(stderr, "kiln: internal error: a type of rank %d (at most %d)\n", rank, IR_MAX_RANK);
    abort();
  }
  Type t = {.dtype = dt, .rank = rank};
  for (int i = 0; i < rank; i++)
    t.dims[i] = dims[i];
  return t;
}

bool ir_type_is_known(const Type *t) { return t->dtype != DT_UNKNOWN; }

bool ir_type_equal(const Type *a, const Type *b) {
  if (a->dtype != b->dtype || a->rank != b->rank || a->quantized != b->quantized)
    return false;
  if (a->quantized && (a->scale != b->scale || a->zero_point != b->zero_point))
    return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i])
      return false;
  return true;
}

bool ir_type_is_batched(const Type *t) { return t->rank > 0 && t->dims[0] == IR_DIM_N; }

int64_t ir_type_numel_per_item(const Type *t) {
  if (!ir_type_is_known(t))
    return -1;
  int64_t n = 1;
  for (int i = ir_type_is_batched(t) ? 1 : 0; i < t->rank; i++)
    n *= t->dims[i];
  return n;
}

int64_t ir_type_numel(const Type *t) {
  if (!ir_type_is_known(t) || ir_type_is_batched(t))
    return -1;
  return ir_type_numel_per_item(t);
}

void ir_type_print(Buf *b, const Type *t) {
  ir_buf_puts(b, ir_dtype_name(t->dtype));
  if (!ir_type_is_known(t))
    return;
  if (t->quantized) {
    ir_buf_puts(b, "<s=");
    ir_format_float(b, t->scale, DT_F32);
    if (t->zero_point)
      ir_buf_printf(b, ",z=%d", (int)t->zero_point);
    ir_buf_putc(b, '>');
  }
  if (t->rank == 0)
    return;
  ir_buf_putc(b, '[');
  for (int i = 0; i < t->rank; i++) {
    if (i)
      ir_buf_putc(b, ',');
    if (t->dims[i] == IR_DIM_N)
      ir_buf_putc(b, 'N');
    else
      ir_buf_printf(b, "%lld", (long long)t->dims[i]);
  }
  ir_buf_putc(b, ']');
}

const char *ir_type_str(const Type *t) {
  static _Thread_local char text[256];
  Buf b = {0};
  ir_type_print(&b, t);
  snprintf(text, sizeof text, "%s", ir_buf_str(&b));
  ir_buf_free(&b);
  return text;
}

bool ir_shape_broadcast(const Type *a, const Type *b, Type *out, char *err, size_t errlen) {
  int rank = a->rank > b->rank ? a->rank : b->rank;
  Type r = {.dtype = a->dtype, .rank = rank};
  for (int i = 0; i < rank; i++) {
    int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da == db || db == 1)
      r.dims[i] = da;
    else if (da == 1)
      r.dims[i] = db;
    else {
      snprintf(err, errlen, "shapes %s and ", ir_type_str(a));
      size_t n = strlen(err);
      snprintf(err + n, errlen - n, "%s do not broadcast", ir_type_str(b));
      return false;
    }
    /* N is only legal in front; a batch dimension that moved inward would be symbolic there. */
    if (r.dims[i] == IR_DIM_N && i != 0) {
      snprintf(err, errlen, "broadcasting %s with ", ir_type_str(a));
      size_t n = strlen(err);
      snprintf(err + n, errlen - n, "%s moves the batch dimension N away from the front",
               ir_type_str(b));
      return false;
    }
  }
  *out = r;
  return true;
}

/* Round-trips v through the storage type. */
static double store_as(double v, DType dt) {
  switch (dt) {
  case DT_F32: return (float)v;
  case DT_F16: return ir_f16_to_f32(ir_f32_to_f16((float)v));
  case DT_BF16: return ir_bf16_to_f32(ir_f32_to_bf16((float)v));
  default: return v;
  }
}

void ir_format_float(Buf *b, double v, DType dt) {
  if (isnan(v)) {
    ir_buf_puts(b, "nan");
    return;
  }
  if (isinf(v)) {
    ir_buf_puts(b, v < 0 ? "-inf" : "inf");
    return;
  }
  char text[64];
  double want = store_as(v, dt);
  int prec = 1;
  for (; prec <= 17; prec++) {
    snprintf(text, sizeof text, "%.*g", prec, want);
    if (store_as(strtod(text, NULL), dt) == want)
      break;
  }
  /* Moderate numbers read better without an exponent: 10.0, not 1e+01. */
  double mag = fabs(want);
  if (strchr(text, 'e') && mag >= 1e-4 && mag < 1e16) {
    char fixed[64];
    int exp10 = (int)floor(log10(mag));
    snprintf(fixed, sizeof fixed, "%.*f", prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, want);
    if (store_as(strtod(fixed, NULL), dt) == want)
      memcpy(text, fixed, sizeof text);
  }
  ir_buf_puts(b, text);
  if (!strpbrk(text, ".e"))
    ir_buf_puts(b, ".0");
}

float ir_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal: normalise */
      int e = -1;
      do {
        e++;
        man <<= 1;
      } while (!(man & 0x400));
      bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
    }
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t ir_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xff, man = x & 0x7fffff;
  if (exp == 0xff)
    return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
  int e = (int)exp - 127 + 15;
  if (e >= 0x1f)
    return (uint16_t)(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10)
      return (uint16_t)sign;
    man |= 0x800000;
    int shift = 14 - e;
    uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
    half++; /* may carry into the exponent, up to infinity: correct */
  return (uint16_t)(sign | half);
}

float ir_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

uint16_t ir_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return (uint16_t)((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}
