/* calib.h - INT8 calibration thresholds (TensorRT-style): a histogram of |x| gathered over
 * calibration batches, and the saturation threshold T it gives under one of four algorithms.
 * Quantization is symmetric: scale = T / 127, values beyond +-T saturate.
 *
 * The histogram: CALIB_BINS equal bins of |x| over [0, max_abs]; bin j holds the values with
 * j * w <= |x| < (j + 1) * w, w = max_abs / CALIB_BINS, and |x| = max_abs lands in the last bin.
 * It is built in one streaming pass (TensorRT and MXNet make one pass for the range and a second
 * for the histogram): the first batch with a nonzero finite value sets max_abs to its largest
 * |x|; a later batch with a larger |x| doubles max_abs until it covers, and each doubling merges
 * the bins exactly 2:1 (new bin k = old bins 2k and 2k+1), so no count moves across an edge.
 * Zeros seen while max_abs is still 0 are counted in bin 0, where they stay. NaN and infinities
 * are skipped and counted in nonfinite; count is the number of finite values binned.
 *
 * Thresholds (w the bin width; candidates are the upper edges i * w, i = CALIB_MIN_BINS ..
 * CALIB_BINS, of the kept bins 0..i-1):
 *   minmax      T = max_abs.
 *   percentile  for p in (0, 100]: the smallest bin upper edge (j + 1) * w at which the
 *               cumulative count reaches p% of count (to within 1e-12 relative, so that p = 99.99
 *               is not lost to the rounding of the decimal).
 *   entropy     TensorRT's (Szymon Migacz, "8-bit Inference with TensorRT", GTC 2017): for each
 *               candidate i, the reference P is bins 0..i-1 with the outliers (bins i..) added to
 *               P[i-1]; the candidate Q merges bins 0..i-1 into 128 levels of i/128 bins (the
 *               last level takes the remainder) and spreads each level's sum evenly over those of
 *               its bins that are nonzero in the histogram (zero bins stay zero). Both are
 *               normalized and smoothed (calib_kl_at), and T = i * w for the i of least
 *               KL(P||Q), the first on ties.
 *   mse         the candidate i minimizing the mean squared error of quantizing with scale
 *               i * w / 127 and clipping to +-i * w, every value taken at its bin's center
 *               (j + 0.5) * w and weighted by the bin's count (calib_mse_at); the first on ties.
 * A histogram with max_abs 0 or count 0 gives T = 0 under every algorithm (the caller reports
 * it: such a tensor has no scale). */
#ifndef KILN_PASSES_CALIB_H
#define KILN_PASSES_CALIB_H

#include <stdbool.h>
#include <stdint.h>

#define CALIB_BINS 2048
#define CALIB_MIN_BINS 128 /* the fewest bins a candidate keeps: one per positive int8 level */
#define CALIB_LEVELS 128   /* the int8 levels of |x|, 0..127, that entropy's Q merges into */

typedef struct CalibHist {
  double max_abs; /* the histogram's range [0, max_abs]; 0 until a nonzero value is seen */
  int64_t bins[CALIB_BINS];
  int64_t count;     /* finite values binned: the sum of bins */
  int64_t nonfinite; /* NaN and infinities skipped */
} CalibHist;

typedef enum CalibAlgo { CALIB_MINMAX, CALIB_PERCENTILE, CALIB_ENTROPY, CALIB_MSE } CalibAlgo;

/* An empty histogram: max_abs 0, every count 0. */
void calib_hist_init(CalibHist *h);
/* Adds the n values x[0..n) (|x| of each), widening the range first when they need it. */
void calib_hist_add(CalibHist *h, const float *x, int64_t n);

/* The saturation threshold T of h under algo; percentile is read only by CALIB_PERCENTILE and
 * must lie in (0, 100] there (calib_algo_parse checks it; anything else aborts as a bug). */
double calib_threshold(const CalibHist *h, CalibAlgo algo, double percentile);

/* KL(P||Q) of entropy's candidate i (CALIB_MIN_BINS <= i <= CALIB_BINS), P and Q as above.
 * Smoothing: a bin of P[i-1] can hold outliers where Q is 0, so each distribution, once
 * normalized, gets eps = 1e-4 added to each of its zero entries and its nonzero entries scaled
 * by 1 - eps * (number of zero entries), which keeps the sum 1 and every entry positive (MXNet
 * subtracts the same amount from every nonzero entry instead, which can go negative). A zero of
 * P is a zero of Q, so entries zero in both get eps in both and add nothing. The sum runs over
 * the entries nonzero in P. +infinity when bins 0..i-1 are all empty (Q has no mass); 0 for an
 * empty histogram. */
double calib_kl_at(const CalibHist *h, int i);
/* The mean squared error of mse's candidate i (CALIB_MIN_BINS <= i <= CALIB_BINS), in the units
 * of x squared; 0 for an empty histogram. */
double calib_mse_at(const CalibHist *h, int i);

/* "minmax", "percentile", "entropy", "mse". */
const char *calib_algo_name(CalibAlgo algo);
/* Parses --calib-algo's value: "minmax", "entropy", "mse" or "percentile=P", P a decimal number
 * (an exponent allowed; no blanks, hex, inf or nan) in (0, 100] with nothing after it.
 * *percentile is set for the percentile form only. False, with *algo and *percentile untouched,
 * for anything else. */
bool calib_algo_parse(const char *s, CalibAlgo *algo, double *percentile);

#endif
