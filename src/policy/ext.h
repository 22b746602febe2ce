/* ext.h - (internal) Cedar's extension types as plain C values: decimal,
 * ipaddr, datetime and duration. Parsers return 0 or -1 (malformed or out of
 * range); operations that can overflow return -1 instead of wrapping. */
#ifndef GH_POLICY_EXT_H
#define GH_POLICY_EXT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any text the ghp_*_format functions write, NUL included. They
 * always NUL-terminate (truncating when outlen is smaller). */
#define GHP_EXT_TEXT_MAX 48

/* decimal: a signed value with exactly 4 fractional digits, stored times 10^4.
 * Text is -?[0-9]+\.[0-9]{1,4}, the sign applying to the whole value. */
int ghp_decimal_parse(int64_t *out, const char *s, size_t len);
/* Canonical text: always four fractional digits, as the Cedar spec prints
 * them: 1.5 -> "1.5000", -0.05 -> "-0.0500". */
void ghp_decimal_format(char *out, size_t outlen, int64_t v);

/* ipaddr: an IPv4 or IPv6 address with an optional prefix ("10.0.0.0/8"). */
typedef struct ghp_ipaddr {
	int v6;                    /* 0 for IPv4 (addr[0..3]), 1 for IPv6 */
	unsigned char addr[16];    /* network byte order */
	int prefix;                /* 0..32 or 0..128; the full length without "/n" */
} ghp_ipaddr;

/* Dotted quad (decimal, no leading zeros) or 8 hex groups with at most one
 * "::"; IPv4 embedded in IPv6 text is refused; "/n" without leading zeros.
 * The address is kept as written (not masked): 10.0.0.1/8 != 10.0.0.0/8. */
int ghp_ip_parse(ghp_ipaddr *out, const char *s, size_t len);
/* Canonical text: IPv6 per RFC 5952 (lower case, longest zero run as "::"),
 * "/n" only when n is not the full length. */
void ghp_ip_format(char *out, size_t outlen, const ghp_ipaddr *ip);
int ghp_ip_equal(const ghp_ipaddr *a, const ghp_ipaddr *b);
/* The whole range ip lies in 127.0.0.0/8 or ::1 (resp. 224.0.0.0/4 or ff00::/8). */
int ghp_ip_is_loopback(const ghp_ipaddr *ip);
int ghp_ip_is_multicast(const ghp_ipaddr *ip);
/* 1 when every address of a lies within range b (same family). */
int ghp_ip_in_range(const ghp_ipaddr *a, const ghp_ipaddr *b);

/* datetime: milliseconds since the Unix epoch, from "YYYY-MM-DD",
 * "YYYY-MM-DDThh:mm:ssZ", "...Thh:mm:ss.SSSZ" or with a "+hhmm"/"-hhmm" offset
 * (offset and fields range-checked, no leap seconds, proleptic Gregorian). */
int ghp_datetime_parse(int64_t *out_ms, const char *s, size_t len);
/* duration: milliseconds, from e.g. "1d2h3m4s5ms" or "-1h" (units in that
 * order, each at most once, one optional leading '-'; overflow is -1). */
int ghp_duration_parse(int64_t *out_ms, const char *s, size_t len);
/* "YYYY-MM-DDThh:mm:ss.SSSZ" (UTC). For UTC years 0000..9999 the text parses
 * back; outside them (through offset, or a +-hhmm offset at the very ends of
 * that range) it is the ISO 8601 expanded form, e.g.
 * "+10000-01-01T00:00:00.000Z" or "-0001-12-31T00:01:00.000Z", which
 * datetime() refuses. */
void ghp_datetime_format(char *out, size_t outlen, int64_t ms);
/* Largest units first, zero units left out, e.g. "1d2h3m4s5ms", "-1h", "0ms". */
void ghp_duration_format(char *out, size_t outlen, int64_t ms);

/* datetime.offset(duration), datetime.durationSince(datetime): -1 on overflow. */
int ghp_datetime_offset(int64_t *out, int64_t dt, int64_t dur);
int ghp_datetime_since(int64_t *out, int64_t a, int64_t b);
/* toDate (midnight UTC of the day, toward negative infinity) and toTime (ms into the day). */
int ghp_datetime_to_date(int64_t *out, int64_t dt);
int64_t ghp_datetime_to_time(int64_t dt);
/* duration.toDays() etc. truncate toward zero; unit_ms > 0 (else 0). */
int64_t ghp_duration_to(int64_t ms, int64_t unit_ms);

#endif
