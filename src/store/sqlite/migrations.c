/* migrations.c - versioned schema migrations, applied in order at open. */
#include "store/store.h"

#include <stddef.h>

/* Append new versions at the end; never edit one that has shipped. */
const gh_migration gh_store_migrations[] = {
{1, "core schema",
"CREATE TABLE identities ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"
"  kind TEXT NOT NULL CHECK (kind IN ('human','service_account','api_key','workload','oauth_app','ai_agent')),"
"  name TEXT NOT NULL UNIQUE,"
"  display_name TEXT,"
"  email TEXT,"
"  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended','decommissioned')),"
"  owner_id TEXT REFERENCES identities(id),"
"  purpose TEXT,"
"  environment TEXT,"
"  expires_at INTEGER,"
"  roles TEXT NOT NULL DEFAULT '[]',"            /* JSON array of role names */
"  attributes TEXT NOT NULL DEFAULT '{}',"       /* JSON object, what policy sees */
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  CHECK (kind = 'human' OR (owner_id IS NOT NULL AND purpose IS NOT NULL"
"         AND environment IS NOT NULL AND expires_at IS NOT NULL))"
");"
"CREATE INDEX identities_owner ON identities(owner_id);"
"CREATE TABLE groups ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"
"  name TEXT NOT NULL UNIQUE,"
"  description TEXT,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL"
");"
/* A member is an identity or a group (nested groups); cycles are refused by gov. */
"CREATE TABLE group_members ("
"  group_id TEXT NOT NULL REFERENCES groups(id),"
"  member_type TEXT NOT NULL CHECK (member_type IN ('identity','group')),"
"  member_id TEXT NOT NULL,"
"  added_at INTEGER NOT NULL,"
"  PRIMARY KEY (group_id, member_type, member_id)"
");"
"CREATE INDEX group_members_member ON group_members(member_id);"
"CREATE TABLE systems ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"
"  name TEXT NOT NULL UNIQUE,"
"  description TEXT,"
"  owner_id TEXT NOT NULL REFERENCES identities(id),"
"  connector TEXT NOT NULL DEFAULT 'manual',"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL"
");"
"CREATE TABLE entitlements ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"
"  system_id TEXT NOT NULL REFERENCES systems(id),"
"  name TEXT NOT NULL,"
"  description TEXT,"
"  risk_tier TEXT NOT NULL CHECK (risk_tier IN ('low','medium','high','critical')),"
"  data_sensitivity TEXT NOT NULL CHECK (data_sensitivity IN ('public','internal','confidential','restricted')),"
"  environment TEXT NOT NULL,"
"  control_owner_group_id TEXT NOT NULL REFERENCES groups(id),"
"  max_duration INTEGER NOT NULL CHECK (max_duration > 0),"   /* seconds */
"  requestable INTEGER NOT NULL DEFAULT 1,"
"  attributes TEXT NOT NULL DEFAULT '{}',"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  UNIQUE (system_id, name)"
");"
/* SoD conflicts, stored once per pair with a < b. */
"CREATE TABLE entitlement_conflicts ("
"  a TEXT NOT NULL REFERENCES entitlements(id),"
"  b TEXT NOT NULL REFERENCES entitlements(id),"
"  PRIMARY KEY (a, b),"
"  CHECK (a < b)"
");"
"CREATE INDEX entitlement_conflicts_b ON entitlement_conflicts(b);"
"CREATE TABLE requests ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"
"  state TEXT NOT NULL CHECK (state IN ('submitted','denied','pending_approval','approved',"
"    'provisioning','active','expired','revoked','rejected','cancelled','failed')),"
"  ticket_ref TEXT,"
"  channel TEXT NOT NULL CHECK (channel IN ('servicedesk','portal','chat','api')),"
"  submitted_by TEXT NOT NULL REFERENCES identities(id),"
"  requester_id TEXT NOT NULL REFERENCES identities(id),"
"  subject_id TEXT NOT NULL REFERENCES identities(id),"
"  entitlement_id TEXT NOT NULL REFERENCES entitlements(id),"
"  justification TEXT NOT NULL,"
"  duration INTEGER NOT NULL,"                     /* requested, seconds */
"  emergency INTEGER NOT NULL DEFAULT 0,"
"  decision TEXT,"                                 /* JSON: what decided and why */
"  required_approvals INTEGER NOT NULL DEFAULT 0,"
"  sla_due_at INTEGER,"
"  grant_id TEXT,"
"  close_reason TEXT,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  closed_at INTEGER"
");"
"CREATE INDEX requests_state_sla ON requests(state, sla_due_at);"
"CREATE INDEX requests_subject ON requests(subject_id, entitlement_id);"
"CREATE TABLE approvals ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"
"  request_id TEXT NOT NULL REFERENCES requests(id),"
"  approver_id TEXT NOT NULL REFERENCES identities(id),"
"  decision TEXT NOT NULL CHECK (decision IN ('approve','reject')),"
"  comment TEXT,"
"  step INTEGER NOT NULL,"
"  checks TEXT NOT NULL DEFAULT '[]',"             /* JSON: invariants checked */
"  created_at INTEGER NOT NULL,"
"  UNIQUE (request_id, approver_id)"
");"
"CREATE TABLE grants ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"
"  subject_id TEXT NOT NULL REFERENCES identities(id),"
"  entitlement_id TEXT NOT NULL REFERENCES entitlements(id),"
"  request_id TEXT NOT NULL REFERENCES requests(id),"
"  status TEXT NOT NULL CHECK (status IN ('active','expired','revoked')),"
"  granted_at INTEGER NOT NULL,"
"  expires_at INTEGER NOT NULL,"
"  revoked_at INTEGER,"
"  revoked_by TEXT,"
"  revoke_reason TEXT,"
"  provisioning_status TEXT NOT NULL DEFAULT 'done',"
"  receipt TEXT"
");"
"CREATE INDEX grants_active_expiry ON grants(expires_at) WHERE status = 'active';"
"CREATE INDEX grants_subject ON grants(subject_id, status);"
"CREATE TABLE tokens ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"                       /* public part of the token */
"  identity_id TEXT NOT NULL REFERENCES identities(id),"
"  name TEXT NOT NULL,"
"  secret_hash BLOB NOT NULL,"                     /* SHA-256 of the secret part */
"  created_at INTEGER NOT NULL,"
"  expires_at INTEGER,"
"  revoked_at INTEGER,"
"  last_used_at INTEGER"
");"
"CREATE TABLE audit_events ("
"  seq INTEGER PRIMARY KEY,"
"  ts INTEGER NOT NULL,"                           /* microseconds since the epoch */
"  actor TEXT NOT NULL,"
"  action TEXT NOT NULL,"
"  object_type TEXT NOT NULL,"
"  object_id TEXT NOT NULL,"
"  details TEXT NOT NULL,"                         /* canonical JSON */
"  prev_hash BLOB NOT NULL,"
"  hash BLOB NOT NULL"
");"
"CREATE INDEX audit_events_object ON audit_events(object_id);"
/* The chain head, updated with every append: catches a truncated tail. */
"CREATE TABLE audit_head (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash BLOB NOT NULL);"
"CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
},
{2, "extensions: a request may extend an active grant",
"ALTER TABLE requests ADD COLUMN extends_grant_id TEXT;"
},
{3, "entitlements found by name without a scan",
"CREATE INDEX entitlements_name ON entitlements(name);"
},
{4, "versioned Cedar policy sets, activated by a second person",
"CREATE TABLE policy_versions ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"                       /* pol_... */
"  version INTEGER NOT NULL UNIQUE CHECK (version > 0),"
"  text TEXT NOT NULL,"
"  sha256 TEXT NOT NULL,"                          /* hex of SHA-256(text) */
"  state TEXT NOT NULL CHECK (state IN ('proposed','active','superseded','rejected')),"
"  proposed_by TEXT NOT NULL,"
"  proposed_at INTEGER NOT NULL,"
"  comment TEXT,"
"  validation TEXT NOT NULL DEFAULT '[]',"         /* JSON: errors, [] when valid */
"  activated_by TEXT,"
"  activated_at INTEGER"
");"
/* at most one active version, whatever the code does */
"CREATE UNIQUE INDEX policy_versions_one_active ON policy_versions(state) WHERE state = 'active';"
},
{5, "a subject's grants found by entitlement without a scan",
"DROP INDEX grants_subject;"
"CREATE INDEX grants_subject ON grants(subject_id, entitlement_id, status);"
},
{6, "governance: entitlement tags, break-glass, approval policy records, delegations",
"ALTER TABLE entitlements ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';"   /* JSON array */
"ALTER TABLE requests ADD COLUMN break_glass INTEGER NOT NULL DEFAULT 0;"
"ALTER TABLE requests ADD COLUMN incident_ref TEXT;"
"ALTER TABLE grants ADD COLUMN break_glass INTEGER NOT NULL DEFAULT 0;"
"ALTER TABLE grants ADD COLUMN review_due_at INTEGER;"
"ALTER TABLE grants ADD COLUMN review_state TEXT"
"  CHECK (review_state IN ('pending','confirmed','revoked','missed'));"
"ALTER TABLE grants ADD COLUMN reviewed_by TEXT;"
"ALTER TABLE grants ADD COLUMN reviewed_at INTEGER;"
"ALTER TABLE grants ADD COLUMN review_comment TEXT;"
"CREATE INDEX grants_review_due ON grants(review_due_at) WHERE review_state = 'pending';"
"CREATE INDEX grants_review_state ON grants(review_state) WHERE review_state IS NOT NULL;"
/* approvals.decision is already 'approve'|'reject': the policy's answer is its own column */
"ALTER TABLE approvals ADD COLUMN policy TEXT;"    /* JSON: the "approve" decision */
"CREATE TABLE delegations ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"                       /* dlg_... */
"  from_group_id TEXT NOT NULL REFERENCES groups(id),"
"  to_group_id TEXT NOT NULL REFERENCES groups(id),"
"  scope_type TEXT NOT NULL CHECK (scope_type IN ('system','tag')),"
"  scope TEXT NOT NULL,"                           /* system id or tag */
"  reason TEXT NOT NULL,"
"  expires_at INTEGER NOT NULL,"
"  created_by TEXT NOT NULL,"
"  created_at INTEGER NOT NULL,"
"  revoked_at INTEGER,"
"  revoked_by TEXT,"
"  revoke_reason TEXT,"
"  CHECK (from_group_id <> to_group_id)"
");"
/* an approval looks up the live delegations of the entitlement's control owner */
"CREATE INDEX delegations_from ON delegations(from_group_id, expires_at) WHERE revoked_at IS NULL;"
"CREATE INDEX delegations_to ON delegations(to_group_id);"
},
{7, "provisioning: grant states, the outbox, reconciliation findings, connector settings",
/* SQLite cannot alter a CHECK: the grants table is rebuilt with every column
 * of migrations 1 and 6, in the same order. */
"CREATE TABLE grants_new ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"
"  subject_id TEXT NOT NULL REFERENCES identities(id),"
"  entitlement_id TEXT NOT NULL REFERENCES entitlements(id),"
"  request_id TEXT NOT NULL REFERENCES requests(id),"
"  status TEXT NOT NULL CHECK (status IN ('provisioning','active','failed','expired','revoked')),"
"  granted_at INTEGER NOT NULL,"
"  expires_at INTEGER NOT NULL,"
"  revoked_at INTEGER,"
"  revoked_by TEXT,"
"  revoke_reason TEXT,"
"  provisioning_status TEXT NOT NULL DEFAULT 'done'"
"    CHECK (provisioning_status IN ('done','pending','failed','removing','removed')),"
"  receipt TEXT,"                                  /* JSON: what the system answered */
"  break_glass INTEGER NOT NULL DEFAULT 0,"
"  review_due_at INTEGER,"
"  review_state TEXT CHECK (review_state IN ('pending','confirmed','revoked','missed')),"
"  reviewed_by TEXT,"
"  reviewed_at INTEGER,"
"  review_comment TEXT"
");"
"INSERT INTO grants_new (pk, id, subject_id, entitlement_id, request_id, status, granted_at,"
"  expires_at, revoked_at, revoked_by, revoke_reason, provisioning_status, receipt, break_glass,"
"  review_due_at, review_state, reviewed_by, reviewed_at, review_comment)"
" SELECT pk, id, subject_id, entitlement_id, request_id, status, granted_at, expires_at,"
"  revoked_at, revoked_by, revoke_reason, provisioning_status, receipt, break_glass,"
"  review_due_at, review_state, reviewed_by, reviewed_at, review_comment FROM grants;"
"DROP TABLE grants;"
"ALTER TABLE grants_new RENAME TO grants;"
/* a grant still provisioning expires too */
"CREATE INDEX grants_active_expiry ON grants(expires_at) WHERE status IN ('active','provisioning');"
"CREATE INDEX grants_subject ON grants(subject_id, entitlement_id, status);"
"CREATE INDEX grants_review_due ON grants(review_due_at) WHERE review_state = 'pending';"
"CREATE INDEX grants_review_state ON grants(review_state) WHERE review_state IS NOT NULL;"
"CREATE INDEX grants_failed ON grants(pk) WHERE status = 'failed';"
"ALTER TABLE systems ADD COLUMN connector_settings TEXT NOT NULL DEFAULT '{}';"  /* JSON, no secrets */
/* Jobs written in the same transaction as the grant change; workers run them. */
"CREATE TABLE outbox ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"                       /* job_... */
"  grant_id TEXT,"                                 /* NULL: removal of shadow access */
"  system_id TEXT NOT NULL REFERENCES systems(id),"
"  op TEXT NOT NULL CHECK (op IN ('grant','revoke')),"
"  account TEXT,"                                  /* NULL: the subject has no account */
"  target TEXT NOT NULL,"
"  state TEXT NOT NULL CHECK (state IN ('pending','done','failed','cancelled')),"
"  attempts INTEGER NOT NULL DEFAULT 0,"
"  next_at INTEGER NOT NULL,"
"  lease_until INTEGER,"                           /* a worker holds it until then */
"  last_error TEXT,"
"  receipt TEXT,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  done_at INTEGER"
");"
"CREATE UNIQUE INDEX outbox_grant_op ON outbox(grant_id, op) WHERE grant_id IS NOT NULL;"
"CREATE INDEX outbox_due ON outbox(next_at) WHERE state = 'pending';"
"CREATE INDEX outbox_system ON outbox(system_id, state);"
"CREATE TABLE findings ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"                       /* fnd_... */
"  run_id TEXT NOT NULL,"                          /* rec_... */
"  system_id TEXT NOT NULL REFERENCES systems(id),"
"  kind TEXT NOT NULL CHECK (kind IN ('missing','shadow')),"
"  account TEXT NOT NULL,"
"  target TEXT NOT NULL,"
"  grant_id TEXT,"
"  status TEXT NOT NULL CHECK (status IN ('open','reprovisioning','reprovisioned','revoking',"
"    'revoked','failed')),"
"  job_id TEXT,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL"
");"
"CREATE INDEX findings_system ON findings(system_id, kind, status);"
"CREATE INDEX findings_job ON findings(job_id) WHERE job_id IS NOT NULL;"
},
{8, "NHI credentials: API keys issued for grants, stored only as hashes",
"CREATE TABLE credentials ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"                       /* crd_...: the public part of the key */
"  grant_id TEXT NOT NULL REFERENCES grants(id),"
"  identity_id TEXT NOT NULL REFERENCES identities(id),"
"  entitlement_id TEXT NOT NULL REFERENCES entitlements(id),"
"  secret_hash BLOB NOT NULL,"                     /* SHA-256 of the secret part */
"  created_by TEXT NOT NULL,"
"  created_at INTEGER NOT NULL,"
"  expires_at INTEGER NOT NULL,"                   /* never after the grant's */
"  valid_until INTEGER,"                           /* set by rotation: the end of the overlap */
"  rotated_from TEXT,"
"  rotated_to TEXT,"
"  revoked_at INTEGER,"
"  revoked_by TEXT,"
"  revoke_reason TEXT,"
"  last_used_at INTEGER"
");"
"CREATE INDEX credentials_grant ON credentials(grant_id) WHERE revoked_at IS NULL;"
"CREATE INDEX credentials_identity ON credentials(identity_id);"
},
{9, "the audit log as a Merkle tree: leaf hashes and complete subtrees",
"ALTER TABLE audit_events ADD COLUMN leaf_hash BLOB;"
/* node (level, idx) hashes leaves idx*2^level .. (idx+1)*2^level-1, level >= 1 */
"CREATE TABLE merkle_nodes ("
"  level INTEGER NOT NULL,"
"  idx INTEGER NOT NULL,"
"  hash BLOB NOT NULL,"
"  PRIMARY KEY (level, idx)"
") WITHOUT ROWID;"
"SELECT gh_merkle_backfill();"
},
{10, "signed checkpoints of the audit tree (C2SP signed notes)",
"CREATE TABLE checkpoints ("
"  pk INTEGER PRIMARY KEY,"
"  size INTEGER NOT NULL CHECK (size >= 0),"       /* leaves the checkpoint covers */
"  root BLOB NOT NULL,"                            /* RFC 9162 root of those leaves */
"  note TEXT NOT NULL,"                            /* the signed note as published */
"  created_at INTEGER NOT NULL"
");"
/* nothing to backfill: checkpoints are signed from now on (at serve start) */
},
{11, "trust boundaries: proposed changes (four eyes), who changed an entitlement's controls, NHI expiry and orphans, token rotation",
/* A change that weakens a control waits here for a second admin/iam person. */
"CREATE TABLE changes ("
"  pk INTEGER PRIMARY KEY,"
"  id TEXT NOT NULL UNIQUE,"                       /* chg_... */
"  object_type TEXT NOT NULL CHECK (object_type IN ('entitlement','system','group','identity')),"
"  object_id TEXT NOT NULL,"
"  operation TEXT NOT NULL,"                       /* e.g. entitlement.update, group.add_member */
"  payload TEXT NOT NULL,"                         /* JSON: the change as proposed */
"  weakens TEXT NOT NULL DEFAULT '[]',"            /* JSON: [{"field","from","to"}] */
"  base_updated_at INTEGER,"                       /* the object's updated_at when proposed */
"  state TEXT NOT NULL CHECK (state IN ('proposed','confirmed','withdrawn')),"
"  proposed_by TEXT NOT NULL,"
"  proposed_at INTEGER NOT NULL,"
"  comment TEXT,"
"  decided_by TEXT,"
"  decided_at INTEGER,"
"  decision_comment TEXT"
");"
"CREATE INDEX changes_object ON changes(object_id, state);"
"CREATE INDEX changes_state ON changes(state, pk);"
/* JSON array of the identities who last changed (proposed or confirmed) the
 * entitlement's controls: the built-in rule never auto-approves for them */
"ALTER TABLE entitlements ADD COLUMN controls_changed_by TEXT NOT NULL DEFAULT '[]';"
/* why an identity is not active when Gatehouse itself decided it:
 * 'expired' (past expires_at) or 'orphaned' (no active owner past the grace) */
"ALTER TABLE identities ADD COLUMN status_reason TEXT;"
"ALTER TABLE identities ADD COLUMN orphaned_at INTEGER;"   /* owner suspended or gone since */
"CREATE INDEX identities_expiry ON identities(expires_at)"
"  WHERE status = 'active' AND expires_at IS NOT NULL;"
"CREATE INDEX identities_orphaned ON identities(orphaned_at) WHERE orphaned_at IS NOT NULL;"
"ALTER TABLE tokens ADD COLUMN rotated_to TEXT;"           /* the token that replaced it */
},
{0, NULL, NULL}
};
