/* common.c - see common.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "frontend/text/parse.h"

const char *tool_name = "kiln";

int tool_verror(const char *fmt, va_list ap) {
  fprintf(stderr, "%s: error: ", tool_name);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  return 1;
}

int tool_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tool_verror(fmt, ap);
  va_end(ap);
  return 1;
}

double tool_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

char *tool_read_file(const char *path, size_t *len) {
  if (path && strcmp(path, "-"))
    return fe_read_file(path, len); /* NUL-terminated, as fe_read_file's Buf is */
  Buf b = {0};
  if (!ir_buf_read_stream(&b, stdin)) {
    int err = errno;
    ir_buf_free(&b);
    errno = err;
    return NULL;
  }
  *len = b.len;
  return b.data;
}

bool tool_is_onnx(const char *path) {
  size_t n = path ? strlen(path) : 0;
  return n >= 5 && !strcmp(path + n - 5, ".onnx");
}

Module *tool_load_module(const char *path, const char *src, size_t len, const FeOnnxOptions *fo,
                         Diag *d) {
  Module *m = tool_is_onnx(path) ? fe_onnx_import_file(path, fo, d) : fe_parse_text(src, len, d);
  if (m && ir_verify(m, d) != 0) {
    ir_module_free(m);
    m = NULL;
  }
  return m;
}

void tool_json_str(Buf *b, const char *s, size_t n) {
  ir_buf_putc(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      ir_buf_printf(b, "\\%c", c);
    else if (c == '\n')
      ir_buf_puts(b, "\\n");
    else if (c < 0x20)
      ir_buf_printf(b, "\\u%04x", c);
    else
      ir_buf_putc(b, (char)c);
  }
  ir_buf_putc(b, '"');
}

bool tool_is_flag(const char *arg, const char *name) {
  size_t n = strlen(name);
  return !strncmp(arg, name, n) && (arg[n] == 0 || arg[n] == '=');
}

const char *tool_flag_value(int argc, char **argv, int *i, const char *name) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (a[n] == '=')
    return a + n + 1;
  return *i + 1 < argc ? argv[++*i] : NULL;
}

static bool write_all(FILE *f, const void *data, size_t n) {
  bool ok = f && fwrite(data, 1, n, f) == n;
  return (f && fclose(f) == 0) && ok;
}

bool tool_write_file(const char *tool, const char *path, const void *data, size_t n) {
  if (!path) {
    bool ok = fwrite(data, 1, n, stdout) == n;
    return fflush(stdout) == 0 && ok;
  }
  struct stat st;
  bool ok;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    ok = write_all(fopen(path, "wb"), data, n); /* nothing partial can be left behind there */
  } else {
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp)
      abort();
    snprintf(tmp, len + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    ok = fd >= 0 && write_all(fdopen(fd, "wb"), data, n) && rename(tmp, path) == 0;
    int err = errno;
    if (!ok && fd >= 0)
      remove(tmp);
    errno = err;
    free(tmp);
  }
  if (!ok)
    fprintf(stderr, "%s: error: cannot write '%s': %s\n", tool, path, strerror(errno));
  return ok;
}
