/* gatehouse/policy.h - Gatehouse's Cedar policy engine: the public interface.
 *
 * A standalone library: it depends on jansson and libc only, never on the
 * rest of Gatehouse. Conventions: functions return 0 on success or a negative
 * GH_POLICY_E* code and fill *err (which may be NULL) with a message and,
 * for text input, the 1-based line and column. What comes back through
 * **out belongs to the caller and is released with the matching _free
 * function; getters return borrowed pointers valid while their owner lives.
 * A parsed policy set, schema or entity store is immutable and may be used
 * from many threads at once. */
#ifndef GATEHOUSE_POLICY_H
#define GATEHOUSE_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum {
	GH_POLICY_OK = 0,
	GH_POLICY_ERROR = -1,      /* out of memory, internal fault */
	GH_POLICY_EPARSE = -2,     /* text or JSON that does not parse */
	GH_POLICY_EINVALID = -3,   /* well-formed but wrong (bad type, unknown entity type, ...) */
	GH_POLICY_ETOOLARGE = -4,  /* input over a size or nesting limit */
};

typedef struct gh_policy_error {
	int line;                  /* 1-based; 0 when not about text */
	int column;                /* 1-based; 0 when not about text */
	char message[512];         /* what was wrong and, for parse errors, what was expected */
} gh_policy_error;

typedef struct gh_policy_set gh_policy_set;
typedef struct gh_policy_schema gh_policy_schema;
typedef struct gh_policy_entities gh_policy_entities;
typedef struct gh_policy_request gh_policy_request;

/* Limits on input (bytes) and expression nesting. */
#define GH_POLICY_MAX_TEXT (8u * 1024 * 1024)
#define GH_POLICY_MAX_DEPTH 256

/* --- policies -------------------------------------------------------- */

/* Parses Cedar policy text (policies and templates). Policies and templates
 * get the ids "policy0", "policy1", ... in text order, always; an @id("...")
 * annotation is kept as an annotation (read it with gh_policy_set_annotation). */
int gh_policy_set_parse(gh_policy_set **out, const char *text, size_t len, gh_policy_error *err);
/* Policy JSON (EST): a {"staticPolicies":{...},"templates":{...},"templateLinks":[...]}
 * document or a single policy object. */
int gh_policy_set_parse_json(gh_policy_set **out, const char *json, size_t len,
			     gh_policy_error *err);
void gh_policy_set_free(gh_policy_set *ps);

size_t gh_policy_set_count(const gh_policy_set *ps);
/* The i-th policy's id; NULL past the end. */
const char *gh_policy_set_id(const gh_policy_set *ps, size_t i);
/* An annotation's value on policy id, or NULL (an annotation without a value is ""). */
const char *gh_policy_set_annotation(const gh_policy_set *ps, const char *policy_id,
				     const char *key);

/* The annotations of policy id, in text order: the i-th key and value (an
 * annotation without a value has ""). Returns 0, or -1 past the end or for
 * an unknown id. Obligations ride on these (e.g. @approvals("2")). */
int gh_policy_set_annotation_at(const gh_policy_set *ps, const char *policy_id, size_t i,
				const char **key, const char **value);

/* Canonical text of the whole set (malloc'd; caller frees). */
int gh_policy_set_format(char **out, const gh_policy_set *ps);
/* Policy JSON (EST) of the whole set (malloc'd; caller frees). */
int gh_policy_set_to_json(char **out, const gh_policy_set *ps);

/* --- schemas --------------------------------------------------------- */

/* The Cedar schema syntax (.cedarschema) and the JSON schema format. */
int gh_policy_schema_parse(gh_policy_schema **out, const char *text, size_t len,
			   gh_policy_error *err);
int gh_policy_schema_parse_json(gh_policy_schema **out, const char *json, size_t len,
				gh_policy_error *err);
void gh_policy_schema_free(gh_policy_schema *schema);

/* Type-checks every policy of ps against schema. Returns 0 when all are
 * valid; otherwise GH_POLICY_EINVALID and *out (malloc'd JSON text, caller
 * frees) lists {"policy","line","column","message"} objects. */
int gh_policy_validate(char **out, const gh_policy_set *ps, const gh_policy_schema *schema);

/* --- entities and requests ------------------------------------------ */

/* The JSON entity format: [{"uid":{"type","id"},"attrs":{},"parents":[],"tags":{}}].
 * With a schema, attribute values are read by their declared types (a string
 * where the schema says ipaddr is an ipaddr, etc.) and checked. The ancestor
 * relation is closed transitively here, once. */
int gh_policy_entities_parse(gh_policy_entities **out, const char *json, size_t len,
			     const gh_policy_schema *schema, gh_policy_error *err);
/* The same from a parsed JSON value (no text round trip); root is only read.
 * Strings must not contain NUL. */
int gh_policy_entities_from_json(gh_policy_entities **out, const json_t *root,
				 const gh_policy_schema *schema, gh_policy_error *err);
void gh_policy_entities_free(gh_policy_entities *es);

/* A request as JSON: {"principal":{"type","id"},"action":{"type","id"},
 * "resource":{"type","id"},"context":{...}}. With a schema, context is read
 * by the action's declared context type and, when validate is set, the
 * request is checked against the schema. */
int gh_policy_request_parse(gh_policy_request **out, const char *json, size_t len,
			    const gh_policy_schema *schema, int validate, gh_policy_error *err);
int gh_policy_request_from_json(gh_policy_request **out, const json_t *root,
				const gh_policy_schema *schema, int validate, gh_policy_error *err);
void gh_policy_request_free(gh_policy_request *req);

/* --- authorization --------------------------------------------------- */

typedef struct gh_policy_response {
	int allow;                 /* 1 allow, 0 deny */
	size_t nreasons;
	const char **reasons;      /* ids of the determining policies */
	size_t nerrors;
	const char **errors;       /* ids of policies whose evaluation errored */
	const char **error_messages; /* one per errors[i] */
} gh_policy_response;

/* Cedar's authorization: default deny, forbid overrides permit, a policy
 * whose evaluation errors is skipped and listed under errors. Thread-safe. */
int gh_policy_authorize(gh_policy_response **out, const gh_policy_set *ps,
			const gh_policy_entities *es, const gh_policy_request *req);
void gh_policy_response_free(gh_policy_response *resp);

#endif
