/* util.h - small shared helpers: time, durations, ids, hex. The ones the
 * front ends use too (clock, times, durations, hex, gh_init) are declared in
 * the public gatehouse/common.h. */
#ifndef GH_UTIL_H
#define GH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "gatehouse/common.h"

/* The GATEHOUSE_TIME_OFFSET shift in seconds (0 normally). */
int64_t gh_time_offset(void);

/* A fresh id: prefix, '_', 16 lowercase hex digits from the CSPRNG. out >= 24. */
void gh_id_new(char *out, size_t outlen, const char *prefix);

#endif
