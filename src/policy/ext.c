/* ext.c - Cedar's extension types (decimal, ipaddr, datetime, duration):
 * parsing, canonical text and the operations that can overflow.
 *
 * IMPLEMENTATION-OF: Cedar docs syntax-datatypes.md and syntax-operators.md
 * (decimal(), ip(), datetime(), duration() and their methods); where the
 * docs are silent the Lean specification (cedar-spec Cedar/Spec/Ext) decides. */
#include "policy/ext.h"

#include <stdio.h>
#include <string.h>

#define MS_PER_SECOND 1000LL
#define MS_PER_MINUTE (60 * MS_PER_SECOND)
#define MS_PER_HOUR (60 * MS_PER_MINUTE)
#define MS_PER_DAY (24 * MS_PER_HOUR)
#define INT64_MIN_MAGNITUDE ((uint64_t)INT64_MAX + 1)

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Signed magnitude to int64_t: negative allows one more than positive. */
static int signed_from_magnitude(int64_t *out, uint64_t mag, int negative)
{
	if (negative) {
		if (mag > INT64_MIN_MAGNITUDE)
			return -1;
		*out = mag == INT64_MIN_MAGNITUDE ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)mag;
	}
	return 0;
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* ---- decimal ---- */

int ghp_decimal_parse(int64_t *out, const char *s, size_t len)
{
	static const uint64_t scale[] = {10000, 1000, 100, 10, 1};
	size_t i = 0, start;
	uint64_t whole = 0, frac = 0, mag;
	int negative = 0;

	if (!s)
		return -1;
	if (i < len && s[i] == '-') {
		negative = 1;
		i++;
	}
	start = i;
	for (; i < len && is_digit(s[i]); i++) {
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, (uint64_t)(s[i] - '0'), &whole))
			return -1;
	}
	if (i == start || i >= len || s[i] != '.')
		return -1;
	start = ++i;
	for (; i < len && is_digit(s[i]); i++) {
		if (i - start < 4)
			frac = frac * 10 + (uint64_t)(s[i] - '0');
	}
	if (i != len || i == start || i - start > 4)
		return -1;
	if (__builtin_mul_overflow(whole, 10000, &mag) ||
	    __builtin_add_overflow(mag, frac * scale[i - start], &mag))
		return -1;
	return signed_from_magnitude(out, mag, negative);
}

void ghp_decimal_format(char *out, size_t outlen, int64_t v)
{
	uint64_t mag = magnitude(v);

	if (!out || outlen == 0)
		return;
	snprintf(out, outlen, "%s%llu.%04llu", v < 0 ? "-" : "",
		 (unsigned long long)(mag / 10000), (unsigned long long)(mag % 10000));
}

/* ---- ipaddr ---- */

/* A decimal number of 1..maxdigits digits, no leading zero, at most max. */
static int parse_small(int *out, const char *s, size_t len, size_t maxdigits, int max)
{
	int v = 0;

	if (len == 0 || len > maxdigits || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_v4(unsigned char addr[4], const char *s, size_t len)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		int v;

		while (i < len && s[i] != '.')
			i++;
		if (parse_small(&v, s + start, i - start, 3, 255) != 0)
			return -1;
		addr[part] = (unsigned char)v;
		if (part < 3) {
			if (i >= len)
				return -1;
			i++;          /* the '.' */
		}
	}
	return i == len ? 0 : -1;
}

/* Colon-separated groups of 1..4 hex digits (empty text: no groups). */
static int parse_v6_groups(unsigned groups[8], int *count, const char *s, size_t len)
{
	size_t i = 0;

	*count = 0;
	if (len == 0)
		return 0;
	for (;;) {
		size_t start = i;
		unsigned v = 0;

		while (i < len && s[i] != ':') {
			int h = hex_value(s[i]);
			if (h < 0 || i - start >= 4)
				return -1;
			v = v << 4 | (unsigned)h;
			i++;
		}
		if (i == start || *count >= 8)
			return -1;
		groups[(*count)++] = v;
		if (i == len)
			return 0;
		i++;                  /* the ':' */
	}
}

static int parse_v6(unsigned char addr[16], const char *s, size_t len)
{
	unsigned head[8], tail[8], all[8] = {0};
	int nhead = 0, ntail = 0;
	size_t gap = len;

	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] == ':' && s[i + 1] == ':') {
			gap = i;
			break;
		}
	}
	if (gap == len) {
		if (parse_v6_groups(head, &nhead, s, len) != 0 || nhead != 8)
			return -1;
		memcpy(all, head, sizeof(all));
	} else {
		/* "::" stands for at least one zero group and appears once. */
		if (parse_v6_groups(head, &nhead, s, gap) != 0 ||
		    parse_v6_groups(tail, &ntail, s + gap + 2, len - gap - 2) != 0 ||
		    nhead + ntail >= 8)
			return -1;
		for (int k = 0; k < nhead; k++)
			all[k] = head[k];
		for (int k = 0; k < ntail; k++)
			all[8 - ntail + k] = tail[k];
	}
	for (int k = 0; k < 8; k++) {
		addr[2 * k] = (unsigned char)(all[k] >> 8);
		addr[2 * k + 1] = (unsigned char)(all[k] & 0xff);
	}
	return 0;
}

int ghp_ip_parse(ghp_ipaddr *out, const char *s, size_t len)
{
	ghp_ipaddr ip;
	size_t slash = len;
	int has_dot = 0;

	if (!s || !out)
		return -1;
	memset(&ip, 0, sizeof(ip));
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '/' && slash == len)
			slash = i;
		if (s[i] == '.')
			has_dot = 1;
	}
	/* Dots make it IPv4 (text like "::1.2.3.4" is then refused); the
	 * prefix text must hold no second '/'. */
	ip.v6 = !has_dot;
	if (ip.v6 ? parse_v6(ip.addr, s, slash) : parse_v4(ip.addr, s, slash))
		return -1;
	ip.prefix = ip.v6 ? 128 : 32;
	if (slash < len && parse_small(&ip.prefix, s + slash + 1, len - slash - 1,
				       ip.v6 ? 3 : 2, ip.prefix) != 0)
		return -1;
	*out = ip;
	return 0;
}

void ghp_ip_format(char *out, size_t outlen, const ghp_ipaddr *ip)
{
	char buf[GHP_EXT_TEXT_MAX];
	size_t n = 0;

	if (!out || outlen == 0)
		return;
	if (!ip->v6) {
		n = (size_t)snprintf(buf, sizeof(buf), "%u.%u.%u.%u", ip->addr[0], ip->addr[1],
				     ip->addr[2], ip->addr[3]);
	} else {
		unsigned g[8];
		int best = -1, bestlen = 1;

		for (int k = 0; k < 8; k++)
			g[k] = (unsigned)ip->addr[2 * k] << 8 | ip->addr[2 * k + 1];
		/* RFC 5952 4.2: the longest run of two or more zero groups, the
		 * first one on a tie, becomes "::". */
		for (int k = 0; k < 8;) {
			int run = 0;
			while (k + run < 8 && g[k + run] == 0)
				run++;
			if (run > bestlen) {
				best = k;
				bestlen = run;
			}
			k += run ? run : 1;
		}
		for (int k = 0; k < 8; k++) {
			if (k == best) {
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "::");
				k += bestlen - 1;
				continue;
			}
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%x",
					      k > 0 && k != best + bestlen ? ":" : "", g[k]);
		}
	}
	if (ip->prefix != (ip->v6 ? 128 : 32))
		snprintf(buf + n, sizeof(buf) - n, "/%d", ip->prefix);
	snprintf(out, outlen, "%s", buf);
}

int ghp_ip_equal(const ghp_ipaddr *a, const ghp_ipaddr *b)
{
	size_t n = a->v6 ? 16 : 4;

	return a->v6 == b->v6 && a->prefix == b->prefix && memcmp(a->addr, b->addr, n) == 0;
}

/* The first and last address of ip's range, as 16 big-endian bytes. */
static void ip_range(const ghp_ipaddr *ip, unsigned char lo[16], unsigned char hi[16])
{
	int bytes = ip->v6 ? 16 : 4;

	for (int k = 0; k < bytes; k++) {
		int keep = ip->prefix - 8 * k;     /* network bits in this byte */
		unsigned mask = keep >= 8 ? 0xffu : keep <= 0 ? 0u : (0xffu << (8 - keep)) & 0xffu;

		lo[k] = (unsigned char)(ip->addr[k] & mask);
		hi[k] = (unsigned char)(ip->addr[k] | (~mask & 0xffu));
	}
}

int ghp_ip_in_range(const ghp_ipaddr *a, const ghp_ipaddr *b)
{
	unsigned char alo[16], ahi[16], blo[16], bhi[16];
	size_t n = a->v6 ? 16 : 4;

	if (a->v6 != b->v6)
		return 0;
	ip_range(a, alo, ahi);
	ip_range(b, blo, bhi);
	return memcmp(blo, alo, n) <= 0 && memcmp(ahi, bhi, n) <= 0;
}

int ghp_ip_is_loopback(const ghp_ipaddr *ip)
{
	static const ghp_ipaddr v4 = {0, {127}, 8};
	static const ghp_ipaddr v6 = {1, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128};

	return ghp_ip_in_range(ip, ip->v6 ? &v6 : &v4);
}

int ghp_ip_is_multicast(const ghp_ipaddr *ip)
{
	static const ghp_ipaddr v4 = {0, {224}, 4};
	static const ghp_ipaddr v6 = {1, {0xff}, 8};

	return ghp_ip_in_range(ip, ip->v6 ? &v6 : &v4);
}

/* ---- datetime ---- */

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* n fixed digits at s[at], into *out; -1 when any is not a digit. */
static int fixed_digits(int *out, const char *s, size_t at, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[at + i]))
			return -1;
		v = v * 10 + (s[at + i] - '0');
	}
	*out = v;
	return 0;
}

int ghp_datetime_parse(int64_t *out_ms, const char *s, size_t len)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, oh = 0, om = 0, sign = 0;
	size_t i;

	if (!s || len < 10)
		return -1;
	if (fixed_digits(&y, s, 0, 4) || s[4] != '-' || fixed_digits(&mo, s, 5, 2) ||
	    s[7] != '-' || fixed_digits(&d, s, 8, 2))
		return -1;
	if (len > 10) {
		if (len < 20 || s[10] != 'T' || fixed_digits(&h, s, 11, 2) || s[13] != ':' ||
		    fixed_digits(&mi, s, 14, 2) || s[16] != ':' || fixed_digits(&sec, s, 17, 2))
			return -1;
		i = 19;
		if (s[i] == '.') {
			if (len < i + 5 || fixed_digits(&ms, s, i + 1, 3))
				return -1;
			i += 4;
		}
		if (len == i + 1 && s[i] == 'Z') {
			sign = 0;
		} else if (len == i + 5 && (s[i] == '+' || s[i] == '-')) {
			sign = s[i] == '+' ? 1 : -1;
			if (fixed_digits(&oh, s, i + 1, 2) || fixed_digits(&om, s, i + 3, 2))
				return -1;
		} else {
			return -1;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 59 || oh > 23 || om > 59)
		return -1;
	/* Local time minus its offset is UTC; years 0000..9999 cannot overflow. */
	*out_ms = days_from_civil(y, mo, d) * MS_PER_DAY + h * MS_PER_HOUR + mi * MS_PER_MINUTE +
		  sec * MS_PER_SECOND + ms - sign * (oh * MS_PER_HOUR + om * MS_PER_MINUTE);
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void ghp_datetime_format(char *out, size_t outlen, int64_t ms)
{
	int64_t days = floor_div(ms, MS_PER_DAY), rest = ghp_datetime_to_time(ms), y;
	int m, d;

	if (!out || outlen == 0)
		return;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, outlen, "%s%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 y < 0 ? "-" : y > 9999 ? "+" : "", (long long)(y < 0 ? -y : y), m, d,
		 (int)(rest / MS_PER_HOUR), (int)(rest / MS_PER_MINUTE % 60),
		 (int)(rest / MS_PER_SECOND % 60), (int)(rest % MS_PER_SECOND));
}

/* ---- duration ---- */

int ghp_duration_parse(int64_t *out_ms, const char *s, size_t len)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {{"d", MS_PER_DAY}, {"h", MS_PER_HOUR}, {"m", MS_PER_MINUTE},
		     {"s", MS_PER_SECOND}, {"ms", 1}};
	size_t i = 0, next_unit = 0;
	uint64_t total = 0;
	int negative = 0;

	if (!s)
		return -1;
	if (i < len && s[i] == '-') {
		negative = 1;
		i++;
	}
	if (i == len)
		return -1;            /* "" and "-" */
	while (i < len) {
		size_t start = i, u;
		uint64_t n = 0, part;

		for (; i < len && is_digit(s[i]); i++) {
			if (__builtin_mul_overflow(n, 10, &n) ||
			    __builtin_add_overflow(n, (uint64_t)(s[i] - '0'), &n))
				return -1;
		}
		if (i == start || i == len)
			return -1;
		if (s[i] == 'm' && i + 1 < len && s[i + 1] == 's')
			u = 4;
		else if (s[i] == 'd')
			u = 0;
		else if (s[i] == 'h')
			u = 1;
		else if (s[i] == 'm')
			u = 2;
		else if (s[i] == 's')
			u = 3;
		else
			return -1;
		if (u < next_unit)
			return -1;    /* out of order or repeated */
		next_unit = u + 1;
		i += strlen(units[u].name);
		if (__builtin_mul_overflow(n, units[u].ms, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return -1;
	}
	return signed_from_magnitude(out_ms, total, negative);
}

void ghp_duration_format(char *out, size_t outlen, int64_t ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {{"d", MS_PER_DAY}, {"h", MS_PER_HOUR}, {"m", MS_PER_MINUTE},
		     {"s", MS_PER_SECOND}, {"ms", 1}};
	char buf[GHP_EXT_TEXT_MAX];
	uint64_t mag = magnitude(ms);
	size_t n = 0;

	if (!out || outlen == 0)
		return;
	if (ms < 0)
		buf[n++] = '-';
	buf[n] = '\0';
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		uint64_t q = mag / units[u].ms;

		mag %= units[u].ms;
		if (q > 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%llu%s",
					      (unsigned long long)q, units[u].name);
	}
	if (ms == 0)
		snprintf(buf, sizeof(buf), "0ms");
	snprintf(out, outlen, "%s", buf);
}

/* ---- operations ---- */

int ghp_datetime_offset(int64_t *out, int64_t dt, int64_t dur)
{
	return __builtin_add_overflow(dt, dur, out) ? -1 : 0;
}

int ghp_datetime_since(int64_t *out, int64_t a, int64_t b)
{
	return __builtin_sub_overflow(a, b, out) ? -1 : 0;
}

int ghp_datetime_to_date(int64_t *out, int64_t dt)
{
	return __builtin_mul_overflow(floor_div(dt, MS_PER_DAY), MS_PER_DAY, out) ? -1 : 0;
}

int64_t ghp_datetime_to_time(int64_t dt)
{
	int64_t rem = dt % MS_PER_DAY;

	return rem < 0 ? rem + MS_PER_DAY : rem;
}

int64_t ghp_duration_to(int64_t ms, int64_t unit_ms)
{
	if (unit_ms <= 0)
		return 0;
	return ms / unit_ms;
}
