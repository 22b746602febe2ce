/* gov.c - opening the domain and the helpers its files share. */
#include "gov/gov_internal.h"
#include "gov/authlimit.h"
#include "store/lookup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


unsigned gh_role_parse(const char *name)
{
	for (size_t i = 0; gov_role_names[i]; i++)
		if (strcmp(gov_role_names[i], name) == 0)
			return 1u << i;
	return 0;
}

json_t *gh_roles_json(unsigned roles)
{
	json_t *a = json_array();

	for (size_t i = 0; gov_role_names[i] && a; i++)
		if (roles & (1u << i))
			json_array_append_new(a, json_string(gov_role_names[i]));
	return a;
}

int gh_gov_whoami(json_t **out, gh_gov *g, const gh_actor *actor)
{
	char name[256];

	gh_store_read_begin(g->store);
	gov_name_of(g, actor->id, name, sizeof(name));
	gh_store_read_end(g->store);
	*out = json_pack("{s:s, s:s, s:o}", "id", actor->id, "name", name, "roles",
			 gh_roles_json(actor->roles));
	return *out ? 0 : gh_error_set(GH_ERROR, "out of memory");
}

int gov_require_role(const gh_actor *actor, unsigned roles, const char *what)
{
	char names[96];
	size_t len = 0;
	int n = 0;

	if (actor && (actor->roles & roles))
		return 0;
	names[0] = '\0';
	for (size_t i = 0; gov_role_names[i] && len < sizeof(names); i++)
		if (roles & (1u << i)) {
			len += snprintf(names + len, sizeof(names) - len, "%s%s", n ? ", " : "",
					gov_role_names[i]);
			n++;
		}
	return gh_error_set(GH_EFORBIDDEN, "%s needs %s: %s", what,
			    n == 1 ? "the role" : "one of the roles", names);
}

int gh_gov_open(gh_gov **out, const char *db_path, int create, const gh_gov_options *opts)
{
	gh_gov *g;
	int rc;

	*out = NULL;
	if (gh_init())
		return gh_error_set(GH_ERROR, "libsodium failed to initialise");
	if (!(g = calloc(1, sizeof(*g))))
		return gh_error_set(GH_ERROR, "out of memory");
	if (opts)
		g->opts = *opts;
	if (g->opts.pending_sla <= 0)
		g->opts.pending_sla = 72 * 3600;
	if (g->opts.nhi_max_lifetime <= 0)
		g->opts.nhi_max_lifetime = 365 * 86400;
	if (g->opts.orphan_grace <= 0)
		g->opts.orphan_grace = 7 * 86400;
	if (g->opts.token_lifetime <= 0)
		g->opts.token_lifetime = 90 * 86400;
	g->decider = gh_builtin_decider;
	gov_cluster_init(g);
	pthread_rwlock_init(&g->decider_lock, NULL);
	pthread_mutex_init(&g->sched_lock, NULL);
	pthread_cond_init(&g->sched_cond, NULL);
	if ((rc = gov_auth_cache_new(g)) || (rc = gov_authlimit_new(&g->authlimit,
	    &(gov_authlimit_config){.threshold = g->opts.auth_failures})) ||
	    (rc = gh_store_open(&g->store, db_path, create)) ||
	    (rc = gov_policy_load_active(g))) {
		gh_gov_free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void gh_gov_free(gh_gov *g)
{
	if (!g)
		return;
	gh_gov_sched_stop(g);
	gh_gov_cluster_stop(g);         /* it looks at the signer */
	gov_checkpoints_free(g);
	/* what the failed authentications of the last window add up to */
	if (g->store)
		gh_gov_auth_failures_flush(g, 1);
	gov_authlimit_free(g->authlimit);
	gov_cedar_decider_free(&g->decider);
	pthread_rwlock_destroy(&g->decider_lock);
	gh_store_free(g->store);
	gov_auth_cache_free(g);
	pthread_mutex_destroy(&g->sched_lock);
	pthread_cond_destroy(&g->sched_cond);
	free(g);
}

gh_store *gh_gov_store(gh_gov *g)
{
	return g->store;
}

int gh_gov_schema_version(gh_gov *g)
{
	return gh_store_version(g->store);
}

static const struct {
	const char *table;
	const char *prefix;
	const char *noun;
} tables[] = {
	{"identities", "idn_", "identity"},
	{"groups", "grp_", "group"},
	{"systems", "sys_", "system"},
	{"entitlements", "ent_", "entitlement"},
};

/* mode: LOOKUP_PREFIX reads ref as an id when it has the table's prefix and
 * as a name otherwise; LOOKUP_ID_THEN_NAME tries it as an id, then as a name
 * (names may hold '_', so a name can look like an id). */
enum { LOOKUP_PREFIX, LOOKUP_ID_THEN_NAME };

static int lookup_mode(gh_gov *g, const char *table, const char *ref, char out[GH_ID_LEN],
		       const char **noun, int mode)
{
	size_t t;
	int rc = GH_ENOTFOUND;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (strcmp(tables[t].table, table) == 0)
			break;
	if (t == sizeof(tables) / sizeof(tables[0]))
		return gh_error_set(GH_ERROR, "unknown table %s", table);
	*noun = tables[t].noun;
	if (!ref || !*ref || strlen(ref) >= GH_ID_LEN * 4)
		return GH_ENOTFOUND;
	if (mode == LOOKUP_PREFIX)
		return gh_store_resolve(out, GH_ID_LEN, g->store, table,
					strncmp(ref, tables[t].prefix, 4) == 0 ? GH_STORE_BY_ID
									      : GH_STORE_BY_NAME,
					ref);
	for (int pass = 0; pass < 2 && rc == GH_ENOTFOUND; pass++)
		rc = gh_store_resolve(out, GH_ID_LEN, g->store, table,
				      pass ? GH_STORE_BY_NAME : GH_STORE_BY_ID, ref);
	return rc;
}

static int lookup(gh_gov *g, const char *table, const char *ref, char out[GH_ID_LEN],
		  const char **noun)
{
	return lookup_mode(g, table, ref, out, noun, LOOKUP_PREFIX);
}

int gov_resolve_any(gh_gov *g, const char *table, const char *ref, char out[GH_ID_LEN])
{
	const char *noun = "object";

	return lookup_mode(g, table, ref, out, &noun, LOOKUP_ID_THEN_NAME);
}

int gov_name_in(gh_gov *g, const char *table, const char *id, char *out, size_t outlen)
{
	size_t t;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (strcmp(tables[t].table, table) == 0)
			break;
	if (t == sizeof(tables) / sizeof(tables[0]))
		return gh_error_set(GH_ERROR, "unknown table %s", table);
	snprintf(out, outlen, "%s", id ? id : "");
	if (!id)
		return GH_ENOTFOUND;
	return gh_store_name_of(out, outlen, g->store, table, id);
}

/* --- "did you mean": the nearest existing name to a reference not found ---
 *
 * Bounded on purpose: only names that begin with the same byte as the
 * reference are candidates (a range scan of the table's name index), at most
 * SUGGEST_SCAN of them, each compared with an edit distance capped at
 * SUGGEST_MAX_DISTANCE (smaller for short names) on at most SUGGEST_MAX_LEN
 * bytes. A typo in the first letter therefore gets no suggestion. */
#define SUGGEST_SCAN 1000
#define SUGGEST_MAX_LEN 128
#define SUGGEST_MAX_DISTANCE 3

/* Levenshtein distance of a and b, or max + 1 as soon as it must exceed max. */
static size_t edit_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t prev[SUGGEST_MAX_LEN + 1], cur[SUGGEST_MAX_LEN + 1];

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return max + 1;
	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		size_t row_min;

		cur[0] = row_min = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			if (cur[j] < row_min)
				row_min = cur[j];
		}
		if (row_min > max)
			return max + 1;
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

/* Into out the name of table t nearest to ref ("" when none is close): the
 * store's candidates are [compared, shown] pairs (an entitlement is suggested
 * as system/name). Errors only mean no suggestion. */
static void suggest(gh_gov *g, size_t t, const char *ref, char *out, size_t outlen)
{
	size_t len = strlen(ref), max, best = (size_t)-1, i;
	json_t *near = NULL, *pair;

	out[0] = '\0';
	if (len == 0 || len > SUGGEST_MAX_LEN)
		return;
	max = len <= 4 ? 1 : len <= 8 ? 2 : SUGGEST_MAX_DISTANCE;
	if (gh_store_names_near(&near, g->store, tables[t].table, ref, SUGGEST_SCAN))
		return;
	json_array_foreach(near, i, pair) {
		const char *cand = json_string_value(json_array_get(pair, 0));
		const char *shown = json_string_value(json_array_get(pair, 1));
		size_t d;

		if (!cand || !shown)
			continue;
		d = edit_distance(ref, cand, max);
		if (d <= max && d < best) {
			best = d;
			snprintf(out, outlen, "%s", shown);
		}
	}
	json_decref(near);
}

/* "identity x not found" plus, when a name is close, "; did you mean y?". */
static void not_found_text(gh_gov *g, const char *table, const char *noun, const char *ref,
			   char *out, size_t outlen)
{
	char near[2 * SUGGEST_MAX_LEN + 2] = "";
	size_t t;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (strcmp(tables[t].table, table) == 0)
			break;
	/* an id that does not exist has no near miss worth naming */
	if (ref && t < sizeof(tables) / sizeof(tables[0]) &&
	    strncmp(ref, tables[t].prefix, 4) != 0)
		suggest(g, t, ref, near, sizeof(near));
	if (near[0])
		snprintf(out, outlen, "%s %s not found; did you mean %s?", noun, ref, near);
	else
		snprintf(out, outlen, "%s %s not found", noun, ref ? ref : "");
}

int gov_resolve(gh_gov *g, const char *table, const char *ref, char out[GH_ID_LEN])
{
	const char *noun = "object";
	int rc = lookup(g, table, ref, out, &noun);
	char text[400];

	if (rc == GH_ENOTFOUND) {
		not_found_text(g, table, noun, ref, text, sizeof(text));
		return gh_error_set(GH_ENOTFOUND, "%s", text);
	}
	if (rc == GH_ECONFLICT)
		return gh_error_set(GH_ECONFLICT, "%s name %s is ambiguous; use its id", noun, ref);
	return rc;
}

int gov_resolve_field(gh_gov *g, const char *table, const char *field, const char *ref,
		      char out[GH_ID_LEN])
{
	const char *noun = "object";
	int rc = lookup(g, table, ref, out, &noun);
	char text[400];

	if (rc == GH_ENOTFOUND) {
		not_found_text(g, table, noun, ref, text, sizeof(text));
		gh_error_field(field, "%s", text);
		return GH_EINVALID;
	}
	if (rc == GH_ECONFLICT) {
		gh_error_field(field, "%s name %s is ambiguous; use its id", noun, ref);
		return GH_EINVALID;
	}
	return rc;
}

const char *gov_name_of(gh_gov *g, const char *id, char *out, size_t outlen)
{
	size_t t;

	snprintf(out, outlen, "%s", id ? id : "");
	if (!id)
		return out;
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (strncmp(id, tables[t].prefix, 4) == 0)
			break;
	/* anything else (a name already, "system:operator") reads as it is */
	if (t < sizeof(tables) / sizeof(tables[0]))
		gh_store_name_of(out, outlen, g->store, tables[t].table, id);
	return out;
}

int gov_page(gh_gov *g, const char *table, const gh_page *page, int *limit, int64_t *after_pk)
{
	int rc;

	*limit = 50;
	*after_pk = 0;
	if (!page)
		return 0;
	if (page->limit != 0) {
		if (page->limit < 1 || page->limit > 500) {
			gh_error_field("limit", "must be between 1 and 500");
			return gh_error_fields_finish();
		}
		*limit = page->limit;
	}
	if (!page->after || !*page->after)
		return 0;
	if ((rc = gh_store_page_after(after_pk, g->store, table, page->after)) == GH_ENOTFOUND) {
		gh_error_field("after", "no such item to continue after");
		return gh_error_fields_finish();
	}
	return rc;
}

/* --- helpers every domain file uses (declared in gov_internal.h) --------- */

json_t *gov_list_result(json_t *items, int limit)
{
	size_t n = json_array_size(items);
	json_t *next = NULL;

	if (!items)
		return NULL;
	if (limit > 0 && n == (size_t)limit)
		next = json_object_get(json_array_get(items, n - 1), "id");
	return json_pack("{s:o, s:O?}", "items", items, "next", next);
}

int gov_check_enum(const char *field, const char *const values[], const char *s)
{
	char list[256];
	size_t len = 0;

	for (size_t i = 0; values[i]; i++)
		if (strcmp(values[i], s) == 0)
			return 0;
	list[0] = '\0';
	for (size_t i = 0; values[i] && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", values[i]);
	gh_error_field(field, "must be one of: %s", list);
	return GH_EINVALID;
}

/* A number given as text (a query parameter) in lo..hi into *out, or a field
 * error naming it; absent (NULL) leaves *out alone, or is an error when
 * required. */
void gov_take_int(const char *v, const char *name, int64_t lo, int64_t hi, int64_t *out,
		  int required)
{
	char *end;
	long long n;

	if (!v) {
		if (required)
			gh_error_field(name, "is required");
		return;
	}
	errno = 0;
	n = (*v >= '0' && *v <= '9') ? strtoll(v, &end, 10) : -1;
	if (n < 0 || errno || *end || n < lo || n > hi) {
		gh_error_field(name, "must be a whole number from %lld to %lld", (long long)lo,
			       (long long)hi);
		return;
	}
	*out = n;
}

int gov_finish(gh_gov *g, int rc)
{
	if (rc == 0)
		return gh_store_commit(g->store);
	gh_store_rollback(g->store);
	return rc;
}

int gov_finish_out(gh_gov *g, int rc, json_t **out)
{
	rc = gov_finish(g, rc);
	if (rc && out) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int gov_finish_auth(gh_gov *g, int rc, json_t **out)
{
	rc = gov_finish_out(g, rc, out);
	if (rc == 0)
		gov_auth_changed(g);    /* roles, status, expiry or tokens may have changed */
	return rc;
}

int gov_list_filter(gh_gov *g, gov_list_query *q, const gh_page *page)
{
	int rc;

	q->subject_id[0] = q->ent_id[0] = '\0';
	if (q->enum_value && !*q->enum_value)
		q->enum_value = NULL;
	if (q->enum_value)
		gov_check_enum(q->enum_field, q->enum_values, q->enum_value);
	if ((rc = gov_page(g, q->table, page, &q->limit, &q->after_pk)) < 0 && rc != GH_EINVALID)
		return rc;
	if (q->subject && *q->subject &&
	    (rc = gov_resolve_field(g, "identities", "subject", q->subject, q->subject_id)) < 0 &&
	    rc != GH_EINVALID)
		return rc;
	if (q->entitlement && *q->entitlement &&
	    (rc = gov_resolve_field(g, "entitlements", "entitlement", q->entitlement, q->ent_id)) < 0 &&
	    rc != GH_EINVALID)
		return rc;
	return gh_error_fields_finish();
}

