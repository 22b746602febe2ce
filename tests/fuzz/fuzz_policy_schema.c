/* fuzz_policy_schema.c - fuzz target: Cedar schemas in both syntaxes, and the
 * lookups on whatever parses. The first byte picks the parser. */
#include "policy/schema_types.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_type(const ghp_type *t, int depth)
{
	if (!t || depth > GH_POLICY_MAX_DEPTH + 2)
		__builtin_trap();
	if (t->kind == GHP_T_SET)
		walk_type(t->element, depth + 1);
	if (t->kind == GHP_T_RECORD) {
		for (size_t i = 0; i < t->nattrs; i++) {
			walk_type(t->attrs[i].type, depth + 1);
			if (ghp_type_attr(t, t->attrs[i].name, t->attrs[i].name_len) != &t->attrs[i])
				__builtin_trap();
		}
	}
	if (t->kind == GHP_T_ENTITY && !t->name)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gh_policy_schema *s = NULL;
	gh_policy_error err;
	const char *text = (const char *)data + 1;
	int rc;

	if (size < 1)
		return 0;
	if (data[0] == '{' || data[0] == 'J')
		rc = gh_policy_schema_parse_json(&s, data[0] == '{' ? (const char *)data : text,
						 data[0] == '{' ? size : size - 1, &err);
	else
		rc = gh_policy_schema_parse(&s, (const char *)data, size, &err);
	if (rc) {
		if (s || !err.message[0] || !memchr(err.message, '\0', sizeof(err.message)))
			__builtin_trap();
		return 0;
	}
	for (size_t i = 0; i < ghp_schema_entity_type_count(s); i++) {
		const ghp_entity_type *e = ghp_schema_entity_type_at(s, i);

		if (ghp_schema_entity_type(s, e->name) != e || e->attrs->kind != GHP_T_RECORD)
			__builtin_trap();
		walk_type(e->attrs, 0);
		if (e->tags)
			walk_type(e->tags, 0);
		for (size_t j = 0; j < e->nparents; j++)
			if (!ghp_schema_entity_type(s, e->parents[j]))
				__builtin_trap();
	}
	for (size_t i = 0; i < ghp_schema_action_count(s); i++) {
		const ghp_action *a = ghp_schema_action_at(s, i);

		if (ghp_schema_action_n(s, a->type, a->id, a->id_len) != a ||
		    a->context->kind != GHP_T_RECORD)
			__builtin_trap();
		walk_type(a->context, 0);
		for (size_t j = 0; j < a->nparents; j++)
			if (!ghp_schema_action_n(s, a->parent_types[j], a->parent_ids[j],
						 a->parent_id_lens[j]))
				__builtin_trap();
		for (size_t j = 0; j < a->nprincipals; j++)
			if (!ghp_schema_entity_type(s, a->principals[j]))
				__builtin_trap();
	}
	gh_policy_schema_free(s);
	return 0;
}
