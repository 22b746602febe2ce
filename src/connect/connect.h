/* connect.h - connectors: how a grant becomes access in the system that holds
 * it, and how its removal really removes it. One interface, one file per kind
 * (postgres.c, ldap.c, webhook.c, exec.c); the domain (src/gov) drives them
 * through the outbox and never holds a database lock while a connector runs.
 *
 * The operator configures connector instances (src/common/config.h): a name,
 * a kind and the kind's settings (program, URL, conninfo, secrets as "*_ref"
 * references from the configuration's secrets table). A system names an
 * instance ("connector") and gives only the few per-system parameters its
 * kind allows ("connector_settings", e.g. account_attribute); the settings a
 * kind sees are the instance's plus those parameters (gh_connect_settings),
 * never stored or returned. Secrets are read only when needed
 * (gh_secret_resolve) and never logged, stored or returned.
 *
 * Conventions: functions return 0 or a GH_E* code with gh_error_last() set
 * (a message naming the system's problem, never a secret). GH_ERROR means the
 * target could not be reached or failed and the job is retried; GH_EINVALID
 * means the settings or the job are wrong (retrying will not help). Grant and
 * revoke are idempotent: granting what is held and revoking what is absent
 * succeed. Connectors are called from worker threads, several at once. */
#ifndef GH_CONNECT_H
#define GH_CONNECT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct gh_config;

/* One unit of work: give account the target, or take it away. */
typedef struct gh_conn_job {
	const char *op;          /* "grant" or "revoke" */
	const char *job_id;      /* the outbox job ("job_..."); grant_id + op is the
				  * idempotency key */
	const char *grant_id;    /* NULL for a shadow-access removal */
	const char *system_id, *system_name;
	const char *entitlement_id, *entitlement_name;
	const char *subject_id, *subject_name;
	const char *account;     /* downstream account: the subject's attribute named
				  * by settings "account_attribute", else its name */
	const char *target;      /* downstream object: the entitlement's attribute
				  * "target" (a role, a group DN, ...) */
	int64_t expires_at;      /* unix seconds; 0 when not known */
	int attempt;             /* 1 for the first */
} gh_conn_job;

/* Access that exists downstream, for reconciliation. */
typedef struct gh_conn_access {
	char *account;
	char *target;
} gh_conn_access;

typedef struct gh_connector_kind {
	const char *name;                /* "postgres", "ldap", "webhook", "exec", "manual" */
	const char *const *fields;       /* the settings keys it accepts (NULL-terminated) */
	/* Field errors for bad settings, named "connector_settings.<key>", via
	 * gh_error_field; GH_EINVALID when any. Does not contact the system. */
	int (*check)(const json_t *settings);
	/* Does the job. *receipt (may stay NULL): a small JSON object the
	 * system answered, kept with the grant (never a secret). */
	int (*apply)(const json_t *settings, const gh_conn_job *job, json_t **receipt);
	/* Every (account, target) that exists downstream for the given targets
	 * (ntargets of them); *out malloc'd, each string malloc'd; free with
	 * gh_conn_access_free. NULL when the kind cannot read access back. */
	int (*list)(const json_t *settings, const char *const *targets, size_t ntargets,
		    gh_conn_access **out, size_t *n);
	/* The keys a system may set itself (NULL-terminated): everything else
	 * comes from the instance in the configuration. */
	const char *const *system_fields;
	/* Whether target is one the instance may act on (a group DN under its
	 * group_base, a role its roles globs allow); GH_EINVALID with a message
	 * naming the target when not. NULL: any target. */
	int (*target)(const json_t *settings, const char *target);
} gh_connector_kind;

/* The kind named name, or NULL. */
const gh_connector_kind *gh_connector_find(const char *name);
/* For tests only: adds one more kind (k NULL removes it), found by name
 * after the built-in ones; k must outlive its use. Not thread-safe: call
 * before any worker runs. GH_ECONFLICT when a built-in kind has the name. */
int gh_connector_register_test(const gh_connector_kind *k);
/* Checks settings for kind (unknown keys refused, secrets only as *_ref):
 * 0 or GH_EINVALID with field errors. Field errors add to those already
 * collected (a caller validating a whole body clears once, at its start). */
int gh_connector_check(const char *kind, const json_t *settings);
void gh_conn_access_free(gh_conn_access *a, size_t n);

/* --- instances (src/connect/instance.c) -------------------------------- */

/* 1 for the built-in connectors that need no configuration ("manual",
 * "credential"), else 0. */
int gh_connect_builtin(const char *connector);
/* Checks a system's connector (a configured instance of cfg, or a built-in)
 * and its per-system parameters params (may be NULL): field errors
 * "connector" (listing the configured names) and
 * "connector_settings.<key>" (a key the instance's kind does not let a system
 * set, or a bad value); GH_EINVALID when any. Values are never echoed. */
int gh_connect_check_system(const struct gh_config *cfg, const char *connector,
			    const json_t *params);
/* The settings a job of a system runs with: the instance's settings plus
 * the system's params (never overriding an instance key). *kind borrowed.
 * GH_ERROR "connector instance X is not configured on this server" when cfg
 * has no such instance (retrying after a restart with it configured works);
 * GH_EINVALID when its kind is unknown. */
int gh_connect_settings(json_t **out, const gh_connector_kind **kind,
			const struct gh_config *cfg, const char *connector, const json_t *params);
/* Checks target against the instance connector names (0 when it has no
 * target rule, or is not configured: the job will say so): GH_EINVALID with
 * a message otherwise. */
int gh_connect_check_target(const struct gh_config *cfg, const char *connector,
			    const char *target);

/* Reads the secret ref names ("env:NAME" or "file:/path", the file's first
 * line without its newline, at most 4 KiB; a reference only the server
 * configuration's secrets table makes) into a malloc'd string the caller
 * wipes with gh_secret_free. GH_EINVALID for a malformed ref, GH_ENOTFOUND
 * when the variable or file is missing; the message names the ref, never the
 * value. */
int gh_secret_resolve(char **out, const char *ref);
void gh_secret_free(char *secret);
/* 1 when ref is a well-formed reference ("env:" and a variable name, or
 * "file:" and an absolute path), else 0; sets no error. */
int gh_secret_ref_valid(const char *ref);

/* Helpers for the kinds' check() and apply() (src/connect/job.c). */
/* The job as sent downstream (webhook body, exec stdin): {"event","job",
 * "grant","system":{"id","name"},"entitlement":{"id","name"},"target",
 * "subject":{"id","name"},"account","expires_at","attempt"}; NULL on OOM. */
json_t *gh_conn_job_json(const gh_conn_job *job);
/* Settings key as a duration (string "10s" or whole seconds) in min..max
 * seconds, def when absent; a field error "connector_settings.<key>" and -1
 * when wrong. */
int gh_conn_setting_duration(const json_t *settings, const char *key, int64_t min,
			     int64_t max, int64_t def, int64_t *out);
/* Settings key as a secret reference (gh_secret_ref_valid); a field error
 * when wrong, or absent and required. *out borrowed (NULL when absent). */
int gh_conn_setting_secret_ref(const json_t *settings, const char *key, int required,
			       const char **out);

/* The kinds (one file each). */
extern const gh_connector_kind gh_connector_manual;
extern const gh_connector_kind gh_connector_postgres;
extern const gh_connector_kind gh_connector_ldap;
extern const gh_connector_kind gh_connector_webhook;
extern const gh_connector_kind gh_connector_exec;

#endif
