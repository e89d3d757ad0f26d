/* test_bundle.c - the engine bundle: writer (codegen/bundle_write.c) and reader
 * (runtime/bundle.c, compiled into this test since libkilnrt hides its internal symbols).
 *
 * Round trips, determinism, the exact message of every refusal, the meta parser, binary
 * sections, and the atomic file write (no partial output, no temporary file left behind).
 *
 *   test_bundle                     runs the tests; also checks that the committed fuzz seeds
 *                                   (test/fuzz/corpus/bundle) are what the writer gives now
 *   test_bundle --write-seeds DIR   rewrites those seeds (after a format change) */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "check.h"
#include "codegen/bundle_write.h"
#include "runtime/bundle.h"

static const char META[] =
    "kiln-version = 0.1.0\n"
    "flags = -O2 --max-batch=4 --precision=fp16\n"
    "model-sha = 0123456789abcdef\n"
    "model = tiny\n"
    "max-batch = 4\n"
    "device = any\n";
static const char IR[] = "func @main(%x: f32[N, 4]) -> f32[N, 4] {\n  return %x\n}\n";
static const char PLAN[] = "kiln-plan 1\nmax-batch 4\npool act 64\npool weights 100\n";
static const char KERNELS[] =
    "__kernel void k0(__global uchar *act, __global const uchar *wts, const int batch) {}\n";
static const char BINARY0[] = "device=pocl-cpu;driver=5.0\0\x7f" "ELF binary bytes";
static const char BINARY1[] = "device=NVIDIA H100;driver=550.54\0PTX";
static uint8_t weights[100];

/* The engine every case starts from: meta, ir, plan, kernels, weights, binary.0, binary.1. */
static void engine_writer(CgBundleWriter *w) {
  char err[256];
  for (size_t i = 0; i < sizeof weights; i++)
    weights[i] = (uint8_t)(i * 7 + 1);
  cg_bundle_init(w);
  CHECK(cg_bundle_add(w, "meta", META, strlen(META), err, sizeof err));
  CHECK(cg_bundle_add(w, "ir", IR, strlen(IR), err, sizeof err));
  CHECK(cg_bundle_add(w, "plan", PLAN, strlen(PLAN), err, sizeof err));
  CHECK(cg_bundle_add(w, "kernels", KERNELS, strlen(KERNELS), err, sizeof err));
  CHECK(cg_bundle_add(w, "weights", weights, sizeof weights, err, sizeof err));
  CHECK(cg_bundle_add(w, "binary.0", BINARY0, sizeof BINARY0 - 1, err, sizeof err));
  CHECK(cg_bundle_add(w, "binary.1", BINARY1, sizeof BINARY1 - 1, err, sizeof err));
}

static uint8_t *engine_bytes(size_t *size) {
  CgBundleWriter w;
  char err[256];
  uint8_t *buf = NULL;
  engine_writer(&w);
  CHECK(cg_bundle_write_mem(&w, &buf, size, err, sizeof err));
  return buf;
}

static uint8_t *entry(uint8_t *buf, int i) {
  return buf + KILN_BUNDLE_HEADER_SIZE + (size_t)i * KILN_BUNDLE_ENTRY_SIZE;
}

/* Recomputes the table hash, so that a damaged entry reaches the checks after it. */
static void fix_table(uint8_t *buf) {
  uint32_t n = kiln_le32_load(buf + KILN_BUNDLE_H_NSECTIONS);
  if (n > KILN_BUNDLE_MAX_SECTIONS)
    n = KILN_BUNDLE_MAX_SECTIONS;
  kiln_le64_store(buf + KILN_BUNDLE_H_TABLE_HASH,
                  XXH3_64bits(buf + KILN_BUNDLE_HEADER_SIZE, (size_t)n * KILN_BUNDLE_ENTRY_SIZE));
}

/* rt_bundle_open(buf[0..size)) fails with exactly want, and leaves the bundle zeroed. */
static void expect_refused(const uint8_t *buf, size_t size, const char *want, int line) {
  RtBundle b;
  char err[256];
  bool ok = rt_bundle_open(buf, size, &b, err, sizeof err);
  CHECK(!ok);
  CHECK(b.nsections == 0 && b.data == NULL);
  if (ok || strcmp(err, want) != 0)
    fprintf(stderr, "test_bundle.c:%d: the case below\n", line);
  CHECK_STR(ok ? "(opened)" : err, want);
}
#define REFUSED(buf, size, ...)                                                                    \
  do {                                                                                             \
    char want_[256];                                                                               \
    snprintf(want_, sizeof want_, __VA_ARGS__);                                                    \
    expect_refused(buf, size, want_, __LINE__);                                                    \
  } while (0)

static void test_round_trip(void) {
  CgBundleWriter w;
  engine_writer(&w);
  size_t size, size2;
  uint8_t *buf = engine_bytes(&size), *again = engine_bytes(&size2);
  CHECK(size == cg_bundle_size(&w));
  CHECK(size == size2 && memcmp(buf, again, size) == 0);
  RtBundle b;
  char err[256] = "";
  CHECK(rt_bundle_open(buf, size, &b, err, sizeof err));
  CHECK_STR(err, "");
  CHECK(b.nsections == w.nsections && b.version == KILN_BUNDLE_VERSION);
  for (int i = 0; i < w.nsections && i < b.nsections; i++) {
    const RtSection *s = &b.sections[i];
    CHECK_STR(s->name, w.sections[i].name);
    CHECK(s->size == w.sections[i].size && memcmp(s->data, w.sections[i].data, s->size) == 0);
    CHECK(s->offset % KILN_BUNDLE_ALIGN == 0 && s->data == buf + s->offset); /* a view */
    CHECK(rt_bundle_section(&b, s->name) == s);
  }
  CHECK(rt_bundle_section(&b, "nope") == NULL);
  CHECK(rt_bundle_check_engine(&b, err, sizeof err));

  /* binary.N in table order, and their key line */
  const RtSection *b0 = rt_bundle_next_binary(&b, NULL);
  const RtSection *b1 = rt_bundle_next_binary(&b, b0);
  CHECK(b0 && b1 && rt_bundle_next_binary(&b, b1) == NULL);
  RtDeviceBinary bin;
  CHECK(b0 && rt_bundle_binary_parse(b0, &bin, err, sizeof err));
  CHECK_STR(bin.device, "pocl-cpu");
  CHECK_STR(bin.driver, "5.0");
  CHECK(bin.size == 17 && memcmp(bin.data, "\x7f" "ELF binary bytes", 17) == 0);
  CHECK(b1 && rt_bundle_binary_parse(b1, &bin, err, sizeof err));
  CHECK_STR(bin.device, "NVIDIA H100");
  CHECK(bin.size == 3 && memcmp(bin.data, "PTX", 3) == 0);
  free(buf);
  free(again);
}

static void test_layout(void) {
  /* zero-size sections, one section, the smallest bundle */
  CgBundleWriter w;
  char err[256];
  cg_bundle_init(&w);
  CHECK(cg_bundle_add(&w, "meta", NULL, 0, err, sizeof err));
  CHECK(cg_bundle_size(&w) == 128);
  uint8_t *buf;
  size_t size;
  CHECK(cg_bundle_write_mem(&w, &buf, &size, err, sizeof err));
  RtBundle b;
  CHECK(size == 128 && rt_bundle_open(buf, size, &b, err, sizeof err));
  CHECK(b.nsections == 1 && b.sections[0].size == 0 && b.sections[0].offset == 128);
  free(buf);
  /* padding: the second section starts at the next 64-byte boundary, gaps are zero */
  CHECK(cg_bundle_add(&w, "a", "x", 1, err, sizeof err));
  CHECK(cg_bundle_add(&w, "b", "yy", 2, err, sizeof err));
  CHECK(cg_bundle_write_mem(&w, &buf, &size, err, sizeof err));
  CHECK(size == 4 * 64 + 64 + 2 && rt_bundle_open(buf, size, &b, err, sizeof err));
  CHECK(b.sections[1].offset == 256 && b.sections[2].offset == 320);
  CHECK(buf[257] == 0 && buf[319] == 0);
  free(buf);
  cg_bundle_init(&w);
  CHECK(!cg_bundle_write_mem(&w, &buf, &size, err, sizeof err) && buf == NULL);
  CHECK_STR(err, "bundle: no sections");
  CHECK(cg_bundle_size(&w) == 0);
}

static void test_add_refused(void) {
  CgBundleWriter w;
  char err[256];
  cg_bundle_init(&w);
  CHECK(!cg_bundle_add(&w, "", "x", 1, err, sizeof err));
  CHECK_STR(err, "bundle: empty section name");
  CHECK(!cg_bundle_add(&w, "0123456789abcdef0123456789abcdef", "x", 1, err, sizeof err));
  CHECK_STR(err, "bundle: section name '0123456789abcdef0123456789abcdef' is longer than 31 "
                 "characters");
  CHECK(cg_bundle_add(&w, "0123456789abcdef0123456789abcde", "x", 1, err, sizeof err));
  CHECK(!cg_bundle_add(&w, "two words", "x", 1, err, sizeof err));
  CHECK_STR(err, "bundle: section name byte 3 is 0x20, not a printable character other than "
                 "the space");
  CHECK(!cg_bundle_add(&w, "0123456789abcdef0123456789abcde", "x", 1, err, sizeof err));
  CHECK_STR(err, "bundle: section '0123456789abcdef0123456789abcde' added twice");
  CHECK(!cg_bundle_add(&w, "x", NULL, 3, err, sizeof err));
  CHECK_STR(err, "bundle: section 'x' has 3 bytes and no data");
  for (int i = 1; i < KILN_BUNDLE_MAX_SECTIONS; i++) {
    char name[16];
    snprintf(name, sizeof name, "s%d", i);
    CHECK(cg_bundle_add(&w, name, NULL, 0, err, sizeof err));
  }
  CHECK(!cg_bundle_add(&w, "last", NULL, 0, err, sizeof err));
  CHECK_STR(err, "bundle: section 'last' is one too many (at most 64)");
  CHECK(w.nsections == 64);
  /* 64 sections open */
  uint8_t *buf;
  size_t size;
  RtBundle b;
  CHECK(cg_bundle_write_mem(&w, &buf, &size, err, sizeof err));
  CHECK(rt_bundle_open(buf, size, &b, err, sizeof err) && b.nsections == 64);
  free(buf);
}

/* Every refusal, each on a fresh copy of the engine bundle. */
static void test_refused(void) {
  size_t size;
  uint8_t *good = engine_bytes(&size);
  uint8_t *buf = malloc(size + 64);
  RtBundle b;
  char err[256];
#define FRESH() memcpy(buf, good, size)
  /* offsets of the engine's sections, from the table */
  uint64_t off[7], sz[7];
  for (int i = 0; i < 7; i++) {
    off[i] = kiln_le64_load(entry(good, i) + KILN_BUNDLE_E_OFFSET);
    sz[i] = kiln_le64_load(entry(good, i) + KILN_BUNDLE_E_SIZE);
  }

  FRESH();
  buf[0] = 'X';
  REFUSED(buf, size, "not a kiln bundle (bad magic)");
  REFUSED((const uint8_t *)"ELF", 3, "not a kiln bundle (bad magic)");
  REFUSED(good, 0, "truncated: file has 0 bytes, the header needs 64");
  REFUSED(good, 5, "truncated: file has 5 bytes, the header needs 64");
  REFUSED(good, 40, "truncated: file has 40 bytes, the header needs 64");

  FRESH();
  kiln_le32_store(buf + KILN_BUNDLE_H_VERSION, 2);
  REFUSED(buf, size, "format version 2, this runtime reads 1");

  FRESH();
  buf[40] = 0xff;
  REFUSED(buf, size, "header: reserved byte 40 is 0xff, not zero");

  FRESH();
  kiln_le32_store(buf + KILN_BUNDLE_H_NSECTIONS, 0);
  REFUSED(buf, size, "header: section count 0, expected 1..64");
  kiln_le32_store(buf + KILN_BUNDLE_H_NSECTIONS, 65);
  REFUSED(buf, size, "header: section count 65, expected 1..64");

  /* truncated inside the last section; a size field larger than the file; trailing bytes */
  REFUSED(good, size - 10, "truncated: header says %zu bytes, file has %zu", size, size - 10);
  FRESH();
  kiln_le64_store(buf + KILN_BUNDLE_H_FILE_SIZE, (uint64_t)size + 1000);
  REFUSED(buf, size, "truncated: header says %zu bytes, file has %zu", size + 1000, size);
  FRESH();
  buf[size] = 0;
  REFUSED(buf, size + 1, "trailing data: header says %zu bytes, file has %zu", size, size + 1);
  /* a file cut inside the table, with a header that agrees */
  FRESH();
  kiln_le64_store(buf + KILN_BUNDLE_H_FILE_SIZE, 300);
  REFUSED(buf, 300, "truncated: the table of 7 sections ends at byte 512, file has 300");

  /* a flipped byte in each section: the checksum names it */
  for (int i = 0; i < 7; i++) {
    FRESH();
    buf[off[i] + sz[i] / 2] ^= 0x10;
    REFUSED(buf, size, "section '%s': checksum mismatch (stored 0x%016llx, computed 0x%016llx)",
            (const char *)entry(good, i),
            (unsigned long long)kiln_le64_load(entry(good, i) + KILN_BUNDLE_E_HASH),
            (unsigned long long)XXH3_64bits(buf + off[i], sz[i]));
  }
  /* a flipped byte in the table */
  FRESH();
  entry(buf, 3)[KILN_BUNDLE_E_SIZE] ^= 1;
  REFUSED(buf, size, "section table: checksum mismatch (stored 0x%016llx, computed 0x%016llx)",
          (unsigned long long)kiln_le64_load(good + KILN_BUNDLE_H_TABLE_HASH),
          (unsigned long long)XXH3_64bits(buf + 64, 7 * 64));
  /* a flipped byte in the padding after meta */
  FRESH();
  buf[off[0] + sz[0]] = 1;
  REFUSED(buf, size, "padding before section 'ir': byte %llu is 0x01, not zero",
          (unsigned long long)(off[0] + sz[0]));

  /* entry damage behind a valid table hash (a writer bug, or a forged file) */
  FRESH();
  kiln_le64_store(entry(buf, 1) + KILN_BUNDLE_E_OFFSET, off[1] + 8);
  fix_table(buf);
  REFUSED(buf, size, "section 'ir': offset %llu is not 64-byte aligned",
          (unsigned long long)(off[1] + 8));
  FRESH();
  kiln_le64_store(entry(buf, 1) + KILN_BUNDLE_E_OFFSET, off[0] + 64);
  fix_table(buf);
  REFUSED(buf, size, "section 'ir': offset %llu overlaps section 'meta' (bytes %llu..%llu)",
          (unsigned long long)(off[0] + 64), (unsigned long long)off[0],
          (unsigned long long)(off[0] + sz[0]));
  FRESH();
  kiln_le64_store(entry(buf, 2) + KILN_BUNDLE_E_OFFSET, off[0]);
  fix_table(buf);
  REFUSED(buf, size, "section 'plan': offset %llu comes before section 'ir' (offset %llu): "
          "sections are stored in table order", (unsigned long long)off[0],
          (unsigned long long)off[1]);
  FRESH();
  kiln_le64_store(entry(buf, 0) + KILN_BUNDLE_E_OFFSET, 448);
  fix_table(buf);
  REFUSED(buf, size, "section 'meta': offset 448 overlaps the section table (bytes 0..512)");
  FRESH();
  kiln_le64_store(entry(buf, 6) + KILN_BUNDLE_E_SIZE, UINT64_MAX);
  fix_table(buf);
  REFUSED(buf, size, "section 'binary.1': offset %llu size %llu runs past the end of the file "
          "(%zu bytes)", (unsigned long long)off[6], (unsigned long long)UINT64_MAX, size);
  FRESH();
  memcpy(entry(buf, 1), "meta\0\0", 6);
  fix_table(buf);
  REFUSED(buf, size, "section table entry 1: duplicate name 'meta' (also entry 0)");
  FRESH();
  entry(buf, 2)[1] = 0x07;
  fix_table(buf);
  REFUSED(buf, size, "section table entry 2: name byte 1 is 0x07, not a printable character");
  FRESH();
  entry(buf, 2)[0] = 0;
  fix_table(buf);
  REFUSED(buf, size, "section table entry 2: empty name");
  FRESH();
  entry(buf, 2)[10] = 'x';
  fix_table(buf);
  REFUSED(buf, size, "section table entry 2: name 'plan' is not NUL-padded (byte 10 is 0x78)");
  FRESH();
  memset(entry(buf, 2), 'n', KILN_BUNDLE_NAME_SIZE);
  fix_table(buf);
  REFUSED(buf, size, "section table entry 2: name has no NUL in its 32 bytes");
  FRESH();
  kiln_le32_store(entry(buf, 4) + KILN_BUNDLE_E_FLAGS, 4);
  fix_table(buf);
  REFUSED(buf, size, "section 'weights': flags 0x4, format version 1 defines none");
  FRESH();
  entry(buf, 4)[KILN_BUNDLE_E_RESERVED + 3] = 1;
  fix_table(buf);
  REFUSED(buf, size, "section 'weights': reserved bytes of its entry are not zero");

  /* err is optional; a refusal leaves nothing behind */
  FRESH();
  buf[0] = 0;
  CHECK(!rt_bundle_open(buf, size, &b, NULL, 0));
  CHECK(!rt_bundle_open(buf, size, &b, err, 1) && err[0] == 0);
#undef FRESH
  free(buf);
  free(good);
}

static void test_check_engine(void) {
  CgBundleWriter w;
  char err[256];
  uint8_t *buf;
  size_t size;
  RtBundle b;
  cg_bundle_init(&w);
  CHECK(cg_bundle_add(&w, "meta", META, strlen(META), err, sizeof err));
  CHECK(cg_bundle_add(&w, "ir", IR, strlen(IR), err, sizeof err));
  CHECK(cg_bundle_write_mem(&w, &buf, &size, err, sizeof err));
  CHECK(rt_bundle_open(buf, size, &b, err, sizeof err));
  CHECK(!rt_bundle_check_engine(&b, err, sizeof err));
  CHECK_STR(err, "missing required sections: plan, kernels, weights");
  free(buf);
  CHECK(cg_bundle_add(&w, "plan", PLAN, strlen(PLAN), err, sizeof err));
  CHECK(cg_bundle_add(&w, "kernels", KERNELS, strlen(KERNELS), err, sizeof err));
  CHECK(cg_bundle_write_mem(&w, &buf, &size, err, sizeof err));
  CHECK(rt_bundle_open(buf, size, &b, err, sizeof err));
  CHECK(!rt_bundle_check_engine(&b, err, sizeof err));
  CHECK_STR(err, "missing required section: weights");
  free(buf);
  CHECK(cg_bundle_add(&w, "weights", NULL, 0, err, sizeof err));
  CHECK(cg_bundle_add(&w, "binary.01", BINARY1, sizeof BINARY1 - 1, err, sizeof err));
  CHECK(cg_bundle_add(&w, "future", "?", 1, err, sizeof err)); /* unknown: ignored */
  CHECK(cg_bundle_write_mem(&w, &buf, &size, err, sizeof err));
  CHECK(rt_bundle_open(buf, size, &b, err, sizeof err));
  CHECK(!rt_bundle_check_engine(&b, err, sizeof err));
  CHECK_STR(err, "section 'binary.01': a binary's name is binary.N with N a decimal number");
  CHECK(rt_bundle_next_binary(&b, NULL) == NULL);
  free(buf);
  w.nsections--;
  w.nsections--;
  CHECK(cg_bundle_write_mem(&w, &buf, &size, err, sizeof err));
  CHECK(rt_bundle_open(buf, size, &b, err, sizeof err));
  CHECK(rt_bundle_check_engine(&b, err, sizeof err));
  free(buf);
}

static void test_binary_parse(void) {
#define NO_NUL "section 'binary.0': no NUL after its device=NAME;driver=VERSION line"
  static const struct {
    const char *bytes;
    size_t size;
    const char *want;
  } bad[] = {
      {"device=x;driver=1", 17, NO_NUL},
      {"", 0, NO_NUL},
      {"dev=x;driver=1\0b", 16, "section 'binary.0': does not start with device="},
      {"device=x\0b", 10, "section 'binary.0': no ;driver= after the device name"},
      {"device=x;drv=1\0b", 16, "section 'binary.0': no ;driver= after the device name"},
      {"device=;driver=1\0", 17, "section 'binary.0': empty device name or driver version"},
      {"device=x;driver=\0", 17, "section 'binary.0': empty device name or driver version"},
  };
  char err[256];
  RtDeviceBinary bin;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    RtSection s = {.name = "binary.0", .data = (const uint8_t *)bad[i].bytes, .size = bad[i].size};
    CHECK(!rt_bundle_binary_parse(&s, &bin, err, sizeof err));
    CHECK_STR(err, bad[i].want);
  }
  RtSection s = {.name = "binary.0", .data = (const uint8_t *)"device=d;driver=v\0", .size = 18};
  CHECK(rt_bundle_binary_parse(&s, &bin, err, sizeof err) && bin.size == 0);
#undef NO_NUL
}

static void test_meta(void) {
  static const char text[] = "a = 1\n"
                             "  spaced\t=  two words  \r\n"
                             "no equals sign here\n"
                             "flags = --x=1 --y=2\n"
                             "a = second\n"
                             "empty =\n"
                             "last=9";
  RtSection meta = {.name = "meta", .data = (const uint8_t *)text, .size = sizeof text - 1};
  char v[16];
  CHECK(rt_meta_get(&meta, "a", v, sizeof v));
  CHECK_STR(v, "1");
  CHECK(rt_meta_get(&meta, "spaced", v, sizeof v));
  CHECK_STR(v, "two words");
  CHECK(rt_meta_get(&meta, "flags", v, sizeof v));
  CHECK_STR(v, "--x=1 --y=2");
  CHECK(rt_meta_get(&meta, "empty", v, sizeof v));
  CHECK_STR(v, "");
  CHECK(rt_meta_get(&meta, "last", v, sizeof v));
  CHECK_STR(v, "9");
  CHECK(!rt_meta_get(&meta, "missing", v, sizeof v));
  CHECK(!rt_meta_get(&meta, "no equals sign here", v, sizeof v));
  CHECK(!rt_meta_get(&meta, "las", v, sizeof v));
  CHECK(!rt_meta_get(&meta, "flags", v, 11) && v[0] == 0); /* 11 bytes, needs 12 */
  CHECK(rt_meta_get(&meta, "flags", v, 12));
  RtSection nul = {.name = "meta", .data = (const uint8_t *)"k = a\0b\n", .size = 8};
  CHECK(!rt_meta_get(&nul, "k", v, sizeof v));
  RtSection empty = {.name = "meta", .data = NULL, .size = 0};
  CHECK(!rt_meta_get(&empty, "k", v, sizeof v));
  /* the engine's meta, through the reader */
  size_t size;
  uint8_t *buf = engine_bytes(&size);
  RtBundle b;
  char err[256];
  CHECK(rt_bundle_open(buf, size, &b, err, sizeof err));
  char flags[64];
  CHECK(rt_meta_get(rt_bundle_section(&b, "meta"), "flags", flags, sizeof flags));
  CHECK_STR(flags, "-O2 --max-batch=4 --precision=fp16");
  free(buf);
}

/* ---- atomic file writes ---------------------------------------------------------------- */

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d)
    return -1;
  for (struct dirent *e; (e = readdir(d));)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
      n++;
  closedir(d);
  return n;
}

static char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = malloc(1 << 20);
  *size = fread(buf, 1, 1 << 20, f);
  fclose(f);
  return buf;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

static void test_write_file(void) {
  char dir[] = "/tmp/kiln-test-bundle-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256], missing[256], want[600], err[1024];
  snprintf(path, sizeof path, "%s/e.kiln", dir);
  snprintf(missing, sizeof missing, "%s/no/such/dir/e.kiln", dir);
  CgBundleWriter w;
  engine_writer(&w);
  size_t memsize;
  uint8_t *mem = engine_bytes(&memsize);

  /* into a missing directory: refused, nothing created */
  CHECK(!cg_bundle_write_file(&w, missing, err, sizeof err));
  snprintf(want, sizeof want, "%s: cannot create %s.tmp.", missing, missing);
  CHECK(strncmp(err, want, strlen(want)) == 0 && strstr(err, ": No such file or directory"));
  CHECK(count_entries(dir) == 0);

  /* a fresh file: the memory bytes, mode 0666 less the umask */
  mode_t old_mask = umask(022);
  CHECK(cg_bundle_write_file(&w, path, err, sizeof err));
  umask(old_mask);
  size_t fsize;
  char *bytes = read_file(path, &fsize);
  CHECK(bytes && fsize == memsize && memcmp(bytes, mem, memsize) == 0);
  free(bytes);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
  CHECK(count_entries(dir) == 1);

  /* a write that fails halfway (the file size limit: EFBIG) leaves the old file as it was */
  static uint8_t big[1 << 16];
  CgBundleWriter large;
  cg_bundle_init(&large);
  CHECK(cg_bundle_add(&large, "weights", big, sizeof big, err, sizeof err));
  write_text(path, "old");
  struct rlimit saved, small = {4096, 4096};
  CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  small.rlim_max = saved.rlim_max;
  void (*saved_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
  bool ok = cg_bundle_write_file(&large, path, err, sizeof err);
  CHECK(setrlimit(RLIMIT_FSIZE, &saved) == 0);
  signal(SIGXFSZ, saved_handler);
  CHECK(!ok && strstr(err, ": cannot write ") && strstr(err, "File too large"));
  bytes = read_file(path, &fsize);
  CHECK(bytes && fsize == 3 && memcmp(bytes, "old", 3) == 0);
  free(bytes);
  CHECK(count_entries(dir) == 1);

  /* the same write without the limit replaces it */
  CHECK(cg_bundle_write_file(&large, path, err, sizeof err));
  bytes = read_file(path, &fsize);
  CHECK(bytes && fsize == cg_bundle_size(&large));
  RtBundle b;
  CHECK(bytes && rt_bundle_open(bytes, fsize, &b, err, sizeof err));
  CHECK(b.nsections == 1 && b.sections[0].size == sizeof big);
  free(bytes);
  CHECK(count_entries(dir) == 1);

  /* rename over a directory fails: the temporary file goes, the directory stays */
  char sub[300];
  snprintf(sub, sizeof sub, "%s/d.kiln", dir);
  CHECK(mkdir(sub, 0755) == 0);
  char inner[320];
  snprintf(inner, sizeof inner, "%s/keep", sub);
  write_text(inner, "x"); /* a non-empty directory cannot be replaced */
  CHECK(!cg_bundle_write_file(&w, sub, err, sizeof err));
  CHECK(strstr(err, ": cannot rename ") != NULL);
  CHECK(count_entries(dir) == 2 && count_entries(sub) == 1);
  CHECK(!cg_bundle_write_file(&(CgBundleWriter){.nsections = 0}, path, err, sizeof err));
  CHECK_STR(err, "bundle: no sections");

  unlink(inner);
  rmdir(sub);
  unlink(path);
  CHECK(rmdir(dir) == 0);
  free(mem);
}

/* ---- fuzz seeds ------------------------------------------------------------------------ */

/* The seeds of test/fuzz/fuzz_bundle.c: small valid bundles, written with the current writer. */
static int seeds(CgBundleWriter *out, const char **names) {
  char err[256];
  engine_writer(&out[0]);
  names[0] = "engine.kiln";
  cg_bundle_init(&out[1]);
  CHECK(cg_bundle_add(&out[1], "meta", "model = m\nmax-batch = 1\n", 24, err, sizeof err));
  CHECK(cg_bundle_add(&out[1], "plan", PLAN, strlen(PLAN), err, sizeof err));
  CHECK(cg_bundle_add(&out[1], "kernels", "", 0, err, sizeof err));
  CHECK(cg_bundle_add(&out[1], "weights", weights, 8, err, sizeof err));
  names[1] = "minimal.kiln";
  cg_bundle_init(&out[2]);
  CHECK(cg_bundle_add(&out[2], "binary.7", BINARY0, sizeof BINARY0 - 1, err, sizeof err));
  names[2] = "one-binary.kiln";
  return 3;
}

static int write_seeds(const char *dir) {
  CgBundleWriter w[3];
  const char *names[3];
  char path[1024], err[1024];
  int n = seeds(w, names);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (!cg_bundle_write_file(&w[i], path, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
  }
  return 0;
}

static void test_seeds_current(void) {
  CgBundleWriter w[3];
  const char *names[3];
  int n = seeds(w, names);
  for (int i = 0; i < n; i++) {
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s", KILN_BUNDLE_CORPUS, names[i]);
    uint8_t *want;
    size_t nwant, nhave = 0;
    char *have = read_file(path, &nhave);
    CHECK(cg_bundle_write_mem(&w[i], &want, &nwant, err, sizeof err));
    bool same = have && nhave == nwant && memcmp(have, want, nwant) == 0;
    if (!same)
      fprintf(stderr, "%s is stale: test_bundle --write-seeds %s\n", path, KILN_BUNDLE_CORPUS);
    CHECK(same);
    free(have);
    free(want);
  }
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
    return write_seeds(argv[2]);
  test_round_trip();
  test_layout();
  test_add_refused();
  test_refused();
  test_check_engine();
  test_binary_parse();
  test_meta();
  test_write_file();
  test_seeds_current();
  return check_finish();
}
