/* schema_json.c - the JSON schema format (json-schema.md) into a raw schema
 * (schema_raw.h); unknown fields are refused, as Cedar does. */
#include "policy/schema_raw.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct jctx {
	ghp_sr_schema *raw;
	gh_policy_error *err;
	int code;
	int depth;
	char where[200];           /* the declaration being read, for messages */
} jctx;

__attribute__((format(printf, 2, 3))) static int fail(jctx *c, const char *fmt, ...)
{
	va_list ap;
	char msg[300];

	if (c->code)
		return -1;
	c->code = GH_POLICY_EINVALID;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err) {
		c->err->line = c->err->column = 0;
		snprintf(c->err->message, sizeof(c->err->message), "%s%s%s", c->where,
			 c->where[0] ? ": " : "", msg);
	}
	return -1;
}

static int oom(jctx *c)
{
	if (!c->code) {
		c->code = GH_POLICY_ERROR;
		if (c->err)
			snprintf(c->err->message, sizeof(c->err->message), "out of memory");
	}
	return -1;
}

/* Refuses members of o not in allowed (NULL-terminated). */
static int only(jctx *c, json_t *o, const char *what, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		size_t i;

		for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
			;
		if (!allowed[i])
			return fail(c, "unknown field \"%s\" in %s", key, what);
	}
	return 0;
}

static char *dup_str(jctx *c, const char *s, size_t len)
{
	char *p = ghp_sa_strndup(&c->raw->arena, s, len);

	if (!p)
		oom(c);
	return p;
}

/* A string member naming a type: Path syntax, no whitespace. */
static int type_name(jctx *c, json_t *v, const char *field, const char **out)
{
	if (!json_is_string(v))
		return fail(c, "\"%s\" must be a string", field);
	if (!ghp_schema_is_path(json_string_value(v), json_string_length(v)))
		return fail(c, "\"%s\" is not a type name: \"%s\"", field, json_string_value(v));
	*out = dup_str(c, json_string_value(v), json_string_length(v));
	return *out ? 0 : -1;
}

static int annotations(jctx *c, json_t *v)
{
	const char *key;
	json_t *x;

	if (!v)
		return 0;
	if (!json_is_object(v))
		return fail(c, "\"annotations\" must be an object");
	json_object_foreach(v, key, x) {
		if (!ghp_schema_is_path(key, strlen(key)) || strstr(key, "::"))
			return fail(c, "bad annotation name \"%s\"", key);
		if (!json_is_string(x) && !json_is_null(x))
			return fail(c, "annotation \"%s\" must be a string", key);
	}
	return 0;
}

static ghp_sr_type *parse_type(jctx *c, json_t *v, int attr);

static int parse_attributes(jctx *c, json_t *v, ghp_sr_type *t)
{
	const char *key;
	json_t *x;

	if (!json_is_object(v))
		return fail(c, "\"attributes\" must be an object");
	json_object_foreach(v, key, x) {
		ghp_sr_attr *a;

		if (ghp_sa_grow(&c->raw->arena, (void **)&t->attrs, t->nattrs, &t->capattrs,
				sizeof(*t->attrs)))
			return oom(c);
		a = &t->attrs[t->nattrs++];
		a->name_len = strlen(key);
		a->name = dup_str(c, key, a->name_len);
		if (!a->name)
			return -1;
		a->type = parse_type(c, x, 1);
		if (!a->type)
			return -1;
		a->required = 1;
		if (json_object_get(x, "required")) {
			json_t *r = json_object_get(x, "required");

			if (!json_is_boolean(r))
				return fail(c, "\"required\" of attribute \"%s\" must be a boolean",
					    key);
			a->required = json_is_true(r);
		}
	}
	return 0;
}

/* {"type": ...} as a type; attr: an attribute, which may say "required". */
static ghp_sr_type *parse_type(jctx *c, json_t *v, int attr)
{
	static const char *const plain[] = {"type", "required", "annotations", NULL};
	static const char *const set[] = {"type", "element", "required", "annotations", NULL};
	static const char *const rec[] = {"type", "attributes", "additionalAttributes", "required",
					  "annotations", NULL};
	static const char *const named[] = {"type", "name", "required", "annotations", NULL};
	ghp_sr_type *t = NULL;
	json_t *ty;
	const char *s;

	if (++c->depth > GH_POLICY_MAX_DEPTH) {
		if (!c->code) {
			fail(c, "type nested deeper than %d", GH_POLICY_MAX_DEPTH);
			c->code = GH_POLICY_ETOOLARGE;
		}
		goto done;
	}
	if (!json_is_object(v)) {
		fail(c, "a type must be an object");
		goto done;
	}
	if (!attr && json_object_get(v, "required")) {
		fail(c, "\"required\" is only for attributes");
		goto done;
	}
	ty = json_object_get(v, "type");
	if (!json_is_string(ty)) {
		fail(c, "a type needs \"type\", a string");
		goto done;
	}
	if (annotations(c, json_object_get(v, "annotations")))
		goto done;
	t = ghp_sa_alloc(&c->raw->arena, sizeof(*t));
	if (!t) {
		oom(c);
		goto done;
	}
	s = json_string_value(ty);
	if (strcmp(s, "String") == 0 || strcmp(s, "Long") == 0 || strcmp(s, "Boolean") == 0) {
		t->kind = s[0] == 'S' ? GHP_SR_STRING : s[0] == 'L' ? GHP_SR_LONG : GHP_SR_BOOL;
		if (only(c, v, "a primitive type", plain))
			t = NULL;
	} else if (strcmp(s, "Set") == 0) {
		t->kind = GHP_SR_SET;
		if (only(c, v, "a Set type", set))
			t = NULL;
		else if (!json_object_get(v, "element") && fail(c, "a Set type needs \"element\""))
			t = NULL;
		else if (!(t->element = parse_type(c, json_object_get(v, "element"), 0)))
			t = NULL;
	} else if (strcmp(s, "Record") == 0) {
		json_t *attrs = json_object_get(v, "attributes");
		json_t *more = json_object_get(v, "additionalAttributes");

		t->kind = GHP_SR_RECORD;
		if (only(c, v, "a Record type", rec))
			t = NULL;
		else if (more && !json_is_boolean(more) &&
			 fail(c, "\"additionalAttributes\" must be a boolean"))
			t = NULL;
		else if (attrs && parse_attributes(c, attrs, t))
			t = NULL;
		else
			t->open = json_is_true(more);
	} else if (strcmp(s, "Entity") == 0 || strcmp(s, "Extension") == 0 ||
		   strcmp(s, "EntityOrCommon") == 0) {
		t->kind = s[1] == 'n' && s[6] == '\0' ? GHP_SR_ENTITY :
			  s[1] == 'x'                 ? GHP_SR_EXTENSION :
							GHP_SR_ENTITY_OR_COMMON;
		if (only(c, v, "a named type", named))
			t = NULL;
		else if (!json_object_get(v, "name") && fail(c, "a %s type needs \"name\"", s))
			t = NULL;
		else if (type_name(c, json_object_get(v, "name"), "name", &t->name))
			t = NULL;
	} else {
		/* any other "type" names a common type */
		t->kind = GHP_SR_COMMON;
		if (only(c, v, "a common type reference", plain) ||
		    type_name(c, ty, "type", &t->name))
			t = NULL;
	}
done:
	c->depth--;
	return t;
}

/* A record type (or common type reference) for a shape or context. */
static ghp_sr_type *parse_shape(jctx *c, json_t *v)
{
	return parse_type(c, v, 0);
}

static int parse_type_list(jctx *c, json_t *v, const char *field, ghp_sr_ref **refs, size_t *n,
			   size_t *cap)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v))
		return fail(c, "\"%s\" must be an array of entity type names", field);
	json_array_foreach(v, i, x) {
		if (ghp_sa_grow(&c->raw->arena, (void **)refs, *n, cap, sizeof(**refs)))
			return oom(c);
		if (type_name(c, x, field, &(*refs)[*n].name))
			return -1;
		(*n)++;
	}
	return 0;
}

static int parse_entity(jctx *c, ghp_sr_ns *ns, const char *name, json_t *v)
{
	static const char *const allowed[] = {"memberOfTypes", "shape", "tags", "annotations",
					      "enum", NULL};
	ghp_sr_entity *e;
	json_t *x;

	if (!json_is_object(v))
		return fail(c, "an entity type must be an object");
	if (only(c, v, "an entity type", allowed) ||
	    annotations(c, json_object_get(v, "annotations")))
		return -1;
	if (ghp_sa_grow(&c->raw->arena, (void **)&ns->entities, ns->nentities, &ns->capentities,
			sizeof(*ns->entities)))
		return oom(c);
	e = &ns->entities[ns->nentities++];
	e->name = dup_str(c, name, strlen(name));
	if (!e->name)
		return -1;
	if ((x = json_object_get(v, "enum"))) {
		size_t i;
		json_t *id;

		if (json_object_get(v, "memberOfTypes") || json_object_get(v, "shape") ||
		    json_object_get(v, "tags"))
			return fail(c, "an enumerated entity type has no memberOfTypes, shape or "
				       "tags");
		if (!json_is_array(x) || !json_array_size(x))
			return fail(c, "\"enum\" must be a non-empty array of strings");
		e->is_enum = 1;
		e->nenum = json_array_size(x);
		e->enum_ids = ghp_sa_alloc(&c->raw->arena, e->nenum * sizeof(*e->enum_ids));
		e->enum_lens = ghp_sa_alloc(&c->raw->arena, e->nenum * sizeof(*e->enum_lens));
		if (!e->enum_ids || !e->enum_lens)
			return oom(c);
		json_array_foreach(x, i, id) {
			if (!json_is_string(id))
				return fail(c, "\"enum\" must be a non-empty array of strings");
			e->enum_lens[i] = json_string_length(id);
			e->enum_ids[i] = dup_str(c, json_string_value(id), e->enum_lens[i]);
			if (!e->enum_ids[i])
				return -1;
		}
		return 0;
	}
	if ((x = json_object_get(v, "memberOfTypes")) &&
	    parse_type_list(c, x, "memberOfTypes", &e->parents, &e->nparents, &e->capparents))
		return -1;
	if ((x = json_object_get(v, "shape")) && !(e->shape = parse_shape(c, x)))
		return -1;
	if ((x = json_object_get(v, "tags")) && !(e->tags = parse_type(c, x, 0)))
		return -1;
	return 0;
}

static int parse_member_of(jctx *c, ghp_sr_action *a, json_t *v)
{
	static const char *const allowed[] = {"id", "type", NULL};
	size_t i;
	json_t *x;

	if (!json_is_array(v))
		return fail(c, "\"memberOf\" must be an array");
	json_array_foreach(v, i, x) {
		ghp_sr_auid *r;
		json_t *id, *ty;

		if (!json_is_object(x) || only(c, x, "a memberOf entry", allowed))
			return c->code ? -1 : fail(c, "a memberOf entry must be an object");
		id = json_object_get(x, "id");
		ty = json_object_get(x, "type");
		if (!json_is_string(id))
			return fail(c, "a memberOf entry needs \"id\", a string");
		if (ghp_sa_grow(&c->raw->arena, (void **)&a->parents, a->nparents, &a->capparents,
				sizeof(*a->parents)))
			return oom(c);
		r = &a->parents[a->nparents++];
		r->id_len = json_string_length(id);
		r->id = dup_str(c, json_string_value(id), r->id_len);
		if (!r->id || (ty && type_name(c, ty, "type", &r->type)))
			return -1;
	}
	return 0;
}

static int parse_action(jctx *c, ghp_sr_ns *ns, const char *id, json_t *v)
{
	static const char *const allowed[] = {"attributes", "appliesTo", "memberOf", "annotations",
					      NULL};
	static const char *const applies[] = {"principalTypes", "resourceTypes", "context", NULL};
	ghp_sr_action *a;
	json_t *x, *y;

	if (ghp_sa_grow(&c->raw->arena, (void **)&ns->actions, ns->nactions, &ns->capactions,
			sizeof(*ns->actions)))
		return oom(c);
	a = &ns->actions[ns->nactions++];
	a->id_len = strlen(id);
	a->id = dup_str(c, id, a->id_len);
	if (!a->id)
		return -1;
	if (json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return fail(c, "an action must be an object");
	if (only(c, v, "an action", allowed) || annotations(c, json_object_get(v, "annotations")))
		return -1;
	if ((x = json_object_get(v, "attributes")) &&
	    (!json_is_object(x) || json_object_size(x)))
		return fail(c, "actions cannot have attributes");
	if ((x = json_object_get(v, "memberOf")) && parse_member_of(c, a, x))
		return -1;
	if ((x = json_object_get(v, "appliesTo")) && !json_is_null(x)) {
		if (!json_is_object(x))
			return fail(c, "\"appliesTo\" must be an object");
		if (only(c, x, "appliesTo", applies))
			return -1;
		if ((y = json_object_get(x, "principalTypes")) &&
		    parse_type_list(c, y, "principalTypes", &a->principals, &a->nprincipals,
				    &a->capprincipals))
			return -1;
		if ((y = json_object_get(x, "resourceTypes")) &&
		    parse_type_list(c, y, "resourceTypes", &a->resources, &a->nresources,
				    &a->capresources))
			return -1;
		if ((y = json_object_get(x, "context")) && !(a->context = parse_shape(c, y)))
			return -1;
	}
	return 0;
}

static void set_where(jctx *c, const char *ns, const char *kind, const char *name)
{
	snprintf(c->where, sizeof(c->where), "%s%s%s %s", kind, *ns ? " " : "", ns, name);
}

static int parse_namespace(jctx *c, const char *name, json_t *v)
{
	static const char *const allowed[] = {"commonTypes", "entityTypes", "actions",
					      "annotations", NULL};
	ghp_sr_ns *ns;
	const char *key;
	json_t *x, *et, *ac;

	snprintf(c->where, sizeof(c->where), "namespace \"%s\"", name);
	if (!json_is_object(v))
		return fail(c, "a namespace must be an object");
	if (only(c, v, "a namespace", allowed) || annotations(c, json_object_get(v, "annotations")))
		return -1;
	et = json_object_get(v, "entityTypes");
	ac = json_object_get(v, "actions");
	if (!json_is_object(et) || !json_is_object(ac))
		return fail(c, "a namespace needs \"entityTypes\" and \"actions\", objects");
	if (ghp_sa_grow(&c->raw->arena, (void **)&c->raw->ns, c->raw->nns, &c->raw->capns,
			sizeof(*c->raw->ns)))
		return oom(c);
	ns = &c->raw->ns[c->raw->nns++];
	ns->name = dup_str(c, name, strlen(name));
	if (!ns->name)
		return -1;
	if ((x = json_object_get(v, "commonTypes"))) {
		if (!json_is_object(x))
			return fail(c, "\"commonTypes\" must be an object");
		json_object_foreach(x, key, v) {
			ghp_sr_common *ct;

			set_where(c, name, "common type", key);
			if (ghp_sa_grow(&c->raw->arena, (void **)&ns->commons, ns->ncommons,
					&ns->capcommons, sizeof(*ns->commons)))
				return oom(c);
			ct = &ns->commons[ns->ncommons++];
			ct->name = dup_str(c, key, strlen(key));
			if (!ct->name || !(ct->type = parse_type(c, v, 0)))
				return -1;
		}
	}
	json_object_foreach(et, key, v) {
		set_where(c, name, "entity type", key);
		if (parse_entity(c, ns, key, v))
			return -1;
	}
	json_object_foreach(ac, key, v) {
		set_where(c, name, "action", key);
		if (parse_action(c, ns, key, v))
			return -1;
	}
	c->where[0] = '\0';
	return 0;
}

int gh_policy_schema_parse_json(gh_policy_schema **out, const char *json, size_t len,
				gh_policy_error *err)
{
	ghp_sr_schema raw = {0};
	jctx c = {.raw = &raw, .err = err};
	json_error_t jerr;
	json_t *root = NULL, *v;
	const char *key;
	int rc;

	*out = NULL;
	if (err) {
		err->line = err->column = 0;
		err->message[0] = '\0';
	}
	if (!json)
		return ghp_schema_error(err, GH_POLICY_EPARSE, 0, 0, "no JSON");
	if (len > GH_POLICY_MAX_TEXT)
		return ghp_schema_error(err, GH_POLICY_ETOOLARGE, 0, 0,
					"schema JSON over %u bytes", GH_POLICY_MAX_TEXT);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!root)
		return ghp_schema_error(err, GH_POLICY_EPARSE, jerr.line, jerr.column, "%s",
					jerr.text);
	if (!json_is_object(root)) {
		rc = ghp_schema_error(err, GH_POLICY_EINVALID, 0, 0,
				      "a schema is an object of namespaces");
		goto cleanup;
	}
	json_object_foreach(root, key, v) {
		if (parse_namespace(&c, key, v)) {
			rc = c.code ? c.code : GH_POLICY_ERROR;
			goto cleanup;
		}
	}
	rc = ghp_schema_build(out, &raw, err);
cleanup:
	ghp_sa_free(&raw.arena);
	json_decref(root);
	return rc;
}
