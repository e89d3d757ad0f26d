/* kernels_resize.c - resize (ONNX Resize-19 without roi): nearest (every nearest_mode), linear
 * and cubic (cubic_coeff_a, default -0.75; exclude_outside renormalizes the taps inside the
 * input), under the coordinate
 * transformation modes half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners and
 * asymmetric. tf_crop_and_resize needs the roi input, which kiln's resize does not carry.
 *
 * Every mode is separable: each result coordinate along each dimension reads a few source
 * positions (taps) with weights; taps past the edges clamp to them (ONNX's edge padding). The
 * result is the sum over all combinations of taps of the product of their weights. Nearest works
 * on every element type (a copy, quantization kept); linear and cubic on floats. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

enum { MAX_TAPS = 4 };

typedef struct Tap {
  int64_t index;
  double weight;
} Tap;

typedef enum Ctm { CTM_HALF, CTM_HALF_SYM, CTM_PYTORCH, CTM_ALIGN, CTM_ASYM, CTM_CROP } Ctm;
typedef enum Nearest { NM_FLOOR_HALF, NM_CEIL_HALF, NM_FLOOR, NM_CEIL } Nearest;
typedef enum Mode { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC } Mode;

/* Looks s up in a NULL-terminated list: its position, or -1. */
static int choice(const char *s, const char *const *names) {
  for (int i = 0; names[i]; i++)
    if (strcmp(s, names[i]) == 0)
      return i;
  return -1;
}

/* The source coordinate of result coordinate o along a dimension of size in resized to out
 * with scale (ONNX's formulas). */
static double source_coord(Ctm ctm, double o, int64_t in, int64_t out, double scale) {
  switch (ctm) {
  case CTM_HALF: return (o + 0.5) / scale - 0.5;
  case CTM_HALF_SYM: {
    double adjustment = (double)out / (scale * (double)in);
    double center = (double)in / 2, offset = center * (1 - adjustment);
    return offset + (o + 0.5) / scale - 0.5;
  }
  case CTM_PYTORCH: return out > 1 ? (o + 0.5) / scale - 0.5 : 0;
  case CTM_ALIGN:
    /* The resized length is in * scale, unrounded (ONNX's reference): 2.4, not 2, for 4 * 0.6. */
    return out == 1 ? 0 : o * (double)(in - 1) / (scale * (double)in - 1);
  default: return o / scale; /* asymmetric */
  }
}

static int64_t clamp_index(int64_t i, int64_t in) { return i < 0 ? 0 : i >= in ? in - 1 : i; }

/* The cubic convolution weights of the four taps floor(x)-1 .. floor(x)+2, r = x - floor(x). */
static void cubic_weights(double r, double a, double *w) {
  double t[4] = {r + 1, r, 1 - r, 2 - r};
  for (int i = 0; i < 4; i++) {
    double x = t[i];
    w[i] = x <= 1 ? ((a + 2) * x - (a + 3)) * x * x + 1
                  : ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  }
}

/* The taps of result coordinate o; returns their count. */
static int taps_of(Mode mode, Nearest nm, double x, int64_t in, double cubic_a, bool exclude,
                   Tap *t) {
  double fl = floor(x), r = x - fl;
  int64_t i0 = fl < -0x1p62 ? INT64_MIN / 4 : fl > 0x1p62 ? INT64_MAX / 4 : (int64_t)fl;
  if (mode == MODE_NEAREST || r == 0) {
    bool up = false;
    if (r != 0)
      up = nm == NM_FLOOR_HALF ? r > 0.5 : nm == NM_CEIL_HALF ? r >= 0.5 : nm == NM_CEIL;
    t[0] = (Tap){clamp_index(i0 + up, in), 1};
    return 1;
  }
  if (mode == MODE_LINEAR) {
    t[0] = (Tap){clamp_index(i0, in), 1 - r};
    t[1] = (Tap){clamp_index(i0 + 1, in), r};
    return 2;
  }
  double w[4];
  cubic_weights(r, cubic_a, w);
  double sum = 0;
  for (int k = 0; k < 4; k++) {
    if (exclude && (i0 - 1 + k < 0 || i0 - 1 + k >= in))
      w[k] = 0; /* exclude_outside: the others renormalized */
    sum += w[k];
  }
  for (int k = 0; k < 4; k++)
    t[k] = (Tap){clamp_index(i0 - 1 + k, in), exclude && sum != 0 ? w[k] / sum : w[k]};
  return 4;
}

int rt_k_resize(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                size_t errlen) {
  static const char *const modes[] = {"nearest", "linear", "cubic", NULL};
  static const char *const ctms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                     "align_corners", "asymmetric", "tf_crop_and_resize", NULL};
  static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil",
                                    NULL};
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  RtTensor *y = &out[0];
  const char *ms = rt_attr_string(n, "mode", "nearest");
  const char *cs = rt_attr_string(n, "coordinate_transformation_mode", "half_pixel");
  const char *ns = rt_attr_string(n, "nearest_mode", "round_prefer_floor");
  int mode = choice(ms, modes), ctm = choice(cs, ctms), nm = choice(ns, nms);
  if (mode < 0 || ctm < 0 || nm < 0)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "%s \"%s\" is unknown",
                   mode < 0 ? "mode" : ctm < 0 ? "coordinate_transformation_mode" : "nearest_mode",
                   mode < 0 ? ms : ctm < 0 ? cs : ns);
  if (ctm == CTM_CROP)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "coordinate_transformation_mode "
                   "tf_crop_and_resize needs a roi, which resize does not carry");
  const double *scales;
  const int64_t *sizes;
  int nsc = rt_attr_floats(n, "scales", &scales), nsz = rt_attr_ints(n, "sizes", &sizes);
  if ((nsc > 0) == (nsz > 0) || (nsc > 0 ? nsc : nsz) != x->rank)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "expected one of scales and sizes, with %d values",
                   x->rank);
  int64_t dims[RT_MAX_RANK];
  double scale[RT_MAX_RANK];
  for (int i = 0; i < x->rank; i++) {
    int64_t d = x->dims[i];
    if (nsc > 0) {
      float prod = (float)d * (float)scales[i];
      if (!(scales[i] > 0) || !(prod < 0x1p62f))
        return rt_ref_fail(err, errlen, RT_ESHAPE, "scales[%d] is out of range", i);
      dims[i] = (int64_t)floorf(prod);
      scale[i] = scales[i];
    } else {
      dims[i] = sizes[i] == -1 ? d : sizes[i];
      if (dims[i] < 0)
        return rt_ref_fail(err, errlen, RT_ESHAPE, "sizes[%d] is %lld", i, (long long)sizes[i]);
      scale[i] = d ? (double)dims[i] / (double)d : 1;
    }
    if (d == 0 && dims[i] > 0)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "cannot resize the empty dimension %d", i);
  }
  if ((st = rt_ref_check_result(y, 0, x->rank, dims, err, errlen)))
    return st;
  if (y->elem != x->elem)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result element type %s, expected %s",
                   rt_elem_name(y->elem), rt_elem_name(x->elem));
  if (mode != MODE_NEAREST && (x->quantized || !rt_elem_is_float(x->elem)))
    return x->quantized ? rt_ref_quantized(0, err, errlen) : rt_ref_unsupported(x->elem, err, errlen);
  int64_t total = 0, count = rt_tensor_numel(y);
  for (int i = 0; i < x->rank; i++)
    total += dims[i];
  Tap *taps = malloc(sizeof *taps * MAX_TAPS * (size_t)(total ? total : 1));
  int *ntaps = malloc(sizeof *ntaps * (size_t)(total ? total : 1));
  if (!taps || !ntaps) {
    free(taps), free(ntaps);
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  }
  Tap *dt[RT_MAX_RANK];
  int *dn[RT_MAX_RANK];
  double cubic_a = rt_attr_float(n, "cubic_coeff_a", -0.75);
  bool exclude = rt_attr_int(n, "exclude_outside", 0) != 0;
  int64_t base = 0;
  for (int i = 0; i < x->rank; base += dims[i], i++) {
    dt[i] = taps + (size_t)base * MAX_TAPS;
    dn[i] = ntaps + base;
    for (int64_t o = 0; o < dims[i]; o++) {
      double src = source_coord((Ctm)ctm, (double)o, x->dims[i], dims[i], scale[i]);
      dn[i][o] = taps_of((Mode)mode, (Nearest)nm, src, x->dims[i], cubic_a, exclude,
                         dt[i] + o * MAX_TAPS);
    }
  }
  int64_t istr[RT_MAX_RANK], idx[RT_MAX_RANK] = {0};
  rt_ref_strides(x, istr);
  size_t size = rt_elem_size(x->elem);
  for (int64_t i = 0; i < count; i++) {
    int k[RT_MAX_RANK] = {0}; /* the current tap per dimension */
    double sum = 0;
    for (bool more = true; more;) {
      int64_t off = 0;
      double w = 1;
      for (int d = 0; d < x->rank; d++) {
        const Tap *t = &dt[d][idx[d] * MAX_TAPS + k[d]];
        off += t->index * istr[d];
        w *= t->weight;
      }
      if (mode == MODE_NEAREST)
        memcpy((char *)y->data + (size_t)i * size, (const char *)x->data + (size_t)off * size,
               size);
      else if (w != 0)
        sum += w * rt_ref_get(x->elem, x->data, off);
      more = false;
      for (int d = x->rank - 1; d >= 0 && !more; d--) {
        more = ++k[d] < dn[d][idx[d]];
        if (!more)
          k[d] = 0;
      }
    }
    if (mode != MODE_NEAREST)
      rt_ref_put(y->elem, y->data, i, sum);
    for (int d = x->rank - 1; d >= 0; d--) {
      if (++idx[d] < dims[d])
        break;
      idx[d] = 0;
    }
  }
  free(taps), free(ntaps);
  return RT_OK;
}
