/* ext.c - minimal extension types for the core's own tests (the real ext.c replaces this at merge). */
#include "policy/ext.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int ghp_decimal_parse(int64_t *out, const char *s, size_t len)
{
	size_t i = 0;
	int neg = 0, frac = 0, dot = 0, digits = 0;
	int64_t v = 0;
	if (i < len && s[i] == '-') {
		neg = 1;
		i++;
	}
	for (; i < len; i++) {
		if (s[i] == '.' && !dot && digits) {
			dot = 1;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (dot && ++frac > 4)
			return -1;
		digits++;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_sub_overflow(v, s[i] - '0', &v))
			return -1;
	}
	if (!dot || !frac)
		return -1;
	for (; frac < 4; frac++)
		if (__builtin_mul_overflow(v, 10, &v))
			return -1;
	if (!neg && v == INT64_MIN)
		return -1;
	*out = neg ? v : -v;
	return 0;
}

void ghp_decimal_format(char *out, size_t outlen, int64_t v)
{
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	snprintf(out, outlen, "%s%llu.%04llu", v < 0 ? "-" : "", (unsigned long long)(u / 10000),
		 (unsigned long long)(u % 10000));
}

int ghp_ip_parse(ghp_ipaddr *out, const char *s, size_t len)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf) || memchr(s, 0, len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	memset(out, 0, sizeof(*out));
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	out->v6 = strchr(buf, ':') != NULL;
	if (out->v6 && strchr(buf, '.'))
		return -1; /* Cedar refuses IPv4-embedded IPv6 */
	if (inet_pton(out->v6 ? AF_INET6 : AF_INET, buf, out->addr) != 1)
		return -1;
	int max = out->v6 ? 128 : 32;
	out->prefix = max;
	if (slash) {
		const char *p = slash + 1;
		int n = 0, d = 0;
		for (; *p; p++, d++) {
			if (*p < '0' || *p > '9' || d > 2)
				return -1;
			n = n * 10 + (*p - '0');
		}
		if (!d || n > max || (d > 1 && slash[1] == '0'))
			return -1;
		out->prefix = n;
	}
	return 0;
}

void ghp_ip_format(char *out, size_t outlen, const ghp_ipaddr *ip)
{
	char a[64];
	inet_ntop(ip->v6 ? AF_INET6 : AF_INET, ip->addr, a, sizeof(a));
	if (ip->prefix != (ip->v6 ? 128 : 32))
		snprintf(out, outlen, "%s/%d", a, ip->prefix);
	else
		snprintf(out, outlen, "%s", a);
}

int ghp_ip_equal(const ghp_ipaddr *a, const ghp_ipaddr *b)
{
	return a->v6 == b->v6 && a->prefix == b->prefix && !memcmp(a->addr, b->addr, a->v6 ? 16 : 4);
}

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)full))
		return 0;
	if (!rest)
		return 1;
	unsigned char m = (unsigned char)(0xFF << (8 - rest));
	return (a[full] & m) == (b[full] & m);
}

int ghp_ip_is_loopback(const ghp_ipaddr *ip)
{
	static const unsigned char v4[4] = { 127 }, v6[16] = { [15] = 1 };
	return ip->v6 ? ip->prefix >= 128 && prefix_match(ip->addr, v6, 128)
		      : ip->prefix >= 8 && prefix_match(ip->addr, v4, 8);
}

int ghp_ip_is_multicast(const ghp_ipaddr *ip)
{
	static const unsigned char v4[4] = { 224 }, v6[16] = { 0xff };
	return ip->v6 ? ip->prefix >= 8 && prefix_match(ip->addr, v6, 8)
		      : ip->prefix >= 4 && prefix_match(ip->addr, v4, 4);
}

int ghp_ip_in_range(const ghp_ipaddr *a, const ghp_ipaddr *b)
{
	return a->v6 == b->v6 && a->prefix >= b->prefix && prefix_match(a->addr, b->addr, b->prefix);
}

#define DAY_MS INT64_C(86400000)

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int num(const char *s, size_t len, size_t at, int n, int *out)
{
	*out = 0;
	if (at + (size_t)n > len)
		return -1;
	for (int i = 0; i < n; i++) {
		if (s[at + i] < '0' || s[at + i] > '9')
			return -1;
		*out = *out * 10 + (s[at + i] - '0');
	}
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int ghp_datetime_parse(int64_t *out_ms, const char *s, size_t len)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
	if (num(s, len, 0, 4, &y) || len < 10 || s[4] != '-' || num(s, len, 5, 2, &mo) ||
	    s[7] != '-' || num(s, len, 8, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	size_t i = 10;
	if (len > 10) {
		if (s[10] != 'T' || num(s, len, 11, 2, &h) || len < 20 || s[13] != ':' ||
		    num(s, len, 14, 2, &mi) || s[16] != ':' || num(s, len, 17, 2, &sec))
			return -1;
		if (h > 23 || mi > 59 || sec > 59)
			return -1;
		i = 19;
		if (i < len && s[i] == '.') {
			if (num(s, len, 20, 3, &ms))
				return -1;
			i = 23;
		}
		if (i < len && s[i] == 'Z') {
			i++;
		} else if (i < len && (s[i] == '+' || s[i] == '-')) {
			int oh, om;
			if (num(s, len, i + 1, 2, &oh) || num(s, len, i + 3, 2, &om) || oh > 23 || om > 59)
				return -1;
			off = (oh * 60 + om) * 60000;
			if (s[i] == '+')
				off = -off;
			i += 5;
		} else {
			return -1;
		}
		if (i != len)
			return -1;
	}
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	*out_ms = days * DAY_MS + ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + ms + off;
	return 0;
}

int ghp_duration_parse(int64_t *out_ms, const char *s, size_t len)
{
	static const struct {
		const char *u;
		int64_t ms;
	} units[] = { { "d", DAY_MS }, { "h", 3600000 }, { "ms", 1 }, { "m", 60000 }, { "s", 1000 } };
	static const int order[] = { 0, 1, 4, 2, 3 }; /* d h m s ms */
	size_t i = 0;
	int neg = 0, last = -1, any = 0;
	int64_t total = 0;
	if (i < len && s[i] == '-') {
		neg = 1;
		i++;
	}
	while (i < len) {
		int64_t v = 0;
		size_t start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
				return -1;
			i++;
		}
		if (i == start)
			return -1;
		int u = -1;
		for (int k = 0; k < 5; k++) {
			size_t ul = strlen(units[k].u);
			if (i + ul <= len && !memcmp(s + i, units[k].u, ul)) {
				u = k;
				i += ul;
				break;
			}
		}
		if (u < 0 || order[u] <= last)
			return -1;
		last = order[u];
		int64_t part;
		if (__builtin_mul_overflow(v, units[u].ms, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return -1;
		any = 1;
	}
	if (!any)
		return -1;
	*out_ms = neg ? -total : total;
	return 0;
}

void ghp_datetime_format(char *out, size_t outlen, int64_t ms)
{
	int64_t days = ms / DAY_MS, rem = ms % DAY_MS;
	if (rem < 0) {
		rem += DAY_MS;
		days--;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, outlen, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
		 (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
		 (int)(rem % 1000));
}

void ghp_duration_format(char *out, size_t outlen, int64_t ms)
{
	uint64_t u = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	snprintf(out, outlen, "%s%llums", ms < 0 ? "-" : "", (unsigned long long)u);
}

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
	int64_t q = dt / DAY_MS;
	if (dt % DAY_MS < 0)
		q--;
	return __builtin_mul_overflow(q, DAY_MS, out) ? -1 : 0;
}

int64_t ghp_datetime_to_time(int64_t dt)
{
	int64_t r = dt % DAY_MS;
	return r < 0 ? r + DAY_MS : r;
}

int64_t ghp_duration_to(int64_t ms, int64_t unit_ms)
{
	return ms / unit_ms;
}
