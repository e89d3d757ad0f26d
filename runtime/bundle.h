/* bundle.h - reading and checking an engine bundle (runtime/README.md, "Engine bundle").
 *
 * rt_bundle_open checks every byte of the file before anything uses it: the header, the section
 * table and its hash, each section's name and bounds, the zero padding between sections and each
 * section's xxh3-64. It allocates nothing and copies nothing: an RtBundle and its sections are
 * views into the caller's bytes (an mmap of the file), valid while those bytes are.
 *
 * Every failure fills err with one line that names the part and the reason, e.g.
 *   section 'weights': checksum mismatch (stored 0x..., computed 0x...)
 *   truncated: header says 1234 bytes, file has 1000
 * The caller prefixes the file name (the reader never sees it). */
#ifndef KILN_RUNTIME_BUNDLE_H
#define KILN_RUNTIME_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/bundle_format.h"

typedef struct RtSection {
  char name[KILN_BUNDLE_NAME_SIZE]; /* NUL-terminated */
  const uint8_t *data;              /* inside the bundle's bytes; 64-byte aligned in the file */
  size_t size;
  uint64_t offset;                  /* from the start of the file */
  uint64_t hash;                    /* xxh3-64 of data[0..size), checked */
} RtSection;

typedef struct RtBundle {
  const uint8_t *data;
  size_t size;
  uint32_t version;
  int nsections;
  RtSection sections[KILN_BUNDLE_MAX_SECTIONS]; /* in file order */
} RtBundle;

/* Checks data[0..size) and fills b with views into it. False, with the reason in err (when
 * errlen > 0), if anything in the file breaks the layout; b is then left zeroed. Sections
 * whose names the runtime does not know are kept, and ignored by the engine
 * (see rt_bundle_check_engine). */
bool rt_bundle_open(const void *data, size_t size, RtBundle *b, char *err, size_t errlen);

/* The section named name, or NULL. */
const RtSection *rt_bundle_section(const RtBundle *b, const char *name);

/* Whether b holds what an engine needs: the sections meta, plan, kernels and weights (ir is
 * optional), and names of the form binary.N (N decimal, no leading zero) for every section whose
 * name starts with "binary.". False with "missing required sections: plan, weights" or
 * "section 'binary.x': a binary's name is binary.N with N a decimal number" in err. */
bool rt_bundle_check_engine(const RtBundle *b, char *err, size_t errlen);

/* The binary.N sections in table order: pass NULL to get the first, then the previous result;
 * NULL after the last. */
const RtSection *rt_bundle_next_binary(const RtBundle *b, const RtSection *prev);

/* A binary.N section's contents: "device=NAME;driver=VERSION", a NUL, then the program binary
 * (NAME holds no ';'). device and driver are copied, NUL-terminated; data is a view. */
typedef struct RtDeviceBinary {
  char device[256];
  char driver[128];
  const uint8_t *data;
  size_t size;
} RtDeviceBinary;

/* False with "section 'binary.0': ..." in err when the key line is missing or malformed. */
bool rt_bundle_binary_parse(const RtSection *s, RtDeviceBinary *out, char *err, size_t errlen);

/* The meta section (text, one "key = value" per line; spaces and tabs around key and value are
 * not part of them; a value may hold '='; lines without '=' are skipped; the first line with the
 * key wins). Copies the value of key into out[0..n) NUL-terminated and returns true; false, with
 * out "" when n > 0, if no line has key or the value does not fit (n - 1 bytes) or holds a NUL. */
bool rt_meta_get(const RtSection *meta, const char *key, char *out, size_t n);

#endif
