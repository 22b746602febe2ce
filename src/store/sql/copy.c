/* copy.c - copying an installation between stores (store/copy.h): the list
 * of tables in foreign-key order with their columns, and the statements
 * that read, write, count and clear them on either backend. */
#include "store/copy.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>
#include <string.h>

#define MAX_COLUMNS 32
#define SQL_MAX 2048

/* One table: its columns as the schema (store/migrations.c) orders them,
 * each one's kind ('i' integer, 't' text, 'b' blob), the order rows are
 * read in and whether the first column is a key the database generates. */
typedef struct copy_table {
	const char *name;
	const char *columns;     /* "a, b, c" */
	const char *kinds;       /* one letter a column */
	const char *order;       /* ORDER BY */
	int generated;           /* the first column is an identity on PostgreSQL */
} copy_table;

/* A table comes after every table its foreign keys name. An NHI's owner is
 * a human without an owner (gov checks it), so identities without an owner
 * come first. */
static const copy_table tables[] = {
	{"identities", "pk, id, kind, name, display_name, email, status, owner_id, purpose,"
	 " environment, expires_at, roles, attributes, created_at, updated_at, status_reason,"
	 " orphaned_at", "itttttttttittiiti", "CASE WHEN owner_id IS NULL THEN 0 ELSE 1 END, pk", 1},
	{"groups", "pk, id, name, description, created_at, updated_at", "itttii", "pk", 1},
	/* pos keeps the order members were added in (sql/groups.c) */
	{"group_members", "group_id, member_type, member_id, added_at, pos", "tttii",
	 "pos, group_id, member_type, member_id", 0},
	{"systems", "pk, id, name, description, owner_id, connector, created_at, updated_at,"
	 " connector_settings", "itttttiit", "pk", 1},
	{"entitlements", "pk, id, system_id, name, description, risk_tier, data_sensitivity,"
	 " environment, control_owner_group_id, max_duration, requestable, attributes,"
	 " created_at, updated_at, tags, controls_changed_by", "ittttttttiitiitt", "pk", 1},
	{"entitlement_conflicts", "a, b", "tt", "a, b", 0},
	{"requests", "pk, id, state, ticket_ref, channel, submitted_by, requester_id, subject_id,"
	 " entitlement_id, justification, duration, emergency, decision, required_approvals,"
	 " sla_due_at, grant_id, close_reason, created_at, updated_at, closed_at,"
	 " extends_grant_id, break_glass, incident_ref", "itttttttttiitiittiiitit", "pk", 1},
	{"approvals", "pk, id, request_id, approver_id, decision, comment, step, checks,"
	 " created_at, policy", "itttttitit", "pk", 1},
	{"grants", "pk, id, subject_id, entitlement_id, request_id, status, granted_at,"
	 " expires_at, revoked_at, revoked_by, revoke_reason, provisioning_status, receipt,"
	 " break_glass, review_due_at, review_state, reviewed_by, reviewed_at, review_comment",
	 "itttttiiittttiittit", "pk", 1},
	{"tokens", "pk, id, identity_id, name, secret_hash, created_at, expires_at, revoked_at,"
	 " last_used_at, rotated_to", "itttbiiiit", "pk", 1},
	{"audit_events", "seq, ts, actor, action, object_type, object_id, details, prev_hash,"
	 " hash, leaf_hash", "iitttttbbb", "seq", 1},
	{"audit_head", "one, seq, hash", "iib", "one", 0},
	{"settings", "key, value", "tt", "key", 0},
	{"policy_versions", "pk, id, version, text, sha256, state, proposed_by, proposed_at,"
	 " comment, validation, activated_by, activated_at", "itittttittti", "pk", 1},
	{"delegations", "pk, id, from_group_id, to_group_id, scope_type, scope, reason,"
	 " expires_at, created_by, created_at, revoked_at, revoked_by, revoke_reason",
	 "ittttttitiitt", "pk", 1},
	{"outbox", "pk, id, grant_id, system_id, op, account, target, state, attempts, next_at,"
	 " lease_until, last_error, receipt, created_at, updated_at, done_at, leased_by",
	 "itttttttiiittiiit", "pk", 1},
	{"findings", "pk, id, run_id, system_id, kind, account, target, grant_id, status, job_id,"
	 " created_at, updated_at", "itttttttttii", "pk", 1},
	{"credentials", "pk, id, grant_id, identity_id, entitlement_id, secret_hash, created_by,"
	 " created_at, expires_at, valid_until, rotated_from, rotated_to, revoked_at,"
	 " revoked_by, revoke_reason, last_used_at", "ittttbtiiittitti", "pk", 1},
	{"merkle_nodes", "level, idx, hash", "iib", "level, idx", 0},
	{"checkpoints", "pk, size, root, note, created_at", "iibti", "pk", 1},
	{"changes", "pk, id, object_type, object_id, operation, payload, weakens,"
	 " base_updated_at, state, proposed_by, proposed_at, comment, decided_by, decided_at,"
	 " decision_comment", "ittttttittittit", "pk", 1},
	/* several nodes (sql/cluster.c) */
	{"leases", "name, holder, until_ms, updated_at", "ttii", "name", 0},
	{"generations", "name, value", "ti", "name", 0},
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

size_t gh_store_copy_tables(void)
{
	return NTABLES;
}

const char *gh_store_copy_table(size_t i)
{
	return i < NTABLES ? tables[i].name : NULL;
}

/* 0 when snprintf's n fit a statement buffer. */
static int sql_text(const char *table, int n)
{
	if (n < 0 || n >= SQL_MAX)
		return gh_error_set(GH_ERROR, "%s: statement too long", table);
	return 0;
}

/* The error rc again, its message prefixed by what and the table's name. */
static int prefix(int rc, const char *what, const char *table)
{
	char message[512];

	snprintf(message, sizeof(message), "%s", gh_error_last()->message);
	return gh_error_set(rc, "%s %s: %s", what, table, message);
}

int gh_store_copy_count(int64_t *out, gh_store *s, size_t i)
{
	char sql[SQL_MAX];
	gh_sql *q = NULL;
	int rc;

	*out = 0;
	if (i >= NTABLES)
		return gh_error_set(GH_EINVALID, "no table %zu to count", i);
	if ((rc = sql_text(tables[i].name,
			   snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i].name))) ||
	    (rc = gh_sql_prepare_once(&q, s, sql)))
		return rc;
	if (gh_sql_step(q) == GH_SQL_ROW)
		*out = gh_sql_column_int64(q, 0);
	else
		rc = gh_sql_fail(q, "counting rows");
	gh_sql_finalize(q);
	return rc ? prefix(rc, "counting the rows of", tables[i].name) : 0;
}

/* "INSERT INTO t (cols) VALUES (?1, ..., ?n)" for table t of n columns. */
static int insert_text(char *sql, const copy_table *t, size_t n)
{
	int len = snprintf(sql, SQL_MAX, "INSERT INTO %s (%s) VALUES (", t->name, t->columns);

	for (size_t c = 0; c < n && len > 0 && len < SQL_MAX; c++)
		len += snprintf(sql + len, SQL_MAX - (size_t)len, "%s?%zu", c ? ", " : "", c + 1);
	if (len > 0 && len < SQL_MAX)
		len += snprintf(sql + len, SQL_MAX - (size_t)len, ")");
	return sql_text(t->name, len);
}

int gh_store_copy_rows(int64_t *copied, gh_store *from, gh_store *to, size_t i)
{
	char select[SQL_MAX], insert[SQL_MAX];
	const copy_table *t;
	const char *order;
	gh_sql *r = NULL, *w = NULL;
	size_t n;
	int rc, st;

	*copied = 0;
	if (i >= NTABLES)
		return gh_error_set(GH_EINVALID, "no table %zu to copy", i);
	t = &tables[i];
	n = strlen(t->kinds);
	order = t->order;
	if ((rc = sql_text(t->name, snprintf(select, sizeof(select),
			   "SELECT %s FROM %s ORDER BY %s", t->columns, t->name, order))) ||
	    (rc = insert_text(insert, t, n)) ||
	    (rc = gh_sql_prepare_once(&r, from, select)) ||
	    (rc = gh_sql_prepare_once(&w, to, insert)))
		goto cleanup;
	while ((st = gh_sql_step(r)) == GH_SQL_ROW) {
		for (size_t c = 0; c < n; c++) {
			int col = (int)c, param = (int)c + 1;

			if (gh_sql_column_null(r, col)) {
				gh_sql_bind_null(w, param);
			} else if (t->kinds[c] == 'i') {
				gh_sql_bind_int64(w, param, gh_sql_column_int64(r, col));
			} else if (t->kinds[c] == 'b') {
				size_t len = 0;
				const void *p = gh_sql_column_blob(r, col, &len);

				gh_sql_bind_blob(w, param, p ? p : "", len);
			} else {
				gh_sql_bind_text(w, param, gh_sql_column_text(r, col));
			}
		}
		if (gh_sql_step(w) != GH_SQL_DONE) {
			rc = gh_sql_fail(w, "writing a row");
			goto cleanup;
		}
		gh_sql_reset(w);
		(*copied)++;
	}
	if (st != GH_SQL_DONE)
		rc = gh_sql_fail(r, "reading a row");
cleanup:
	if (rc)
		rc = prefix(rc, "copying", t->name);
	gh_sql_finalize(r);
	gh_sql_finalize(w);
	return rc;
}

int gh_store_copy_keys(gh_store *to)
{
	char sql[SQL_MAX];
	const char *key;
	gh_sql *q = NULL;
	int rc = 0, st;

	if (strcmp(gh_store_backend_name(to), "postgresql") != 0)
		return 0;
	for (size_t i = 0; i < NTABLES && !rc; i++) {
		if (!tables[i].generated)
			continue;
		key = strcmp(tables[i].name, "audit_events") == 0 ? "seq" : "pk";
		/* dialect: PostgreSQL's identity sequences (SQLite has none); the next
		 * key is the largest copied one plus one (1 on an empty table) */
		if ((rc = sql_text(tables[i].name, snprintf(sql, sizeof(sql),
				   "SELECT setval(pg_get_serial_sequence('%s', '%s'),"
				   " coalesce(max(%s), 0) + 1, false) FROM %s",
				   tables[i].name, key, key, tables[i].name))) ||
		    (rc = gh_sql_prepare_once(&q, to, sql)))
			break;
		while ((st = gh_sql_step(q)) == GH_SQL_ROW)
			;
		if (st != GH_SQL_DONE)
			rc = prefix(gh_sql_fail(q, "setval"), "moving on the keys of",
				    tables[i].name);
		gh_sql_finalize(q);
		q = NULL;
	}
	return rc;
}

int gh_store_copy_clear(gh_store *s)
{
	char sql[SQL_MAX];
	gh_sql *q = NULL;
	int rc = 0;

	for (size_t i = NTABLES; i-- > 0 && !rc;) {
		if ((rc = sql_text(tables[i].name, snprintf(sql, sizeof(sql), "DELETE FROM %s",
							       tables[i].name))) ||
		    (rc = gh_sql_prepare_once(&q, s, sql)))
			break;
		if (gh_sql_step(q) != GH_SQL_DONE)
			rc = prefix(gh_sql_fail(q, "deleting"), "clearing", tables[i].name);
		gh_sql_finalize(q);
		q = NULL;
	}
	return rc;
}
