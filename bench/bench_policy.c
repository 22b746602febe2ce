/* bench_policy.c - Cedar authorization speed: generates the governance and the
 * gdrive-, github- and tinytodo-like workloads deterministically, writes each
 * as files (policies.cedar, entities.json, requests.json) for the cedar-wasm
 * side (bench/policy/bench.js), and measures Gatehouse's decisions/s on one
 * thread and p50/p99 latency per decision. */
#include "policy/policy.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* --- malloc counting (release builds only: ASan has its own malloc) --------- */

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NO_MALLOC_COUNT 1
#endif
#endif
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(NO_MALLOC_COUNT) && \
	defined(__GLIBC__)
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
static unsigned long long mallocs;
void *malloc(size_t n)
{
	__atomic_add_fetch(&mallocs, 1, __ATOMIC_RELAXED);
	return __libc_malloc(n);
}
void *calloc(size_t n, size_t m)
{
	__atomic_add_fetch(&mallocs, 1, __ATOMIC_RELAXED);
	return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n)
{
	__atomic_add_fetch(&mallocs, 1, __ATOMIC_RELAXED);
	return __libc_realloc(p, n);
}
#define MALLOCS() __atomic_load_n(&mallocs, __ATOMIC_RELAXED)
#else
#define MALLOCS() 0ull
#endif

/* --- a growable text buffer and a deterministic generator ------------------- */

typedef struct sbuf {
	char *p;
	size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0)
			abort();
		if (b->p && b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->n + (size_t)k + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
}

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

/* --- workloads ----------------------------------------------------------------- */

typedef struct workload {
	char name[32];
	sbuf policies;             /* Cedar text */
	sbuf entities;             /* JSON array */
	size_t nreq;
	char **req;                /* one JSON request each */
	size_t npolicies, nentities;
} workload;

static int first_ent;
static void ent_begin(sbuf *b, const char *type, const char *id)
{
	sb_printf(b, "%s\n{\"uid\":{\"type\":\"%s\",\"id\":\"%s\"},", first_ent ? "" : ",", type, id);
	first_ent = 0;
}

static void add_req(workload *w, const char *p, const char *a, const char *r, const char *ctx)
{
	sbuf b = { 0 };
	sb_printf(&b, "{\"principal\":{\"type\":\"%s\"},\"action\":{\"type\":\"Action\",\"id\":\"%s\"},"
		      "\"resource\":{\"type\":\"%s\"},\"context\":%s}", p, a, r, ctx);
	w->req = realloc(w->req, (w->nreq + 1) * sizeof(*w->req));
	if (!w->req)
		abort();
	w->req[w->nreq++] = b.p;
}

/* p and r are "Type\",\"id\":\"name" fragments, so add_req stays generic. */
#define UID(buf, type, fmt, ...) snprintf(buf, sizeof(buf), type "\",\"id\":\"" fmt, __VA_ARGS__)

static void actions(workload *w, const char *const *names, size_t n, const char *group,
		    size_t ngroup)
{
	for (size_t i = 0; i < n; i++) {
		ent_begin(&w->entities, "Action", names[i]);
		if (group && i < ngroup)
			sb_printf(&w->entities, "\"attrs\":{},\"parents\":[{\"type\":\"Action\",\"id\":\"%s\"}]}",
				  group);
		else
			sb_printf(&w->entities, "\"attrs\":{},\"parents\":[]}");
		w->nentities++;
	}
}

/* Governance: 10 orgs > 50 departments > 300 teams (users 3 deep), 400
 * folders (two levels) holding 3,600 documents, 10 actions in 2 groups;
 * 1,000 policies over them; requests with context. */
#define G_ORGS 10
#define G_DEPTS 50
#define G_TEAMS 300
#define G_FOLDERS 400
#define G_TOPF 40
#define G_DOCS 3600
#define G_ACTIONS 10
#define G_USERS (10000 - G_ORGS - G_DEPTS - G_TEAMS - G_FOLDERS - G_DOCS - G_ACTIONS)

static void gen_governance(workload *w, size_t nreq)
{
	static const char *const acts[] = { "view", "list", "comment", "edit", "share", "delete",
					    "admin", "export", "read", "write" };
	static const char *const leaf[] = { "view", "list", "comment", "edit", "share", "delete",
					    "admin", "export" };
	int *doc_folder = calloc(G_DOCS, sizeof(int));
	int *user_team = calloc(G_USERS, sizeof(int));
	int *doc_class = calloc(G_DOCS, sizeof(int));
	sbuf *e = &w->entities, *p = &w->policies;
	char b1[128], b2[128];

	strcpy(w->name, "governance");
	rng_state = 0x9e3779b97f4a7c15ull;
	first_ent = 1;
	sb_printf(e, "[");
	/* read = view, list, comment, export; write = edit, share, delete */
	for (int i = 0; i < G_ACTIONS; i++) {
		const char *grp = NULL;
		if (i <= 2 || i == 7)
			grp = "read";
		else if (i <= 5)
			grp = "write";
		ent_begin(e, "Action", acts[i]);
		if (grp)
			sb_printf(e, "\"attrs\":{},\"parents\":[{\"type\":\"Action\",\"id\":\"%s\"}]}", grp);
		else
			sb_printf(e, "\"attrs\":{},\"parents\":[]}");
	}
	for (int i = 0; i < G_ORGS; i++) {
		snprintf(b1, sizeof(b1), "org-%d", i);
		ent_begin(e, "Group", b1);
		sb_printf(e, "\"attrs\":{\"kind\":\"org\"},\"parents\":[]}");
	}
	for (int i = 0; i < G_DEPTS; i++) {
		snprintf(b1, sizeof(b1), "dept-%d", i);
		ent_begin(e, "Group", b1);
		sb_printf(e, "\"attrs\":{\"kind\":\"dept\"},\"parents\":[{\"type\":\"Group\",\"id\":\"org-%d\"}]}",
			  i % G_ORGS);
	}
	for (int i = 0; i < G_TEAMS; i++) {
		snprintf(b1, sizeof(b1), "team-%d", i);
		ent_begin(e, "Group", b1);
		sb_printf(e, "\"attrs\":{\"kind\":\"team\"},\"parents\":[{\"type\":\"Group\",\"id\":\"dept-%d\"}]}",
			  i % G_DEPTS);
	}
	for (int i = 0; i < G_USERS; i++) {
		int t = rnd(G_TEAMS);
		user_team[i] = t;
		snprintf(b1, sizeof(b1), "u-%d", i);
		ent_begin(e, "User", b1);
		sb_printf(e, "\"attrs\":{\"dept\":\"dept-%d\",\"level\":%u,\"clearance\":%u,\"active\":%s,"
			     "\"email\":\"u-%d@example.com\"},\"parents\":[{\"type\":\"Group\",\"id\":\"team-%d\"}",
			  t % G_DEPTS, 1 + rnd(10), rnd(6), rnd(20) ? "true" : "false", i, t);
		if (rnd(4) == 0)
			sb_printf(e, ",{\"type\":\"Group\",\"id\":\"team-%u\"}", rnd(G_TEAMS));
		sb_printf(e, "]}");
	}
	for (int i = 0; i < G_FOLDERS; i++) {
		snprintf(b1, sizeof(b1), "f-%d", i);
		ent_begin(e, "Folder", b1);
		sb_printf(e, "\"attrs\":{\"owner\":{\"__entity\":{\"type\":\"User\",\"id\":\"u-%u\"}}},\"parents\":[",
			  rnd(G_USERS));
		if (i >= G_TOPF)
			sb_printf(e, "{\"type\":\"Folder\",\"id\":\"f-%d\"}", i % G_TOPF);
		sb_printf(e, "]}");
	}
	for (int i = 0; i < G_DOCS; i++) {
		int f = G_TOPF + (int)rnd(G_FOLDERS - G_TOPF);
		doc_folder[i] = f;
		doc_class[i] = (int)rnd(6);
		snprintf(b1, sizeof(b1), "d-%d", i);
		ent_begin(e, "Document", b1);
		sb_printf(e, "\"attrs\":{\"owner\":{\"__entity\":{\"type\":\"User\",\"id\":\"u-%u\"}},"
			     "\"classification\":%d,\"public\":%s,\"tags\":[\"%s\",\"q%u\"]},"
			     "\"parents\":[{\"type\":\"Folder\",\"id\":\"f-%d\"}]}",
			  rnd(G_USERS), doc_class[i], rnd(10) ? "false" : "true",
			  rnd(3) ? "internal" : "shared", rnd(4), f);
	}
	sb_printf(e, "\n]\n");
	w->nentities = 10000;

	/* policies: a spread of scope shapes, most with conditions */
	int team_of[1000], folder_of[1000];
	for (int i = 0; i < 1000; i++) {
		int T = (int)rnd(G_TEAMS), F = (int)rnd(G_FOLDERS), D = (int)rnd(G_DEPTS);
		int O = (int)rnd(G_ORGS), U = (int)rnd(G_USERS);
		team_of[i] = -1;
		folder_of[i] = F;
		if (i == 0) {
			sb_printf(p, "forbid(principal, action, resource)\nwhen { context.risk > 8 };\n\n");
			continue;
		}
		if (i == 500) {
			sb_printf(p, "permit(principal, action == Action::\"view\", resource)\n"
				     "when { resource has public && resource.public };\n\n");
			continue;
		}
		switch (i % 10) {
		case 0: case 1: case 2:
			team_of[i] = T;
			sb_printf(p, "@id(\"team-read-%d\")\npermit(principal in Group::\"team-%d\", action in Action::\"read\", "
				     "resource in Folder::\"f-%d\")\nwhen { principal.clearance >= resource.classification };\n\n",
				  i, T, F);
			break;
		case 3:
			sb_printf(p, "permit(principal in Group::\"dept-%d\", action == Action::\"view\", "
				     "resource is Document in Folder::\"f-%d\")\nwhen { context.mfa || resource.public };\n\n",
				  D, F);
			break;
		case 4:
			sb_printf(p, "permit(principal == User::\"u-%d\", action in [Action::\"edit\", Action::\"comment\"], "
				     "resource in Folder::\"f-%d\")\nwhen { principal.active };\n\n", U, F);
			break;
		case 5:
			sb_printf(p, "permit(principal in Group::\"org-%d\", action == Action::\"list\", resource is Document)\n"
				     "when { context.hour >= 8 && context.hour < 18 && principal.level >= %u };\n\n",
				  O, 3 + rnd(7));
			break;
		case 6:
			sb_printf(p, "permit(principal, action in Action::\"write\", resource in Folder::\"f-%d\")\n"
				     "when { resource.owner == principal && context.mfa };\n\n", F);
			break;
		case 7:
			team_of[i] = T;
			sb_printf(p, "forbid(principal in Group::\"team-%d\", action == Action::\"delete\", resource)\n"
				     "unless { principal.level >= 7 };\n\n", T);
			break;
		case 8:
			sb_printf(p, "permit(principal is User, action == Action::\"share\", resource in Folder::\"f-%d\")\n"
				     "when { resource.tags.contains(\"shared\") && principal.dept == \"dept-%d\" };\n\n",
				  F, D);
			break;
		default:
			sb_printf(p, "forbid(principal, action, resource in Folder::\"f-%d\")\n"
				     "when { resource.classification > 4 && !context.ip.isInRange(ip(\"10.0.0.0/8\")) };\n\n",
				  F);
			break;
		}
	}
	w->npolicies = 1000;

	/* requests: half aimed at a team-read policy (a user of its team, a
	 * document under its folder), half at random */
	for (size_t k = 0; k < nreq; k++) {
		int u, d;
		const char *a;
		if (k % 2 == 0) {
			int i = (int)rnd(100) * 10 + (int)rnd(3);
			if (i == 0)
				i = 1;
			int T = team_of[i], F = folder_of[i], tries = 0;
			u = (int)rnd(G_USERS);
			while (user_team[u] != T && tries++ < 20000)
				u = (u + 1) % G_USERS;
			d = (int)rnd(G_DOCS);
			for (tries = 0; tries < G_DOCS && doc_folder[d] != F && doc_folder[d] % G_TOPF != F; tries++)
				d = (d + 1) % G_DOCS;
			a = leaf[rnd(3)];
		} else {
			u = (int)rnd(G_USERS);
			d = (int)rnd(G_DOCS);
			a = leaf[rnd(8)];
		}
		char ctx[256];
		unsigned ipa = rnd(4) ? 10 : 192;
		snprintf(ctx, sizeof(ctx), "{\"mfa\":%s,\"hour\":%u,\"risk\":%u,"
			 "\"ip\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"%u.%u.%u.%u\"}}}",
			 rnd(4) ? "true" : "false", rnd(24), rnd(10), ipa, rnd(256), rnd(256), 1 + rnd(250));
		UID(b1, "User", "u-%d", u);
		UID(b2, "Document", "d-%d", d);
		add_req(w, b1, a, b2, ctx);
	}
	free(doc_folder);
	free(user_team);
	free(doc_class);
}

/* gdrive-like: users in groups, folders in folders, documents in folders;
 * owners, viewer and editor groups, public documents, home folders. */
static void gen_gdrive(workload *w, int n, size_t nreq)
{
	static const char *const acts[] = { "viewDocument", "editDocument", "deleteDocument",
					    "shareDocument", "createDocument" };
	sbuf *e = &w->entities;
	char b1[128], b2[128];

	snprintf(w->name, sizeof(w->name), "gdrive-%d", n);
	rng_state = 0x1234567u + (uint64_t)n;
	first_ent = 1;
	sb_printf(e, "[");
	actions(w, acts, 5, NULL, 0);
	for (int i = 0; i < n; i++) {
		ent_begin(e, "Group", (snprintf(b1, sizeof(b1), "g%d", i), b1));
		sb_printf(e, "\"attrs\":{},\"parents\":[");
		if (i > 0)
			sb_printf(e, "{\"type\":\"Group\",\"id\":\"g%d\"}", (i - 1) / 2);
		sb_printf(e, "]}");
	}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "User", (snprintf(b1, sizeof(b1), "u%d", i), b1));
		sb_printf(e, "\"attrs\":{\"homeFolder\":{\"__entity\":{\"type\":\"Folder\",\"id\":\"f%d\"}}},"
			     "\"parents\":[{\"type\":\"Group\",\"id\":\"g%u\"},{\"type\":\"Group\",\"id\":\"g%u\"}]}",
			  i, rnd((uint32_t)n), rnd((uint32_t)n));
	}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "Folder", (snprintf(b1, sizeof(b1), "f%d", i), b1));
		sb_printf(e, "\"attrs\":{\"owner\":{\"__entity\":{\"type\":\"User\",\"id\":\"u%u\"}},"
			     "\"viewers\":{\"__entity\":{\"type\":\"Group\",\"id\":\"g%u\"}},"
			     "\"editors\":{\"__entity\":{\"type\":\"Group\",\"id\":\"g%u\"}}},\"parents\":[",
			  rnd((uint32_t)n), rnd((uint32_t)n), rnd((uint32_t)n));
		if (i >= 2 && rnd(3))
			sb_printf(e, "{\"type\":\"Folder\",\"id\":\"f%u\"}", rnd((uint32_t)i));
		sb_printf(e, "]}");
	}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "Document", (snprintf(b1, sizeof(b1), "d%d", i), b1));
		sb_printf(e, "\"attrs\":{\"owner\":{\"__entity\":{\"type\":\"User\",\"id\":\"u%u\"}},"
			     "\"isPublic\":%s,\"viewers\":{\"__entity\":{\"type\":\"Group\",\"id\":\"g%u\"}},"
			     "\"editors\":{\"__entity\":{\"type\":\"Group\",\"id\":\"g%u\"}}},"
			     "\"parents\":[{\"type\":\"Folder\",\"id\":\"f%u\"}]}",
			  rnd((uint32_t)n), rnd(5) ? "false" : "true", rnd((uint32_t)n), rnd((uint32_t)n),
			  rnd((uint32_t)n));
	}
	sb_printf(e, "\n]\n");
	w->nentities += 4 * (size_t)n;
	sb_printf(&w->policies,
		  "permit(principal, action == Action::\"viewDocument\", resource)\nwhen { resource has isPublic && resource.isPublic };\n\n"
		  "permit(principal, action, resource)\nwhen { resource has owner && resource.owner == principal };\n\n"
		  "permit(principal, action == Action::\"viewDocument\", resource is Document)\nwhen { principal in resource.viewers || principal in resource.editors };\n\n"
		  "permit(principal, action in [Action::\"editDocument\", Action::\"shareDocument\"], resource is Document)\nwhen { principal in resource.editors };\n\n"
		  "permit(principal, action in [Action::\"viewDocument\", Action::\"editDocument\"], resource)\nwhen { resource in principal.homeFolder };\n\n"
		  "permit(principal, action == Action::\"createDocument\", resource is Folder)\nwhen { principal in resource.editors || resource.owner == principal };\n\n"
		  "forbid(principal, action == Action::\"deleteDocument\", resource)\nunless { resource has owner && resource.owner == principal };\n\n");
	w->npolicies = 7;
	for (size_t k = 0; k < nreq; k++) {
		int a = (int)rnd(5);
		UID(b1, "User", "u%u", rnd((uint32_t)n));
		if (a == 4)
			UID(b2, "Folder", "f%u", rnd((uint32_t)n));
		else
			UID(b2, "Document", "d%u", rnd((uint32_t)n));
		add_req(w, b1, acts[a], b2, "{}");
	}
}

/* github-like: users in teams, teams and users in per-repository groups
 * (admins < maintainers < writers < triagers < readers), issues with a
 * reporter in a repository, organisations with members and owners. */
static void gen_github(workload *w, int n, size_t nreq)
{
	static const char *const acts[] = { "pull", "fork", "push", "add_reader", "add_triager",
					    "add_writer", "add_maintainer", "add_admin",
					    "edit_issue", "delete_issue", "assign_issue", "create_repo" };
	static const char *const roles[] = { "readers", "triagers", "writers", "maintainers", "admins" };
	sbuf *e = &w->entities;
	char b1[128], b2[128];

	snprintf(w->name, sizeof(w->name), "github-%d", n);
	rng_state = 0x7654321u + (uint64_t)n;
	first_ent = 1;
	sb_printf(e, "[");
	actions(w, acts, 12, NULL, 0);
	for (int i = 0; i < n; i++)
		for (int r = 0; r < 5; r++) {
			snprintf(b1, sizeof(b1), "repo%d-%s", i, roles[r]);
			ent_begin(e, "UserGroup", b1);
			sb_printf(e, "\"attrs\":{},\"parents\":[");
			if (r > 0)
				sb_printf(e, "{\"type\":\"UserGroup\",\"id\":\"repo%d-%s\"}", i, roles[r - 1]);
			sb_printf(e, "]}");
		}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "UserGroup", (snprintf(b1, sizeof(b1), "org%d-members", i), b1));
		sb_printf(e, "\"attrs\":{},\"parents\":[]}");
		ent_begin(e, "UserGroup", (snprintf(b1, sizeof(b1), "org%d-owners", i), b1));
		sb_printf(e, "\"attrs\":{},\"parents\":[{\"type\":\"UserGroup\",\"id\":\"org%d-members\"}]}", i);
		ent_begin(e, "Org", (snprintf(b1, sizeof(b1), "org%d", i), b1));
		sb_printf(e, "\"attrs\":{\"members\":{\"__entity\":{\"type\":\"UserGroup\",\"id\":\"org%d-members\"}},"
			     "\"owners\":{\"__entity\":{\"type\":\"UserGroup\",\"id\":\"org%d-owners\"}}},\"parents\":[]}",
			  i, i);
	}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "Team", (snprintf(b1, sizeof(b1), "team%d", i), b1));
		sb_printf(e, "\"attrs\":{},\"parents\":[{\"type\":\"UserGroup\",\"id\":\"repo%u-%s\"}]}",
			  rnd((uint32_t)n), roles[rnd(5)]);
	}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "User", (snprintf(b1, sizeof(b1), "user%d", i), b1));
		sb_printf(e, "\"attrs\":{},\"parents\":[{\"type\":\"Team\",\"id\":\"team%u\"},"
			     "{\"type\":\"UserGroup\",\"id\":\"repo%u-%s\"},{\"type\":\"UserGroup\",\"id\":\"org%u-members\"}]}",
			  rnd((uint32_t)n), rnd((uint32_t)n), roles[rnd(5)], rnd((uint32_t)n));
	}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "Repository", (snprintf(b1, sizeof(b1), "repo%d", i), b1));
		sb_printf(e, "\"attrs\":{");
		for (int r = 0; r < 5; r++)
			sb_printf(e, "%s\"%s\":{\"__entity\":{\"type\":\"UserGroup\",\"id\":\"repo%d-%s\"}}",
				  r ? "," : "", roles[r], i, roles[r]);
		sb_printf(e, "},\"parents\":[]}");
	}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "Issue", (snprintf(b1, sizeof(b1), "issue%d", i), b1));
		sb_printf(e, "\"attrs\":{\"repo\":{\"__entity\":{\"type\":\"Repository\",\"id\":\"repo%u\"}},"
			     "\"reporter\":{\"__entity\":{\"type\":\"User\",\"id\":\"user%u\"}}},\"parents\":[]}",
			  rnd((uint32_t)n), rnd((uint32_t)n));
	}
	sb_printf(e, "\n]\n");
	w->nentities += 10 * (size_t)n;
	sb_printf(&w->policies,
		  "permit(principal, action in [Action::\"pull\", Action::\"fork\"], resource is Repository)\nwhen { principal in resource.readers };\n\n"
		  "permit(principal, action == Action::\"push\", resource is Repository)\nwhen { principal in resource.writers };\n\n"
		  "permit(principal, action in [Action::\"add_reader\", Action::\"add_triager\", Action::\"add_writer\"], resource is Repository)\nwhen { principal in resource.maintainers };\n\n"
		  "permit(principal, action in [Action::\"add_maintainer\", Action::\"add_admin\"], resource is Repository)\nwhen { principal in resource.admins };\n\n"
		  "permit(principal, action in [Action::\"edit_issue\", Action::\"delete_issue\"], resource is Issue)\nwhen { principal == resource.reporter };\n\n"
		  "permit(principal, action in [Action::\"edit_issue\", Action::\"delete_issue\", Action::\"assign_issue\"], resource is Issue)\nwhen { principal in resource.repo.triagers };\n\n"
		  "permit(principal, action == Action::\"create_repo\", resource is Org)\nwhen { principal in resource.members };\n\n"
		  "forbid(principal, action == Action::\"delete_issue\", resource is Issue)\nunless { principal in resource.repo.maintainers || principal == resource.reporter };\n\n");
	w->npolicies = 8;
	for (size_t k = 0; k < nreq; k++) {
		int a = (int)rnd(12);
		UID(b1, "User", "user%u", rnd((uint32_t)n));
		if (a <= 7)
			UID(b2, "Repository", "repo%u", rnd((uint32_t)n));
		else if (a <= 10)
			UID(b2, "Issue", "issue%u", rnd((uint32_t)n));
		else
			UID(b2, "Org", "org%u", rnd((uint32_t)n));
		add_req(w, b1, acts[a], b2, "{}");
	}
}

/* tinytodo-like: users in teams (nested), lists with an owner and reader and
 * editor teams, the application; job levels and locations on users. */
static void gen_tinytodo(workload *w, int n, size_t nreq)
{
	static const char *const acts[] = { "CreateList", "GetLists", "GetList", "UpdateList",
					    "DeleteList", "CreateTask", "UpdateTask", "DeleteTask",
					    "EditShare" };
	static const char *const locs[] = { "HQ-Seattle", "NYC", "HQ-London", "remote" };
	sbuf *e = &w->entities;
	char b1[128], b2[128];

	snprintf(w->name, sizeof(w->name), "tinytodo-%d", n);
	rng_state = 0xabcdefu + (uint64_t)n;
	first_ent = 1;
	sb_printf(e, "[");
	actions(w, acts, 9, NULL, 0);
	ent_begin(e, "Application", "TinyTodo");
	sb_printf(e, "\"attrs\":{},\"parents\":[]}");
	ent_begin(e, "Team", "interns");
	sb_printf(e, "\"attrs\":{},\"parents\":[]}");
	for (int i = 0; i < n; i++) {
		ent_begin(e, "Team", (snprintf(b1, sizeof(b1), "t%d", i), b1));
		sb_printf(e, "\"attrs\":{},\"parents\":[");
		if (i > 0 && rnd(2))
			sb_printf(e, "{\"type\":\"Team\",\"id\":\"t%u\"}", rnd((uint32_t)i));
		sb_printf(e, "]}");
	}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "User", (snprintf(b1, sizeof(b1), "u%d", i), b1));
		sb_printf(e, "\"attrs\":{\"joblevel\":%u,\"location\":\"%s\"},"
			     "\"parents\":[{\"type\":\"Application\",\"id\":\"TinyTodo\"},{\"type\":\"Team\",\"id\":\"t%u\"}%s]}",
			  rnd(10), locs[rnd(4)], rnd((uint32_t)n),
			  rnd(6) ? "" : ",{\"type\":\"Team\",\"id\":\"interns\"}");
	}
	for (int i = 0; i < n; i++) {
		ent_begin(e, "List", (snprintf(b1, sizeof(b1), "l%d", i), b1));
		sb_printf(e, "\"attrs\":{\"owner\":{\"__entity\":{\"type\":\"User\",\"id\":\"u%u\"}},"
			     "\"name\":\"list %d\",\"readers\":{\"__entity\":{\"type\":\"Team\",\"id\":\"t%u\"}},"
			     "\"editors\":{\"__entity\":{\"type\":\"Team\",\"id\":\"t%u\"}}},"
			     "\"parents\":[{\"type\":\"Application\",\"id\":\"TinyTodo\"}]}",
			  rnd((uint32_t)n), i, rnd((uint32_t)n), rnd((uint32_t)n));
	}
	sb_printf(e, "\n]\n");
	w->nentities += 3 * (size_t)n + 2;
	sb_printf(&w->policies,
		  "permit(principal, action in [Action::\"CreateList\", Action::\"GetLists\"], resource == Application::\"TinyTodo\");\n\n"
		  "permit(principal, action, resource is List)\nwhen { resource.owner == principal };\n\n"
		  "permit(principal, action == Action::\"GetList\", resource is List)\nwhen { principal in resource.readers || principal in resource.editors };\n\n"
		  "permit(principal, action in [Action::\"UpdateList\", Action::\"CreateTask\", Action::\"UpdateTask\", Action::\"DeleteTask\"], resource is List)\nwhen { principal in resource.editors };\n\n"
		  "permit(principal, action == Action::\"GetList\", resource is List)\nwhen { principal.joblevel >= 7 && principal.location like \"HQ-*\" };\n\n"
		  "forbid(principal in Team::\"interns\", action == Action::\"CreateList\", resource == Application::\"TinyTodo\");\n\n"
		  "forbid(principal, action in [Action::\"DeleteList\", Action::\"EditShare\"], resource is List)\nunless { resource.owner == principal };\n\n");
	w->npolicies = 7;
	for (size_t k = 0; k < nreq; k++) {
		int a = (int)rnd(9);
		UID(b1, "User", "u%u", rnd((uint32_t)n));
		if (a <= 1)
			UID(b2, "Application", "%s", "TinyTodo");
		else
			UID(b2, "List", "l%u", rnd((uint32_t)n));
		add_req(w, b1, acts[a], b2, "{}");
	}
}

/* --- files for the node side ------------------------------------------------- */

static int write_file(const char *dir, const char *name, const char *s, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || fwrite(s, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "cannot write %s\n", path);
		return -1;
	}
	return 0;
}

static int write_workload(const char *outdir, const workload *w, char *dir, size_t dirlen)
{
	snprintf(dir, dirlen, "%s/%s", outdir, w->name);
	mkdir(dir, 0755);
	sbuf r = { 0 };
	sb_printf(&r, "[\n");
	for (size_t i = 0; i < w->nreq; i++)
		sb_printf(&r, "%s%s\n", w->req[i], i + 1 < w->nreq ? "," : "");
	sb_printf(&r, "]\n");
	int rc = write_file(dir, "policies.cedar", w->policies.p, w->policies.n) |
		 write_file(dir, "entities.json", w->entities.p, w->entities.n) |
		 write_file(dir, "requests.json", r.p, r.n);
	free(r.p);
	return rc;
}

/* --- measurement ------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int run_workload(workload *w, const char *dir, double seconds)
{
	gh_policy_error err;
	gh_policy_set *ps = NULL;
	gh_policy_entities *es = NULL;
	gh_policy_request **reqs = calloc(w->nreq, sizeof(*reqs));
	int rc = 1;
	size_t nallow = 0, nerr = 0;

	double t0 = now_s();
	if (gh_policy_set_parse(&ps, w->policies.p, w->policies.n, &err)) {
		fprintf(stderr, "%s: policies %d:%d %s\n", w->name, err.line, err.column, err.message);
		goto cleanup;
	}
	double t1 = now_s();
	if (gh_policy_entities_parse(&es, w->entities.p, w->entities.n, NULL, &err)) {
		fprintf(stderr, "%s: entities: %s\n", w->name, err.message);
		goto cleanup;
	}
	double t2 = now_s();
	for (size_t i = 0; i < w->nreq; i++)
		if (gh_policy_request_parse(&reqs[i], w->req[i], strlen(w->req[i]), NULL, 0, &err)) {
			fprintf(stderr, "%s: request %zu: %s\n", w->name, i, err.message);
			goto cleanup;
		}
	double t3 = now_s();

	/* the decisions, once, for the comparison with cedar-wasm */
	sbuf dec = { 0 };
	for (size_t i = 0; i < w->nreq; i++) {
		gh_policy_response *resp;
		if (gh_policy_authorize(&resp, ps, es, reqs[i])) {
			fprintf(stderr, "%s: authorize failed\n", w->name);
			free(dec.p);
			goto cleanup;
		}
		nallow += resp->allow != 0;
		nerr += resp->nerrors;
		sb_printf(&dec, "%s", resp->allow ? "allow" : "deny");
		for (size_t k = 0; k < resp->nreasons; k++)
			sb_printf(&dec, " %s", resp->reasons[k]);
		sb_printf(&dec, "\n");
		gh_policy_response_free(resp);
	}
	if (dir)
		write_file(dir, "gatehouse_decisions.txt", dec.p, dec.n);
	free(dec.p);

	/* throughput: whole passes over the requests, no per-call timing */
	unsigned long long m0 = MALLOCS();
	size_t done = 0;
	double s0 = now_s(), s1 = s0;
	while (s1 - s0 < seconds / 2) {
		for (size_t i = 0; i < w->nreq; i++) {
			gh_policy_response *resp;
			if (gh_policy_authorize(&resp, ps, es, reqs[i]))
				abort();
			gh_policy_response_free(resp);
		}
		done += w->nreq;
		s1 = now_s();
	}
	unsigned long long m1 = MALLOCS();
	double rate = (double)done / (s1 - s0);

	/* latency: each decision timed on its own */
	size_t cap = 1u << 22, nl = 0;
	uint64_t *lat = malloc(cap * sizeof(*lat));
	double l0 = now_s();
	while (nl + w->nreq <= cap && now_s() - l0 < seconds / 2) {
		for (size_t i = 0; i < w->nreq; i++) {
			gh_policy_response *resp;
			uint64_t a = now_ns();
			if (gh_policy_authorize(&resp, ps, es, reqs[i]))
				abort();
			gh_policy_response_free(resp);
			lat[nl++] = now_ns() - a;
		}
	}
	qsort(lat, nl, sizeof(*lat), u64_cmp);
	printf("policy engine=gatehouse workload=%s policies=%zu entities=%zu requests=%zu allow=%zu errors=%zu "
	       "decisions_per_s=%.0f p50_us=%.2f p99_us=%.2f max_us=%.1f mallocs_per_decision=%.2f "
	       "parse_policies_ms=%.1f parse_entities_ms=%.1f parse_requests_ms=%.1f\n",
	       w->name, w->npolicies, w->nentities, w->nreq, nallow, nerr, rate,
	       (double)lat[nl / 2] / 1e3, (double)lat[nl * 99 / 100] / 1e3, (double)lat[nl - 1] / 1e3,
	       done ? (double)(m1 - m0) / (double)done : 0.0, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
	       (t3 - t2) * 1e3);
	fflush(stdout);
	free(lat);
	rc = 0;
cleanup:
	for (size_t i = 0; i < w->nreq; i++)
		gh_policy_request_free(reqs[i]);
	free(reqs);
	gh_policy_entities_free(es);
	gh_policy_set_free(ps);
	return rc;
}

static void workload_free(workload *w)
{
	free(w->policies.p);
	free(w->entities.p);
	for (size_t i = 0; i < w->nreq; i++)
		free(w->req[i]);
	free(w->req);
	memset(w, 0, sizeof(*w));
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_policy [-o DIR] [-s SECONDS] [-r REQUESTS] [-w NAME]\n"
			"  -o DIR       also write each workload's files into DIR/<workload>/\n"
			"  -s SECONDS   measuring time per workload (default 4)\n"
			"  -r REQUESTS  distinct requests per workload (default 2000)\n"
			"  -w NAME      only workloads whose name starts with NAME\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *outdir = NULL, *only = NULL;
	double seconds = 4;
	size_t nreq = 2000;
	int opt, status = 0;

	while ((opt = getopt(argc, argv, "o:s:r:w:")) != -1) {
		switch (opt) {
		case 'o': outdir = optarg; break;
		case 's': seconds = atof(optarg); break;
		case 'r': nreq = (size_t)atol(optarg); break;
		case 'w': only = optarg; break;
		default: usage();
		}
	}
	if (seconds <= 0 || nreq == 0 || nreq > 100000)
		usage();
	static const int sizes[] = { 5, 50 };
	for (int k = 0; k < 7; k++) {
		workload w = { 0 };
		if (k == 0)
			gen_governance(&w, nreq);
		else if (k <= 2)
			gen_gdrive(&w, sizes[k - 1], nreq);
		else if (k <= 4)
			gen_github(&w, sizes[k - 3], nreq);
		else
			gen_tinytodo(&w, sizes[k - 5], nreq);
		if (only && strncmp(w.name, only, strlen(only))) {
			workload_free(&w);
			continue;
		}
		char dir[4096];
		if (outdir && write_workload(outdir, &w, dir, sizeof(dir)) < 0)
			status = 1;
		if (run_workload(&w, outdir ? dir : NULL, seconds))
			status = 1;
		workload_free(&w);
	}
	return status;
}
