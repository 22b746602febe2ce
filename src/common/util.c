/* util.c - time, durations, ids and hex. */
#include "common/util.h"
#include "common/error.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t gh_time_offset(void)
{
	static int64_t offset;
	static int loaded;

	if (!loaded) {
		const char *s = getenv("GATEHOUSE_TIME_OFFSET");
		offset = s ? strtoll(s, NULL, 10) : 0;
		loaded = 1;
	}
	return offset;
}

int64_t gh_now(void)
{
	return (int64_t)time(NULL) + gh_time_offset();
}

int64_t gh_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec + gh_time_offset()) * 1000000 + ts.tv_nsec / 1000;
}

void gh_time_format(char *out, size_t outlen, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) || !strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, outlen, "invalid");
}

#define TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int gh_time_parse(int64_t *out, const char *s)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0;
	int64_t t;
	const char *p;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (!s || strlen(s) < 20 || strlen(s) > 40)
		return GH_EINVALID;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &se))
		return GH_EINVALID;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 60)
		return GH_EINVALID;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return GH_EINVALID;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return GH_EINVALID;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return GH_EINVALID;
		oh *= sign;
		om *= sign;
		p += 6;
	} else {
		return GH_EINVALID;
	}
	if (*p != '\0')
		return GH_EINVALID;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - (int64_t)oh * 3600 -
	    (int64_t)om * 60;
	/* an offset or a leap second can cross 1970 or 9999: outside what we format */
	if (t < 0 || t > TIME_MAX)
		return GH_EINVALID;
	*out = t;
	return 0;
}

static const struct {
	char unit;
	int64_t seconds;
} units[] = {{'w', 604800}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

int gh_duration_parse(int64_t *out, const char *s)
{
	int64_t total = 0;
	size_t last_unit = 0;
	int any = 0;

	if (!s || !*s || strlen(s) > 32)
		return GH_EINVALID;
	while (*s) {
		int64_t n = 0;
		size_t u;
		int nd = 0;

		while (*s >= '0' && *s <= '9') {
			if (++nd > 10)
				return GH_EINVALID;
			n = n * 10 + (*s++ - '0');
		}
		if (nd == 0)
			return GH_EINVALID;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
			if (units[u].unit == *s)
				break;
		/* units must appear at most once, largest first */
		if (u == sizeof(units) / sizeof(units[0]) || (any && u <= last_unit))
			return GH_EINVALID;
		s++;
		total += n * units[u].seconds;
		if (total > 10LL * 366 * 86400)
			return GH_EINVALID;
		last_unit = u;
		any = 1;
	}
	if (total < 1)
		return GH_EINVALID;
	*out = total;
	return 0;
}

void gh_duration_format(char *out, size_t outlen, int64_t seconds)
{
	size_t len = 0;

	if (seconds <= 0) {
		snprintf(out, outlen, "0s");
		return;
	}
	out[0] = '\0';
	/* weeks are folded into days: "14d" reads better than "2w" in evidence */
	for (size_t u = 1; u < sizeof(units) / sizeof(units[0]) && len < outlen; u++) {
		int64_t n = seconds / units[u].seconds;
		if (n) {
			len += snprintf(out + len, outlen - len, "%lld%c", (long long)n, units[u].unit);
			seconds -= n * units[u].seconds;
		}
	}
}

/* Ids are ordered by creation so that inserts land at the right edge of the
 * indexes that hold them: 42 bits of milliseconds since 2020-01-01 and a
 * 22-bit counter that starts at a random value and steps on every id, so ids
 * made in one process never repeat and are hard to guess across processes. */
void gh_id_new(char *out, size_t outlen, const char *prefix)
{
	static _Atomic uint32_t counter;
	static _Atomic int seeded;
	uint64_t ms = (uint64_t)(gh_now_us() / 1000 - 1577836800000LL);
	uint32_t n;
	unsigned char raw[8];
	char hex[17];

	if (!seeded) {
		uint32_t expected = 0;
		atomic_compare_exchange_strong(&counter, &expected, randombytes_random());
		seeded = 1;
	}
	n = atomic_fetch_add(&counter, 1);
	uint64_t v = (ms << 22) | (n & 0x3fffff);
	for (int i = 7; i >= 0; i--, v >>= 8)
		raw[i] = (unsigned char)(v & 0xff);
	gh_hex(hex, raw, sizeof(raw));
	snprintf(out, outlen, "%s_%s", prefix, hex);
}

void gh_hex(char *out, const unsigned char *in, size_t n)
{
	static const char digit[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digit[in[i] >> 4];
		out[2 * i + 1] = digit[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int gh_init(void)
{
	(void)gh_time_offset();   /* read once, before any thread exists */
	return sodium_init() < 0 ? -1 : 0;
}
