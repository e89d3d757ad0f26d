/* bundle.c - reading and checking an engine bundle (bundle.h; layout in runtime/README.md).
 *
 * Every byte of a valid bundle is accounted for: header fields are checked by value and its
 * reserved bytes must be zero, the table by its hash, each section by its hash, and the bytes
 * between and after sections must be zero. So any corruption is refused, and refused by the check
 * that names the damaged part. Cheap structural checks run before any hashing, so a truncated or
 * foreign file is refused without reading it all. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#include "runtime/bundle.h"

static bool fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
  if (errlen > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* The first non-zero byte in p[from..to), or to. */
static uint64_t first_nonzero(const uint8_t *p, uint64_t from, uint64_t to) {
  while (from < to && p[from] == 0)
    from++;
  return from;
}

/* Checks an entry's name field and copies it to out (NUL-terminated); entry i for messages,
 * since a damaged name cannot be quoted. */
static bool check_name(const uint8_t *field, int i, char *out, char *err, size_t errlen) {
  int len = 0;
  while (len < KILN_BUNDLE_NAME_SIZE && field[len] != 0) {
    if (!kiln_bundle_name_char_ok(field[len]))
      return fail(err, errlen, "section table entry %d: name byte %d is 0x%02x, not a printable "
                  "character", i, len, field[len]);
    len++;
  }
  if (len == 0)
    return fail(err, errlen, "section table entry %d: empty name", i);
  if (len == KILN_BUNDLE_NAME_SIZE)
    return fail(err, errlen, "section table entry %d: name has no NUL in its %d bytes", i,
                KILN_BUNDLE_NAME_SIZE);
  for (int k = len; k < KILN_BUNDLE_NAME_SIZE; k++)
    if (field[k] != 0)
      return fail(err, errlen, "section table entry %d: name '%.*s' is not NUL-padded (byte %d "
                  "is 0x%02x)", i, len, (const char *)field, k, field[k]);
  memcpy(out, field, (size_t)len);
  out[len] = 0;
  return true;
}

static bool open_header(const uint8_t *p, size_t size, uint32_t *nsections, char *err,
                        size_t errlen) {
  if (size < KILN_BUNDLE_MAGIC_SIZE) {
    if (size == 0 || memcmp(p, KILN_BUNDLE_MAGIC, size) == 0)
      return fail(err, errlen, "truncated: file has %zu bytes, the header needs %d", size,
                  KILN_BUNDLE_HEADER_SIZE);
    return fail(err, errlen, "not a kiln bundle (bad magic)");
  }
  if (memcmp(p + KILN_BUNDLE_H_MAGIC, KILN_BUNDLE_MAGIC, KILN_BUNDLE_MAGIC_SIZE) != 0)
    return fail(err, errlen, "not a kiln bundle (bad magic)");
  if (size < KILN_BUNDLE_HEADER_SIZE)
    return fail(err, errlen, "truncated: file has %zu bytes, the header needs %d", size,
                KILN_BUNDLE_HEADER_SIZE);
  /* The version first: another version may lay out everything after it differently. */
  uint32_t version = kiln_le32_load(p + KILN_BUNDLE_H_VERSION);
  if (version != KILN_BUNDLE_VERSION)
    return fail(err, errlen, "format version %u, this runtime reads %d", version,
                KILN_BUNDLE_VERSION);
  uint64_t nz = first_nonzero(p, KILN_BUNDLE_H_RESERVED, KILN_BUNDLE_HEADER_SIZE);
  if (nz < KILN_BUNDLE_HEADER_SIZE)
    return fail(err, errlen, "header: reserved byte %d is 0x%02x, not zero", (int)nz, p[nz]);
  uint32_t n = kiln_le32_load(p + KILN_BUNDLE_H_NSECTIONS);
  if (n < 1 || n > KILN_BUNDLE_MAX_SECTIONS)
    return fail(err, errlen, "header: section count %u, expected 1..%d", n,
                KILN_BUNDLE_MAX_SECTIONS);
  uint64_t file_size = kiln_le64_load(p + KILN_BUNDLE_H_FILE_SIZE);
  if (file_size > size)
    return fail(err, errlen, "truncated: header says %llu bytes, file has %zu",
                (unsigned long long)file_size, size);
  if (file_size < size)
    return fail(err, errlen, "trailing data: header says %llu bytes, file has %zu",
                (unsigned long long)file_size, size);
  uint64_t table_end = kiln_bundle_table_end(n);
  if (table_end > size)
    return fail(err, errlen, "truncated: the table of %u sections ends at byte %llu, file has "
                "%zu", n, (unsigned long long)table_end, size);
  uint64_t stored = kiln_le64_load(p + KILN_BUNDLE_H_TABLE_HASH);
  uint64_t computed = XXH3_64bits(p + KILN_BUNDLE_HEADER_SIZE, table_end - KILN_BUNDLE_HEADER_SIZE);
  if (stored != computed)
    return fail(err, errlen, "section table: checksum mismatch (stored 0x%016llx, computed "
                "0x%016llx)", (unsigned long long)stored, (unsigned long long)computed);
  *nsections = n;
  return true;
}

/* Fills b->sections[i] from entry i, checking its fields and bounds against the previous
 * section (or the table, for the first). */
static bool open_entry(RtBundle *b, int i, uint64_t table_end, char *err, size_t errlen) {
  const uint8_t *e = b->data + KILN_BUNDLE_HEADER_SIZE + (size_t)i * KILN_BUNDLE_ENTRY_SIZE;
  RtSection *s = &b->sections[i];
  if (!check_name(e + KILN_BUNDLE_E_NAME, i, s->name, err, errlen))
    return false;
  for (int k = 0; k < i; k++)
    if (strcmp(b->sections[k].name, s->name) == 0)
      return fail(err, errlen, "section table entry %d: duplicate name '%s' (also entry %d)", i,
                  s->name, k);
  uint32_t flags = kiln_le32_load(e + KILN_BUNDLE_E_FLAGS);
  if (flags != 0)
    return fail(err, errlen, "section '%s': flags 0x%x, format version %d defines none", s->name,
                flags, KILN_BUNDLE_VERSION);
  if (kiln_le32_load(e + KILN_BUNDLE_E_RESERVED) != 0)
    return fail(err, errlen, "section '%s': reserved bytes of its entry are not zero", s->name);

  uint64_t off = kiln_le64_load(e + KILN_BUNDLE_E_OFFSET);
  uint64_t sz = kiln_le64_load(e + KILN_BUNDLE_E_SIZE);
  if (off % KILN_BUNDLE_ALIGN != 0)
    return fail(err, errlen, "section '%s': offset %llu is not %d-byte aligned", s->name,
                (unsigned long long)off, KILN_BUNDLE_ALIGN);
  if (off > b->size || sz > b->size - off)
    return fail(err, errlen, "section '%s': offset %llu size %llu runs past the end of the file "
                "(%zu bytes)", s->name, (unsigned long long)off, (unsigned long long)sz, b->size);
  if (i == 0) {
    if (off < table_end)
      return fail(err, errlen, "section '%s': offset %llu overlaps the section table (bytes "
                  "0..%llu)", s->name, (unsigned long long)off, (unsigned long long)table_end);
  } else {
    const RtSection *prev = &b->sections[i - 1];
    if (off < prev->offset)
      return fail(err, errlen, "section '%s': offset %llu comes before section '%s' (offset "
                  "%llu): sections are stored in table order", s->name, (unsigned long long)off,
                  prev->name, (unsigned long long)prev->offset);
    if (off < prev->offset + prev->size)
      return fail(err, errlen, "section '%s': offset %llu overlaps section '%s' (bytes "
                  "%llu..%llu)", s->name, (unsigned long long)off, prev->name,
                  (unsigned long long)prev->offset,
                  (unsigned long long)(prev->offset + prev->size));
  }
  s->offset = off;
  s->size = (size_t)sz;
  s->data = b->data + off;
  s->hash = kiln_le64_load(e + KILN_BUNDLE_E_HASH);
  return true;
}

/* The bytes that belong to no section (after the table, between sections, after the last) must
 * be zero: the writer pads with zeros, and a flipped bit there is corruption too. */
static bool check_padding(const RtBundle *b, uint64_t table_end, char *err, size_t errlen) {
  uint64_t from = table_end;
  for (int i = 0; i <= b->nsections; i++) {
    uint64_t to = i < b->nsections ? b->sections[i].offset : b->size;
    uint64_t nz = first_nonzero(b->data, from, to);
    if (nz < to) {
      if (i < b->nsections)
        return fail(err, errlen, "padding before section '%s': byte %llu is 0x%02x, not zero",
                    b->sections[i].name, (unsigned long long)nz, b->data[nz]);
      return fail(err, errlen, "padding after section '%s': byte %llu is 0x%02x, not zero",
                  b->sections[i - 1].name, (unsigned long long)nz, b->data[nz]);
    }
    if (i < b->nsections)
      from = b->sections[i].offset + b->sections[i].size;
  }
  return true;
}

bool rt_bundle_open(const void *data, size_t size, RtBundle *b, char *err, size_t errlen) {
  memset(b, 0, sizeof *b);
  if (errlen > 0)
    err[0] = 0;
  const uint8_t *p = data;
  uint32_t n = 0;
  if (!open_header(p, size, &n, err, errlen))
    return false;
  b->data = p;
  b->size = size;
  b->version = KILN_BUNDLE_VERSION;
  b->nsections = (int)n;
  uint64_t table_end = kiln_bundle_table_end(n);
  bool ok = true;
  for (int i = 0; ok && i < b->nsections; i++)
    ok = open_entry(b, i, table_end, err, errlen);
  ok = ok && check_padding(b, table_end, err, errlen);
  for (int i = 0; ok && i < b->nsections; i++) {
    const RtSection *s = &b->sections[i];
    uint64_t computed = XXH3_64bits(s->data, s->size);
    if (computed != s->hash)
      ok = fail(err, errlen, "section '%s': checksum mismatch (stored 0x%016llx, computed "
                "0x%016llx)", s->name, (unsigned long long)s->hash, (unsigned long long)computed);
  }
  if (!ok)
    memset(b, 0, sizeof *b);
  return ok;
}

const RtSection *rt_bundle_section(const RtBundle *b, const char *name) {
  for (int i = 0; i < b->nsections; i++)
    if (strcmp(b->sections[i].name, name) == 0)
      return &b->sections[i];
  return NULL;
}

#define BINARY_PREFIX "binary."

/* binary.N, N decimal without leading zeros. */
static bool is_binary_name(const char *name) {
  const char *d = name + strlen(BINARY_PREFIX);
  if (strncmp(name, BINARY_PREFIX, strlen(BINARY_PREFIX)) != 0 || *d == 0)
    return false;
  if (d[0] == '0' && d[1] != 0)
    return false;
  for (; *d; d++)
    if (*d < '0' || *d > '9')
      return false;
  return true;
}

bool rt_bundle_check_engine(const RtBundle *b, char *err, size_t errlen) {
  static const char *const required[] = {"meta", "plan", "kernels", "weights"};
  char missing[64] = "";
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
    if (!rt_bundle_section(b, required[i])) {
      if (missing[0])
        strcat(missing, ", ");
      strcat(missing, required[i]);
    }
  if (missing[0])
    return fail(err, errlen, "missing required section%s: %s", strchr(missing, ',') ? "s" : "",
                missing);
  for (int i = 0; i < b->nsections; i++) {
    const char *name = b->sections[i].name;
    if (strncmp(name, BINARY_PREFIX, strlen(BINARY_PREFIX)) == 0 && !is_binary_name(name))
      return fail(err, errlen, "section '%s': a binary's name is binary.N with N a decimal "
                  "number", name);
  }
  return true;
}

const RtSection *rt_bundle_next_binary(const RtBundle *b, const RtSection *prev) {
  int i = prev ? (int)(prev - b->sections) + 1 : 0;
  for (; i < b->nsections; i++)
    if (is_binary_name(b->sections[i].name))
      return &b->sections[i];
  return NULL;
}

bool rt_bundle_binary_parse(const RtSection *s, RtDeviceBinary *out, char *err, size_t errlen) {
  static const char dev[] = "device=", drv[] = ";driver=";
  memset(out, 0, sizeof *out);
  const char *text = (const char *)s->data;
  const char *nul = s->size ? memchr(text, 0, s->size) : NULL;
  if (!nul)
    return fail(err, errlen, "section '%s': no NUL after its device=NAME;driver=VERSION line",
                s->name);
  size_t len = (size_t)(nul - text);
  if (len < strlen(dev) || memcmp(text, dev, strlen(dev)) != 0)
    return fail(err, errlen, "section '%s': does not start with device=", s->name);
  const char *name = text + strlen(dev);
  const char *semi = memchr(name, ';', (size_t)(nul - name));
  if (!semi || (size_t)(nul - semi) < strlen(drv) || memcmp(semi, drv, strlen(drv)) != 0)
    return fail(err, errlen, "section '%s': no ;driver= after the device name", s->name);
  const char *version = semi + strlen(drv);
  size_t nname = (size_t)(semi - name), nversion = (size_t)(nul - version);
  if (nname == 0 || nversion == 0)
    return fail(err, errlen, "section '%s': empty device name or driver version", s->name);
  if (nname >= sizeof out->device || nversion >= sizeof out->driver)
    return fail(err, errlen, "section '%s': device name or driver version too long", s->name);
  memcpy(out->device, name, nname);
  memcpy(out->driver, version, nversion);
  out->data = (const uint8_t *)nul + 1;
  out->size = s->size - len - 1;
  return true;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool rt_meta_get(const RtSection *meta, const char *key, char *out, size_t n) {
  if (n > 0)
    out[0] = 0;
  const char *p = (const char *)meta->data, *end = p + meta->size;
  size_t keylen = strlen(key);
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      eol = end;
    const char *eq = memchr(p, '=', (size_t)(eol - p));
    if (eq) {
      const char *k0 = p, *k1 = eq;
      while (k0 < k1 && is_blank(*k0))
        k0++;
      while (k1 > k0 && is_blank(k1[-1]))
        k1--;
      if ((size_t)(k1 - k0) == keylen && memcmp(k0, key, keylen) == 0) {
        const char *v0 = eq + 1, *v1 = eol;
        while (v0 < v1 && is_blank(*v0))
          v0++;
        while (v1 > v0 && is_blank(v1[-1]))
          v1--;
        size_t vlen = (size_t)(v1 - v0);
        if (vlen >= n || memchr(v0, 0, vlen))
          return false;
        memcpy(out, v0, vlen);
        out[vlen] = 0;
        return true;
      }
    }
    p = eol + 1;
  }
  return false;
}
