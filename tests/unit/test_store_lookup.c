/* test_store_lookup.c - finding objects by id or name, naming them, near
 * names and page bounds (store/lookup.h), on a real SQLite store. */
#include "common/error.h"
#include "harness.h"
#include "store_fixture.h"
#include "store/lookup.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

/* Two systems that both offer "read", one identity, one group. */
static const char fixture[] =
	"INSERT INTO identities(id, kind, name, created_at, updated_at)"
	" VALUES ('idn_1', 'human', 'alice', 1, 1);"
	"INSERT INTO groups(id, name, created_at, updated_at) VALUES ('grp_1', 'owners', 1, 1);"
	"INSERT INTO systems(id, name, owner_id, created_at, updated_at)"
	" VALUES ('sys_1', 'github', 'idn_1', 1, 1), ('sys_2', 'gitlab', 'idn_1', 1, 1);"
	"INSERT INTO entitlements(id, system_id, name, risk_tier, data_sensitivity, environment,"
	" control_owner_group_id, max_duration, created_at, updated_at) VALUES"
	" ('ent_1', 'sys_1', 'read', 'low', 'internal', 'prod', 'grp_1', 3600, 1, 1),"
	" ('ent_2', 'sys_2', 'read', 'low', 'internal', 'prod', 'grp_1', 3600, 1, 1),"
	" ('ent_3', 'sys_1', 'write', 'low', 'internal', 'prod', 'grp_1', 3600, 1, 1);";

static gh_store *open_fixture(const char *name)
{
	char path[512];
	gh_store *s = NULL;

	sf_targetf(path, sizeof(path), 1, "%s", name);
	CHECK_INT(gh_store_open(&s, path, 1), 0);
	CHECK_INT(sf_exec(s, fixture), 0);
	return s;
}

static void test_store_resolve__by_id_by_name_and_ambiguous_names(void)
{
	gh_store *s = open_fixture("resolve.db");
	char id[64];

	gh_store_read_begin(s);
	CHECK_INT(gh_store_resolve(id, sizeof(id), s, "identities", GH_STORE_BY_NAME, "alice"), 0);
	CHECK_STR(id, "idn_1");
	CHECK_INT(gh_store_resolve(id, sizeof(id), s, "groups", GH_STORE_BY_ID, "grp_1"), 0);
	CHECK_STR(id, "grp_1");
	CHECK_INT(gh_store_resolve(id, sizeof(id), s, "groups", GH_STORE_BY_ID, "owners"),
		  GH_ENOTFOUND);
	CHECK_INT(gh_store_resolve(id, sizeof(id), s, "entitlements", GH_STORE_BY_NAME,
				   "gitlab/read"), 0);
	CHECK_STR(id, "ent_2");
	CHECK_INT(gh_store_resolve(id, sizeof(id), s, "entitlements", GH_STORE_BY_NAME, "write"), 0);
	CHECK_STR(id, "ent_3");
	/* two systems offer "read": a bare name cannot say which */
	CHECK_INT(gh_store_resolve(id, sizeof(id), s, "entitlements", GH_STORE_BY_NAME, "read"),
		  GH_ECONFLICT);
	CHECK_INT(gh_store_resolve(id, sizeof(id), s, "entitlements", GH_STORE_BY_NAME,
				   "github/read/x"), GH_ENOTFOUND);
	/* a table outside the list is refused, never made into SQL */
	CHECK_INT(gh_store_resolve(id, sizeof(id), s, "identities; DROP TABLE x", GH_STORE_BY_ID,
				   "idn_1"), GH_ERROR);
	gh_store_read_end(s);
	gh_store_free(s);
}

static void test_store_name_of__names_and_qualified_entitlements(void)
{
	gh_store *s = open_fixture("name_of.db");
	char name[64] = "unchanged";

	gh_store_read_begin(s);
	CHECK_INT(gh_store_name_of(name, sizeof(name), s, "entitlements", "ent_2"), 0);
	CHECK_STR(name, "gitlab/read");
	CHECK_INT(gh_store_name_of(name, sizeof(name), s, "identities", "idn_1"), 0);
	CHECK_STR(name, "alice");
	CHECK_INT(gh_store_name_of(name, sizeof(name), s, "systems", "sys_9"), GH_ENOTFOUND);
	CHECK_STR(name, "alice");
	CHECK_INT(gh_store_name_of(name, sizeof(name), s, "tokens", "tok_1"), GH_ERROR);
	gh_store_read_end(s);
	gh_store_free(s);
}

static void test_store_names_near__same_first_byte_within_the_limit(void)
{
	gh_store *s = open_fixture("near.db");
	json_t *near = NULL;

	gh_store_read_begin(s);
	CHECK_INT(gh_store_names_near(&near, s, "systems", "gthub", 10), 0);
	CHECK_INT(json_array_size(near), 2);
	CHECK_STR(json_string_value(json_array_get(json_array_get(near, 0), 0)), "github");
	json_decref(near);
	CHECK_INT(gh_store_names_near(&near, s, "systems", "gthub", 1), 0);
	CHECK_INT(json_array_size(near), 1);
	json_decref(near);
	/* an entitlement is compared by its name, suggested as system/name */
	CHECK_INT(gh_store_names_near(&near, s, "entitlements", "wrte", 10), 0);
	CHECK_INT(json_array_size(near), 1);
	CHECK_STR(json_string_value(json_array_get(json_array_get(near, 0), 0)), "write");
	CHECK_STR(json_string_value(json_array_get(json_array_get(near, 0), 1)), "github/write");
	json_decref(near);
	/* "system/name": either part's first byte finds it */
	CHECK_INT(gh_store_names_near(&near, s, "entitlements", "xithub/wrte", 10), 0);
	CHECK_INT(json_array_size(near), 1);
	CHECK_STR(json_string_value(json_array_get(json_array_get(near, 0), 1)), "github/write");
	json_decref(near);
	CHECK_INT(gh_store_names_near(&near, s, "entitlements", "github/", 10), 0);
	CHECK_INT(json_array_size(near), 0);
	json_decref(near);
	CHECK_INT(gh_store_names_near(&near, s, "identities", "zed", 10), 0);
	CHECK_INT(json_array_size(near), 0);
	json_decref(near);
	gh_store_read_end(s);
	gh_store_free(s);
}

static void test_store_page_after__known_ids_and_listed_tables_only(void)
{
	gh_store *s = open_fixture("page.db");
	int64_t pk = -1;

	gh_store_read_begin(s);
	CHECK_INT(gh_store_page_after(&pk, s, "entitlements", "ent_2"), 0);
	CHECK_INT(pk, 2);
	CHECK_INT(gh_store_page_after(&pk, s, "entitlements", "ent_9"), GH_ENOTFOUND);
	CHECK_INT(gh_store_page_after(&pk, s, "policy_versions", "pol_1"), GH_ENOTFOUND);
	CHECK_INT(gh_store_page_after(&pk, s, "settings", "x"), GH_ERROR);
	gh_store_read_end(s);
	gh_store_free(s);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"store_resolve__by_id_by_name_and_ambiguous_names",
		 test_store_resolve__by_id_by_name_and_ambiguous_names},
		{"store_name_of__names_and_qualified_entitlements",
		 test_store_name_of__names_and_qualified_entitlements},
		{"store_names_near__same_first_byte_within_the_limit",
		 test_store_names_near__same_first_byte_within_the_limit},
		{"store_page_after__known_ids_and_listed_tables_only",
		 test_store_page_after__known_ids_and_listed_tables_only},
		{NULL, NULL},
	};

	return gh_test_run(cases, argc, argv);
}
