/* fuzz_policy_ext.c - fuzz target: Cedar's decimal(), ip(), datetime() and
 * duration() parsers take arbitrary bytes; what they accept must format to
 * canonical text that parses back to the same value (abort on violation).
 *
 * The whole input is tried with every parser; when it holds a '|', the two
 * sides are also parsed as ip() and compared. Its first 16 bytes are also
 * taken as raw values to format, parse back and combine with the
 * overflow-checked datetime operations. */
#include "policy/ext.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400000LL
#define YEAR0_MS (-62167219200000LL)      /* 0000-01-01T00:00:00Z */
#define YEAR9999_END_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void violated(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_policy_ext: %s: \"%.64s\"\n", what, text);
	abort();
}

/* format(v) parses back to v, and formatting that again gives the same text. */
static void round_trip(const char *kind, int64_t v, void (*format)(char *, size_t, int64_t),
		       int (*parse)(int64_t *, const char *, size_t))
{
	char text[GHP_EXT_TEXT_MAX], again[GHP_EXT_TEXT_MAX];
	int64_t back = 0;

	format(text, sizeof(text), v);
	if (strlen(text) + 1 >= sizeof(text))
		violated("canonical text fills the whole buffer", text);
	if (parse(&back, text, strlen(text)) != 0 || back != v) {
		fprintf(stderr, "fuzz_policy_ext: %s %lld\n", kind, (long long)v);
		violated("canonical text does not parse back", text);
	}
	format(again, sizeof(again), back);
	if (strcmp(text, again) != 0)
		violated("format is not canonical", text);
}

static void datetime_value(int64_t v)
{
	int64_t date, time = ghp_datetime_to_time(v);

	if (time < 0 || time >= DAY)
		violated("toTime is outside one day", "");
	if (ghp_datetime_to_date(&date, v) == 0 && (date % DAY != 0 || date + time != v))
		violated("toDate + toTime is not the datetime", "");
	if (v >= YEAR0_MS && v <= YEAR9999_END_MS)
		round_trip("datetime", v, ghp_datetime_format, ghp_datetime_parse);
}

static void duration_value(int64_t v)
{
	static const int64_t units[] = {1000, 60000, 3600000, DAY};

	round_trip("duration", v, ghp_duration_format, ghp_duration_parse);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int64_t q = ghp_duration_to(v, units[i]);

		/* Truncation toward zero: |q * unit| <= |v|, same sign. */
		if ((v >= 0 && (q < 0 || q > v / units[i])) || (v < 0 && (q > 0 || q < v / units[i])))
			violated("duration.to* does not truncate toward zero", "");
	}
}

static void ip_value(const ghp_ipaddr *ip)
{
	char text[GHP_EXT_TEXT_MAX], again[GHP_EXT_TEXT_MAX];
	ghp_ipaddr back, everything;

	ghp_ip_format(text, sizeof(text), ip);
	if (ghp_ip_parse(&back, text, strlen(text)) != 0 || !ghp_ip_equal(ip, &back))
		violated("canonical ip text does not parse back", text);
	ghp_ip_format(again, sizeof(again), &back);
	if (strcmp(text, again) != 0)
		violated("ip format is not canonical", text);
	if (!ghp_ip_in_range(ip, ip))
		violated("an ip is not in its own range", text);
	everything = *ip;
	everything.prefix = 0;
	if (!ghp_ip_in_range(ip, &everything))
		violated("an ip is not in /0 of its family", text);
	if (ghp_ip_is_loopback(ip) && ghp_ip_is_multicast(ip))
		violated("an ip is both loopback and multicast", text);
}

static void text_input(const char *s, size_t len)
{
	int64_t v;
	ghp_ipaddr ip;

	if (ghp_decimal_parse(&v, s, len) == 0)
		round_trip("decimal", v, ghp_decimal_format, ghp_decimal_parse);
	if (ghp_duration_parse(&v, s, len) == 0)
		duration_value(v);
	if (ghp_datetime_parse(&v, s, len) == 0) {
		/* datetime() reaches 0000-01-01T00:00:00+2359 .. 9999-12-31T23:59:59-2359. */
		if (v < YEAR0_MS - DAY || v > YEAR9999_END_MS + DAY)
			violated("a parsed datetime is outside years 0000..9999", s);
		datetime_value(v);
	}
	if (ghp_ip_parse(&ip, s, len) == 0) {
		if (ip.prefix < 0 || ip.prefix > (ip.v6 ? 128 : 32))
			violated("a parsed ip has a prefix out of range", s);
		ip_value(&ip);
	}
}

static void ip_pair(const char *s, size_t len)
{
	const char *bar = memchr(s, '|', len);
	ghp_ipaddr a, b;

	if (!bar || ghp_ip_parse(&a, s, (size_t)(bar - s)) != 0 ||
	    ghp_ip_parse(&b, bar + 1, len - (size_t)(bar - s) - 1) != 0)
		return;
	if (ghp_ip_equal(&a, &b) != ghp_ip_equal(&b, &a))
		violated("ip equality is not symmetric", s);
	if (ghp_ip_equal(&a, &b) && (!ghp_ip_in_range(&a, &b) || !ghp_ip_in_range(&b, &a)))
		violated("equal ips are not in each other's range", s);
	if (a.v6 != b.v6 && (ghp_ip_in_range(&a, &b) || ghp_ip_in_range(&b, &a)))
		violated("isInRange across families", s);
	if (ghp_ip_in_range(&a, &b) && a.prefix < b.prefix)
		violated("a wider range is inside a narrower one", s);
}

static void raw_values(const uint8_t *data, size_t size)
{
	uint64_t x = 0, y = 0;
	int64_t a, b, sum, diff;
	ghp_ipaddr ip;

	for (size_t i = 0; i < size && i < 8; i++)
		x = x << 8 | data[i];
	for (size_t i = 8; i < size && i < 16; i++)
		y = y << 8 | data[i];
	memcpy(&a, &x, sizeof(a));
	memcpy(&b, &y, sizeof(b));
	round_trip("decimal", a, ghp_decimal_format, ghp_decimal_parse);
	duration_value(a);
	datetime_value(a);
	datetime_value(YEAR0_MS + (int64_t)(x % (uint64_t)(YEAR9999_END_MS - YEAR0_MS + 1)));
	if (ghp_datetime_offset(&sum, a, b) == 0) {
		if (ghp_datetime_since(&diff, sum, a) != 0 || diff != b)
			violated("offset then durationSince does not give the duration back", "");
	} else if ((b > 0 && a <= INT64_MAX - b) || (b < 0 && a >= INT64_MIN - b)) {
		violated("offset refused a sum that fits", "");
	}

	memset(&ip, 0, sizeof(ip));
	ip.v6 = (int)(y & 1);
	memcpy(ip.addr, data, size < 16 ? size : 16);
	if (!ip.v6)
		memset(ip.addr + 4, 0, 12);
	ip.prefix = (int)((y >> 1) % (ip.v6 ? 129u : 33u));
	ip_value(&ip);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so reading past the end is caught. */
	char *s = malloc(size ? size : 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	text_input(s, size);
	ip_pair(s, size);
	free(s);
	raw_values(data, size);
	return 0;
}
