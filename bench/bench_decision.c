/* bench_decision.c - the decision overhead inside the workflow: facts assembled
 * from a real SQLite file, then the installed decider, with 10,000 identities
 * in nested groups and 1,000 Cedar policies activated through four eyes. */
#include "common/error.h"
#include "common/util.h"
#include "gov/gov_internal.h"
#include "store/sqlite/sqlite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ORGS 5
#define DEPTS 25          /* 5 per org */
#define TEAMS 200         /* 8 per dept */
#define OWNER_GROUPS 40   /* control owners; each holds a few teams */
#define SYSTEMS 50
#define ENTS_PER_SYSTEM 10
#define ENTITLEMENTS (SYSTEMS * ENTS_PER_SYSTEM)
#define DAY 86400

static const char *const nhi_kinds[] = {"service_account", "api_key", "workload", "oauth_app",
					 "ai_agent"};
static const char *const envs[] = {"prod", "prod", "staging", "dev"};
static const char *const tiers[] = {"low", "medium", "high", "critical"};
static const char *const sens[] = {"public", "internal", "confidential", "restricted"};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Ids are creation-ordered like gh_id_new's; the bench's own are fixed so
 * that policies can name them. */
static void idn(char *out, size_t n, long i) { snprintf(out, n, "idn_%016lx", (unsigned long)i + 1); }
static void grp(char *out, size_t n, long i) { snprintf(out, n, "grp_%016lx", (unsigned long)i + 1); }
static void sys(char *out, size_t n, long i) { snprintf(out, n, "sys_%016lx", (unsigned long)i + 1); }
static void ent(char *out, size_t n, long i) { snprintf(out, n, "ent_%016lx", (unsigned long)i + 1); }

/* group index layout: orgs, depts, teams, owner groups */
#define G_ORG(i) (i)
#define G_DEPT(i) (ORGS + (i))
#define G_TEAM(i) (ORGS + DEPTS + (i))
#define G_OWNER(i) (ORGS + DEPTS + TEAMS + (i))
#define GROUPS (ORGS + DEPTS + TEAMS + OWNER_GROUPS)

static int step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "inserting %s: %s\n", what, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int member(sqlite3 *db, sqlite3_stmt *st, long group, const char *type, const char *id)
{
	char g[32];

	grp(g, sizeof(g), group);
	sqlite3_bind_text(st, 1, g, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
	return step(db, st, "a membership");
}

/* The estate: `humans` people and `n - humans` NHIs, each in a team (teams in
 * departments in organisations; every 7th also directly in an owner group,
 * owner groups holding a few teams), SYSTEMS systems of ENTS_PER_SYSTEM
 * entitlements each, and the two IAM people who propose and activate. */
static int populate(gh_gov *g, long n, long humans)
{
	gh_store *s = gh_gov_store(g);
	sqlite3 *db = gh_store_db(s);
	sqlite3_stmt *ins_idn = NULL, *ins_grp = NULL, *ins_mem = NULL, *ins_sys = NULL,
		     *ins_ent = NULL;
	char id[32], other[32], name[64];
	int64_t now = gh_now();
	int rc = -1;

	if (gh_store_begin(s))
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO identities(id, kind, name, owner_id, purpose,"
				   " environment, expires_at, roles, created_at, updated_at) VALUES"
				   " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)", -1, &ins_idn, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO groups(id, name, created_at, updated_at)"
				   " VALUES (?1, ?2, ?3, ?3)", -1, &ins_grp, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO group_members(group_id, member_type, member_id,"
				   " added_at) VALUES (?1, ?2, ?3, 0)", -1, &ins_mem, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO systems(id, name, owner_id, created_at, updated_at)"
				   " VALUES (?1, ?2, ?3, ?4, ?4)", -1, &ins_sys, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO entitlements(id, system_id, name, risk_tier,"
				   " data_sensitivity, environment, control_owner_group_id,"
				   " max_duration, created_at, updated_at)"
				   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)", -1, &ins_ent,
				   NULL)) {
		fprintf(stderr, "preparing: %s\n", sqlite3_errmsg(db));
		goto fail;
	}
	for (long i = 0; i < n + 2; i++) {
		int human = i < humans || i >= n;  /* the last two are the IAM people */

		idn(id, sizeof(id), i);
		if (i >= n)
			snprintf(name, sizeof(name), "bench-iam-%ld", i - n + 1);
		else
			snprintf(name, sizeof(name), "%s-%ld", human ? "person" : "nhi", i);
		sqlite3_bind_text(ins_idn, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins_idn, 2, human ? "human" : nhi_kinds[i % 5], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_idn, 3, name, -1, SQLITE_TRANSIENT);
		if (human) {
			for (int k = 4; k <= 7; k++)
				sqlite3_bind_null(ins_idn, k);
		} else {
			idn(other, sizeof(other), i % humans);
			sqlite3_bind_text(ins_idn, 4, other, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ins_idn, 5, "bench workload", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_idn, 6, envs[i % 4], -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins_idn, 7, now + 365 * DAY);
		}
		sqlite3_bind_text(ins_idn, 8, i >= n ? "[\"iam\"]" : human ?
				  "[\"requester\",\"approver\"]" : "[\"requester\"]", -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(ins_idn, 9, now);
		if (step(db, ins_idn, "an identity"))
			goto fail;
	}
	for (long i = 0; i < GROUPS; i++) {
		grp(id, sizeof(id), i);
		snprintf(name, sizeof(name), "%s-%ld", i < G_DEPT(0) ? "org" : i < G_TEAM(0) ? "dept"
			 : i < G_OWNER(0) ? "team" : "owners", i);
		sqlite3_bind_text(ins_grp, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins_grp, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins_grp, 3, now);
		if (step(db, ins_grp, "a group"))
			goto fail;
	}
	for (long i = 0; i < DEPTS; i++) {
		grp(other, sizeof(other), G_DEPT(i));
		if (member(db, ins_mem, G_ORG(i % ORGS), "group", other))
			goto fail;
	}
	for (long i = 0; i < TEAMS; i++) {
		grp(other, sizeof(other), G_TEAM(i));
		if (member(db, ins_mem, G_DEPT(i % DEPTS), "group", other) ||
		    (i % 5 == 0 && member(db, ins_mem, G_OWNER(i / 5 % OWNER_GROUPS), "group", other)))
			goto fail;
	}
	for (long i = 0; i < n; i++) {
		idn(id, sizeof(id), i);
		if (member(db, ins_mem, G_TEAM(rnd(TEAMS)), "identity", id) ||
		    (i % 7 == 0 && member(db, ins_mem, G_OWNER(rnd(OWNER_GROUPS)), "identity", id)))
			goto fail;
	}
	for (long i = 0; i < SYSTEMS; i++) {
		sys(id, sizeof(id), i);
		snprintf(name, sizeof(name), "system-%ld", i);
		idn(other, sizeof(other), i % humans);
		sqlite3_bind_text(ins_sys, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins_sys, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins_sys, 3, other, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins_sys, 4, now);
		if (step(db, ins_sys, "a system"))
			goto fail;
	}
	for (long i = 0; i < ENTITLEMENTS; i++) {
		static const int64_t maxes[] = {3600, 8 * 3600, 7 * DAY, 30 * DAY};

		ent(id, sizeof(id), i);
		sys(other, sizeof(other), i / ENTS_PER_SYSTEM);
		snprintf(name, sizeof(name), "entitlement-%ld", i % ENTS_PER_SYSTEM);
		sqlite3_bind_text(ins_ent, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins_ent, 2, other, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins_ent, 3, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins_ent, 4, tiers[i % 4], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_ent, 5, sens[(i / 4) % 4], -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_ent, 6, envs[(i / 3) % 4], -1, SQLITE_STATIC);
		grp(other, sizeof(other), G_OWNER(i / ENTS_PER_SYSTEM % OWNER_GROUPS));
		sqlite3_bind_text(ins_ent, 7, other, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins_ent, 8, maxes[(i / 2) % 4]);
		sqlite3_bind_int64(ins_ent, 9, now);
		if (step(db, ins_ent, "an entitlement"))
			goto fail;
	}
	rc = gh_store_commit(s) ? -1 : 0;
	goto done;
fail:
	gh_store_rollback(s);
done:
	sqlite3_finalize(ins_idn);
	sqlite3_finalize(ins_grp);
	sqlite3_finalize(ins_mem);
	sqlite3_finalize(ins_sys);
	sqlite3_finalize(ins_ent);
	return rc;
}

/* A growable string for the policy text. */
typedef struct text {
	char *p;
	size_t n, cap;
} text;

static int addf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int addf(text *t, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		va_start(ap, fmt);
		k = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0)
			return -1;
		if (t->p && t->n + (size_t)k < t->cap) {
			t->n += (size_t)k;
			return 0;
		}
		size_t cap = t->cap ? t->cap * 2 : 65536;
		while (cap < t->n + (size_t)k + 1)
			cap *= 2;
		char *p = realloc(t->p, cap);
		if (!p)
			return -1;
		t->p = p;
		t->cap = cap;
	}
}

/* 1,000 policies, the mix an IAM team would write:
 *  500 request permits per entitlement for a team, with obligations
 *  200 request permits per system for a department (unless critical)
 *  100 request permits per organisation on conditions (staging, short, ticketed)
 *  100 forbids on environment and kind (dev NHIs off prod, AI agents off
 *      restricted data, unticketed service-desk requests)
 *   60 auto_approve permits (low risk, short, per organisation and system)
 *   40 approve permits (control owners, bounded approvals) */
static int policies(text *t)
{
	static const char *const durs[] = {"1h", "4h", "8h", "2d"};
	char a[32], b[32];
	int rc = 0;

	for (int i = 0; i < 500 && !rc; i++) {
		grp(a, sizeof(a), G_TEAM(rnd(TEAMS)));
		ent(b, sizeof(b), i);
		rc = addf(t, "@approvals(\"%d\")\n@max_duration(\"%s\")\n@reason(\"team %d works on"
			  " entitlement %d\")\npermit (principal in Group::\"%s\", action =="
			  " Action::\"request\", resource == Entitlement::\"%s\");\n",
			  1 + i % 3, durs[i % 4], i % TEAMS, i, a, b);
	}
	for (int i = 0; i < 200 && !rc; i++) {
		grp(a, sizeof(a), G_DEPT(i % DEPTS));
		sys(b, sizeof(b), (i * 7) % SYSTEMS);
		rc = addf(t, "@approvals(\"%d\")\npermit (principal in Group::\"%s\", action =="
			  " Action::\"request\", resource in System::\"%s\")\nwhen {"
			  " resource.risk_tier != \"critical\" && context.duration_seconds <= %d };\n",
			  1 + i % 2, a, b, (1 + i % 7) * DAY);
	}
	for (int i = 0; i < 100 && !rc; i++) {
		grp(a, sizeof(a), G_ORG(i % ORGS));
		switch (i % 4) {
		case 0:
			rc = addf(t, "permit (principal in Group::\"%s\", action == Action::\"request\","
				  " resource)\nwhen { resource.environment == \"staging\" &&"
				  " context.duration_seconds <= %d };\n", a, (1 + i % 5) * DAY);
			break;
		case 1:
			rc = addf(t, "@approvals(\"2\")\npermit (principal in Group::\"%s\", action =="
				  " Action::\"request\", resource)\nwhen { resource.risk_tier == \"%s\" &&"
				  " context has ticket_ref && principal.status == \"active\" };\n", a,
				  tiers[i % 3]);
			break;
		case 2:
			rc = addf(t, "@max_duration(\"8h\")\npermit (principal in Group::\"%s\", action =="
				  " Action::\"request\", resource)\nwhen { resource.data_sensitivity =="
				  " \"%s\" && principal.kind == \"%s\" };\n", a, sens[i % 3],
				  nhi_kinds[i % 5]);
			break;
		default:
			rc = addf(t, "permit (principal is Identity in Group::\"%s\", action =="
				  " Action::\"request\", resource)\nwhen { principal has environment &&"
				  " principal.environment == resource.environment && context.channel =="
				  " \"%s\" };\n", a, (i / 4) % 2 ? "portal" : "api");
		}
	}
	for (int i = 0; i < 100 && !rc; i++) {
		sys(b, sizeof(b), i % SYSTEMS);
		switch (i % 4) {
		case 0:
			rc = addf(t, "@reason(\"dev workloads stay out of production\")\nforbid"
				  " (principal, action == Action::\"request\", resource in"
				  " System::\"%s\")\nwhen { principal has environment &&"
				  " principal.environment == \"dev\" && resource.environment =="
				  " \"prod\" };\n", b);
			break;
		case 1:
			rc = addf(t, "forbid (principal, action, resource in System::\"%s\")\nwhen {"
				  " principal.kind == \"ai_agent\" && resource.data_sensitivity =="
				  " \"restricted\" };\n", b);
			break;
		case 2:
			rc = addf(t, "forbid (principal, action == Action::\"request\", resource in"
				  " System::\"%s\")\nwhen { context.channel == \"servicedesk\" }\nunless"
				  " { context has ticket_ref };\n", b);
			break;
		default:
			grp(a, sizeof(a), G_TEAM(rnd(TEAMS)));
			rc = addf(t, "forbid (principal in Group::\"%s\", action, resource in"
				  " System::\"%s\")\nwhen { resource.risk_tier == \"critical\" &&"
				  " context.duration_seconds > 3600 };\n", a, b);
		}
	}
	for (int i = 0; i < 60 && !rc; i++) {
		grp(a, sizeof(a), G_ORG(i % ORGS));
		sys(b, sizeof(b), (i * 3) % SYSTEMS);
		rc = addf(t, "permit (principal in Group::\"%s\", action == Action::\"auto_approve\","
			  " resource in System::\"%s\")\nwhen { resource.risk_tier == \"low\" &&"
			  " context.duration_seconds <= %d };\n", a, b, (1 + i % 8) * 3600);
	}
	for (int i = 0; i < 40 && !rc; i++) {
		grp(a, sizeof(a), G_OWNER(i));
		rc = addf(t, "permit (principal in Group::\"%s\", action == Action::\"approve\","
			  " resource is Request)\nwhen { resource.required_approvals <= %d &&"
			  " resource.duration_seconds <= %d };\n", a, 1 + i % 3, (1 + i % 7) * DAY);
	}
	return rc;
}

/* Proposes text as one IAM person and activates it as the other (four eyes). */
static int install(gh_gov *g, const char *policy_text, long n)
{
	gh_actor ivy = {.roles = 1u << 1}, ian = {.roles = 1u << 1};
	json_t *in = json_pack("{s:s, s:s}", "text", policy_text, "comment", "bench"), *out = NULL;
	const char *pid;
	int rc;

	idn(ivy.id, sizeof(ivy.id), n);
	idn(ian.id, sizeof(ian.id), n + 1);
	if (!in)
		return -1;
	rc = gh_gov_policy_propose(&out, g, &ivy, in);
	json_decref(in);
	if (rc) {
		fprintf(stderr, "propose: %s\n", gh_error_last()->message);
		return -1;
	}
	if (json_array_size(json_object_get(out, "validation"))) {
		char *v = json_dumps(json_object_get(out, "validation"), 0);
		fprintf(stderr, "the bench policies do not validate: %.2000s\n", v ? v : "?");
		free(v);
		json_decref(out);
		return -1;
	}
	pid = json_string_value(json_object_get(out, "id"));
	json_t *act = NULL;
	rc = gh_gov_policy_activate(&act, g, &ian, pid, NULL);
	json_decref(out);
	json_decref(act);
	if (rc) {
		fprintf(stderr, "activate: %s\n", gh_error_last()->message);
		return -1;
	}
	return 0;
}

/* One decision's inputs, drawn at random. */
typedef struct pair {
	long subject, ent, approver;
	int64_t duration;
	const char *channel;
	int ticket;
} pair;

static pair draw(long n)
{
	static const char *const channels[] = {"portal", "api", "servicedesk", "chat"};
	static const int64_t durs[] = {1800, 3600, 4 * 3600, 8 * 3600, DAY, 3 * DAY};
	pair p;

	p.subject = rnd((uint32_t)n);
	p.ent = rnd(ENTITLEMENTS);
	p.approver = rnd((uint32_t)(n / 3));
	p.duration = durs[rnd(6)];
	p.channel = channels[rnd(4)];
	p.ticket = strcmp(p.channel, "servicedesk") == 0 ? rnd(4) != 0 : rnd(4) == 0;
	return p;
}

/* The subject's and entitlement's facts (and the approver's when aid is not
 * NULL) from the database, inside one read section as request.c does. */
static int load_facts(json_t **subj, json_t **e, json_t **appr, gh_gov *g, const char *sid,
		      const char *eid, const char *aid)
{
	int rc;

	gh_store_read_begin(gh_gov_store(g));
	rc = gov_identity_facts(subj, g, sid);
	if (!rc)
		rc = gov_entitlement_facts(e, g, eid);
	if (!rc && aid)
		rc = gov_identity_facts(appr, g, aid);
	gh_store_read_end(gh_gov_store(g));
	return rc;
}

/* Facts as request.c builds them for submit, or (approve) those of the
 * "approve" question (gov_internal.h), with the approver's. */
static int assemble(json_t **facts, gh_gov *g, const pair *p, int approve)
{
	char sid[32], eid[32], aid[32];
	json_t *subj = NULL, *e = NULL, *appr = NULL;
	const char *owner, *by;
	int rc;

	idn(sid, sizeof(sid), p->subject);
	ent(eid, sizeof(eid), p->ent);
	idn(aid, sizeof(aid), p->approver);
	if ((rc = load_facts(&subj, &e, &appr, g, sid, eid, approve ? aid : NULL)))
		goto cleanup;
	owner = json_string_value(json_object_get(subj, "owner"));
	by = owner ? owner : sid;
	if (approve)
		*facts = json_pack("{s:O, s:O, s:O, s:{s:s, s:s, s:s, s:s, s:I, s:b, s:i, s:s}}",
				   "approver", appr, "subject", subj, "entitlement", e, "request",
				   "id", "req_00000000000000b1", "state", "pending_approval",
				   "requester", by, "submitted_by", by,
				   "duration_seconds", (json_int_t)p->duration, "emergency", 0,
				   "required_approvals", 1 + (int)(p->ent % 2), "channel", p->channel);
	else
		*facts = json_pack("{s:O, s:O, s:{s:I, s:b, s:s, s:s*, s:s, s:s}}", "subject", subj,
				   "entitlement", e, "request", "duration_seconds",
				   (json_int_t)p->duration, "emergency", 0, "channel", p->channel,
				   "ticket_ref", p->ticket ? "RITM-1000" : NULL, "requester", by,
				   "submitted_by", by);
	rc = *facts ? 0 : -1;
cleanup:
	json_decref(subj);
	json_decref(e);
	json_decref(appr);
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* "p50=.. p99=.. max=.." in microseconds; sorts v. */
static void pct(char *out, size_t n, const char *what, int64_t *v, long count)
{
	qsort(v, (size_t)count, sizeof(*v), cmp_i64);
	snprintf(out, n, "%s_p50_us=%.2f %s_p99_us=%.2f %s_max_us=%.2f", what,
		 (double)v[count / 2] / 1e3, what, (double)v[(count * 99) / 100] / 1e3, what,
		 (double)v[count - 1] / 1e3);
}

typedef enum { Q_DECIDE, Q_ASK_APPROVE } question;

/* Runs warm + count decisions of question q with decider d (NULL: the
 * installed one under decider_lock, as the workflow does) and prints one line. */
static int run(gh_gov *g, long n, const char *label, question q, const gh_decider *d, long warm,
	       long count)
{
	int64_t *asm_ns = calloc((size_t)count, sizeof(int64_t));
	int64_t *eval_ns = calloc((size_t)count, sizeof(int64_t));
	int64_t *tot_ns = calloc((size_t)count, sizeof(int64_t));
	long outcomes[4] = {0};  /* denied/deny, approval_required, auto_approved/allow, other */
	long determining = 0;
	char l1[128], l2[128], l3[128];
	double sum = 0;
	int rc = -1;

	if (!asm_ns || !eval_ns || !tot_ns)
		goto cleanup;
	for (long i = -warm; i < count; i++) {
		pair p = draw(n);
		gh_decision dec;
		json_t *facts = NULL;
		int64_t t0 = now_ns(), t1, t2, t3;
		int r;

		r = assemble(&facts, g, &p, q == Q_ASK_APPROVE);
		t1 = now_ns();
		if (r) {
			fprintf(stderr, "assembling facts: %s\n", gh_error_last()->message);
			goto cleanup;
		}
		memset(&dec, 0, sizeof(dec));
		if (q == Q_ASK_APPROVE) {
			r = gov_decider_ask(g, &dec, "approve", facts);
			r = r < 0 ? r : 0;
		} else if (d) {
			r = d->decide(d->ctx, &dec, facts);
		} else {
			pthread_rwlock_rdlock(&g->decider_lock);
			r = g->decider.decide(g->decider.ctx, &dec, facts);
			pthread_rwlock_unlock(&g->decider_lock);
		}
		t2 = now_ns();
		if (r) {
			fprintf(stderr, "deciding: %s\n", gh_error_last()->message);
			gh_decision_clear(&dec);
			json_decref(facts);
			goto cleanup;
		}
		if (i >= 0) {
			const char *o = dec.outcome;
			outcomes[strcmp(o, "denied") == 0 || strcmp(o, "deny") == 0 ? 0
				 : strcmp(o, "approval_required") == 0 ? 1
				 : strcmp(o, "auto_approved") == 0 || strcmp(o, "allow") == 0 ? 2 : 3]++;
			determining += (long)json_array_size(dec.reasons);
		}
		gh_decision_clear(&dec);
		json_decref(facts);
		t3 = now_ns();
		if (i >= 0) {
			asm_ns[i] = t1 - t0;
			eval_ns[i] = t2 - t1;
			tot_ns[i] = t3 - t0;
			sum += (double)(t3 - t0);
		}
	}
	pct(l1, sizeof(l1), "assembly", asm_ns, count);
	pct(l2, sizeof(l2), "eval", eval_ns, count);
	pct(l3, sizeof(l3), "total", tot_ns, count);
	printf("decision %s n=%ld %s %s %s decisions_per_s=%.0f outcomes=%s:%ld,%s:%ld,%s:%ld"
	       ",other:%ld reasons_per_decision=%.2f\n", label, count, l1, l2, l3,
	       (double)count / (sum / 1e9), q == Q_DECIDE ? "denied" : "deny", outcomes[0],
	       q == Q_DECIDE ? "approval_required" : "-", outcomes[1],
	       q == Q_DECIDE ? "auto_approved" : "allow", outcomes[2], outcomes[3],
	       (double)determining / (double)count);
	fflush(stdout);
	rc = 0;
cleanup:
	free(asm_ns);
	free(eval_ns);
	free(tot_ns);
	return rc;
}

int main(int argc, char **argv)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	const char *path = "bench-decision.db";
	long n = 10000, count = 20000, warm = 2000;
	text t = {0};
	gh_gov *g = NULL;
	double t0;
	int opt, rc = 1, npol = 0, force_ask = 0;

	while ((opt = getopt(argc, argv, "n:c:w:d:a")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'c': count = atol(optarg); break;
		case 'w': warm = atol(optarg); break;
		case 'd': path = optarg; break;
		case 'a': force_ask = 1; break;  /* approve even when the built-in answers it */
		default:
			fprintf(stderr, "usage: %s [-n identities] [-c decisions] [-w warm-up]"
				" [-d db] [-a]\n", argv[0]);
			return 2;
		}
	}
	if (n < 30 || count < 100 || warm < 0)
		return 2;
	if (gh_init())
		return 1;
	for (size_t k = 0; k < sizeof(suffixes) / sizeof(suffixes[0]); k++) {
		char p[1024];
		snprintf(p, sizeof(p), "%s%s", path, suffixes[k]);
		unlink(p);
	}
	t0 = now_s();
	if (gh_gov_open(&g, path, 1, NULL)) {
		fprintf(stderr, "open: %s\n", gh_error_last()->message);
		return 1;
	}
	if (populate(g, n, n * 3 / 10) || policies(&t))
		goto out;
	for (size_t i = 0; i + 7 < t.n; i++)
		npol += strncmp(t.p + i, "permit (", 8) == 0 || strncmp(t.p + i, "forbid (", 8) == 0;
	printf("decision_setup identities=%ld humans=%ld groups=%d (nested org>dept>team, owner"
	       " groups) systems=%d entitlements=%d seconds=%.2f\n", n, n * 3 / 10, GROUPS, SYSTEMS,
	       ENTITLEMENTS, now_s() - t0);
	t0 = now_s();
	if (install(g, t.p, n))
		goto out;
	printf("decision_policies policies=%d bytes=%zu propose_validate_activate_seconds=%.2f"
	       " decider=%s\n", npol, t.n, now_s() - t0, g->decider.name);
	if (strcmp(g->decider.name, "cedar") != 0) {
		fprintf(stderr, "the activated version did not install the Cedar decider\n");
		goto out;
	}
	/* the in-run peer: the built-in rule on the same facts, then Cedar */
	if (run(g, n, "decider=builtin", Q_DECIDE, &gh_builtin_decider, warm, count) ||
	    run(g, n, "decider=cedar", Q_DECIDE, NULL, warm, count))
		goto out;
	/* approve: measured when the Cedar decider answers it (issue #4, helper P);
	 * with ask NULL gov_decider_ask falls back to the built-in answer */
	if (g->decider.ask || force_ask) {
		if (run(g, n, g->decider.ask ? "decider=cedar question=approve"
			: "decider=builtin-ask question=approve", Q_ASK_APPROVE, NULL, warm, count))
			goto out;
	} else {
		printf("decision decider=cedar question=approve skipped: the Cedar decider has no"
		       " ask in this build\n");
	}
	rc = 0;
out:
	free(t.p);
	gh_gov_free(g);
	return rc;
}
