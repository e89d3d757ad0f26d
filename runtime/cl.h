/* cl.h - libkilnrt's OpenCL layer: device choice, program build with a binary cache, error names.
 *
 * OpenCL 1.2 API only (NVIDIA's driver and POCL both provide it). Every failure returns
 * KILN_ERROR_DEVICE with kiln_last_error() naming the OpenCL call, its CL_* error name and
 * runtime/cl.c's line, plus the build log for builds. */
#ifndef KILN_RUNTIME_CL_H
#define KILN_RUNTIME_CL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>

#include "runtime/rt.h"

/* "CL_OUT_OF_RESOURCES" for every OpenCL 1.2 error code (and the ICD loader's
 * CL_PLATFORM_NOT_FOUND_KHR); "CL_UNKNOWN_ERROR" otherwise. */
const char *rt_cl_error_name(cl_int err);

/* Records "CALL failed: CL_NAME (code) at runtime/FILE:LINE" and returns KILN_ERROR_DEVICE. */
kiln_status rt_cl_fail(cl_int err, const char *call, const char *file, int line);
#define RT_CL_FAIL(err, call) rt_cl_fail((err), (call), __FILE__, __LINE__)

typedef struct RtDevice {
  cl_platform_id platform;
  cl_device_id device;
  char name[256];
  char driver[128]; /* CL_DRIVER_VERSION */
} RtDevice;

/* Chooses a device by spec: "cpu", "gpu" (the first of that type), a decimal index into all
 * devices of all platforms, or a case-insensitive substring of the device name. NULL or "":
 * $KILN_DEVICE if set and non-empty, else the first GPU, else the first CPU, else device 0.
 * A spec matching nothing is KILN_ERROR_INVALID_ARGUMENT naming every available device. */
kiln_status rt_cl_choose_device(const char *spec, RtDevice *out);

/* An embedded program binary (a bundle's binary.N section): "device=NAME;driver=VERSION",
 * optional '\n', NUL, then the binary. */
typedef struct RtBlob {
  const void *data;
  size_t size;
} RtBlob;

typedef enum RtProgramOrigin {
  RT_PROGRAM_SOURCE,   /* compiled from source */
  RT_PROGRAM_CACHE,    /* a binary from the disk cache */
  RT_PROGRAM_EMBEDDED, /* a binary from the bundle */
} RtProgramOrigin;

/* Builds src[len] with options for dev in ctx. Embedded binaries whose key matches the device
 * are tried first, then the disk cache (cache_dir; NULL: $XDG_CACHE_HOME/kiln or ~/.cache/kiln;
 * "": no cache), then the source; a stale or corrupt binary is skipped, not an error. A program
 * built from source is written to the cache atomically (temporary file + rename); failing to
 * write the cache is not an error (a read-only cache still loads). */
kiln_status rt_cl_build(cl_context ctx, const RtDevice *dev, const char *src, size_t len,
                        const char *options, const RtBlob *bins, int nbins, const char *cache_dir,
                        cl_program *out, RtProgramOrigin *origin);

/* The built program's binary for dev as a binary.N section (key line, NUL, binary), malloc'd. */
kiln_status rt_cl_program_section(cl_program prog, const RtDevice *dev, void **data,
                                  size_t *size);

#endif
