/* policy_versions.c - versioned Cedar policy sets: proposed by one person,
 * activated by another (four eyes), at most one active, rollback by
 * activating an earlier version again. */
#include "gov/gov_internal.h"
#include "policy/policy.h"
#include "store/policies.h"

#include <stdio.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_MAX_APPROVALS 10  /* the decider's bound on @approvals (decide_cedar.c) */
/* settings key of a Cedar schema (.cedarschema text) new versions are checked against */
#define POLICY_SCHEMA_SETTING "policy.schema"

/* Who reads policy sets: the writers and the auditors. */
#define POLICY_READERS (GH_ROLE_ADMIN | GH_ROLE_IAM | GH_ROLE_AUDITOR)

/* The API shape of one version; with_text adds the policy text. Lock held. */
static int version_load(json_t **out, gh_gov *g, const char *id, int with_text)
{
	return gh_store_policy_get(out, g->store, id, with_text);
}

/* ref is an id ("pol_...") or a version number ("3"). Lock held. */
static int version_resolve(gh_gov *g, const char *ref, char id[GH_ID_LEN])
{
	int rc, by_version = ref && *ref && strspn(ref, "0123456789") == strlen(ref);

	if (!ref || !*ref || strlen(ref) >= GH_ID_LEN || (!by_version && strncmp(ref, "pol_", 4)))
		return gh_error_set(GH_ENOTFOUND, "policy version %s not found", ref ? ref : "");
	if (by_version)
		rc = gh_store_policy_id_of(id, GH_ID_LEN, g->store, strtoll(ref, NULL, 10));
	else if ((rc = gh_store_policy_exists(g->store, ref)) >= 0) {
		snprintf(id, GH_ID_LEN, "%s", ref);
		rc = rc ? 0 : GH_ENOTFOUND;
	}
	if (rc == GH_ENOTFOUND)
		return gh_error_set(GH_ENOTFOUND, "policy version %s not found", ref);
	return rc;
}

/* --- propose ---------------------------------------------------------------- */

static const char *const propose_fields[] = {"text", "comment", NULL};

/* The policy text of in, checked (GH_GOV_FIELD_POLICY_TEXT: a non-empty
 * string of at most 1 MiB without NUL), its length in *len; NULL with a
 * field error otherwise. */
static const char *text_field(const json_t *in, size_t *len)
{
	const char *text = NULL;

	if (gov_jv_field(in, "text", GH_GOV_FIELD_POLICY_TEXT, 1, &text) <= 0)
		return NULL;
	*len = strlen(text);
	return text;
}

/* What the schema says of ps: a JSON array of {"policy","line","column",
 * "message"}, empty when valid. The schema is Gatehouse's own
 * (docs/gatehouse.cedarschema, the one decisions are evaluated against)
 * unless the "policy.schema" setting names another. */
static int validation_of(json_t **out, gh_gov *g, const gh_policy_set *ps)
{
	gh_policy_schema *schema = NULL;
	gh_policy_error perr = {0};
	char *schema_text = NULL, *report = NULL;
	int rc;

	*out = NULL;
	gh_store_read_begin(g->store);
	rc = gh_store_setting_get(&schema_text, g->store, POLICY_SCHEMA_SETTING);
	gh_store_read_end(g->store);
	if (rc == GH_ENOTFOUND) {
		gh_error_clear();
		if (!(schema_text = strdup(gov_cedar_schema)))
			return gh_error_set(GH_ERROR, "out of memory");
	} else if (rc) {
		return rc;
	}
	if (gh_policy_schema_parse(&schema, schema_text, strlen(schema_text), &perr)) {
		/* a broken schema setting must not let anything through */
		*out = json_pack("[{s:n, s:i, s:i, s:s+}]", "policy", "line", perr.line, "column",
				 perr.column, "message", "the configured schema does not parse: ", perr.message);
	} else if (gh_policy_validate(&report, ps, schema)) {
		*out = report ? json_loads(report, 0, NULL) : NULL;
		if (*out && !json_is_array(*out)) {
			json_decref(*out);
			*out = NULL;
		}
		if (!*out)
			*out = json_pack("[{s:n, s:i, s:i, s:s}]", "policy", "line", 0, "column", 0,
					 "message", "validation failed");
	} else {
		*out = json_array();
	}
	rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory");
	free(report);
	free(schema_text);
	gh_policy_schema_free(schema);
	return rc;
}

/* Obligations are refused when a version is proposed, never first at
 * decision time: each problem with an annotation the decider reads is
 * appended to validation. Takes a read section (groups are looked up). */
static int annotations_check(json_t *validation, gh_gov *g, const gh_policy_set *ps)
{
	char gid[GH_ID_LEN], msg[600];
	const char *id, *k, *v;
	int64_t secs;
	char *end;
	long n;
	int rc = 0, found;

	gh_store_read_begin(g->store);
	for (size_t i = 0; i < gh_policy_set_count(ps) && !rc; i++) {
		id = gh_policy_set_id(ps, i);
		for (size_t a = 0; !rc && gh_policy_set_annotation_at(ps, id, a, &k, &v) == 0; a++) {
			msg[0] = '\0';
			if (strcmp(k, "approvals") == 0) {
				n = strtol(v, &end, 10);
				if (!*v || *end || n < 1 || n > POLICY_MAX_APPROVALS)
					snprintf(msg, sizeof(msg), "%s: @approvals(\"%s\") is not a count"
						 " 1..%d", id, v, POLICY_MAX_APPROVALS);
			} else if (strcmp(k, "max_duration") == 0 || strcmp(k, "review_within") == 0) {
				if (gh_duration_parse(&secs, v) || secs <= 0)
					snprintf(msg, sizeof(msg), "%s: @%s(\"%s\") is not a duration"
						 " above zero (like \"8h\")", id, k, v);
			} else if (strcmp(k, "on_behalf") == 0) {
				if (strcmp(v, "allow") != 0)
					snprintf(msg, sizeof(msg), "%s: @on_behalf(\"%s\"): the only value "
						 "is \"allow\" (break-glass submitted on someone else's "
						 "behalf); leave it out to refuse that", id, v);
			} else if (strcmp(k, "approver_group") == 0) {
				found = gov_resolve(g, "groups", v, gid);
				if (found == GH_ENOTFOUND || found == GH_ECONFLICT)
					snprintf(msg, sizeof(msg), "%s: @approver_group(\"%s\"): %s", id,
						 v, gh_error_last()->message);
				else
					rc = found;
				gh_error_clear();
			}
			if (msg[0] && json_array_append_new(validation, json_pack(
					"{s:s, s:i, s:i, s:s}", "policy", id, "line", 0, "column", 0,
					"message", msg)))
				rc = gh_error_set(GH_ERROR, "out of memory");
		}
	}
	gh_store_read_end(g->store);
	return rc;
}

/* Every entity the text names must exist (by name or id): a reference to
 * nothing would silently match nothing. */
static int references_check(json_t *validation, gh_gov *g, const gh_policy_set *ps)
{
	gh_policy_set *resolved = NULL;
	int rc = gov_policy_resolve(&resolved, validation, g, ps);

	gh_policy_set_free(resolved);
	return rc;
}

/* What proposing says of ps: the schema's findings, then the references'
 * and the annotations'. */
static int check_parsed(json_t **validation, gh_gov *g, const gh_policy_set *ps)
{
	int rc = validation_of(validation, g, ps);

	if (!rc && !(rc = references_check(*validation, g, ps)))
		rc = annotations_check(*validation, g, ps);
	if (rc) {
		json_decref(*validation);
		*validation = NULL;
	}
	return rc;
}

int gov_policy_compile(gh_decider *out, json_t *warnings, gh_gov *g, const char *text,
		       size_t len, const char *label, int strict)
{
	gh_policy_set *ps = NULL, *resolved = NULL;
	gh_policy_error perr = {0};
	json_t *problems = json_array();
	char err[300];
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!problems)
		return gh_error_set(GH_ERROR, "out of memory");
	if (gh_policy_set_parse(&ps, text, len, &perr))
		rc = gh_error_set(GH_ECONFLICT, "policy version %s cannot be compiled: %d:%d: %s",
				  label, perr.line, perr.column, perr.message);
	if (!rc && warnings)
		rc = gov_policy_warnings(warnings, ps);
	if (!rc)
		rc = gov_policy_resolve(&resolved, problems, g, ps);
	if (!rc && strict && json_array_size(problems))
		rc = gh_error_set(GH_ECONFLICT, "policy version %s cannot be compiled: %s", label,
				  json_string_value(json_object_get(json_array_get(problems, 0),
								    "message")));
	if (!rc) {
		if (resolved) {
			gh_policy_set_free(ps);
			ps = resolved;
			resolved = NULL;
		}
		rc = gov_cedar_decider_from_set(out, ps, label, err, sizeof(err));
		ps = NULL; /* the decider's now */
		if (rc)
			rc = gh_error_set(rc == GH_EINVALID ? GH_ECONFLICT : rc,
					  "policy version %s cannot be compiled: %s", label, err);
	}
	gh_policy_set_free(ps);
	gh_policy_set_free(resolved);
	json_decref(problems);
	return rc;
}

int gov_policy_check(json_t **validation, gh_gov *g, const char *field, const char *text,
		     size_t len)
{
	gh_policy_set *ps = NULL;
	gh_policy_error perr = {0};
	int rc;

	*validation = NULL;
	if (gh_policy_set_parse(&ps, text, len, &perr)) {
		gh_error_field(field, "%d:%d: %s", perr.line, perr.column, perr.message);
		return GH_EINVALID;
	}
	rc = check_parsed(validation, g, ps);
	gh_policy_set_free(ps);
	return rc;
}

static int propose_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *text,
			  size_t len, const char *comment, size_t npolicies,
			  const json_t *validation)
{
	unsigned char hash[crypto_hash_sha256_BYTES];
	char id[GH_ID_LEN], hex[2 * crypto_hash_sha256_BYTES + 1];
	json_t *row = NULL, *details = NULL;
	int64_t version = 0;
	int rc;

	if ((rc = gh_store_policy_next_version(&version, g->store)))
		return rc;
	crypto_hash_sha256(hash, (const unsigned char *)text, len);
	gh_hex(hex, hash, sizeof(hash));
	gh_id_new(id, sizeof(id), "pol");
	row = json_pack("{s:s, s:I, s:s%, s:s, s:s, s:I, s:s?, s:O}", "id", id, "version",
			(json_int_t)version, "text", text, len, "sha256", hex, "proposed_by",
			actor->id, "proposed_at", (json_int_t)gh_now(), "comment", comment,
			"validation", validation);
	if (!row) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_store_policy_insert(g->store, row)))
		goto cleanup;
	details = json_pack("{s:I, s:s, s:I, s:b, s:s?}", "version", (json_int_t)version,
			    "sha256", hex, "policies", (json_int_t)npolicies, "valid",
			    json_array_size(validation) == 0, "comment", comment);
	if (!details) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gh_audit_append(NULL, g->store, actor->id, "policy.proposed", "policy", id,
				  details)))
		goto cleanup;
	rc = version_load(out, g, id, 0);
cleanup:
	json_decref(details);
	json_decref(row);
	return rc;
}

int gh_gov_policy_propose(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in)
{
	gh_policy_set *ps = NULL;
	gh_policy_error perr = {0};
	json_t *validation = NULL, *warnings = NULL;
	const char *text = NULL, *comment = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "proposing a policy set")))
		return rc;
	if (gh_jv_object(in, propose_fields) < 0 && !json_is_object(in))
		return gh_error_fields_finish();
	text = text_field(in, &len);
	gov_jv_field(in, "comment", GH_GOV_FIELD_COMMENT, 0, &comment);
	if (text && gh_policy_set_parse(&ps, text, len, &perr))
		gh_error_field("text", "%d:%d: %s", perr.line, perr.column, perr.message);
	if ((rc = gh_error_fields_finish()))
		goto cleanup;
	/* parsing and checking are slow: done before the write lock is taken */
	if ((rc = check_parsed(&validation, g, ps)))
		goto cleanup;
	if (!(warnings = json_array())) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if ((rc = gov_policy_warnings(warnings, ps)) || (rc = gh_store_begin(g->store)))
		goto cleanup;
	rc = gov_finish_out(g, propose_locked(out, g, actor, text, len, comment, gh_policy_set_count(ps),
				      validation), out);
	if (!rc && json_object_set(*out, "warnings", warnings)) {
		json_decref(*out);
		*out = NULL;
		rc = gh_error_set(GH_ERROR, "out of memory");
	}
cleanup:
	json_decref(warnings);
	json_decref(validation);
	gh_policy_set_free(ps);
	return rc;
}

/* --- activate --------------------------------------------------------------- */

static const char *const activate_fields[] = {"comment", NULL};

/* The row facts activation decides on. */
typedef struct version_row {
	char id[GH_ID_LEN];
	char state[16];
	char proposed_by[64];
	char sha256[72];
	int64_t version;
	size_t nerrors;
} version_row;

static int row_read(version_row *r, gh_gov *g, const char *id)
{
	json_t *v = NULL;
	int rc;

	if ((rc = gh_store_policy_get(&v, g->store, id, 0)))
		return rc;
	snprintf(r->id, sizeof(r->id), "%s", json_string_value(json_object_get(v, "id")));
	snprintf(r->state, sizeof(r->state), "%s", json_string_value(json_object_get(v, "state")));
	snprintf(r->proposed_by, sizeof(r->proposed_by), "%s",
		 json_string_value(json_object_get(v, "proposed_by")));
	snprintf(r->sha256, sizeof(r->sha256), "%s", json_string_value(json_object_get(v, "sha256")));
	r->version = json_integer_value(json_object_get(v, "version"));
	r->nerrors = json_array_size(json_object_get(v, "validation"));
	json_decref(v);
	return 0;
}

/* The active version's id and number into prev (id "" when none). Lock held. */
static int active_read(gh_gov *g, char id[GH_ID_LEN], int64_t *version)
{
	return gh_store_policy_active(id, GH_ID_LEN, version, g->store);
}

static int activate_locked(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			   const char *comment, const gh_decider *next)
{
	char id[GH_ID_LEN], prev[GH_ID_LEN];
	version_row r = {0};
	json_t *details = NULL, *effects = NULL;
	int64_t prev_version, now = gh_now();
	int rc, rollback;

	if ((rc = version_resolve(g, ref, id)) || (rc = row_read(&r, g, id)))
		return rc;
	if (strcmp(r.state, "active") == 0)
		return gh_error_set(GH_ECONFLICT, "policy version %lld is already active",
				    (long long)r.version);
	if (strcmp(r.state, "proposed") != 0 && strcmp(r.state, "superseded") != 0)
		return gh_error_set(GH_ECONFLICT, "policy version %lld is %s and cannot be activated",
				    (long long)r.version, r.state);
	/* four eyes: whoever proposed a version never activates it, also on rollback */
	if (strcmp(actor->id, r.proposed_by) == 0) {
		char who[80];

		if ((rc = gov_name_in(g, "identities", actor->id, who, sizeof(who))) &&
		    rc != GH_ENOTFOUND)
			return rc;
		return gh_error_set(GH_EDENIED,
				    "activation needs a second person: %s proposed policy version"
				    " %lld and cannot also activate it; another admin or iam person"
				    " activates it",
				    who, (long long)r.version);
	}
	if (r.nerrors)
		return gh_error_set(GH_ECONFLICT,
				    "policy version %lld has %zu validation error(s) and cannot be"
				    " activated",
				    (long long)r.version, r.nerrors);
	rollback = strcmp(r.state, "superseded") == 0;
	if ((rc = active_read(g, prev, &prev_version)))
		return rc;
	if (prev[0] && (rc = gh_store_policy_supersede(g->store, prev)))
		return rc;
	if ((rc = gh_store_policy_activate(g->store, id, actor->id, now)))
		return rc;
	/* what simulate predicted, decided by the same pass and applied here */
	if ((rc = gov_policy_effects(&effects, g, next, actor->id)))
		return rc;
	details = json_pack("{s:I, s:s, s:s, s:o, s:o, s:b, s:s?, s:O}", "version",
			    (json_int_t)r.version, "sha256", r.sha256, "proposed_by", r.proposed_by,
			    "previous_version",
			    prev[0] ? json_integer((json_int_t)prev_version) : json_null(),
			    "previous_id", prev[0] ? json_string(prev) : json_null(), "rollback",
			    rollback, "comment", comment, "effects", effects);
	if (!details)
		rc = gh_error_set(GH_ERROR, "out of memory");
	if (!rc)
		rc = gh_audit_append(NULL, g->store, actor->id, "policy.activated", "policy", id,
				     details);
	if (!rc && !(rc = version_load(out, g, id, 0)) &&
	    json_object_set(*out, "effects", effects))
		rc = gh_error_set(GH_ERROR, "out of memory");
	json_decref(details);
	json_decref(effects);
	return rc;
}

/* Activations, and loading the active version, one at a time: each
 * installs the decider it committed, so two must not cross. Taken before
 * any store section (never inside one). */
static pthread_mutex_t activation_lock = PTHREAD_MUTEX_INITIALIZER;

static void install(gh_gov *g, gh_decider *next)
{
	gh_decider old;

	pthread_rwlock_wrlock(&g->decider_lock);
	old = g->decider;
	g->decider = *next;
	pthread_rwlock_unlock(&g->decider_lock);
	gov_cedar_decider_free(&old);
}

/* How decisions record a version: "v3 pol_... sha256:0123456789ab". */
static void version_label(char *out, size_t outlen, int64_t version, const char *id,
			  const char *sha256)
{
	snprintf(out, outlen, "v%lld %.24s sha256:%.12s", (long long)version, id, sha256);
}

int gov_policy_version_decider(gh_decider *out, json_t **info, gh_gov *g, const char *ref)
{
	char id[GH_ID_LEN], label[64] = "";
	json_t *v = NULL, *row = NULL, *warnings = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (info)
		*info = NULL;
	gh_store_read_begin(g->store);
	if (!(rc = version_resolve(g, ref, id)) && !(rc = version_load(&v, g, id, 1))) {
		version_label(label, sizeof(label), json_integer_value(json_object_get(v, "version")),
			      id, json_string_value(json_object_get(v, "sha256")));
		row = json_pack("{s:s, s:O, s:O, s:O, s:O}", "id", id, "version",
				json_object_get(v, "version"), "sha256", json_object_get(v, "sha256"),
				"text", json_object_get(v, "text"), "validation",
				json_object_get(v, "validation"));
		rc = row ? 0 : gh_error_set(GH_ERROR, "out of memory");
	}
	gh_store_read_end(g->store);
	json_decref(v);
	/* compiled outside the store lock: parsing is the slow part */
	if (!rc && !(warnings = json_array()))
		rc = gh_error_set(GH_ERROR, "out of memory");
	/* a version with validation problems compiles leniently (simulate shows it;
	 * activation refuses it by its validation); a valid one must resolve every
	 * name, or it fails closed (a name that vanished after it was proposed) */
	if (!rc)
		rc = gov_policy_compile(out, warnings, g,
					json_string_value(json_object_get(row, "text")),
					json_string_length(json_object_get(row, "text")), label,
					json_array_size(json_object_get(row, "validation")) == 0);
	if (!rc && json_object_set(row, "warnings", warnings))
		rc = gh_error_set(GH_ERROR, "out of memory");
	json_decref(warnings);
	if (!rc && info) {
		json_object_del(row, "text");
		*info = row;
		row = NULL;
	}
	json_decref(row);
	return rc;
}

int gh_gov_policy_activate(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			   const json_t *in)
{
	gh_decider next = {0};
	const char *comment = NULL;
	json_t *info = NULL;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, GOV_INVENTORY_WRITERS, "activating a policy set")))
		return rc;
	if (in) {
		if (gh_jv_object(in, activate_fields) < 0 && !json_is_object(in))
			return gh_error_fields_finish();
		gov_jv_field(in, "comment", GH_GOV_FIELD_COMMENT, 0, &comment);
	}
	if ((rc = gh_error_fields_finish()))
		return rc;
	pthread_mutex_lock(&activation_lock);
	/* built before the write transaction, installed after it commits */
	if (!(rc = gov_policy_version_decider(&next, &info, g, ref)) &&
	    !(rc = gh_store_begin(g->store)))
		rc = gov_finish_out(g, activate_locked(out, g, actor, ref, comment, &next), out);
	/* what default deny will refuse from now on, said with the answer */
	if (!rc && json_object_set(*out, "warnings", json_object_get(info, "warnings"))) {
		json_decref(*out);
		*out = NULL;
		rc = gh_error_set(GH_ERROR, "out of memory");
	}
	json_decref(info);
	if (rc)
		gov_cedar_decider_free(&next);
	else
		install(g, &next); /* decisions from now on are the new version's */
	pthread_mutex_unlock(&activation_lock);
	return rc;
}

/* Denies everything, naming why: the active version could not be loaded. */
static char load_failure[512];

static int deny_unloadable(void *ctx, gh_decision *out, const json_t *facts)
{
	snprintf(out->outcome, sizeof(out->outcome), "denied");
	snprintf(out->source, sizeof(out->source), "cedar");
	snprintf(out->policy_version, sizeof(out->policy_version), "unloadable");
	out->reasons = json_pack("[s]", load_failure);
	return out->reasons ? 0 : gh_error_set(GH_ERROR, "out of memory");
}

static int deny_unloadable_ask(void *ctx, gh_decision *out, const char *action,
			       const json_t *facts)
{
	(void)action;
	if (deny_unloadable(ctx, out, facts))
		return GH_ERROR;
	snprintf(out->outcome, sizeof(out->outcome), "deny");
	return 0;
}

int gov_policy_load_active(gh_gov *g)
{
	gh_decider next = gh_builtin_decider;
	char id[GH_ID_LEN];
	int64_t version;
	int rc;

	pthread_mutex_lock(&activation_lock);
	gh_store_read_begin(g->store);
	rc = active_read(g, id, &version);
	gh_store_read_end(g->store);
	if (!rc && id[0] && (rc = gov_policy_version_decider(&next, NULL, g, id)) == GH_ECONFLICT) {
		snprintf(load_failure, sizeof(load_failure),
			 "the active policy version could not be loaded: %.400s",
			 gh_error_last()->message);
		fprintf(stderr, "gatehouse: %s\n", load_failure);
		gh_error_clear();
		next = (gh_decider){"cedar-unloadable", deny_unloadable, NULL, deny_unloadable_ask};
		rc = 0;
	}
	if (!rc)
		install(g, &next);
	pthread_mutex_unlock(&activation_lock);
	return rc;
}

/* --- reads ------------------------------------------------------------------ */

int gh_gov_policy_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref)
{
	char id[GH_ID_LEN];
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, POLICY_READERS, "reading policy sets")))
		return rc;
	gh_store_read_begin(g->store);
	if (!(rc = version_resolve(g, ref, id)))
		rc = version_load(out, g, id, 1);
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_policy_active(json_t **out, gh_gov *g, const gh_actor *actor)
{
	char id[GH_ID_LEN];
	int64_t version;
	int rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, POLICY_READERS, "reading policy sets")))
		return rc;
	gh_store_read_begin(g->store);
	if (!(rc = active_read(g, id, &version)))
		rc = id[0] ? version_load(out, g, id, 1)
			   : gh_error_set(GH_ENOTFOUND, "no policy version is active");
	gh_store_read_end(g->store);
	return rc;
}

int gh_gov_policy_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page)
{
	json_t *items = NULL;
	const char *last = NULL;
	int64_t after;
	int limit, rc;

	*out = NULL;
	gh_error_clear();
	if ((rc = gov_require_role(actor, POLICY_READERS, "reading policy sets")))
		return rc;
	gh_store_read_begin(g->store);
	if ((rc = gov_page(g, "policy_versions", page, &limit, &after)))
		goto cleanup;
	/* one row past the page says whether there is a next page */
	if ((rc = gh_store_policy_list(&items, g->store, after, limit + 1)))
		goto cleanup;
	if (json_array_size(items) > (size_t)limit) {
		json_array_remove(items, (size_t)limit);
		last = json_string_value(json_object_get(json_array_get(items, limit - 1), "id"));
	}
	*out = json_pack("{s:O, s:o}", "items", items, "next", last ? json_string(last) : json_null());
	rc = *out ? 0 : gh_error_set(GH_ERROR, "out of memory");
cleanup:
	gh_store_read_end(g->store);
	json_decref(items);
	return rc;
}
