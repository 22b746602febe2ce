/* fake_connector.h - a connector kind the provisioning tests control: it
 * fails when told, records its calls and holds a set of (account, target)
 * pairs that list() reads back (header-only). */
#ifndef GH_TEST_FAKE_CONNECTOR_H
#define GH_TEST_FAKE_CONNECTOR_H

#include "common/config.h"
#include "connect/connect.h"
#include "gov_fixture.h"

#include <pthread.h>

#define FAKE_HELD_MAX 64

static struct fake_state {
	pthread_mutex_t lock;
	int fail;                 /* fail the next N calls (GH_ERROR) */
	int invalid;              /* answer GH_EINVALID */
	int fail_list;            /* list() fails */
	int calls, grants, revokes;
	char last_grant[64], last_job[64], last_account[64];
	int last_attempt;
	char held[FAKE_HELD_MAX][2][64];
	size_t nheld;
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *const fake_fields[] = {"account_attribute", "note", NULL};

static FX_UNUSED int fake_check(const json_t *settings)
{
	json_t *v = json_object_get(settings, "note");

	if (v && !json_is_string(v)) {
		gh_error_field("connector_settings.note", "must be a string");
		return gh_error_fields_finish();
	}
	return 0;
}

static FX_UNUSED long fake_find(const char *account, const char *target)
{
	for (size_t i = 0; i < fake.nheld; i++)
		if (strcmp(fake.held[i][0], account) == 0 && strcmp(fake.held[i][1], target) == 0)
			return (long)i;
	return -1;
}

/* Adds or removes a pair downstream, as if done by hand. */
static FX_UNUSED void fake_hold(const char *account, const char *target, int present)
{
	long i;

	pthread_mutex_lock(&fake.lock);
	i = fake_find(account, target);
	if (present && i < 0 && fake.nheld < FAKE_HELD_MAX) {
		snprintf(fake.held[fake.nheld][0], 64, "%s", account);
		snprintf(fake.held[fake.nheld][1], 64, "%s", target);
		fake.nheld++;
	} else if (!present && i >= 0) {
		memcpy(fake.held[i], fake.held[fake.nheld - 1], sizeof(fake.held[i]));
		fake.nheld--;
	}
	pthread_mutex_unlock(&fake.lock);
}

static FX_UNUSED int fake_holds(const char *account, const char *target)
{
	int r;

	pthread_mutex_lock(&fake.lock);
	r = fake_find(account, target) >= 0;
	pthread_mutex_unlock(&fake.lock);
	return r;
}

static FX_UNUSED int fake_apply(const json_t *settings, const gh_conn_job *job, json_t **receipt)
{
	int grant = strcmp(job->op, "grant") == 0, rc = 0;

	(void)settings;
	*receipt = NULL;
	pthread_mutex_lock(&fake.lock);
	fake.calls++;
	snprintf(fake.last_grant, sizeof(fake.last_grant), "%s", job->grant_id ? job->grant_id : "");
	snprintf(fake.last_job, sizeof(fake.last_job), "%s", job->job_id);
	snprintf(fake.last_account, sizeof(fake.last_account), "%s", job->account);
	fake.last_attempt = job->attempt;
	if (fake.invalid)
		rc = gh_error_set(GH_EINVALID, "fake: role %s does not exist", job->target);
	else if (fake.fail > 0) {
		fake.fail--;
		rc = gh_error_set(GH_ERROR, "fake: server unreachable");
	}
	if (!rc) {
		grant ? fake.grants++ : fake.revokes++;
		*receipt = json_pack("{s:s, s:i}", "fake", job->op, "call", fake.calls);
	}
	pthread_mutex_unlock(&fake.lock);
	if (!rc)
		fake_hold(job->account, job->target, grant);
	return rc;
}

static FX_UNUSED int fake_list(const json_t *settings, const char *const *targets, size_t ntargets,
			       gh_conn_access **out, size_t *n)
{
	(void)settings;
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&fake.lock);
	if (fake.fail_list) {
		pthread_mutex_unlock(&fake.lock);
		return gh_error_set(GH_ERROR, "fake: cannot connect");
	}
	*out = calloc(fake.nheld + 1, sizeof(**out));
	for (size_t i = 0; *out && i < fake.nheld; i++)
		for (size_t t = 0; t < ntargets; t++)
			if (strcmp(targets[t], fake.held[i][1]) == 0) {
				(*out)[*n].account = strdup(fake.held[i][0]);
				(*out)[*n].target = strdup(fake.held[i][1]);
				(*n)++;
			}
	pthread_mutex_unlock(&fake.lock);
	return *out ? 0 : GH_ERROR;
}

/* a target the instance refuses, as ldap's group_base or postgres's roles */
static FX_UNUSED int fake_target(const json_t *settings, const char *target)
{
	(void)settings;
	if (strcmp(target, "forbidden") == 0)
		return gh_error_set(GH_EINVALID, "fake: the target forbidden is not one this "
				    "instance may act on");
	return 0;
}

static const gh_connector_kind fake_kind = {"fake", fake_fields, fake_check, fake_apply,
					    fake_list, fake_fields, fake_target};
/* the same without list(): it cannot read access back */
static const gh_connector_kind blind_kind FX_UNUSED = {"blind", fake_fields, fake_check,
						       fake_apply, NULL, fake_fields, NULL};

/* The server configuration of the fake world: instances "fake" and "blind"
 * of the kinds above (what a configuration file would declare). */
static gh_config fake_config;

static FX_UNUSED const gh_config *fake_config_get(void)
{
	if (!fake_config.ninstances) {
		gh_config_add_instance(&fake_config, "fake", "fake", NULL);
		gh_config_add_instance(&fake_config, "blind", "blind", NULL);
	}
	return &fake_config;
}

static FX_UNUSED void fake_reset(void)
{
	pthread_mutex_lock(&fake.lock);
	fake.fail = fake.invalid = fake.fail_list = 0;
	fake.calls = fake.grants = fake.revokes = 0;
	fake.nheld = 0;
	pthread_mutex_unlock(&fake.lock);
}

/* The fixture's world with billing-db (sys_db) on the fake connector and
 * targets on its entitlements. */
static FX_UNUSED gh_gov *fake_world(const char *name)
{
	gh_gov_options opts = {0};
	gh_gov *g;

	fake_reset();
	gh_connector_register_test(&fake_kind);
	opts.config = fake_config_get();
	if (!(g = fx_world_opts(name, &opts)))
		return NULL;
	if (fx_exec(g, "UPDATE systems SET connector = 'fake' WHERE id = 'sys_db';"
		       "UPDATE entitlements SET attributes = '{\"target\":\"' || name || '\"}'"
		       " WHERE system_id = 'sys_db';")) {
		gh_gov_free(g);
		return NULL;
	}
	return g;
}

/* alice asks for read-only (low risk: granted without approval). */
#define FAKE_REQ(subject, ent)                                                               \
	"{\"channel\":\"portal\",\"subject\":\"" subject "\",\"entitlement\":\"" ent "\","     \
	"\"justification\":\"work\",\"duration\":\"1h\"}"

/* The grant id of request id (caller frees), or NULL. */
static FX_UNUSED char *fake_grant_of(gh_gov *g, const gh_actor *actor, const char *req)
{
	json_t *r = NULL;
	char *id = NULL;

	if (gh_gov_request_get(&r, g, actor, req) == 0 &&
	    json_string_value(json_object_get(r, "grant")))
		id = strdup(json_string_value(json_object_get(r, "grant")));
	json_decref(r);
	return id;
}

static FX_UNUSED char *fx_text(gh_gov *g, const char *fmt, ...)
{
	char *v = NULL, *sql, *pg;
	va_list ap;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);   /* a formatter: %q and %Q quote for both */
	va_end(ap);
	pg = sql ? sf_pg_dialect(sql) : NULL;
	if (pg)
		v = sf_text(gh_gov_store(g), sf_on_postgres() ? pg : sql, NULL, NULL);
	free(pg);
	sqlite3_free(sql);
	return v ? v : strdup("");
}

#endif
