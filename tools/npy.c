/* npy.c - the .npy reader (see npy.h).
 *
 * Layout: "\x93NUMPY", major and minor version bytes, the header length (u16 little-endian in
 * 1.0, u32 in 2.0 and 3.0), then the header: a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 4, 4), }
 * padded with spaces and a newline; the array data follows. */
#include "npy.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fail(char *err, size_t errlen, const char *msg, const char *arg) {
  snprintf(err, errlen, msg, arg);
  return false;
}

/* The value text after 'key': in the header (h, n bytes), or NULL. */
static const char *find_key(const char *h, size_t n, const char *key) {
  size_t k = strlen(key);
  for (size_t i = 0; i + k + 2 <= n; i++)
    if ((h[i] == '\'' || h[i] == '"') && !memcmp(h + i + 1, key, k) && h[i + 1 + k] == h[i]) {
      const char *p = h + i + k + 2, *end = h + n;
      while (p < end && (*p == ' ' || *p == ':'))
        p++;
      return p < end ? p : NULL;
    }
  return NULL;
}

static DType dtype_of(const char *descr, size_t n) {
  static const struct {
    const char *descr;
    DType dt;
  } known[] = {{"<f4", DT_F32}, {"<f2", DT_F16}, {"<i8", DT_I64}, {"<i4", DT_I32},
               {"|b1", DT_BOOL}, {"<b1", DT_BOOL}, {"|i1", DT_I8}, {"|u1", DT_U8}};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (n == strlen(known[i].descr) && !memcmp(descr, known[i].descr, n))
      return known[i].dt;
  return DT_UNKNOWN;
}

bool npy_parse(const void *bytes, size_t len, Tensor *out, char *err, size_t errlen) {
  const unsigned char *b = bytes;
  memset(out, 0, sizeof *out);
  if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
    return fail(err, errlen, "%s", "not a .npy file (no \\x93NUMPY magic)");
  size_t hlen, start;
  if (b[6] == 1) {
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    start = 10;
  } else if (b[6] == 2 || b[6] == 3) {
    if (len < 12)
      return fail(err, errlen, "%s", "truncated .npy header");
    hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    start = 12;
  } else {
    char v[8];
    snprintf(v, sizeof v, "%u", b[6]);
    return fail(err, errlen, ".npy format version %s.x is not supported (1.0 to 3.0 are)", v);
  }
  if (hlen > len - start)
    return fail(err, errlen, "%s", "truncated .npy header");
  const char *h = (const char *)b + start;
  /* descr */
  const char *d = find_key(h, hlen, "descr");
  if (!d || (*d != '\'' && *d != '"'))
    return fail(err, errlen, "%s", "the .npy header has no 'descr'");
  const char *dend = memchr(d + 1, *d, hlen - (size_t)(d + 1 - h));
  if (!dend)
    return fail(err, errlen, "%s", "the .npy header's 'descr' is not a closed string");
  DType dt = dtype_of(d + 1, (size_t)(dend - d - 1));
  if (dt == DT_UNKNOWN) {
    char descr[32];
    snprintf(descr, sizeof descr, "%.*s", (int)(dend - d - 1 < 24 ? dend - d - 1 : 24), d + 1);
    return fail(err, errlen,
                "unsupported .npy dtype '%s' (little-endian float32, float16, int64, int32, "
                "int8, uint8 or bool only)", descr);
  }
  /* fortran_order */
  const char *f = find_key(h, hlen, "fortran_order");
  if (!f || (size_t)(h + hlen - f) < 4)
    return fail(err, errlen, "%s", "the .npy header has no 'fortran_order'");
  if (!memcmp(f, "True", 4))
    return fail(err, errlen, "%s", "Fortran-order .npy arrays are not supported (C order only)");
  if ((size_t)(h + hlen - f) < 5 || memcmp(f, "False", 5) != 0)
    return fail(err, errlen, "%s", "the .npy header's 'fortran_order' is not True or False");
  /* shape */
  const char *s = find_key(h, hlen, "shape"), *end = h + hlen;
  if (!s || *s != '(')
    return fail(err, errlen, "%s", "the .npy header has no 'shape' tuple");
  int64_t dims[IR_MAX_RANK];
  int rank = 0;
  uint64_t numel = 1;
  for (s++;;) {
    while (s < end && (*s == ' ' || *s == ','))
      s++;
    if (s >= end)
      return fail(err, errlen, "%s", "the .npy header's 'shape' is not a closed tuple");
    if (*s == ')')
      break;
    if (*s < '0' || *s > '9')
      return fail(err, errlen, "%s", "the .npy header's 'shape' holds a non-integer");
    uint64_t v = 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
      if (v > (UINT64_C(1) << 40))
        return fail(err, errlen, "%s", "a dimension of the .npy 'shape' is too large");
      v = v * 10 + (uint64_t)(*s - '0');
    }
    if (s < end && *s == 'L')
      s++;
    if (rank == IR_MAX_RANK)
      return fail(err, errlen, "the .npy array has more than %s dimensions", "8");
    if (v && numel > (UINT64_C(1) << 48) / v)
      return fail(err, errlen, "%s", "the .npy array is too large");
    numel *= v;
    dims[rank++] = (int64_t)v;
  }
  size_t esize = ir_dtype_size(dt), data_at = start + hlen;
  uint64_t nbytes = numel * esize;
  if (nbytes != (uint64_t)(len - data_at)) {
    char msg[96];
    snprintf(msg, sizeof msg, "%llu data bytes for the shape in the header, the file holds %zu",
             (unsigned long long)nbytes, len - data_at);
    return fail(err, errlen, "%s", msg);
  }
  out->type = ir_type_make(dt, rank, dims);
  out->nbytes = (size_t)nbytes;
  out->data = malloc(out->nbytes ? out->nbytes : 1);
  if (!out->data)
    return fail(err, errlen, "%s", "out of memory");
  memcpy(out->data, b + data_at, out->nbytes);
  return true;
}

bool npy_read_file(const char *path, Tensor *out, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail(err, errlen, "%s", strerror(errno));
  Buf b = {0};
  bool bad = !ir_buf_read_stream(&b, f);
  fclose(f);
  if (bad) {
    ir_buf_free(&b);
    return fail(err, errlen, "read error: %s", strerror(errno));
  }
  bool ok = npy_parse(b.data, b.len, out, err, errlen);
  ir_buf_free(&b);
  return ok;
}
