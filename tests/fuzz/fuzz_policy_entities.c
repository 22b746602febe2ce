/* fuzz_policy_entities.c - fuzz target: entity JSON without and with a small schema,
 * and request JSON against that schema. The first byte picks what is parsed. */
#include "policy/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char schema_text[] =
	"entity Group;\n"
	"entity User in [Group] { name: String, age?: Long, ip?: ipaddr, score?: decimal,\n"
	"  seen?: datetime, ttl?: duration, tags?: Set<String>, boss?: User,\n"
	"  info?: { a: Bool, b?: Set<Long> } } tags String;\n"
	"entity Photo { owner: User, size: Long };\n"
	"action view appliesTo { principal: [User], resource: [Photo],\n"
	"  context: { ip?: ipaddr, when?: datetime, n?: Long, flag?: Bool } };\n";

static gh_policy_schema *schema(void)
{
	static gh_policy_schema *s;
	static int tried;
	if (!tried) {
		tried = 1;
		if (gh_policy_schema_parse(&s, schema_text, strlen(schema_text), NULL))
			__builtin_trap();
	}
	return s;
}

static void check_err(int rc, const void *out, const gh_policy_error *err)
{
	if (rc && (out || !err->message[0] || !memchr(err->message, '\0', sizeof(err->message))))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gh_policy_entities *es = NULL;
	gh_policy_request *req = NULL;
	gh_policy_error err;
	const char *json = (const char *)data + 1;
	int rc;

	if (size < 1)
		return 0;
	size--;
	switch (data[0] % 4) {
	case 0:
		rc = gh_policy_entities_parse(&es, json, size, NULL, &err);
		check_err(rc, es, &err);
		break;
	case 1:
		rc = gh_policy_entities_parse(&es, json, size, schema(), &err);
		check_err(rc, es, &err);
		break;
	default:
		rc = gh_policy_request_parse(&req, json, size, schema(), data[0] % 4 == 3, &err);
		check_err(rc, req, &err);
		break;
	}
	gh_policy_entities_free(es);
	gh_policy_request_free(req);
	return 0;
}
