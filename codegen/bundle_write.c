/* bundle_write.c - laying out and writing an engine bundle (bundle_write.h).
 *
 * Layout (runtime/README.md): the 64-byte header, S table entries, then each section at the next
 * 64-byte boundary after the previous one's end, zero bytes in between; the file ends where the
 * last section ends. Memory and file output share one emitter, so both give the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "ir/diag.h"
#include "codegen/bundle_write.h"

void cg_bundle_init(CgBundleWriter *w) { memset(w, 0, sizeof *w); }

bool cg_bundle_add(CgBundleWriter *w, const char *name, const void *data, size_t size,
                   char *err, size_t errlen) {
  size_t len = strlen(name);
  if (len == 0)
    return ir_errf(err, errlen, "bundle: empty section name");
  if (len >= KILN_BUNDLE_NAME_SIZE)
    return ir_errf(err, errlen, "bundle: section name '%.40s%s' is longer than %d characters", name,
                len > 40 ? "..." : "", KILN_BUNDLE_NAME_SIZE - 1);
  for (size_t i = 0; i < len; i++)
    if (!kiln_bundle_name_char_ok((unsigned char)name[i]))
      return ir_errf(err, errlen, "bundle: section name byte %zu is 0x%02x, not a printable "
                  "character other than the space", i, (unsigned char)name[i]);
  for (int i = 0; i < w->nsections; i++)
    if (strcmp(w->sections[i].name, name) == 0)
      return ir_errf(err, errlen, "bundle: section '%s' added twice", name);
  if (w->nsections == KILN_BUNDLE_MAX_SECTIONS)
    return ir_errf(err, errlen, "bundle: section '%s' is one too many (at most %d)", name,
                KILN_BUNDLE_MAX_SECTIONS);
  if (!data && size > 0)
    return ir_errf(err, errlen, "bundle: section '%s' has %zu bytes and no data", name, size);
  CgBundleSection *s = &w->sections[w->nsections++];
  memset(s->name, 0, sizeof s->name);
  memcpy(s->name, name, len);
  s->data = data;
  s->size = size;
  return true;
}

/* The header and table, ready to write, and where each section goes. */
typedef struct Layout {
  uint8_t head[KILN_BUNDLE_HEADER_SIZE + KILN_BUNDLE_MAX_SECTIONS * KILN_BUNDLE_ENTRY_SIZE];
  size_t head_size;
  uint64_t offsets[KILN_BUNDLE_MAX_SECTIONS];
  uint64_t total;
} Layout;

/* Offsets and total only (no hashing): false when w is empty or the total overflows. */
static bool place(const CgBundleWriter *w, Layout *l) {
  if (w->nsections < 1 || w->nsections > KILN_BUNDLE_MAX_SECTIONS)
    return false;
  uint64_t end = kiln_bundle_table_end((uint32_t)w->nsections);
  for (int i = 0; i < w->nsections; i++) {
    if (end > UINT64_MAX - KILN_BUNDLE_ALIGN)
      return false;
    uint64_t off = kiln_bundle_align_up(end);
    if (w->sections[i].size > UINT64_MAX - off)
      return false;
    l->offsets[i] = off;
    end = off + w->sections[i].size;
  }
  l->total = end;
  l->head_size = (size_t)kiln_bundle_table_end((uint32_t)w->nsections);
  return true;
}

static bool layout(const CgBundleWriter *w, Layout *l, char *err, size_t errlen) {
  memset(l, 0, sizeof *l);
  if (w->nsections == 0)
    return ir_errf(err, errlen, "bundle: no sections");
  if (!place(w, l))
    return ir_errf(err, errlen, "bundle: sections too large");
  uint8_t *h = l->head;
  memcpy(h + KILN_BUNDLE_H_MAGIC, KILN_BUNDLE_MAGIC, KILN_BUNDLE_MAGIC_SIZE);
  kiln_le32_store(h + KILN_BUNDLE_H_VERSION, KILN_BUNDLE_VERSION);
  kiln_le32_store(h + KILN_BUNDLE_H_NSECTIONS, (uint32_t)w->nsections);
  kiln_le64_store(h + KILN_BUNDLE_H_FILE_SIZE, l->total);
  for (int i = 0; i < w->nsections; i++) {
    const CgBundleSection *s = &w->sections[i];
    uint8_t *e = h + KILN_BUNDLE_HEADER_SIZE + (size_t)i * KILN_BUNDLE_ENTRY_SIZE;
    memcpy(e + KILN_BUNDLE_E_NAME, s->name, KILN_BUNDLE_NAME_SIZE);
    kiln_le64_store(e + KILN_BUNDLE_E_OFFSET, l->offsets[i]);
    kiln_le64_store(e + KILN_BUNDLE_E_SIZE, s->size);
    const void *data = s->size > 0 ? s->data : ""; /* data may be NULL when empty */
    kiln_le64_store(e + KILN_BUNDLE_E_HASH, XXH3_64bits(data, s->size));
  }
  kiln_le64_store(h + KILN_BUNDLE_H_TABLE_HASH,
                  XXH3_64bits(h + KILN_BUNDLE_HEADER_SIZE, l->head_size - KILN_BUNDLE_HEADER_SIZE));
  return true;
}

uint64_t cg_bundle_size(const CgBundleWriter *w) {
  Layout l;
  return place(w, &l) ? l.total : 0;
}

/* Receives the bundle's bytes in order; false stops the emitter (the sink keeps the reason). */
typedef bool (*Sink)(void *ctx, const void *p, size_t n);

static bool emit(const CgBundleWriter *w, const Layout *l, Sink sink, void *ctx) {
  static const uint8_t zeros[KILN_BUNDLE_ALIGN];
  if (!sink(ctx, l->head, l->head_size))
    return false;
  uint64_t pos = l->head_size;
  for (int i = 0; i < w->nsections; i++) {
    if (!sink(ctx, zeros, (size_t)(l->offsets[i] - pos)))
      return false;
    if (w->sections[i].size > 0 && !sink(ctx, w->sections[i].data, w->sections[i].size))
      return false;
    pos = l->offsets[i] + w->sections[i].size;
  }
  return true;
}

typedef struct MemSink {
  uint8_t *buf;
  size_t pos;
} MemSink;

static bool mem_sink(void *ctx, const void *p, size_t n) {
  MemSink *m = ctx;
  if (n > 0)
    memcpy(m->buf + m->pos, p, n);
  m->pos += n;
  return true;
}

bool cg_bundle_write_mem(const CgBundleWriter *w, uint8_t **out, size_t *size, char *err,
                         size_t errlen) {
  *out = NULL;
  *size = 0;
  Layout l;
  if (!layout(w, &l, err, errlen))
    return false;
  if (l.total > SIZE_MAX)
    return ir_errf(err, errlen, "bundle: %llu bytes do not fit in memory",
                (unsigned long long)l.total);
  MemSink m = {malloc((size_t)l.total), 0};
  if (!m.buf)
    return ir_errf(err, errlen, "bundle: out of memory for %llu bytes", (unsigned long long)l.total);
  emit(w, &l, mem_sink, &m);
  *out = m.buf;
  *size = (size_t)l.total;
  return true;
}

typedef struct FileSink {
  int fd;
  int error; /* errno of the failed write */
} FileSink;

static bool file_sink(void *ctx, const void *p, size_t n) {
  FileSink *f = ctx;
  const uint8_t *b = p;
  while (n > 0) {
    ssize_t k = write(f->fd, b, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      f->error = k < 0 ? errno : EIO;
      return false;
    }
    b += k;
    n -= (size_t)k;
  }
  return true;
}

/* Creates PATH.tmp.XXXXXX exclusively, with mode 0666 less the umask. mkstemp would give 0600,
 * and fixing that afterwards needs the umask, which cannot be read without setting it (a race
 * with other threads). The suffix only has to be unlikely to exist: O_EXCL makes it safe. */
static int open_temp(const char *path, char *tmp, size_t ntmp) {
  static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static atomic_uint counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t x = (uint64_t)getpid() * 0x9e3779b97f4a7c15u ^ (uint64_t)ts.tv_nsec ^
               (uint64_t)ts.tv_sec << 30;
  for (int attempt = 0; attempt < 100; attempt++) {
    uint64_t r = XXH3_64bits_withSeed(&x, sizeof x, atomic_fetch_add(&counter, 1));
    char suffix[7];
    for (int i = 0; i < 6; i++, r /= 62)
      suffix[i] = digits[r % 62];
    suffix[6] = 0;
    snprintf(tmp, ntmp, "%s.tmp.%s", path, suffix);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  return -1;
}

/* fsync of path's directory, best effort (see bundle_write.h). */
static void sync_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  if (!dir)
    return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(dir);
}

bool cg_bundle_write_file(const CgBundleWriter *w, const char *path, char *err, size_t errlen) {
  Layout l;
  if (!layout(w, &l, err, errlen))
    return false;
  size_t ntmp = strlen(path) + sizeof ".tmp.XXXXXX";
  char *tmp = malloc(ntmp);
  if (!tmp)
    return ir_errf(err, errlen, "%s: out of memory", path);
  int fd = open_temp(path, tmp, ntmp);
  if (fd < 0) {
    ir_errf(err, errlen, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    free(tmp);
    return false;
  }
  FileSink f = {fd, 0};
  const char *what = NULL;
  int error = 0;
  if (!emit(w, &l, file_sink, &f)) {
    what = "cannot write";
    error = f.error;
  } else if (fsync(fd) != 0) {
    what = "cannot sync";
    error = errno;
  }
  /* close can report a delayed write error (NFS): it counts as a failure of the write. */
  if (close(fd) != 0 && !what) {
    what = "cannot close";
    error = errno;
  }
  if (!what && rename(tmp, path) != 0) {
    what = "cannot rename";
    error = errno;
  }
  if (what) {
    unlink(tmp);
    ir_errf(err, errlen, "%s: %s %s: %s", path, what, tmp, strerror(error));
    free(tmp);
    return false;
  }
  free(tmp);
  sync_dir(path);
  return true;
}
