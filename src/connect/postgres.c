/* postgres.c - the postgres connector: GRANT and REVOKE a role to a login role
 * on a PostgreSQL server through libpq, and read memberships back. */
#include "connect/connect.h"
#include "common/error.h"

#include <fnmatch.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_DEFAULT 5
#define TIMEOUT_MAX 300
#define NAME_MAX_BYTES 63      /* NAMEDATALEN - 1: longer names are truncated by the server */
#define POOL_MAX 16            /* idle connections kept, all servers together */

static const char *const fields[] = {"conninfo", "password_ref", "account_attribute",
				     "connect_timeout", "roles", NULL};
static const char *const system_fields[] = {"account_attribute", NULL};

/* An open connection and what it is for; idle ones wait in the pool. */
typedef struct pgc {
	PGconn *conn;
	char *key;               /* timeout, password ref, conninfo: which server and user */
	int notices;             /* notices since the last statement began */
	char notice[160];        /* the last of them, for the receipt */
	struct pgc *next;
} pgc;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pgc *pool;
static int pool_n;

static void pgc_free(pgc *c)
{
	if (!c)
		return;
	PQfinish(c->conn);
	free(c->key);
	free(c);
}

/* Idle connections are closed at exit so that servers see a clean goodbye. */
__attribute__((destructor)) static void pool_close_all(void)
{
	pthread_mutex_lock(&pool_lock);
	while (pool) {
		pgc *c = pool;
		pool = c->next;
		pgc_free(c);
	}
	pool_n = 0;
	pthread_mutex_unlock(&pool_lock);
}

/* Takes an idle connection for key out of the pool, or NULL. */
static pgc *pool_take(const char *key)
{
	pgc **p, *c = NULL;

	pthread_mutex_lock(&pool_lock);
	for (p = &pool; *p; p = &(*p)->next) {
		if (strcmp((*p)->key, key) == 0) {
			c = *p;
			*p = c->next;
			c->next = NULL;
			pool_n--;
			break;
		}
	}
	pthread_mutex_unlock(&pool_lock);
	return c;
}

/* Gives a healthy connection back; closes it when the pool is full. */
static void pool_give(pgc *c)
{
	if (!c)
		return;
	if (PQstatus(c->conn) != CONNECTION_OK ||
	    PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
		pgc_free(c);
		return;
	}
	pthread_mutex_lock(&pool_lock);
	if (pool_n < POOL_MAX) {
		c->next = pool;
		pool = c;
		pool_n++;
		c = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	pgc_free(c);
}

/* Closes every idle connection for key: when one is found broken (the server
 * restarted), the others are too. */
static void pool_drop(const char *key)
{
	pgc *c;

	while ((c = pool_take(key)))
		pgc_free(c);
}

static void on_notice(void *arg, const PGresult *res)
{
	pgc *c = arg;
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	c->notices++;
	snprintf(c->notice, sizeof(c->notice), "%s", msg ? msg : "");
}

/* ---- settings ---- */

typedef struct pgset {
	const char *conninfo;
	const char *password_ref;   /* NULL when none */
	long timeout;               /* seconds */
} pgset;

static int timeout_of(const json_t *v, long *out)
{
	if (!v) {
		*out = TIMEOUT_DEFAULT;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > TIMEOUT_MAX)
		return -1;
	*out = (long)json_integer_value(v);
	return 0;
}

static int check(const json_t *settings)
{
	const json_t *ci = settings ? json_object_get(settings, "conninfo") : NULL;
	const json_t *ref = settings ? json_object_get(settings, "password_ref") : NULL;
	const json_t *attr = settings ? json_object_get(settings, "account_attribute") : NULL;
	PQconninfoOption *opts = NULL, *o;
	char *err = NULL;
	long t;

	if (!settings)
		gh_error_field("connector_settings", "the postgres connector needs settings with "
			       "\"conninfo\"");
	else if (!json_is_string(ci) || !json_string_length(ci))
		gh_error_field("connector_settings.conninfo", "required: libpq keywords such as "
			       "\"host=127.0.0.1 port=5432 dbname=postgres user=gatehouse\"");
	else if (!(opts = PQconninfoParse(json_string_value(ci), &err)))
		/* libpq's message names the bad keyword or syntax, never a value */
		gh_error_field("connector_settings.conninfo", "not a valid connection string: %.*s",
			       (int)strcspn(err ? err : "out of memory", "\n"),
			       err ? err : "out of memory");
	for (o = opts; o && o->keyword; o++)
		if (o->val && o->val[0] && strcmp(o->keyword, "password") == 0)
			gh_error_field("connector_settings.conninfo", "must not hold a password; "
				       "name it with \"password_ref\": \"env:NAME\" or "
				       "\"file:/path\"");
	if (ref && (!json_is_string(ref) ||
		    (strncmp(json_string_value(ref), "env:", 4) != 0 &&
		     strncmp(json_string_value(ref), "file:", 5) != 0) ||
		    json_string_length(ref) < 6))
		gh_error_field("connector_settings.password_ref", "must be \"env:NAME\" or "
			       "\"file:/path\"");
	if (attr && (!json_is_string(attr) || !json_string_length(attr)))
		gh_error_field("connector_settings.account_attribute", "must be a non-empty string");
	if (settings && json_object_get(settings, "roles")) {
		const json_t *roles = json_object_get(settings, "roles"), *g;
		size_t i;

		if (!json_is_array(roles))
			gh_error_field("connector_settings.roles", "must be a list of role globs");
		json_array_foreach(roles, i, g)
			if (!json_is_string(g) || !json_string_length(g)) {
				gh_error_field("connector_settings.roles", "must be a list of role globs");
				break;
			}
	}
	if (settings && timeout_of(json_object_get(settings, "connect_timeout"), &t))
		gh_error_field("connector_settings.connect_timeout", "must be a whole number of "
			       "seconds from 1 to %d", TIMEOUT_MAX);
	PQconninfoFree(opts);
	PQfreemem(err);
	return gh_error_fields_finish();
}

static int settings_of(const json_t *settings, pgset *s)
{
	const json_t *ci = settings ? json_object_get(settings, "conninfo") : NULL;
	const json_t *ref = settings ? json_object_get(settings, "password_ref") : NULL;

	if (!json_is_string(ci) ||
	    timeout_of(json_object_get(settings, "connect_timeout"), &s->timeout))
		return gh_error_set(GH_EINVALID, "the postgres connector settings are not valid");
	s->conninfo = json_string_value(ci);
	s->password_ref = json_is_string(ref) ? json_string_value(ref) : NULL;
	return 0;
}

/* ---- connections ---- */

/* Sets a GH_ERROR whose message is libpq's, with any trace of the password
 * removed (libpq does not echo it, but a server message might). */
static int pq_error(int code, const char *what, const char *msg, const char *password)
{
	char buf[400];
	char *p;

	snprintf(buf, sizeof(buf), "%s", msg ? msg : "");
	buf[strcspn(buf, "\n")] = '\0';
	if (password && password[0])
		while ((p = strstr(buf, password)))
			memset(p, '*', strlen(password));
	return gh_error_set(code, "postgres: %s: %s", what, buf[0] ? buf : "no answer");
}

static int pgc_open(pgc **out, const pgset *s, const char *key)
{
	const char *kw[5], *val[5];
	char timeout[16], *password = NULL;
	pgc *c = NULL;
	PGresult *r = NULL;
	int n = 0, rc = 0;

	*out = NULL;
	if (s->password_ref && (rc = gh_secret_resolve(&password, s->password_ref)) != 0) {
		char why[sizeof(gh_error_last()->message)];

		snprintf(why, sizeof(why), "%s", gh_error_last()->message);
		gh_error_set(rc == GH_ENOTFOUND ? GH_EINVALID : rc, "postgres: %s", why);
		rc = gh_error_last()->code;
		goto cleanup;
	}
	snprintf(timeout, sizeof(timeout), "%ld", s->timeout);
	/* The conninfo first: later keywords override what it says. */
	kw[n] = "dbname", val[n++] = s->conninfo;
	kw[n] = "connect_timeout", val[n++] = timeout;
	kw[n] = "fallback_application_name", val[n++] = "gatehouse";
	if (password)
		kw[n] = "password", val[n++] = password;
	kw[n] = NULL, val[n] = NULL;
	if (!(c = calloc(1, sizeof(*c))) || !(c->key = strdup(key))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	c->conn = PQconnectdbParams(kw, val, 1);
	if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
		rc = pq_error(GH_ERROR, "cannot connect", c->conn ? PQerrorMessage(c->conn) :
			      "out of memory", password);
		goto cleanup;
	}
	PQsetNoticeReceiver(c->conn, on_notice, c);
	/* A statement waiting on a lock must not hold a worker for ever. */
	r = PQexec(c->conn, "SET statement_timeout = '30s'");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = pq_error(GH_ERROR, "cannot set up the session", PQerrorMessage(c->conn),
			      password);
		goto cleanup;
	}
	*out = c;
	c = NULL;
cleanup:
	PQclear(r);
	pgc_free(c);
	gh_secret_free(password);
	return rc;
}

/* A connection for s: an idle one from the pool when there is one. */
static int pgc_get(pgc **out, const pgset *s, char *key, size_t keysz, int *reused)
{
	snprintf(key, keysz, "%ld\x1f%s\x1f%s", s->timeout,
		 s->password_ref ? s->password_ref : "", s->conninfo);
	if ((*out = pool_take(key))) {
		*reused = 1;
		return 0;
	}
	*reused = 0;
	return pgc_open(out, s, key);
}

/* Runs sql with params on a pooled connection; a pooled connection found
 * broken (the server restarted) is dropped and the statement tried once more
 * on a fresh one. On 0, *res is the result (any status: the caller reads it)
 * and *out the connection to give back. */
static int run(pgc **out, PGresult **res, const pgset *s, char *(*build)(pgc *, void *),
	       void *arg, int nparams, const char *const *params)
{
	char key[2048];
	int reused, rc, tries;
	char *sql;
	pgc *c = NULL;

	*out = NULL;
	*res = NULL;
	if (strlen(s->conninfo) + (s->password_ref ? strlen(s->password_ref) : 0) >
	    sizeof(key) - 32)
		return gh_error_set(GH_EINVALID, "postgres: the conninfo is too long");
	for (tries = 0; tries < 2; tries++) {
		if ((rc = pgc_get(&c, s, key, sizeof(key), &reused)) != 0)
			return rc;
		gh_error_clear();
		if (!(sql = build(c, arg))) {
			pool_give(c);
			return gh_error_last()->code ? gh_error_last()->code
						     : gh_error_set(GH_ERROR, "out of memory");
		}
		c->notices = 0;
		c->notice[0] = '\0';
		*res = PQexecParams(c->conn, sql, nparams, NULL, params, NULL, NULL, 0);
		free(sql);
		if (PQstatus(c->conn) == CONNECTION_OK || !reused || tries == 1)
			break;
		PQclear(*res);
		*res = NULL;
		pgc_free(c);
		c = NULL;
		pool_drop(key);
	}
	if (!*res) {
		rc = pq_error(GH_ERROR, "the statement failed", PQerrorMessage(c->conn), NULL);
		pgc_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- grant and revoke ---- */

typedef struct stmt {
	const char *op, *account, *target;
} stmt;

/* A name usable as a role: the server would silently cut a longer one and
 * act on another role. */
static int role_name_ok(const char *what, const char *name)
{
	if (!name || !name[0])
		return gh_error_set(GH_EINVALID, "postgres: the job has no %s role", what);
	if (strlen(name) > NAME_MAX_BYTES)
		return gh_error_set(GH_EINVALID, "postgres: the %s role \"%.64s...\" is longer than "
				    "%d bytes", what, name, NAME_MAX_BYTES);
	return 0;
}

/* GRANT "target" TO "account" / REVOKE "target" FROM "account", both names
 * quoted by libpq; malloc'd. */
static char *grant_sql(pgc *c, void *arg)
{
	const stmt *st = arg;
	char *t = PQescapeIdentifier(c->conn, st->target, strlen(st->target));
	char *a = PQescapeIdentifier(c->conn, st->account, strlen(st->account));
	char *sql = NULL;
	size_t n;

	if (!t || !a) {
		pq_error(GH_EINVALID, "cannot quote a role name", PQerrorMessage(c->conn), NULL);
		goto cleanup;
	}
	n = strlen(t) + strlen(a) + 32;
	if (!(sql = malloc(n))) {
		gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	if (strcmp(st->op, "grant") == 0)
		snprintf(sql, n, "GRANT %s TO %s", t, a);
	else
		snprintf(sql, n, "REVOKE %s FROM %s", t, a);
cleanup:
	PQfreemem(t);
	PQfreemem(a);
	return sql;
}

/* After "role does not exist": which of the two is missing (account first),
 * asked on the same connection. */
static const char *missing_role(pgc *c, const stmt *st)
{
	const char *params[2] = {st->account, st->target};
	const char *missing = st->account;
	PGresult *r;
	int i, account = 0, target = 0;

	r = PQexecParams(c->conn, "SELECT rolname FROM pg_roles WHERE rolname IN ($1, $2)", 2,
			 NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		for (i = 0; i < PQntuples(r); i++) {
			account |= strcmp(PQgetvalue(r, i, 0), st->account) == 0;
			target |= strcmp(PQgetvalue(r, i, 0), st->target) == 0;
		}
		missing = !account ? st->account : !target ? st->target : NULL;
	}
	PQclear(r);
	return missing;
}

static int apply(const json_t *settings, const gh_conn_job *job, json_t **receipt)
{
	stmt st = {job ? job->op : NULL, job ? job->account : NULL, job ? job->target : NULL};
	const char *state, *result, *missing;
	PGresult *r = NULL;
	pgset s;
	pgc *c = NULL;
	int rc, grant;

	*receipt = NULL;
	if (!st.op || (strcmp(st.op, "grant") != 0 && strcmp(st.op, "revoke") != 0))
		return gh_error_set(GH_EINVALID, "postgres: unknown operation \"%s\"",
				    st.op ? st.op : "");
	grant = strcmp(st.op, "grant") == 0;
	if ((rc = settings_of(settings, &s)) != 0 || (rc = role_name_ok("account", st.account)) ||
	    (rc = role_name_ok("target", st.target)))
		return rc;
	if ((rc = run(&c, &r, &s, grant_sql, &st, 0, NULL)) != 0)
		return rc;
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		/* the server says so with a notice when nothing changed */
		result = grant ? (c->notices ? "already_member" : "granted")
			       : (c->notices ? "not_member" : "revoked");
		goto done;
	}
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	state = state ? state : "";
	if (strcmp(state, "42704") == 0) {              /* undefined_object: a role is missing */
		if (!grant) {
			result = "no_such_role";        /* nothing there to take away */
			goto done;
		}
		if ((missing = missing_role(c, &st))) {
			rc = gh_error_set(GH_EINVALID, "postgres: role %s does not exist", missing);
			goto cleanup;
		}
	} else if (grant && strcmp(state, "23505") == 0) {  /* a concurrent grant won */
		result = "already_member";
		goto done;
	}
	/* Permission and definition problems will not mend by retrying a grant;
	 * a revoke is retried whatever happens until the server confirms it. */
	rc = pq_error(grant && strncmp(state, "42", 2) == 0 ? GH_EINVALID : GH_ERROR,
		      grant ? "GRANT failed" : "REVOKE failed", PQresultErrorMessage(r), NULL);
	goto cleanup;
done:
	*receipt = json_pack("{s:s, s:s, s:s, s:s}", "result", result, "server",
			     PQhost(c->conn) ? PQhost(c->conn) : "", "port",
			     PQport(c->conn) ? PQport(c->conn) : "", "statement",
			     grant ? "GRANT" : "REVOKE");
	if (c->notices && *receipt)
		json_object_set_new(*receipt, "notice", json_string(c->notice));
cleanup:
	PQclear(r);
	pool_give(c);
	return rc;
}

/* ---- list ---- */

static char *list_sql(pgc *c, void *arg)
{
	(void)c;
	(void)arg;
	return strdup("SELECT m.rolname, r.rolname FROM pg_auth_members am "
		      "JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member "
		      "WHERE r.rolname IN (SELECT json_array_elements_text($1::json)) "
		      "ORDER BY 2, 1");
}

static int list(const json_t *settings, const char *const *targets, size_t ntargets,
		gh_conn_access **out, size_t *n)
{
	json_t *names = json_array();
	char *text = NULL;
	const char *params[1];
	gh_conn_access *a = NULL;
	PGresult *r = NULL;
	pgc *c = NULL;
	pgset s;
	size_t i, rows = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = settings_of(settings, &s)) != 0)
		goto cleanup;
	if (ntargets == 0)
		goto cleanup;
	for (i = 0; names && i < ntargets; i++)
		if (json_array_append_new(names, json_string(targets[i] ? targets[i] : "")))
			break;
	if (!names || i < ntargets || !(text = json_dumps(names, JSON_COMPACT))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	params[0] = text;
	if ((rc = run(&c, &r, &s, list_sql, NULL, 1, params)) != 0)
		goto cleanup;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = pq_error(GH_ERROR, "reading memberships failed", PQresultErrorMessage(r), NULL);
		goto cleanup;
	}
	rows = (size_t)PQntuples(r);
	if (rows && !(a = calloc(rows, sizeof(*a)))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < rows; i++) {
		if (!(a[i].account = strdup(PQgetvalue(r, (int)i, 0))) ||
		    !(a[i].target = strdup(PQgetvalue(r, (int)i, 1)))) {
			gh_conn_access_free(a, rows);
			a = NULL;
			rc = gh_error_set(GH_ERROR, "out of memory");
			goto cleanup;
		}
	}
	*out = a;
	*n = rows;
cleanup:
	PQclear(r);
	pool_give(c);
	json_decref(names);
	free(text);
	return rc;
}

/* A role the instance's roles globs allow (any when it has none). */
static int target(const json_t *settings, const char *role)
{
	const json_t *roles = json_object_get(settings, "roles"), *g;
	size_t i;
	int rc;

	if ((rc = role_name_ok("target", role)))
		return rc;
	if (!json_is_array(roles))
		return 0;
	json_array_foreach(roles, i, g)
		if (json_is_string(g) && fnmatch(json_string_value(g), role, 0) == 0)
			return 0;
	return gh_error_set(GH_EINVALID, "postgres: the role \"%.64s\" is not one this "
			    "connector instance may grant (see roles: in the server "
			    "configuration)", role);
}

const gh_connector_kind gh_connector_postgres = {"postgres", fields, check, apply, list,
						 system_fields, target};
