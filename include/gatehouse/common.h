/* gatehouse/common.h - the small helpers a front end needs besides the
 * domain: library start-up, the clock, RFC 3339 times and durations as the
 * API writes them, hex, and parsing a JSON document under the limits the
 * server applies to every body. Conventions as in gatehouse/errors.h. */
#ifndef GATEHOUSE_COMMON_H
#define GATEHOUSE_COMMON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Library start-up (libsodium); call once before anything else. 0 or -1. */
int gh_init(void);

/* Wall-clock time in seconds and in microseconds since the Unix epoch.
 * GATEHOUSE_TIME_OFFSET (seconds, read once) shifts the clock, for tests. */
int64_t gh_now(void);
int64_t gh_now_us(void);

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

/* Lowercase hex of n bytes into out (>= 2n+1). */
void gh_hex(char *out, const unsigned char *in, size_t n);

/* Limits for every JSON body. */
#define GH_JSON_MAX_DEPTH 32
#define GH_JSON_MAX_BODY (64 * 1024)

/* Parses text of len bytes: refuses more than GH_JSON_MAX_BODY bytes
 * (GH_ETOOLARGE), nesting deeper than GH_JSON_MAX_DEPTH (GH_ETOOLARGE),
 * malformed JSON (GH_EINVALID with line:column), and duplicate keys. */
int gh_json_parse(json_t **out, const char *text, size_t len);

#endif
