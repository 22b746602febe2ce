/* gatehouse/gov.h - the domain: identities, groups, catalog, requests,
 * approvals, grants, tokens, the expiry/SLA scheduler, provisioning, the
 * audit log's proofs and checkpoints. The only way the API and the CLI change
 * or read state (the one door: docs/internals/layers.md); every invariant of
 * DESIGN.md is enforced here. The store behind it is not part of this
 * interface: no front end sees a transaction, a table or a statement.
 *
 * Conventions: functions return 0 or a GH_E* code with gh_error_last() set.
 * Input is a jansson object (a request body) validated here, field by field,
 * with every problem reported at once (GH_EINVALID) and unknown fields
 * refused. Output through **out is a new JSON value owned by the caller.
 * References to other objects accept an id ("idn_...") or a unique name.
 * Every change appends its audit events in the same transaction.
 *
 * Roles are checked here too, whatever the front end (docs/api.md, Roles):
 * inventory writes need admin or iam, tokens need admin, only an admin grants
 * or removes admin or iam or changes an admin's identity, nobody changes
 * their own roles or status (GH_EFORBIDDEN), and the last active admin keeps
 * admin (GH_ECONFLICT). A refusal changes nothing. */
#ifndef GATEHOUSE_GOV_H
#define GATEHOUSE_GOV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gatehouse/errors.h"

typedef struct gh_gov gh_gov;

/* Roles a token's identity may hold (bit set). */
enum gh_role {
	GH_ROLE_ADMIN = 1 << 0,
	GH_ROLE_IAM = 1 << 1,
	GH_ROLE_APPROVER = 1 << 2,
	GH_ROLE_SERVICEDESK = 1 << 3,
	GH_ROLE_AUDITOR = 1 << 4,
	GH_ROLE_REQUESTER = 1 << 5,
};

/* Who acts: an authenticated identity and its roles, or the system itself
 * (the scheduler, id "system:scheduler", roles 0). */
typedef struct gh_actor {
	char id[64];
	unsigned roles;
} gh_actor;

typedef struct gh_gov_options {
	int64_t pending_sla;     /* seconds a pending request may wait; default 72h */
	int64_t nhi_max_lifetime; /* seconds an NHI's expires_at may lie ahead; default 365d */
	int64_t orphan_grace;    /* seconds an NHI without an active owner keeps running
				  * before it is suspended; default 7d */
	int64_t token_lifetime;  /* expiry of an API token created without one; default 90d */
	/* the server configuration (common/config.h): the connector instances
	 * systems may name and the secrets they use; borrowed, outlives the
	 * gh_gov. NULL: only the built-in connectors manual and credential. */
	const struct gh_config *config;
	int auth_failures;       /* failed authentications from one address within a
				  * minute before it is refused for a while; default 10 */
} gh_gov_options;

/* Paging for lists: items ordered by creation; after is the last id seen. */
typedef struct gh_page {
	int limit;               /* 1..500, default 50 */
	const char *after;       /* NULL for the first page */
} gh_page;

/* Lists return {"items": [...], "next": "<id>" | null}. */

int gh_gov_open(gh_gov **out, const char *db_path, int create, const gh_gov_options *opts);
void gh_gov_free(gh_gov *g);
/* The database's schema version (its last migration). */
int gh_gov_schema_version(gh_gov *g);

/* The values an enumerated field accepts, NULL-terminated (static, borrowed),
 * or NULL for an unknown name. Names: "identity_kind", "identity_status",
 * "role", "risk_tier", "data_sensitivity", "channel", "request_state",
 * "grant_status", "review_state", "review_outcome", "job_state",
 * "finding_kind", "finding_status", "delegation_status", "token_status",
 * "credential_status", "change_state". The two the catalog-as-code schema
 * needs at compile time are also named directly. */
const char *const *gh_gov_values(const char *name);
extern const char *const gh_gov_risk_tiers[];
extern const char *const gh_gov_data_sensitivities[];

/* --- field rules (fields.c) -------------------------------------------- */
/* The rules of the domain's text fields, in one place: the domain reads its
 * input with them, and a front end may check a value before it sends it
 * (catalog as code) and get the message the API gives under that field. */
typedef enum gh_gov_field {
	GH_GOV_FIELD_NAME,        /* a group's, system's, entitlement's or identity's
				   * name: [a-z0-9][a-z0-9._-]{0,63} */
	GH_GOV_FIELD_REF,         /* another object by id or name: 1 to 256 bytes */
	GH_GOV_FIELD_DESCRIPTION, /* free text, at most 1000 bytes, may be empty */
	GH_GOV_FIELD_REASON,      /* why (a delegation's reason): 1 to 1000 bytes */
	GH_GOV_FIELD_ENVIRONMENT, /* 1 to 32 of [a-z0-9-], such as "prod" */
	GH_GOV_FIELD_TAG,         /* an entitlement's tag, or a delegation's scope: as a name */
	GH_GOV_FIELD_CONNECTOR,   /* a system's connector: "manual", "credential" or a
				   * connector instance's name (which exist only the
				   * server knows) */
	GH_GOV_FIELD_DURATION,    /* "30m", "8h", "7d", "1h30m": 1 s to 10 years */
	GH_GOV_FIELD_TIME,        /* an RFC 3339 time such as "2027-01-31T00:00:00Z" */
	GH_GOV_FIELD_POLICY_TEXT, /* a Cedar policy set's text: 1 byte to 1 MiB (its
				   * syntax is the policy library's) */
	GH_GOV_FIELD_COMMENT,     /* a policy version's comment: at most 1000 bytes */
} gh_gov_field;

/* Items a list field holds at most: an entitlement's tags, its incompatible_with. */
#define GH_GOV_TAGS_MAX 16
#define GH_GOV_CONFLICTS_MAX 100
/* Bytes enough for any message of gh_gov_field_problem. */
#define GH_GOV_FIELD_PROBLEM_MAX 160

/* The longest value of field, in bytes (0 for an unknown field). */
size_t gh_gov_field_max(gh_gov_field field);
/* NULL when value is a good value of field; otherwise why not, as the API
 * says it under the field's name (e.g. "must not be empty"), written to why
 * (n bytes) and returned. Durations and times are text here, as in a file. */
const char *gh_gov_field_problem(char *why, size_t n, gh_gov_field field, const char *value);

/* Role names <-> bits; gh_role_parse returns 0 for an unknown name. */
unsigned gh_role_parse(const char *name);
json_t *gh_roles_json(unsigned roles);
/* Who the caller is, for messages that explain a refusal:
 * {"id","name","roles":[...]} (the token's roles). Any authenticated actor;
 * name is the id when the identity cannot be read. */
int gh_gov_whoami(json_t **out, gh_gov *g, const gh_actor *actor);

/* --- tokens (tokens.c) ------------------------------------------------- */
/* Creates the first admin identity and its token if no identity exists yet
 * (no actor: it runs only on an empty database);
 * *out_token receives the token text (shown once; caller frees). */
int gh_gov_bootstrap(char **out_token, gh_gov *g, const char *admin_name);
/* in: {"identity": ref, "name": str, "expires_in": duration?}
 * out: {"id","identity","name","token","created_at","expires_at"} - token shown once. */
int gh_gov_token_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);
int gh_gov_token_revoke(gh_gov *g, const gh_actor *actor, const char *token_id);
/* A new token (shown once) for the same identity and name with a fresh
 * lifetime; the old one is revoked (rotated_to names the new one), audited
 * token.rotated. For the token's own identity or an admin. out as create,
 * plus "rotated_from". GH_ECONFLICT for a revoked token or an identity that
 * is not active. */
int gh_gov_token_rotate(json_t **out, gh_gov *g, const gh_actor *actor, const char *token_id);
/* Admin only: {"items":[{"id","identity","name","status","created_at",
 * "expires_at","last_used_at"?,"revoked_at"?,"rotated_to"?}],"next"};
 * status one of active, expired, revoked. Never a secret or its hash. */
int gh_gov_token_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
		      const char *identity, const char *status);
/* For the operator with the database file (no API route reaches it): a new
 * token for an active identity holding the admin role, when the admin token
 * is lost or expired. Audited token.created by "system:operator".
 * out as create. GH_EDENIED when the identity is not an admin. */
int gh_gov_admin_token(json_t **out, gh_gov *g, const char *identity_ref, const char *name);
/* Resolves bearer token text to an actor; GH_EUNAUTH for unknown, revoked,
 * expired or malformed tokens, or an identity that is not active. Constant-time. */
int gh_gov_authenticate(gh_actor *out, gh_gov *g, const char *token);
/* As gh_gov_authenticate for a token presented from source (the peer's
 * address; NULL: not counted) and token NULL for credentials that are not a
 * token at all. A source with auth_failures (10) failures within 60 s is refused for 15 s
 * (doubling while it goes on, at most 15 min) without its token being
 * checked: GH_ELIMITED with *retry_after in seconds, whatever the token, a
 * valid one included; a success neither resets the count nor lifts a block.
 * Failures are summed in memory per source, never with the token. */
int gh_gov_authenticate_from(gh_actor *out, gh_gov *g, const char *token, const char *source,
			     int64_t *retry_after);
/* Writes one auth.failed audit event (actor system:auth, object the source)
 * for each source whose window of failures ended, or for all with all set:
 * {"source","count","failures","refused","first_at","last_at","reasons"}.
 * The scheduler calls it; gh_gov_free calls it with all. */
int gh_gov_auth_failures_flush(gh_gov *g, int all);

/* Successful authentications are cached for up to 2 s and dropped at once by
 * any token or identity change made through this gh_gov; after changing the
 * database another way (SQL, another process), call this to forget them. */
void gh_gov_auth_flush(gh_gov *g);

/* --- identities (identity.c) ------------------------------------------- */
/* in: {"kind","name","display_name"?,"email"?,"owner"?,"purpose"?,"environment"?,
 *      "expires_at"?,"roles"?,"attributes"?}. An NHI needs an active human owner,
 * a purpose, an environment and a future expires_at; all missing ones are named. */
int gh_gov_identity_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);
int gh_gov_identity_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref);
/* filter: kind, status, owner (ref) as strings, or NULL. */
int gh_gov_identity_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			 const char *kind, const char *status, const char *owner);
/* As gh_gov_identity_list, and orphaned ("true", "false" or NULL): only NHIs
 * whose owner is no longer active (orphaned_at set), or only the others. */
int gh_gov_identity_list_orphaned(json_t **out, gh_gov *g, const gh_actor *actor,
				  const gh_page *page, const char *kind, const char *status,
				  const char *owner, const char *orphaned);
/* in: {"display_name"?,"email"?,"purpose"?,"expires_at"?,"roles"?,"attributes"?,"owner"?}
 * changing owner is an ownership transfer (audited as identity.owner_transferred). */
int gh_gov_identity_update(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			   const json_t *in);
/* action: "suspend", "activate" or "decommission"; in: {"reason": str}.
 * Decommissioning revokes the identity's active grants in the same transaction;
 * a human who still owns systems is refused (GH_ECONFLICT). Suspending or
 * decommissioning a human marks every NHI it owns orphaned (orphaned_at,
 * audited identity.orphaned); activating it again clears that
 * (identity.orphan_cleared). Activating an NHI past its expires_at or
 * orphaned is refused (GH_ECONFLICT): renew it or transfer it first. */
int gh_gov_identity_set_status(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			       const char *action, const json_t *in);
/* Renews an NHI: in {"expires_at": time} or {"extend_by": duration} (from
 * the current expiry, or now when that has passed), exactly one. For the
 * NHI's owner, admin or iam (GH_EFORBIDDEN otherwise); the new expiry lies
 * in the future and within now + nhi_max_lifetime. An NHI the scheduler
 * suspended as expired becomes active again (its ended grants stay ended);
 * one suspended for another reason stays suspended. Audited
 * identity.renewed {"from","to","reactivated"}. */
int gh_gov_identity_renew(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			  const json_t *in);

/* --- groups (group.c) -------------------------------------------------- */
/* in: {"name","description"?} */
int gh_gov_group_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);
/* out includes "members": [{"type":"identity"|"group","id","name"}] */
int gh_gov_group_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref);
int gh_gov_group_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page);
/* in: {"identity": ref} or {"group": ref}; nesting cycles are refused. */
int gh_gov_group_add_member(json_t **out, gh_gov *g, const gh_actor *actor, const char *group_ref,
			    const json_t *in);
int gh_gov_group_remove_member(json_t **out, gh_gov *g, const gh_actor *actor,
			       const char *group_ref, const char *member_ref);
/* 1 when identity_id is (transitively) a member of group_id, 0 when not, <0 on error.
 * Call inside a store transaction or read section. */
int gh_gov_group_contains(gh_gov *g, const char *group_id, const char *identity_id);

/* --- catalog (catalog.c) ----------------------------------------------- */
/* in: {"name","description"?,"owner","connector"?} */
int gh_gov_system_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);
int gh_gov_system_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref);
int gh_gov_system_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page);
int gh_gov_system_update(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			 const json_t *in);
/* The systems whose connector names an instance this server's configuration
 * lacks (their jobs fail and are retried until it is configured):
 * [{"name","connector"}] into *out. */
int gh_gov_systems_unconfigured(json_t **out, gh_gov *g);
/* in: {"system","name","description"?,"risk_tier","data_sensitivity","environment",
 *      "control_owner_group","max_duration","requestable"?,"incompatible_with"?,"attributes"?,
 *      "tags"?} */
int gh_gov_entitlement_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);
int gh_gov_entitlement_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref);
/* filter: system (ref), risk_tier, environment, requestable ("true"/"false"), or NULL. */
int gh_gov_entitlement_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			    const char *system, const char *risk_tier, const char *environment,
			    const char *requestable);
/* As gh_gov_entitlement_list, and tag (or NULL): only entitlements carrying it. */
int gh_gov_entitlement_list_tag(json_t **out, gh_gov *g, const gh_actor *actor,
				const gh_page *page, const char *system, const char *risk_tier,
				const char *environment, const char *requestable, const char *tag);
/* in as for create, every field optional; "tags": [tag] (at most 16, each
 * [a-z0-9][a-z0-9._-]{0,63}) replaces the entitlement's tags. */
int gh_gov_entitlement_update(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			      const json_t *in);

/* --- requests and approvals (request.c, decide.c) ---------------------- */
/* Break-glass: a hard cap on the grant, and the review deadline when no
 * policy says @review_within. */
#define GH_BREAK_GLASS_MAX (4 * 3600)
#define GH_BREAK_GLASS_REVIEW (24 * 3600)
/* in: {"ticket_ref"?,"channel","requester"?,"subject","entitlement","justification",
 *      "duration","emergency"?,"break_glass"?,"incident_ref"?}. Decided at once; see
 * docs/api.md for the states. break_glass (incident_ref required with it, refused
 * without): after SoD and a "request" that is not denied, the decider is asked
 * "break_glass"; allowed -> granted at once for at most GH_BREAK_GLASS_MAX (and
 * any @max_duration), pending a review (gh_gov_grant_review) due within
 * @review_within or GH_BREAK_GLASS_REVIEW; denied -> the request is denied. */
int gh_gov_request_submit(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);
int gh_gov_request_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id);
/* filter: state, subject (ref), entitlement (ref), or NULL. */
int gh_gov_request_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			const char *state, const char *subject, const char *entitlement);
/* in: {"comment"?} for approve, {"comment"} required for reject, {"reason"} for cancel. */
int gh_gov_request_approve(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			   const json_t *in);
int gh_gov_request_reject(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			  const json_t *in);
int gh_gov_request_cancel(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			  const json_t *in);
/* The whole chain of a request, for auditors (same visibility as get):
 * {"request","submitted_by","requester","subject","entitlement","decision",
 *  "approvals","grant","outcome","audit"} (docs/api.md, Evidence). */
int gh_gov_request_evidence(json_t **out, gh_gov *g, const gh_actor *actor, const char *id);
/* The review of a break-glass grant: in {"outcome":"confirm"|"revoke","comment"}.
 * The reviewer passes the approver invariants (not submitter, requester,
 * subject or its owner, not servicedesk; control-owner group or a
 * delegation). confirm keeps the grant to its expiry, revoke ends it now.
 * Only a pending review (GH_ECONFLICT otherwise); audited grant.reviewed. */
int gh_gov_grant_review(json_t **out, gh_gov *g, const gh_actor *actor, const char *grant_id,
			const json_t *in);
/* The request's audit events and those of its grant, oldest first: {"items": [...]}. */
int gh_gov_request_history(json_t **out, gh_gov *g, const gh_actor *actor, const char *id);

/* --- delegations (delegation.c) ---------------------------------------- */
/* A control-owner group lends approval of part of its catalog to another
 * group until an expiry. Writers: admin, iam, approver (an approver only for
 * a group it belongs to); readers: admin, iam, approver, auditor.
 * Shape: {"id","from_group":{"id","name"},"to_group":{"id","name"},
 * "scope":{"type":"system","id","name"}|{"type":"tag","tag"},"reason",
 * "expires_at","status":"active"|"expired"|"revoked","created_by",
 * "created_at","revoked_at","revoked_by","revoke_reason"}. */
/* in: {"from_group","to_group","system"|"tag","expires_at"|"expires_in","reason"}.
 * from_group must be the control-owner group of at least one entitlement in
 * scope (so delegated authority cannot be passed on), the expiry in the
 * future and at most 90 days away, and the decider must allow "delegate".
 * Audited delegation.created. */
int gh_gov_delegation_create(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);
int gh_gov_delegation_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id);
/* filter: from_group, to_group (refs), status, or NULL. */
int gh_gov_delegation_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			   const char *from_group, const char *to_group, const char *status);
/* in: {"reason"}; admin, iam or a member of from_group; audited delegation.revoked. */
int gh_gov_delegation_revoke(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			     const json_t *in);

/* --- grants (grant.c) -------------------------------------------------- */
int gh_gov_grant_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id);
/* filter: status, subject (ref), entitlement (ref), or NULL. */
int gh_gov_grant_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
		      const char *status, const char *subject, const char *entitlement);
/* As gh_gov_grant_list, and review_state (or NULL): "pending", "confirmed",
 * "revoked" or "missed", the review of break-glass grants. Grants carry
 * "break_glass": null, or {"incident_ref","review_due_at","review_state",
 * "reviewed_by","reviewed_at","comment"}. */
int gh_gov_grant_list_review(json_t **out, gh_gov *g, const gh_actor *actor,
			     const gh_page *page, const char *status, const char *subject,
			     const char *entitlement, const char *review_state);
/* in: {"reason"} */
int gh_gov_grant_revoke(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			const json_t *in);

/* --- scheduler (sched.c) ----------------------------------------------- */
/* Expires every active grant with expires_at <= now and every pending request
 * past its SLA, and revokes every break-glass grant whose review is still
 * pending at its review_due_at (review_state "missed", audited
 * grant.review_missed), each in a transaction with its audit events. Also
 * suspends every active NHI with expires_at <= now (status_reason
 * "expired", audited identity.expired) and every NHI still orphaned
 * orphan_grace after orphaned_at ("orphaned", identity.orphan_suspended):
 * their grants end (revoked, "identity expired" / "identity orphaned"),
 * their credentials are revoked and their pending requests cancelled.
 * *out_expired and *out_sla (may be NULL) receive the counts. */
int gh_gov_sched_run(gh_gov *g, int64_t now, int *out_expired, int *out_sla);
/* The earliest time anything is due (a grant's or NHI's expiry, an SLA, a
 * review or an orphan's grace), or INT64_MAX. */
int64_t gh_gov_sched_next_due(gh_gov *g);
/* A background thread that runs gh_gov_sched_run when something is due,
 * waking at least every max_sleep_ms. Stop joins it. */
int gh_gov_sched_start(gh_gov *g, int max_sleep_ms);
void gh_gov_sched_stop(gh_gov *g);

/* --- provisioning: outbox and workers (outbox.c) ---------------------- */
/* A grant of a connected system (connector not manual or credential) is
 * created 'provisioning' with a 'grant' job in the outbox; ending it writes
 * a 'revoke' job. Workers run due jobs through the connector outside any
 * store section and record each attempt (audit connector.attempt) with its
 * outcome in one transaction: grant.provisioned, a retry after
 * gov_job_backoff, grant.provisioning_failed after 8 attempts (or at once
 * when the connector says the job is invalid), grant.deprovisioned. Revoke
 * jobs are retried until the system confirms.
 * Job shape: {"id","grant","system","op","account","target","state",
 * "attempts","next_at","lease_until","last_error","receipt","created_at",
 * "updated_at","done_at"}; state pending|done|failed|cancelled. */
/* Runs the jobs due at now one after another (at most max, 0: no cap) in
 * the calling thread; *out_ran (may be NULL) counts the attempts. */
int gh_gov_jobs_run_once(gh_gov *g, int64_t now, int max, int *out_ran);
/* n worker threads (1..64) that run due jobs, woken when a job is written
 * and polling every second. Stopped by gh_gov_workers_stop (also by
 * gh_gov_sched_stop and gh_gov_free). */
int gh_gov_workers_start(gh_gov *g, int n);
void gh_gov_workers_stop(gh_gov *g);
/* admin, iam, auditor. filter: state, system (ref), grant (id), or NULL. */
int gh_gov_job_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
		    const char *state, const char *system, const char *grant);
int gh_gov_job_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id);
/* admin, iam: a failed job becomes pending now with its attempts reset (its
 * grant provisioning again), a pending one is due now; others GH_ECONFLICT. */
int gh_gov_job_retry(json_t **out, gh_gov *g, const gh_actor *actor, const char *id);

/* --- reconciliation (reconcile.c) --------------------------------------- */
/* Compares the access the system's connector reads back for the targets of
 * its entitlements with the active grants: a grant missing downstream gets
 * its grant job again (finding 'missing', status 'reprovisioning'); access
 * no active grant explains is a finding 'shadow' (status 'open', or with
 * in {"revoke_shadow": true} a revoke job without grant, status 'revoking').
 * Grants still provisioning count neither way. admin, iam (actor NULL: the
 * scheduler). GH_ECONFLICT when the connector cannot read access back.
 * out: {"run","system","checked":{"targets","grants","downstream"},
 * "missing":[finding],"shadow":[finding]}. The connector runs outside any
 * store section. */
int gh_gov_reconcile(json_t **out, gh_gov *g, const gh_actor *actor, const char *system_ref,
		     const json_t *in);
/* admin, iam, auditor. Finding: {"id","run","system","kind","account","target",
 * "grant","status","job","created_at","updated_at"}. filter: system (ref),
 * kind, status, or NULL. */
int gh_gov_finding_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			const char *system, const char *kind, const char *status);
/* Reconciles every system whose connector reads access back, reporting
 * only, every period seconds from a background thread (stopped with the
 * workers). */
int gh_gov_reconcile_every(gh_gov *g, int64_t period);

/* --- audit (audit_api.c) ----------------------------------------------- */
/* filter: after_seq (0 for the start), object_id or NULL. */
int gh_gov_audit_list(json_t **out, gh_gov *g, const gh_actor *actor, int64_t after_seq,
		      int limit, const char *object_id);

/* --- four eyes on weakening changes (change.c) ------------------------- */
/* A write that weakens a control (docs/operations.md, "Four eyes on
 * weakening changes") is not applied: it is proposed, and the write
 * (gh_gov_entitlement_update, gh_gov_system_update, gh_gov_identity_update,
 * gh_gov_group_add_member) returns GH_PROPOSED with *out {"change": change,
 * "detail": text}. A second admin/iam person confirms it. */
#define GH_PROPOSED 1
/* Change shape: {"id","object_type","object_id","operation","payload",
 * "weakens":[{"field","from","to"}],"base_updated_at","state":"proposed"|
 * "confirmed"|"withdrawn","proposed_by","proposed_at","comment","decided_by",
 * "decided_at","decision_comment"}. Readers: admin, iam, auditor. */
int gh_gov_change_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id);
/* filter: state, object (an object id), or NULL. */
int gh_gov_change_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
		       const char *state, const char *object);
/* in: {"comment"?} or NULL. admin or iam, neither the proposer nor the one
 * it benefits (GH_EDENIED); only a proposed change whose object has not
 * changed since (GH_ECONFLICT: propose again). Applies it through the direct
 * path with its usual events, then change.confirmed, in one transaction.
 * out: the change, with "result": the object as changed. */
int gh_gov_change_confirm(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			  const json_t *in);
/* in: {"reason"}. Its proposer or any admin/iam person; audited. */
int gh_gov_change_withdraw(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			   const json_t *in);

/* --- the audit log's Merkle tree (audit_proofs.c) --------------------- */
/* admin, iam, auditor. Numbers come as text, as a query carries them (NULL:
 * absent); a bad one is a field error naming it. Hashes are base64.
 * tree: size (default the current one) -> {"size","root"}.
 * inclusion: seq (required, 1-based), size (default current) ->
 *   {"seq","index","size","leaf_hash","root","proof":[...]}.
 * consistency: old (required), new (default current) ->
 *   {"old_size","new_size","old_root","new_root","proof":[...]}. */
int gh_gov_audit_tree(json_t **out, gh_gov *g, const gh_actor *actor, const char *size);
int gh_gov_audit_inclusion(json_t **out, gh_gov *g, const gh_actor *actor, const char *seq,
			   const char *size);
int gh_gov_audit_consistency(json_t **out, gh_gov *g, const gh_actor *actor,
			     const char *old_size, const char *new_size);

/* --- verifying the whole log (audit_proofs.c) --------------------------- */
/* What gh_gov_audit_verify found. */
typedef struct gh_gov_audit_report {
	int64_t events;          /* events read */
	int64_t bad_seq;         /* first bad sequence number, 0 when intact */
	char reason[256];        /* what was wrong at bad_seq */
} gh_gov_audit_report;
/* Recomputes the hash chain and the Merkle tree from the stored log (for the
 * operator and the demo; no actor: it reads, and changes nothing). 0 when
 * intact; GH_EINVALID with the first bad sequence number and the reason. */
int gh_gov_audit_verify(gh_gov_audit_report *out, gh_gov *g);

/* --- several nodes on one database (cluster.c) ------------------------- */
/* Any number of servers may share one PostgreSQL database
 * (docs/operations.md, "Several nodes"). Each names itself in the leases it
 * takes: jobs its workers run, the checkpoint signer's duty, scheduled
 * reconciliation. */
typedef struct gh_gov_cluster_options {
	const char *node_id;     /* NULL: "<host>-<pid>-<random>"; two live nodes must
				  * never share one */
	int poll_ms;             /* how often the node follows what other nodes
				  * changed (revoked tokens, identities, the active
				  * policy, the log's growth) and renews its signing
				  * lease; 0: 1000 (50 to 60000) */
	int64_t job_lease;       /* seconds a worker holds a job before another node
				  * may take it over; 0: 120 */
} gh_gov_cluster_options;
/* Names the node and starts its follower thread; the checkpoint signer (when
 * started after) signs on its own only while this node holds the signing
 * lease (5 poll intervals, renewed every poll). Stopped by
 * gh_gov_cluster_stop (also by gh_gov_free). */
int gh_gov_cluster_start(gh_gov *g, const gh_gov_cluster_options *o);
void gh_gov_cluster_stop(gh_gov *g);
/* This node's id (borrowed). */
const char *gh_gov_node_id(gh_gov *g);

/* --- signed checkpoints (checkpoints.c) -------------------------------- */
typedef struct gh_gov_checkpoint_options {
	const char *key_path;    /* the signing key file (mode 0600) */
	int key_required;        /* 0: a missing key file turns checkpoints off */
	int64_t after_ms;        /* sign this long after the log grows (0: 1 s); < 0:
				  * not after writes (only every_ms and callers' asks) */
	int64_t every_ms;        /* idle upper bound between signatures (>= 1) */
	int max_waiters;         /* callers waiting at once; 0: the signer's default */
} gh_gov_checkpoint_options;
/* Creates the signing key file keypath (mode 0600, never over an existing
 * file) for a new origin "gatehouse/<8 hex>", kept in the database; the
 * origin and the verifier key to publish come back (either may be NULL). */
int gh_gov_checkpoint_key_create(char *origin, size_t originlen, char *vkey, size_t vkeylen,
				 gh_gov *g, const char *keypath);
/* Loads the key and starts the signer thread, which signs at once when the
 * log grew since the latest checkpoint; *off = 1 (and 0) when the key file
 * is missing and not required. Stopped by gh_gov_checkpoints_stop (waiters
 * answer at once; signing on request goes on) and freed by gh_gov_free. */
int gh_gov_checkpoints_start(gh_gov *g, const gh_gov_checkpoint_options *o, int *off);
void gh_gov_checkpoints_stop(gh_gov *g);
/* admin, iam, auditor: the latest checkpoint, or with covers (text: an event's
 * sequence number) one covering it, asking the signer and waiting up to wait
 * seconds (text, 0-10, default 5). {"origin","size","root","note"}.
 * GH_ENOTFOUND when checkpoints are off. */
int gh_gov_checkpoint_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *covers,
			  const char *wait);
/* admin: signs one now, whatever the rate. */
int gh_gov_checkpoint_sign(json_t **out, gh_gov *g, const gh_actor *actor);
/* anyone: {"vkey","name","origin"}, the verifier key to publish. */
int gh_gov_public_key(json_t **out, gh_gov *g);

/* --- what is checked without the server (offline.c) ------------------- */
/* For the holder of the log's verifier key or of a key file: the proofs the
 * API hands out, signed checkpoints and evidence bundles are checked against
 * nothing but their text; no database is read (no gh_gov) unless named. */

/* Checks an answer of gh_gov_audit_inclusion ({"index","size","leaf_hash",
 * "root","proof"}) or of gh_gov_audit_consistency ({"old_size","new_size",
 * "old_root","new_root","proof"}), as received from a server: 0 when the
 * proof leads to the root(s) it names (RFC 9162); GH_EINVALID with a message
 * saying what does not hold, or that the answer is malformed. */
int gh_gov_audit_inclusion_check(const json_t *answer);
int gh_gov_audit_consistency_check(const json_t *answer);

/* What gh_gov_checkpoint_verify found. */
typedef struct gh_gov_checkpoint_check {
	char origin[256];        /* the log's origin line */
	int64_t size;            /* the tree size it signs */
	char root[64];           /* the root hash, standard base64 */
	char why[512];           /* what is wrong, when it does not verify */
} gh_gov_checkpoint_check;
/* Verifies a signed checkpoint note against the verifier key vkey (text
 * "<name>+<hex id>+<base64>"): 0 with origin, size and root; GH_EINVALID
 * with why ("signature does not verify", "no signature by key X", ...). */
int gh_gov_checkpoint_verify(gh_gov_checkpoint_check *out, const char *note, const char *vkey);
/* The verifier key of the signing key file keypath (no database). */
int gh_gov_checkpoint_key_vkey(char *vkey, size_t vkeylen, const char *keypath);
/* A new signing key file keypath (mode 0600, never over an existing file:
 * GH_ECONFLICT) for the origin g's database already has (rotation: the old
 * key is moved away first); its verifier key into vkey (may be NULL). */
int gh_gov_checkpoint_key_rotate(char *vkey, size_t vkeylen, gh_gov *g, const char *keypath);

/* Evidence bundles (docs/api.md, Evidence): the canonical JSON text
 * (malloc'd, with its final newline) of a request's events as the API gives
 * them (gh_gov_request_history's items) with one inclusion proof (the
 * "proof" array of gh_gov_audit_inclusion) per event, in the same order, and
 * the signed checkpoint note they lead to. */
int gh_gov_evidence_build(char **out, const char *request_id, const char *checkpoint_note,
			  const json_t *events, const json_t *proofs);
/* Verifies bundle text (len bytes) against vkey: 0 when every byte holds;
 * GH_EINVALID when not. *report (always set unless out of memory): {"ok",
 * "request","origin","size","events": N,"problems": [what fails, exactly]}. */
int gh_gov_evidence_verify(json_t **report, const char *text, size_t len, const char *vkey);

/* SIEM export (docs/operations.md, SIEM export) of audit events as the API
 * gives them. One event as an ArcSight CEF line without its line end
 * (NUL-terminated, *len its length); GH_EINVALID for a non-object. */
int gh_gov_export_cef(char **out, size_t *len, const json_t *event);
/* line (linelen bytes: the event's CEF or JSON line) framed as an RFC 5424
 * message from host and pid, with the event's time and a severity from its
 * action, cut to one datagram (GH_GOV_EXPORT_SYSLOG_MAX bytes). */
#define GH_GOV_EXPORT_SYSLOG_MAX 65000
int gh_gov_export_syslog(char **out, size_t *len, const json_t *event, const char *host,
			 long pid, const char *line, size_t linelen);
/* Where a resumable export has got to (its --state FILE). */
typedef struct gh_gov_export_state {
	int64_t seq;             /* the last event delivered */
	char format[8];          /* "json" or "cef" */
	char output[8];          /* "stdout", "file" or "syslog" */
	int64_t offset;          /* file: its size after the last complete batch */
	int64_t dev, ino;        /* file: which file that was */
} gh_gov_export_state;
/* Reads a state file: GH_ENOTFOUND when it does not exist, GH_EINVALID
 * naming the file and the problem when it is corrupt. */
int gh_gov_export_state_read(gh_gov_export_state *out, const char *path);
/* Writes it atomically (a crash leaves the old or the new state). */
int gh_gov_export_state_write(const char *path, const gh_gov_export_state *st);

/* --- policy versions (policy_versions.c) ------------------------------ */
/* Versioned Cedar policy sets, numbered 1, 2, 3... Writes need admin or iam;
 * reads need admin, iam or auditor. Version shape: {"id","version","state",
 * "sha256","comment","proposed_by","proposed_at","validation","activated_by",
 * "activated_at"} plus "text" from get and active. state is "proposed",
 * "active", "superseded" or "rejected"; at most one version is active. */
/* in: {"text","comment"?}. text (at most 1 MiB) must parse as Cedar, else
 * GH_EINVALID with a "text" field error "line:column: message". validation
 * lists the configured schema's errors ([] when valid or no schema). */
int gh_gov_policy_propose(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);
/* ref: id or version number; in: {"comment"?} or NULL. Four eyes: the
 * version's proposer may not activate it (GH_EDENIED), also when it is an
 * earlier, superseded version activated again (rollback). A version with
 * validation errors, or one already active or rejected, is GH_ECONFLICT.
 * The previously active version becomes superseded. */
int gh_gov_policy_activate(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref,
			   const json_t *in);
int gh_gov_policy_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *ref);
/* Oldest first, without the text. */
int gh_gov_policy_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page);
/* What-if (simulate.c): in is {"text": Cedar policy text} or {"version":
 * id or number}, exactly one. Evaluates it against the current inventory,
 * pending requests and active grants, changing nothing; the answer is
 * {"policy":{"version","sha256"},"active_version","validation","requests",
 * "grants"} (docs/api.md). Roles admin, iam, auditor. */
int gh_gov_policy_simulate(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);
/* The active version with its text, or GH_ENOTFOUND when none is. */
int gh_gov_policy_active(json_t **out, gh_gov *g, const gh_actor *actor);

/* --- NHI credentials (credentials.c) ------------------------------------ */
/* API keys issued to an NHI for a grant of a system with the "credential"
 * connector. Key text "ghk_<16 hex>.<secret>", shown once; only SHA-256 of
 * the secret is stored. Shape (docs/api.md, Credential): {"id","identity",
 * "grant","entitlement","system","created_by","created_at","expires_at",
 * "valid_until","revoked_at","revoked_by","revoke_reason","last_used_at",
 * "rotated_from","rotated_to","status":"active"|"expiring"|"expired"|"revoked"}.
 * Writers: the NHI's owner or an admin (revoke also iam); readers: the owner,
 * admin, iam, auditor (anyone else: GH_ENOTFOUND). All audited, never the key. */
/* in: {"expires_in"?: duration}. The grant must be active and of a credential
 * system, its NHI active and unexpired. expires_at = min(now + expires_in,
 * the grant's expires_at, the NHI's expires_at). out: credential + "key". */
int gh_gov_credential_issue(json_t **out, gh_gov *g, const gh_actor *actor,
			    const char *grant_id, const json_t *in);
/* in: {"overlap"?: duration 0..24h, default 1h}. A new key for the same grant
 * (same lifetime, capped by the grant); the old one works until now + overlap
 * (its valid_until). out: the new credential + "key", and "previous". */
int gh_gov_credential_rotate(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			     const json_t *in);
/* in: {"reason"}. out: the credential, now revoked. */
int gh_gov_credential_revoke(json_t **out, gh_gov *g, const gh_actor *actor, const char *id,
			     const json_t *in);
int gh_gov_credential_get(json_t **out, gh_gov *g, const gh_actor *actor, const char *id);
/* filter: identity (ref), grant (id), status, or NULL. */
int gh_gov_credential_list(json_t **out, gh_gov *g, const gh_actor *actor, const gh_page *page,
			   const char *identity, const char *grant, const char *status);
/* RFC 7662 introspection of in {"token": key, "token_type_hint"?} for any
 * authenticated actor: {"active": false} and nothing else whatever is wrong
 * with the key (unknown, malformed, revoked, expired, rotated out, its grant
 * ended, its NHI suspended, decommissioned or expired); otherwise {"active":
 * true,"sub","username","client_id","scope","token_type":"api_key","iat",
 * "exp","gatehouse":{"grant","entitlement","system","owner"}}. GH_EINVALID
 * only for a body without a token. Updates last_used_at at most once a
 * minute per key. */
int gh_gov_introspect(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);

/* --- moving an installation to another database (migrate.c) ------------ */
#define GH_GOV_MIGRATE_MAX_TABLES 64
/* What gh_gov_migrate did: each table's rows in the source and, after the
 * copy, in the target; the audit log as verified on arrival. */
typedef struct gh_gov_migrate_report {
	size_t ntables;
	struct {
		const char *name;        /* static */
		int64_t source_rows;
		int64_t target_rows;     /* -1 when not counted */
	} tables[GH_GOV_MIGRATE_MAX_TABLES];
	int copied;              /* 1 when the copy was committed (and, on a failed
				  * verification, removed again) */
	int64_t events;          /* audit events verified on arrival */
	int64_t bad_seq;         /* first bad sequence number, 0 when intact */
	char reason[256];        /* why verification failed, "" when it did not */
} gh_gov_migrate_report;
/* Copies the installation in from (an SQLite file, which must exist) into
 * to (a postgresql:// URL, or another SQLite path): every table in one
 * transaction, rows exactly as stored, generated keys moved past the copied
 * ones; then verifies, over the target, the audit chain and Merkle tree
 * (as gh_gov_audit_verify) and that every table holds as many rows as the
 * source. Run it with no server using either database.
 * 0 when all of that holds. GH_ECONFLICT when the target already holds
 * data: nothing is changed. GH_EINVALID when verification fails (reason in
 * out and the error): the copy is deleted from the target again. Messages
 * name a URL without its password. */
int gh_gov_migrate(gh_gov_migrate_report *out, const char *from, const char *to);

#endif
