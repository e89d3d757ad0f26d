/* Unit tests of the INT8 calibration histogram and thresholds (passes/calib.h).
 *
 * Hand-made histograms use max_abs = CALIB_BINS, so the bin width is 1 and a threshold of i
 * kept bins is the number i. */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "passes/calib.h"

static CalibHist hist; /* large (16 KiB of bins): one static, reset per case */

/* An empty histogram of width 1: the caller sets bins, then hist_seal sets count. */
static CalibHist *hist_unit(void) {
  calib_hist_init(&hist);
  hist.max_abs = CALIB_BINS;
  return &hist;
}

static void hist_seal(CalibHist *h) {
  h->count = 0;
  for (int j = 0; j < CALIB_BINS; j++)
    h->count += h->bins[j];
}

static bool near(double a, double b, double tol) { return fabs(a - b) <= tol; }

static void test_hist_bins(void) {
  CalibHist *h = &hist;
  calib_hist_init(h);
  /* max 8: w = 8/2048 = 1/256, bin = floor(|x| * 256), 8 itself in the last bin */
  const float a[] = {8.0f, -1.0f, 0.5f, 0.0f, NAN, INFINITY, -3.99f, -INFINITY};
  calib_hist_add(h, a, 8);
  CHECK(h->max_abs == 8.0);
  CHECK(h->count == 5 && h->nonfinite == 3);
  CHECK(h->bins[2047] == 1 && h->bins[256] == 1 && h->bins[128] == 1 && h->bins[0] == 1);
  CHECK(h->bins[1021] == 1); /* 3.99 * 256 = 1021.44 */
  /* 20 > 8: two doublings to 32 (w = 1/64); each old bin j lands in j / 4 */
  const float b[] = {20.0f};
  calib_hist_add(h, b, 1);
  CHECK(h->max_abs == 32.0);
  CHECK(h->count == 6 && h->nonfinite == 3);
  CHECK(h->bins[511] == 1 && h->bins[64] == 1 && h->bins[32] == 1 && h->bins[0] == 1);
  CHECK(h->bins[255] == 1);  /* 1021 / 4 */
  CHECK(h->bins[1280] == 1); /* 20 * 64 */
  int64_t sum = 0;
  for (int j = 0; j < CALIB_BINS; j++)
    sum += h->bins[j];
  CHECK(sum == 6);
  /* a batch within the range changes nothing but the counts */
  const float c[] = {-32.0f, 0.015625f};
  calib_hist_add(h, c, 2);
  CHECK(h->max_abs == 32.0 && h->bins[2047] == 1 && h->bins[1] == 1 && h->count == 8);
}

/* One doubling merges every pair of bins exactly, with the total kept. */
static void test_hist_rebin(void) {
  static CalibHist before;
  enum { N = 5000 };
  static float x[N];
  unsigned s = 12345;
  for (int k = 0; k < N; k++) { /* an LCG: fixed values in [-1, 1), varied enough to fill bins */
    s = s * 1103515245u + 12345u;
    x[k] = (float)((s >> 8) % 65536) / 32768.0f - 1.0f;
  }
  x[0] = 1.0f;
  CalibHist *h = &hist;
  calib_hist_init(h);
  calib_hist_add(h, x, N);
  CHECK(h->max_abs == 1.0 && h->count == N);
  before = *h;
  const float grow[] = {1.5f}; /* one doubling to 2: w = 1/1024, 1.5 in bin 1536 */
  calib_hist_add(h, grow, 1);
  CHECK(h->max_abs == 2.0 && h->count == N + 1);
  int merged = 1;
  for (int k = 0; k < CALIB_BINS / 2; k++)
    merged &= h->bins[k] == before.bins[2 * k] + before.bins[2 * k + 1];
  for (int k = CALIB_BINS / 2; k < CALIB_BINS; k++)
    merged &= h->bins[k] == (k == 1536);
  CHECK(merged);
  int nonzero = 0; /* the test means something only if many bins were filled */
  for (int j = 0; j < CALIB_BINS; j++)
    nonzero += before.bins[j] != 0;
  CHECK(nonzero > 1500);
}

static void test_hist_degenerate(void) {
  CalibHist *h = &hist;
  calib_hist_init(h);
  CHECK(calib_threshold(h, CALIB_MINMAX, 0) == 0); /* nothing seen */
  const float nan[] = {NAN, NAN};
  calib_hist_add(h, nan, 2);
  CHECK(h->max_abs == 0 && h->count == 0 && h->nonfinite == 2);
  const float zeros[] = {0.0f, -0.0f, 0.0f};
  calib_hist_add(h, zeros, 3);
  CHECK(h->max_abs == 0 && h->count == 3 && h->bins[0] == 3);
  CHECK(calib_threshold(h, CALIB_MINMAX, 0) == 0);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 99.9) == 0);
  CHECK(calib_threshold(h, CALIB_ENTROPY, 0) == 0);
  CHECK(calib_threshold(h, CALIB_MSE, 0) == 0);
  /* the first nonzero batch sets the range; the zeros stay in bin 0 */
  const float two[] = {2.0f};
  calib_hist_add(h, two, 1);
  CHECK(h->max_abs == 2.0 && h->bins[0] == 3 && h->bins[2047] == 1 && h->count == 4);
}

static void test_minmax_percentile(void) {
  CalibHist *h = hist_unit();
  h->bins[0] = 50, h->bins[1] = 30, h->bins[5] = 15, h->bins[100] = 4, h->bins[2000] = 1;
  hist_seal(h); /* 100 values; cumulative 50, 80, 95, 99, 100 at bins 0, 1, 5, 100, 2000 */
  CHECK(calib_threshold(h, CALIB_MINMAX, 0) == 2048);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 50) == 1);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 10) == 1);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 50.5) == 2);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 80) == 2);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 80.01) == 6);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 99) == 101);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 99.99) == 2001);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 100) == 2001);
  /* exactly 99.99%: 9999 of 10000 in bin 0 reach it there, whatever the rounding of 99.99 */
  h = hist_unit();
  h->bins[0] = 9999, h->bins[10] = 1;
  hist_seal(h);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 99.99) == 1);
  CHECK(calib_threshold(h, CALIB_PERCENTILE, 99.991) == 11);
}

/* (a) Everything within the first 128 bins: candidate 128 is P itself (one bin per level, no
 * outliers), so KL is 0 (smoothing both alike), the least possible, and the first on ties. */
static void test_entropy_fits(void) {
  CalibHist *h = hist_unit();
  for (int j = 0; j < 128; j++)
    h->bins[j] = j % 3 == 0 ? j + 1 : 0; /* zeros inside, so the smoothing runs */
  hist_seal(h);
  CHECK(calib_kl_at(h, 128) == 0);
  CHECK(calib_kl_at(h, 1000) > 0);
  CHECK(calib_threshold(h, CALIB_ENTROPY, 0) == 128);
}

/* (b) A triangle, bins[j] = 300 - j for j < 300, plus 5 outliers in bin 2047 (45155 values).
 * Expected: 511 kept bins, from this numpy reimplementation of calib.h's definition:
 *
 *   def kl_at(b, i, eps=1e-4):
 *       p = b[:i].astype(float).copy(); p[i-1] += b[i:].sum()
 *       s = i // 128; q = np.zeros(i)
 *       for k in range(128):
 *           lo = k*s; hi = i if k == 127 else lo+s
 *           seg = b[lo:hi]; nz = seg != 0
 *           if nz.any(): q[lo:hi][nz] = seg.sum() / nz.sum()
 *       if q.sum() == 0: return np.inf
 *       inp = p > 0
 *       def sm(d):
 *           d = d / d.sum(); z = d == 0
 *           return np.where(z, eps, d * (1 - eps * z.sum()))
 *       p, q = sm(p), sm(q)
 *       return float(np.sum(p[inp] * np.log(p[inp] / q[inp])))
 *   b = np.zeros(2048, dtype=np.int64); b[:300] = 300 - np.arange(300); b[2047] = 5
 *   kls = [kl_at(b, i) for i in range(128, 2049)]
 *   print(128 + int(np.argmin(kls)), min(kls))   # 511 4.371e-05
 *
 * Why 511 and not ~300: from 384 to 511 bins a level is 3 bins and the last level, which takes
 * the remainder [381, i), holds no data; below 384 the last level of 2-bin levels spans bins
 * 254.. and flattens the tail of the triangle into one level. Minmax keeps all 2048. */
static void test_entropy_outliers(void) {
  CalibHist *h = hist_unit();
  for (int j = 0; j < 300; j++)
    h->bins[j] = 300 - j;
  h->bins[2047] = 5;
  hist_seal(h);
  CHECK(h->count == 45155);
  double t = calib_threshold(h, CALIB_ENTROPY, 0);
  CHECK(fabs(t - 511) <= 1);
  CHECK(t < calib_threshold(h, CALIB_MINMAX, 0) / 3);
  CHECK(near(calib_kl_at(h, 511), 4.371101889543464e-05, 1e-9));
  CHECK(calib_kl_at(h, 200) > calib_kl_at(h, 511)); /* clipping the data costs more */
}

/* (c) KL of single candidates, by hand. */
static void test_entropy_kl_values(void) {
  /* Bins 0..255 alternate 1, 3; candidate 256 merges pairs (one level = 2 bins) into 2, 2.
   * Nothing is zero, so no smoothing: P = 1/512, 3/512, ..., Q = 2/512 everywhere, and
   * KL = 128 * (1/512 ln(1/2) + 3/512 ln(3/2)) = 3/4 ln 3 - ln 2 = 0.130812... */
  CalibHist *h = hist_unit();
  for (int j = 0; j < 256; j++)
    h->bins[j] = j % 2 ? 3 : 1;
  hist_seal(h);
  CHECK(near(calib_kl_at(h, 256), 0.75 * log(3.0) - log(2.0), 1e-12));
  CHECK(near(calib_kl_at(h, 256), 0.130812035941137, 1e-12));
  /* One value in bin 0 and one outlier in bin 200; candidate 128. P = (1/2, 0 x126, 1/2),
   * Q = (1, 0 x127). Smoothed: P's 126 zeros get 1e-4 each and its two halves become
   * 0.5 (1 - 126e-4) = 0.4937; Q's 127 zeros get 1e-4 and Q[0] = 1 - 127e-4 = 0.9873.
   * KL = 0.4937 ln(0.4937 / 0.9873) + 0.4937 ln(0.4937 / 1e-4) = 3.8565213758... */
  h = hist_unit();
  h->bins[0] = 1, h->bins[200] = 1;
  hist_seal(h);
  double pk = 0.5 * (1 - 126e-4), q0 = 1 - 127e-4;
  CHECK(near(calib_kl_at(h, 128), pk * log(pk / q0) + pk * log(pk / 1e-4), 1e-12));
  CHECK(near(calib_kl_at(h, 128), 3.856521375848029, 1e-9));
  CHECK(calib_kl_at(h, 201) < 1e-3); /* the outlier kept: only the merging error is left */
  /* Every value beyond candidate 128: Q has no mass. */
  h = hist_unit();
  h->bins[500] = 7;
  hist_seal(h);
  CHECK(isinf(calib_kl_at(h, 128)));
  CHECK(calib_threshold(h, CALIB_ENTROPY, 0) > 500);
}

static void test_mse(void) {
  /* All mass in bin 0 (center 0.5): every candidate's grid step exceeds 1, so 0.5 rounds to
   * level 0 and errs by 0.5 everywhere; the tie goes to the first candidate, 128. */
  CalibHist *h = hist_unit();
  h->bins[0] = 10;
  hist_seal(h);
  CHECK(calib_mse_at(h, 128) == 0.25 && calib_mse_at(h, 2048) == 0.25);
  CHECK(calib_threshold(h, CALIB_MSE, 0) == 128);
  /* All mass in bin 300 (center 300.5): candidate 128 clips it to 128, erring by 172.5. */
  h = hist_unit();
  h->bins[300] = 4;
  hist_seal(h);
  CHECK(calib_mse_at(h, 128) == 172.5 * 172.5);
  /* Candidate 301: step 301/127, 300.5 rounds to level 127 (126.79...), erring by 0.5. */
  CHECK(near(calib_mse_at(h, 301), 0.25, 1e-12));
  /* Candidate 329 nearly hits a grid point: 300.5 * 127 / 329 = 115.99 rounds to 116, and
   * 116 * 329 / 127 = (38163.5 + 0.5) / 127 = 300.5 + 0.5 / 127. numpy's argmin over all
   * candidates is 329, tied (to rounding) with 658 and 987, which err by the same 0.5 / 127. */
  CHECK(near(calib_mse_at(h, 329), (0.5 / 127) * (0.5 / 127), 1e-15));
  double t = calib_threshold(h, CALIB_MSE, 0);
  CHECK(t >= 300 && calib_mse_at(h, (int)t) <= calib_mse_at(h, 329) * (1 + 1e-9));
  CHECK(t == 329);
  /* One value in each of the first 128 bins: candidate 128 clips nothing and has the finest
   * grid, so it wins (numpy over every candidate agrees: 128, mse 0.0846). */
  h = hist_unit();
  for (int j = 0; j < 128; j++)
    h->bins[j] = 1;
  hist_seal(h);
  CHECK(calib_threshold(h, CALIB_MSE, 0) == 128);
  CHECK(near(calib_mse_at(h, 128), 0.08464566929133836, 1e-12));
  /* The triangle with 5 outliers of test_entropy_outliers: squared error weighs the clipped
   * outliers heavily. numpy, every center c = j + 0.5 and step s = i / 127:
   *   err(i) = sum(b * (c - minimum(rint(c / s), 127) * s)**2) / b.sum()  ->  argmin 1968 */
  h = hist_unit();
  for (int j = 0; j < 300; j++)
    h->bins[j] = 300 - j;
  h->bins[2047] = 5;
  hist_seal(h);
  CHECK(fabs(calib_threshold(h, CALIB_MSE, 0) - 1968) <= 1);
}

static void test_parse(void) {
  CalibAlgo a = CALIB_MSE;
  double p = -1;
  CHECK(calib_algo_parse("entropy", &a, &p) && a == CALIB_ENTROPY && p == -1);
  CHECK(calib_algo_parse("minmax", &a, &p) && a == CALIB_MINMAX);
  CHECK(calib_algo_parse("mse", &a, &p) && a == CALIB_MSE);
  CHECK(calib_algo_parse("percentile=99.99", &a, &p) && a == CALIB_PERCENTILE && p == 99.99);
  CHECK(calib_algo_parse("percentile=100", &a, &p) && p == 100);
  CHECK(calib_algo_parse("percentile=1e-3", &a, &p) && p == 1e-3);
  CHECK(calib_algo_parse("percentile=.5", &a, &p) && p == 0.5);
  static const char *const bad[] = {
      "", "Entropy", "kl", "entropy ", "minmax=1", "percentile", "percentile=", "percentile=0",
      "percentile=100.5", "percentile=-1", "percentile=99.9x", "percentile= 99", "percentile=nan",
      "percentile=inf", "percentile=0x10", "percentile=1e3", "percentile=99.99=",
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    a = CALIB_MSE, p = -1;
    bool ok = calib_algo_parse(bad[k], &a, &p);
    if (ok || a != CALIB_MSE || p != -1)
      fprintf(stderr, "accepted or clobbered: \"%s\"\n", bad[k]);
    CHECK(!ok && a == CALIB_MSE && p == -1);
  }
  CHECK_STR(calib_algo_name(CALIB_MINMAX), "minmax");
  CHECK_STR(calib_algo_name(CALIB_PERCENTILE), "percentile");
  CHECK_STR(calib_algo_name(CALIB_ENTROPY), "entropy");
  CHECK_STR(calib_algo_name(CALIB_MSE), "mse");
}

int main(void) {
  test_hist_bins();
  test_hist_rebin();
  test_hist_degenerate();
  test_minmax_percentile();
  test_entropy_fits();
  test_entropy_outliers();
  test_entropy_kl_values();
  test_mse();
  test_parse();
  return check_finish();
}
