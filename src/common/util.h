/* util.h - small shared helpers: time, durations, ids, hex. */
#ifndef GH_UTIL_H
#define GH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Wall-clock time in seconds and in microseconds since the Unix epoch.
 * GATEHOUSE_TIME_OFFSET (seconds, read once) shifts the clock, for tests. */
int64_t gh_now(void);
int64_t gh_now_us(void);
/* The GATEHOUSE_TIME_OFFSET shift in seconds (0 normally). */
int64_t gh_time_offset(void);

/* Formats unix seconds as RFC 3339 UTC ("2026-11-26T10:00:00Z") into out (>= 21 bytes). */
void gh_time_format(char *out, size_t outlen, int64_t t);
/* Parses RFC 3339 (Z or +hh:mm offset, optional fraction) of a time from 1970
 * to 9999 UTC, the range gh_time_format writes. 0 or GH_EINVALID. */
int gh_time_parse(int64_t *out, const char *s);

/* Durations: "90s", "15m", "8h", "7d", "2w", or combinations like "1h30m".
 * Range 1 second to 10 years. 0 or GH_EINVALID. */
int gh_duration_parse(int64_t *out, const char *s);
/* Shortest exact form: 28800 -> "8h", 5400 -> "1h30m". out >= 32 bytes. */
void gh_duration_format(char *out, size_t outlen, int64_t seconds);

/* A fresh id: prefix, '_', 16 lowercase hex digits from the CSPRNG. out >= 24. */
void gh_id_new(char *out, size_t outlen, const char *prefix);

/* Lowercase hex of n bytes into out (>= 2n+1). */
void gh_hex(char *out, const unsigned char *in, size_t n);

/* Library start-up (libsodium); call once before anything else. 0 or -1. */
int gh_init(void);

#endif
