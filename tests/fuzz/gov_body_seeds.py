#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_gov_body (corpus/gov_body/): one byte choosing
operation and actor (op + OPS * actor, as in fuzz_gov_body.c), then a JSON body.
Rerun after changing the operation list there."""
import json
import os

OPS = ['identity_create', 'identity_update', 'identity_suspend', 'identity_activate',
       'identity_decommission', 'group_create', 'group_add_member', 'system_create',
       'system_update', 'entitlement_create', 'entitlement_update', 'request_submit',
       'request_approve', 'request_reject', 'request_cancel', 'grant_revoke', 'token_create',
       'identity_list', 'group_list', 'system_list', 'entitlement_list', 'request_list',
       'grant_list', 'audit_list', 'delegation_create', 'delegation_revoke', 'grant_review',
       'delegation_list', 'grant_list_review', 'entitlement_list_tag', 'job_list', 'job_retry',
       'reconcile', 'finding_list', 'identity_renew', 'change_confirm', 'change_withdraw',
       'change_list', 'token_rotate', 'token_list']
ACTORS = {'admin': 0, 'approver1': 1, 'owner1': 2}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'gov_body')


def w(name, op, body, actor='admin'):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(bytes([OPS.index(op) + len(OPS) * ACTORS[actor]]) + body)


os.makedirs(OUT, exist_ok=True)
w('identity-create-nhi', 'identity_create', {"kind": "ai_agent", "name": "triage-bot", "owner": "owner1", "purpose": "ticket triage", "environment": "staging", "expires_at": "2030-06-01T00:00:00Z", "roles": ["requester"], "attributes": {"model": "x"}})
w('identity-create-nhi-missing', 'identity_create', {"kind": "workload", "name": "w1"})
w('identity-create-dup', 'identity_create', {"kind": "human", "name": "owner1", "email": "o@example.com", "display_name": "Owner"})
w('identity-create-bad-owner', 'identity_create', {"kind": "api_key", "name": "k1", "owner": "etl", "purpose": "p", "environment": "prod", "expires_at": "2001-01-01T00:00:00Z"})
w('identity-create-unknown-field', 'identity_create', {"kind": "human", "name": "Bad Name!", "roles": ["root"], "x": 1})
w('identity-create-as-approver', 'identity_create', {"kind": "human", "name": "mallory", "roles": ["admin"]}, 'approver1')
w('identity-update', 'identity_update', {"display_name": "ETL", "purpose": "exports", "expires_at": "2031-01-01T00:00:00+02:00", "owner": "approver1"})
w('identity-update-nulls', 'identity_update', {"purpose": None, "owner": None, "expires_at": None, "roles": None})
w('identity-suspend', 'identity_suspend', {"reason": "incident 42"})
w('identity-suspend-noreason', 'identity_suspend', {}, 'approver1')
w('identity-activate', 'identity_activate', {"reason": "back"})
w('identity-decommission', 'identity_decommission', {"reason": "left"})
w('group-create', 'group_create', {"name": "dba-leads", "description": "leads"})
w('group-create-dup', 'group_create', {"name": "approvers"})
w('group-add-identity', 'group_add_member', {"identity": "owner1"})
w('group-add-both', 'group_add_member', {"identity": "owner1", "group": "approvers"})
w('group-add-self', 'group_add_member', {"group": "approvers"})
w('system-create', 'system_create', {"name": "ldap", "owner": "approver1", "connector": "manual", "description": "dir"})
w('system-create-nhi-owner', 'system_create', {"name": "s2", "owner": "etl", "connector": "ssh"})
w('system-update', 'system_update', {"description": "billing", "owner": "approver1"})
w('entitlement-create', 'entitlement_create', {"system": "billing-db", "name": "dba", "risk_tier": "high", "data_sensitivity": "restricted", "environment": "prod", "control_owner_group": "approvers", "max_duration": "4h", "requestable": False, "incompatible_with": ["read-only", "read-write"], "attributes": {"k": "v"}})
w('entitlement-create-bad', 'entitlement_create', {"system": "nope", "name": "", "risk_tier": "extreme", "data_sensitivity": 1, "environment": "PROD", "control_owner_group": "x", "max_duration": "11y"})
w('entitlement-update', 'entitlement_update', {"risk_tier": "low", "max_duration": 3600, "incompatible_with": [], "requestable": True})
w('entitlement-update-self-conflict', 'entitlement_update', {"incompatible_with": ["read-write"]})
w('request-submit-low', 'request_submit', {"channel": "servicedesk", "ticket_ref": "INC-9", "requester": "owner1", "subject": "etl", "entitlement": "read-only", "justification": "j", "duration": "1h"})
w('request-submit-conflict', 'request_submit', {"channel": "api", "subject": "owner1", "entitlement": "read-write", "justification": "j", "duration": "2h"})
w('request-submit-emergency', 'request_submit', {"channel": "chat", "subject": "etl", "entitlement": "read-write", "justification": "j", "duration": "2d", "emergency": True}, 'owner1')
w('request-submit-bad', 'request_submit', {"channel": "fax", "subject": "sleeper", "entitlement": "nope", "duration": "0s", "emergency": "yes"})
w('request-approve', 'request_approve', {"comment": "ok"}, 'approver1')
w('request-approve-owner', 'request_approve', {}, 'owner1')
w('request-approve-submitter', 'request_approve', {"comment": "self"})
w('request-reject', 'request_reject', {"comment": "no"}, 'approver1')
w('request-reject-nocomment', 'request_reject', {}, 'approver1')
w('request-cancel', 'request_cancel', {"reason": "not needed"})
w('request-cancel-other', 'request_cancel', {"reason": "x"}, 'approver1')
w('grant-revoke', 'grant_revoke', {"reason": "done"})
w('grant-revoke-empty', 'grant_revoke', {"reason": ""})
w('token-create', 'token_create', {"identity": "etl", "name": "ci", "expires_in": "30d"})
w('token-create-suspended', 'token_create', {"identity": "sleeper", "name": "x"})
w('token-create-bad', 'token_create', {"identity": 123, "expires_in": "-1h", "extra": [1, 2]})
w('list-identities', 'identity_list', {"limit": 2, "kind": "service_account", "status": "active", "owner": "owner1"})
w('list-identities-bad', 'identity_list', {"limit": 501, "after": "idn_nope", "kind": "robot", "owner": "nobody"})
w('list-groups', 'group_list', {"limit": 1})
w('list-systems', 'system_list', {"after": "sys_0000000000000000"})
w('list-entitlements', 'entitlement_list', {"system": "billing-db", "risk_tier": "medium", "environment": "prod", "requestable": "true"})
w('list-entitlements-bad', 'entitlement_list', {"requestable": "maybe", "environment": "PROD!", "limit": -1})
w('list-requests', 'request_list', {"state": "pending_approval", "subject": "etl", "entitlement": "read-write"}, 'owner1')
w('list-grants', 'grant_list', {"status": "active", "subject": "owner1", "limit": 500}, 'approver1')
w('list-audit', 'audit_list', {"after_seq": 3, "limit": 10, "object_id": "x"})
w('list-audit-negative', 'audit_list', {"after_seq": -9223372036854775807, "limit": 2147483647})
w('not-object', 'request_submit', '[1,2,3]')
w('deep', 'identity_create', '{"kind":"human","name":"d","attributes":' + '{"a":' * 20 + '1' + '}' * 20 + '}')
w('bad-utf8', 'group_create', b'{"name":"\xc3\x28"}')
w('dup-keys', 'system_create', '{"name":"a","name":"b","owner":"owner1"}')
w('delegation-create', 'delegation_create', {"from_group": "approvers", "to_group": "cover", "tag": "pci", "expires_in": "7d", "reason": "audit"})
w('delegation-create-system', 'delegation_create', {"from_group": "approvers", "to_group": "cover", "system": "billing-db", "expires_at": "2099-01-01T00:00:00Z", "reason": "r"}, 'approver1')
w('delegation-create-both', 'delegation_create', {"from_group": "cover", "to_group": "cover", "system": "billing-db", "tag": "x", "expires_in": "91d", "expires_at": "x"})
w('delegation-revoke', 'delegation_revoke', {"reason": "done"}, 'approver1')
w('grant-review', 'grant_review', {"outcome": "confirm", "comment": "ok"}, 'approver1')
w('grant-review-bad', 'grant_review', {"outcome": "maybe", "comment": 1, "x": []})
w('delegation-list', 'delegation_list', {"from_group": "approvers", "status": "active", "limit": 5})
w('grant-list-review', 'grant_list_review', {"review_state": "missed"})
w('entitlement-list-tag', 'entitlement_list_tag', {"tag": "pci"})
w('request-break-glass', 'request_submit', {"channel": "api", "subject": "etl", "entitlement": "read-only", "justification": "x", "duration": "1h", "break_glass": True, "incident_ref": "INC-9"})
w('entitlement-update-tags', 'entitlement_update', {"tags": ["pci", "prod", "pci"]})
w('job-list', 'job_list', {"state": "pending", "system": "billing-db", "limit": 5})
w('job-list-bad', 'job_list', {"state": "bogus", "system": "nosuch", "grant": "x"})
w('job-list-as-owner', 'job_list', {}, 'owner1')
w('job-retry-unknown', 'job_retry', {"job": "job_nosuch"})
w('job-retry-as-approver', 'job_retry', {"job": "job_x"}, 'approver1')
w('reconcile-manual', 'reconcile', {"revoke_shadow": True})
w('reconcile-bad', 'reconcile', {"revoke_shadow": "yes", "x": 1})
w('finding-list', 'finding_list', {"system": "billing-db", "kind": "shadow", "status": "open"})
w('finding-list-bad', 'finding_list', {"kind": "odd", "status": "weird", "limit": 0})
w('identity-renew-owner', 'identity_renew', {"extend_by": "30d"}, 'owner1')
w('identity-renew-at', 'identity_renew', {"expires_at": "2027-03-01T00:00:00Z"})
w('identity-renew-both', 'identity_renew', {"expires_at": "2027-03-01T00:00:00Z", "extend_by": "1d"}, 'approver1')
w('identity-renew-far', 'identity_renew', {"extend_by": "4000d"}, 'owner1')
w('identity-list-orphaned', 'identity_list', {"orphaned": "true", "kind": "service_account"})
w('change-confirm', 'change_confirm', {"comment": "reviewed"})
w('change-confirm-approver', 'change_confirm', {}, 'approver1')
w('change-withdraw', 'change_withdraw', {"reason": "not now"})
w('change-withdraw-noreason', 'change_withdraw', {"x": 1}, 'owner1')
w('change-list', 'change_list', {"state": "proposed", "limit": 5})
w('change-list-bad', 'change_list', {"state": "maybe"}, 'approver1')
w('token-rotate-own', 'token_rotate', {}, 'owner1')
w('token-rotate-other', 'token_rotate', {}, 'approver1')
w('token-rotate-bad', 'token_rotate', {"token": "tok_zz"})
w('token-list', 'token_list', {"status": "active", "identity": "owner1"})
