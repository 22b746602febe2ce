/* cmd_client.c - the resource subcommands: one table row per action, mapped to an HTTP route. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "gatehouse/errors.h"
#include "gatehouse/common.h"

/* How an answer is shown without --json. */
typedef enum view {
	VIEW_LIST,               /* {"items","next"} as a table */
	VIEW_EVENTS,             /* {"items","next_after_seq"} as a table */
	VIEW_OBJECT,             /* one object as key/value lines */
	VIEW_TOKEN,              /* a new token, with the warning that it is shown once */
	VIEW_DONE,               /* 204: a one-line confirmation */
	VIEW_STREAM,             /* the body as is (NDJSON export) */
} view;

typedef struct action {
	const char *resource;
	const char *name;
	const char *method;
	const char *path;            /* "{}" takes the next positional argument */
	const char *args;            /* positional arguments, for usage */
	const gh_cli_field *body;    /* options that form the JSON body; NULL: no body */
	const gh_cli_field *query;   /* options that form the query string */
	view view;
	const gh_table_col *cols;    /* for VIEW_LIST and VIEW_EVENTS */
	const char *summary;
} action;

/* --- fields ------------------------------------------------------------- */

static const gh_cli_field paging[] = {
	{"limit", "limit", GH_CLI_INT}, {"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field identity_query[] = {
	{"kind", "kind", GH_CLI_STRING}, {"status", "status", GH_CLI_STRING},
	{"owner", "owner", GH_CLI_STRING}, {"orphaned", "orphaned", GH_CLI_BOOL},
	{"limit", "limit", GH_CLI_INT}, {"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field identity_renew[] = {
	{"expires-at", "expires_at", GH_CLI_STRING}, {"extend-by", "extend_by", GH_CLI_DURATION},
	{NULL, NULL, 0}};

static const gh_cli_field identity_create[] = {
	{"kind", "kind", GH_CLI_STRING}, {"name", "name", GH_CLI_STRING},
	{"display-name", "display_name", GH_CLI_STRING}, {"email", "email", GH_CLI_STRING},
	{"owner", "owner", GH_CLI_STRING}, {"purpose", "purpose", GH_CLI_STRING},
	{"environment", "environment", GH_CLI_STRING},
	{"expires-at", "expires_at", GH_CLI_STRING}, {"roles", "roles", GH_CLI_LIST},
	{"attributes", "attributes", GH_CLI_OBJECT}, {NULL, NULL, 0}};

static const gh_cli_field identity_update[] = {
	{"display-name", "display_name", GH_CLI_STRING}, {"email", "email", GH_CLI_STRING},
	{"purpose", "purpose", GH_CLI_STRING}, {"expires-at", "expires_at", GH_CLI_STRING},
	{"roles", "roles", GH_CLI_LIST}, {"attributes", "attributes", GH_CLI_OBJECT},
	{"owner", "owner", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field policy_propose[] = {
	{"file", "text", GH_CLI_FILE}, {"comment", "comment", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field reason[] = {{"reason", "reason", GH_CLI_STRING}, {NULL, NULL, 0}};
static const gh_cli_field comment[] = {{"comment", "comment", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field group_create[] = {
	{"name", "name", GH_CLI_STRING}, {"description", "description", GH_CLI_STRING},
	{NULL, NULL, 0}};

static const gh_cli_field group_member[] = {
	{"identity", "identity", GH_CLI_STRING}, {"group", "group", GH_CLI_STRING},
	{NULL, NULL, 0}};

static const gh_cli_field system_create[] = {
	{"name", "name", GH_CLI_STRING}, {"description", "description", GH_CLI_STRING},
	{"owner", "owner", GH_CLI_STRING}, {"connector", "connector", GH_CLI_STRING},
	{"connector-settings", "connector_settings", GH_CLI_OBJECT},
	{NULL, NULL, 0}};

static const gh_cli_field system_update[] = {
	{"description", "description", GH_CLI_STRING}, {"owner", "owner", GH_CLI_STRING},
	{"connector", "connector", GH_CLI_STRING},
	{"connector-settings", "connector_settings", GH_CLI_OBJECT}, {NULL, NULL, 0}};

static const gh_cli_field entitlement_query[] = {
	{"system", "system", GH_CLI_STRING}, {"risk-tier", "risk_tier", GH_CLI_STRING},
	{"environment", "environment", GH_CLI_STRING},
	{"requestable", "requestable", GH_CLI_BOOL}, {"tag", "tag", GH_CLI_STRING},
	{"limit", "limit", GH_CLI_INT}, {"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field entitlement_create[] = {
	{"system", "system", GH_CLI_STRING}, {"name", "name", GH_CLI_STRING},
	{"description", "description", GH_CLI_STRING},
	{"risk-tier", "risk_tier", GH_CLI_STRING},
	{"data-sensitivity", "data_sensitivity", GH_CLI_STRING},
	{"environment", "environment", GH_CLI_STRING},
	{"control-owner-group", "control_owner_group", GH_CLI_STRING},
	{"max-duration", "max_duration", GH_CLI_DURATION},
	{"requestable", "requestable", GH_CLI_BOOL},
	{"incompatible-with", "incompatible_with", GH_CLI_LIST},
	{"attributes", "attributes", GH_CLI_OBJECT}, {"tags", "tags", GH_CLI_LIST},
	{NULL, NULL, 0}};

static const gh_cli_field entitlement_update[] = {
	{"description", "description", GH_CLI_STRING},
	{"risk-tier", "risk_tier", GH_CLI_STRING},
	{"data-sensitivity", "data_sensitivity", GH_CLI_STRING},
	{"control-owner-group", "control_owner_group", GH_CLI_STRING},
	{"max-duration", "max_duration", GH_CLI_DURATION},
	{"requestable", "requestable", GH_CLI_BOOL},
	{"incompatible-with", "incompatible_with", GH_CLI_LIST},
	{"attributes", "attributes", GH_CLI_OBJECT}, {"tags", "tags", GH_CLI_LIST},
	{NULL, NULL, 0}};

static const gh_cli_field request_query[] = {
	{"state", "state", GH_CLI_STRING}, {"subject", "subject", GH_CLI_STRING},
	{"entitlement", "entitlement", GH_CLI_STRING}, {"limit", "limit", GH_CLI_INT},
	{"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field request_submit[] = {
	{"ticket-ref", "ticket_ref", GH_CLI_STRING}, {"ticket", "ticket_ref", GH_CLI_STRING},
	{"channel", "channel", GH_CLI_STRING}, {"requester", "requester", GH_CLI_STRING},
	{"subject", "subject", GH_CLI_STRING}, {"entitlement", "entitlement", GH_CLI_STRING},
	{"justification", "justification", GH_CLI_STRING},
	{"duration", "duration", GH_CLI_DURATION}, {"emergency", "emergency", GH_CLI_BOOL},
	{"break-glass", "break_glass", GH_CLI_BOOL},
	{"incident-ref", "incident_ref", GH_CLI_STRING}, {"incident", "incident_ref", GH_CLI_STRING},
	{NULL, NULL, 0}};

static const gh_cli_field grant_query[] = {
	{"status", "status", GH_CLI_STRING}, {"subject", "subject", GH_CLI_STRING},
	{"entitlement", "entitlement", GH_CLI_STRING},
	{"review-state", "review_state", GH_CLI_STRING}, {"limit", "limit", GH_CLI_INT},
	{"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field grant_review[] = {
	{"outcome", "outcome", GH_CLI_STRING}, {"comment", "comment", GH_CLI_STRING},
	{NULL, NULL, 0}};

static const gh_cli_field job_query[] = {
	{"state", "state", GH_CLI_STRING}, {"system", "system", GH_CLI_STRING},
	{"grant", "grant", GH_CLI_STRING}, {"limit", "limit", GH_CLI_INT},
	{"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field finding_query[] = {
	{"system", "system", GH_CLI_STRING}, {"kind", "kind", GH_CLI_STRING},
	{"status", "status", GH_CLI_STRING}, {"limit", "limit", GH_CLI_INT},
	{"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field reconcile_body[] = {
	{"revoke-shadow", "revoke_shadow", GH_CLI_BOOL}, {NULL, NULL, 0}};

static const gh_cli_field delegation_query[] = {
	{"from-group", "from_group", GH_CLI_STRING}, {"to-group", "to_group", GH_CLI_STRING},
	{"status", "status", GH_CLI_STRING}, {"limit", "limit", GH_CLI_INT},
	{"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_cli_field delegation_create[] = {
	{"from-group", "from_group", GH_CLI_STRING}, {"to-group", "to_group", GH_CLI_STRING},
	{"system", "system", GH_CLI_STRING}, {"tag", "tag", GH_CLI_STRING},
	{"expires-at", "expires_at", GH_CLI_STRING},
	{"expires-in", "expires_in", GH_CLI_DURATION}, {"reason", "reason", GH_CLI_STRING},
	{NULL, NULL, 0}};

static const gh_cli_field token_create[] = {
	{"identity", "identity", GH_CLI_STRING}, {"name", "name", GH_CLI_STRING},
	{"expires-in", "expires_in", GH_CLI_DURATION}, {NULL, NULL, 0}};

static const gh_cli_field token_query[] = {
	{"identity", "identity", GH_CLI_STRING}, {"status", "status", GH_CLI_STRING},
	{"limit", "limit", GH_CLI_INT}, {"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};
static const gh_table_col token_cols[] = {
	{"ID", "id", GH_COL_TEXT},           {"NAME", "name", GH_COL_TEXT},
	{"IDENTITY", "identity", GH_COL_REF}, {"STATUS", "status", GH_COL_TEXT},
	{"EXPIRES", "expires_at", GH_COL_TEXT}, {"LAST USED", "last_used_at", GH_COL_TEXT},
	{NULL, NULL, 0}};

static const gh_cli_field audit_query[] = {
	{"after", "after_seq", GH_CLI_INT}, {"limit", "limit", GH_CLI_INT},
	{"object-id", "object_id", GH_CLI_STRING}, {"object", "object_id", GH_CLI_STRING},
	{NULL, NULL, 0}};

static const gh_cli_field export_query[] = {{"after", "after_seq", GH_CLI_INT}, {NULL, NULL, 0}};

/* --- columns ------------------------------------------------------------ */

static const gh_table_col identity_cols[] = {
	{"ID", "id", GH_COL_TEXT},          {"KIND", "kind", GH_COL_TEXT},
	{"NAME", "name", GH_COL_TEXT},      {"STATUS", "status", GH_COL_TEXT},
	{"OWNER", "owner", GH_COL_REF},     {"ENV", "environment", GH_COL_TEXT},
	{"EXPIRES", "expires_at", GH_COL_TEXT}, {NULL, NULL, 0}};

static const gh_table_col group_cols[] = {
	{"ID", "id", GH_COL_TEXT}, {"NAME", "name", GH_COL_TEXT},
	{"DESCRIPTION", "description", GH_COL_TEXT}, {NULL, NULL, 0}};

static const gh_table_col member_cols[] = {
	{"TYPE", "type", GH_COL_TEXT}, {"ID", "id", GH_COL_TEXT}, {"NAME", "name", GH_COL_TEXT},
	{NULL, NULL, 0}};

static const gh_table_col system_cols[] = {
	{"ID", "id", GH_COL_TEXT}, {"NAME", "name", GH_COL_TEXT},
	{"OWNER", "owner", GH_COL_REF}, {"CONNECTOR", "connector", GH_COL_TEXT},
	{"DESCRIPTION", "description", GH_COL_TEXT}, {NULL, NULL, 0}};

static const gh_table_col entitlement_cols[] = {
	{"ID", "id", GH_COL_TEXT},          {"SYSTEM", "system", GH_COL_REF},
	{"NAME", "name", GH_COL_TEXT},      {"RISK", "risk_tier", GH_COL_TEXT},
	{"SENSITIVITY", "data_sensitivity", GH_COL_TEXT}, {"ENV", "environment", GH_COL_TEXT},
	{"MAX", "max_duration", GH_COL_TEXT}, {"REQUESTABLE", "requestable", GH_COL_TEXT},
	{NULL, NULL, 0}};

static const gh_table_col request_cols[] = {
	{"ID", "id", GH_COL_TEXT},          {"STATE", "state", GH_COL_TEXT},
	{"TICKET", "ticket_ref", GH_COL_TEXT}, {"SUBJECT", "subject", GH_COL_REF},
	{"ENTITLEMENT", "entitlement", GH_COL_REF}, {"DURATION", "duration", GH_COL_TEXT},
	{"APPROVALS", "approvals", GH_COL_COUNT}, {"NEEDED", "required_approvals", GH_COL_TEXT},
	{"CREATED", "created_at", GH_COL_TEXT}, {NULL, NULL, 0}};

static const gh_table_col approval_cols[] = {
	{"STEP", "step", GH_COL_TEXT}, {"APPROVER", "approver", GH_COL_REF},
	{"DECISION", "decision", GH_COL_TEXT}, {"AT", "at", GH_COL_TEXT},
	{"COMMENT", "comment", GH_COL_TEXT}, {NULL, NULL, 0}};

static const gh_table_col grant_cols[] = {
	{"ID", "id", GH_COL_TEXT},          {"STATUS", "status", GH_COL_TEXT},
	{"SUBJECT", "subject", GH_COL_REF}, {"ENTITLEMENT", "entitlement", GH_COL_REF},
	{"GRANTED", "granted_at", GH_COL_TEXT}, {"EXPIRES", "expires_at", GH_COL_TEXT},
	{"REQUEST", "request", GH_COL_TEXT}, {NULL, NULL, 0}};

static const gh_table_col job_cols[] = {
	{"ID", "id", GH_COL_TEXT},          {"OP", "op", GH_COL_TEXT},
	{"STATE", "state", GH_COL_TEXT},    {"ATTEMPTS", "attempts", GH_COL_TEXT},
	{"SYSTEM", "system", GH_COL_REF},
	{"ACCOUNT", "account", GH_COL_TEXT}, {"TARGET", "target", GH_COL_TEXT},
	{"GRANT", "grant", GH_COL_TEXT},    {"NEXT", "next_at", GH_COL_TEXT},
	{"ERROR", "last_error", GH_COL_TEXT}, {NULL, NULL, 0}};

static const gh_table_col finding_cols[] = {
	{"ID", "id", GH_COL_TEXT},          {"KIND", "kind", GH_COL_TEXT},
	{"STATUS", "status", GH_COL_TEXT},  {"ACCOUNT", "account", GH_COL_TEXT},
	{"TARGET", "target", GH_COL_TEXT},  {"GRANT", "grant", GH_COL_TEXT},
	{"JOB", "job", GH_COL_TEXT},        {"CREATED", "created_at", GH_COL_TEXT},
	{NULL, NULL, 0}};

static const gh_table_col delegation_cols[] = {
	{"ID", "id", GH_COL_TEXT}, {"STATUS", "status", GH_COL_TEXT},
	{"FROM", "from_group", GH_COL_TEXT}, {"TO", "to_group", GH_COL_TEXT},
	{"SCOPE", "scope", GH_COL_TEXT},
	{"EXPIRES", "expires_at", GH_COL_TEXT}, {"REASON", "reason", GH_COL_TEXT},
	{NULL, NULL, 0}};

static const gh_table_col policy_cols[] = {
	{"ID", "id", GH_COL_TEXT},           {"VERSION", "version", GH_COL_TEXT},
	{"STATE", "state", GH_COL_TEXT},     {"PROPOSED BY", "proposed_by", GH_COL_REF},
	{"ACTIVATED BY", "activated_by", GH_COL_REF}, {"SHA256", "sha256", GH_COL_TEXT},
	{NULL, NULL, 0}};

static const gh_table_col event_cols[] = {
	{"SEQ", "seq", GH_COL_TEXT},        {"TIME", "time", GH_COL_TEXT},
	{"ACTOR", "actor", GH_COL_REF},    {"ACTION", "action", GH_COL_TEXT},
	{"OBJECT", "object_id", GH_COL_TEXT}, {NULL, NULL, 0}};

/* proposed changes (four eyes on weakening changes, issue 10) */
static const gh_cli_field change_query[] = {
	{"state", "state", GH_CLI_STRING}, {"object", "object", GH_CLI_STRING},
	{"limit", "limit", GH_CLI_INT}, {"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};

static const gh_table_col change_cols[] = {
	{"ID", "id", GH_COL_TEXT},             {"STATE", "state", GH_COL_TEXT},
	{"OPERATION", "operation", GH_COL_TEXT}, {"OBJECT", "object_id", GH_COL_REF},
	{"WEAKENS", "weakens_fields", GH_COL_TEXT}, {"PROPOSED BY", "proposed_by", GH_COL_REF},
	{"PROPOSED", "proposed_at", GH_COL_TEXT}, {NULL, NULL, 0}};

/* --- the actions -------------------------------------------------------- */

/* NHI credentials (issue 5): API keys for grants of credential systems */
static const gh_cli_field credential_issue[] = {
	{"expires-in", "expires_in", GH_CLI_DURATION}, {NULL, NULL, 0}};
static const gh_cli_field credential_rotate[] = {
	{"overlap", "overlap", GH_CLI_DURATION}, {NULL, NULL, 0}};
static const gh_cli_field credential_query[] = {
	{"identity", "identity", GH_CLI_STRING}, {"grant", "grant", GH_CLI_STRING},
	{"status", "status", GH_CLI_STRING}, {"limit", "limit", GH_CLI_INT},
	{"after", "after", GH_CLI_STRING}, {NULL, NULL, 0}};
static const gh_table_col credential_cols[] = {
	{"ID", "id", GH_COL_TEXT},           {"STATUS", "status", GH_COL_TEXT},
	{"IDENTITY", "identity", GH_COL_REF}, {"ENTITLEMENT", "entitlement", GH_COL_REF},
	{"EXPIRES", "expires_at", GH_COL_TEXT}, {"VALID UNTIL", "valid_until", GH_COL_TEXT},
	{"LAST USED", "last_used_at", GH_COL_TEXT}, {NULL, NULL, 0}};

static const action actions[] = {
	{"identities", "list", "GET", "/v1/identities", "", NULL, identity_query, VIEW_LIST,
	 identity_cols, "[--kind K --status S --owner REF --orphaned]"},
	{"identities", "get", "GET", "/v1/identities/{}", "REF", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one identity"},
	{"identities", "create", "POST", "/v1/identities", "", identity_create, NULL, VIEW_OBJECT,
	 NULL,
	 "--kind K --name N [--display-name --email --owner --purpose --environment"
	 " --expires-at --roles a,b --attributes JSON]"},
	{"identities", "update", "PATCH", "/v1/identities/{}", "REF", identity_update, NULL,
	 VIEW_OBJECT, NULL,
	 "[--display-name --email --purpose --expires-at --roles a,b --attributes JSON --owner]"},
	{"identities", "suspend", "POST", "/v1/identities/{}/suspend", "REF", reason, NULL,
	 VIEW_OBJECT, NULL, "--reason TEXT"},
	{"identities", "activate", "POST", "/v1/identities/{}/activate", "REF", reason, NULL,
	 VIEW_OBJECT, NULL, "--reason TEXT"},
	{"identities", "decommission", "POST", "/v1/identities/{}/decommission", "REF", reason,
	 NULL, VIEW_OBJECT, NULL, "--reason TEXT (revokes its active grants; its NHIs become"
	 " orphaned)"},
	{"identities", "renew", "POST", "/v1/identities/{}/renew", "REF", identity_renew, NULL,
	 VIEW_OBJECT, NULL, "--expires-at TIME | --extend-by DURATION (an NHI, by its owner)"},

	{"groups", "list", "GET", "/v1/groups", "", NULL, paging, VIEW_LIST, group_cols,
	 ""},
	{"groups", "get", "GET", "/v1/groups/{}", "REF", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one group and its members"},
	{"groups", "create", "POST", "/v1/groups", "", group_create, NULL, VIEW_OBJECT, NULL,
	 "--name N [--description TEXT]"},
	{"groups", "add-member", "POST", "/v1/groups/{}/members", "GROUP", group_member, NULL,
	 VIEW_OBJECT, NULL, "--identity REF | --group REF"},
	{"groups", "remove-member", "DELETE", "/v1/groups/{}/members/{}", "GROUP MEMBER", NULL,
	 NULL, VIEW_OBJECT, NULL, "remove an identity or group from GROUP"},

	{"systems", "list", "GET", "/v1/systems", "", NULL, paging, VIEW_LIST, system_cols,
	 ""},
	{"systems", "get", "GET", "/v1/systems/{}", "REF", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one system"},
	{"systems", "create", "POST", "/v1/systems", "", system_create, NULL, VIEW_OBJECT, NULL,
	 "--name N --owner REF [--description TEXT --connector C --connector-settings JSON]"},
	{"systems", "update", "PATCH", "/v1/systems/{}", "REF", system_update, NULL, VIEW_OBJECT,
	 NULL, "[--description TEXT --owner REF --connector C --connector-settings JSON]"},

	{"entitlements", "list", "GET", "/v1/entitlements", "", NULL, entitlement_query,
	 VIEW_LIST, entitlement_cols,
	 "[--system REF --risk-tier T --environment E --requestable B --tag T]"},
	{"entitlements", "get", "GET", "/v1/entitlements/{}", "REF", NULL, NULL, VIEW_OBJECT,
	 NULL, "show one entitlement (REF may be system/name)"},
	{"entitlements", "create", "POST", "/v1/entitlements", "", entitlement_create, NULL,
	 VIEW_OBJECT, NULL,
	 "--system REF --name N --risk-tier T --data-sensitivity S --environment E"
	 " --control-owner-group REF --max-duration D [--description --requestable B"
	 " --incompatible-with a,b --attributes JSON --tags a,b]"},
	{"entitlements", "update", "PATCH", "/v1/entitlements/{}", "REF", entitlement_update,
	 NULL, VIEW_OBJECT, NULL,
	 "[--description --risk-tier --data-sensitivity --control-owner-group --max-duration"
	 " --requestable --incompatible-with --attributes --tags a,b]"},

	{"requests", "list", "GET", "/v1/requests", "", NULL, request_query, VIEW_LIST,
	 request_cols, "[--state S --subject REF --entitlement REF]"},
	{"requests", "get", "GET", "/v1/requests/{}", "ID", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one request with its decision and approvals"},
	{"requests", "submit", "POST", "/v1/requests", "", request_submit, NULL, VIEW_OBJECT, NULL,
	 "--subject REF --entitlement REF --justification TEXT --duration D"
	 " [--channel C (default api) --ticket-ref T --requester REF --emergency"
	 " --break-glass --incident-ref REF]"},
	{"requests", "approve", "POST", "/v1/requests/{}/approve", "ID", comment, NULL,
	 VIEW_OBJECT, NULL, "[--comment TEXT]"},
	{"requests", "reject", "POST", "/v1/requests/{}/reject", "ID", comment, NULL, VIEW_OBJECT,
	 NULL, "--comment TEXT"},
	{"requests", "cancel", "POST", "/v1/requests/{}/cancel", "ID", reason, NULL, VIEW_OBJECT,
	 NULL, "--reason TEXT"},
	{"requests", "history", "GET", "/v1/requests/{}/history", "ID", NULL, NULL, VIEW_EVENTS,
	 event_cols, "the request's audit events, oldest first"},
	{"requests", "evidence", "GET", "/v1/requests/{}/evidence", "ID", NULL, NULL, VIEW_OBJECT,
	 NULL, "the whole chain: who asked, what decided, who approved, the grant, the end"},

	{"grants", "list", "GET", "/v1/grants", "", NULL, grant_query, VIEW_LIST, grant_cols,
	 "[--status S --subject REF --entitlement REF --review-state S]"},
	{"grants", "get", "GET", "/v1/grants/{}", "ID", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one grant"},
	{"grants", "revoke", "POST", "/v1/grants/{}/revoke", "ID", reason, NULL, VIEW_OBJECT, NULL,
	 "--reason TEXT"},
	{"grants", "review", "POST", "/v1/grants/{}/review", "ID", grant_review, NULL,
	 VIEW_OBJECT, NULL, "--outcome confirm|revoke --comment TEXT  (a break-glass grant)"},

	{"jobs", "list", "GET", "/v1/jobs", "", NULL, job_query, VIEW_LIST, job_cols,
	 "[--state S --system REF --grant ID]"},
	{"jobs", "get", "GET", "/v1/jobs/{}", "ID", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one provisioning job"},
	{"jobs", "retry", "POST", "/v1/jobs/{}/retry", "ID", NULL, NULL, VIEW_OBJECT, NULL,
	 "a failed job pending again now (also: jobs run-once, local, with --db)"},
	{"reconcile", "run", "POST", "/v1/systems/{}/reconcile", "SYSTEM", reconcile_body, NULL,
	 VIEW_OBJECT, NULL, "[--revoke-shadow]  (also: gatehouse reconcile SYSTEM)"},
	{"findings", "list", "GET", "/v1/findings", "", NULL, finding_query, VIEW_LIST,
	 finding_cols, "[--system REF --kind missing|shadow --status S]"},

	{"delegations", "list", "GET", "/v1/delegations", "", NULL, delegation_query, VIEW_LIST,
	 delegation_cols, "[--from-group REF --to-group REF --status S]"},
	{"delegations", "get", "GET", "/v1/delegations/{}", "ID", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one delegation"},
	{"delegations", "create", "POST", "/v1/delegations", "", delegation_create, NULL,
	 VIEW_OBJECT, NULL,
	 "--from-group REF --to-group REF (--system REF | --tag T)"
	 " (--expires-in D | --expires-at T) --reason TEXT"},
	{"delegations", "revoke", "POST", "/v1/delegations/{}/revoke", "ID", reason, NULL,
	 VIEW_OBJECT, NULL, "--reason TEXT"},

	{"tokens", "list", "GET", "/v1/tokens", "", NULL, token_query, VIEW_LIST, token_cols,
	 "[--identity REF --status active|expired|revoked]"},
	{"tokens", "create", "POST", "/v1/tokens", "", token_create, NULL, VIEW_TOKEN, NULL,
	 "--identity REF --name N [--expires-in D]  (default 90d, at most 365d)"},
	{"tokens", "rotate", "POST", "/v1/tokens/{}/rotate", "ID", NULL, NULL, VIEW_TOKEN, NULL,
	 "a new token with a fresh lifetime; the old one is revoked (the new one shown once)"},
	{"tokens", "revoke", "DELETE", "/v1/tokens/{}", "ID", NULL, NULL, VIEW_DONE, NULL,
	 "revoke a token"},

	{"policies", "list", "GET", "/v1/policies", "", NULL, paging, VIEW_LIST, policy_cols,
	 ""},
	{"policies", "get", "GET", "/v1/policies/{}", "REF", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one policy version with its text (REF: id or version number)"},
	{"policies", "active", "GET", "/v1/policies/active", "", NULL, NULL, VIEW_OBJECT, NULL,
	 "show the active policy version"},
	{"policies", "propose", "POST", "/v1/policies", "", policy_propose, NULL, VIEW_OBJECT,
	 NULL, "--file FILE|- [--comment TEXT]  (Cedar policy text)"},
	{"policies", "activate", "POST", "/v1/policies/{}/activate", "REF", comment, NULL,
	 VIEW_OBJECT, NULL, "[--comment TEXT]  (a second person: four eyes)"},

	{"changes", "list", "GET", "/v1/changes", "", NULL, change_query, VIEW_LIST, change_cols,
	 "[--state proposed|confirmed|withdrawn --object ID]"},
	{"changes", "show", "GET", "/v1/changes/{}", "ID", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one proposed change: what it weakens, who proposed and decided it"},
	{"changes", "confirm", "POST", "/v1/changes/{}/confirm", "ID", comment, NULL, VIEW_OBJECT,
	 NULL, "[--comment TEXT]  (a second admin or iam person: four eyes)"},
	{"changes", "withdraw", "POST", "/v1/changes/{}/withdraw", "ID", reason, NULL,
	 VIEW_OBJECT, NULL, "--reason TEXT"},

	{"audit", "events", "GET", "/v1/audit/events", "", NULL, audit_query, VIEW_EVENTS,
	 event_cols, "[--after SEQ --limit N --object-id ID]"},
	{"audit", "export", "GET", "/v1/audit/export", "", NULL, export_query, VIEW_STREAM, NULL,
	 "[--format json|cef --output FILE|syslog --state FILE --follow] (see --help)"},

	{"credentials", "issue", "POST", "/v1/grants/{}/credentials", "GRANT", credential_issue,
	 NULL, VIEW_TOKEN, NULL, "[--expires-in D]  (an API key for an NHI's grant, shown once)"},
	{"credentials", "rotate", "POST", "/v1/credentials/{}/rotate", "ID", credential_rotate,
	 NULL, VIEW_TOKEN, NULL, "[--overlap D]  (0..24h, default 1h; the new key shown once)"},
	{"credentials", "revoke", "POST", "/v1/credentials/{}/revoke", "ID", reason, NULL,
	 VIEW_OBJECT, NULL, "--reason TEXT"},
	{"credentials", "list", "GET", "/v1/credentials", "", NULL, credential_query, VIEW_LIST,
	 credential_cols, "[--identity REF --grant ID --status S]"},
	{"credentials", "get", "GET", "/v1/credentials/{}", "ID", NULL, NULL, VIEW_OBJECT, NULL,
	 "show one credential (never its key)"},
};

#define NACTIONS (sizeof(actions) / sizeof(actions[0]))
#define MAX_PAGES 1000       /* --all stops here: 500 000 items at most */

int gh_cmd_client_is_resource(const char *name)
{
	for (size_t i = 0; i < NACTIONS; i++)
		if (strcmp(actions[i].resource, name) == 0)
			return 1;
	return 0;
}

static void values_usage(FILE *f, const char *resource, const action *a);

void gh_cmd_client_usage(FILE *f, const char *resource)
{
	const char *last = "";

	for (size_t i = 0; i < NACTIONS; i++) {
		const action *a = &actions[i];

		if (resource && strcmp(a->resource, resource) != 0)
			continue;
		if (strcmp(a->resource, last) != 0 && !resource)
			fprintf(f, "\n");
		last = a->resource;
		char cmd[96];

		snprintf(cmd, sizeof(cmd), "gatehouse %s %s%s%s", a->resource, a->name,
			 *a->args ? " " : "", a->args);
		fprintf(f, "  %-44s %s\n", cmd, a->summary);
	}
	if (resource)
		values_usage(f, resource, NULL);
	if (resource && strcmp(resource, "audit") == 0) {
		fprintf(f, "  %-44s %s\n", "gatehouse audit verify",
			"check the hash chain and Merkle tree of the local database (--db)");
		fprintf(f, "  %-44s %s\n", "gatehouse audit tree [--size N]",
			"the Merkle tree's size and root");
		fprintf(f, "  %-44s %s\n", "gatehouse audit proof inclusion SEQ [--size N]",
			"an event's inclusion proof, checked");
		fprintf(f, "  %-44s %s\n", "gatehouse audit proof consistency OLD [NEW]",
			"a consistency proof, checked");
	}
}

/* The values an option of a resource's commands accepts: the domain's own
 * lists (gh_gov_values), so the help cannot drift from what is checked. */
static const struct option_values {
	const char *resource, *option;
	const char *list;          /* a gh_gov_values name, or NULL: text alone */
	const char *text;          /* after the values (or instead of them), or NULL */
} option_values[] = {
	{"requests", "channel", "channel", "(default api)"},
	{"requests", "state", "request_state", NULL},
	{"identities", "kind", "identity_kind", NULL},
	{"identities", "status", "identity_status", NULL},
	{"identities", "roles", "role", NULL},
	{"entitlements", "risk-tier", "risk_tier", NULL},
	{"entitlements", "data-sensitivity", "data_sensitivity", NULL},
	{"grants", "status", "grant_status", NULL},
	{"grants", "review-state", "review_state", NULL},
	{"grants", "outcome", "review_outcome", NULL},
	{"jobs", "state", "job_state", NULL},
	{"findings", "kind", "finding_kind", NULL},
	{"findings", "status", "finding_status", NULL},
	{"delegations", "status", "delegation_status", NULL},
	{"tokens", "status", "token_status", NULL},
	{"credentials", "status", "credential_status", NULL},
	{"changes", "state", "change_state", NULL},
	{"systems", "connector", NULL,
	 "manual, credential, or a connector instance of the server configuration"},
};

#define NVALUES (sizeof(option_values) / sizeof(option_values[0]))

/* values after indent columns, wrapped between words within 79 columns */
static void put_text(FILE *f, const char *values, size_t indent)
{
	size_t col = indent;

	while (*values) {
		/* "(default api)" stays on one line */
		const char *close = *values == '(' ? strchr(values, ')') : NULL;
		const char *space = strchr(close ? close : values, ' ');
		size_t n = space ? (size_t)(space - values) : strlen(values);

		if (col > indent && col + 1 + n > 79) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)n, values);
		col += n;
		values += space ? n + 1 : n;
	}
	fputc('\n', f);
}

/* An option's values as the domain lists them, then its note. */
static void put_values(FILE *f, const struct option_values *v, size_t indent)
{
	const char *const *values = v->list ? gh_gov_values(v->list) : NULL;
	char text[512];
	size_t len = 0;

	text[0] = '\0';
	for (size_t i = 0; values && values[i] && len < sizeof(text); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", i ? ", " : "",
					values[i]);
	if (v->text && len < sizeof(text))
		snprintf(text + len, sizeof(text) - len, "%s%s", len ? " " : "", v->text);
	put_text(f, text, indent);
}

static int action_has_option(const action *a, const char *option)
{
	for (const gh_cli_field *f = a->body; f && f->option; f++)
		if (strcmp(f->option, option) == 0)
			return 1;
	for (const gh_cli_field *f = a->query; f && f->option; f++)
		if (strcmp(f->option, option) == 0)
			return 1;
	return 0;
}

/* "  --channel  servicedesk, portal, chat, api (default api)" for each option
 * of a (or of every action of resource when a is NULL) with known values. */
static void values_usage(FILE *f, const char *resource, const action *a)
{
	int printed = 0;

	for (size_t i = 0; i < NVALUES; i++) {
		const struct option_values *v = &option_values[i];
		int used = 0;

		if (strcmp(v->resource, resource) != 0)
			continue;
		for (size_t k = 0; k < NACTIONS && !used; k++)
			if (strcmp(actions[k].resource, resource) == 0 && (!a || a == &actions[k]))
				used = action_has_option(&actions[k], v->option);
		if (!used)
			continue;
		if (!printed++)
			fprintf(f, "allowed values:\n");
		fprintf(f, "  --%-18s ", v->option);
		put_values(f, v, 23);
	}
}

void gh_cmd_client_values(FILE *f)
{
	for (size_t i = 0; i < NVALUES; i++) {
		fprintf(f, "  %-13s --%-17s ", option_values[i].resource, option_values[i].option);
		put_values(f, &option_values[i], 36);
	}
}

static const action *find_action(const char *resource, const char *name)
{
	for (size_t i = 0; i < NACTIONS; i++)
		if (strcmp(actions[i].resource, resource) == 0 && strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

/* Options an action accepts: its body or query fields, plus --body. */
static int check_options(const gh_cli *c, const action *a)
{
	const char *allowed[GH_CLI_MAX_ARGS + 2];
	size_t n = 0;
	char what[64];

	for (const gh_cli_field *f = a->body; f && f->option && n < GH_CLI_MAX_ARGS; f++)
		allowed[n++] = f->option;
	for (const gh_cli_field *f = a->query; f && f->option && n < GH_CLI_MAX_ARGS; f++)
		allowed[n++] = f->option;
	if (a->body)
		allowed[n++] = "body";
	allowed[n] = NULL;
	snprintf(what, sizeof(what), "%s %s", a->resource, a->name);
	return gh_cli_check_options(c, what, allowed);
}


/* --- showing ids by name -------------------------------------------------- */

/* Tables name what an id refers to, looked up once per id (bounded), so
 * that people read "billing-db/read-write" rather than "ent_3f9c...". */
#define MAX_LOOKUPS 256

typedef struct names {
	const gh_client *cl;
	json_t *cache;           /* id -> label */
	int lookups;
} names;

static const char *const ref_keys[] = {
	"owner", "subject", "entitlement", "system", "requester", "submitted_by",
	"control_owner_group", "revoked_by", "identity", "approver", "actor", NULL};

static int is_ref_key(const char *key)
{
	for (size_t i = 0; ref_keys[i]; i++)
		if (strcmp(ref_keys[i], key) == 0)
			return 1;
	return 0;
}

static const char *label_of(names *n, const char *id);

/* The object at path, or NULL; one GET, counted against the bound. */
static json_t *fetch(names *n, const char *tmpl, const char *id)
{
	const char *args[1] = {id};
	char *path = NULL;
	gh_response r;
	json_t *doc = NULL;

	if (n->lookups >= MAX_LOOKUPS || gh_cli_path(&path, tmpl, args, 1))
		return NULL;
	n->lookups++;
	if (gh_client_request(&r, n->cl, "GET", path, NULL, NULL) == 0 && r.status == 200 &&
	    r.body)
		doc = json_loadb(r.body, r.len, 0, NULL);
	gh_response_free(&r);
	free(path);
	return doc;
}

static const char *label_of(names *n, const char *id)
{
	static const struct {
		const char *prefix, *path;
	} kinds[] = {
		{"idn_", "/v1/identities/{}"}, {"grp_", "/v1/groups/{}"},
		{"sys_", "/v1/systems/{}"},    {"ent_", "/v1/entitlements/{}"},
	};
	const char *name, *sys;
	json_t *cached, *doc = NULL;
	char label[256];
	size_t k;

	if (!n->cache && !(n->cache = json_object()))
		return id;
	if ((cached = json_object_get(n->cache, id)))
		return json_string_value(cached);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strncmp(id, kinds[k].prefix, 4) == 0)
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]))
		return id;
	doc = fetch(n, kinds[k].path, id);
	name = json_string_value(json_object_get(doc, "name"));
	sys = json_string_value(json_object_get(doc, "system"));
	if (!name)
		snprintf(label, sizeof(label), "%s", id);
	else if (k == 3 && sys)
		snprintf(label, sizeof(label), "%s/%s", label_of(n, sys), name);
	else
		snprintf(label, sizeof(label), "%s", name);
	json_decref(doc);
	json_object_set_new(n->cache, id, json_string(label));
	cached = json_object_get(n->cache, id);
	return cached ? json_string_value(cached) : id;
}

/* Replaces the id in each GH_COL_REF column of every item by its label. */
static void name_items(names *n, json_t *items, const gh_table_col *cols)
{
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *item = json_array_get(items, i);

		for (const gh_table_col *c = cols; c->header; c++) {
			const char *id = json_string_value(json_object_get(item, c->key));

			if (c->kind == GH_COL_REF && id)
				json_object_set_new(item, c->key, json_string(label_of(n, id)));
		}
	}
}

/* In one object, a reference reads "name (id)"; lists of ids likewise. */
static void name_object(names *n, json_t *obj)
{
	const char *key;
	json_t *v;
	char buf[512];

	json_object_foreach(obj, key, v) {
		if (json_is_string(v) && is_ref_key(key)) {
			const char *id = json_string_value(v), *label = label_of(n, id);

			if (strcmp(label, id) != 0) {
				snprintf(buf, sizeof(buf), "%s (%s)", label, id);
				json_object_set_new(obj, key, json_string(buf));
			}
		} else if (json_is_array(v) && strcmp(key, "incompatible_with") == 0) {
			for (size_t i = 0; i < json_array_size(v); i++) {
				const char *id = json_string_value(json_array_get(v, i));

				if (id)
					json_array_set_new(v, i, json_string(label_of(n, id)));
			}
		}
	}
}

/* A change's weakened fields as one column: "risk_tier, owner". */
static void weakens_fields(json_t *items)
{
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *item = json_array_get(items, i), *w = json_object_get(item, "weakens");
		char buf[256] = "";
		size_t n = 0;

		for (size_t k = 0; k < json_array_size(w) && n < sizeof(buf); k++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", k ? ", " : "",
					      json_string_value(json_object_get(json_array_get(w, k),
										"field")));
		json_object_set_new(item, "weakens_fields", json_string(buf));
	}
}

static int show_list(const gh_cli *c, names *n, const action *a, json_t *doc)
{
	json_t *items = json_object_get(doc, "items");

	if (!json_is_array(items)) {
		fprintf(stderr, "gatehouse: the answer has no items\n");
		return GH_EXIT_FAIL;
	}
	if (strcmp(a->resource, "changes") == 0)
		weakens_fields(items);
	name_items(n, items, a->cols);
	if (gh_table_print(stdout, items, a->cols)) {
		gh_cli_error(NULL);
		return GH_EXIT_FAIL;
	}
	return GH_EXIT_OK;
}

/* A group's members and a request's approvals read better as tables. */
static int show_object(names *n, const action *a, json_t *doc)
{
	json_t *members = json_object_get(doc, "members");
	json_t *approvals = json_object_get(doc, "approvals");
	json_t *copy = json_copy(doc);
	int rc;

	if (!copy)
		return GH_EXIT_FAIL;
	name_object(n, copy);
	if (strcmp(a->resource, "groups") == 0 && json_is_array(members))
		json_object_del(copy, "members");
	else
		members = NULL;
	if (strcmp(a->resource, "requests") == 0 && json_is_array(approvals) &&
	    json_array_size(approvals))
		json_object_del(copy, "approvals");
	else
		approvals = NULL;
	rc = gh_table_print_object(stdout, copy);
	json_decref(copy);
	if (!rc && members) {
		printf("\nmembers:\n");
		rc = json_array_size(members) ? gh_table_print(stdout, members, member_cols)
					      : (printf("  (none)\n"), 0);
	}
	if (!rc && approvals) {
		name_items(n, approvals, approval_cols);
		printf("\napprovals:\n");
		rc = gh_table_print(stdout, approvals, approval_cols);
	}
	if (rc) {
		gh_cli_error(NULL);
		return GH_EXIT_FAIL;
	}
	return GH_EXIT_OK;
}

static int show(const gh_cli *c, const gh_client *cl, const action *a, const gh_response *r)
{
	names n = {cl, NULL, 0};
	json_t *doc = NULL;
	int rc;

	if (a->view == VIEW_DONE) {
		printf("%s %s: done\n", a->resource, a->name);
		return GH_EXIT_OK;
	}
	if (c->json) {
		fwrite(r->body ? r->body : "", 1, r->len, stdout);
		if (!r->len || r->body[r->len - 1] != '\n')
			putchar('\n');
		return GH_EXIT_OK;
	}
	if (!r->body || !(doc = json_loadb(r->body, r->len, 0, NULL))) {
		fprintf(stderr, "gatehouse: the server's answer is not JSON\n");
		return GH_EXIT_FAIL;
	}
	if (r->status == 202 && json_is_object(json_object_get(doc, "change"))) {
		/* a weakening change was proposed, not applied: say who must act */
		json_t *ch = json_object_get(doc, "change");

		rc = show_object(&n, a, ch);
		printf("\nproposed, not applied: %s\n  to confirm (another person): gatehouse changes"
		       " confirm %s\n",
		       json_string_value(json_object_get(doc, "detail")),
		       json_string_value(json_object_get(ch, "id")));
		json_decref(doc);
		json_decref(n.cache);
		return rc;
	}
	switch (a->view) {
	case VIEW_LIST:
	case VIEW_EVENTS:
		rc = show_list(c, &n, a, doc);
		break;
	case VIEW_TOKEN:
		name_object(&n, doc);
		rc = gh_table_print_object(stdout, doc) ? GH_EXIT_FAIL : GH_EXIT_OK;
		fprintf(stderr, "\nThe token is shown once and will not be shown again; keep it safe.\n");
		break;
	default:
		rc = show_object(&n, a, doc);
		break;
	}
	json_decref(doc);
	json_decref(n.cache);
	return rc;
}

/* The "next" marker of a list page, or NULL at the end; points into doc. */
static const char *next_of(const action *a, json_t *doc, char *buf, size_t len)
{
	json_t *n = json_object_get(doc, a->view == VIEW_EVENTS ? "next_after_seq" : "next");

	if (json_is_string(n))
		return json_string_value(n);
	if (json_is_integer(n)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(n));
		return buf;
	}
	return NULL;
}

/* --all: fetch page after page (bounded) and show them as one list. */
static int run_all(const gh_cli *c, const gh_client *cl, const action *a, const char *path)
{
	const char *cursor_key = a->view == VIEW_EVENTS ? "after_seq" : "after";
	json_t *all = json_array(), *doc = NULL;
	char *cursor = NULL, *query = NULL, *url = NULL;
	int rc = GH_EXIT_OK;

	for (int page = 0; page < MAX_PAGES; page++) {
		gh_response r;
		char buf[32];
		const char *next;
		size_t n;

		free(query);
		free(url);
		url = NULL;
		if (gh_cli_query(&query, c, a->query, cursor ? cursor_key : NULL, cursor)) {
			gh_cli_error(NULL);
			rc = GH_EXIT_USAGE;
			goto cleanup;
		}
		n = strlen(path) + strlen(query) + 1;
		if (!(url = malloc(n)) || !all) {
			rc = GH_EXIT_FAIL;
			goto cleanup;
		}
		snprintf(url, n, "%s%s", path, query);
		if (gh_client_request(&r, cl, "GET", url, NULL, NULL)) {
			gh_cli_error(NULL);
			rc = gh_error_last()->code == GH_ERROR ? GH_EXIT_USAGE : GH_EXIT_FAIL;
			goto cleanup;
		}
		if (r.status >= 300) {
			char what[64];

			snprintf(what, sizeof(what), "%s %s", a->resource, a->name);
			rc = gh_client_report_as(&r, cl, what);
			gh_response_free(&r);
			goto cleanup;
		}
		doc = r.body ? json_loadb(r.body, r.len, 0, NULL) : NULL;
		gh_response_free(&r);
		if (!json_is_array(json_object_get(doc, "items"))) {
			fprintf(stderr, "gatehouse: the server's answer has no items\n");
			rc = GH_EXIT_FAIL;
			goto cleanup;
		}
		json_array_extend(all, json_object_get(doc, "items"));
		next = next_of(a, doc, buf, sizeof(buf));
		free(cursor);
		cursor = next ? strdup(next) : NULL;
		json_decref(doc);
		doc = NULL;
		if (!cursor)
			break;
	}
	if (c->json) {
		json_t *out = json_pack("{s:O, s:n}", "items", all);

		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(out);
	} else {
		names nm = {cl, NULL, 0};

		name_items(&nm, all, a->cols);
		json_decref(nm.cache);
		if (gh_table_print(stdout, all, a->cols)) {
			gh_cli_error(NULL);
			rc = GH_EXIT_FAIL;
		}
	}
cleanup:
	json_decref(all);
	json_decref(doc);
	free(cursor);
	free(query);
	free(url);
	return rc;
}

/* Commands that ask for access: how they end decides the exit status. */
static int is_access_request(const action *a)
{
	return strcmp(a->resource, "requests") == 0 &&
	       (strcmp(a->name, "submit") == 0 || strcmp(a->name, "approve") == 0);
}

/* A request that ends denied (the decision refused it) or failed
 * (provisioning gave up) is a refusal: said on stderr, exit 1, whatever
 * --json printed. pending_approval, approved, provisioning and active
 * are success; so is a 202 proposal, which is not a request. */
static int outcome_exit(const gh_response *r)
{
	json_t *doc = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	const char *state = json_string_value(json_object_get(doc, "state"));
	const json_t *reasons = json_object_get(json_object_get(doc, "decision"), "reasons");
	int rc = GH_EXIT_OK;

	if (state && (strcmp(state, "denied") == 0 || strcmp(state, "failed") == 0)) {
		fprintf(stderr, "gatehouse: request %s %s",
			json_string_value(json_object_get(doc, "id")), state);
		for (size_t i = 0; strcmp(state, "denied") == 0 && i < json_array_size(reasons); i++)
			fprintf(stderr, "%s%s", i ? "; " : ": ",
				json_string_value(json_array_get(reasons, i)));
		fputc('\n', stderr);
		rc = GH_EXIT_FAIL;
	}
	json_decref(doc);
	return rc;
}

/* requests submit: the CLI files requests through the API, so --channel
 * defaults to api (a --body file or --channel says otherwise). */
static int default_channel(const action *a, json_t *body)
{
	if (strcmp(a->resource, "requests") != 0 || strcmp(a->name, "submit") != 0 || !body ||
	    json_object_get(body, "channel"))
		return 0;
	return json_object_set_new(body, "channel", json_string("api"))
	       ? gh_error_set(GH_ERROR, "out of memory") : 0;
}

int gh_cmd_client(gh_cli *c)
{
	const action *a;
	gh_client cl = {c->server, c->token, 30, NULL};
	gh_response r = {0};
	json_t *body = NULL;
	char *path = NULL, *query = NULL, *url = NULL;
	int rc = GH_EXIT_OK, nargs, first = 2;
	size_t n;

	if (c->npos >= 2 && strcmp(c->pos[0], "jobs") == 0 && strcmp(c->pos[1], "run-once") == 0)
		return gh_cmd_jobs_run_once(c);
	if (c->npos >= 2 && strcmp(c->pos[0], "audit") == 0 && strcmp(c->pos[1], "export") == 0)
		return gh_cmd_audit_export(c);
	/* "gatehouse reconcile SYSTEM": the action is implied */
	if (c->npos >= 2 && strcmp(c->pos[0], "reconcile") == 0 &&
	    strcmp(c->pos[1], "run") != 0) {
		a = find_action("reconcile", "run");
		first = 1;
		goto found;
	}

	if (c->npos < 2) {
		if (c->help) {
			printf("usage:\n");
			gh_cmd_client_usage(stdout, c->pos[0]);
			return GH_EXIT_OK;
		}
		fprintf(stderr, "gatehouse: '%s' needs a subcommand:\n", c->pos[0]);
		gh_cmd_client_usage(stderr, c->pos[0]);
		return GH_EXIT_USAGE;
	}
	if (!(a = find_action(c->pos[0], c->pos[1]))) {
		const char *subs[GH_CLI_MAX_ARGS + 1], *near;
		size_t nsubs = 0;

		for (size_t i = 0; i < NACTIONS && nsubs < GH_CLI_MAX_ARGS; i++)
			if (strcmp(actions[i].resource, c->pos[0]) == 0)
				subs[nsubs++] = actions[i].name;
		subs[nsubs] = NULL;
		if ((near = gh_cli_nearest(c->pos[1], subs)))
			fprintf(stderr, "gatehouse: unknown subcommand '%s %s'; did you mean '%s %s'?"
				" One of:\n", c->pos[0], c->pos[1], c->pos[0], near);
		else
			fprintf(stderr, "gatehouse: unknown subcommand '%s %s'; one of:\n",
				c->pos[0], c->pos[1]);
		gh_cmd_client_usage(stderr, c->pos[0]);
		return GH_EXIT_USAGE;
	}
found:
	if (c->help) {
		printf("usage: gatehouse %s %s%s%s [options]\n  %s\n", a->resource, a->name,
		       *a->args ? " " : "", a->args, a->summary);
		printf("options: --server URL --token TOKEN --json%s%s\n",
		       a->body ? " --body FILE|-" : "", a->view == VIEW_LIST ||
		       a->view == VIEW_EVENTS ? " --all" : "");
		values_usage(stdout, a->resource, a);
		if (is_access_request(a))
			printf("exit status: 0 when the request is granted or waits for approval;"
			       " 1 when it ends denied or failed, or is refused; 2 usage error or"
			       " server unreachable\n");
		return GH_EXIT_OK;
	}
	nargs = c->npos - first;
	if (check_options(c, a) ||
	    gh_cli_path(&path, a->path, c->pos + first, nargs) ||
	    gh_cli_query(&query, c, a->query, NULL, NULL) ||
	    (a->body && gh_cli_body(&body, c, a->body)) ||
	    default_channel(a, body)) {
		gh_cli_error(NULL);
		fprintf(stderr, "usage: gatehouse %s %s%s%s %s\n", a->resource, a->name,
			*a->args ? " " : "", a->args, a->summary);
		rc = GH_EXIT_USAGE;
		goto cleanup;
	}
	if (c->all && (a->view == VIEW_LIST || a->view == VIEW_EVENTS)) {
		rc = run_all(c, &cl, a, path);
		goto cleanup;
	}
	n = strlen(path) + strlen(query) + 1;
	if (!(url = malloc(n))) {
		rc = GH_EXIT_FAIL;
		goto cleanup;
	}
	snprintf(url, n, "%s%s", path, query);
	if (a->view == VIEW_STREAM)
		cl.timeout_s = 600;
	/* an export is JSON lines already: --json changes nothing */
	if (gh_client_request(&r, &cl, a->method, url, body,
			      a->view == VIEW_STREAM ? stdout : NULL)) {
		gh_cli_error(NULL);
		rc = gh_error_last()->code == GH_ERROR ? GH_EXIT_USAGE : GH_EXIT_FAIL;
		goto cleanup;
	}
	if (r.status >= 300) {
		char what[64];

		snprintf(what, sizeof(what), "%s %s", a->resource, a->name);
		rc = gh_client_report_as(&r, &cl, what);
		goto cleanup;
	}
	if (a->view == VIEW_STREAM) {
		fflush(stdout);
		goto cleanup;
	}
	rc = show(c, &cl, a, &r);
	if (rc == GH_EXIT_OK && is_access_request(a))
		rc = outcome_exit(&r);
	if (rc == GH_EXIT_OK && !c->json && (a->view == VIEW_LIST || a->view == VIEW_EVENTS)) {
		json_t *doc = json_loadb(r.body, r.len, 0, NULL);
		char buf[32];
		const char *next = next_of(a, doc, buf, sizeof(buf));

		if (next)
			fprintf(stderr, "(more: add --after %s, or --all)\n", next);
		json_decref(doc);
	}
cleanup:
	gh_response_free(&r);
	json_decref(body);
	free(path);
	free(query);
	free(url);
	return rc;
}
