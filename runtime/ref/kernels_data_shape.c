/* kernels_data_shape.c - non_zero and non_max_suppression, whose result shapes depend on the
 * data: rt_ref_bound gives the caller's upper bound and the kernels trim it (ref.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* max_output_boxes_per_class of non_max_suppression: operand 2 (one i64 element), 0 when absent
 * or negative. */
static int nms_max_boxes(const RtTensor *in, int nin, int64_t *out, char *err, size_t errlen) {
  *out = 0;
  if (nin < 3)
    return RT_OK;
  if (in[2].elem != RT_ELEM_I64 || rt_tensor_numel(&in[2]) != 1 || !in[2].data)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 2 (max_output_boxes_per_class) must be "
                       "one i64 element");
  int64_t v = rt_ref_geti(RT_ELEM_I64, in[2].data, 0);
  *out = v < 0 ? 0 : v;
  return RT_OK;
}

int rt_ref_bound(OpKind op, const RtTensor *in, int nin, RtTensor *out, int nout, char *err,
                 size_t errlen) {
  if (nout != 1 || nin < 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "%d operands and %d results, expected 1 result",
                       nin, nout);
  int64_t numel = rt_tensor_numel(&in[0]), rows;
  if (numel < 0)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "operand 0 has a malformed shape");
  memset(&out[0], 0, sizeof out[0]);
  out[0].elem = RT_ELEM_I64;
  out[0].rank = 2;
  if (op == OP_NON_ZERO) {
    out[0].dims[0] = in[0].rank;
    out[0].dims[1] = numel;
    return RT_OK;
  }
  if (op != OP_NON_MAX_SUPPRESSION)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "the result shape does not depend on the "
                       "data");
  if (nin < 2 || in[0].rank != 3 || in[1].rank != 3 || rt_tensor_numel(&in[1]) < 0)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "boxes and scores need rank 3");
  int st = nms_max_boxes(in, nin, &rows, err, errlen);
  if (st != RT_OK)
    return st;
  int64_t spatial = in[0].dims[1], per_class = rows < spatial ? rows : spatial;
  int64_t bc = in[1].dims[0] * in[1].dims[1];
  if (bc < 0 || (per_class > 0 && bc > INT64_MAX / 3 / per_class))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "the selection bound overflows");
  out[0].dims[0] = bc * per_class;
  out[0].dims[1] = 3;
  return RT_OK;
}

/* The caller's upper bound out (rt_ref_bound) holds the actual shape: rows of 3 (or, for
 * non_zero, columns) no more than the bound gives. */
static int bound_holds(const RtTensor *y, int64_t fixed, int fixed_dim, int64_t need, char *err,
                       size_t errlen) {
  if (y->elem != RT_ELEM_I64)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "result 0 has element type %s, expected i64",
                       rt_elem_name(y->elem));
  if (y->rank != 2 || y->dims[fixed_dim] != fixed || y->dims[1 - fixed_dim] < need) {
    char got[128];
    return rt_ref_fail(err, errlen, RT_ESHAPE, "result 0 has shape %s, too small for %lld "
                       "entries", rt_ref_dims_text(y->dims, y->rank, got, sizeof got),
                       (long long)need);
  }
  return RT_OK;
}

int rt_k_non_zero(const RtNode *n, const RtTensor *in, int nin, RtTensor *out, int nout,
                  char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *x = &in[0];
  bool fl = rt_elem_is_float(x->elem);
  if (!fl && !rt_elem_is_int(x->elem) && x->elem != RT_ELEM_BOOL)
    return rt_ref_unsupported(x->elem, err, errlen);
  int64_t numel = rt_tensor_numel(x), count = 0;
  for (int64_t i = 0; i < numel; i++) /* NaN is nonzero, -0.0 zero */
    count += fl ? rt_ref_get(x->elem, x->data, i) != 0 : rt_ref_geti(x->elem, x->data, i) != 0;
  if ((st = bound_holds(&out[0], x->rank, 0, count, err, errlen)))
    return st;
  int64_t *y = out[0].data, j = 0;
  for (int64_t i = 0; i < numel; i++) {
    if (!(fl ? rt_ref_get(x->elem, x->data, i) != 0 : rt_ref_geti(x->elem, x->data, i) != 0))
      continue;
    int64_t rest = i;
    for (int d = x->rank - 1; d >= 0; d--) {
      y[d * count + j] = rest % x->dims[d];
      rest /= x->dims[d];
    }
    j++;
  }
  out[0].dims[1] = count;
  return RT_OK;
}

typedef struct NmsBox {
  float y1, x1, y2, x2;
} NmsBox;

/* Box i of a batch as corners, whichever order they were given in. */
static NmsBox nms_box(const float *b, bool center) {
  NmsBox r;
  if (center) {
    float xc = b[0], yc = b[1], w = b[2], h = b[3];
    r = (NmsBox){yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2};
  } else {
    r = (NmsBox){b[0] < b[2] ? b[0] : b[2], b[1] < b[3] ? b[1] : b[3], b[0] < b[2] ? b[2] : b[0],
                 b[1] < b[3] ? b[3] : b[1]};
  }
  return r;
}

/* ONNX Runtime's rule: IoU above the threshold, with empty boxes or no overlap never
 * suppressing. */
static bool nms_suppress(NmsBox a, NmsBox b, float iou_threshold) {
  float iy1 = a.y1 > b.y1 ? a.y1 : b.y1, ix1 = a.x1 > b.x1 ? a.x1 : b.x1;
  float iy2 = a.y2 < b.y2 ? a.y2 : b.y2, ix2 = a.x2 < b.x2 ? a.x2 : b.x2;
  if (ix2 <= ix1 || iy2 <= iy1)
    return false;
  float inter = (ix2 - ix1) * (iy2 - iy1);
  float area_a = (a.x2 - a.x1) * (a.y2 - a.y1), area_b = (b.x2 - b.x1) * (b.y2 - b.y1);
  float uni = area_a + area_b - inter;
  if (area_a <= 0 || area_b <= 0 || uni <= 0)
    return false;
  return inter / uni > iou_threshold;
}

typedef struct NmsCand {
  float score;
  int64_t index;
} NmsCand;

/* Higher score first (NaN last), then lower index: a stable sort by descending score. */
static int nms_cmp(const void *pa, const void *pb) {
  const NmsCand *a = pa, *b = pb;
  bool an = a->score != a->score, bn = b->score != b->score;
  if (an != bn)
    return an ? 1 : -1;
  if (!an && a->score != b->score)
    return a->score > b->score ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

int rt_k_non_max_suppression(const RtNode *n, const RtTensor *in, int nin, RtTensor *out,
                             int nout, char *err, size_t errlen) {
  int st = rt_ref_check_call(n, in, nin, out, nout, err, errlen);
  if (st != RT_OK)
    return st;
  const RtTensor *bx = &in[0], *sc = &in[1];
  if (bx->elem != RT_ELEM_F32 || sc->elem != RT_ELEM_F32)
    return rt_ref_fail(err, errlen, RT_EUNSUPPORTED, "boxes and scores have element types %s and "
                       "%s, expected f32", rt_elem_name(bx->elem), rt_elem_name(sc->elem));
  if (bx->rank != 3 || bx->dims[2] != 4 || sc->rank != 3 || sc->dims[0] != bx->dims[0] ||
      sc->dims[2] != bx->dims[1]) {
    char a[128], b[128];
    return rt_ref_fail(err, errlen, RT_ESHAPE, "boxes %s and scores %s, expected [B,S,4] and "
                       "[B,C,S]", rt_ref_dims_text(bx->dims, bx->rank, a, sizeof a),
                       rt_ref_dims_text(sc->dims, sc->rank, b, sizeof b));
  }
  int64_t max_boxes;
  if ((st = nms_max_boxes(in, nin, &max_boxes, err, errlen)))
    return st;
  float iou = 0, score_min = 0;
  bool have_score = nin > 4;
  for (int i = 3; i < nin; i++)
    if (in[i].elem != RT_ELEM_F32 || rt_tensor_numel(&in[i]) != 1)
      return rt_ref_fail(err, errlen, RT_ESHAPE, "operand %d (%s) must be one f32 element", i,
                         i == 3 ? "iou_threshold" : "score_threshold");
  if (nin > 3)
    iou = ((const float *)in[3].data)[0];
  if (have_score)
    score_min = ((const float *)in[4].data)[0];
  if (!(iou >= 0 && iou <= 1))
    return rt_ref_fail(err, errlen, RT_ESHAPE, "iou_threshold is %g, expected 0 to 1", iou);
  int64_t center = rt_attr_int(n, "center_point_box", 0);
  if (center != 0 && center != 1)
    return rt_ref_fail(err, errlen, RT_ESHAPE, "center_point_box is %lld, expected 0 or 1",
                       (long long)center);
  int64_t nb = bx->dims[0], ns = bx->dims[1], nc = sc->dims[1];
  int64_t per_class = max_boxes < ns ? max_boxes : ns;
  if ((st = bound_holds(&out[0], 3, 1, nb * nc * per_class, err, errlen)))
    return st;
  NmsCand *cand = malloc(sizeof *cand * (size_t)(ns + 1));
  int64_t *sel = malloc(sizeof *sel * (size_t)(ns + 1));
  if (!cand || !sel) {
    free(cand);
    free(sel);
    return rt_ref_fail(err, errlen, RT_ENOMEM, "out of memory");
  }
  const float *boxes = bx->data, *scores = sc->data;
  int64_t *y = out[0].data, rows = 0;
  for (int64_t b = 0; b < nb && per_class > 0; b++)
    for (int64_t c = 0; c < nc; c++) {
      const float *s = scores + (b * nc + c) * ns;
      int64_t ncand = 0, nsel = 0;
      for (int64_t i = 0; i < ns; i++)
        if (!have_score || s[i] > score_min)
          cand[ncand++] = (NmsCand){s[i], i};
      qsort(cand, (size_t)ncand, sizeof *cand, nms_cmp);
      for (int64_t k = 0; k < ncand && nsel < per_class; k++) {
        NmsBox a = nms_box(boxes + (b * ns + cand[k].index) * 4, center);
        bool keep = true;
        for (int64_t j = 0; j < nsel && keep; j++)
          keep = !nms_suppress(a, nms_box(boxes + (b * ns + sel[j]) * 4, center), iou);
        if (!keep)
          continue;
        sel[nsel++] = cand[k].index;
        y[rows * 3] = b, y[rows * 3 + 1] = c, y[rows * 3 + 2] = cand[k].index;
        rows++;
      }
    }
  free(cand);
  free(sel);
  out[0].dims[0] = rows;
  return RT_OK;
}
