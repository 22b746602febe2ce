/* test_policy_ext.c - Cedar extension types: decimal, ipaddr, datetime and
 * duration parsing, canonical text and overflow-checked operations. */
#include "policy/ext.h"
#include "harness.h"

#include <stdint.h>

#define DAY 86400000LL
/* "Expect a parse error" in value tables: a value no valid case has. */
#define BAD (INT64_MIN + 424242)

typedef struct value_case {
	const char *text;
	int64_t want;                /* BAD: the text must be refused */
	const char *canonical;       /* format(parse(text)); NULL: not checked */
} value_case;

typedef int (*parse_fn)(int64_t *, const char *, size_t);
typedef void (*format_fn)(char *, size_t, int64_t);

static void check_values(const value_case *cases, parse_fn parse, format_fn format)
{
	for (const value_case *c = cases; c->text; c++) {
		int64_t v = 12345;
		int rc = parse(&v, c->text, strlen(c->text));
		char buf[GHP_EXT_TEXT_MAX];

		if (c->want == BAD) {
			if (!CHECK_INT(rc, -1))
				fprintf(stderr, "      accepted \"%s\" as %lld\n", c->text, (long long)v);
			continue;
		}
		if (!CHECK_INT(rc, 0) || !CHECK_INT(v, c->want)) {
			fprintf(stderr, "      for \"%s\"\n", c->text);
			continue;
		}
		if (c->canonical) {
			format(buf, sizeof(buf), v);
			if (!CHECK_STR(buf, c->canonical))
				fprintf(stderr, "      for \"%s\"\n", c->text);
		}
	}
}

/* ---- decimal ---- */

static void test_policy_ext_decimal__parses_per_the_docs(void)
{
	static const value_case cases[] = {
		{"1.0", 10000, "1.0000"},
		{"-1.0", -10000, "-1.0000"},
		{"123.456", 1234560, "123.4560"},
		{"0.1234", 1234, "0.1234"},
		{"-0.0123", -123, "-0.0123"},
		{"55.1", 551000, "55.1000"},
		{"00.000", 0, "0.0000"},
		{"-0.0", 0, "0.0000"},
		{"-0.5", -5000, "-0.5000"},            /* the sign covers the whole value */
		{"1.05", 10500, "1.0500"},
		{"0123.0", 1230000, "123.0000"},
		{"0000000000000000000000001.0", 10000, "1.0000"},
		{"922337203685477.5807", INT64_MAX, "922337203685477.5807"},
		{"-922337203685477.5808", INT64_MIN, "-922337203685477.5808"},
		{"1234", BAD, NULL},                   /* no point */
		{"1.0.", BAD, NULL},
		{"1.", BAD, NULL},
		{".1", BAD, NULL},
		{"1.a", BAD, NULL},
		{"-.", BAD, NULL},
		{"-", BAD, NULL},
		{"", BAD, NULL},
		{"-.5", BAD, NULL},
		{"+1.0", BAD, NULL},
		{" 1.0", BAD, NULL},
		{"1.0 ", BAD, NULL},
		{"1 .0", BAD, NULL},
		{"--1.0", BAD, NULL},
		{"1,0", BAD, NULL},
		{"1e3.0", BAD, NULL},
		{"1_0.0", BAD, NULL},
		{"0x1.0", BAD, NULL},
		{"1.-1", BAD, NULL},
		{"0.12345", BAD, NULL},                /* too many fractional digits */
		{"0.00000", BAD, NULL},                /* even when they are zeros */
		{"1000000000000000.0", BAD, NULL},     /* overflow */
		{"922337203685477.5808", BAD, NULL},
		{"-922337203685477.5809", BAD, NULL},
		{"-922337203685478.0", BAD, NULL},
		{"99999999999999999999999.0", BAD, NULL},
		{NULL, 0, NULL},
	};

	check_values(cases, ghp_decimal_parse, ghp_decimal_format);
}

static void test_policy_ext_decimal__refuses_embedded_nul_and_honours_len(void)
{
	int64_t v;

	CHECK_INT(ghp_decimal_parse(&v, "1.5\0" "0", 5), -1);
	CHECK_INT(ghp_decimal_parse(&v, "1.5xyz", 3), 0);
	CHECK_INT(v, 15000);
	CHECK_INT(ghp_decimal_parse(&v, "1.5", 0), -1);
	CHECK_INT(ghp_decimal_parse(&v, NULL, 0), -1);
}

static void test_policy_ext_decimal__formats_and_truncates_safely(void)
{
	char buf[GHP_EXT_TEXT_MAX], tiny[4] = "xyz";

	ghp_decimal_format(buf, sizeof(buf), 5);
	CHECK_STR(buf, "0.0005");
	ghp_decimal_format(buf, sizeof(buf), -5);
	CHECK_STR(buf, "-0.0005");
	ghp_decimal_format(tiny, sizeof(tiny), 123456789);
	CHECK_STR(tiny, "123");
	ghp_decimal_format(tiny, 0, 1);   /* no write at all */
	CHECK_STR(tiny, "123");
}

/* ---- ipaddr ---- */

typedef struct ip_case {
	const char *text;
	int ok;
	const char *canonical;       /* format(parse(text)) when ok */
} ip_case;

static void test_policy_ext_ip__parses_per_the_docs_and_the_spec(void)
{
	static const ip_case cases[] = {
		{"127.0.0.1", 1, "127.0.0.1"},
		{"::1", 1, "::1"},
		{"127.0.0.1/24", 1, "127.0.0.1/24"},
		{"ffee::/64", 1, "ffee::/64"},
		{"ff00::2", 1, "ff00::2"},
		{"::2", 1, "::2"},
		{"0.0.0.0", 1, "0.0.0.0"},
		{"255.255.255.255/32", 1, "255.255.255.255"},
		{"10.0.0.0/0", 1, "10.0.0.0/0"},
		{"::", 1, "::"},
		{"::/0", 1, "::/0"},
		{"1::", 1, "1::"},
		{"1:2:3:4:5:6:7:8", 1, "1:2:3:4:5:6:7:8"},
		{"1:2:3:4:5:6:7::", 1, "1:2:3:4:5:6:7:0"},   /* "::" may stand for one group */
		{"::2:3:4:5:6:7:8", 1, "0:2:3:4:5:6:7:8"},
		{"FFFF:0:0:0:0:0:0:ABCD", 1, "ffff::abcd"},
		{"0001:0000:0000:0001:0000:0000:0000:0001", 1, "1:0:0:1::1"},   /* longest run */
		{"1:0:0:1:0:0:1:1", 1, "1::1:0:0:1:1"},                        /* first on a tie */
		{"1:0:1:1:1:1:1:1", 1, "1:0:1:1:1:1:1:1"},                     /* one zero stays */
		{"1:2:3:4::/48", 1, "1:2:3:4::/48"},
		{"::ffff:ff00:1", 1, "::ffff:ff00:1"},
		{"1::/128", 1, "1::"},
		{"380.0.0.1", 0, NULL},
		{"256.0.0.1", 0, NULL},
		{"ab.ab.ab.ab", 0, NULL},
		{"127.0.0.1/8/24", 0, NULL},
		{"fee::/64::1", 0, NULL},
		{"fzz::1", 0, NULL},
		{"", 0, NULL},
		{"/8", 0, NULL},
		{"1.2.3", 0, NULL},
		{"1.2.3.4.5", 0, NULL},
		{"1.2.3.", 0, NULL},
		{".1.2.3", 0, NULL},
		{"1..2.3", 0, NULL},
		{"01.2.3.4", 0, NULL},          /* leading zeros */
		{"1.2.3.00", 0, NULL},
		{"1.2.3.0004", 0, NULL},
		{"1.2.3.4/", 0, NULL},
		{"1.2.3.4/33", 0, NULL},
		{"1.2.3.4/08", 0, NULL},
		{"1.2.3.4/+8", 0, NULL},
		{"1.2.3.4/-1", 0, NULL},
		{"1.2.3.4/ 8", 0, NULL},
		{" 1.2.3.4", 0, NULL},
		{"1.2.3.4 ", 0, NULL},
		{"1.2.3.4\n", 0, NULL},
		{"::/129", 0, NULL},
		{"::/0128", 0, NULL},
		{"::/1000", 0, NULL},
		{"1:2:3:4:5:6:7", 0, NULL},
		{"1:2:3:4:5:6:7:8:9", 0, NULL},
		{"1:2:3:4::5:6:7:8", 0, NULL},  /* "::" must stand for a group */
		{"1::2::3", 0, NULL},
		{":::", 0, NULL},
		{":::1", 0, NULL},
		{"1:::2", 0, NULL},
		{":1::", 0, NULL},
		{"1::2:", 0, NULL},
		{":", 0, NULL},
		{"12345::", 0, NULL},
		{"::ffff:192.168.0.1", 0, NULL}, /* IPv4 embedded in IPv6 */
		{"::127.0.0.1", 0, NULL},
		{"::1.2", 0, NULL},
		{"1:2:3:4:5:6:1.2.3.4", 0, NULL},
		{"::g", 0, NULL},
		{"[::1]", 0, NULL},
		{"fe80::1%eth0", 0, NULL},
		{"0x7f.0.0.1", 0, NULL},
		{"127.1", 0, NULL},
		{NULL, 0, NULL},
	};

	for (const ip_case *c = cases; c->text; c++) {
		ghp_ipaddr ip;
		char buf[GHP_EXT_TEXT_MAX];
		int rc = ghp_ip_parse(&ip, c->text, strlen(c->text));

		if (!CHECK_INT(rc, c->ok ? 0 : -1)) {
			fprintf(stderr, "      for \"%s\"\n", c->text);
			continue;
		}
		if (!c->ok)
			continue;
		ghp_ip_format(buf, sizeof(buf), &ip);
		if (!CHECK_STR(buf, c->canonical))
			fprintf(stderr, "      for \"%s\"\n", c->text);
	}
}

static ghp_ipaddr ip(const char *s)
{
	ghp_ipaddr v;

	memset(&v, 0, sizeof(v));
	if (ghp_ip_parse(&v, s, strlen(s)) != 0) {
		fprintf(stderr, "      test setup: \"%s\" does not parse\n", s);
		gh_test_failures++;
	}
	return v;
}

typedef struct ip_pair_case {
	const char *a, *b;
	int want;
} ip_pair_case;

static void test_policy_ext_ip__equality_keeps_host_bits_and_prefix(void)
{
	static const ip_pair_case cases[] = {
		{"127.0.0.1", "127.0.0.1", 1},
		{"192.168.0.1", "8.8.8.8", 0},
		{"192.168.0.1/24", "8.8.8.8/8", 0},
		{"192.168.0.1/24", "192.168.0.8/24", 0},
		{"127.0.0.1", "::1", 0},
		{"127.0.0.1", "192.168.0.1/24", 0},
		{"127.0.0.1", "127.0.0.1/32", 1},
		{"10.0.0.0/8", "10.0.0.0/16", 0},
		{"::1", "0:0:0:0:0:0:0:1", 1},
		{"::1/128", "::1", 1},
		{"0.0.0.0", "::", 0},
		{NULL, NULL, 0},
	};

	for (const ip_pair_case *c = cases; c->a; c++) {
		ghp_ipaddr a = ip(c->a), b = ip(c->b);

		if (!CHECK_INT(ghp_ip_equal(&a, &b), c->want) || !CHECK_INT(ghp_ip_equal(&b, &a), c->want))
			fprintf(stderr, "      for %s == %s\n", c->a, c->b);
	}
}

static void test_policy_ext_ip__in_range(void)
{
	static const ip_pair_case cases[] = {
		{"192.168.0.1", "192.168.0.1/24", 1},
		{"192.168.0.1", "192.168.0.1/28", 1},
		{"192.168.0.75", "192.168.0.1/24", 1},
		{"192.168.0.75", "192.168.0.1/28", 0},
		{"1:2:3:4::", "1:2:3:4::/48", 1},
		{"192.168.0.1", "1:2:3:4::", 0},
		{"1:2:3:4::", "192.168.0.1/0", 0},
		{"10.1.0.0/16", "10.0.0.0/8", 1},    /* a range inside a range */
		{"10.0.0.0/8", "10.1.0.0/16", 0},
		{"10.0.0.0/8", "10.0.0.0/8", 1},
		{"10.9.9.9/8", "10.0.0.0/8", 1},     /* host bits of either side do not count */
		{"1.2.3.4", "0.0.0.0/0", 1},
		{"0.0.0.0/0", "1.2.3.4/0", 1},
		{"1.2.3.4", "1.2.3.4", 1},
		{"1.2.3.4", "1.2.3.5", 0},
		{"ffff::1", "::/0", 1},
		{"::/0", "::/1", 0},
		{"8000::", "::/1", 0},
		{"7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/1", 1},
		{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:0/124", 1},
		{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:0/125", 0},
		{NULL, NULL, 0},
	};

	for (const ip_pair_case *c = cases; c->a; c++) {
		ghp_ipaddr a = ip(c->a), b = ip(c->b);

		if (!CHECK_INT(ghp_ip_in_range(&a, &b), c->want))
			fprintf(stderr, "      for %s in %s\n", c->a, c->b);
	}
}

typedef struct ip_class_case {
	const char *text;
	int loopback, multicast;
} ip_class_case;

static void test_policy_ext_ip__loopback_and_multicast(void)
{
	static const ip_class_case cases[] = {
		{"127.0.0.2", 1, 0},
		{"127.0.0.1", 1, 0},
		{"127.255.255.255", 1, 0},
		{"127.0.0.0/8", 1, 0},
		{"127.0.0.1/7", 0, 0},      /* the range reaches beyond 127/8 */
		{"128.0.0.1", 0, 0},
		{"::1", 1, 0},
		{"::2", 0, 0},
		{"::1/127", 0, 0},
		{"::ffff:7f00:1", 0, 0},     /* IPv4-mapped is IPv6 here */
		{"127.0.0.1", 1, 0},
		{"224.0.0.1", 0, 1},
		{"239.255.255.255", 0, 1},
		{"224.0.0.0/4", 0, 1},
		{"224.0.0.0/3", 0, 0},
		{"240.0.0.1", 0, 0},
		{"ff00::2", 0, 1},
		{"ff02::1/16", 0, 1},
		{"ff00::/8", 0, 1},
		{"ff00::/7", 0, 0},
		{"fe00::1", 0, 0},
		{NULL, 0, 0},
	};

	for (const ip_class_case *c = cases; c->text; c++) {
		ghp_ipaddr a = ip(c->text);

		if (!CHECK_INT(ghp_ip_is_loopback(&a), c->loopback) ||
		    !CHECK_INT(ghp_ip_is_multicast(&a), c->multicast))
			fprintf(stderr, "      for %s\n", c->text);
	}
}

static void test_policy_ext_ip__family_and_prefix_fields(void)
{
	ghp_ipaddr a = ip("10.1.2.3/8"), b = ip("1:2::/48");

	CHECK_INT(a.v6, 0);
	CHECK_INT(a.prefix, 8);
	CHECK_INT(a.addr[0], 10);
	CHECK_INT(a.addr[3], 3);           /* not masked */
	CHECK_INT(b.v6, 1);
	CHECK_INT(b.prefix, 48);
	CHECK_INT(b.addr[1], 1);
	CHECK_INT(b.addr[3], 2);
}

/* ---- datetime ---- */

static void test_policy_ext_datetime__parses_per_the_docs(void)
{
	static const value_case cases[] = {
		{"1970-01-01", 0, "1970-01-01T00:00:00.000Z"},
		{"2024-10-15", 1728950400000LL, "2024-10-15T00:00:00.000Z"},
		{"2024-10-15T11:35:00Z", 1728992100000LL, "2024-10-15T11:35:00.000Z"},
		{"2024-10-15T11:35:00.000Z", 1728992100000LL, "2024-10-15T11:35:00.000Z"},
		{"2024-10-15T11:35:00.123Z", 1728992100123LL, "2024-10-15T11:35:00.123Z"},
		{"2024-10-15T11:35:00+0100", 1728988500000LL, "2024-10-15T10:35:00.000Z"},
		{"2024-10-15T11:35:00.000+0100", 1728988500000LL, "2024-10-15T10:35:00.000Z"},
		{"2024-10-15T11:38:02.101+1134", 1728950642101LL, "2024-10-15T00:04:02.101Z"},
		{"2024-10-15T11:38:02.101-1134", 1729033922101LL, "2024-10-15T23:12:02.101Z"},
		{"2024-10-15T23:59:00+2359", 1728950400000LL, "2024-10-15T00:00:00.000Z"},
		{"2024-10-15T00:00:00-2359", 1729036740000LL, "2024-10-15T23:59:00.000Z"},
		{"2024-10-15T00:00:00-0000", 1728950400000LL, NULL},
		{"1969-12-31T23:59:59.999Z", -1, "1969-12-31T23:59:59.999Z"},
		{"1969-12-31", -DAY, "1969-12-31T00:00:00.000Z"},
		{"2024-02-29", 1709164800000LL, NULL},            /* leap year */
		{"2000-02-29", 951782400000LL, NULL},             /* divisible by 400 */
		{"0000-02-29", -62162121600000LL, NULL},          /* year 0 is a leap year */
		{"0000-01-01", -62167219200000LL, "0000-01-01T00:00:00.000Z"},
		{"0000-01-01T00:00:00+2359", -62167305540000LL, "-0001-12-31T00:01:00.000Z"},
		{"9999-12-31T23:59:59.999Z", 253402300799999LL, "9999-12-31T23:59:59.999Z"},
		{"9999-12-31T23:59:59-2359", 253402387139000LL, "+10000-01-01T23:58:59.000Z"},
		{"2024-01-31", 1706659200000LL, NULL},
		{"2024-04-30", 1714435200000LL, NULL},
		{"2022-10-10 ", BAD, NULL},                       /* trailing space */
		{"2024-10-15Z", BAD, NULL},
		{"2024-10-15T11:38:02ZZ", BAD, NULL},
		{"2024-01-01T01:02", BAD, NULL},
		{"2024-01-01T00:00:00", BAD, NULL},               /* no zone */
		{"2016-12-31T23:59:60.000Z", BAD, NULL},          /* leap second */
		{"2016-12-31T23:59:60Z", BAD, NULL},
		{"2016-12-31T23:59:61Z", BAD, NULL},
		{"", BAD, NULL},
		{"a", BAD, NULL},
		{"-", BAD, NULL},
		{"-1", BAD, NULL},
		{"11-12-13", BAD, NULL},
		{"12/27/91", BAD, NULL},
		{"1111-1x-20", BAD, NULL},
		{"0000-0a-01", BAD, NULL},
		{"10000-01-01", BAD, NULL},                       /* five-digit year */
		{"10000-01-01T00:00:00Z", BAD, NULL},
		{"-001-01-01", BAD, NULL},
		{"+2024-01-01", BAD, NULL},
		{"2024-1-01", BAD, NULL},
		{"2024-01-1", BAD, NULL},
		{"2024/01/01", BAD, NULL},
		{"2024-00-01", BAD, NULL},
		{"2024-01-00", BAD, NULL},
		{"2024-02-30", BAD, NULL},
		{"2025-02-29", BAD, NULL},
		{"1900-02-29", BAD, NULL},                        /* century, not leap */
		{"2024-13-01", BAD, NULL},
		{"2024-20-01", BAD, NULL},
		{"2024-01-32", BAD, NULL},
		{"2024-01-99", BAD, NULL},
		{"2024-04-31", BAD, NULL},
		{"2024-01-01T", BAD, NULL},
		{"2024-01-01Ta", BAD, NULL},
		{"2024-01-01T01:", BAD, NULL},
		{"2024-01-01T01:02:0b", BAD, NULL},
		{"2024-01-01T01::02:03", BAD, NULL},
		{"2024-01-01 01:02:03Z", BAD, NULL},
		{"2024-01-01t01:02:03Z", BAD, NULL},
		{"2024-01-01T01:02:03z", BAD, NULL},
		{"2024-01-01T24:00:00Z", BAD, NULL},
		{"2024-01-01T31:02:03Z", BAD, NULL},
		{"2024-01-01T01:60:03Z", BAD, NULL},
		{"2024-01-01T1:02:03Z", BAD, NULL},
		{"2024-01-01T00:00:00T", BAD, NULL},
		{"2024-01-01T00:00:00.Z", BAD, NULL},
		{"2024-01-01T00:00:00.1Z", BAD, NULL},            /* exactly three digits */
		{"2024-01-01T00:00:00.12Z", BAD, NULL},
		{"2024-01-01T00:00:00.1234Z", BAD, NULL},
		{"2024-01-01T00:00:00.000", BAD, NULL},
		{"2024-01-01T00:00:00+01", BAD, NULL},
		{"2024-01-01T00:00:00+01:00", BAD, NULL},
		{"2024-01-01T00:00:00+010", BAD, NULL},
		{"2024-01-01T00:00:00+01000", BAD, NULL},
		{"2024-01-01T00:00:00+2400", BAD, NULL},
		{"2024-01-01T00:00:00-2400", BAD, NULL},
		{"2024-01-01T00:00:00+0060", BAD, NULL},
		{"2024-01-01T00:00:00+0a00", BAD, NULL},
		{"2024-01-01T00:00:00Z+0100", BAD, NULL},
		{"2024-01-01T00:00:00+0100Z", BAD, NULL},
		{"2024-01-01T00:00:00.000+0100 ", BAD, NULL},
		{NULL, 0, NULL},
	};

	check_values(cases, ghp_datetime_parse, ghp_datetime_format);
}

static void test_policy_ext_datetime__formats_far_values_in_expanded_form(void)
{
	char buf[GHP_EXT_TEXT_MAX];
	int64_t v;

	ghp_datetime_format(buf, sizeof(buf), INT64_MAX);
	CHECK_STR(buf, "+292278994-08-17T07:12:55.807Z");
	ghp_datetime_format(buf, sizeof(buf), INT64_MIN);
	CHECK_STR(buf, "-292275055-05-16T16:47:04.192Z");
	CHECK_INT(ghp_datetime_parse(&v, buf, strlen(buf)), -1);
	ghp_datetime_format(buf, sizeof(buf), -1);
	CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
}

typedef struct op_case {
	int64_t a, b;
	int rc;
	int64_t want;
} op_case;

static void test_policy_ext_datetime__offset_and_since(void)
{
	static const op_case offsets[] = {
		{1728950400000LL, 3600000, 0, 1728954000000LL},   /* 2024-10-15 + 1h */
		{1728951480000LL, 42 * 60000, 0, 1728954000000LL},
		{1729040400000LL, -DAY, 0, 1728954000000LL},
		{INT64_MAX, 0, 0, INT64_MAX},
		{INT64_MAX, 1, -1, 0},
		{INT64_MIN, -1, -1, 0},
		{INT64_MIN, INT64_MAX, 0, -1},
		{0, INT64_MIN, 0, INT64_MIN},
		{-1, INT64_MIN, -1, 0},
	};
	static const op_case since[] = {
		{1728954000000LL, 1728950400000LL, 0, 3600000},
		{1728947880000LL, 1728950400000LL, 0, -42 * 60000},
		{1729054800000LL, 1728950400000LL, 0, DAY + 5 * 3600000},   /* docs: 1d5h */
		{INT64_MAX, -1, -1, 0},
		{INT64_MIN, 1, -1, 0},
		{0, INT64_MIN, -1, 0},
		{-1, INT64_MIN, 0, INT64_MAX},
		{INT64_MIN, INT64_MIN, 0, 0},
	};

	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		int64_t out = 0;
		int rc = ghp_datetime_offset(&out, offsets[i].a, offsets[i].b);

		if (!CHECK_INT(rc, offsets[i].rc) || (rc == 0 && !CHECK_INT(out, offsets[i].want)))
			fprintf(stderr, "      offset case %zu\n", i);
	}
	for (size_t i = 0; i < sizeof(since) / sizeof(since[0]); i++) {
		int64_t out = 0;
		int rc = ghp_datetime_since(&out, since[i].a, since[i].b);

		if (!CHECK_INT(rc, since[i].rc) || (rc == 0 && !CHECK_INT(out, since[i].want)))
			fprintf(stderr, "      since case %zu\n", i);
	}
}

static int64_t dt(const char *s)
{
	int64_t v = 0;

	if (ghp_datetime_parse(&v, s, strlen(s)) != 0) {
		fprintf(stderr, "      test setup: \"%s\" does not parse\n", s);
		gh_test_failures++;
	}
	return v;
}

static void test_policy_ext_datetime__to_date_and_to_time(void)
{
	int64_t out;

	/* Docs examples. */
	CHECK_INT(ghp_datetime_to_date(&out, dt("2025-02-20T10:35:00Z")), 0);
	CHECK_INT(out, dt("2025-02-20"));
	CHECK_INT(ghp_datetime_to_date(&out, dt("2025-02-20T22:00:00-0500")), 0);
	CHECK_INT(out, dt("2025-02-21"));
	CHECK_INT(ghp_datetime_to_time(dt("2025-02-20T10:35:00Z")), 10 * 3600000 + 35 * 60000);
	CHECK_INT(ghp_datetime_to_time(dt("2025-02-20T10:35:00-0500")), 15 * 3600000 + 35 * 60000);
	CHECK_INT(ghp_datetime_to_time(dt("2025-02-20T22:00:00-0500")), 3 * 3600000);
	/* Before the epoch the day is taken toward negative infinity. */
	CHECK_INT(ghp_datetime_to_date(&out, -1), 0);
	CHECK_INT(out, -DAY);
	CHECK_INT(ghp_datetime_to_time(-1), DAY - 1);
	CHECK_INT(ghp_datetime_to_date(&out, -DAY), 0);
	CHECK_INT(out, -DAY);
	CHECK_INT(ghp_datetime_to_time(-DAY), 0);
	CHECK_INT(ghp_datetime_to_date(&out, -DAY - 1), 0);
	CHECK_INT(out, -2 * DAY);
	CHECK_INT(ghp_datetime_to_date(&out, dt("1969-12-31T12:00:00Z")), 0);
	CHECK_INT(out, dt("1969-12-31"));
	CHECK_INT(ghp_datetime_to_time(dt("1969-12-31T12:00:00Z")), DAY / 2);
	CHECK_INT(ghp_datetime_to_date(&out, 0), 0);
	CHECK_INT(out, 0);
	CHECK_INT(ghp_datetime_to_time(0), 0);
	/* The limits: the day of INT64_MIN starts before INT64_MIN. */
	CHECK_INT(ghp_datetime_to_date(&out, INT64_MIN), -1);
	CHECK_INT(ghp_datetime_to_time(INT64_MIN), INT64_MIN % DAY + DAY);
	CHECK_INT(ghp_datetime_to_date(&out, INT64_MAX), 0);
	CHECK_INT(out, INT64_MAX / DAY * DAY);
	CHECK_INT(ghp_datetime_to_time(INT64_MAX), INT64_MAX % DAY);
	CHECK_INT(ghp_datetime_to_date(&out, INT64_MIN / DAY * DAY), 0);
	CHECK_INT(out, INT64_MIN / DAY * DAY);
}

/* ---- duration ---- */

static void test_policy_ext_duration__parses_per_the_docs(void)
{
	static const value_case cases[] = {
		{"2h30m", 9000000, "2h30m"},
		{"-1d12h", -(DAY + 12 * 3600000), "-1d12h"},
		{"1h30m45s", 5445000, "1h30m45s"},
		{"12s340ms", 12340, "12s340ms"},
		{"1d2h3m4s5ms", DAY + 2 * 3600000 + 3 * 60000 + 4005, "1d2h3m4s5ms"},
		{"0ms", 0, "0ms"},
		{"0d", 0, "0ms"},
		{"-0s", 0, "0ms"},
		{"1m", 60000, "1m"},
		{"1ms", 1, "1ms"},
		{"1m1ms", 60001, "1m1ms"},
		{"90m", 5400000, "1h30m"},
		{"4m70s", 310000, "5m10s"},
		{"1000ms", 1000, "1s"},
		{"007h", 7 * 3600000, "7h"},
		{"00000000000000000000000001ms", 1, "1ms"},
		{"9223372036854775807ms", INT64_MAX, "106751991167d7h12m55s807ms"},
		{"-9223372036854775808ms", INT64_MIN, "-106751991167d7h12m55s808ms"},
		{"-9223372036854775s808ms", INT64_MIN, NULL},
		{"106751991167d7h12m55s807ms", INT64_MAX, NULL},
		{"1d9223372036854775807ms", BAD, NULL},  /* overflow */
		{"9223372036854775808ms", BAD, NULL},
		{"-9223372036854775809ms", BAD, NULL},
		{"106751991168d", BAD, NULL},
		{"18446744073709551616ms", BAD, NULL},   /* past u64 */
		{"99999999999999999999999d", BAD, NULL},
		{"9223372036854775807s", BAD, NULL},
		{"1d2h3m4s5ms ", BAD, NULL},             /* trailing space */
		{" 1h", BAD, NULL},
		{"1d2h3m4s5ms6", BAD, NULL},             /* trailing amount */
		{"1d-1s", BAD, NULL},                    /* minus sign on unit */
		{"d", BAD, NULL},
		{"ms", BAD, NULL},
		{"1s1d", BAD, NULL},                     /* order */
		{"1ms1s", BAD, NULL},
		{"1m1h", BAD, NULL},
		{"1s1s", BAD, NULL},                     /* repeats */
		{"1ms1ms", BAD, NULL},
		{"1m1m", BAD, NULL},
		{"", BAD, NULL},
		{"-", BAD, NULL},
		{"--1h", BAD, NULL},
		{"+1h", BAD, NULL},
		{"1", BAD, NULL},
		{"1H", BAD, NULL},
		{"1w", BAD, NULL},
		{"1y", BAD, NULL},
		{"1 h", BAD, NULL},
		{"1.5h", BAD, NULL},
		{"1hh", BAD, NULL},
		{"1mss", BAD, NULL},
		{"1sm", BAD, NULL},
		{"h1", BAD, NULL},
		{"1h-", BAD, NULL},
		{NULL, 0, NULL},
	};

	check_values(cases, ghp_duration_parse, ghp_duration_format);
}

static void test_policy_ext_duration__to_units_truncate_toward_zero(void)
{
	static const struct {
		const char *text;
		int64_t ms, s, m, h, d;
	} cases[] = {
		{"1d", 86400000, 86400, 1440, 24, 1},
		{"4s100ms", 4100, 4, 0, 0, 0},
		{"100ms", 100, 0, 0, 0, 0},
		{"4m30s", 270000, 270, 4, 0, 0},
		{"4m70s", 310000, 310, 5, 0, 0},
		{"4h30m", 16200000, 16200, 270, 4, 0},
		{"4h70m", 18600000, 18600, 310, 5, 0},
		{"-1d23h", -169200000, -169200, -2820, -47, -1},
		{"-1ms", -1, 0, 0, 0, 0},
		{"-1s999ms", -1999, -1, 0, 0, 0},
		{NULL, 0, 0, 0, 0, 0},
	};

	for (int i = 0; cases[i].text; i++) {
		int64_t v = 0;

		if (!CHECK_INT(ghp_duration_parse(&v, cases[i].text, strlen(cases[i].text)), 0))
			continue;
		if (!CHECK_INT(ghp_duration_to(v, 1), cases[i].ms) ||
		    !CHECK_INT(ghp_duration_to(v, 1000), cases[i].s) ||
		    !CHECK_INT(ghp_duration_to(v, 60000), cases[i].m) ||
		    !CHECK_INT(ghp_duration_to(v, 3600000), cases[i].h) ||
		    !CHECK_INT(ghp_duration_to(v, DAY), cases[i].d))
			fprintf(stderr, "      for %s\n", cases[i].text);
	}
	CHECK_INT(ghp_duration_to(INT64_MIN, 1), INT64_MIN);
	CHECK_INT(ghp_duration_to(INT64_MIN, DAY), -106751991167LL);
	CHECK_INT(ghp_duration_to(INT64_MAX, DAY), 106751991167LL);
	CHECK_INT(ghp_duration_to(5, 0), 0);
	CHECK_INT(ghp_duration_to(5, -1), 0);
}

/* Format then parse gives the value back, over a spread of values. */
static void test_policy_ext_all__round_trip_over_a_spread(void)
{
	static const int64_t edges[] = {0, 1, -1, 999, -999, 1000, 9999, 10000, -10000, DAY, -DAY,
					DAY - 1, 1728992100123LL, -62167305540000LL,
					253402387139000LL, INT64_MAX, INT64_MIN, INT64_MAX - 1,
					INT64_MIN + 1};
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 20000; i++) {
		char buf[GHP_EXT_TEXT_MAX];
		int64_t v, back;
		size_t n = sizeof(edges) / sizeof(edges[0]);

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = i < (int)n ? edges[i] : (int64_t)(x >> (i % 50));
		if (i % 2)
			v = -v;
		ghp_decimal_format(buf, sizeof(buf), v);
		if (!CHECK_INT(ghp_decimal_parse(&back, buf, strlen(buf)), 0) || !CHECK_INT(back, v))
			fprintf(stderr, "      decimal %s\n", buf);
		ghp_duration_format(buf, sizeof(buf), v);
		if (!CHECK_INT(ghp_duration_parse(&back, buf, strlen(buf)), 0) || !CHECK_INT(back, v))
			fprintf(stderr, "      duration %s\n", buf);
		if (v >= -62167219200000LL && v <= 253402300799999LL) {
			ghp_datetime_format(buf, sizeof(buf), v);
			if (!CHECK_INT(ghp_datetime_parse(&back, buf, strlen(buf)), 0) ||
			    !CHECK_INT(back, v))
				fprintf(stderr, "      datetime %s\n", buf);
		}
	}
}

static void test_policy_ext_ip__round_trip_over_a_spread(void)
{
	uint64_t x = 0x2545f4914f6cdd1dULL;

	for (int i = 0; i < 20000; i++) {
		ghp_ipaddr a, b;
		char buf[GHP_EXT_TEXT_MAX];

		memset(&a, 0, sizeof(a));
		a.v6 = i % 2;
		for (int k = 0; k < 16; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Mostly zero bytes so that "::" runs of every length occur. */
			a.addr[k] = (x % 3 == 0) ? (unsigned char)(x >> 8) : 0;
		}
		if (!a.v6)
			memset(a.addr + 4, 0, 12);
		a.prefix = (int)((x >> 20) % (a.v6 ? 129u : 33u));
		ghp_ip_format(buf, sizeof(buf), &a);
		if (!CHECK_INT(ghp_ip_parse(&b, buf, strlen(buf)), 0) || !CHECK(ghp_ip_equal(&a, &b)))
			fprintf(stderr, "      ip %s\n", buf);
	}
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"test_policy_ext_decimal__parses_per_the_docs",
		 test_policy_ext_decimal__parses_per_the_docs},
		{"test_policy_ext_decimal__refuses_embedded_nul_and_honours_len",
		 test_policy_ext_decimal__refuses_embedded_nul_and_honours_len},
		{"test_policy_ext_decimal__formats_and_truncates_safely",
		 test_policy_ext_decimal__formats_and_truncates_safely},
		{"test_policy_ext_ip__parses_per_the_docs_and_the_spec",
		 test_policy_ext_ip__parses_per_the_docs_and_the_spec},
		{"test_policy_ext_ip__equality_keeps_host_bits_and_prefix",
		 test_policy_ext_ip__equality_keeps_host_bits_and_prefix},
		{"test_policy_ext_ip__in_range", test_policy_ext_ip__in_range},
		{"test_policy_ext_ip__loopback_and_multicast", test_policy_ext_ip__loopback_and_multicast},
		{"test_policy_ext_ip__family_and_prefix_fields",
		 test_policy_ext_ip__family_and_prefix_fields},
		{"test_policy_ext_datetime__parses_per_the_docs",
		 test_policy_ext_datetime__parses_per_the_docs},
		{"test_policy_ext_datetime__formats_far_values_in_expanded_form",
		 test_policy_ext_datetime__formats_far_values_in_expanded_form},
		{"test_policy_ext_datetime__offset_and_since", test_policy_ext_datetime__offset_and_since},
		{"test_policy_ext_datetime__to_date_and_to_time",
		 test_policy_ext_datetime__to_date_and_to_time},
		{"test_policy_ext_duration__parses_per_the_docs",
		 test_policy_ext_duration__parses_per_the_docs},
		{"test_policy_ext_duration__to_units_truncate_toward_zero",
		 test_policy_ext_duration__to_units_truncate_toward_zero},
		{"test_policy_ext_all__round_trip_over_a_spread",
		 test_policy_ext_all__round_trip_over_a_spread},
		{"test_policy_ext_ip__round_trip_over_a_spread",
		 test_policy_ext_ip__round_trip_over_a_spread},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
