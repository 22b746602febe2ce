/* ext.h - (internal) Cedar's extension types as plain C values: decimal,
 * ipaddr, datetime and duration. Parsers return 0 or -1 (malformed or out of
 * range); operations that can overflow return -1 instead of wrapping. */
#ifndef GH_POLICY_EXT_H
#define GH_POLICY_EXT_H

#include <stddef.h>
#include <stdint.h>

/* decimal: a signed value with exactly 4 fractional digits, stored times 10^4. */
int ghp_decimal_parse(int64_t *out, const char *s, size_t len);
/* Shortest Cedar text, e.g. "1.5" -> "1.5000"? Cedar prints four digits: "1.5000". */
void ghp_decimal_format(char *out, size_t outlen, int64_t v);

/* ipaddr: an IPv4 or IPv6 address with an optional prefix ("10.0.0.0/8"). */
typedef struct ghp_ipaddr {
	int v6;                    /* 0 for IPv4 (addr[0..3]), 1 for IPv6 */
	unsigned char addr[16];    /* network byte order */
	int prefix;                /* 0..32 or 0..128; the full length without "/n" */
} ghp_ipaddr;

int ghp_ip_parse(ghp_ipaddr *out, const char *s, size_t len);
void ghp_ip_format(char *out, size_t outlen, const ghp_ipaddr *ip);
int ghp_ip_equal(const ghp_ipaddr *a, const ghp_ipaddr *b);
int ghp_ip_is_loopback(const ghp_ipaddr *ip);
int ghp_ip_is_multicast(const ghp_ipaddr *ip);
/* 1 when every address of a lies within range b (same family). */
int ghp_ip_in_range(const ghp_ipaddr *a, const ghp_ipaddr *b);

/* datetime: milliseconds since the Unix epoch, from "YYYY-MM-DD",
 * "YYYY-MM-DDThh:mm:ssZ", "...Thh:mm:ss.SSSZ" or with a "+hhmm"/"-hhmm" offset. */
int ghp_datetime_parse(int64_t *out_ms, const char *s, size_t len);
/* duration: milliseconds, from e.g. "1d2h3m4s5ms" or "-1h" (units in that order). */
int ghp_duration_parse(int64_t *out_ms, const char *s, size_t len);
void ghp_datetime_format(char *out, size_t outlen, int64_t ms);
void ghp_duration_format(char *out, size_t outlen, int64_t ms);

/* datetime.offset(duration), datetime.durationSince(datetime): -1 on overflow. */
int ghp_datetime_offset(int64_t *out, int64_t dt, int64_t dur);
int ghp_datetime_since(int64_t *out, int64_t a, int64_t b);
/* toDate (midnight UTC of the day, toward negative infinity) and toTime (ms into the day). */
int ghp_datetime_to_date(int64_t *out, int64_t dt);
int64_t ghp_datetime_to_time(int64_t dt);
/* duration.toDays() etc. truncate toward zero. */
int64_t ghp_duration_to(int64_t ms, int64_t unit_ms);

#endif
