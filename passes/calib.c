/* calib.c - INT8 calibration histograms and thresholds (see calib.h for the definitions).
 *
 * Invariant of a CalibHist: count is the sum of bins; max_abs is 0 only while every binned value
 * was 0 (then all of count sits in bin 0); otherwise every binned |x| is <= max_abs. */
#include "calib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KL_EPS 1e-4 /* smoothing mass given to each zero entry of P and Q (calib_kl_at) */

static void bug(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: internal error: %s\n", file, line, what);
  abort();
}
#define BUG(what) bug(__FILE__, __LINE__, what)

void calib_hist_init(CalibHist *h) { memset(h, 0, sizeof *h); }

/* Doubles the range once: new bin k = old bins 2k, 2k+1, the upper half empties. */
static void hist_double(CalibHist *h) {
  for (int k = 0; k < CALIB_BINS / 2; k++)
    h->bins[k] = h->bins[2 * k] + h->bins[2 * k + 1];
  for (int k = CALIB_BINS / 2; k < CALIB_BINS; k++)
    h->bins[k] = 0;
  h->max_abs *= 2;
}

void calib_hist_add(CalibHist *h, const float *x, int64_t n) {
  double top = 0; /* the batch's largest finite |x| */
  for (int64_t k = 0; k < n; k++)
    if (isfinite(x[k]) && fabs((double)x[k]) > top)
      top = fabs((double)x[k]);
  if (h->max_abs == 0)
    h->max_abs = top; /* the zeros so far stay in bin 0, which keeps holding 0 */
  else
    while (h->max_abs < top)
      hist_double(h);
  /* bin j = floor(|x| / w) = floor(|x| * CALIB_BINS / max_abs), the top edge in the last bin */
  double per = h->max_abs > 0 ? CALIB_BINS / h->max_abs : 0;
  for (int64_t k = 0; k < n; k++) {
    if (!isfinite(x[k])) {
      h->nonfinite++;
      continue;
    }
    double b = fabs((double)x[k]) * per;
    int j = b >= CALIB_BINS ? CALIB_BINS - 1 : (int)b;
    h->bins[j]++;
    h->count++;
  }
}

static bool hist_empty(const CalibHist *h) { return h->max_abs <= 0 || h->count <= 0; }

static void check_candidate(int i) {
  if (i < CALIB_MIN_BINS || i > CALIB_BINS)
    BUG("calibration candidate out of range");
}

/* Normalizes d[0..n) (sum > 0) and smooths it as calib_kl_at describes. */
static void normalize_smooth(double *d, int n, double sum) {
  int zeros = 0;
  for (int j = 0; j < n; j++)
    zeros += d[j] == 0;
  double keep = (1 - KL_EPS * zeros) / sum;
  for (int j = 0; j < n; j++)
    d[j] = d[j] == 0 ? KL_EPS : d[j] * keep;
}

double calib_kl_at(const CalibHist *h, int i) {
  check_candidate(i);
  if (hist_empty(h))
    return 0;
  double p[CALIB_BINS], q[CALIB_BINS];
  int64_t kept = 0;
  for (int j = 0; j < i; j++) {
    p[j] = (double)h->bins[j];
    kept += h->bins[j];
  }
  if (kept == 0)
    return INFINITY;
  p[i - 1] += (double)(h->count - kept); /* the outliers saturate into the last kept bin */

  int per_level = i / CALIB_LEVELS;
  for (int level = 0; level < CALIB_LEVELS; level++) {
    int lo = level * per_level, hi = level == CALIB_LEVELS - 1 ? i : lo + per_level;
    int64_t sum = 0;
    int nonzero = 0;
    for (int j = lo; j < hi; j++) {
      sum += h->bins[j];
      nonzero += h->bins[j] != 0;
    }
    for (int j = lo; j < hi; j++)
      q[j] = h->bins[j] != 0 ? (double)sum / nonzero : 0;
  }

  bool in_p[CALIB_BINS];
  for (int j = 0; j < i; j++)
    in_p[j] = p[j] != 0;
  normalize_smooth(p, i, (double)h->count);
  normalize_smooth(q, i, (double)kept);
  double kl = 0;
  for (int j = 0; j < i; j++)
    if (in_p[j])
      kl += p[j] * log(p[j] / q[j]);
  return kl;
}

double calib_mse_at(const CalibHist *h, int i) {
  check_candidate(i);
  if (hist_empty(h))
    return 0;
  double w = h->max_abs / CALIB_BINS, t = i * w, scale = t / 127;
  double err = 0;
  for (int j = 0; j < CALIB_BINS; j++) {
    if (h->bins[j] == 0)
      continue;
    double c = (j + 0.5) * w;
    double level = fmin(rint(c / scale), 127); /* half to even, as the int8 kernels round */
    double e = c - level * scale;
    err += (double)h->bins[j] * e * e;
  }
  return err / (double)h->count;
}

static double threshold_percentile(const CalibHist *h, double percentile) {
  if (!(percentile > 0 && percentile <= 100))
    BUG("calibration percentile outside (0, 100]");
  double target = percentile / 100 * (double)h->count * (1 - 1e-12);
  double w = h->max_abs / CALIB_BINS;
  int64_t cum = 0;
  for (int j = 0; j < CALIB_BINS; j++) {
    cum += h->bins[j];
    if ((double)cum >= target)
      return (j + 1) * w;
  }
  return h->max_abs; /* not reached: cum ends at count */
}

/* The candidate of least cost, the first on ties. */
static int best_candidate(const CalibHist *h, double (*cost)(const CalibHist *, int)) {
  int best = CALIB_BINS;
  double least = INFINITY;
  for (int i = CALIB_MIN_BINS; i <= CALIB_BINS; i++) {
    double c = cost(h, i);
    if (c < least) {
      least = c;
      best = i;
    }
  }
  return best;
}

double calib_threshold(const CalibHist *h, CalibAlgo algo, double percentile) {
  if (hist_empty(h))
    return 0;
  double w = h->max_abs / CALIB_BINS;
  switch (algo) {
  case CALIB_MINMAX:
    return h->max_abs;
  case CALIB_PERCENTILE:
    return threshold_percentile(h, percentile);
  case CALIB_ENTROPY:
    /* The upper edge of the kept bins, where P saturated the outliers. TensorRT's slides write
     * (m + 0.5) * w, the center of the first dropped bin: half a bin beyond the range P was
     * built for, and past max_abs when every bin is kept. The edge also makes i = CALIB_BINS
     * agree with minmax. */
    return best_candidate(h, calib_kl_at) * w;
  case CALIB_MSE:
    return best_candidate(h, calib_mse_at) * w;
  }
  BUG("unknown calibration algorithm");
  return 0;
}

const char *calib_algo_name(CalibAlgo algo) {
  switch (algo) {
  case CALIB_MINMAX:
    return "minmax";
  case CALIB_PERCENTILE:
    return "percentile";
  case CALIB_ENTROPY:
    return "entropy";
  case CALIB_MSE:
    return "mse";
  }
  return "?";
}

bool calib_algo_parse(const char *s, CalibAlgo *algo, double *percentile) {
  static const CalibAlgo plain[] = {CALIB_MINMAX, CALIB_ENTROPY, CALIB_MSE};
  for (size_t k = 0; k < sizeof plain / sizeof plain[0]; k++)
    if (strcmp(s, calib_algo_name(plain[k])) == 0) {
      *algo = plain[k];
      return true;
    }
  static const char prefix[] = "percentile=";
  if (strncmp(s, prefix, sizeof prefix - 1) != 0)
    return false;
  const char *num = s + sizeof prefix - 1;
  /* strtod would also take leading blanks, hex, "inf" and "nan": only a plain decimal goes */
  if (!(*num >= '0' && *num <= '9') && *num != '.')
    return false;
  for (const char *c = num; *c; c++)
    if (!(*c >= '0' && *c <= '9') && *c != '.' && *c != 'e' && *c != 'E' && *c != '-' &&
        *c != '+')
      return false;
  char *end;
  double p = strtod(num, &end);
  if (end == num || *end != '\0' || !(p > 0 && p <= 100))
    return false;
  *algo = CALIB_PERCENTILE;
  *percentile = p;
  return true;
}
