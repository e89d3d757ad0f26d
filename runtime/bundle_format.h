/* bundle_format.h - the byte layout of an engine bundle (.kiln), shared by the reader
 * (runtime/bundle.c) and the writer (codegen/bundle_write.c). runtime/README.md, "Engine bundle",
 * is the contract; this header only names its numbers.
 *
 * Header-only on purpose: libkilnrt must not link the compiler, and the writer must not link
 * libkilnrt, yet both have to agree on every offset. All integers are little-endian; the load and
 * store helpers below go through bytes, so they are correct on any host and need no alignment. */
#ifndef KILN_RUNTIME_BUNDLE_FORMAT_H
#define KILN_RUNTIME_BUNDLE_FORMAT_H

#include <stdint.h>

/* The format version this runtime reads and this compiler writes. A reader refuses every other
 * version: a change of layout or of a section's meaning bumps it. */
#define KILN_BUNDLE_VERSION 1

#define KILN_BUNDLE_MAGIC "KILNENG" /* 8 bytes with its NUL */
#define KILN_BUNDLE_MAGIC_SIZE 8

#define KILN_BUNDLE_HEADER_SIZE 64
#define KILN_BUNDLE_ENTRY_SIZE 64   /* one section table entry */
#define KILN_BUNDLE_ALIGN 64        /* every section starts at a multiple of this */
#define KILN_BUNDLE_MAX_SECTIONS 64
#define KILN_BUNDLE_NAME_SIZE 32    /* a name field: at most 31 characters, NUL-padded */

/* Header fields: byte offsets inside the header. */
#define KILN_BUNDLE_H_MAGIC 0       /* 8 bytes */
#define KILN_BUNDLE_H_VERSION 8     /* u32 */
#define KILN_BUNDLE_H_NSECTIONS 12  /* u32, 1..KILN_BUNDLE_MAX_SECTIONS */
#define KILN_BUNDLE_H_FILE_SIZE 16  /* u64, the whole file */
#define KILN_BUNDLE_H_TABLE_HASH 24 /* u64, xxh3-64 of the S entries */
#define KILN_BUNDLE_H_RESERVED 32   /* 32 zero bytes */

/* Section table entry fields: byte offsets inside an entry. */
#define KILN_BUNDLE_E_NAME 0        /* KILN_BUNDLE_NAME_SIZE bytes */
#define KILN_BUNDLE_E_OFFSET 32     /* u64, from the start of the file */
#define KILN_BUNDLE_E_SIZE 40       /* u64 */
#define KILN_BUNDLE_E_HASH 48       /* u64, xxh3-64 of the contents */
#define KILN_BUNDLE_E_FLAGS 56      /* u32, 0: version 1 defines no flag */
#define KILN_BUNDLE_E_RESERVED 60   /* 4 zero bytes */

/* A name is 1..31 of these characters (printable ASCII without the space, so that a name can be
 * quoted in a message and written in a plan line as is), then NUL bytes to fill the field. */
static inline int kiln_bundle_name_char_ok(unsigned char c) { return c > 0x20 && c < 0x7f; }

/* The table directly follows the header; the first section starts where the table ends (always
 * a multiple of 64, since header and entries are 64 bytes). */
static inline uint64_t kiln_bundle_table_end(uint32_t nsections) {
  return KILN_BUNDLE_HEADER_SIZE + (uint64_t)nsections * KILN_BUNDLE_ENTRY_SIZE;
}

/* x rounded up to a multiple of KILN_BUNDLE_ALIGN; callers keep x below UINT64_MAX - 63. */
static inline uint64_t kiln_bundle_align_up(uint64_t x) {
  return (x + (KILN_BUNDLE_ALIGN - 1)) & ~(uint64_t)(KILN_BUNDLE_ALIGN - 1);
}

static inline uint32_t kiln_le32_load(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t kiln_le64_load(const uint8_t *p) {
  return (uint64_t)kiln_le32_load(p) | (uint64_t)kiln_le32_load(p + 4) << 32;
}

static inline void kiln_le32_store(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline void kiln_le64_store(uint8_t *p, uint64_t v) {
  kiln_le32_store(p, (uint32_t)v);
  kiln_le32_store(p + 4, (uint32_t)(v >> 32));
}

#endif
