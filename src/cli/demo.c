/* demo.c - seeds a realistic estate through the domain functions (no SQL), as a smoke test too. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gatehouse/errors.h"
#include "gatehouse/common.h"
#include "gatehouse/gov.h"

typedef struct person {
	const char *name;
	const char *display;
	const char *team;
	const char *roles;       /* comma-separated role names */
} person;

static const person people[] = {
	{"alice", "Alice Moreau", "payments", "approver,requester"},
	{"bob", "Bob Okafor", "payments", "approver,requester"},
	{"pavel", "Pavel Novak", "payments", "approver,requester"},
	{"carol", "Carol Chen", "payments", "requester"},
	{"dmitri", "Dmitri Volkov", "data-platform", "approver,requester"},
	{"erin", "Erin Walsh", "data-platform", "approver,requester"},
	{"quinn", "Quinn Adams", "data-platform", "approver,requester"},
	{"farid", "Farid Haddad", "data-platform", "requester"},
	{"grace", "Grace Liu", "identity", "iam"},
	/* a second IAM person: policy activation takes four eyes */
	{"ines", "Ines Duarte", "identity", "iam"},
	{"hiro", "Hiro Tanaka", "identity", "approver,requester"},
	{"nora", "Nora Lindqvist", "identity", "approver,requester"},
	{"ivan", "Ivan Petrov", "sre", "approver,requester"},
	{"julia", "Julia Santos", "sre", "approver,requester"},
	{"kofi", "Kofi Mensah", "sre", "requester"},
	{"lena", "Lena Fischer", "ml-platform", "approver,requester"},
	{"oscar", "Oscar Reyes", "ml-platform", "approver,requester"},
	{"mateo", "Mateo Rossi", "ml-platform", "requester"},
	{"sam", "Sam Patel", "service-desk", "servicedesk"},
	{"tessa", "Tessa Brown", "service-desk", "servicedesk"},
	{"uma", "Uma Iyer", "internal-audit", "auditor"},
};

typedef struct group {
	const char *name;
	const char *description;
	const char *members;     /* identities, comma-separated */
	const char *groups;      /* nested groups */
} group;

static const group groups[] = {
	{"team-payments", "Payments engineering", "alice,bob,pavel,carol", ""},
	{"team-data-platform", "Data platform engineering", "dmitri,erin,quinn,farid", ""},
	{"team-identity", "Identity and access management", "grace,ines,hiro,nora", ""},
	{"team-sre", "Site reliability engineering", "ivan,julia,kofi", ""},
	{"team-ml-platform", "Machine learning platform", "lena,oscar,mateo", ""},
	{"payments-owners", "Control owners of the payments platform", "alice,bob,pavel", ""},
	{"dba-leads", "Senior database administrators", "dmitri,quinn", ""},
	{"dba-owners", "Control owners of production databases", "erin", "dba-leads"},
	{"directory-owners", "Control owners of the LDAP directory", "hiro,nora", ""},
	{"cloud-owners", "Control owners of the AWS accounts", "ivan,julia", ""},
	{"sre-oncall", "SRE on-call rotation", "ivan", ""},
	{"platform-owners", "Control owners of Kubernetes and Vault", "julia", "sre-oncall"},
	{"github-owners", "Control owners of the GitHub organisation", "lena,hiro", ""},
	{"ml-owners", "Control owners of the ML platform", "lena,oscar", ""},
};

typedef struct nhi {
	const char *kind;
	const char *name;
	const char *owner;
	const char *purpose;
	const char *environment;
	int days;                /* expires this many days from now */
	const char *attributes;  /* JSON object */
	const char *roles;
} nhi;

static const nhi nhis[] = {
	{"service_account", "billing-etl", "farid", "nightly billing export to the warehouse",
	 "prod", 180, "{\"team\":\"data-platform\",\"schedule\":\"02:00 UTC\"}", ""},
	{"service_account", "payments-batch", "carol", "settlement batch jobs", "prod", 365,
	 "{\"team\":\"payments\",\"pci\":true}", "requester"},
	{"service_account", "ledger-reconciler", "bob", "reconciles the ledger against bank files",
	 "prod", 365, "{\"team\":\"payments\",\"pci\":true}", ""},
	{"service_account", "ldap-sync", "nora", "syncs HR records into the directory", "prod", 270,
	 "{\"team\":\"identity\"}", ""},
	{"service_account", "k8s-deployer", "kofi", "deploys workloads from CI", "prod", 120,
	 "{\"team\":\"sre\"}", "requester"},
	{"service_account", "backup-runner", "kofi", "database and volume backups", "prod", 365,
	 "{\"team\":\"sre\"}", ""},
	{"service_account", "analytics-loader", "farid", "loads staging data for analysts",
	 "staging", 90, "{\"team\":\"data-platform\"}", ""},
	{"api_key", "stripe-webhook-key", "carol", "verifies Stripe webhooks", "prod", 90,
	 "{\"team\":\"payments\",\"vendor\":\"stripe\"}", ""},
	{"api_key", "pagerduty-key", "kofi", "opens incidents from alerting", "prod", 180,
	 "{\"team\":\"sre\",\"vendor\":\"pagerduty\"}", ""},
	{"api_key", "partner-reporting-key", "alice", "partner settlement reports", "staging", 60,
	 "{\"team\":\"payments\"}", ""},
	{"api_key", "datadog-key", "ivan", "ships metrics and logs", "prod", 365,
	 "{\"team\":\"sre\",\"vendor\":\"datadog\"}", ""},
	{"workload", "payments-api", "carol", "public payments API", "prod", 365,
	 "{\"team\":\"payments\",\"namespace\":\"payments\"}", ""},
	{"workload", "fraud-scorer", "mateo", "scores transactions for fraud", "prod", 365,
	 "{\"team\":\"ml-platform\",\"namespace\":\"ml\"}", ""},
	{"workload", "feature-store", "mateo", "serves online features", "staging", 180,
	 "{\"team\":\"ml-platform\"}", ""},
	{"workload", "checkout-worker", "carol", "checkout queue worker", "dev", 30,
	 "{\"team\":\"payments\"}", ""},
	{"oauth_app", "github-ci-app", "julia", "CI pipelines on the GitHub organisation", "prod",
	 365, "{\"team\":\"sre\",\"vendor\":\"github\"}", ""},
	{"oauth_app", "jira-integration", "hiro", "links access tickets to Jira", "prod", 365,
	 "{\"team\":\"identity\",\"vendor\":\"atlassian\"}", ""},
	{"oauth_app", "slack-notifier", "kofi", "posts deploy notices to Slack", "dev", 30,
	 "{\"team\":\"sre\",\"vendor\":\"slack\"}", ""},
	{"ai_agent", "support-copilot", "oscar", "drafts answers for support agents", "prod", 90,
	 "{\"team\":\"ml-platform\",\"model\":\"hosted-llm\",\"autonomy\":\"suggest\"}", ""},
	{"ai_agent", "code-review-agent", "lena", "reviews pull requests", "staging", 90,
	 "{\"team\":\"ml-platform\",\"autonomy\":\"comment\"}", ""},
	{"ai_agent", "data-quality-agent", "mateo", "checks pipeline outputs", "dev", 60,
	 "{\"team\":\"ml-platform\",\"autonomy\":\"report\"}", ""},
	{"ai_agent", "incident-triage-agent", "julia", "triages alerts and pages on-call", "prod",
	 120, "{\"team\":\"sre\",\"autonomy\":\"act-with-approval\"}", ""},
};

typedef struct system_def {
	const char *name;
	const char *description;
	const char *owner;
} system_def;

static const system_def systems[] = {
	{"billing-db", "PostgreSQL billing database", "erin"},
	{"corp-ldap", "Corporate LDAP directory", "hiro"},
	{"aws-prod", "AWS production account", "ivan"},
	{"github-org", "GitHub organisation", "julia"},
	{"k8s-prod", "Kubernetes production cluster", "julia"},
	{"vault", "HashiCorp Vault secrets", "ivan"},
	{"payments-core", "Payments platform back office", "alice"},
	{"ml-platform", "Feature store and model registry", "lena"},
};

typedef struct entitlement {
	const char *system;
	const char *name;
	const char *description;
	const char *risk;
	const char *sensitivity;
	const char *environment;
	const char *group;
	const char *max_duration;
	int requestable;
	const char *conflicts;   /* "system/name", comma-separated */
} entitlement;

static const entitlement entitlements[] = {
	{"billing-db", "read-only", "SELECT on billing schemas", "low", "confidential", "prod",
	 "dba-owners", "8h", 1, ""},
	{"billing-db", "read-write", "DML on billing schemas", "medium", "confidential", "prod",
	 "dba-owners", "8h", 1, ""},
	{"billing-db", "admin", "DDL and role management", "high", "restricted", "prod",
	 "dba-owners", "4h", 1, ""},
	{"billing-db", "superuser", "PostgreSQL superuser", "critical", "restricted", "prod",
	 "dba-owners", "1h", 0, ""},
	{"billing-db", "staging-read-write", "DML on the staging copy", "low", "internal",
	 "staging", "dba-owners", "7d", 1, ""},
	{"corp-ldap", "read-directory", "search the directory", "low", "internal", "prod",
	 "directory-owners", "30d", 1, ""},
	{"corp-ldap", "group-admin", "manage group membership", "high", "confidential", "prod",
	 "directory-owners", "8h", 1, ""},
	{"corp-ldap", "schema-admin", "change the directory schema", "critical", "restricted",
	 "prod", "directory-owners", "2h", 0, ""},
	{"aws-prod", "readonly", "ReadOnlyAccess", "low", "internal", "prod", "cloud-owners", "12h",
	 1, ""},
	{"aws-prod", "s3-billing-exports-read", "read the billing export bucket", "medium",
	 "confidential", "prod", "cloud-owners", "7d", 1, ""},
	{"aws-prod", "poweruser", "PowerUserAccess", "high", "confidential", "prod",
	 "cloud-owners", "4h", 1, ""},
	{"aws-prod", "organization-admin", "AdministratorAccess on the organisation", "critical",
	 "restricted", "prod", "cloud-owners", "1h", 1, ""},
	{"github-org", "repo-read", "read all repositories", "low", "internal", "prod",
	 "github-owners", "90d", 1, ""},
	{"github-org", "repo-write", "push to non-protected branches", "medium", "internal", "prod",
	 "github-owners", "30d", 1, ""},
	{"github-org", "org-owner", "owner of the organisation", "critical", "restricted", "prod",
	 "github-owners", "1h", 0, ""},
	{"k8s-prod", "namespace-viewer", "view workloads in a namespace", "low", "internal", "prod",
	 "platform-owners", "30d", 1, ""},
	{"k8s-prod", "deployer", "deploy to production namespaces", "medium", "confidential",
	 "prod", "platform-owners", "7d", 1, ""},
	{"k8s-prod", "cluster-admin", "cluster-admin role", "critical", "restricted", "prod",
	 "platform-owners", "2h", 1, ""},
	{"k8s-prod", "staging-deployer", "deploy to staging namespaces", "low", "internal",
	 "staging", "platform-owners", "30d", 1, ""},
	{"vault", "read-secrets-payments", "read payments secrets", "high", "restricted", "prod",
	 "platform-owners", "8h", 1, ""},
	{"vault", "pki-issuer", "issue internal TLS certificates", "medium", "confidential", "prod",
	 "platform-owners", "30d", 1, ""},
	{"payments-core", "view-transactions", "read transactions", "low", "confidential", "prod",
	 "payments-owners", "30d", 1, ""},
	{"payments-core", "approve-payment", "approve outgoing payments", "high", "restricted",
	 "prod", "payments-owners", "8h", 1, ""},
	{"payments-core", "initiate-payment", "initiate outgoing payments", "high", "restricted",
	 "prod", "payments-owners", "8h", 1, "payments-core/approve-payment"},
	{"payments-core", "issue-refund", "issue refunds", "medium", "confidential", "prod",
	 "payments-owners", "8h", 1, ""},
	{"payments-core", "approve-refund", "approve refunds", "medium", "confidential", "prod",
	 "payments-owners", "8h", 1, "payments-core/issue-refund"},
	{"ml-platform", "feature-store-read", "read online features", "low", "internal", "prod",
	 "ml-owners", "30d", 1, ""},
	{"ml-platform", "model-deploy", "promote models to production", "medium", "confidential",
	 "prod", "ml-owners", "7d", 1, ""},
	{"ml-platform", "training-data-restricted", "read restricted training data", "high",
	 "restricted", "prod", "ml-owners", "8h", 1, ""},
};

/* A scripted request: who submits it, then what happens to it. */
typedef struct script {
	const char *submitter;
	const char *channel;
	const char *ticket;
	const char *requester;   /* on whose behalf; NULL: the submitter */
	const char *subject;
	const char *entitlement;
	const char *justification;
	const char *duration;
	const char *approvers;   /* approve in this order */
	const char *rejecter;    /* rejects with a comment */
	int cancel;              /* the submitter cancels it */
	int revoke;              /* grace (iam) revokes the grant */
	int expire;              /* the scheduler expires the grant */
	const char *expect;      /* the state it must end in */
} script;

static const script scripts[] = {
	{"kofi", "portal", NULL, NULL, "k8s-deployer", "k8s-prod/namespace-viewer",
	 "CI needs to watch rollout status", "7d", "", NULL, 0, 0, 0, "active"},
	{"sam", "servicedesk", "RITM-2031", "farid", "analytics-loader",
	 "billing-db/staging-read-write", "refresh of the staging billing copy", "3d", "", NULL, 0,
	 0, 0, "active"},
	{"carol", "chat", NULL, NULL, "payments-api", "payments-core/view-transactions",
	 "show transaction status to customers", "30d", "", NULL, 0, 0, 0, "active"},
	{"lena", "portal", NULL, NULL, "code-review-agent", "github-org/repo-read",
	 "review pull requests across repositories", "30d", "", NULL, 0, 0, 0, "active"},
	{"mateo", "portal", NULL, NULL, "mateo", "ml-platform/feature-store-read",
	 "debugging feature drift", "7d", "", NULL, 0, 0, 0, "active"},
	{"sam", "servicedesk", "RITM-2041", "carol", "payments-batch", "billing-db/read-write",
	 "month-end settlement correction", "8h", "", NULL, 0, 0, 0, "pending_approval"},
	{"mateo", "portal", NULL, NULL, "fraud-scorer", "ml-platform/model-deploy",
	 "ship fraud model v7", "2d", "", NULL, 0, 0, 0, "pending_approval"},
	{"farid", "api", NULL, NULL, "billing-etl", "billing-db/admin",
	 "add a partition for the new billing region", "2h", "erin", NULL, 0, 0, 0,
	 "pending_approval"},
	{"farid", "portal", NULL, NULL, "billing-etl", "billing-db/read-write",
	 "backfill of corrected invoices", "8h", "dmitri", NULL, 0, 0, 0, "active"},
	{"kofi", "portal", NULL, NULL, "backup-runner", "aws-prod/poweruser",
	 "migrate backups to the new vault account", "4h", "ivan,julia", NULL, 0, 0, 0, "active"},
	{"bob", "portal", NULL, NULL, "ledger-reconciler", "payments-core/approve-payment",
	 "auto-approve reconciled settlement batches", "8h", "alice,pavel", NULL, 0, 0, 0,
	 "active"},
	{"bob", "portal", NULL, NULL, "ledger-reconciler", "payments-core/initiate-payment",
	 "re-initiate failed settlements", "8h", "", NULL, 0, 0, 0, "denied"},
	{"sam", "servicedesk", "INC-7731", "oscar", "support-copilot",
	 "vault/read-secrets-payments", "answer card-decline questions", "8h", "", "julia", 0, 0, 0,
	 "rejected"},
	{"farid", "portal", NULL, NULL, "analytics-loader", "aws-prod/s3-billing-exports-read",
	 "load billing exports into staging", "7d", "", NULL, 1, 0, 0, "cancelled"},
	{"julia", "portal", NULL, NULL, "github-ci-app", "github-org/repo-read",
	 "CI checkout of all repositories", "30d", "", NULL, 0, 1, 0, "revoked"},
	{"carol", "portal", NULL, NULL, "checkout-worker", "k8s-prod/staging-deployer",
	 "one-off deploy of a hotfix build", "1m", "", NULL, 0, 0, 1, "expired"},
};

/* Personas whose tokens are printed at the end. */
static const struct {
	const char *persona;
	const char *name;
} personas[] = {
	{"iam", "grace"},        {"iam", "ines"},      {"approver", "erin"},
	{"on-call", "ivan"},     {"servicedesk", "sam"}, {"auditor", "uma"},
	{"requester", "carol"},
};

typedef struct demo {
	gh_gov *g;
	gh_actor admin;
	char ctx[160];           /* what was being done, for the error message */
} demo;

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int failed(demo *d, int rc)
{
	gh_cli_error(d->ctx);
	return rc ? rc : GH_ERROR;
}

static json_t *list_json(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv;

	while (a && *p) {
		size_t n = strcspn(p, ",");

		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

static unsigned roles_of(const char *csv)
{
	unsigned roles = 0;
	char name[32];
	const char *p = csv;

	while (*p) {
		size_t n = strcspn(p, ",");

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		roles |= gh_role_parse(name);
		p += n + (p[n] == ',');
	}
	return roles;
}

/* The actor for a person of the table, as a token of theirs would be. */
static int actor_of(demo *d, gh_actor *out, const char *name)
{
	json_t *idn = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < NELEM(people); i++)
		if (strcmp(people[i].name, name) == 0)
			out->roles = roles_of(people[i].roles);
	snprintf(d->ctx, sizeof(d->ctx), "looking up %s", name);
	if ((rc = gh_gov_identity_get(&idn, d->g, &d->admin, name)))
		return failed(d, rc);
	snprintf(out->id, sizeof(out->id), "%s", json_string_value(json_object_get(idn, "id")));
	json_decref(idn);
	return 0;
}

/* Runs one creating call; in is consumed. */
typedef int (*create_fn)(json_t **out, gh_gov *g, const gh_actor *actor, const json_t *in);

static int create(demo *d, create_fn fn, json_t *in, const char *what, const char *name)
{
	json_t *out = NULL;
	int rc;

	snprintf(d->ctx, sizeof(d->ctx), "creating %s %s", what, name);
	if (!in)
		return failed(d, gh_error_set(GH_ERROR, "out of memory"));
	rc = fn(&out, d->g, &d->admin, in);
	json_decref(in);
	json_decref(out);
	return rc ? failed(d, rc) : 0;
}

static void future(char *buf, size_t len, int days)
{
	gh_time_format(buf, len, gh_now() + (int64_t)days * 86400);
}

/* How often access reviews revisit an entitlement: what policy may read. */
static const char *review_cadence(const char *risk)
{
	if (strcmp(risk, "low") == 0)
		return "annual";
	return strcmp(risk, "medium") == 0 ? "quarterly" : "monthly";
}

static int seed_inventory(demo *d)
{
	char expires[40];
	int rc;

	for (size_t i = 0; i < NELEM(people); i++) {
		const person *p = &people[i];
		char email[96];

		snprintf(email, sizeof(email), "%s@example.com", p->name);
		if ((rc = create(d, gh_gov_identity_create,
				 json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s}}", "kind", "human",
					   "name", p->name, "display_name", p->display, "email",
					   email, "roles", list_json(p->roles), "attributes",
					   "team", p->team),
				 "identity", p->name)))
			return rc;
	}
	for (size_t i = 0; i < NELEM(nhis); i++) {
		const nhi *n = &nhis[i];
		json_t *attrs = json_loads(n->attributes, 0, NULL);

		future(expires, sizeof(expires), n->days);
		if ((rc = create(d, gh_gov_identity_create,
				 json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "kind", n->kind,
					   "name", n->name, "owner", n->owner, "purpose", n->purpose,
					   "environment", n->environment, "expires_at", expires,
					   "roles", list_json(n->roles), "attributes",
					   attrs ? attrs : json_object()),
				 "identity", n->name)))
			return rc;
	}
	for (size_t i = 0; i < NELEM(groups); i++)
		if ((rc = create(d, gh_gov_group_create,
				 json_pack("{s:s, s:s}", "name", groups[i].name, "description",
					   groups[i].description),
				 "group", groups[i].name)))
			return rc;
	/* members after every group exists, so that nesting can refer to any */
	for (size_t i = 0; i < NELEM(groups); i++) {
		for (int nested = 0; nested < 2; nested++) {
			const char *p = nested ? groups[i].groups : groups[i].members;

			while (*p) {
				size_t n = strcspn(p, ",");
				char member[64];
				json_t *in, *out = NULL;

				snprintf(member, sizeof(member), "%.*s", (int)n, p);
				p += n + (p[n] == ',');
				snprintf(d->ctx, sizeof(d->ctx), "adding %s to group %s", member,
					 groups[i].name);
				in = json_pack("{s:s}", nested ? "group" : "identity", member);
				rc = in ? gh_gov_group_add_member(&out, d->g, &d->admin, groups[i].name, in)
					: gh_error_set(GH_ERROR, "out of memory");
				json_decref(in);
				json_decref(out);
				if (rc)
					return failed(d, rc);
			}
		}
	}
	for (size_t i = 0; i < NELEM(systems); i++)
		if ((rc = create(d, gh_gov_system_create,
				 json_pack("{s:s, s:s, s:s}", "name", systems[i].name, "description",
					   systems[i].description, "owner", systems[i].owner),
				 "system", systems[i].name)))
			return rc;
	for (size_t i = 0; i < NELEM(entitlements); i++) {
		const entitlement *e = &entitlements[i];
		char name[128];

		snprintf(name, sizeof(name), "%s/%s", e->system, e->name);
		if ((rc = create(d, gh_gov_entitlement_create,
				 json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:{s:s}}",
					   "system", e->system, "name", e->name, "description",
					   e->description, "risk_tier", e->risk, "data_sensitivity",
					   e->sensitivity, "environment", e->environment,
					   "control_owner_group", e->group, "max_duration",
					   e->max_duration, "requestable", e->requestable,
					   "incompatible_with", list_json(e->conflicts), "attributes",
					   "review_cadence", review_cadence(e->risk)),
				 "entitlement", name)))
			return rc;
	}
	return 0;
}

static const char *state_of(const json_t *req)
{
	const char *s = json_string_value(json_object_get(req, "state"));

	return s ? s : "?";
}

/* Reloads request id into *req (replacing it). */
static int reload(demo *d, json_t **req, const char *id)
{
	json_t *fresh = NULL;
	int rc;

	snprintf(d->ctx, sizeof(d->ctx), "reading request %s", id);
	if ((rc = gh_gov_request_get(&fresh, d->g, &d->admin, id)))
		return failed(d, rc);
	json_decref(*req);
	*req = fresh;
	return 0;
}

/* Submits one scripted request, plays what happens to it and checks where
 * it ended; *refused counts an SoD denial the domain answered with an error. */
static int play(demo *d, const script *s, int *refused)
{
	gh_actor who, other;
	json_t *in = NULL, *req = NULL, *out = NULL;
	char id[64] = "";
	int rc;

	if ((rc = actor_of(d, &who, s->submitter)))
		return rc;
	in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "channel", s->channel, "subject", s->subject,
		       "entitlement", s->entitlement, "justification", s->justification,
		       "duration", s->duration);
	if (in && s->ticket)
		json_object_set_new(in, "ticket_ref", json_string(s->ticket));
	if (in && s->requester)
		json_object_set_new(in, "requester", json_string(s->requester));
	snprintf(d->ctx, sizeof(d->ctx), "%s requesting %s for %s", s->submitter, s->entitlement,
		 s->subject);
	rc = in ? gh_gov_request_submit(&req, d->g, &who, in) : gh_error_set(GH_ERROR, "out of memory");
	json_decref(in);
	if (rc && strcmp(s->expect, "denied") == 0 && (rc == GH_ECONFLICT || rc == GH_EDENIED)) {
		/* the domain may refuse an SoD conflict outright instead of recording a denial */
		(*refused)++;
		return 0;
	}
	if (rc)
		return failed(d, rc);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(req, "id")));

	for (const char *p = s->approvers; *p && !rc;) {
		size_t n = strcspn(p, ",");
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		p += n + (p[n] == ',');
		if ((rc = actor_of(d, &other, name)))
			break;
		in = json_pack("{s:s}", "comment", "within policy; checked against the ticket");
		snprintf(d->ctx, sizeof(d->ctx), "%s approving %s", name, id);
		if ((rc = gh_gov_request_approve(&out, d->g, &other, id, in)))
			rc = failed(d, rc);
		json_decref(in);
		json_decref(out);
		out = NULL;
	}
	if (!rc && s->rejecter && !(rc = actor_of(d, &other, s->rejecter))) {
		in = json_pack("{s:s}", "comment",
			       "an AI support agent has no need for payment secrets");
		snprintf(d->ctx, sizeof(d->ctx), "%s rejecting %s", s->rejecter, id);
		if ((rc = gh_gov_request_reject(&out, d->g, &other, id, in)))
			rc = failed(d, rc);
		json_decref(in);
		json_decref(out);
		out = NULL;
	}
	if (!rc && s->cancel) {
		in = json_pack("{s:s}", "reason", "duplicate of RITM-2031");
		snprintf(d->ctx, sizeof(d->ctx), "%s cancelling %s", s->submitter, id);
		if ((rc = gh_gov_request_cancel(&out, d->g, &who, id, in)))
			rc = failed(d, rc);
		json_decref(in);
		json_decref(out);
		out = NULL;
	}
	if (!rc && s->revoke && !(rc = reload(d, &req, id)) &&
	    !(rc = actor_of(d, &other, "grace"))) {
		const char *grant = json_string_value(json_object_get(req, "grant"));

		in = json_pack("{s:s}", "reason", "access review: CI moved to a GitHub App per repo");
		snprintf(d->ctx, sizeof(d->ctx), "grace revoking the grant of %s", id);
		if ((rc = gh_gov_grant_revoke(&out, d->g, &other, grant ? grant : "", in)))
			rc = failed(d, rc);
		json_decref(in);
		json_decref(out);
		out = NULL;
	}
	if (!rc && s->expire) {
		int expired = 0;

		/* the grant lasts a minute: run the scheduler as if five had passed */
		snprintf(d->ctx, sizeof(d->ctx), "running the scheduler");
		if ((rc = gh_gov_sched_run(d->g, gh_now() + 300, &expired, NULL)))
			rc = failed(d, rc);
	}
	if (!rc && !(rc = reload(d, &req, id)) && strcmp(state_of(req), s->expect) != 0) {
		snprintf(d->ctx, sizeof(d->ctx), "request %s (%s for %s)", id, s->entitlement,
			 s->subject);
		rc = failed(d, gh_error_set(GH_ERROR, "ended as %s, expected %s", state_of(req),
					    s->expect));
	}
	json_decref(req);
	return rc;
}

static int seed_status_changes(demo *d)
{
	static const struct {
		const char *name, *action, *reason;
	} changes[] = {
		{"data-quality-agent", "suspend", "owner on leave; paused until the review"},
		{"slack-notifier", "decommission", "replaced by incident-triage-agent"},
	};
	int rc;

	for (size_t i = 0; i < NELEM(changes); i++) {
		json_t *in = json_pack("{s:s}", "reason", changes[i].reason), *out = NULL;

		snprintf(d->ctx, sizeof(d->ctx), "%s %s", changes[i].action, changes[i].name);
		rc = in ? gh_gov_identity_set_status(&out, d->g, &d->admin, changes[i].name,
						     changes[i].action, in)
			: gh_error_set(GH_ERROR, "out of memory");
		json_decref(in);
		json_decref(out);
		if (rc)
			return failed(d, rc);
	}
	return 0;
}

static int new_token(demo *d, char **out, const char *identity)
{
	json_t *in = json_pack("{s:s, s:s}", "identity", identity, "name", "demo"), *tok = NULL;
	const char *text;
	int rc;

	*out = NULL;
	snprintf(d->ctx, sizeof(d->ctx), "creating a token for %s", identity);
	rc = in ? gh_gov_token_create(&tok, d->g, &d->admin, in)
		: gh_error_set(GH_ERROR, "out of memory");
	json_decref(in);
	if (rc)
		return failed(d, rc);
	text = json_string_value(json_object_get(tok, "token"));
	*out = text ? strdup(text) : NULL;
	json_decref(tok);
	if (!*out)
		return failed(d, gh_error_set(GH_ERROR, "the new token has no text"));
	return 0;
}

/* "active 6, pending_approval 3, ..." over every request, via the list. */
static int summarise_requests(demo *d, char *buf, size_t len)
{
	static const char *const states[] = {"active", "pending_approval", "rejected",
					     "cancelled", "denied", "revoked", "expired", NULL};
	gh_page page = {500, NULL};
	json_t *list = NULL, *items;
	size_t off = 0;
	int rc;

	snprintf(d->ctx, sizeof(d->ctx), "listing requests");
	if ((rc = gh_gov_request_list(&list, d->g, &d->admin, &page, NULL, NULL, NULL)))
		return failed(d, rc);
	items = json_object_get(list, "items");
	buf[0] = '\0';
	for (size_t k = 0; states[k]; k++) {
		int n = 0;

		for (size_t i = 0; i < json_array_size(items); i++)
			n += strcmp(state_of(json_array_get(items, i)), states[k]) == 0;
		if (n && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%d %s", off ? ", " : "", n,
						states[k]);
	}
	json_decref(list);
	return 0;
}

static void free_secret(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

/* The signing key of a database the demo initialised, at the default path
 * (<db>.signing-key), unless one is there already. */
static int demo_signing_key(gh_gov *g, const gh_cli *c)
{
	char keypath[4096], origin[64];
	int rc;

	if ((rc = gh_cli_signing_key_path(keypath, sizeof(keypath), c)) == GH_ENOTFOUND) {
		/* PostgreSQL and no key named: the demo goes on without one */
		fprintf(stderr, "gatehouse: no checkpoint signing key was created: %s\n",
			gh_error_last()->message);
		gh_error_clear();
		return 0;
	}
	if (rc) {
		gh_cli_error("the signing key's path");
		return GH_ERROR;
	}
	if (access(keypath, F_OK) == 0)
		return 0;
	if (gh_gov_checkpoint_key_create(origin, sizeof(origin), NULL, 0, g, keypath)) {
		gh_cli_error("creating the checkpoint signing key");
		return GH_ERROR;
	}
	return 0;
}

int gh_cmd_demo(gh_cli *c)
{
	demo d = {0};
	json_t *idn = NULL;
	char *admin_token = NULL, *tokens[NELEM(personas)] = {0};
	char summary[256];
	gh_gov_audit_report report;
	int64_t started = gh_now_us();
	int rc, exit_code = GH_EXIT_FAIL, refused = 0, create_db;

	if (gh_cli_check_options(c, "demo", NULL) || c->npos != 1) {
		if (c->npos != 1)
			gh_error_set(GH_EINVALID, "demo takes no arguments");
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	/* a URL's database exists already: its schema is created when missing */
	create_db = gh_cli_db_is_url(c->db) || access(c->db, F_OK) != 0;
	if ((rc = gh_gov_open(&d.g, c->db, create_db, NULL))) {
		gh_cli_error(c->db_shown);
		return GH_EXIT_FAIL;
	}
	if ((rc = gh_cli_db_initialised(d.g)) < 0) {
		gh_cli_error("checking the database");
		goto cleanup;
	}
	if (rc == 0 && ((rc = gh_gov_bootstrap(&admin_token, d.g, "admin")) || !admin_token)) {
		gh_cli_error("creating the admin identity");
		goto cleanup;
	}
	/* a database the demo creates gets a checkpoint signing key, as init's do */
	if (admin_token && (rc = demo_signing_key(d.g, c)))
		goto cleanup;
	/* act as the admin identity, whether created now or by init */
	snprintf(d.admin.id, sizeof(d.admin.id), "system:demo");
	d.admin.roles = GH_ROLE_ADMIN;
	if ((rc = gh_gov_identity_get(&idn, d.g, &d.admin, "admin"))) {
		gh_cli_error("finding the admin identity");
		goto cleanup;
	}
	snprintf(d.admin.id, sizeof(d.admin.id), "%s", json_string_value(json_object_get(idn, "id")));
	json_decref(idn);
	idn = NULL;
	if (gh_gov_identity_get(&idn, d.g, &d.admin, people[0].name) == 0) {
		fprintf(stderr, "gatehouse: %s already holds the demo estate; use a fresh --db\n",
			c->db_shown);
		goto cleanup;
	}
	gh_error_clear();

	if (seed_inventory(&d))
		goto cleanup;
	for (size_t i = 0; i < NELEM(scripts); i++)
		if (play(&d, &scripts[i], &refused))
			goto cleanup;
	if (seed_status_changes(&d) || summarise_requests(&d, summary, sizeof(summary)))
		goto cleanup;
	if (!admin_token && new_token(&d, &admin_token, "admin"))
		goto cleanup;
	for (size_t i = 0; i < NELEM(personas); i++)
		if (new_token(&d, &tokens[i], personas[i].name))
			goto cleanup;
	if ((rc = gh_gov_audit_verify(&report, d.g))) {
		snprintf(d.ctx, sizeof(d.ctx), "audit chain broken at sequence %lld: %.100s",
			 (long long)report.bad_seq, report.reason);
		failed(&d, rc);
		goto cleanup;
	}

	printf("gatehouse demo: seeded %s in %.2f s\n", c->db_shown,
	       (double)(gh_now_us() - started) / 1e6);
	printf("  identities:   %zu people, %zu non-human (service accounts, API keys, workloads,"
	       " OAuth apps, AI agents)\n", NELEM(people) + 1, NELEM(nhis));
	printf("  groups:       %zu (teams and control owners, dba-leads nested in dba-owners)\n",
	       NELEM(groups));
	printf("  catalog:      %zu systems, %zu entitlements (low to critical, 2 SoD pairs)\n",
	       NELEM(systems), NELEM(entitlements));
	printf("  requests:     %s%s\n", summary,
	       refused ? " (and 1 refused for an SoD conflict)" : "");
	printf("  audit chain:  intact, %lld events\n", (long long)report.events);
	printf("\ntokens (shown once; they will not be shown again):\n");
	printf("  %-12s %-6s %s\n", "admin", "admin", admin_token);
	for (size_t i = 0; i < NELEM(personas); i++)
		printf("  %-12s %-6s %s\n", personas[i].persona, personas[i].name, tokens[i]);
	printf("\ntry, with the server running:\n"
	       "  export GATEHOUSE_TOKEN=<the approver token>\n"
	       "  gatehouse requests list --state pending_approval\n");
	exit_code = GH_EXIT_OK;
cleanup:
	json_decref(idn);
	free_secret(admin_token);
	for (size_t i = 0; i < NELEM(personas); i++)
		free_secret(tokens[i]);
	gh_gov_free(d.g);
	return exit_code;
}
