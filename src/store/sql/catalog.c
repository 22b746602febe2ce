/* catalog.c - the SQL of systems, entitlements and their SoD conflicts
 * (store/catalog.h). */
#include "store/catalog.h"
#include "store/sql.h"
#include "common/error.h"
#include "common/jsonv.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int nomem(void)
{
	return gh_error_set(GH_ERROR, "out of memory");
}

/* The LIKE pattern that finds tag in a tags column: the column holds a JSON
 * array of tags, and a tag ([a-z0-9._-]) is written there as itself between
 * double quotes, so "tag" appears in the text exactly when tag is an item.
 * Both databases accept it, where json_each would be SQLite's alone. */
static char *tag_pattern(const char *tag)
{
	size_t n = strlen(tag), j = 0;
	char *p = malloc(2 * n + 5);

	if (!p)
		return NULL;
	p[j++] = '%';
	p[j++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (tag[i] == '_' || tag[i] == '%' || tag[i] == '\\')
			p[j++] = '\\';
		p[j++] = tag[i];
	}
	p[j++] = '"';
	p[j++] = '%';
	p[j] = '\0';
	return p;
}

/* --- systems ----------------------------------------------------------------- */

#define SYSTEM_COLS                                                                          \
	"id, name, description, owner_id, connector, created_at, updated_at, connector_settings"

static json_t *system_json(gh_sql *q)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "id", gh_sql_text_column(q, 0), "name", gh_sql_text_column(q, 1),
			 "description", gh_sql_text_column(q, 2),
			 "owner", gh_sql_text_column(q, 3), "connector", gh_sql_text_column(q, 4),
			 "connector_settings", gh_sql_json_column(q, 7, 0),
			 "created_at", gh_sql_time_column(q, 5),
			 "updated_at", gh_sql_time_column(q, 6));
}

int gh_store_system_get(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " SYSTEM_COLS " FROM systems WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_one(out, q, system_json, "loading a system");
}

int gh_store_system_named(gh_store *s, const char *name)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "SELECT 1 FROM systems WHERE name = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, name);
	return gh_sql_exists(q, "checking a system's name");
}

/* connector_settings as stored: canonical JSON, {} when absent. */
static char *settings_text(const json_t *sys)
{
	const json_t *v = json_object_get(sys, "connector_settings");

	return v ? gh_json_canonical(v) : strdup("{}");
}

int gh_store_system_insert(gh_store *s, const json_t *sys, int64_t now)
{
	char *settings;
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO systems(id, name, description, owner_id, connector,"
				 " created_at, updated_at, connector_settings)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)")))
		return rc;
	if (!(settings = settings_text(sys)))
		return nomem();
	gh_sql_bind_text(q, 1, str_of(sys, "id"));
	gh_sql_bind_text(q, 2, str_of(sys, "name"));
	gh_sql_bind_text(q, 3, str_of(sys, "description"));
	gh_sql_bind_text(q, 4, str_of(sys, "owner"));
	gh_sql_bind_text(q, 5, str_of(sys, "connector"));
	gh_sql_bind_int64(q, 6, now);
	gh_sql_bind_text(q, 7, settings);
	free(settings);
	return gh_sql_step_done(q, "creating a system");
}

int gh_store_system_update(gh_store *s, const json_t *sys, int64_t now)
{
	char *settings;
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE systems SET description = ?2, owner_id = ?3, connector = ?4,"
				 " updated_at = ?5, connector_settings = ?6 WHERE id = ?1")))
		return rc;
	if (!(settings = settings_text(sys)))
		return nomem();
	gh_sql_bind_text(q, 1, str_of(sys, "id"));
	gh_sql_bind_text(q, 2, str_of(sys, "description"));
	gh_sql_bind_text(q, 3, str_of(sys, "owner"));
	gh_sql_bind_text(q, 4, str_of(sys, "connector"));
	gh_sql_bind_int64(q, 5, now);
	gh_sql_bind_text(q, 6, settings);
	free(settings);
	return gh_sql_step_done(q, "updating a system");
}

int gh_store_system_page(json_t **items, gh_store *s, int64_t after, int limit)
{
	gh_sql *q;
	int rc;

	*items = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " SYSTEM_COLS " FROM systems WHERE pk > ?1"
					" ORDER BY pk LIMIT ?2")))
		return rc;
	gh_sql_bind_int64(q, 1, after);
	gh_sql_bind_int(q, 2, limit);
	return gh_sql_rows(items, q, system_json, "listing");
}

static json_t *connector_json(gh_sql *q)
{
	return json_pack("{s:o, s:o}", "name", gh_sql_text_column(q, 0),
			 "connector", gh_sql_text_column(q, 1));
}

int gh_store_system_connectors(json_t **out, gh_store *s)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT name, connector FROM systems ORDER BY pk")))
		return rc;
	return gh_sql_rows(out, q, connector_json, "listing systems");
}

/* --- entitlements ------------------------------------------------------------ */

#define ENT_COLS                                                                             \
	"id, system_id, name, description, risk_tier, data_sensitivity, environment,"         \
	" control_owner_group_id, max_duration, requestable, attributes, created_at,"         \
	" updated_at, tags"

/* An entitlement without its conflicts: incompatible_with is [] in its place
 * until conflicts_fill sets it (replacing a key keeps its position). */
static json_t *ent_json(gh_sql *q)
{
	char dur[32];
	json_t *e, *tail;

	gh_duration_format(dur, sizeof(dur), gh_sql_column_int64(q, 8));
	e = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:I, s:b, s:[]}",
		      "id", gh_sql_text_column(q, 0), "system", gh_sql_text_column(q, 1),
		      "name", gh_sql_text_column(q, 2), "description", gh_sql_text_column(q, 3),
		      "risk_tier", gh_sql_text_column(q, 4),
		      "data_sensitivity", gh_sql_text_column(q, 5),
		      "environment", gh_sql_text_column(q, 6),
		      "control_owner_group", gh_sql_text_column(q, 7), "max_duration", dur,
		      "max_duration_seconds", (json_int_t)gh_sql_column_int64(q, 8),
		      "requestable", gh_sql_column_int(q, 9) != 0, "incompatible_with");
	tail = json_pack("{s:o, s:o, s:o, s:o}", "attributes", gh_sql_json_column(q, 10, 0),
			 "tags", gh_sql_json_column(q, 13, 1),
			 "created_at", gh_sql_time_column(q, 11),
			 "updated_at", gh_sql_time_column(q, 12));
	if (e && tail && json_object_update(e, tail) == 0) {
		json_decref(tail);
		return e;
	}
	json_decref(e);
	json_decref(tail);
	return NULL;
}

static json_t *text_json(gh_sql *q)
{
	return gh_sql_text_column(q, 0);
}

/* ent["incompatible_with"]: the ids ent["id"] conflicts with, sorted. */
static int conflicts_fill(gh_store *s, json_t *ent)
{
	json_t *ids;
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT b FROM entitlement_conflicts WHERE a = ?1 UNION"
				 " SELECT a FROM entitlement_conflicts WHERE b = ?1 ORDER BY 1")))
		return rc;
	gh_sql_bind_text(q, 1, str_of(ent, "id"));
	if ((rc = gh_sql_rows(&ids, q, text_json, "reading entitlement conflicts")))
		return rc;
	return json_object_set_new(ent, "incompatible_with", ids) ? nomem() : 0;
}

int gh_store_entitlement_get_row(json_t **out, gh_store *s, const char *id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT " ENT_COLS " FROM entitlements WHERE id = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	return gh_sql_one(out, q, ent_json, "loading an entitlement");
}

int gh_store_entitlement_get(json_t **out, gh_store *s, const char *id)
{
	int rc;

	if ((rc = gh_store_entitlement_get_row(out, s, id)) || !*out)
		return rc;
	if ((rc = conflicts_fill(s, *out))) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int gh_store_entitlement_named(gh_store *s, const char *system_id, const char *name)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT 1 FROM entitlements WHERE system_id = ?1 AND name = ?2")))
		return rc;
	gh_sql_bind_text(q, 1, system_id);
	gh_sql_bind_text(q, 2, name);
	return gh_sql_exists(q, "checking an entitlement's name");
}

/* attributes and tags as stored: canonical JSON, {} and [] when absent. */
static int ent_texts(const json_t *ent, char **attrs, char **tags)
{
	const json_t *a = json_object_get(ent, "attributes"), *t = json_object_get(ent, "tags");

	*attrs = a ? gh_json_canonical(a) : strdup("{}");
	*tags = t ? gh_json_canonical(t) : strdup("[]");
	if (*attrs && *tags)
		return 0;
	free(*attrs);
	free(*tags);
	return nomem();
}

int gh_store_entitlement_insert(gh_store *s, const json_t *ent, int64_t now)
{
	char *attrs, *tags;
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "INSERT INTO entitlements(id, system_id, name, description, risk_tier,"
				 " data_sensitivity, environment, control_owner_group_id, max_duration,"
				 " requestable, attributes, created_at, updated_at, tags)"
				 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)")))
		return rc;
	if ((rc = ent_texts(ent, &attrs, &tags))) {
		gh_sql_reset(q);
		return rc;
	}
	gh_sql_bind_text(q, 1, str_of(ent, "id"));
	gh_sql_bind_text(q, 2, str_of(ent, "system"));
	gh_sql_bind_text(q, 3, str_of(ent, "name"));
	gh_sql_bind_text(q, 4, str_of(ent, "description"));
	gh_sql_bind_text(q, 5, str_of(ent, "risk_tier"));
	gh_sql_bind_text(q, 6, str_of(ent, "data_sensitivity"));
	gh_sql_bind_text(q, 7, str_of(ent, "environment"));
	gh_sql_bind_text(q, 8, str_of(ent, "control_owner_group"));
	gh_sql_bind_int64(q, 9, (int64_t)json_integer_value(json_object_get(ent,
						"max_duration_seconds")));
	gh_sql_bind_int(q, 10, json_is_true(json_object_get(ent, "requestable")));
	gh_sql_bind_text(q, 11, attrs);
	gh_sql_bind_int64(q, 12, now);
	gh_sql_bind_text(q, 13, tags);
	free(attrs);
	free(tags);
	return gh_sql_step_done(q, "creating an entitlement");
}

int gh_store_entitlement_update(gh_store *s, const json_t *ent, int64_t now)
{
	char *attrs, *tags;
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s,
				 "UPDATE entitlements SET description = ?2, risk_tier = ?3,"
				 " data_sensitivity = ?4, control_owner_group_id = ?5, max_duration = ?6,"
				 " requestable = ?7, attributes = ?8, tags = ?9, updated_at = ?10"
				 " WHERE id = ?1")))
		return rc;
	if ((rc = ent_texts(ent, &attrs, &tags))) {
		gh_sql_reset(q);
		return rc;
	}
	gh_sql_bind_text(q, 1, str_of(ent, "id"));
	gh_sql_bind_text(q, 2, str_of(ent, "description"));
	gh_sql_bind_text(q, 3, str_of(ent, "risk_tier"));
	gh_sql_bind_text(q, 4, str_of(ent, "data_sensitivity"));
	gh_sql_bind_text(q, 5, str_of(ent, "control_owner_group"));
	gh_sql_bind_int64(q, 6, (int64_t)json_integer_value(json_object_get(ent,
						"max_duration_seconds")));
	gh_sql_bind_int(q, 7, json_is_true(json_object_get(ent, "requestable")));
	gh_sql_bind_text(q, 8, attrs);
	gh_sql_bind_text(q, 9, tags);
	gh_sql_bind_int64(q, 10, now);
	free(attrs);
	free(tags);
	return gh_sql_step_done(q, "updating an entitlement");
}

int gh_store_entitlement_touch(gh_store *s, const char *id, int64_t now)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "UPDATE entitlements SET updated_at = ?1 WHERE id = ?2")))
		return rc;
	gh_sql_bind_int64(q, 1, now);
	gh_sql_bind_text(q, 2, id);
	return gh_sql_step_done(q, "updating a conflicting entitlement");
}

int gh_store_entitlement_conflicts_set(gh_store *s, const char *id, const json_t *ids)
{
	json_t *item;
	gh_sql *q;
	size_t i;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "DELETE FROM entitlement_conflicts WHERE a = ?1 OR b = ?1")))
		return rc;
	gh_sql_bind_text(q, 1, id);
	if ((rc = gh_sql_step_done(q, "replacing entitlement conflicts")))
		return rc;
	json_array_foreach(ids, i, item) {
		const char *other = json_string_value(item);
		int lt = strcmp(id, other) < 0;

		/* the table holds each pair once, a < b */
		if ((rc = gh_sql_prepare(&q, s,
					 "INSERT INTO entitlement_conflicts(a, b) VALUES (?1, ?2)")))
			return rc;
		gh_sql_bind_text(q, 1, lt ? id : other);
		gh_sql_bind_text(q, 2, lt ? other : id);
		if ((rc = gh_sql_step_done(q, "storing an entitlement conflict")))
			return rc;
	}
	return 0;
}

int gh_store_entitlement_conflict(gh_store *s, const char *a, const char *b)
{
	gh_sql *q;
	int rc;

	if ((rc = gh_sql_prepare(&q, s, "SELECT 1 FROM entitlement_conflicts"
					" WHERE (a = ?1 AND b = ?2) OR (a = ?2 AND b = ?1)")))
		return rc;
	gh_sql_bind_text(q, 1, a);
	gh_sql_bind_text(q, 2, b);
	return gh_sql_exists(q, "checking segregation of duties");
}

int gh_store_entitlement_page(json_t **items, gh_store *s, const gh_store_entitlement_filter *f,
			      int64_t after, int limit)
{
	char *pattern = NULL;
	json_t *item;
	gh_sql *q;
	size_t i;
	int rc;

	*items = NULL;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT " ENT_COLS " FROM entitlements WHERE pk > ?1"
				 " AND (CAST(?2 AS TEXT) IS NULL OR system_id = ?2)"
				 " AND (CAST(?3 AS TEXT) IS NULL OR risk_tier = ?3)"
				 " AND (CAST(?4 AS TEXT) IS NULL OR environment = ?4)"
				 " AND (CAST(?5 AS INTEGER) IS NULL OR requestable = ?5)"
				 " AND (CAST(?7 AS TEXT) IS NULL OR tags LIKE ?7 ESCAPE '\\')"
				 " ORDER BY pk LIMIT ?6")))
		return rc;
	if (f->tag && !(pattern = tag_pattern(f->tag))) {
		gh_sql_reset(q);
		return nomem();
	}
	gh_sql_bind_int64(q, 1, after);
	gh_sql_bind_text(q, 2, f->system_id);
	gh_sql_bind_text(q, 3, f->risk_tier);
	gh_sql_bind_text(q, 4, f->environment);
	if (f->requestable >= 0)
		gh_sql_bind_int(q, 5, f->requestable);
	else
		gh_sql_bind_null(q, 5);
	gh_sql_bind_int(q, 6, limit);
	gh_sql_bind_text(q, 7, pattern);
	free(pattern);
	if ((rc = gh_sql_rows(items, q, ent_json, "listing")))
		return rc;
	json_array_foreach(*items, i, item)
		if ((rc = conflicts_fill(s, item))) {
			json_decref(*items);
			*items = NULL;
			return rc;
		}
	return 0;
}

static json_t *attributes_json(gh_sql *q)
{
	return json_pack("{s:o, s:o}", "name", gh_sql_text_column(q, 0),
			 "attributes", gh_sql_json_column(q, 1, 0));
}

int gh_store_entitlement_attributes(json_t **out, gh_store *s, const char *system_id)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	if ((rc = gh_sql_prepare(&q, s, "SELECT name, attributes FROM entitlements"
					" WHERE system_id = ?1 ORDER BY pk")))
		return rc;
	gh_sql_bind_text(q, 1, system_id);
	return gh_sql_rows(out, q, attributes_json, "checking entitlement targets");
}

int gh_store_entitlement_count_controlled(int *count, gh_store *s, const char *group_id,
					  const char *system_id, const char *tag)
{
	char *pattern = NULL;
	gh_sql *q;
	int rc;

	*count = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT count(*) FROM entitlements e WHERE e.control_owner_group_id = ?1"
				 " AND ((CAST(?2 AS TEXT) IS NOT NULL AND e.system_id = ?2)"
				 "  OR (CAST(?3 AS TEXT) IS NOT NULL AND e.tags LIKE ?3 ESCAPE '\\'))")))
		return rc;
	if (tag && !(pattern = tag_pattern(tag))) {
		gh_sql_reset(q);
		return nomem();
	}
	gh_sql_bind_text(q, 1, group_id);
	gh_sql_bind_text(q, 2, system_id);
	gh_sql_bind_text(q, 3, pattern);
	free(pattern);
	rc = gh_sql_step(q);
	if (rc == GH_SQL_ROW)
		*count = (int)gh_sql_column_int64(q, 0);
	rc = rc == GH_SQL_ROW ? 0 : gh_sql_fail(q, "checking a delegation's scope");
	gh_sql_reset(q);
	return rc;
}
