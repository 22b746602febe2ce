/* entities.c - the JSON entity store (hash-indexed, ancestors closed once) and requests. */
#include "policy/eval.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JSON (64u * 1024 * 1024)
#define MAX_ENTITIES (4u * 1024 * 1024)

static int set_err(gh_policy_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_err(gh_policy_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->line = err->column = 0;
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

static json_t *load_json(const char *json, size_t len, gh_policy_error *err, int *rc)
{
	json_error_t je;
	if (len > MAX_JSON) {
		*rc = set_err(err, GH_POLICY_ETOOLARGE, "JSON over %u bytes", MAX_JSON);
		return NULL;
	}
	json_t *j = ghp_json_load(json, len, &je);
	if (!j) {
		*rc = GH_POLICY_EPARSE;
		if (err) {
			err->line = je.line > 0 ? je.line : 0;
			err->column = je.column > 0 ? je.column : 0;
			snprintf(err->message, sizeof(err->message), "invalid JSON: %s", je.text);
		}
	}
	return j;
}

static int index_put(gh_policy_entities *es, size_t i)
{
	size_t mask = es->nslots - 1;
	for (size_t s = es->ents[i].uid->hash & mask;; s = (s + 1) & mask) {
		uint32_t k = es->slots[s];
		if (!k) {
			es->slots[s] = (uint32_t)(i + 1);
			return 0;
		}
		if (ghp_euid_eq(es->ents[k - 1].uid, es->ents[i].uid))
			return -1;
	}
}

/* Ancestors of every entity: a walk up the parent edges from each. */
static int close_ancestors(gh_policy_entities *es)
{
	size_t cap = 64;
	const ghp_euid **acc = malloc(cap * sizeof(*acc));
	if (!acc)
		return -1;
	for (size_t i = 0; i < es->n; i++) {
		ghp_entity *e = &es->ents[i];
		size_t n = 0;
		for (size_t k = 0; k < e->nparents; k++) {
			if (n == cap) {
				const ghp_euid **na = realloc(acc, cap * 2 * sizeof(*acc));
				if (!na)
					goto fail;
				acc = na;
				cap *= 2;
			}
			acc[n++] = e->parents[k];
		}
		/* acc[0..done) expanded; the rest waits; duplicates skipped as found */
		for (size_t done = 0; done < n; done++) {
			const ghp_entity *pe = ghp_entities_find(es, acc[done]);
			if (!pe)
				continue;
			for (size_t k = 0; k < pe->nparents; k++) {
				const ghp_euid *u = pe->parents[k];
				size_t j;
				for (j = 0; j < n; j++)
					if (ghp_euid_eq(acc[j], u))
						break;
				if (j < n)
					continue;
				if (n == cap) {
					const ghp_euid **na = realloc(acc, cap * 2 * sizeof(*acc));
					if (!na)
						goto fail;
					acc = na;
					cap *= 2;
				}
				acc[n++] = u;
			}
		}
		/* dedup direct parents listed twice */
		size_t m = 0;
		for (size_t k = 0; k < n; k++) {
			size_t j;
			for (j = 0; j < m; j++)
				if (ghp_euid_eq(acc[j], acc[k]))
					break;
			if (j == m)
				acc[m++] = acc[k];
		}
		e->anc = ghp_arena_alloc(&es->arena, (m ? m : 1) * sizeof(*e->anc));
		if (!e->anc)
			goto fail;
		memcpy(e->anc, acc, m * sizeof(*acc));
		e->nanc = m;
	}
	free(acc);
	return 0;
fail:
	free(acc);
	return -1;
}

static int is_action_type_name(const char *t, size_t n)
{
	return (n == 6 && !memcmp(t, "Action", 6)) || (n > 8 && !memcmp(t + n - 8, "::Action", 8));
}

static int parse_entity(gh_policy_entities *es, const json_t *j, const gh_policy_schema *schema,
			ghp_entity *e, char *msg, size_t msglen)
{
	ghp_arena *a = &es->arena;
	const ghp_entity_type *et = NULL;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(j))
		return snprintf(msg, msglen, "an entity must be an object"), -1;
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)j, key, val) {
		if (strcmp(key, "uid") && strcmp(key, "attrs") && strcmp(key, "parents") &&
		    strcmp(key, "tags"))
			return snprintf(msg, msglen, "unknown field \"%s\" in an entity", key), -1;
	}
	if (ghp_euid_from_json(a, json_object_get(j, "uid"), &e->uid, msg, msglen) < 0)
		return -1;
	if (schema) {
		char *tn = ghp_arena_strdup(a, e->uid->type.p, e->uid->type.n);
		if (!tn)
			return snprintf(msg, msglen, "out of memory"), -1;
		et = ghp_schema_entity_type(schema, tn);
		if (!et && !is_action_type_name(tn, e->uid->type.n))
			return snprintf(msg, msglen, "entity type %s is not declared in the schema", tn), -1;
		if (et && et->nenum) {
			size_t k;
			for (k = 0; k < et->nenum; k++)
				if (e->uid->id.n == et->enum_id_lens[k] &&
				    !memcmp(e->uid->id.p, et->enum_ids[k], e->uid->id.n))
					break;
			if (k == et->nenum)
				return snprintf(msg, msglen, "%s::\"%.*s\" is not one of the enumerated ids",
						tn, (int)e->uid->id.n, e->uid->id.p), -1;
		}
	}
	const json_t *attrs = json_object_get(j, "attrs");
	static const ghp_type empty_record = { GHP_T_RECORD, NULL, NULL, 0, NULL, 0 };
	if (!attrs) {
		if (et && et->attrs) {
			for (size_t k = 0; k < et->attrs->nattrs; k++)
				if (et->attrs->attrs[k].required)
					return snprintf(msg, msglen, "required attribute %s is missing",
							et->attrs->attrs[k].name), -1;
		}
		e->attrs.kind = GHP_V_RECORD;
	} else {
		const ghp_type *t = et ? (et->attrs ? et->attrs : &empty_record) : NULL;
		if (!json_is_object(attrs))
			return snprintf(msg, msglen, "attrs must be an object"), -1;
		if (ghp_value_from_json(a, attrs, t, &e->attrs, msg, msglen, 0) < 0)
			return -1;
	}
	const json_t *tags = json_object_get(j, "tags");
	e->tags.kind = GHP_V_RECORD;
	if (tags && json_object_size(tags)) {
		if (!json_is_object(tags))
			return snprintf(msg, msglen, "tags must be an object"), -1;
		if (et && !et->tags)
			return snprintf(msg, msglen, "entity type does not declare tags"), -1;
		/* a map: every tag's value has the declared tag type */
		ghp_type tt = { GHP_T_RECORD, NULL, et ? et->tags : NULL, 0, NULL, 1 };
		if (ghp_value_from_json(a, tags, et ? &tt : NULL, &e->tags, msg, msglen, 0) < 0)
			return -1;
	}
	const json_t *parents = json_object_get(j, "parents");
	if (parents && !json_is_array(parents))
		return snprintf(msg, msglen, "parents must be an array"), -1;
	size_t np = parents ? json_array_size(parents) : 0;
	e->parents = ghp_arena_alloc(a, (np ? np : 1) * sizeof(*e->parents));
	if (!e->parents)
		return snprintf(msg, msglen, "out of memory"), -1;
	for (size_t k = 0; k < np; k++)
		if (ghp_euid_from_json(a, json_array_get(parents, k), &e->parents[k], msg, msglen) < 0)
			return -1;
	e->nparents = np;
	return 0;
}

static int add_schema_actions(gh_policy_entities *es, const gh_policy_schema *schema, size_t *cap)
{
	size_t na = ghp_schema_action_count(schema);
	for (size_t i = 0; i < na; i++) {
		const ghp_action *ac = ghp_schema_action_at(schema, i);
		if (!ac || !ac->type || !ac->id)
			continue;
		const ghp_euid *u = ghp_euid_new(&es->arena, ac->type, strlen(ac->type), ac->id,
						 strlen(ac->id));
		if (!u)
			return -1;
		size_t k;
		for (k = 0; k < es->n; k++)
			if (ghp_euid_eq(es->ents[k].uid, u))
				break;
		if (k < es->n)
			continue;
		if (es->n == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			ghp_entity *ne = realloc(es->ents, nc * sizeof(*ne));
			if (!ne)
				return -1;
			es->ents = ne;
			*cap = nc;
		}
		ghp_entity *e = &es->ents[es->n];
		memset(e, 0, sizeof(*e));
		e->uid = u;
		e->attrs.kind = GHP_V_RECORD;
		e->tags.kind = GHP_V_RECORD;
		e->parents = ghp_arena_alloc(&es->arena, (ac->nparents ? ac->nparents : 1) *
						 sizeof(*e->parents));
		if (!e->parents)
			return -1;
		for (size_t p = 0; p < ac->nparents; p++) {
			e->parents[p] = ghp_euid_new(&es->arena, ac->parent_types[p],
						     strlen(ac->parent_types[p]), ac->parent_ids[p],
						     strlen(ac->parent_ids[p]));
			if (!e->parents[p])
				return -1;
		}
		e->nparents = ac->nparents;
		es->n++;
	}
	return 0;
}

int gh_policy_entities_parse(gh_policy_entities **out, const char *json, size_t len,
			     const gh_policy_schema *schema, gh_policy_error *err)
{
	json_t *root;
	int rc = 0;

	*out = NULL;
	if (!(root = load_json(json, len, err, &rc)))
		return rc;
	rc = gh_policy_entities_from_json(out, root, schema, err);
	json_decref(root);
	return rc;
}

int gh_policy_entities_from_json(gh_policy_entities **out, const json_t *root,
				 const gh_policy_schema *schema, gh_policy_error *err)
{
	int rc = 0;
	char msg[400];
	gh_policy_entities *es = NULL;
	size_t cap = 0;

	*out = NULL;
	if (!json_is_array(root)) {
		rc = set_err(err, GH_POLICY_EPARSE, "entities must be a JSON array");
		goto cleanup;
	}
	if (json_array_size(root) > MAX_ENTITIES) {
		rc = set_err(err, GH_POLICY_ETOOLARGE, "too many entities");
		goto cleanup;
	}
	es = calloc(1, sizeof(*es));
	if (!es) {
		rc = set_err(err, GH_POLICY_ERROR, "out of memory");
		goto cleanup;
	}
	ghp_arena_init(&es->arena, NULL, 0, 0);
	cap = json_array_size(root);
	es->ents = calloc(cap ? cap : 1, sizeof(*es->ents));
	if (!es->ents) {
		rc = set_err(err, GH_POLICY_ERROR, "out of memory");
		goto cleanup;
	}
	if (!cap)
		cap = 1;
	for (size_t i = 0; i < json_array_size(root); i++) {
		msg[0] = 0;
		if (parse_entity(es, json_array_get(root, i), schema, &es->ents[es->n], msg,
				 sizeof(msg)) < 0) {
			rc = set_err(err, GH_POLICY_EINVALID, "entity %zu: %s", i, msg);
			goto cleanup;
		}
		es->n++;
	}
	if (schema && add_schema_actions(es, schema, &cap) < 0) {
		rc = set_err(err, GH_POLICY_ERROR, "out of memory");
		goto cleanup;
	}
	es->nslots = 16;
	while (es->nslots < es->n * 2)
		es->nslots *= 2;
	es->slots = calloc(es->nslots, sizeof(*es->slots));
	if (!es->slots) {
		rc = set_err(err, GH_POLICY_ERROR, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < es->n; i++)
		if (index_put(es, i) < 0) {
			const ghp_euid *u = es->ents[i].uid;
			rc = set_err(err, GH_POLICY_EINVALID, "duplicate entity %.*s::\"%.*s\"",
				     (int)u->type.n, u->type.p, (int)u->id.n, u->id.p);
			goto cleanup;
		}
	if (close_ancestors(es) < 0) {
		rc = set_err(err, GH_POLICY_ERROR, "out of memory");
		goto cleanup;
	}
	*out = es;
	es = NULL;
cleanup:
	gh_policy_entities_free(es);
	return rc;
}

void gh_policy_entities_free(gh_policy_entities *es)
{
	if (!es)
		return;
	ghp_arena_free(&es->arena);
	free(es->ents);
	free(es->slots);
	free(es);
}

static int type_listed(const ghp_euid *u, size_t n, const char *const *types)
{
	for (size_t i = 0; i < n; i++)
		if (ghp_str_eqz(u->type, types[i]))
			return 1;
	return 0;
}

int gh_policy_request_parse(gh_policy_request **out, const char *json, size_t len,
			    const gh_policy_schema *schema, int validate, gh_policy_error *err)
{
	json_t *root;
	int rc = 0;

	*out = NULL;
	if (!(root = load_json(json, len, err, &rc)))
		return rc;
	rc = gh_policy_request_from_json(out, root, schema, validate, err);
	json_decref(root);
	return rc;
}

int gh_policy_request_from_json(gh_policy_request **out, const json_t *root,
				const gh_policy_schema *schema, int validate, gh_policy_error *err)
{
	int rc = 0;
	char msg[400];
	gh_policy_request *req = NULL;
	const ghp_action *ac = NULL;

	*out = NULL;
	if (!json_is_object(root)) {
		rc = set_err(err, GH_POLICY_EPARSE, "a request must be a JSON object");
		goto cleanup;
	}
	req = calloc(1, sizeof(*req));
	if (!req) {
		rc = set_err(err, GH_POLICY_ERROR, "out of memory");
		goto cleanup;
	}
	ghp_arena_init(&req->arena, NULL, 0, 0);
	static const char *const names[] = { "principal", "action", "resource" };
	const ghp_euid **slots[] = { &req->principal, &req->action, &req->resource };
	for (int i = 0; i < 3; i++) {
		if (ghp_euid_from_json(&req->arena, json_object_get(root, names[i]), slots[i], msg,
				       sizeof(msg)) < 0) {
			rc = set_err(err, GH_POLICY_EPARSE, "%s: %s", names[i], msg);
			goto cleanup;
		}
	}
	if (schema) {
		char *t = ghp_arena_strdup(&req->arena, req->action->type.p, req->action->type.n);
		char *id = ghp_arena_strdup(&req->arena, req->action->id.p, req->action->id.n);
		if (!t || !id) {
			rc = set_err(err, GH_POLICY_ERROR, "out of memory");
			goto cleanup;
		}
		ac = ghp_schema_action(schema, t, id);
		if (validate) {
			if (!ac) {
				rc = set_err(err, GH_POLICY_EINVALID, "action %s::\"%s\" is not declared",
					     t, id);
				goto cleanup;
			}
			if (!type_listed(req->principal, ac->nprincipals, ac->principals)) {
				rc = set_err(err, GH_POLICY_EINVALID,
					     "principal type %.*s does not apply to the action",
					     (int)req->principal->type.n, req->principal->type.p);
				goto cleanup;
			}
			if (!type_listed(req->resource, ac->nresources, ac->resources)) {
				rc = set_err(err, GH_POLICY_EINVALID,
					     "resource type %.*s does not apply to the action",
					     (int)req->resource->type.n, req->resource->type.p);
				goto cleanup;
			}
		}
	}
	const json_t *ctx = json_object_get(root, "context");
	if (!ctx || json_is_null(ctx)) {
		static const ghp_type empty = { GHP_T_RECORD, NULL, NULL, 0, NULL, 0 };
		json_t *obj = json_object();
		if (!obj) {
			rc = set_err(err, GH_POLICY_ERROR, "out of memory");
			goto cleanup;
		}
		int r = ghp_value_from_json(&req->arena, obj, ac ? ac->context : &empty, &req->context,
					    msg, sizeof(msg), 0);
		json_decref(obj);
		if (r < 0) {
			rc = set_err(err, GH_POLICY_EINVALID, "context: %s", msg);
			goto cleanup;
		}
	} else {
		if (!json_is_object(ctx)) {
			rc = set_err(err, GH_POLICY_EPARSE, "context must be an object");
			goto cleanup;
		}
		if (ghp_value_from_json(&req->arena, ctx, ac ? ac->context : NULL, &req->context, msg,
					sizeof(msg), 0) < 0) {
			rc = set_err(err, GH_POLICY_EINVALID, "context: %s", msg);
			goto cleanup;
		}
	}
	*out = req;
	req = NULL;
cleanup:
	gh_policy_request_free(req);
	return rc;
}

void gh_policy_request_free(gh_policy_request *req)
{
	if (!req)
		return;
	ghp_arena_free(&req->arena);
	free(req);
}
