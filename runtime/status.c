/* status.c - versions, status names and the per-thread last error of libkilnrt. */
#include <stdarg.h>
#include <stdio.h>

#include "kiln.h"
#include "runtime/rt.h"

static _Thread_local char last_error[8192];

const char *kiln_version(void) { return KILN_VERSION_STRING; }

const char *kiln_status_name(kiln_status s) {
  switch (s) {
  case KILN_OK: return "KILN_OK";
  case KILN_ERROR_INVALID_ARGUMENT: return "KILN_ERROR_INVALID_ARGUMENT";
  case KILN_ERROR_IO: return "KILN_ERROR_IO";
  case KILN_ERROR_FORMAT: return "KILN_ERROR_FORMAT";
  case KILN_ERROR_DEVICE: return "KILN_ERROR_DEVICE";
  case KILN_ERROR_OUT_OF_MEMORY: return "KILN_ERROR_OUT_OF_MEMORY";
  case KILN_ERROR_UNSUPPORTED: return "KILN_ERROR_UNSUPPORTED";
  case KILN_ERROR_EXECUTION: return "KILN_ERROR_EXECUTION";
  }
  return "unknown status";
}

const char *kiln_last_error(void) { return last_error; }

kiln_status rt_fail(kiln_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return s;
}
