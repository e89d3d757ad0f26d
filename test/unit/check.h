/* check.h - the assertions of kiln's C unit tests.
 *
 * CHECK(cond) records a failure with file:line and goes on; a test's main returns
 * check_finish(), which prints "N passed, N failed" and is non-zero when anything failed. */
#ifndef KILN_TEST_CHECK_H
#define KILN_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (cond)                                                                                      \
      check_passed++;                                                                              \
    else {                                                                                         \
      check_failed++;                                                                              \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                    \
    }                                                                                              \
  } while (0)

#define CHECK_STR(a, b)                                                                            \
  do {                                                                                             \
    const char *check_a_ = (a), *check_b_ = (b);                                                   \
    if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0)                                   \
      check_passed++;                                                                              \
    else {                                                                                         \
      check_failed++;                                                                              \
      fprintf(stderr, "%s:%d: check failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__,             \
              check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");                    \
    }                                                                                              \
  } while (0)

static inline int check_finish(void) {
  printf("%d passed, %d failed\n", check_passed, check_failed);
  return check_failed != 0;
}

#endif
