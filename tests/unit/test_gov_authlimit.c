/* test_gov_authlimit.c - failed authentications per source: blocks, their
 * growth, the summaries for the audit log and the bounded table, on a clock
 * the test drives. */
#include "common/error.h"
#include "gov/authlimit.h"
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define S 1000   /* ms */

static gov_authlimit *fresh(size_t slots)
{
	gov_authlimit_config cfg = {.threshold = 10, .window_ms = 60 * S, .block_ms = 15 * S,
				    .block_max_ms = 15 * 60 * S, .slots = slots};
	gov_authlimit *l = NULL;

	CHECK_INT(gov_authlimit_new(&l, &cfg), 0);
	return l;
}

static void fail_n(gov_authlimit *l, const char *src, int n, int reason, int64_t at)
{
	for (int i = 0; i < n; i++)
		gov_authlimit_fail(l, src, reason, at);
}

static void test_gov_authlimit__tenth_failure_blocks_the_source_only(void)
{
	gov_authlimit *l = fresh(16);
	int64_t t = 1000000 * (int64_t)S;

	fail_n(l, "10.0.0.1", 9, GOV_AUTH_UNKNOWN, t);
	CHECK_INT(gov_authlimit_check(l, "10.0.0.1", t), 0);
	gov_authlimit_fail(l, "10.0.0.1", GOV_AUTH_UNKNOWN, t + 1);
	CHECK_INT(gov_authlimit_check(l, "10.0.0.1", t + 1), 15 * S);
	CHECK_INT(gov_authlimit_check(l, "10.0.0.1", t + 5 * S + 1), 10 * S);
	/* another address is not touched */
	CHECK_INT(gov_authlimit_check(l, "10.0.0.2", t + 1), 0);
	/* the block ends */
	CHECK_INT(gov_authlimit_check(l, "10.0.0.1", t + 15 * S + 1), 0);
	gov_authlimit_free(l);
}

static void test_gov_authlimit__failures_outside_the_window_do_not_add_up(void)
{
	gov_authlimit *l = fresh(16);
	int64_t t = 1000000 * (int64_t)S;

	fail_n(l, "a", 9, GOV_AUTH_UNKNOWN, t);
	/* a minute later the count starts again */
	fail_n(l, "a", 9, GOV_AUTH_UNKNOWN, t + 60 * S);
	CHECK_INT(gov_authlimit_check(l, "a", t + 60 * S), 0);
	gov_authlimit_fail(l, "a", GOV_AUTH_UNKNOWN, t + 61 * S);
	CHECK(gov_authlimit_check(l, "a", t + 61 * S) > 0);
	gov_authlimit_free(l);
}

static void test_gov_authlimit__blocks_grow_while_failures_go_on(void)
{
	gov_authlimit *l = fresh(16);
	int64_t t = 1000000 * (int64_t)S, expect = 15 * S;

	for (int round = 0; round < 8; round++) {
		fail_n(l, "a", 10, GOV_AUTH_EXPIRED, t);
		CHECK_INT(gov_authlimit_check(l, "a", t), expect);
		t += expect;                  /* just when the block ends: failures go on */
		expect = expect * 2 > 15 * 60 * S ? 15 * 60 * S : expect * 2;
	}
	/* a quiet window forgives: the next block is the first one again */
	t += 60 * S;
	fail_n(l, "a", 10, GOV_AUTH_EXPIRED, t);
	CHECK_INT(gov_authlimit_check(l, "a", t), 15 * S);
	gov_authlimit_free(l);
}

static void test_gov_authlimit__summaries_are_one_a_source_a_window(void)
{
	gov_authlimit *l = fresh(16);
	gov_authlimit_report r[8];
	int64_t t = 1000000 * (int64_t)S;

	fail_n(l, "a", 3, GOV_AUTH_UNKNOWN, t);
	fail_n(l, "a", 7, GOV_AUTH_MALFORMED, t + 2 * S);
	CHECK(gov_authlimit_check(l, "a", t + 3 * S) > 0);  /* refused: counted, not checked */
	CHECK(gov_authlimit_check(l, "a", t + 4 * S) > 0);
	gov_authlimit_fail(l, "b", GOV_AUTH_REVOKED, t + 5 * S);
	/* nothing before the window of the first failure ends */
	CHECK_INT(gov_authlimit_drain(l, r, 8, t + 59 * S, 0), 0);
	CHECK_INT(gov_authlimit_drain(l, r, 8, t + 60 * S, 0), 1);
	CHECK_STR(r[0].source, "a");
	CHECK_INT(r[0].failures, 10);
	CHECK_INT(r[0].refused, 2);
	CHECK_INT(r[0].reasons[GOV_AUTH_UNKNOWN], 3);
	CHECK_INT(r[0].reasons[GOV_AUTH_MALFORMED], 7);
	CHECK_INT(r[0].first_ms, t);
	CHECK_INT(r[0].last_ms, t + 4 * S);
	/* drained once */
	CHECK_INT(gov_authlimit_drain(l, r, 8, t + 61 * S, 0), 0);
	/* all: the rest at once (at shutdown) */
	CHECK_INT(gov_authlimit_drain(l, r, 8, t + 6 * S, 1), 1);
	CHECK_STR(r[0].source, "b");
	CHECK_INT(r[0].reasons[GOV_AUTH_REVOKED], 1);
	CHECK_INT(gov_authlimit_drain(l, r, 8, t + 6 * S, 1), 0);
	gov_authlimit_free(l);
}

static void test_gov_authlimit__a_full_table_forgets_the_oldest_but_not_its_count(void)
{
	gov_authlimit *l = fresh(4);
	gov_authlimit_report r[8];
	int64_t t = 1000000 * (int64_t)S;
	char src[16];
	size_t n;
	uint32_t total = 0, others = 0;

	for (int i = 0; i < 6; i++) {
		snprintf(src, sizeof(src), "10.0.0.%d", i);
		gov_authlimit_fail(l, src, GOV_AUTH_UNKNOWN, t + i);
	}
	/* a blocked source that is still seen stays, the oldest ones went */
	fail_n(l, "10.0.0.5", 9, GOV_AUTH_UNKNOWN, t + 10);
	CHECK(gov_authlimit_check(l, "10.0.0.5", t + 11) > 0);
	n = gov_authlimit_drain(l, r, 8, t + 12, 1);
	CHECK_INT(n, 5);   /* four sources and "*" */
	for (size_t i = 0; i < n; i++) {
		total += r[i].failures;
		if (strcmp(r[i].source, "*") == 0)
			others = r[i].failures;
	}
	CHECK_INT(total, 15);
	CHECK_INT(others, 2);
	gov_authlimit_free(l);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"gov_authlimit__tenth_failure_blocks_the_source_only", test_gov_authlimit__tenth_failure_blocks_the_source_only},
		{"gov_authlimit__failures_outside_the_window_do_not_add_up", test_gov_authlimit__failures_outside_the_window_do_not_add_up},
		{"gov_authlimit__blocks_grow_while_failures_go_on", test_gov_authlimit__blocks_grow_while_failures_go_on},
		{"gov_authlimit__summaries_are_one_a_source_a_window", test_gov_authlimit__summaries_are_one_a_source_a_window},
		{"gov_authlimit__a_full_table_forgets_the_oldest_but_not_its_count", test_gov_authlimit__a_full_table_forgets_the_oldest_but_not_its_count},
		{NULL, NULL}};

	return gh_test_run(cases, argc, argv);
}
