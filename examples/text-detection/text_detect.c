/* text_detect - PaddleOCR's text detector (PP-OCRv4 det, a DB network) through a kiln engine.
 *
 *   text_detect ENGINE IMAGE.png -o OUT.png [--device D] [--threshold 0.3] [--box-threshold 0.6]
 *               [--unclip 1.5] [--runs 5]
 *   text_detect --input-size IMAGE.png [--limit 960]
 *
 * The first form reads a PNG, preprocesses it as PaddleOCR's DetResizeForTest + NormalizeImage do
 * (resize to the engine's input size, BGR channel order, /255, ImageNet mean and std, NCHW), runs
 * the engine, post-processes the probability map as PaddleOCR's DBPostProcess does (binarize,
 * connected components, minimum-area rectangles, box score, unclip, size filter, back to image
 * coordinates), draws the boxes into OUT.png and prints them with the inference latency (the
 * median time of kiln_context_run over --runs runs, after one warm-up run).
 * The second form prints the input shape PaddleOCR would pick for the image ("1x3xHxW": the sides
 * scaled so that the longest is at most --limit, then rounded to multiples of 32), which run.sh
 * passes to kiln-compile --shape.
 *
 * Errors (bad arguments, an unreadable image, a file that is not PNG, a zero-size image, an engine
 * that does not load or is not a detector) print one line "text_detect: ..." and exit 1. */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kiln.h"

#define MAX_CANDIDATES 1000 /* DBPostProcess max_candidates */
#define MIN_SIZE 3          /* DBPostProcess min_size: shorter side in map pixels */

static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("text_detect: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) {
    fail("out of memory");
    exit(1);
  }
  return p;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- PNG in and out (libpng's simplified API) ----------------------------------------------- */

typedef struct Image {
  int w, h;
  uint8_t *rgb; /* h rows of w RGB triples */
} Image;

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads path as 8-bit RGB (palette, grey and 16-bit expanded; alpha composed over white).
 * Before libpng sees it, the file's own header is checked so that the three bad inputs of the
 * quickstart get their own message: no file, not a PNG, zero size. */
static int image_read(const char *path, Image *img) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail("cannot read '%s': %s", path, strerror(errno));
  uint8_t head[24];
  size_t n = fread(head, 1, sizeof head, f);
  int bad = ferror(f);
  fclose(f);
  if (bad)
    return fail("cannot read '%s': %s", path, strerror(errno));
  if (n == 0)
    return fail("'%s' is empty (0 bytes), not a PNG image", path);
  if (n < 8 || png_sig_cmp(head, 0, 8))
    return fail("'%s' is not a PNG file (no PNG signature)", path);
  if (n < 24 || memcmp(head + 12, "IHDR", 4))
    return fail("'%s' is a truncated PNG file (no IHDR chunk)", path);
  uint32_t w = be32(head + 16), h = be32(head + 20);
  if (w == 0 || h == 0)
    return fail("'%s' is a zero-size image (%ux%u)", path, (unsigned)w, (unsigned)h);
  if (w > 16384 || h > 16384)
    return fail("'%s' is %ux%u: larger than 16384 pixels on a side", path, (unsigned)w,
                (unsigned)h);

  png_image pi;
  memset(&pi, 0, sizeof pi);
  pi.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&pi, path))
    return fail("cannot decode '%s' as PNG: %s", path, pi.message);
  pi.format = PNG_FORMAT_RGB;
  img->w = (int)pi.width;
  img->h = (int)pi.height;
  img->rgb = xcalloc(PNG_IMAGE_SIZE(pi), 1);
  png_color white = {255, 255, 255};
  if (!png_image_finish_read(&pi, &white, img->rgb, 0, NULL)) {
    free(img->rgb);
    img->rgb = NULL;
    return fail("cannot decode '%s' as PNG: %s", path, pi.message);
  }
  return 0;
}

/* Writes img to path whole or not at all (a temporary file renamed into place). */
static int image_write(const char *path, const Image *img) {
  size_t len = strlen(path);
  char *tmp = xcalloc(len + 8, 1);
  snprintf(tmp, len + 8, "%s.tmp~", path);
  png_image pi;
  memset(&pi, 0, sizeof pi);
  pi.version = PNG_IMAGE_VERSION;
  pi.width = (png_uint_32)img->w;
  pi.height = (png_uint_32)img->h;
  pi.format = PNG_FORMAT_RGB;
  int ok = png_image_write_to_file(&pi, tmp, 0, img->rgb, 0, NULL);
  if (!ok) {
    fail("cannot write '%s': %s", path, pi.message);
  } else if (rename(tmp, path) != 0) {
    fail("cannot write '%s': %s", path, strerror(errno));
    ok = 0;
  }
  if (!ok)
    remove(tmp);
  free(tmp);
  return ok ? 0 : 1;
}

/* ---- preprocessing -------------------------------------------------------------------------- */

/* PaddleOCR's DetResizeForTest (limit_type 'max'): the image scaled so that its longest side is at
 * most limit, each side then rounded to a multiple of 32 (at least 32). */
static void det_size(int w, int h, int limit, int *ow, int *oh) {
  double ratio = (w > h ? w : h) > limit ? (double)limit / (w > h ? w : h) : 1.0;
  int rw = (int)(w * ratio), rh = (int)(h * ratio);
  rw = (int)lround(rw / 32.0) * 32;
  rh = (int)lround(rh / 32.0) * 32;
  *ow = rw < 32 ? 32 : rw;
  *oh = rh < 32 ? 32 : rh;
}

/* cv2.resize(INTER_LINEAR) to ow x oh (half-pixel centres, edges clamped), then NormalizeImage on
 * the BGR image as cv2.imread gives it: channel 0 is blue, normalized with mean[0] = 0.485. */
static void preprocess(const Image *img, int ow, int oh, float *x) {
  static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  double sx = (double)img->w / ow, sy = (double)img->h / oh;
  size_t plane = (size_t)ow * oh;
  for (int y = 0; y < oh; y++) {
    double fy = (y + 0.5) * sy - 0.5;
    if (fy < 0)
      fy = 0;
    int y0 = (int)fy, y1 = y0 + 1 < img->h ? y0 + 1 : img->h - 1;
    double wy = fy - y0;
    for (int xo = 0; xo < ow; xo++) {
      double fx = (xo + 0.5) * sx - 0.5;
      if (fx < 0)
        fx = 0;
      int x0 = (int)fx, x1 = x0 + 1 < img->w ? x0 + 1 : img->w - 1;
      double wx = fx - x0;
      for (int c = 0; c < 3; c++) {
        int rgb = 2 - c; /* BGR */
        const uint8_t *r0 = img->rgb + (size_t)y0 * img->w * 3, *r1 = img->rgb + (size_t)y1 * img->w * 3;
        double v = (1 - wy) * ((1 - wx) * r0[x0 * 3 + rgb] + wx * r0[x1 * 3 + rgb]) +
                   wy * ((1 - wx) * r1[x0 * 3 + rgb] + wx * r1[x1 * 3 + rgb]);
        x[c * plane + (size_t)y * ow + xo] = (float)((v / 255.0 - mean[c]) / std[c]);
      }
    }
  }
}

/* ---- DB post-processing --------------------------------------------------------------------- */

typedef struct Pt {
  double x, y;
} Pt;

/* A detected box: corners top-left, top-right, bottom-right, bottom-left (PaddleOCR's order). */
typedef struct Box {
  Pt p[4];
  double score;
} Box;

static double cross(Pt o, Pt a, Pt b) { return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x); }

static int pt_cmp(const void *a, const void *b) {
  const Pt *p = a, *q = b;
  if (p->x != q->x)
    return p->x < q->x ? -1 : 1;
  return (p->y > q->y) - (p->y < q->y);
}

/* Andrew's monotone chain: the convex hull of pts[n] (sorted in place) into hull, counter-
 * clockwise in a y-down frame's mirror, without collinear points; returns its size. hull needs
 * room for 2n points. */
static int convex_hull(Pt *pts, int n, Pt *hull) {
  qsort(pts, (size_t)n, sizeof *pts, pt_cmp);
  if (n < 3) {
    memcpy(hull, pts, (size_t)n * sizeof *pts);
    return n;
  }
  int k = 0;
  for (int i = 0; i < n; i++) {
    while (k >= 2 && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0)
      k--;
    hull[k++] = pts[i];
  }
  for (int i = n - 2, lo = k + 1; i >= 0; i--) {
    while (k >= lo && cross(hull[k - 2], hull[k - 1], pts[i]) <= 0)
      k--;
    hull[k++] = pts[i];
  }
  return k - 1;
}

/* cv2.minAreaRect by rotating calipers: for each hull edge, the rectangle with a side on it that
 * holds every hull point; the smallest. Corners into r[4] (in order around the rectangle). */
static void min_area_rect(const Pt *hull, int n, Pt r[4]) {
  if (n == 1) {
    r[0] = r[1] = r[2] = r[3] = hull[0];
    return;
  }
  double best = INFINITY;
  for (int i = 0; i < n; i++) {
    Pt a = hull[i], b = hull[(i + 1) % n];
    double len = hypot(b.x - a.x, b.y - a.y);
    if (len == 0)
      continue;
    Pt u = {(b.x - a.x) / len, (b.y - a.y) / len}, v = {-u.y, u.x};
    double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
    for (int j = 0; j < n; j++) {
      double pu = hull[j].x * u.x + hull[j].y * u.y, pv = hull[j].x * v.x + hull[j].y * v.y;
      umin = fmin(umin, pu), umax = fmax(umax, pu), vmin = fmin(vmin, pv), vmax = fmax(vmax, pv);
    }
    double area = (umax - umin) * (vmax - vmin);
    if (area < best) {
      best = area;
      double us[4] = {umin, umax, umax, umin}, vs[4] = {vmin, vmin, vmax, vmax};
      for (int k = 0; k < 4; k++)
        r[k] = (Pt){us[k] * u.x + vs[k] * v.x, us[k] * u.y + vs[k] * v.y};
    }
  }
}

/* PaddleOCR's get_mini_boxes: the rectangle's corners ordered top-left, top-right, bottom-right,
 * bottom-left (the two leftmost by x are the left side, the upper of each side first); returns
 * the shorter side. */
static double order_box(const Pt r[4], Pt out[4]) {
  Pt s[4];
  memcpy(s, r, sizeof s);
  qsort(s, 4, sizeof *s, pt_cmp);
  Pt tl = s[0].y <= s[1].y ? s[0] : s[1], bl = s[0].y <= s[1].y ? s[1] : s[0];
  Pt tr = s[2].y <= s[3].y ? s[2] : s[3], br = s[2].y <= s[3].y ? s[3] : s[2];
  out[0] = tl, out[1] = tr, out[2] = br, out[3] = bl;
  return fmin(hypot(r[1].x - r[0].x, r[1].y - r[0].y), hypot(r[2].x - r[1].x, r[2].y - r[1].y));
}

/* box_score_fast: the mean probability over the map pixels inside the box (a pixel counts when
 * its centre is within half a pixel of the box, as cv2.fillPoly covers the boundary). */
static double box_score(const float *prob, int w, int h, const Pt b[4]) {
  double xmin = b[0].x, xmax = b[0].x, ymin = b[0].y, ymax = b[0].y;
  for (int k = 1; k < 4; k++) {
    xmin = fmin(xmin, b[k].x), xmax = fmax(xmax, b[k].x);
    ymin = fmin(ymin, b[k].y), ymax = fmax(ymax, b[k].y);
  }
  int x0 = (int)fmax(0, floor(xmin)), x1 = (int)fmin(w - 1, ceil(xmax));
  int y0 = (int)fmax(0, floor(ymin)), y1 = (int)fmin(h - 1, ceil(ymax));
  double area = cross(b[0], b[1], b[2]); /* sign gives the winding of b */
  double sum = 0;
  long cnt = 0;
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) {
      Pt p = {x, y};
      int in = 1;
      for (int k = 0; k < 4 && in; k++) {
        Pt a = b[k], c = b[(k + 1) % 4];
        double len = hypot(c.x - a.x, c.y - a.y);
        double d = len > 0 ? cross(a, c, p) / len : 0;
        in = (area >= 0 ? d : -d) >= -0.5;
      }
      if (in)
        sum += prob[(size_t)y * w + x], cnt++;
    }
  return cnt ? sum / cnt : 0;
}

/* DB's unclip of a rectangle: pyclipper's round offset by distance = area * ratio / perimeter,
 * whose minimum-area rectangle is the rectangle grown by distance on every side. */
static void unclip_rect(const Pt r[4], double ratio, Pt out[4]) {
  double w = hypot(r[1].x - r[0].x, r[1].y - r[0].y), h = hypot(r[2].x - r[1].x, r[2].y - r[1].y);
  double d = w + h > 0 ? w * h * ratio / (2 * (w + h)) : 0;
  Pt c = {(r[0].x + r[2].x) / 2, (r[0].y + r[2].y) / 2};
  Pt u = w > 0 ? (Pt){(r[1].x - r[0].x) / w, (r[1].y - r[0].y) / w} : (Pt){1, 0};
  Pt v = h > 0 ? (Pt){(r[2].x - r[1].x) / h, (r[2].y - r[1].y) / h} : (Pt){-u.y, u.x};
  double hu = w / 2 + d, hv = h / 2 + d;
  static const int su[4] = {-1, 1, 1, -1}, sv[4] = {-1, -1, 1, 1};
  for (int k = 0; k < 4; k++)
    out[k] = (Pt){c.x + su[k] * hu * u.x + sv[k] * hv * v.x, c.y + su[k] * hu * u.y + sv[k] * hv * v.y};
}

typedef struct DbParams {
  double thresh, box_thresh, unclip;
} DbParams;

static int box_cmp(const void *a, const void *b) {
  const Box *p = a, *q = b;
  if (fabs(p->p[0].y - q->p[0].y) >= 10) /* PaddleOCR's sorted_boxes: rows 10 px apart */
    return p->p[0].y < q->p[0].y ? -1 : 1;
  return (p->p[0].x > q->p[0].x) - (p->p[0].x < q->p[0].x);
}

/* DBPostProcess.boxes_from_bitmap + filter_tag_det_res on the w x h map prob, boxes in an image
 * of iw x ih. Components are 8-connected (as cv2.findContours sees them); the convex hull of a
 * component is that of each row's leftmost and rightmost pixel. Returns the number of boxes
 * written to boxes (at most MAX_CANDIDATES), sorted top to bottom, then left to right. */
static int db_boxes(const float *prob, int w, int h, int iw, int ih, const DbParams *prm,
                    Box *boxes) {
  size_t npix = (size_t)w * h;
  uint8_t *seen = xcalloc(npix, 1);
  int *stack = xcalloc(npix, sizeof *stack);
  int *rowmin = xcalloc((size_t)h, sizeof *rowmin), *rowmax = xcalloc((size_t)h, sizeof *rowmax);
  Pt *pts = xcalloc((size_t)2 * h, sizeof *pts), *hull = xcalloc((size_t)4 * h + 2, sizeof *hull);
  for (int y = 0; y < h; y++)
    rowmin[y] = w, rowmax[y] = -1;
  int nboxes = 0, ncand = 0;
  for (size_t start = 0; start < npix && ncand < MAX_CANDIDATES; start++) {
    if (seen[start] || !(prob[start] > prm->thresh))
      continue;
    ncand++;
    /* Flood fill from start, recording each row's extent. */
    int top = 0, ymin = h, ymax = -1;
    stack[top++] = (int)start;
    seen[start] = 1;
    while (top > 0) {
      int i = stack[--top], x = i % w, y = i / w;
      rowmin[y] = x < rowmin[y] ? x : rowmin[y];
      rowmax[y] = x > rowmax[y] ? x : rowmax[y];
      ymin = y < ymin ? y : ymin, ymax = y > ymax ? y : ymax;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h)
            continue;
          size_t j = (size_t)ny * w + nx;
          if (!seen[j] && prob[j] > prm->thresh)
            seen[j] = 1, stack[top++] = (int)j;
        }
    }
    int n = 0;
    for (int y = ymin; y <= ymax; y++) {
      if (rowmax[y] < 0)
        continue;
      pts[n++] = (Pt){rowmin[y], y};
      if (rowmax[y] != rowmin[y])
        pts[n++] = (Pt){rowmax[y], y};
      rowmin[y] = w, rowmax[y] = -1;
    }
    Pt rect[4], box[4], grown[4];
    min_area_rect(hull, convex_hull(pts, n, hull), rect);
    if (order_box(rect, box) < MIN_SIZE)
      continue;
    double score = box_score(prob, w, h, box);
    if (score < prm->box_thresh)
      continue;
    unclip_rect(rect, prm->unclip, grown);
    if (order_box(grown, box) < MIN_SIZE + 2)
      continue;
    /* To image coordinates (rounded, clipped as filter_tag_det_res does); drop slivers. */
    for (int k = 0; k < 4; k++) {
      box[k].x = fmin(fmax(round(box[k].x / w * iw), 0), iw - 1);
      box[k].y = fmin(fmax(round(box[k].y / h * ih), 0), ih - 1);
    }
    if (hypot(box[1].x - box[0].x, box[1].y - box[0].y) <= 3 ||
        hypot(box[3].x - box[0].x, box[3].y - box[0].y) <= 3)
      continue;
    memcpy(boxes[nboxes].p, box, sizeof box);
    boxes[nboxes++].score = score;
  }
  qsort(boxes, (size_t)nboxes, sizeof *boxes, box_cmp);
  free(seen), free(stack), free(rowmin), free(rowmax), free(pts), free(hull);
  return nboxes;
}

/* A line of the given thickness from a to b: every pixel whose centre lies within thickness/2 of
 * the segment. */
static void draw_line(Image *img, Pt a, Pt b, double thickness, const uint8_t rgb[3]) {
  double r = thickness / 2;
  int x0 = (int)floor(fmin(a.x, b.x) - r), x1 = (int)ceil(fmax(a.x, b.x) + r);
  int y0 = (int)floor(fmin(a.y, b.y) - r), y1 = (int)ceil(fmax(a.y, b.y) + r);
  double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
  for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < img->h; y++)
    for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < img->w; x++) {
      double t = len2 > 0 ? ((x - a.x) * dx + (y - a.y) * dy) / len2 : 0;
      t = fmin(fmax(t, 0), 1);
      if (hypot(x - (a.x + t * dx), y - (a.y + t * dy)) <= r)
        memcpy(img->rgb + ((size_t)y * img->w + x) * 3, rgb, 3);
    }
}

/* ---- main ----------------------------------------------------------------------------------- */

static int double_cmp(const void *a, const void *b) {
  double p = *(const double *)a, q = *(const double *)b;
  return (p > q) - (p < q);
}

static int parse_num(const char *flag, const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = s ? strtod(s, &end) : 0;
  if (!s || errno || end == s || *end || !(v >= lo && v <= hi))
    return fail("%s needs a number in [%g, %g], got '%s'", flag, lo, hi, s ? s : "");
  *out = v;
  return 0;
}

static const char usage[] =
    "usage: text_detect ENGINE IMAGE.png -o OUT.png [--device D] [--threshold 0.3]\n"
    "                   [--box-threshold 0.6] [--unclip 1.5] [--runs 5]\n"
    "       text_detect --input-size IMAGE.png [--limit 960]\n";

int main(int argc, char **argv) {
  const char *pos[2] = {0}, *out = NULL, *device = NULL, *size_of = NULL;
  DbParams prm = {0.3, 0.6, 1.5};
  double runs = 5, limit = 960;
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(usage, stdout);
      return 0;
    } else if (!strcmp(a, "-o"))
      out = v, i++, bad = !v ? fail("-o needs a file name") : 0;
    else if (!strcmp(a, "--device"))
      device = v, i++, bad = !v ? fail("--device needs a value") : 0;
    else if (!strcmp(a, "--input-size"))
      size_of = v, i++, bad = !v ? fail("--input-size needs an image") : 0;
    else if (!strcmp(a, "--threshold"))
      bad = parse_num(a, v, 0, 1, &prm.thresh), i++;
    else if (!strcmp(a, "--box-threshold"))
      bad = parse_num(a, v, 0, 1, &prm.box_thresh), i++;
    else if (!strcmp(a, "--unclip"))
      bad = parse_num(a, v, 0, 10, &prm.unclip), i++;
    else if (!strcmp(a, "--runs"))
      bad = parse_num(a, v, 1, 1000, &runs), i++;
    else if (!strcmp(a, "--limit"))
      bad = parse_num(a, v, 32, 16384, &limit), i++;
    else if (a[0] == '-' && a[1])
      bad = fail("unknown option '%s'\n%s", a, usage);
    else if (npos < 2)
      pos[npos++] = a;
    else
      bad = fail("unexpected argument '%s'\n%s", a, usage);
    if (bad)
      return 1;
  }

  Image img = {0};
  if (size_of) {
    if (image_read(size_of, &img))
      return 1;
    int w, h;
    det_size(img.w, img.h, (int)limit, &w, &h);
    printf("1x3x%dx%d\n", h, w);
    free(img.rgb);
    return 0;
  }
  if (npos != 2 || !out)
    return fail("needs an engine, an image and -o OUT.png\n%s", usage);
  if (image_read(pos[1], &img))
    return 1;

  double t0 = now_ms();
  kiln_options opts = {.device = device};
  kiln_engine *e = NULL;
  kiln_context *c = NULL;
  kiln_binding in, outb;
  if (kiln_engine_load_file(pos[0], &opts, &e) != KILN_OK)
    return fail("cannot load engine '%s': %s", pos[0], kiln_last_error());
  double load_ms = now_ms() - t0;
  if (kiln_engine_num_inputs(e) != 1 || kiln_engine_num_outputs(e) != 1 ||
      kiln_engine_input(e, 0, &in) != KILN_OK || kiln_engine_output(e, 0, &outb) != KILN_OK ||
      in.dtype != KILN_DTYPE_F32 || in.rank != 4 || in.dims[1] != 3 || outb.dtype != KILN_DTYPE_F32 ||
      outb.rank != 4 || outb.dims[1] != 1 || outb.dims[2] != in.dims[2] || outb.dims[3] != in.dims[3]) {
    kiln_engine_free(e);
    return fail("'%s' is not a text detector: expected one f32[1,3,H,W] input and one "
                "f32[1,1,H,W] output (PP-OCR det)", pos[0]);
  }
  int ew = (int)in.dims[3], eh = (int)in.dims[2];
  size_t plane = (size_t)ew * eh;
  float *x = xcalloc(3 * plane, sizeof *x), *prob = xcalloc(plane, sizeof *prob);
  preprocess(&img, ew, eh, x);
  if (kiln_context_create(e, &c) != KILN_OK ||
      kiln_context_set_input(c, in.name, x, 3 * plane * sizeof *x) != KILN_OK ||
      kiln_context_set_output(c, outb.name, prob, plane * sizeof *prob) != KILN_OK ||
      kiln_context_run(c, 1) != KILN_OK) { /* the warm-up run */
    fail("cannot run '%s': %s", pos[0], kiln_last_error());
    kiln_context_free(c), kiln_engine_free(e);
    return 1;
  }
  int nruns = (int)runs;
  double *ms = xcalloc((size_t)nruns, sizeof *ms);
  for (int r = 0; r < nruns; r++) {
    double s = now_ms();
    if (kiln_context_run(c, 1) != KILN_OK) {
      fail("cannot run '%s': %s", pos[0], kiln_last_error());
      kiln_context_free(c), kiln_engine_free(e);
      return 1;
    }
    ms[r] = now_ms() - s;
  }
  qsort(ms, (size_t)nruns, sizeof *ms, double_cmp);
  double median = nruns % 2 ? ms[nruns / 2] : (ms[nruns / 2 - 1] + ms[nruns / 2]) / 2;

  Box *boxes = xcalloc(MAX_CANDIDATES, sizeof *boxes);
  int nb = db_boxes(prob, ew, eh, img.w, img.h, &prm, boxes);
  static const uint8_t red[3] = {230, 20, 20};
  double thick = img.w + img.h > 1200 ? 3 : 2;
  for (int b = 0; b < nb; b++)
    for (int k = 0; k < 4; k++)
      draw_line(&img, boxes[b].p[k], boxes[b].p[(k + 1) % 4], thick, red);

  printf("image: %s, %dx%d; engine input %s: 1x3x%dx%d on %s (program: %s), loaded in %.2f s\n",
         pos[1], img.w, img.h, in.name, eh, ew, kiln_engine_device_name(e),
         kiln_engine_program_origin(e), load_ms / 1e3);
  printf("boxes: %d\n", nb);
  for (int b = 0; b < nb; b++) {
    printf("  %2d:", b);
    for (int k = 0; k < 4; k++)
      printf(" (%d,%d)", (int)boxes[b].p[k].x, (int)boxes[b].p[k].y);
    printf("  score %.3f\n", boxes[b].score);
  }
  printf("latency: %.1f ms (kiln_context_run, median of %d run%s after a warm-up)\n", median,
         nruns, nruns > 1 ? "s" : "");
  int rc = image_write(out, &img);
  if (!rc)
    printf("wrote %s\n", out);
  kiln_context_free(c);
  kiln_engine_free(e);
  free(x), free(prob), free(ms), free(boxes), free(img.rgb);
  return rc;
}
