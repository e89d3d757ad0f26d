/* model.c - ONNX tensors: elem types, TensorProto decoding (typed fields, raw_data, external data
 * beside the model), and reading a serialized TensorProto file.
 *
 * Every size is checked before anything is read or allocated: a dimension is never negative, the
 * element count never overflows, and the data present (typed values, raw bytes, the external
 * file's extent) must hold exactly the elements the dims promise. Allocations are therefore
 * bounded by the bytes of the input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/onnx/fe_onnx.h"

#define FE_MAX_BYTES ((uint64_t)1 << 40) /* a tensor larger than this is refused outright */

static const struct {
  int32_t onnx;
  const char *name;
  DType dt; /* DT_UNKNOWN: kiln has none */
} elem_types[] = {
    {ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED, "UNDEFINED", DT_UNKNOWN},
    {ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "FLOAT", DT_F32},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, "UINT8", DT_U8},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT8, "INT8", DT_I8},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT16, "UINT16", DT_U16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT16, "INT16", DT_I16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT32, "INT32", DT_I32},
    {ONNX__TENSOR_PROTO__DATA_TYPE__INT64, "INT64", DT_I64},
    {ONNX__TENSOR_PROTO__DATA_TYPE__STRING, "STRING", DT_UNKNOWN},
    {ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, "BOOL", DT_BOOL},
    {ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, "FLOAT16", DT_F16},
    {ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE, "DOUBLE", DT_F64},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT32, "UINT32", DT_U32},
    {ONNX__TENSOR_PROTO__DATA_TYPE__UINT64, "UINT64", DT_U64},
    {ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX64, "COMPLEX64", DT_UNKNOWN},
    {ONNX__TENSOR_PROTO__DATA_TYPE__COMPLEX128, "COMPLEX128", DT_UNKNOWN},
    {ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16, "BFLOAT16", DT_BF16},
};

/* The ONNX element type of dt; 0 (UNDEFINED) when ONNX has none. */
static int32_t onnx_from_dtype(DType dt) {
  for (size_t i = 0; i < sizeof elem_types / sizeof elem_types[0]; i++)
    if (elem_types[i].dt == dt)
      return elem_types[i].onnx;
  return 0;
}

bool fe_onnx_write_tensor_file(const char *path, const char *name, const Type *t, const void *data,
                               char *err, size_t errlen) {
  int32_t et = onnx_from_dtype(t->dtype);
  int64_t numel = ir_type_numel(t);
  if (!et || numel < 0) {
    snprintf(err, errlen, "type %s has no ONNX TensorProto form", ir_type_str(t));
    return false;
  }
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[IR_MAX_RANK];
  for (int i = 0; i < t->rank; i++)
    dims[i] = t->dims[i];
  tp.n_dims = (size_t)t->rank;
  tp.dims = dims;
  tp.has_data_type = 1;
  tp.data_type = et;
  tp.name = (char *)name;
  tp.has_raw_data = 1;
  tp.raw_data.len = (size_t)numel * ir_dtype_size(t->dtype);
  tp.raw_data.data = (uint8_t *)data;
  size_t n = onnx__tensor_proto__get_packed_size(&tp);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf)
    abort();
  onnx__tensor_proto__pack(&tp, buf);
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(buf, 1, n, f) == n;
  ok = (f && fclose(f) == 0) && ok;
  free(buf);
  if (!ok)
    snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
  return ok;
}

bool fe_dtype_from_onnx(int32_t et, DType *out) {
  for (size_t i = 0; i < sizeof elem_types / sizeof elem_types[0]; i++)
    if (elem_types[i].onnx == et) {
      *out = elem_types[i].dt;
      return *out != DT_UNKNOWN;
    }
  return false;
}

const char *fe_onnx_type_name(int32_t et) {
  static char buf[32];
  for (size_t i = 0; i < sizeof elem_types / sizeof elem_types[0]; i++)
    if (elem_types[i].onnx == et)
      return elem_types[i].name;
  snprintf(buf, sizeof buf, "%d", (int)et);
  return buf;
}

void fe_const_free(FeConst *k) {
  free(k->owned);
  k->owned = NULL;
  k->data = NULL;
}

static const unsigned char empty_bytes[1];

/* Parses a non-negative decimal integer that fills the whole string. */
static bool parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s)
    return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
      return false;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return true;
}

/* A location must stay inside the model's directory: relative, with no '..' component. */
static bool location_ok(const char *loc) {
  if (!*loc || loc[0] == '/')
    return false;
  for (const char *p = loc; *p;) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return false;
    p += n;
    if (*p == '/')
      p++;
  }
  return true;
}

static bool read_external(FeCtx *c, const Onnx__TensorProto *t, uint64_t nbytes, FeConst *out) {
  const char *loc = NULL;
  uint64_t offset = 0, length = 0;
  bool has_length = false;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const char *key = fe_str(t->external_data[i]->key), *val = fe_str(t->external_data[i]->value);
    if (!strcmp(key, "location"))
      loc = val;
    else if (!strcmp(key, "offset") && !parse_u64(val, &offset))
      return fe_fail(c, "external data offset '%s' is not a non-negative integer", val);
    else if (!strcmp(key, "length")) {
      if (!parse_u64(val, &length))
        return fe_fail(c, "external data length '%s' is not a non-negative integer", val);
      has_length = true;
    }
  }
  if (!loc)
    return fe_fail(c, "external data without a location");
  if (!location_ok(loc))
    return fe_fail(c, "external data location '%s' must be a relative path inside the model's "
                      "directory", loc);
  if (!c->base_dir)
    return fe_fail(c, "external data '%s' cannot be read: the model was given as bytes", loc);
  size_t plen = strlen(c->base_dir) + strlen(loc) + 2;
  char *path = malloc(plen);
  if (!path)
    return fe_fail(c, "out of memory");
  snprintf(path, plen, "%s/%s", c->base_dir, loc);
  FILE *f = fopen(path, "rb");
  free(path);
  if (!f)
    return fe_fail(c, "external data '%s': cannot open: %s", loc, strerror(errno));
  struct stat st;
  bool ok = false;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fe_fail(c, "external data '%s': not a regular file", loc);
  } else if (offset > (uint64_t)st.st_size) {
    fe_fail(c, "external data '%s': offset %llu is past the end of the file (%llu bytes)", loc,
            (unsigned long long)offset, (unsigned long long)st.st_size);
  } else {
    uint64_t avail = (uint64_t)st.st_size - offset;
    if (!has_length)
      length = nbytes;
    if (length > avail)
      fe_fail(c, "external data '%s': %llu bytes at offset %llu run past the end of the file "
                 "(%llu bytes)", loc, (unsigned long long)length, (unsigned long long)offset,
              (unsigned long long)st.st_size);
    else if (length != nbytes)
      fe_fail(c, "external data '%s': length %llu, expected %llu bytes", loc,
              (unsigned long long)length, (unsigned long long)nbytes);
    else {
      void *buf = malloc(nbytes ? nbytes : 1);
      if (!buf)
        fe_fail(c, "out of memory");
      else if (fseeko(f, (off_t)offset, SEEK_SET) != 0 ||
               (nbytes && fread(buf, 1, nbytes, f) != nbytes)) {
        free(buf);
        fe_fail(c, "external data '%s': cannot read: %s", loc, strerror(errno));
      } else {
        out->owned = buf;
        out->data = buf;
        ok = true;
      }
    }
  }
  fclose(f);
  return ok;
}

/* Narrows n int32_data values into dst of element size es (bool: 0 or 1). */
static void narrow_i32(const int32_t *src, size_t n, DType dt, void *dst) {
  for (size_t i = 0; i < n; i++) {
    uint32_t v = (uint32_t)src[i];
    switch (ir_dtype_size(dt)) {
    case 1:
      ((uint8_t *)dst)[i] = dt == DT_BOOL ? (v != 0) : (uint8_t)v;
      break;
    case 2:
      ((uint16_t *)dst)[i] = (uint16_t)v;
      break;
    default:
      ((uint32_t *)dst)[i] = v;
      break;
    }
  }
}

static bool typed_data(FeCtx *c, const Onnx__TensorProto *t, DType dt, uint64_t numel,
                       uint64_t nbytes, FeConst *out) {
  const void *src = NULL;
  size_t n = 0;
  const char *field = "";
  switch (dt) {
  case DT_F32:
    src = t->float_data, n = t->n_float_data, field = "float_data";
    break;
  case DT_F64:
    src = t->double_data, n = t->n_double_data, field = "double_data";
    break;
  case DT_I64:
    src = t->int64_data, n = t->n_int64_data, field = "int64_data";
    break;
  case DT_U32:
  case DT_U64:
    src = t->uint64_data, n = t->n_uint64_data, field = "uint64_data";
    break;
  default:
    src = t->int32_data, n = t->n_int32_data, field = "int32_data";
    break;
  }
  if (n != numel)
    return fe_fail(c, "%s holds %zu values, expected %llu", field, n, (unsigned long long)numel);
  if (numel == 0) {
    out->data = empty_bytes;
    return true;
  }
  void *buf = malloc(nbytes);
  if (!buf)
    return fe_fail(c, "out of memory");
  if (dt == DT_U32) {
    for (size_t i = 0; i < n; i++)
      ((uint32_t *)buf)[i] = (uint32_t)t->uint64_data[i];
  } else if (src == (const void *)t->int32_data && dt != DT_I32) {
    narrow_i32(t->int32_data, n, dt, buf);
  } else {
    memcpy(buf, src, nbytes);
  }
  out->owned = buf;
  out->data = buf;
  return true;
}

bool fe_const_from_tensor(FeCtx *c, const Onnx__TensorProto *t, FeConst *out) {
  memset(out, 0, sizeof *out);
  DType dt;
  if (!fe_dtype_from_onnx(t->data_type, &dt))
    return fe_fail(c, "data type %s is not supported", fe_onnx_type_name(t->data_type));
  if (t->n_dims > IR_MAX_RANK)
    return fe_fail(c, "rank %zu is more than the %d kiln supports", t->n_dims, IR_MAX_RANK);
  uint64_t numel = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0)
      return fe_fail(c, "dimension %zu is negative (%lld)", i, (long long)t->dims[i]);
    uint64_t d = (uint64_t)t->dims[i];
    if (d && numel > FE_MAX_BYTES / d)
      return fe_fail(c, "dimension %zu (%lld) makes the tensor too large", i,
                     (long long)t->dims[i]);
    numel *= d;
  }
  uint64_t nbytes = numel * ir_dtype_size(dt);
  if (nbytes > FE_MAX_BYTES)
    return fe_fail(c, "tensor of %llu bytes is too large", (unsigned long long)nbytes);
  if (t->segment)
    return fe_fail(c, "segmented tensors are not supported");
  out->type = ir_type_make(dt, (int)t->n_dims, t->dims);
  out->nbytes = (size_t)nbytes;
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return read_external(c, t, nbytes, out);
  if (t->has_raw_data) {
    if (t->raw_data.len != nbytes)
      return fe_fail(c, "raw_data has %zu bytes, expected %llu (%llu elements of %s)",
                     t->raw_data.len, (unsigned long long)nbytes, (unsigned long long)numel,
                     ir_dtype_name(dt));
    out->data = nbytes ? (const void *)t->raw_data.data : empty_bytes;
    return true;
  }
  return typed_data(c, t, dt, numel, nbytes, out);
}

void *fe_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  Buf b = {0};
  bool ok = ir_buf_read_stream(&b, f);
  int err = errno;
  fclose(f);
  if (!ok) {
    ir_buf_free(&b);
    errno = err;
    return NULL;
  }
  *len = b.len;
  return b.data;
}

char *fe_dir_name(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

bool fe_onnx_read_tensor_file(const char *path, Module *m, Tensor *out, const char **name,
                              Diag *d) {
  size_t len = 0;
  void *bytes = fe_read_file(path, &len);
  if (!bytes) {
    ir_error(d, (Loc){0}, "cannot read '%s': %s", path, strerror(errno));
    return false;
  }
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, bytes);
  if (!t) {
    free(bytes);
    ir_error(d, (Loc){0}, "not a serialized ONNX TensorProto: protobuf-c unpack failed");
    return false;
  }
  char *dir = fe_dir_name(path);
  FeCtx c = {.m = m, .d = d, .base_dir = dir};
  fe_set_where(&c, "tensor '%s'", fe_str(t->name));
  FeConst k;
  bool ok = fe_const_from_tensor(&c, t, &k);
  if (ok) {
    out->type = k.type;
    out->nbytes = k.nbytes;
    out->data = ir_arena_alloc(m->arena, k.nbytes ? k.nbytes : 1);
    if (k.nbytes)
      memcpy(out->data, k.data, k.nbytes);
    *name = ir_arena_strdup(m->arena, fe_str(t->name));
    fe_const_free(&k);
  }
  free(dir);
  onnx__tensor_proto__free_unpacked(t, NULL);
  free(bytes);
  return ok;
}
