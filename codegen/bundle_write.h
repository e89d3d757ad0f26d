/* bundle_write.h - writing an engine bundle (runtime/README.md, "Engine bundle").
 *
 * A CgBundleWriter collects sections in file order, then lays them out (header, table, each
 * section at the next 64-byte boundary, zero padding between) and writes them to a file or to
 * memory. The bytes depend only on the sections' names and contents: no time, path, address or
 * uninitialized byte reaches the output, so the same sections give the same bytes.
 *
 * cg_bundle_add keeps a pointer to the caller's bytes, not a copy (weights can be large): they
 * must stay valid and unchanged until the last write. A writer holds no other resource and
 * needs no freeing. Everything the reader (runtime/bundle.c) would refuse about a name is
 * refused by cg_bundle_add, so a bundle this writer produces always opens. */
#ifndef KILN_CODEGEN_BUNDLE_WRITE_H
#define KILN_CODEGEN_BUNDLE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/bundle_format.h"

typedef struct CgBundleSection {
  char name[KILN_BUNDLE_NAME_SIZE];
  const void *data;
  size_t size;
} CgBundleSection;

typedef struct CgBundleWriter {
  CgBundleSection sections[KILN_BUNDLE_MAX_SECTIONS];
  int nsections;
} CgBundleWriter;

void cg_bundle_init(CgBundleWriter *w);

/* Appends a section. False with the reason in err when name is empty, longer than 31
 * characters, holds a character other than printable ASCII without the space, repeats an
 * earlier name, or the writer already holds 64 sections; w is then unchanged. data may be NULL
 * when size is 0. */
bool cg_bundle_add(CgBundleWriter *w, const char *name, const void *data, size_t size,
                   char *err, size_t errlen);

/* The size in bytes of the bundle w writes (0 when it has no section or the size overflows). */
uint64_t cg_bundle_size(const CgBundleWriter *w);

/* Writes the bundle into a new buffer (malloc'd; the caller frees *out). False with the reason
 * in err when w has no section or memory runs out; *out is then NULL. */
bool cg_bundle_write_mem(const CgBundleWriter *w, uint8_t **out, size_t *size, char *err,
                         size_t errlen);

/* Writes the bundle to path atomically: into a new file PATH.tmp.XXXXXX in the same directory
 * (created with mode 0666 less the umask, as a plain open would), flushed with fsync, then
 * renamed over path. On any failure the temporary file is removed, an existing file at path is
 * left as it was, and err holds "PATH: what failed: strerror" (or the reason w cannot be
 * written). After the rename, the directory is fsync'd so the rename itself is durable; a
 * failure there is not reported (some file systems refuse fsync on a directory), since the file
 * is by then complete. */
bool cg_bundle_write_file(const CgBundleWriter *w, const char *path, char *err, size_t errlen);

#endif
