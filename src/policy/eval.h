/* eval.h - (internal) the entity store, requests and the evaluator. */
#ifndef GH_POLICY_EVAL_H
#define GH_POLICY_EVAL_H

#include "policy/ast.h"

typedef struct ghp_entity {
	const ghp_euid *uid;
	ghp_value attrs;           /* a record */
	ghp_value tags;            /* a record; empty when none */
	size_t nparents;
	const ghp_euid **parents;  /* direct parents */
	size_t nanc;
	const ghp_euid **anc;      /* every ancestor (transitive closure), no duplicates */
} ghp_entity;

struct gh_policy_entities {
	ghp_arena arena;
	size_t n;
	ghp_entity *ents;
	size_t nslots;             /* power of two */
	uint32_t *slots;           /* index + 1 into ents; 0 empty */
};

struct gh_policy_request {
	ghp_arena arena;
	const ghp_euid *principal, *action, *resource;
	ghp_value context;         /* a record */
};

const ghp_entity *ghp_entities_find(const gh_policy_entities *es, const ghp_euid *uid);
/* Cedar's `in` between two entities: equal, or b is an ancestor of a. */
int ghp_entity_in(const gh_policy_entities *es, const ghp_euid *a, const ghp_euid *b);

typedef struct ghp_eval {
	const gh_policy_entities *es;   /* may be NULL: no entities */
	const gh_policy_request *req;
	ghp_arena *a;              /* for values made while evaluating */
	const ghp_euid *slot_principal, *slot_resource;
	/* the request's entities, looked up once (ghp_eval_begin) */
	const ghp_entity *ent_principal, *ent_action, *ent_resource;
	int cached;                /* the three above are set */
	char msg[256];             /* the error, when evaluation fails */
} ghp_eval;

/* Sets ev up for a request: es and req given, the rest cleared. */
void ghp_eval_begin(ghp_eval *ev, const gh_policy_entities *es, const gh_policy_request *req,
		    ghp_arena *a);
/* Cedar's `in` (as ghp_entity_in) using ev's cached request entities. */
int ghp_eval_in(const ghp_eval *ev, const ghp_euid *a, const ghp_euid *b);
int ghp_eval_expr(ghp_eval *ev, const ghp_expr *e, ghp_value *out);
/* 1 when the policy is satisfied, 0 when not, -1 on an evaluation error (ev->msg). */
int ghp_eval_policy(ghp_eval *ev, const ghp_policy *p);
/* Scope only: 1 when the request matches the policy's scope. */
int ghp_scope_match(ghp_eval *ev, const ghp_policy *p);

#endif
