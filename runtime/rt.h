/* rt.h - internal helpers of libkilnrt (not installed). */
#ifndef KILN_RUNTIME_RT_H
#define KILN_RUNTIME_RT_H

#include "kiln.h"

/* Records the message for kiln_last_error() and returns s. */
kiln_status rt_fail(kiln_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
