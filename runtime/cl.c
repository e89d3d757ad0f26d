/* cl.c - libkilnrt's OpenCL layer (cl.h): error names, device choice, program builds, the
 * binary cache.
 *
 * Cache entries live in $XDG_CACHE_HOME/kiln (or ~/.cache/kiln), named by the xxh3-64 (hex) of
 * the source, device name, driver version and build options, each hashed with its length so no
 * two tuples collide by concatenation. An entry is "KILNBIN1", the binary's size (u64 LE), its
 * xxh3-64 (u64 LE), then the binary; anything else is corrupt, ignored and rewritten. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "runtime/cl.h"

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

const char *rt_cl_error_name(cl_int err) {
  switch (err) {
#define E(x) case x: return #x;
  E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
  E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
  E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
  E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
  E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
  E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
  E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) E(CL_INVALID_VALUE)
  E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT)
  E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_HOST_PTR)
  E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) E(CL_INVALID_IMAGE_SIZE)
  E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM)
  E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION)
  E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX) E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE)
  E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE)
  E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST)
  E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
  E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
  E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
  E(CL_INVALID_DEVICE_PARTITION_COUNT) E(CL_PLATFORM_NOT_FOUND_KHR)
#undef E
  }
  return "CL_UNKNOWN_ERROR";
}

kiln_status rt_cl_fail(cl_int err, const char *call, const char *file, int line) {
  const char *base = strrchr(file, '/');
  return rt_fail(KILN_ERROR_DEVICE, "%s failed: %s (%d) at runtime/%s:%d", call,
                 rt_cl_error_name(err), (int)err, base ? base + 1 : file, line);
}

/* ---- device choice ---------------------------------------------------------------------- */

enum { MAX_DEVICES = 64 };

typedef struct DeviceList {
  RtDevice dev[MAX_DEVICES];
  cl_device_type type[MAX_DEVICES];
  int n;
} DeviceList;

static kiln_status list_devices(DeviceList *l) {
  cl_platform_id plats[16];
  cl_uint nplat = 0;
  cl_int e = clGetPlatformIDs(16, plats, &nplat);
  if (e != CL_SUCCESS)
    return RT_CL_FAIL(e, "clGetPlatformIDs");
  l->n = 0;
  for (cl_uint p = 0; p < nplat && p < 16; p++) {
    cl_device_id ids[MAX_DEVICES];
    cl_uint nd = 0;
    e = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, ids, &nd);
    if (e == CL_DEVICE_NOT_FOUND)
      continue;
    if (e != CL_SUCCESS)
      return RT_CL_FAIL(e, "clGetDeviceIDs");
    for (cl_uint d = 0; d < nd && d < MAX_DEVICES && l->n < MAX_DEVICES; d++) {
      RtDevice *v = &l->dev[l->n];
      memset(v, 0, sizeof *v);
      v->platform = plats[p];
      v->device = ids[d];
      if ((e = clGetDeviceInfo(ids[d], CL_DEVICE_NAME, sizeof v->name - 1, v->name, NULL)) ||
          (e = clGetDeviceInfo(ids[d], CL_DRIVER_VERSION, sizeof v->driver - 1, v->driver,
                               NULL)) ||
          (e = clGetDeviceInfo(ids[d], CL_DEVICE_TYPE, sizeof l->type[l->n], &l->type[l->n],
                               NULL)))
        return RT_CL_FAIL(e, "clGetDeviceInfo");
      l->n++;
    }
  }
  if (l->n == 0)
    return rt_fail(KILN_ERROR_DEVICE, "no OpenCL device found (is an ICD registered in "
                                      "/etc/OpenCL/vendors?)");
  return KILN_OK;
}

static bool contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] &&
           tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n)
      return true;
  }
  return false;
}

static int first_of_type(const DeviceList *l, cl_device_type t) {
  for (int i = 0; i < l->n; i++)
    if (l->type[i] & t)
      return i;
  return -1;
}

kiln_status rt_cl_choose_device(const char *spec, RtDevice *out) {
  DeviceList *l = malloc(sizeof *l);
  if (!l)
    return rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory listing devices");
  kiln_status st = list_devices(l);
  if (st != KILN_OK) {
    free(l);
    return st;
  }
  if (!spec || !*spec)
    spec = getenv("KILN_DEVICE");
  int pick = -1;
  if (!spec || !*spec) {
    pick = first_of_type(l, CL_DEVICE_TYPE_GPU);
    if (pick < 0)
      pick = first_of_type(l, CL_DEVICE_TYPE_CPU);
    if (pick < 0)
      pick = 0;
  } else if (!strcmp(spec, "gpu") || !strcmp(spec, "cpu")) {
    pick = first_of_type(l, spec[0] == 'g' ? CL_DEVICE_TYPE_GPU : CL_DEVICE_TYPE_CPU);
  } else if (strspn(spec, "0123456789") == strlen(spec)) {
    long v = strlen(spec) < 4 ? strtol(spec, NULL, 10) : -1;
    pick = v >= 0 && v < l->n ? (int)v : -1;
  } else {
    for (int i = 0; i < l->n && pick < 0; i++)
      if (contains_nocase(l->dev[i].name, spec))
        pick = i;
  }
  if (pick < 0) {
    char msg[900];
    size_t n = 0;
    for (int i = 0; i < l->n && n < sizeof msg; i++) {
      int w = snprintf(msg + n, sizeof msg - n, "%s%d: %s", i ? ", " : "", i, l->dev[i].name);
      n += w > 0 ? (size_t)w : 0;
    }
    free(l);
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT,
                   "no OpenCL device matches '%s' (use cpu, gpu, an index or part of a name); "
                   "available: %s", spec, msg);
  }
  *out = l->dev[pick];
  free(l);
  return KILN_OK;
}

/* ---- the binary cache ------------------------------------------------------------------- */

static const char CACHE_MAGIC[8] = {'K', 'I', 'L', 'N', 'B', 'I', 'N', '1'};

static void hash_part(XXH3_state_t *s, const void *p, size_t n) {
  uint64_t len = n;
  XXH3_64bits_update(s, &len, sizeof len);
  XXH3_64bits_update(s, p, n);
}

/* The cache directory (created if missing) in dir[n]; false if there is none. */
static bool cache_dir_path(const char *override, char *dir, size_t n) {
  if (override) {
    if (!*override || strlen(override) >= n)
      return false;
    strcpy(dir, override);
  } else {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int w = xdg && *xdg ? snprintf(dir, n, "%s/kiln", xdg)
            : home && *home ? snprintf(dir, n, "%s/.cache/kiln", home)
                            : -1;
    if (w < 0 || (size_t)w >= n)
      return false;
  }
  /* mkdir -p; errors surface when the entry is opened or written */
  for (char *c = dir + 1; *c; c++)
    if (*c == '/') {
      *c = 0;
      mkdir(dir, 0755);
      *c = '/';
    }
  mkdir(dir, 0755);
  return true;
}

static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

/* The binary stored at path (malloc'd), or NULL when missing or corrupt. */
static unsigned char *cache_read(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  unsigned char hdr[24], *bin = NULL;
  if (fread(hdr, 1, 24, f) == 24 && !memcmp(hdr, CACHE_MAGIC, 8)) {
    uint64_t n = get_u64(hdr + 8), h = get_u64(hdr + 16);
    if (n > 0 && n < (1ull << 32) && (bin = malloc(n + 1)) && fread(bin, 1, n + 1, f) == n &&
        XXH3_64bits(bin, n) == h) {
      *size = n;
    } else {
      free(bin);
      bin = NULL;
    }
  }
  fclose(f);
  return bin;
}

/* Writes the entry through a temporary file and rename, so readers never see a partial one. */
static void cache_write(const char *dir, const char *path, const unsigned char *bin, size_t n) {
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", dir) >= (int)sizeof tmp)
    return;
  int fd = mkstemp(tmp);
  if (fd < 0)
    return;
  unsigned char hdr[24];
  memcpy(hdr, CACHE_MAGIC, 8);
  put_u64(hdr + 8, n);
  put_u64(hdr + 16, XXH3_64bits(bin, n));
  bool ok = write(fd, hdr, 24) == 24 && write(fd, bin, n) == (ssize_t)n;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, path) != 0)
    unlink(tmp);
}

/* ---- builds ----------------------------------------------------------------------------- */

static kiln_status build_fail(cl_int err, cl_program prog, const RtDevice *dev, int line) {
  char log[6144] = "";
  size_t n = 0;
  if (prog && clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log,
                                    &n) != CL_SUCCESS) {
    /* a log longer than the buffer: keep its start */
    char *big = NULL;
    if (clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) ==
            CL_SUCCESS &&
        (big = malloc(n + 1)) &&
        clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, n, big, NULL) ==
            CL_SUCCESS) {
      big[n] = 0;
      snprintf(log, sizeof log, "%s", big);
    }
    free(big);
  }
  log[sizeof log - 1] = 0;
  return rt_fail(KILN_ERROR_DEVICE, "clBuildProgram failed: %s (%d) at runtime/cl.c:%d for %s\n"
                 "build log:\n%s", rt_cl_error_name(err), (int)err, line, dev->name, log);
}

/* A program from a binary, built; NULL (and nothing reported) if the driver refuses it. */
static cl_program from_binary(cl_context ctx, const RtDevice *dev, const unsigned char *bin,
                              size_t n, const char *options) {
  cl_int e, st;
  cl_program p = clCreateProgramWithBinary(ctx, 1, &dev->device, &n, &bin, &st, &e);
  if (e != CL_SUCCESS || st != CL_SUCCESS) {
    if (p)
      clReleaseProgram(p);
    return NULL;
  }
  if (clBuildProgram(p, 1, &dev->device, options, NULL, NULL) != CL_SUCCESS) {
    clReleaseProgram(p);
    return NULL;
  }
  return p;
}

static bool key_matches(const RtDevice *dev, const RtBlob *b, const unsigned char **bin,
                        size_t *n) {
  const char *d = b->data;
  const char *nul = b->data ? memchr(d, 0, b->size) : NULL;
  if (!nul)
    return false;
  size_t klen = (size_t)(nul - d);
  if (klen && d[klen - 1] == '\n')
    klen--;
  char want[420];
  int w = snprintf(want, sizeof want, "device=%s;driver=%s", dev->name, dev->driver);
  if (w < 0 || (size_t)w != klen || memcmp(want, d, klen))
    return false;
  *bin = (const unsigned char *)nul + 1;
  *n = b->size - (size_t)(nul + 1 - d);
  return *n > 0;
}

static kiln_status get_binary(cl_program prog, unsigned char **bin, size_t *n) {
  cl_int e = clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof *n, n, NULL);
  if (e != CL_SUCCESS)
    return RT_CL_FAIL(e, "clGetProgramInfo(CL_PROGRAM_BINARY_SIZES)");
  if (*n == 0)
    return rt_fail(KILN_ERROR_DEVICE, "the OpenCL driver gives no program binary");
  if (!(*bin = malloc(*n)))
    return rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory for a %zu-byte program binary", *n);
  unsigned char *ptrs[1] = {*bin};
  if ((e = clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof ptrs, ptrs, NULL)) != CL_SUCCESS) {
    free(*bin);
    *bin = NULL;
    return RT_CL_FAIL(e, "clGetProgramInfo(CL_PROGRAM_BINARIES)");
  }
  return KILN_OK;
}

kiln_status rt_cl_build(cl_context ctx, const RtDevice *dev, const char *src, size_t len,
                        const char *options, const RtBlob *bins, int nbins, const char *cache_dir,
                        cl_program *out, RtProgramOrigin *origin) {
  if (!options)
    options = "";
  for (int i = 0; i < nbins; i++) {
    const unsigned char *bin;
    size_t n;
    if (key_matches(dev, &bins[i], &bin, &n) && (*out = from_binary(ctx, dev, bin, n, options))) {
      *origin = RT_PROGRAM_EMBEDDED;
      return KILN_OK;
    }
  }

  char dir[4096], path[4200];
  bool cache = cache_dir_path(cache_dir, dir, sizeof dir);
  if (cache) {
    XXH3_state_t *s = XXH3_createState();
    if (!s)
      return rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory hashing the program");
    XXH3_64bits_reset(s);
    hash_part(s, src, len);
    hash_part(s, dev->name, strlen(dev->name));
    hash_part(s, dev->driver, strlen(dev->driver));
    hash_part(s, options, strlen(options));
    unsigned long long key = XXH3_64bits_digest(s);
    XXH3_freeState(s);
    snprintf(path, sizeof path, "%s/%016llx.bin", dir, key);
    size_t n;
    unsigned char *bin = cache_read(path, &n);
    if (bin) {
      *out = from_binary(ctx, dev, bin, n, options);
      free(bin);
      if (*out) {
        *origin = RT_PROGRAM_CACHE;
        return KILN_OK;
      }
    }
  }

  cl_int e;
  cl_program p = clCreateProgramWithSource(ctx, 1, &src, &len, &e);
  if (e != CL_SUCCESS)
    return RT_CL_FAIL(e, "clCreateProgramWithSource");
  if ((e = clBuildProgram(p, 1, &dev->device, options, NULL, NULL)) != CL_SUCCESS) {
    kiln_status st = build_fail(e, p, dev, __LINE__);
    clReleaseProgram(p);
    return st;
  }
  if (cache) {
    unsigned char *bin;
    size_t n;
    if (get_binary(p, &bin, &n) == KILN_OK) {
      cache_write(dir, path, bin, n);
      free(bin);
    }
    rt_fail(KILN_OK, "%s", ""); /* a failed cache write is not the caller's error */
  }
  *out = p;
  *origin = RT_PROGRAM_SOURCE;
  return KILN_OK;
}

kiln_status rt_cl_program_section(cl_program prog, const RtDevice *dev, void **data,
                                  size_t *size) {
  unsigned char *bin;
  size_t n;
  kiln_status st = get_binary(prog, &bin, &n);
  if (st != KILN_OK)
    return st;
  char key[420];
  int k = snprintf(key, sizeof key, "device=%s;driver=%s", dev->name, dev->driver);
  unsigned char *sec = malloc((size_t)k + 1 + n);
  if (!sec) {
    free(bin);
    return rt_fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory for the program binary section");
  }
  memcpy(sec, key, (size_t)k + 1);
  memcpy(sec + k + 1, bin, n);
  free(bin);
  *data = sec;
  *size = (size_t)k + 1 + n;
  return KILN_OK;
}

kiln_status kiln_device_query(const char *device, kiln_device_info *out) {
  if (!out)
    return rt_fail(KILN_ERROR_INVALID_ARGUMENT, "kiln_device_query: out is NULL");
  RtDevice d;
  kiln_status st = rt_cl_choose_device(device, &d);
  if (st != KILN_OK)
    return st;
  cl_device_type type = 0;
  cl_int err = clGetDeviceInfo(d.device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
  if (err != CL_SUCCESS)
    return rt_cl_fail(err, "clGetDeviceInfo(CL_DEVICE_TYPE)", __FILE__, __LINE__);
  snprintf(out->name, sizeof out->name, "%s", d.name);
  out->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
  return KILN_OK;
}
