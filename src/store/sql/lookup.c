/* lookup.c - the SQL of finding objects by id or name, naming them and
 * paging (store/lookup.h). Each table's statements are literals chosen from
 * the lists below by the table's name. */
#include "store/lookup.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTITLEMENT_SHOWN "s.name || '/' || e.name"

static const struct named {
	const char *table;
	const char *by_id;      /* ?1 id -> id */
	const char *by_name;    /* ?1 name -> id */
	const char *name_of;    /* ?1 id -> name as shown */
	const char *near;       /* ?1 lo, ?2 hi, ?3 limit -> compared, shown */
	const char *near_pg;    /* the same on PostgreSQL */
} named[] = {
	{"identities", "SELECT id FROM identities WHERE id = ?1",
	 "SELECT id FROM identities WHERE name = ?1",
	 "SELECT name FROM identities WHERE id = ?1",
	 /* dialect: a byte-wise range; PostgreSQL needs COLLATE "C" to scan it
	  * the same way (near_pg), and bounds that are valid UTF-8 */
	 "SELECT name, name FROM identities WHERE name >= ?1 AND name < ?2"
	 " ORDER BY name LIMIT ?3",
	 "SELECT name, name FROM identities WHERE name COLLATE \"C\" >= ?1"
	 " AND name COLLATE \"C\" < ?2 ORDER BY name COLLATE \"C\" LIMIT ?3"},
	{"groups", "SELECT id FROM groups WHERE id = ?1",
	 "SELECT id FROM groups WHERE name = ?1",
	 "SELECT name FROM groups WHERE id = ?1",
	 "SELECT name, name FROM groups WHERE name >= ?1 AND name < ?2"
	 " ORDER BY name LIMIT ?3",
	 "SELECT name, name FROM groups WHERE name COLLATE \"C\" >= ?1"
	 " AND name COLLATE \"C\" < ?2 ORDER BY name COLLATE \"C\" LIMIT ?3"},
	{"systems", "SELECT id FROM systems WHERE id = ?1",
	 "SELECT id FROM systems WHERE name = ?1",
	 "SELECT name FROM systems WHERE id = ?1",
	 "SELECT name, name FROM systems WHERE name >= ?1 AND name < ?2"
	 " ORDER BY name LIMIT ?3",
	 "SELECT name, name FROM systems WHERE name COLLATE \"C\" >= ?1"
	 " AND name COLLATE \"C\" < ?2 ORDER BY name COLLATE \"C\" LIMIT ?3"},
	/* a bare name; "system/name" is entitlement_qualified below */
	{"entitlements", "SELECT id FROM entitlements WHERE id = ?1",
	 "SELECT id FROM entitlements WHERE name = ?1 LIMIT 2",
	 "SELECT " ENTITLEMENT_SHOWN " FROM entitlements e JOIN systems s"
	 " ON s.id = e.system_id WHERE e.id = ?1",
	 "SELECT e.name, " ENTITLEMENT_SHOWN " FROM entitlements e"
	 " JOIN systems s ON s.id = e.system_id WHERE e.name >= ?1 AND e.name < ?2"
	 " ORDER BY e.name LIMIT ?3",
	 "SELECT e.name, " ENTITLEMENT_SHOWN " FROM entitlements e"
	 " JOIN systems s ON s.id = e.system_id WHERE e.name COLLATE \"C\" >= ?1"
	 " AND e.name COLLATE \"C\" < ?2 ORDER BY e.name COLLATE \"C\" LIMIT ?3"},
};

#define NAMED_ENTITLEMENTS 3

/* ?1 system name, ?2 entitlement name -> id */
static const char entitlement_qualified[] =
	"SELECT e.id FROM systems s JOIN entitlements e ON e.system_id = s.id"
	" WHERE s.name = ?1 AND e.name = ?2 LIMIT 2";

/* "system/name" near a reference of that form: either part may hold the
 * typo. ?1 lo, ?2 hi of the system's name, ?3 lo, ?4 hi of the
 * entitlement's, ?5 limit. dialect: byte-wise ranges, as above. */
static const char entitlement_qualified_near[] =
	"SELECT " ENTITLEMENT_SHOWN ", " ENTITLEMENT_SHOWN " FROM entitlements e"
	" JOIN systems s ON s.id = e.system_id WHERE s.name >= ?1 AND s.name < ?2"
	" UNION SELECT " ENTITLEMENT_SHOWN ", " ENTITLEMENT_SHOWN " FROM entitlements e"
	" JOIN systems s ON s.id = e.system_id WHERE e.name >= ?3 AND e.name < ?4"
	" LIMIT ?5";
static const char entitlement_qualified_near_pg[] =
	"SELECT " ENTITLEMENT_SHOWN ", " ENTITLEMENT_SHOWN " FROM entitlements e"
	" JOIN systems s ON s.id = e.system_id WHERE s.name COLLATE \"C\" >= ?1"
	" AND s.name COLLATE \"C\" < ?2"
	" UNION SELECT " ENTITLEMENT_SHOWN ", " ENTITLEMENT_SHOWN " FROM entitlements e"
	" JOIN systems s ON s.id = e.system_id WHERE e.name COLLATE \"C\" >= ?3"
	" AND e.name COLLATE \"C\" < ?4 LIMIT ?5";

static const struct named *named_table(const char *table)
{
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strcmp(named[i].table, table) == 0)
			return &named[i];
	gh_error_set(GH_ERROR, "unknown table %s", table);
	return NULL;
}

int gh_store_resolve(char *out, size_t outlen, gh_store *s, const char *table, int by,
		     const char *ref)
{
	const struct named *t = named_table(table);
	const char *slash = NULL;
	char *system = NULL;
	gh_sql *q;
	int rc, step, found = 0;

	if (!t)
		return GH_ERROR;
	if (by == GH_STORE_BY_NAME && t == &named[NAMED_ENTITLEMENTS])
		slash = strchr(ref, '/');
	if (slash) {
		/* "system/name": the first '/' splits (entitlement names hold none) */
		if (!(system = malloc((size_t)(slash - ref) + 1)))
			return gh_error_set(GH_ERROR, "out of memory");
		memcpy(system, ref, (size_t)(slash - ref));
		system[slash - ref] = '\0';
		rc = gh_sql_prepare(&q, s, entitlement_qualified);
	} else {
		rc = gh_sql_prepare(&q, s, by == GH_STORE_BY_ID ? t->by_id : t->by_name);
	}
	if (rc)
		goto cleanup;
	if (slash) {
		gh_sql_bind_text(q, 1, system);
		gh_sql_bind_text(q, 2, slash + 1);
	} else {
		gh_sql_bind_text(q, 1, ref);
	}
	while ((step = gh_sql_step(q)) == GH_SQL_ROW) {
		if (++found > 1)
			break;
		snprintf(out, outlen, "%s", gh_sql_column_text(q, 0));
	}
	rc = step == GH_SQL_FAIL ? gh_sql_fail(q, "resolving a reference")
	     : found > 1 ? GH_ECONFLICT : found ? 0 : GH_ENOTFOUND;
	gh_sql_reset(q);
cleanup:
	free(system);
	return rc;
}

int gh_store_name_of(char *out, size_t outlen, gh_store *s, const char *table, const char *id)
{
	const struct named *t = named_table(table);
	gh_sql *q;
	int rc;

	if (!t)
		return GH_ERROR;
	if ((rc = gh_sql_prepare(&q, s, t->name_of)))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW && gh_sql_column_text(q, 0))
		snprintf(out, outlen, "%s", gh_sql_column_text(q, 0));
	rc = rc == GH_SQL_ROW ? 0 : rc == GH_SQL_DONE ? GH_ENOTFOUND
	     : gh_sql_fail(q, "naming an object");
	gh_sql_reset(q);
	return rc;
}

static json_t *pair_json(gh_sql *q)
{
	return json_pack("[o, o]", gh_sql_text_column(q, 0), gh_sql_text_column(q, 1));
}

int gh_store_names_near(json_t **out, gh_store *s, const char *table, const char *ref, int limit)
{
	const struct named *t = named_table(table);
	const char *slash;
	char lo[2] = {0}, hi[2] = {0}, lo2[2] = {0}, hi2[2] = {0};
	gh_sql *q;
	int rc, pg;

	*out = NULL;
	if (!t)
		return GH_ERROR;
	slash = t == &named[NAMED_ENTITLEMENTS] ? strchr(ref, '/') : NULL;
	/* [first byte, the byte after it): no such bound past 0xFF, nor on
	 * PostgreSQL past ASCII (one byte of a longer character is no text) */
	pg = gh_sql_dialect(s) == GH_SQL_POSTGRESQL;
	if (!ref[0] || (unsigned char)ref[0] >= (pg ? 0x7F : 0xFF) ||
	    (slash && (!slash[1] || (unsigned char)slash[1] >= (pg ? 0x7F : 0xFF)))) {
		*out = json_array();
		return *out ? 0 : gh_error_set(GH_ERROR, "out of memory");
	}
	lo[0] = ref[0];
	hi[0] = (char)((unsigned char)ref[0] + 1);
	if ((rc = slash ? gh_sql_prepare_dialect(&q, s, entitlement_qualified_near,
						 entitlement_qualified_near_pg)
		   : gh_sql_prepare_dialect(&q, s, t->near, t->near_pg)))
		return rc;
	gh_sql_bind_text(q, 1, lo);
	gh_sql_bind_text(q, 2, hi);
	if (slash) {
		lo2[0] = slash[1];
		hi2[0] = (char)((unsigned char)slash[1] + 1);
		gh_sql_bind_text(q, 3, lo2);
		gh_sql_bind_text(q, 4, hi2);
		gh_sql_bind_int(q, 5, limit);
	} else {
		gh_sql_bind_int(q, 3, limit);
	}
	return gh_sql_rows(out, q, pair_json, "names near a reference");
}

int gh_store_page_after(int64_t *out, gh_store *s, const char *table, const char *id)
{
	static const struct {
		const char *table, *sql;
	} paged[] = {
		{"identities", "SELECT pk FROM identities WHERE id = ?1"},
		{"groups", "SELECT pk FROM groups WHERE id = ?1"},
		{"systems", "SELECT pk FROM systems WHERE id = ?1"},
		{"entitlements", "SELECT pk FROM entitlements WHERE id = ?1"},
		{"requests", "SELECT pk FROM requests WHERE id = ?1"},
		{"grants", "SELECT pk FROM grants WHERE id = ?1"},
		{"tokens", "SELECT pk FROM tokens WHERE id = ?1"},
		{"policy_versions", "SELECT pk FROM policy_versions WHERE id = ?1"},
		{"delegations", "SELECT pk FROM delegations WHERE id = ?1"},
		{"outbox", "SELECT pk FROM outbox WHERE id = ?1"},
		{"findings", "SELECT pk FROM findings WHERE id = ?1"},
		{"credentials", "SELECT pk FROM credentials WHERE id = ?1"},
		{"changes", "SELECT pk FROM changes WHERE id = ?1"},
	};
	gh_sql *q;
	size_t i;
	int rc;

	*out = 0;
	for (i = 0; i < sizeof(paged) / sizeof(paged[0]); i++)
		if (strcmp(paged[i].table, table) == 0)
			break;
	if (i == sizeof(paged) / sizeof(paged[0]))
		return gh_error_set(GH_ERROR, "unknown table %s", table);
	if ((rc = gh_sql_prepare(&q, s, paged[i].sql)))
		return rc;
	gh_sql_bind_text(q, 1, id);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		*out = gh_sql_column_int64(q, 0);
	rc = rc == GH_SQL_ROW ? 0 : rc == GH_SQL_DONE ? GH_ENOTFOUND : gh_sql_fail(q, "paging");
	gh_sql_reset(q);
	return rc;
}
