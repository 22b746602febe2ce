/* gov_internal.h - what the domain's files share and nobody else sees. */
#ifndef GH_GOV_INTERNAL_H
#define GH_GOV_INTERNAL_H

#include <pthread.h>

#include "audit/audit.h"
#include "common/error.h"
#include "common/jsonv.h"
#include "common/util.h"
#include "gov/gov.h"

#define GH_ID_LEN 64

struct gh_policy_set;          /* policy/policy.h */

/* What a decision said about a request (decide.c). The decider is an
 * interface so that the Cedar engine can replace the built-in rule without
 * touching the workflow. */
typedef struct gh_decision {
	char outcome[32];          /* "auto_approved", "approval_required" or "denied";
				    * for gov_decider_ask: "allow" or "deny" */
	int required_approvals;    /* distinct approvers needed when approval_required */
	int64_t max_duration;      /* seconds; grants never exceed it (0: no cap said) */
	int64_t review_within;     /* seconds a break-glass grant may wait for its review
				    * (smallest @review_within); 0 when no policy said */
	char source[64];           /* which decider, e.g. "builtin-catalog-rule" */
	char policy_version[64];   /* its version, recorded with the request */
	json_t *reasons;           /* array of strings: why; owned by the decision */
	json_t *determining;       /* NULL or [{"policy","action","effect":"permit"|"forbid",
				    *  "annotations":{...}}]: the determining policies */
	json_t *errors;            /* NULL or [{"policy","action","message"}]: policies
				    * that errored and were skipped */
	json_t *approver_groups;   /* NULL or [group id]: an approver must be a member
				    * of every one (@approver_group, resolved) */
	char controls_hold[300];   /* why an auto-approval became approval_required:
				    * who last changed the entitlement's controls
				    * (gov_controls_hold), "" when not */
} gh_decision;

/* facts: {"subject": identity facts, "entitlement": entitlement facts,
 *         "request": {duration_seconds, emergency, channel, ticket_ref?,
 *         requester, submitted_by}} (ids). Identity facts (gov_identity_facts)
 * carry "groups": the ids of every group it belongs to, directly or through
 * nested groups. */
typedef int (*gh_decide_fn)(void *ctx, gh_decision *out, const json_t *facts);

/* The other questions of DESIGN.md, answered "allow" or "deny" in
 * out->outcome with reasons/determining/errors (and, for break_glass, the
 * obligations max_duration and review_within). action and facts:
 *  "approve":     {"approver": identity facts, "subject": identity facts,
 *                  "entitlement": entitlement facts, "request": {"id","state",
 *                  "requester","submitted_by","duration_seconds","emergency",
 *                  "required_approvals","channel","ticket_ref"?}}
 *  "break_glass": {"requester": identity facts (the principal), "subject",
 *                  "entitlement", "request": {... as for decide, plus
 *                  "incident_ref"}}
 *  "delegate":    {"actor": identity facts, "group": {"id","name"} (the
 *                  delegating control-owner group), "delegation": {"to_group":
 *                  id, "scope_type": "system"|"tag", "scope": system id or tag,
 *                  "duration_seconds"}}
 * A decider with no ask (NULL) uses the built-in answers: approve and
 * delegate allow (the invariants decide), break_glass denies. */
typedef int (*gh_ask_fn)(void *ctx, gh_decision *out, const char *action, const json_t *facts);

typedef struct gh_decider {
	const char *name;
	gh_decide_fn decide;
	void *ctx;
	gh_ask_fn ask;             /* NULL: the built-in answers */
} gh_decider;

typedef struct gov_auth_cache gov_auth_cache;

#define GOV_NODE_ID_LEN 64

struct gh_gov {
	gh_store *store;
	gov_auth_cache *auth;      /* recently authenticated tokens (tokens.c) */
	struct gov_authlimit *authlimit; /* failed authentications by source (authlimit.c) */
	_Atomic uint64_t auth_gen; /* bumped by every change to tokens or identities */
	gh_gov_options opts;
	gh_decider decider;        /* the built-in rule, or Cedar over the active policy version */
	pthread_rwlock_t decider_lock;  /* decisions read it; activation swaps it */
	/* signed checkpoints (checkpoints.c): NULL while off */
	struct gh_signer *signer;
	struct gh_checkpointer *checkpointer;
	char origin[160];          /* the log's origin in checkpoints */
	/* scheduler thread (sched.c) */
	pthread_t sched_thread;
	pthread_mutex_t sched_lock;
	pthread_cond_t sched_cond;
	int sched_running;
	int sched_stop;
	int sched_max_sleep_ms;
	int sched_poked;         /* something became due sooner than planned */
	int64_t sched_wake;      /* gh_now() second of the planned wake-up */
	/* provisioning workers and scheduled reconciliation (outbox.c), NULL
	 * until started; stopped by gh_gov_sched_stop */
	struct gov_workers *workers;
	/* several nodes on one database (cluster.c) */
	char node_id[GOV_NODE_ID_LEN];   /* this process in leases and job claims */
	int64_t job_lease;       /* seconds a worker holds a job it runs */
	struct gov_cluster *cluster;     /* the follower thread; NULL until started */
};

/* --- several nodes on one database (cluster.c) ---------------------------- */
/* Sets the node id (host-pid-random) and the job lease at open. */
void gov_cluster_init(gh_gov *g);
/* Takes (renew 1: or keeps) lease name for ms milliseconds for this node:
 * 1 held, 0 another node holds it, <0 on error. Its own transaction. */
int gov_lease_take(gh_gov *g, const char *name, int64_t ms, int renew);
/* The checkpointer's hook: 1 when this node may sign on its own now (it
 * holds the signing lease with time to spare, or no follower runs). */
int gov_cluster_may_sign(void *ctx);
/* Called as the checkpoint signer starts: takes the signing lease at once. */
void gov_cluster_signer_started(gh_gov *g);

/* The built-in catalog rule (decide.c). */
extern const gh_decider gh_builtin_decider;
void gh_decision_clear(gh_decision *d);

/* Asks the installed decider (under decider_lock) action about facts; see
 * gh_ask_fn. 1 when allowed, 0 when denied, <0 (GH_E*) on error; out is
 * filled either way and must be cleared with gh_decision_clear. */
int gov_decider_ask(gh_gov *g, gh_decision *out, const char *action, const json_t *facts);
/* The decision as stored with a request: {"source","policy_version","outcome",
 * "required_approvals","reasons", and when present "determining","errors",
 * "approver_groups","review_within_seconds","max_duration_seconds" (only when
 * below catalog_max)}. */
json_t *gov_decision_json(const gh_decision *d, int64_t catalog_max);

/* A decider from Cedar policies (decide_cedar.c), asked "request" then
 * "auto_approve" over the schema gov_cedar_schema (docs/gatehouse.cedarschema).
 * Obligations ride on the determining "request" permits: @approvals("N")
 * (the largest wins), @max_duration("8h") (the smallest wins), @approver_group
 * and @review_within (recorded in reasons); @reason explains a policy.
 * version is recorded as the decision's policy_version. 0, or GH_EINVALID /
 * GH_ERROR with a message in err. Free with gov_cedar_decider_free. */
extern const char gov_cedar_schema[];
int gov_cedar_decider_new(gh_decider *out, const char *policy_text, size_t len,
			  const char *version, char *err, size_t errlen);
/* The same from a parsed set, which the decider takes over (also on failure). */
int gov_cedar_decider_from_set(gh_decider *out, struct gh_policy_set *ps, const char *version,
			       char *err, size_t errlen);

/* Entity references of policy text (policy_refs.c). Group, System, Identity
 * and Entitlement uids may be written as an id or as the object's name (an
 * entitlement as "system/name"); decisions evaluate ids. *out is a copy of ps
 * with every name replaced by its id, or NULL when ps holds no name (use ps
 * as it is). A uid naming nothing stays as written (it matches nothing) and,
 * when problems is not NULL, appends one {"policy","line":0,"column":0,
 * "message"} to it. Takes a read section. */
int gov_policy_resolve(struct gh_policy_set **out, json_t *problems, gh_gov *g,
		       const struct gh_policy_set *ps);
/* Appends to warnings (strings) what default deny will refuse once ps is
 * active: one line for each of request, approve, delegate and break_glass
 * that no permit of ps can apply to (by its action and resource scope). */
int gov_policy_warnings(json_t *warnings, const struct gh_policy_set *ps);
void gov_cedar_decider_free(gh_decider *d);

/* Resolves ref (an id with the table's prefix, or a unique name) to an id in
 * out. table is one of "identities", "groups", "systems", "entitlements".
 * GH_ENOTFOUND names what was not found. Inside a transaction/read section. */
int gov_resolve(gh_gov *g, const char *table, const char *ref, char out[GH_ID_LEN]);
/* The name people know an object by, for messages: an identity's, group's or
 * system's name, an entitlement's "system/name"; the id itself when it names
 * nothing (or on error, which is not reported). Returns out. */
const char *gov_name_of(gh_gov *g, const char *id, char *out, size_t outlen);
/* A reference that names nothing gets "<noun> <ref> not found", and when an
 * existing name is close, "; did you mean <name>?" (see gov.c: bounded to
 * names with the same first letter, at most 1000 of them). */
/* As gov_resolve but records a field error (field: "... not found") instead. */
int gov_resolve_field(gh_gov *g, const char *table, const char *field, const char *ref,
		      char out[GH_ID_LEN]);

/* As gov_resolve without an error message, for policy text: ref is tried as
 * an id first, then as a name, whatever it looks like. 0, GH_ENOTFOUND or
 * GH_ECONFLICT (an entitlement's bare name that several systems offer). */
int gov_resolve_any(gh_gov *g, const char *table, const char *ref, char out[GH_ID_LEN]);
/* As gov_name_of for an id of table, reporting what went wrong: 0, or
 * GH_ENOTFOUND leaving the id in out. Inside a read section. */
int gov_name_in(gh_gov *g, const char *table, const char *id, char *out, size_t outlen);

/* Page bounds: limit clamped to 1..500 (default 50); *after_pk is the pk of
 * page->after in table, or 0. GH_EINVALID when after is unknown. */
int gov_page(gh_gov *g, const char *table, const gh_page *page, int *limit, int64_t *after_pk);

/* A list of requests or grants: the filters both share, validated at once.
 * Fill the inputs; gov_list_filter checks them inside a read section and
 * resolves the references (ids stay "" when a filter is absent). */
typedef struct gov_list_query {
	const char *table;                 /* "requests" or "grants" */
	const char *enum_field;            /* "state" or "status" */
	const char *const *enum_values;
	const char *enum_value;            /* NULL or "" when absent */
	const char *subject, *entitlement; /* references, NULL or "" when absent */
	char subject_id[GH_ID_LEN], ent_id[GH_ID_LEN];
	int limit;
	int64_t after_pk;
} gov_list_query;

int gov_list_filter(gh_gov *g, gov_list_query *q, const gh_page *page);
/* Ends a write: commits when rc == 0, otherwise rolls back; returns rc (or the
 * commit's failure). */
int gov_finish(gh_gov *g, int rc);
/* gov_finish for an operation with an answer: on failure *out (out may be
 * NULL) is freed and NULL, so a caller never sees half an answer. */
int gov_finish_out(gh_gov *g, int rc, json_t **out);
/* gov_finish_out, then forgets cached authentications when it committed:
 * for changes to tokens and identities (roles, status, expiry). */
int gov_finish_auth(gh_gov *g, int rc, json_t **out);

/* Row loaders shared between files: fill *out with the API shape of one row. */
int gov_identity_load(json_t **out, gh_gov *g, const char *id);
int gov_entitlement_load(json_t **out, gh_gov *g, const char *id);
int gov_request_load(json_t **out, gh_gov *g, const char *id);
int gov_grant_load(json_t **out, gh_gov *g, const char *id);

/* What deciders see (facts.c). Identity facts: {"id","kind","name","status",
 * "owner","environment","roles","attributes","purpose","groups"}; entitlement
 * facts: {"id","system","name","risk_tier","data_sensitivity","environment",
 * "control_owner_group","max_duration_seconds","requestable","attributes",
 * "tags"}. GH_ENOTFOUND for an unknown id. Inside a transaction/read section. */
int gov_identity_facts(json_t **out, gh_gov *g, const char *id);
int gov_entitlement_facts(json_t **out, gh_gov *g, const char *id);

/* (provision.c) approved -> provisioning -> active for a request whose row
 * exists and whose request.approved is audited: creates the grant expiring
 * after min(duration, max_duration) from now. Inside the caller's transaction. */
int gov_provision(gh_gov *g, const char *actor_id, const char *request_id, const char *subject,
		  const char *ent, int64_t duration, int64_t max_duration, int64_t now);
/* (approval.c) The decision's @approver_group values (names or ids) become
 * group ids; one that names no group denies (fail closed, with a reason) and
 * drops them. Inside a transaction/read section. */
int gov_resolve_approver_groups(gh_gov *g, gh_decision *d);
/* (sod.c) Appends one reason per active grant of subject that conflicts (SoD)
 * with ent; returns how many, or <0 on error. */
int gov_sod_conflicts(gh_gov *g, json_t *reasons, const char *subject_name, const char *subject,
		      const char *ent, const char *ent_name);

/* Revokes one active grant (status -> revoked or expired), moves its request
 * to the matching state, and audits both; inside the caller's transaction. */
int gov_grant_end(gh_gov *g, const char *actor_id, const char *grant_id, const char *status,
		  const char *reason);

/* The values each enumerated field accepts (values.c), NULL-terminated. */
extern const char *const gov_identity_kinds[], *const gov_identity_statuses[];
extern const char *const gov_role_names[], *const gov_channels[], *const gov_request_states[];
extern const char *const gov_grant_statuses[], *const gov_review_states[];
extern const char *const gov_review_outcomes[], *const gov_job_states[];
extern const char *const gov_finding_kinds[], *const gov_finding_statuses[];
extern const char *const gov_delegation_statuses[], *const gov_token_statuses[];
extern const char *const gov_credential_statuses[], *const gov_change_states[];

/* Stops and frees the checkpoint signer and key (checkpoints.c); NULL-safe parts. */
void gov_checkpoints_free(gh_gov *g);

/* Helpers every domain file uses (gov.c). */
/* {"items": items, "next": last id when the page is full (limit items), else null};
 * takes items. NULL when out of memory. */
json_t *gov_list_result(json_t *items, int limit);
/* 0 when s is one of values; otherwise records a field error and returns GH_EINVALID. */
int gov_check_enum(const char *field, const char *const values[], const char *s);
/* Field rules (fields.c, gatehouse/gov.h gh_gov_field): reads obj[key] as a
 * value of field, as the gh_jv_* getters do (1 present and good, 0 absent and
 * not required, -1 a recorded field error); durations and times are read by
 * gh_jv_duration / gh_jv_time, *out their text. gov_field_check records a
 * field error under key when value breaks field's rule (GH_EINVALID), else 0. */
int gov_jv_field(const json_t *obj, const char *key, gh_gov_field field, int required,
		 const char **out);
int gov_field_check(const char *key, gh_gov_field field, const char *value);
/* A number given as text in lo..hi into *out; absent (NULL) leaves it alone
 * or, when required, is a field error; a bad one is a field error naming it. */
void gov_take_int(const char *v, const char *name, int64_t lo, int64_t hi, int64_t *out,
		  int required);
/* (identity.c) Resolves ref (field of the body) to an ACTIVE HUMAN identity's id; otherwise
 * records a field error and returns GH_EINVALID (or another error). Inside a transaction. */
int gov_check_owner(gh_gov *g, const char *field, const char *ref, char out[GH_ID_LEN]);

/* The domain's own role gate (the API's route table is the first): 0 when
 * the actor holds one of roles, else GH_EFORBIDDEN "<what> needs one of the
 * roles: ...". Call at the top of an operation, before anything changes. */
#define GOV_INVENTORY_WRITERS (GH_ROLE_ADMIN | GH_ROLE_IAM)
int gov_require_role(const gh_actor *actor, unsigned roles, const char *what);

/* The authentication cache (tokens.c): created at open, freed at free;
 * gov_auth_changed invalidates every entry (call after a token or identity
 * change commits). */
int gov_auth_cache_new(gh_gov *g);
void gov_auth_cache_free(gh_gov *g);
void gov_auth_changed(gh_gov *g);

/* Installs the decider for the active policy version (Cedar), or the
 * built-in rule when no version is active. A version that cannot be
 * compiled installs a decider that denies everything, naming why (fail
 * closed). Call outside any store section. */
int gov_policy_load_active(gh_gov *g);

/* Policy text checked as proposing checks it (policy_versions.c): GH_EINVALID
 * with a field error on field ("line:column: message") when it does not
 * parse; otherwise *validation lists what the schema and the annotation
 * rules (@approvals 1..10, @max_duration and @review_within durations above
 * zero, @approver_group an existing group, @on_behalf "allow") and the entity
 * references (each names an existing object) say, [] when valid. Takes its
 * own read sections: call outside any. */
int gov_policy_check(json_t **validation, gh_gov *g, const char *field, const char *text,
		     size_t len);

/* The decider of policy version ref (an id or a version number), labelled
 * as decisions record it ("v3 pol_... sha256:..."); with info, *info gets
 * {"id","version","sha256","validation","warnings"}. GH_ENOTFOUND for an
 * unknown ref, GH_ECONFLICT when its text does not compile. Takes its own
 * read section: call outside any. Free with gov_cedar_decider_free. */
int gov_policy_version_decider(gh_decider *out, json_t **info, gh_gov *g, const char *ref);
/* The decider of policy text as decisions evaluate it: parsed, entity names
 * resolved to ids, labelled label. A reference to nothing is GH_ECONFLICT
 * when strict; otherwise it stays and matches nothing (simulate).
 * warnings (may be NULL) gets gov_policy_warnings' lines. Takes its own read
 * section: call outside any. */
int gov_policy_compile(gh_decider *out, json_t *warnings, gh_gov *g, const char *text,
		       size_t len, const char *label, int strict);

/* What deciding with d now would change (simulate.c): {"requests":
 * {"evaluated","flips"},"grants":{"evaluated","revocation_candidates"}}
 * (docs/api.md, simulate). Pending requests are re-decided as submit
 * decides them (active subject, requestable entitlement, segregation of
 * duties, then d); active grants are candidates when d denies their
 * request. With apply_as (an actor id) the flips are applied and audited
 * (request.redecided); without, nothing changes. Inside the caller's read
 * section (apply_as NULL) or transaction. */
int gov_policy_effects(json_t **out, gh_gov *g, const gh_decider *d, const char *apply_as);

/* The active delegation (id into out) that lets identity_id decide for
 * ent_id at now: from the entitlement's control-owner group, scope covering
 * it, identity a (transitive) member of its to_group. 1 found, 0 none, <0 on
 * error. Inside a transaction/read section (delegation.c). */
int gov_delegation_covering(gh_gov *g, char out[GH_ID_LEN], const char *ent_id,
			    const char *identity_id, int64_t now);
/* 0 when actor may read request id (a requester-only reader sees only what
 * concerns it), else GH_ENOTFOUND. Inside a read section (request.c). */
int gov_request_visible(gh_gov *g, const gh_actor *actor, const char *id);
/* A decision's reasons joined with "; " into buf (or "no policy permits it"
 * when there are none), for a refusal's message (approval.c). */
void gov_reasons_text(char *buf, size_t len, const json_t *reasons);

/* Wakes the scheduler to re-plan when due comes before its planned wake-up. */
void gov_sched_poke(gh_gov *g, int64_t due);

/* --- provisioning (outbox.c, reconcile.c) --------------------------------- */
#define GOV_JOB_MAX_ATTEMPTS 8     /* a grant job fails after this many */
#define GOV_JOB_BACKOFF_MAX 300    /* seconds: the cap of the retry delay */
#define GOV_JOB_LEASE 120          /* seconds a worker holds a job it runs */

/* 1 when kind provisions through the outbox (not "manual" or "credential"). */
int gov_connector_connected(const char *kind);
/* The kind of a system's connector: a built-in, or the kind of the configured
 * instance so named; NULL when this server has no such instance. */
const struct gh_connector_kind *gov_connector_kind(gh_gov *g, const char *connector);
/* The delay before retry after attempt failed: min(2^(attempt-1), cap)
 * seconds, +-20% jitter, at least 1. */
int64_t gov_job_backoff(int attempt);
/* Writes the 'grant' job of grant_id (whose row exists) and audits
 * job.created; the account is the subject's attribute named by the system's
 * settings "account_attribute" (NULL when it has none: the job then fails),
 * else its name; the target the entitlement's attributes.target. Inside the
 * caller's transaction. */
int gov_outbox_grant_job(gh_gov *g, const char *actor_id, const char *grant_id,
			 const char *system_id, int64_t now);
/* A grant of a connected system ended: its grant job is cancelled when no
 * worker holds it, a 'revoke' job for what the grant job gave is written and
 * the grant's provisioning_status becomes 'removing'. Nothing for a grant
 * that has no grant job (manual, credential). Inside the caller's transaction. */
int gov_outbox_grant_ended(gh_gov *g, const char *actor_id, const char *grant_id, int64_t now);
/* Writes a job (out: its id) and audits job.created. grant_id NULL for the
 * removal of shadow access. Inside the caller's transaction. */
int gov_outbox_add(gh_gov *g, char out[GH_ID_LEN], const char *actor_id, const char *grant_id,
		   const char *system_id, const char *op, const char *account,
		   const char *target, int64_t now);
/* Appends an audit event whose details json_pack built (taken; NULL is out
 * of memory). Inside the caller's transaction. */
int gov_audit_take(gh_gov *g, const char *actor, const char *action, const char *type,
		   const char *id, json_t *details);
/* Wakes the workers: a job was written (they also poll every second). */
void gov_outbox_poke(gh_gov *g);
/* As gov_grant_end; deprovision 0 leaves what is downstream (an extension's
 * new grant takes over the same access). */
int gov_grant_end_ex(gh_gov *g, const char *actor_id, const char *grant_id, const char *status,
		     const char *reason, int deprovision);
/* Stops the scheduled reconciliation (reconcile.c); called by the worker stop. */
void gov_reconcile_stop(gh_gov *g);
/* Secret texts (tokens.c), shared by bearer tokens ("gh_", id "tok_...") and
 * API keys ("ghk_", id "crd_..."): <text_prefix><the id's 16 hex>"."<secret:
 * 32 bytes from libsodium, base64url without padding>. Only SHA-256(secret)
 * is ever stored; the text is shown once. */
#define GOV_SECRET_BYTES 32
#define GOV_SECRET_HASH_BYTES 32
#define GOV_SECRET_TEXT_BUF 72     /* the text with its NUL, prefixes up to 8 bytes */
/* A new id (id_prefix) into id, its text into text and SHA-256(secret) into
 * hash; the secret itself is wiped. The caller wipes text after showing it. */
void gov_secret_new(char text[GOV_SECRET_TEXT_BUF], char id[GH_ID_LEN],
		    unsigned char hash[GOV_SECRET_HASH_BYTES], const char *id_prefix,
		    const char *text_prefix);
/* Splits text of that form into the id and the hash of its secret; 0, or -1
 * when text is not exactly of that form (canonical base64url only). */
int gov_secret_parse(char id[GH_ID_LEN], unsigned char hash[GOV_SECRET_HASH_BYTES],
		     const char *text, const char *id_prefix, const char *text_prefix);
/* 1 when stored (n bytes, NULL: nothing stored) is exactly hash; compares in
 * constant time, against a dummy when nothing usable is stored. For hashes a
 * store operation returned (tokens, API keys). */
int gov_secret_equal(const void *stored, size_t n,
		     const unsigned char hash[GOV_SECRET_HASH_BYTES]);

/* --- four eyes on weakening changes (change.c) ----------------------------- */
/* A write the four-eyes gate guards: the direct path's function (inside the
 * caller's transaction, ref an id or name) and the object's API shape. */
typedef struct gov_change_op {
	const char *object_type;   /* "entitlement", "identity", "system", "group" */
	const char *operation;     /* "entitlement.update", "group.add_member", ... */
	const char *table;         /* for gov_resolve */
	int (*apply)(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
		     const json_t *in);
	int (*load)(json_t **out, gh_gov *g, const char *id);
} gov_change_op;

extern const gov_change_op gov_op_entitlement_update;  /* catalog.c */
extern const gov_change_op gov_op_system_update;       /* catalog.c */
extern const gov_change_op gov_op_identity_update;     /* identity.c */
extern const gov_change_op gov_op_group_add_member;    /* group.c */

/* Runs op in a transaction of its own: tried, and kept when it weakens no
 * control (0, *out the object), or undone and proposed (GH_PROPOSED, *out
 * {"change","detail"}). Records who changed an entitlement's controls. */
int gov_change_write(json_t **out, gh_gov *g, const gh_actor *actor, const gov_change_op *op,
		     const char *ref, const json_t *in);
/* entitlements.controls_changed_by becomes [first] or [first, second]. Inside
 * the caller's transaction. */
int gov_controls_record(gh_gov *g, const char *ent_id, const char *first, const char *second);
/* When d auto-approves and the requester, subject, subject's owner or
 * submitter (each may be NULL) last changed ent_id's controls, d needs one
 * human approval instead and says why (reasons, controls_hold). Inside a
 * transaction or read section. */
int gov_controls_hold(gh_gov *g, gh_decision *d, const char *ent_id, const char *requester,
		      const char *subject, const char *owner, const char *submitter);

/* NHI credentials (credentials.c). 1 when ent_id's system has the
 * "credential" connector (its entitlements go only to NHIs), 0 when not,
 * <0 on error. Inside a transaction/read section. */
int gov_credential_entitlement(gh_gov *g, const char *ent_id);
/* Revokes every credential of grant_id not yet revoked, auditing each
 * (credential.revoked, "grant <status>"); inside the caller's transaction. */
int gov_credentials_end_grant(gh_gov *g, const char *actor_id, const char *grant_id,
			      const char *status);
/* Revokes every credential of identity_id not yet revoked (those of grants
 * that did not end through gov_grant_end), auditing each with reason. */
int gov_credentials_end_identity(gh_gov *g, const char *actor_id, const char *identity_id,
				 const char *reason);

/* NHI expiry and orphans (identity.c). Suspends active NHI id because of
 * why ("expired" or "orphaned"): status 'suspended' with that status_reason,
 * its active grants end (revoked, "identity <why>") through gov_grant_end,
 * its remaining credentials are revoked, its open requests (as subject or
 * requester) cancelled, and identity.expired or identity.orphan_suspended is
 * audited. 0 and nothing done when it is no longer active. Inside the
 * caller's transaction; the caller calls gov_auth_changed after commit. */
int gov_identity_retire(gh_gov *g, const char *actor_id, const char *id, const char *why);
/* 0 when identity id may be named by a new request as field ("subject" or
 * "requester"): active and not past its expires_at; otherwise a field error
 * and GH_EINVALID. Inside a transaction/read section. */
int gov_identity_usable(gh_gov *g, const char *field, const char *id, int64_t now);

/* --- the request and grant state machines (lifecycle.c) ----------------------- */
/* What a request's move writes besides its state; each move reads the fields
 * it needs (see the table in lifecycle.c). */
typedef struct gov_request_change {
	int64_t now;               /* updated_at (and closed_at); 0: gh_now() */
	const char *reason;        /* close_reason of a move that closes it */
	const char *grant_id;      /* approved -> provisioning/active: the new grant */
	const char *decision;      /* redecided: the new decision (canonical JSON) */
	int required_approvals;    /* redecided: with decision */
} gov_request_change;

/* What a grant's move writes besides its status, and what an ending tells. */
typedef struct gov_grant_change {
	int64_t now;               /* revoked_at of an ending; 0: gh_now() */
	const char *by, *reason;   /* an ending: revoked_by, revoke_reason */
	const char *receipt;       /* -> active: the system's answer (JSON text) or NULL */
	char request_id[GH_ID_LEN], subject_id[GH_ID_LEN], entitlement_id[GH_ID_LEN];
				   /* out, an ending: whose grant it was */
} gov_grant_change;

/* Moves request (grant) id from -> to when the table allows it and the row is
 * still in from (compare-and-set); ch may be NULL. GH_ECONFLICT naming the
 * states for a move not in the table, or one that lost to another writer;
 * nothing changes then. The caller audits. Inside the caller's transaction. */
int gov_request_move(gh_gov *g, const char *id, const char *from, const char *to,
		     const gov_request_change *ch);
int gov_grant_move(gh_gov *g, const char *id, const char *from, const char *to,
		   gov_grant_change *ch);
/* 0 when a new row may start in that state (the table's creations), else GH_ERROR. */
int gov_request_check_new(const char *state);
int gov_grant_check_new(const char *status);
/* Entry i of machine "request" or "grant" (from NULL: a creation), for tests
 * and docs; GH_ENOTFOUND past the end. */
int gov_lifecycle_moves(const char *machine, size_t i, const char **from, const char **to,
			const char **event);

#endif
