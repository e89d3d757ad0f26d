/* fuzz_bundle.c - libFuzzer target for the engine bundle reader (runtime/bundle.c).
 *
 * Each input is opened twice: as it is, and after repair (the header's file size, every
 * in-bounds section's checksum and the table hash recomputed), since a mutation almost never
 * keeps the xxh3 sums right and the checks behind them would otherwise go unexercised.
 *
 * Properties checked on every bundle that opens: its sections are views inside the input,
 * 64-byte aligned, in order, without overlap, with unique printable names and matching
 * checksums; the meta parser and binary sections are read without crashing; and writing the
 * sections again (codegen/bundle_write.c) gives a bundle that opens with the same sections, and
 * gives the input itself when the input has the writer's canonical layout. Any broken property
 * aborts. Seeds: corpus/bundle/ (written by test_bundle --write-seeds). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "codegen/bundle_write.h"
#include "runtime/bundle.h"

#define REQUIRE(cond)                                                                              \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz_bundle.c:%d: property broken: %s\n", __LINE__, #cond);               \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static void check_opened(const RtBundle *b, const uint8_t *data, size_t size) {
  REQUIRE(b->data == data && b->size == size);
  REQUIRE(b->nsections >= 1 && b->nsections <= KILN_BUNDLE_MAX_SECTIONS);
  uint64_t end = kiln_bundle_table_end((uint32_t)b->nsections);
  CgBundleWriter w;
  cg_bundle_init(&w);
  char err[256];
  bool canonical = true;
  for (int i = 0; i < b->nsections; i++) {
    const RtSection *s = &b->sections[i];
    REQUIRE(s->offset % KILN_BUNDLE_ALIGN == 0 && s->offset >= end);
    REQUIRE(s->offset <= size && s->size <= size - s->offset && s->data == data + s->offset);
    REQUIRE(XXH3_64bits(s->data, s->size) == s->hash);
    REQUIRE(rt_bundle_section(b, s->name) == s); /* unique */
    canonical = canonical && s->offset == kiln_bundle_align_up(end);
    end = s->offset + s->size;
    REQUIRE(cg_bundle_add(&w, s->name, s->data, s->size, err, sizeof err));
  }
  canonical = canonical && end == size;

  char value[64];
  const RtSection *meta = rt_bundle_section(b, "meta");
  if (meta) {
    rt_meta_get(meta, "model", value, sizeof value);
    rt_meta_get(meta, "max-batch", value, 4);
  }
  rt_bundle_check_engine(b, err, sizeof err);
  RtDeviceBinary bin;
  for (const RtSection *s = rt_bundle_next_binary(b, NULL); s; s = rt_bundle_next_binary(b, s))
    if (rt_bundle_binary_parse(s, &bin, err, sizeof err))
      REQUIRE(bin.data + bin.size == s->data + s->size);

  uint8_t *again;
  size_t nagain;
  REQUIRE(cg_bundle_write_mem(&w, &again, &nagain, err, sizeof err));
  RtBundle b2;
  REQUIRE(rt_bundle_open(again, nagain, &b2, err, sizeof err));
  REQUIRE(b2.nsections == b->nsections);
  for (int i = 0; i < b->nsections; i++)
    REQUIRE(strcmp(b2.sections[i].name, b->sections[i].name) == 0 &&
            b2.sections[i].size == b->sections[i].size &&
            memcmp(b2.sections[i].data, b->sections[i].data, b->sections[i].size) == 0);
  if (canonical)
    REQUIRE(nagain == size && memcmp(again, data, size) == 0);
  free(again);
}

/* Recomputes what a mutation breaks by accident: the file size, section checksums (of the
 * sections that lie inside the input) and the table hash. */
static void repair(uint8_t *p, size_t size) {
  if (size < KILN_BUNDLE_HEADER_SIZE)
    return;
  kiln_le64_store(p + KILN_BUNDLE_H_FILE_SIZE, size);
  uint32_t n = kiln_le32_load(p + KILN_BUNDLE_H_NSECTIONS);
  if (n > KILN_BUNDLE_MAX_SECTIONS)
    n = KILN_BUNDLE_MAX_SECTIONS;
  if (kiln_bundle_table_end(n) > size)
    return;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *e = p + KILN_BUNDLE_HEADER_SIZE + (size_t)i * KILN_BUNDLE_ENTRY_SIZE;
    uint64_t off = kiln_le64_load(e + KILN_BUNDLE_E_OFFSET);
    uint64_t sz = kiln_le64_load(e + KILN_BUNDLE_E_SIZE);
    if (off <= size && sz <= size - off)
      kiln_le64_store(e + KILN_BUNDLE_E_HASH, XXH3_64bits(p + off, sz));
  }
  kiln_le64_store(p + KILN_BUNDLE_H_TABLE_HASH,
                  XXH3_64bits(p + KILN_BUNDLE_HEADER_SIZE, (size_t)n * KILN_BUNDLE_ENTRY_SIZE));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  RtBundle b;
  char err[256];
  if (rt_bundle_open(data, size, &b, err, sizeof err))
    check_opened(&b, data, size);
  else
    REQUIRE(err[0] != 0 && b.nsections == 0);

  /* A copy in its own allocation, so that ASan sees any read past the end. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    return 0;
  if (size > 0)
    memcpy(copy, data, size);
  repair(copy, size);
  if (rt_bundle_open(copy, size, &b, err, sizeof err))
    check_opened(&b, copy, size);
  else
    REQUIRE(err[0] != 0 && b.nsections == 0);
  free(copy);
  return 0;
}
