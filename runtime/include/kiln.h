/* kiln.h - the public C API of libkilnrt, kiln's runtime library.
 *
 * An application links libkilnrt (pkg-config kiln, or CMake find_package(kiln) and
 * target kiln::kilnrt) and loads engine bundles written by kiln-compile. The library never exits
 * and never prints: every call returns a status, and kiln_last_error() says what went wrong.
 *
 * This release carries the library's foundation: versioning, statuses and the reference kernels.
 * Loading and running engines arrives with the engine bundle. */
#ifndef KILN_H
#define KILN_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define KILN_API __attribute__((visibility("default")))
#else
#define KILN_API
#endif

#define KILN_VERSION_MAJOR 0
#define KILN_VERSION_MINOR 1
#define KILN_VERSION_PATCH 0

typedef enum kiln_status {
  KILN_OK = 0,
  KILN_ERROR_INVALID_ARGUMENT,
  KILN_ERROR_IO,
  KILN_ERROR_FORMAT,
  KILN_ERROR_DEVICE,
  KILN_ERROR_OUT_OF_MEMORY,
  KILN_ERROR_UNSUPPORTED,
} kiln_status;

/* "0.1.0": the version of the library actually loaded. */
KILN_API const char *kiln_version(void);
/* A constant name for a status: "KILN_OK", "KILN_ERROR_IO", ... ("unknown status" otherwise). */
KILN_API const char *kiln_status_name(kiln_status s);
/* The message of the last failing call on this thread ("" if none). */
KILN_API const char *kiln_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
