/* values.c - the values each enumerated field of the domain accepts, in one
 * place: the domain checks input against them, and the front ends list them
 * (help texts, catalog-as-code) from here instead of keeping copies. */
#include "gov/gov_internal.h"

#include <string.h>

const char *const gov_identity_kinds[] = {
	"human", "service_account", "api_key", "workload", "oauth_app", "ai_agent", NULL};
const char *const gov_identity_statuses[] = {"active", "suspended", "decommissioned", NULL};
const char *const gov_role_names[] = {
	"admin", "iam", "approver", "servicedesk", "auditor", "requester", NULL};
const char *const gh_gov_risk_tiers[] = {"low", "medium", "high", "critical", NULL};
const char *const gh_gov_data_sensitivities[] = {
	"public", "internal", "confidential", "restricted", NULL};
const char *const gov_channels[] = {"servicedesk", "portal", "chat", "api", NULL};
const char *const gov_request_states[] = {
	"submitted", "denied", "pending_approval", "approved", "provisioning", "active",
	"expired", "revoked", "rejected", "cancelled", "failed", NULL};
const char *const gov_grant_statuses[] = {
	"provisioning", "active", "failed", "expired", "revoked", NULL};
const char *const gov_review_states[] = {"pending", "confirmed", "revoked", "missed", NULL};
const char *const gov_review_outcomes[] = {"confirm", "revoke", NULL};
const char *const gov_job_states[] = {"pending", "done", "failed", "cancelled", NULL};
const char *const gov_finding_kinds[] = {"missing", "shadow", NULL};
const char *const gov_finding_statuses[] = {
	"open", "reprovisioning", "reprovisioned", "revoking", "revoked", "failed", NULL};
const char *const gov_delegation_statuses[] = {"active", "expired", "revoked", NULL};
const char *const gov_token_statuses[] = {"active", "expired", "revoked", NULL};
const char *const gov_credential_statuses[] = {
	"active", "expiring", "expired", "revoked", NULL};
const char *const gov_change_states[] = {"proposed", "confirmed", "withdrawn", NULL};

static const struct {
	const char *name;
	const char *const *values;
} lists[] = {
	{"identity_kind", gov_identity_kinds},
	{"identity_status", gov_identity_statuses},
	{"role", gov_role_names},
	{"risk_tier", gh_gov_risk_tiers},
	{"data_sensitivity", gh_gov_data_sensitivities},
	{"channel", gov_channels},
	{"request_state", gov_request_states},
	{"grant_status", gov_grant_statuses},
	{"review_state", gov_review_states},
	{"review_outcome", gov_review_outcomes},
	{"job_state", gov_job_states},
	{"finding_kind", gov_finding_kinds},
	{"finding_status", gov_finding_statuses},
	{"delegation_status", gov_delegation_statuses},
	{"token_status", gov_token_statuses},
	{"credential_status", gov_credential_statuses},
	{"change_state", gov_change_states},
};

const char *const *gh_gov_values(const char *name)
{
	for (size_t i = 0; name && i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcmp(lists[i].name, name) == 0)
			return lists[i].values;
	return NULL;
}
