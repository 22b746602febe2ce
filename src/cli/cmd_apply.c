/* cmd_apply.c - catalog as code: `gatehouse apply -f FILE.yaml` plans what differs from the server and applies it over the HTTP API. */
#include "cli/cli.h"
#include "gatehouse/yaml.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gatehouse/errors.h"
#include "gatehouse/common.h"

#define MAX_PAGES 1000               /* list pages read per collection */
#define PATH_MAX_LEN 4096            /* bytes of a policy file's path */

/* --- the file's schema (docs/catalog-as-code.md) ------------------------- */

/* A value of a domain field is checked by the domain's own rule
 * (gh_gov_field_problem), with the message the API would give: the file and
 * the server cannot disagree. Strings are bounded here only by the file's
 * size; the rule says how long a value may be. */
#define BY_RULE GH_YAML_MAX_BYTES

/* the last field problem (the command is single-threaded; the schema check
 * copies the message at once) */
static char field_why[GH_GOV_FIELD_PROBLEM_MAX];

#define FIELD_CHECK(fn, field)                                                     \
	static const char *fn(const char *s)                                       \
	{                                                                          \
		return gh_gov_field_problem(field_why, sizeof(field_why), field, s); \
	}
FIELD_CHECK(check_name, GH_GOV_FIELD_NAME)
FIELD_CHECK(check_ref, GH_GOV_FIELD_REF)
FIELD_CHECK(check_description, GH_GOV_FIELD_DESCRIPTION)
FIELD_CHECK(check_reason, GH_GOV_FIELD_REASON)
FIELD_CHECK(check_environment, GH_GOV_FIELD_ENVIRONMENT)
FIELD_CHECK(check_tag, GH_GOV_FIELD_TAG)
FIELD_CHECK(check_connector, GH_GOV_FIELD_CONNECTOR)
FIELD_CHECK(check_duration, GH_GOV_FIELD_DURATION)
FIELD_CHECK(check_time, GH_GOV_FIELD_TIME)
FIELD_CHECK(check_policy_text, GH_GOV_FIELD_POLICY_TEXT)
FIELD_CHECK(check_comment, GH_GOV_FIELD_COMMENT)

/* a policy file's path: the command's own, no domain field */
static const char *check_path(const char *s)
{
	if (!*s)
		return "must not be empty";
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			return "must not contain control characters";
	return NULL;
}

static const gh_yaml_schema s_name = {GH_YAML_STRING, .max = BY_RULE, .check = check_name};
static const gh_yaml_schema s_ref = {GH_YAML_STRING, .max = BY_RULE, .check = check_ref};
static const gh_yaml_schema s_desc = {GH_YAML_STRING, .max = BY_RULE, .check = check_description};
static const gh_yaml_schema s_reason = {GH_YAML_STRING, .max = BY_RULE, .check = check_reason};
static const gh_yaml_schema s_risk = {GH_YAML_STRING, .values = gh_gov_risk_tiers};
static const gh_yaml_schema s_sens = {GH_YAML_STRING, .values = gh_gov_data_sensitivities};
/* a connector instance of the server's configuration, or manual / credential:
 * which exist only the server knows, and it says so */
static const gh_yaml_schema s_connector = {GH_YAML_STRING, .max = BY_RULE,
					    .check = check_connector};
static const gh_yaml_schema s_env = {GH_YAML_STRING, .max = BY_RULE, .check = check_environment};
static const gh_yaml_schema s_tag = {GH_YAML_STRING, .max = BY_RULE, .check = check_tag};
static const gh_yaml_schema s_duration = {GH_YAML_STRING, .max = BY_RULE, .check = check_duration};
static const gh_yaml_schema s_time = {GH_YAML_STRING, .max = BY_RULE, .check = check_time};
static const gh_yaml_schema s_bool = {.kind = GH_YAML_BOOL};
static const gh_yaml_schema s_version = {GH_YAML_INT, .min_int = 1, .max_int = 1000};
static const gh_yaml_schema s_policy_text = {GH_YAML_STRING, .max = BY_RULE,
					      .check = check_policy_text};
static const gh_yaml_schema s_comment = {GH_YAML_STRING, .max = BY_RULE, .check = check_comment};
static const gh_yaml_schema s_path = {GH_YAML_STRING, .max = 1024, .check = check_path};
static const gh_yaml_schema s_attributes = {.kind = GH_YAML_FREE_MAP};
static const gh_yaml_schema s_refs = {GH_YAML_LIST, .item = &s_ref, .max = GH_GOV_CONFLICTS_MAX};
static const gh_yaml_schema s_tags = {GH_YAML_LIST, .item = &s_tag, .max = GH_GOV_TAGS_MAX};

static const gh_yaml_key member_keys[] = {{"group", 1, &s_ref}, {NULL, 0, NULL}};
static const gh_yaml_schema s_member = {GH_YAML_SCALAR_OR_MAP, .keys = member_keys,
					 .item = &s_ref};
static const gh_yaml_schema s_members = {GH_YAML_LIST, .item = &s_member, .max = 1000};

static const gh_yaml_key group_keys[] = {
	{"name", 1, &s_name}, {"description", 0, &s_desc}, {"members", 0, &s_members},
	{NULL, 0, NULL}};
static const gh_yaml_key system_keys[] = {
	{"name", 1, &s_name}, {"description", 0, &s_desc}, {"owner", 1, &s_ref},
	{"connector", 0, &s_connector}, {"connector_settings", 0, &s_attributes},
	{NULL, 0, NULL}};
static const gh_yaml_key entitlement_keys[] = {
	{"system", 1, &s_ref}, {"name", 1, &s_name}, {"description", 0, &s_desc},
	{"risk_tier", 1, &s_risk}, {"data_sensitivity", 1, &s_sens},
	{"environment", 1, &s_env}, {"control_owner_group", 1, &s_ref},
	{"max_duration", 1, &s_duration}, {"requestable", 0, &s_bool},
	{"incompatible_with", 0, &s_refs}, {"tags", 0, &s_tags},
	{"attributes", 0, &s_attributes}, {NULL, 0, NULL}};
static const gh_yaml_key delegation_keys[] = {
	{"from_group", 1, &s_ref}, {"to_group", 1, &s_ref}, {"system", 0, &s_ref},
	{"tag", 0, &s_tag}, {"expires_at", 1, &s_time}, {"reason", 1, &s_reason},
	{NULL, 0, NULL}};
static const gh_yaml_key policy_keys[] = {
	{"file", 0, &s_path}, {"text", 0, &s_policy_text}, {"comment", 0, &s_comment},
	{NULL, 0, NULL}};

static const gh_yaml_schema s_group = {GH_YAML_MAP, .keys = group_keys};
static const gh_yaml_schema s_system = {GH_YAML_MAP, .keys = system_keys};
static const gh_yaml_schema s_entitlement = {GH_YAML_MAP, .keys = entitlement_keys};
static const gh_yaml_schema s_delegation = {GH_YAML_MAP, .keys = delegation_keys};
static const gh_yaml_schema s_policy = {GH_YAML_MAP, .keys = policy_keys};

static const gh_yaml_schema s_groups = {GH_YAML_LIST, .item = &s_group};
static const gh_yaml_schema s_systems = {GH_YAML_LIST, .item = &s_system};
static const gh_yaml_schema s_entitlements = {GH_YAML_LIST, .item = &s_entitlement};
static const gh_yaml_schema s_delegations = {GH_YAML_LIST, .item = &s_delegation};
static const gh_yaml_schema s_policies = {GH_YAML_LIST, .item = &s_policy, .max = 100};

static const gh_yaml_key catalog_keys[] = {
	{"version", 1, &s_version}, {"groups", 0, &s_groups}, {"systems", 0, &s_systems},
	{"entitlements", 0, &s_entitlements}, {"delegations", 0, &s_delegations},
	{"policies", 0, &s_policies}, {NULL, 0, NULL}};
static const gh_yaml_schema s_catalog = {GH_YAML_MAP, .keys = catalog_keys};

/* --- small helpers ----------------------------------------------------------- */

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static json_t *list(const json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);

	return json_is_array(v) ? v : NULL;
}

static void item_path(char *out, const char *section, size_t i, const char *key)
{
	char base[GH_YAML_MAX_PATH];

	gh_yaml_path_index(base, section, i);
	if (key)
		gh_yaml_path_key(out, base, key);
	else
		memcpy(out, base, GH_YAML_MAX_PATH);
}

/* A string for a human: names plainly, other text JSON-quoted, lists as [a, b]. */
static void show(char *out, size_t n, const json_t *v)
{
	if (!v || json_is_null(v)) {
		snprintf(out, n, "(none)");
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		int plain = *s != '\0';

		for (const char *p = s; *p && plain; p++)
			plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				(*p >= '0' && *p <= '9') || strchr("._-/:@+", *p);
		if (plain) {
			snprintf(out, n, "%s", s);
		} else {
			char *q = json_dumps(v, JSON_ENCODE_ANY);

			snprintf(out, n, "%s", q ? q : "?");
			free(q);
		}
	} else if (json_is_array(v)) {
		size_t len = 0;

		len += (size_t)snprintf(out, n, "[");
		for (size_t i = 0; i < json_array_size(v) && len < n; i++) {
			char item[256];

			show(item, sizeof(item), json_array_get(v, i));
			len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : "", item);
		}
		if (len < n)
			snprintf(out + len, n - len, "]");
	} else {
		char *q = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

		snprintf(out, n, "%s", q ? q : "?");
		free(q);
	}
}

/* An array of strings as a sorted, duplicate-free array. */
static json_t *sorted_set(const json_t *arr)
{
	json_t *out = json_array();
	size_t n = json_array_size(arr);

	for (size_t i = 0; out && i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		size_t k;

		if (!s)
			continue;
		for (k = 0; k < json_array_size(out); k++) {
			int c = strcmp(json_string_value(json_array_get(out, k)), s);

			if (c == 0)
				break;
			if (c > 0) {
				json_array_insert_new(out, k, json_string(s));
				break;
			}
		}
		if (k == json_array_size(out))
			json_array_append_new(out, json_string(s));
	}
	return out;
}

static int set_has(const json_t *set, const char *s)
{
	for (size_t i = 0; i < json_array_size(set); i++)
		if (strcmp(json_string_value(json_array_get(set, i)), s) == 0)
			return 1;
	return 0;
}

static void set_put(json_t *set, const char *s, int present)
{
	for (size_t i = 0; i < json_array_size(set); i++)
		if (strcmp(json_string_value(json_array_get(set, i)), s) == 0) {
			if (!present)
				json_array_remove(set, i);
			return;
		}
	if (present)
		json_array_append_new(set, json_string(s));
}

static void sha256_hex(char out[65], const char *text, size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)text, len);
	gh_hex(out, h, sizeof(h));
}

int gh_cli_read_file(char **out, size_t *len, const char *path, size_t max)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (!f)
		return gh_error_set(GH_ERROR, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		if (n + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *p = realloc(buf, ncap);

			if (!p) {
				rc = gh_error_set(GH_ERROR, "out of memory");
				goto cleanup;
			}
			buf = p;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (n > max) {
			rc = gh_error_set(GH_ETOOLARGE, "%s is larger than %zu bytes", path, max);
			goto cleanup;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = gh_error_set(GH_ERROR, "cannot read %s", path);
		goto cleanup;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
cleanup:
	free(buf);
	if (f != stdin)
		fclose(f);
	return rc;
}

/* --- what the file says, without the server -------------------------------- */

/* The same key twice in one list (by what identifies an item) is a problem. */
static void check_unique(gh_yaml_doc *d, const char *section, const char *what, size_t i,
			 json_t *seen, const char *key)
{
	char path[GH_YAML_MAX_PATH];
	json_t *prev = json_object_get(seen, key);

	if (prev) {
		item_path(path, section, i, NULL);
		gh_yaml_problem(d, path, "%s %s is already declared at %s[%" JSON_INTEGER_FORMAT "]",
				what, key, section, json_integer_value(prev));
		return;
	}
	json_object_set_new(seen, key, json_integer((json_int_t)i));
}

static void check_groups(gh_yaml_doc *d, json_t *seen)
{
	json_t *groups = list(d->root, "groups");
	char path[GH_YAML_MAX_PATH];

	for (size_t i = 0; i < json_array_size(groups); i++) {
		json_t *g = json_array_get(groups, i), *members = list(g, "members");
		json_t *mine = json_object();

		check_unique(d, "groups", "group", i, seen, str(g, "name"));
		for (size_t k = 0; mine && k < json_array_size(members); k++) {
			json_t *m = json_array_get(members, k);
			char key[300], base[GH_YAML_MAX_PATH];
			const char *ref = json_is_object(m) ? str(m, "group") : json_string_value(m);

			snprintf(key, sizeof(key), "%s %s", json_is_object(m) ? "group" : "identity",
				 ref);
			item_path(base, "groups", i, "members");
			gh_yaml_path_index(path, base, k);
			if (json_object_get(mine, key))
				gh_yaml_problem(d, path, "member %s is listed twice", key);
			else if (json_is_object(m) && strcmp(ref, str(g, "name")) == 0)
				gh_yaml_problem(d, path, "a group cannot be a member of itself");
			json_object_set_new(mine, key, json_true());
		}
		json_decref(mine);
	}
}

/* incompatible_with names entitlements as "system/name" (or an ent_ id); a conflict is
 * symmetric, so two entitlements that both list conflicts must list each other. */
static void check_entitlements(gh_yaml_doc *d, json_t *seen)
{
	json_t *ents = list(d->root, "entitlements");
	char path[GH_YAML_MAX_PATH], key[300];

	for (size_t i = 0; i < json_array_size(ents); i++) {
		json_t *e = json_array_get(ents, i);

		snprintf(key, sizeof(key), "%s/%s", str(e, "system"), str(e, "name"));
		check_unique(d, "entitlements", "entitlement", i, seen, key);
	}
	for (size_t i = 0; i < json_array_size(ents); i++) {
		json_t *e = json_array_get(ents, i), *inc = list(e, "incompatible_with");

		snprintf(key, sizeof(key), "%s/%s", str(e, "system"), str(e, "name"));
		for (size_t k = 0; k < json_array_size(inc); k++) {
			const char *ref = json_string_value(json_array_get(inc, k));
			char base[GH_YAML_MAX_PATH];
			json_t *other_i;

			item_path(base, "entitlements", i, "incompatible_with");
			gh_yaml_path_index(path, base, k);
			if (strncmp(ref, "ent_", 4) != 0 && !strchr(ref, '/')) {
				gh_yaml_problem(d, path, "must name an entitlement as system/name");
				continue;
			}
			if (strcmp(ref, key) == 0) {
				gh_yaml_problem(d, path, "an entitlement cannot conflict with itself");
				continue;
			}
			other_i = json_object_get(seen, ref);
			if (other_i) {
				json_t *other = json_array_get(ents, (size_t)json_integer_value(other_i));
				json_t *back = list(other, "incompatible_with");

				if (back && !set_has(back, key))
					gh_yaml_problem(d, path,
							"%s lists its own conflicts without %s; conflicts are"
							" symmetric, so list it there too", ref, key);
			}
		}
	}
}

static void check_delegations(gh_yaml_doc *d, json_t *seen)
{
	json_t *dl = list(d->root, "delegations");
	char path[GH_YAML_MAX_PATH], key[600];

	for (size_t i = 0; i < json_array_size(dl); i++) {
		json_t *x = json_array_get(dl, i);
		const char *sys = str(x, "system"), *tag = str(x, "tag");

		item_path(path, "delegations", i, NULL);
		if (!sys == !tag) {
			gh_yaml_problem(d, path, "needs exactly one of \"system\" and \"tag\"");
			continue;
		}
		if (strcmp(str(x, "from_group"), str(x, "to_group")) == 0)
			gh_yaml_problem(d, path, "from_group and to_group must differ");
		snprintf(key, sizeof(key), "%s -> %s (%s %s)", str(x, "from_group"),
			 str(x, "to_group"), sys ? "system" : "tag", sys ? sys : tag);
		check_unique(d, "delegations", "delegation", i, seen, key);
	}
}

/* rel resolved against dir (rel itself when absolute); NULL when longer than
 * PATH_MAX_LEN, empty or out of memory. Caller frees. */
static char *join_path(const char *dir, const char *rel)
{
	size_t n = strlen(dir);
	char *out;
	int w;

	if (!*rel)
		return NULL;
	if (rel[0] == '/' || !n)
		return strlen(rel) < PATH_MAX_LEN ? strdup(rel) : NULL;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (!(out = malloc(PATH_MAX_LEN)))
		return NULL;
	w = snprintf(out, PATH_MAX_LEN, "%.*s%s%s", (int)n, dir, dir[n - 1] == '/' ? "" : "/", rel);
	if (w < 0 || w >= PATH_MAX_LEN) {
		free(out);
		return NULL;
	}
	return out;
}

/* Policy text from "text" or from "file" (relative to the catalog's directory; not
 * read when dir is NULL). texts gets one string per policy. */
static void check_policies(gh_yaml_doc *d, const char *dir, json_t *texts, json_t *seen)
{
	json_t *pols = list(d->root, "policies");
	char path[GH_YAML_MAX_PATH];

	for (size_t i = 0; i < json_array_size(pols); i++) {
		json_t *p = json_array_get(pols, i);
		const char *file = str(p, "file"), *text = str(p, "text");
		char *buf = NULL, *full = NULL, hex[65];
		size_t len = 0;

		item_path(path, "policies", i, NULL);
		if (!file == !text) {
			gh_yaml_problem(d, path, "needs exactly one of \"file\" and \"text\"");
			json_array_append_new(texts, json_string(""));
			continue;
		}
		if (text) {
			json_array_append_new(texts, json_string(text));
			len = strlen(text);
			sha256_hex(hex, text, len);
			check_unique(d, "policies", "the same policy text (sha256)", i, seen, hex);
			continue;
		}
		item_path(path, "policies", i, "file");
		if (!dir) {
			json_array_append_new(texts, json_string(""));
			continue;
		}
		if (!(full = join_path(dir, file))) {
			gh_yaml_problem(d, path, "the path is too long");
		} else if (gh_cli_read_file(&buf, &len, full,
					    gh_gov_field_max(GH_GOV_FIELD_POLICY_TEXT))) {
			gh_yaml_problem(d, path, "%s", gh_error_last()->message);
		} else if (memchr(buf, '\0', len)) {
			gh_yaml_problem(d, path, "%s is not text", file);
		} else if (check_policy_text(buf)) {
			gh_yaml_problem(d, path, "%s %s", file, field_why);
		} else {
			json_t *s = json_stringn(buf, len);

			if (!s)
				gh_yaml_problem(d, path, "%s is not UTF-8 text", file);
			json_array_append_new(texts, s ? s : json_string(""));
			if (s) {
				sha256_hex(hex, buf, len);
				item_path(path, "policies", i, NULL);
				check_unique(d, "policies", "the same policy text (sha256)", i, seen,
					     hex);
			}
			free(buf);
			free(full);
			continue;
		}
		json_array_append_new(texts, json_string(""));
		free(buf);
		free(full);
	}
}

int gh_apply_check(gh_yaml_doc *d, json_t **texts, const char *text, size_t len,
		   const char *dir)
{
	json_t *seen[5] = {NULL};
	int rc;

	*texts = json_array();
	if ((rc = gh_yaml_load(d, text, len)) || (rc = gh_yaml_check(d, &s_catalog)))
		return rc;
	if (json_integer_value(json_object_get(d->root, "version")) != 1)
		gh_yaml_problem(d, "version", "unsupported version %" JSON_INTEGER_FORMAT
				" (this gatehouse reads version 1)",
				json_integer_value(json_object_get(d->root, "version")));
	for (size_t i = 0; i < 5; i++)
		if (!(seen[i] = json_object()))
			goto oom;
	if (!*texts)
		goto oom;
	check_groups(d, seen[0]);
	for (size_t i = 0; i < json_array_size(list(d->root, "systems")); i++)
		check_unique(d, "systems", "system", i, seen[1],
			     str(json_array_get(list(d->root, "systems"), i), "name"));
	check_entitlements(d, seen[2]);
	check_delegations(d, seen[3]);
	check_policies(d, dir, *texts, seen[4]);
	for (size_t i = 0; i < 5; i++)
		json_decref(seen[i]);
	if (json_array_size(d->problems))
		return gh_error_set(GH_EINVALID, "%zu problems in the file",
				    json_array_size(d->problems));
	return 0;
oom:
	for (size_t i = 0; i < 5; i++)
		json_decref(seen[i]);
	return gh_error_set(GH_ERROR, "out of memory");
}

/* --- the server's state ---------------------------------------------------- */

typedef struct apply {
	gh_client cl;
	gh_yaml_doc *d;
	json_t *root;            /* borrowed: d->root */
	json_t *texts;           /* policy texts, one per policies[i] */
	json_t *groups, *systems, *ents, *dlgs, *pols;   /* the server's collections */
	json_t *idents;          /* ref -> identity, or null when there is none */
	json_t *steps;           /* the plan, in the order it runs */
	size_t unchanged;
	size_t writes;           /* calls made that change something */
	size_t proposed;         /* of them, answered 202: proposed (four eyes) */
	int last_status;         /* HTTP status of the last call */
	int64_t now;
} apply;

/* One call. 0 with *out (the 2xx answer's JSON, NULL when empty); GH_ENOTFOUND
 * for a GET answered 404 (nothing printed); GH_EINVALID after printing the
 * server's problem; GH_ERROR or GH_ETOOLARGE (message set) when no usable
 * answer came. */
static int call(apply *a, const char *method, const char *path, const json_t *body,
		json_t **out)
{
	gh_response r;
	int rc;

	if (out)
		*out = NULL;
	if ((rc = gh_client_request(&r, &a->cl, method, path, body, NULL)))
		return rc;
	a->last_status = (int)r.status;
	if (r.status == 404 && strcmp(method, "GET") == 0) {
		rc = GH_ENOTFOUND;
	} else if (r.status >= 300) {
		fprintf(stderr, "gatehouse: %s %s failed:\n", method, path);
		gh_client_report_as(&r, &a->cl, "apply");
		rc = GH_EINVALID;
	} else if (out && r.body && r.len && !(*out = json_loadb(r.body, r.len, 0, NULL))) {
		rc = gh_error_set(GH_ERROR, "the answer to %s %s is not JSON", method, path);
	}
	gh_response_free(&r);
	return rc;
}

/* Every item of a collection, following "next" (bounded). */
static int list_all(apply *a, const char *base, json_t **out)
{
	json_t *all = json_array(), *page = NULL;
	char *after = NULL, url[1024];
	int rc = 0;

	*out = NULL;
	for (int i = 0; all && i < MAX_PAGES; i++) {
		char *esc = after ? gh_cli_escape(after) : NULL;
		const char *next;

		snprintf(url, sizeof(url), "%s%slimit=500%s%s", base, strchr(base, '?') ? "&" : "?",
			 esc ? "&after=" : "", esc ? esc : "");
		free(esc);
		if ((rc = call(a, "GET", url, NULL, &page))) {
			if (rc == GH_ENOTFOUND) {
				fprintf(stderr, "gatehouse: the server has no %s (an older gatehouse?)\n",
					base);
				rc = GH_EINVALID;
			}
			goto cleanup;
		}
		if (!json_is_array(json_object_get(page, "items"))) {
			rc = gh_error_set(GH_ERROR, "the answer to GET %s has no items", url);
			goto cleanup;
		}
		json_array_extend(all, json_object_get(page, "items"));
		next = str(page, "next");
		free(after);
		after = next ? strdup(next) : NULL;
		json_decref(page);
		page = NULL;
		if (!after)
			break;
	}
	if (!all) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	*out = all;
	all = NULL;
cleanup:
	json_decref(all);
	json_decref(page);
	free(after);
	return rc;
}

static int get_one(apply *a, const char *tmpl, const char *ref, json_t **out)
{
	const char *args[1] = {ref};
	char *path = NULL;
	int rc;

	*out = NULL;
	if ((rc = gh_cli_path(&path, tmpl, args, 1)))
		return rc;
	rc = call(a, "GET", path, NULL, out);
	free(path);
	return rc;
}

/* The identity a reference names (borrowed), or NULL when there is none; *rc
 * is set when the server could not say. */
static json_t *identity(apply *a, const char *ref, int *rc)
{
	json_t *v = json_object_get(a->idents, ref), *doc;
	int r;

	if (v)
		return json_is_object(v) ? v : NULL;
	r = get_one(a, "/v1/identities/{}", ref, &doc);
	if (r && r != GH_ENOTFOUND) {
		*rc = r;
		return NULL;
	}
	json_object_set_new(a->idents, ref, doc ? doc : json_null());
	if (doc && str(doc, "id"))
		json_object_set(a->idents, str(doc, "id"), doc);
	return doc;
}

/* An item of a collection by id or name. */
static json_t *find_named(const json_t *arr, const char *ref)
{
	for (size_t i = 0; ref && i < json_array_size(arr); i++) {
		json_t *x = json_array_get(arr, i);
		const char *id = str(x, "id"), *name = str(x, "name");

		if ((id && strcmp(id, ref) == 0) || (name && strcmp(name, ref) == 0))
			return x;
	}
	return NULL;
}

static const char *name_of(const json_t *arr, const char *id)
{
	json_t *x = find_named(arr, id);

	return x && str(x, "name") ? str(x, "name") : id ? id : "(none)";
}

/* A file item of section with that name. */
static json_t *in_file(const apply *a, const char *section, const char *name)
{
	json_t *arr = list(a->root, section);

	for (size_t i = 0; name && i < json_array_size(arr); i++)
		if (strcmp(str(json_array_get(arr, i), "name"), name) == 0)
			return json_array_get(arr, i);
	return NULL;
}

static void ent_label(char *out, size_t n, const apply *a, const json_t *ent)
{
	snprintf(out, n, "%s/%s", name_of(a->systems, str(ent, "system")), str(ent, "name"));
}

static int load_state(apply *a)
{
	int rc;

	if ((rc = list_all(a, "/v1/groups", &a->groups)) ||
	    (rc = list_all(a, "/v1/systems", &a->systems)) ||
	    (rc = list_all(a, "/v1/entitlements", &a->ents)))
		return rc;
	/* delegations and policies only when the file has them: other roles may not read them */
	if (json_array_size(list(a->root, "delegations")) &&
	    (rc = list_all(a, "/v1/delegations?status=active", &a->dlgs)))
		return rc;
	if (json_array_size(list(a->root, "policies")) &&
	    (rc = list_all(a, "/v1/policies", &a->pols)))
		return rc;
	return 0;
}

/* --- the plan ------------------------------------------------------------------ */

static json_t *step_add(json_t *steps, const char *sign, const char *kind, const char *label)
{
	json_t *s = json_pack("{s:s, s:s, s:s, s:[], s:[], s:[]}", "sign", sign, "kind", kind,
			      "label", label, "changes", "details", "calls");

	json_array_append_new(steps, s);
	return s;
}

static void step_line(json_t *step, const char *which, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void step_line(json_t *step, const char *which, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(json_object_get(step, which), json_string(buf));
}

/* Adds a call; tmpl's "{}" takes ref, percent-encoded. body is stolen. */
static void step_call(json_t *step, const char *method, const char *tmpl, const char *ref,
		      const char *ref2, json_t *body)
{
	const char *args[2] = {ref, ref2};
	char *path = NULL;

	if (gh_cli_path(&path, tmpl, args, ref2 ? 2 : ref ? 1 : 0) == 0)
		json_array_append_new(json_object_get(step, "calls"),
				      json_pack("{s:s, s:s, s:o?}", "method", method, "path", path,
						"body", body));
	else
		json_decref(body);
	free(path);
}

static int same_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static void detail_field(json_t *step, const char *key, const json_t *v)
{
	char buf[1024];

	if (!v)
		return;
	show(buf, sizeof(buf), v);
	step_line(step, "details", "%s: %s", key, buf);
}

/* The server proposes a change that weakens a control instead of applying it
 * (four eyes, docs/operations.md): the plan says so, and counts it as a
 * proposal. The server decides; this is its rule as the plan can see it. */
static void step_proposed(json_t *step)
{
	json_object_set_new(step, "proposed", json_true());
	step_line(step, "details", "would be proposed: a weaker control needs confirmation by a"
		  " second admin or iam person (gatehouse changes confirm)");
}

/* 1 when group id is, or is nested in, a control-owner group of the server's
 * entitlements (bounded walk down from each). */
static int group_guards(const apply *a, const char *id)
{
	json_t *seen = json_object(), *todo = json_array();
	int found = 0;

	for (size_t i = 0; seen && todo && i < json_array_size(a->ents); i++)
		json_array_append_new(todo, json_string(str(json_array_get(a->ents, i),
							    "control_owner_group")));
	for (size_t i = 0; !found && seen && todo && i < json_array_size(todo) && i < 10000; i++) {
		const char *g = json_string_value(json_array_get(todo, i));
		json_t *grp = find_named(a->groups, g), *members;

		if (!g || json_object_get(seen, g))
			continue;
		json_object_set_new(seen, g, json_true());
		found = strcmp(g, id) == 0;
		members = json_object_get(grp, "members");
		for (size_t k = 0; k < json_array_size(members); k++) {
			json_t *m = json_array_get(members, k);

			if (strcmp(str(m, "type") ? str(m, "type") : "", "group") == 0)
				json_array_append_new(todo, json_string(str(m, "id")));
		}
	}
	json_decref(seen);
	json_decref(todo);
	return found;
}

/* A member as the file names it: key "identity:<id>" or "group:<id or new name>". */
static int member_of(apply *a, const json_t *m, const char *path, char *key, size_t keylen,
		     char *label, size_t labellen, json_t **body, int *rc)
{
	if (json_is_object(m)) {
		const char *ref = str(m, "group");
		json_t *g = find_named(a->groups, ref);

		if (!g && !in_file(a, "groups", ref)) {
			gh_yaml_problem(a->d, path, "no group named %s on the server or in this file",
					ref);
			return -1;
		}
		snprintf(key, keylen, "group:%s", g ? str(g, "id") : ref);
		snprintf(label, labellen, "group %s", g ? str(g, "name") : ref);
		*body = json_pack("{s:s}", "group", g ? str(g, "id") : ref);
		return 0;
	}
	json_t *who = identity(a, json_string_value(m), rc);

	if (!who) {
		if (!*rc)
			gh_yaml_problem(a->d, path, "no identity named %s on the server",
					json_string_value(m));
		return -1;
	}
	snprintf(key, keylen, "identity:%s", str(who, "id"));
	snprintf(label, labellen, "%s", str(who, "name"));
	*body = json_pack("{s:s}", "identity", str(who, "id"));
	return 0;
}

/* Membership synced exactly: missing members added, others removed. */
static int plan_members(apply *a, json_t *later, size_t i, const json_t *g, const json_t *cur,
			int *changed)
{
	json_t *members = list(g, "members"), *want = json_object(), *have = NULL, *detail = NULL;
	json_t *step = NULL;
	const char *name = str(g, "name"), *gref = cur ? str(cur, "id") : name;
	char path[GH_YAML_MAX_PATH], base[GH_YAML_MAX_PATH], changes[1200] = "";
	int rc = 0;

	*changed = 0;
	if (!members || !want)
		goto cleanup;
	item_path(base, "groups", i, "members");
	for (size_t k = 0; k < json_array_size(members); k++) {
		char key[300], label[300];
		json_t *body = NULL;

		gh_yaml_path_index(path, base, k);
		if (member_of(a, json_array_get(members, k), path, key, sizeof(key), label,
			      sizeof(label), &body, &rc)) {
			if (rc)
				goto cleanup;
			continue;
		}
		if (json_object_get(want, key)) {
			gh_yaml_problem(a->d, path, "%s is listed twice", label);
			json_decref(body);
			continue;
		}
		json_object_set_new(want, key, json_pack("{s:s, s:o}", "label", label, "body", body));
	}
	if (cur) {
		if ((rc = get_one(a, "/v1/groups/{}", str(cur, "id"), &detail)))
			goto cleanup;
		have = json_object_get(detail, "members");
	}
	const char *key;
	json_t *v;

	json_object_foreach(want, key, v) {
		int present = 0;

		for (size_t k = 0; k < json_array_size(have); k++) {
			json_t *m = json_array_get(have, k);
			char hk[300];

			snprintf(hk, sizeof(hk), "%s:%s", str(m, "type"), str(m, "id"));
			present |= strcmp(hk, key) == 0;
		}
		if (present)
			continue;
		if (!step)
			step = step_add(later, "~", "group", name);
		if (cur && group_guards(a, str(cur, "id")) && !json_object_get(step, "proposed"))
			step_proposed(step);
		size_t n = strlen(changes);

		snprintf(changes + n, sizeof(changes) - n, "%s+ %s", n ? ", " : "members ",
			 str(v, "label"));
		step_call(step, "POST", "/v1/groups/{}/members", gref, NULL,
			  json_incref(json_object_get(v, "body")));
	}
	for (size_t k = 0; k < json_array_size(have); k++) {
		json_t *m = json_array_get(have, k);
		char hk[300];

		snprintf(hk, sizeof(hk), "%s:%s", str(m, "type"), str(m, "id"));
		if (json_object_get(want, hk))
			continue;
		if (!step)
			step = step_add(later, "~", "group", name);
		size_t n = strlen(changes);

		snprintf(changes + n, sizeof(changes) - n, "%s- %s%s", n ? ", " : "members ",
			 strcmp(str(m, "type"), "group") == 0 ? "group " : "", str(m, "name"));
		step_call(step, "DELETE", "/v1/groups/{}/members/{}", gref, str(m, "id"), NULL);
	}
	if (step) {
		step_line(step, "changes", "%s", changes);
		*changed = 1;
	}
cleanup:
	json_decref(want);
	json_decref(detail);
	return rc;
}

static int plan_groups(apply *a)
{
	json_t *groups = list(a->root, "groups"), *later = json_array();
	char path[GH_YAML_MAX_PATH];
	int rc = 0;

	for (size_t i = 0; later && i < json_array_size(groups); i++) {
		json_t *g = json_array_get(groups, i), *step;
		const char *name = str(g, "name"), *desc = str(g, "description");
		json_t *cur = find_named(a->groups, name);
		int changed = 0;

		if (!cur) {
			step = step_add(a->steps, "+", "group", name);
			detail_field(step, "description", json_object_get(g, "description"));
			step_call(step, "POST", "/v1/groups", NULL, NULL,
				  json_pack("{s:s, s:s?}", "name", name, "description", desc));
		} else if (desc && !same_text(str(cur, "description"), desc)) {
			item_path(path, "groups", i, "description");
			gh_yaml_problem(a->d, path, "differs from the server's (%s), and a group's"
					" description cannot be changed: make it match or leave it out",
					str(cur, "description") ? str(cur, "description") : "none");
		}
		if ((rc = plan_members(a, later, i, g, cur, &changed)))
			break;
		if (cur && !changed)
			a->unchanged++;
	}
	/* members after every group exists: a new group may hold another new one */
	json_array_extend(a->steps, later);
	json_decref(later);
	return rc;
}

static int plan_systems(apply *a)
{
	json_t *systems = list(a->root, "systems");
	char path[GH_YAML_MAX_PATH], from[300], to[300];
	int rc = 0;

	for (size_t i = 0; i < json_array_size(systems); i++) {
		json_t *s = json_array_get(systems, i), *step, *body;
		const char *name = str(s, "name"), *desc = str(s, "description");
		const char *conn = str(s, "connector"), *owner_ref = str(s, "owner");
		json_t *cur = find_named(a->systems, name);
		json_t *owner = identity(a, owner_ref, &rc), *old;

		if (rc)
			return rc;
		if (!owner) {
			item_path(path, "systems", i, "owner");
			gh_yaml_problem(a->d, path, "no identity named %s on the server", owner_ref);
			continue;
		}
		if (!cur) {
			step = step_add(a->steps, "+", "system", name);
			detail_field(step, "description", json_object_get(s, "description"));
			detail_field(step, "owner", json_object_get(owner, "name"));
			detail_field(step, "connector instance", json_object_get(s, "connector"));
			detail_field(step, "connector_settings",
				     json_object_get(s, "connector_settings"));
			step_call(step, "POST", "/v1/systems", NULL, NULL,
				  json_pack("{s:s, s:s?, s:s, s:s?, s:O?}", "name", name, "description",
					    desc, "owner", str(owner, "id"), "connector", conn,
					    "connector_settings",
					    json_object_get(s, "connector_settings")));
			continue;
		}
		body = json_object();
		step = json_pack("{s:[]}", "changes");
		if (desc && !same_text(desc, str(cur, "description"))) {
			show(from, sizeof(from), json_object_get(cur, "description"));
			show(to, sizeof(to), json_object_get(s, "description"));
			step_line(step, "changes", "description %s -> %s", from, to);
			json_object_set_new(body, "description", json_string(desc));
		}
		if (!same_text(str(owner, "id"), str(cur, "owner"))) {
			old = identity(a, str(cur, "owner"), &rc);
			if (rc) {
				json_decref(body);
				json_decref(step);
				return rc;
			}
			step_line(step, "changes", "owner %s -> %s",
				  old ? str(old, "name") : str(cur, "owner"), str(owner, "name"));
			json_object_set_new(body, "owner", json_string(str(owner, "id")));
		}
		if (conn && !same_text(conn, str(cur, "connector"))) {
			step_line(step, "changes", "connector instance %s -> %s",
				  str(cur, "connector"), conn);
			json_object_set_new(body, "connector", json_string(conn));
		}
		if (json_object_get(s, "connector_settings") &&
		    !json_equal(json_object_get(s, "connector_settings"),
				json_object_get(cur, "connector_settings"))) {
			show(to, sizeof(to), json_object_get(s, "connector_settings"));
			step_line(step, "changes", "connector_settings -> %s", to);
			json_object_set(body, "connector_settings",
					json_object_get(s, "connector_settings"));
		}
		if (json_object_size(body)) {
			json_t *real = step_add(a->steps, "~", "system", name);

			json_object_set(real, "changes", json_object_get(step, "changes"));
			if (json_object_get(body, "connector"))
				step_proposed(real);
			step_call(real, "PATCH", "/v1/systems/{}", str(cur, "id"), NULL, body);
		} else {
			json_decref(body);
			a->unchanged++;
		}
		json_decref(step);
	}
	return 0;
}

/* Conflicts as labels ("system/name") the way the server has them, updated as the
 * plan changes them: a conflict is symmetric, so changing one side changes both. */
typedef struct conflicts {
	json_t *proj;            /* label -> array of labels */
	json_t *exists;          /* label -> true: on the server, or created by an earlier step */
	json_t *declared;        /* label -> true: entitlements of this file */
} conflicts;

static json_t *proj_set(conflicts *c, const char *label)
{
	json_t *s = json_object_get(c->proj, label);

	if (!s) {
		json_object_set_new(c->proj, label, json_array());
		s = json_object_get(c->proj, label);
	}
	return s;
}

static int conflicts_init(conflicts *c, const apply *a)
{
	char label[300], other[300];

	c->proj = json_object();
	c->exists = json_object();
	c->declared = json_object();
	if (!c->proj || !c->exists || !c->declared)
		return gh_error_set(GH_ERROR, "out of memory");
	for (size_t i = 0; i < json_array_size(a->ents); i++) {
		json_t *e = json_array_get(a->ents, i), *inc = json_object_get(e, "incompatible_with");
		json_t *set;

		ent_label(label, sizeof(label), a, e);
		json_object_set_new(c->exists, label, json_true());
		set = proj_set(c, label);
		for (size_t k = 0; k < json_array_size(inc); k++) {
			json_t *o = find_named(a->ents, json_string_value(json_array_get(inc, k)));

			if (o) {
				ent_label(other, sizeof(other), a, o);
				set_put(set, other, 1);
			}
		}
	}
	return 0;
}

static void conflicts_free(conflicts *c)
{
	json_decref(c->proj);
	json_decref(c->exists);
	json_decref(c->declared);
}

/* The labels the file's incompatible_with names, as a sorted set; NULL when the
 * key is absent. Unknown ones are recorded as problems. */
static json_t *wanted_conflicts(apply *a, conflicts *c, const json_t *e, size_t i)
{
	json_t *inc = list(e, "incompatible_with"), *out;
	char path[GH_YAML_MAX_PATH], base[GH_YAML_MAX_PATH], label[300];

	if (!inc)
		return NULL;
	out = json_array();
	item_path(base, "entitlements", i, "incompatible_with");
	for (size_t k = 0; out && k < json_array_size(inc); k++) {
		const char *ref = json_string_value(json_array_get(inc, k));
		json_t *o = strncmp(ref, "ent_", 4) == 0 ? find_named(a->ents, ref) : NULL;

		gh_yaml_path_index(path, base, k);
		if (o)
			ent_label(label, sizeof(label), a, o);
		else
			snprintf(label, sizeof(label), "%s", ref);
		if (!json_object_get(c->exists, label) && !json_object_get(c->declared, label)) {
			gh_yaml_problem(a->d, path, "no entitlement %s on the server or in this file",
					ref);
			continue;
		}
		set_put(out, label, 1);
	}
	json_t *sorted = sorted_set(out);

	json_decref(out);
	return sorted;
}

/* Moves label's conflicts from its projected set to want (both sides), and
 * returns what the write must send now: only entitlements that exist by then;
 * a pair with one created later is sent with that one's create. */
static json_t *apply_conflicts(conflicts *c, const char *label, const json_t *want)
{
	json_t *cur = proj_set(c, label), *send = json_array();

	for (size_t k = 0; k < json_array_size(cur); k++) {
		const char *o = json_string_value(json_array_get(cur, k));

		if (!set_has(want, o))
			set_put(proj_set(c, o), label, 0);
	}
	for (size_t k = 0; k < json_array_size(want); k++) {
		const char *o = json_string_value(json_array_get(want, k));

		set_put(proj_set(c, o), label, 1);
		if (json_object_get(c->exists, o))
			json_array_append_new(send, json_string(o));
	}
	json_object_set_new(c->proj, label, json_deep_copy(want));
	return send;
}

static void ent_details(json_t *step, const json_t *e, const json_t *inc)
{
	static const char *const keys[] = {"description", "risk_tier", "data_sensitivity",
					   "environment", "control_owner_group", "max_duration",
					   "requestable", "tags", "attributes", NULL};

	for (size_t k = 0; keys[k]; k++)
		detail_field(step, keys[k], json_object_get(e, keys[k]));
	if (json_array_size(inc))
		detail_field(step, "incompatible_with", inc);
}

static json_t *ent_create_body(const json_t *e, const char *sys_name, json_t *send)
{
	static const char *const keys[] = {"name", "description", "risk_tier", "data_sensitivity",
					   "environment", "control_owner_group", "max_duration",
					   "requestable", "tags", "attributes", NULL};
	json_t *body = json_pack("{s:s}", "system", sys_name);

	for (size_t k = 0; body && keys[k]; k++)
		if (json_object_get(e, keys[k]))
			json_object_set(body, keys[k], json_object_get(e, keys[k]));
	if (body && json_array_size(send))
		json_object_set(body, "incompatible_with", send);
	return body;
}

/* One text field compared; a change goes to step and body. */
static void diff_text(json_t *step, json_t *body, const json_t *e, const json_t *cur,
		      const char *key)
{
	json_t *want = json_object_get(e, key);
	char from[300], to[300];

	if (!want || same_text(json_string_value(want), str(cur, key)))
		return;
	show(from, sizeof(from), json_object_get(cur, key));
	show(to, sizeof(to), want);
	step_line(step, "changes", "%s %s -> %s", key, from, to);
	json_object_set(body, key, want);
}

static void diff_value(json_t *step, json_t *body, const char *key, const json_t *have,
		       json_t *want)
{
	char from[600], to[600];

	if (json_equal(have, want))
		return;
	show(from, sizeof(from), have);
	show(to, sizeof(to), want);
	step_line(step, "changes", "%s %s -> %s", key, from, to);
	json_object_set(body, key, want);
}

/* 1 when the PATCH body would weaken a control of entitlement cur: a lower
 * risk tier, requestable again, a longer maximum, another control-owner
 * group, an SoD pair removed, another target. */
static int ent_weakens(const json_t *cur, const json_t *body)
{
	const json_t *v, *inc = json_object_get(body, "incompatible_with");
	int64_t secs = 0;
	int rank_cur = -1, rank_new = -1;

	for (int i = 0; gh_gov_risk_tiers[i]; i++) {
		if (same_text(gh_gov_risk_tiers[i], str(cur, "risk_tier")))
			rank_cur = i;
		if (same_text(gh_gov_risk_tiers[i], str(body, "risk_tier")))
			rank_new = i;
	}
	if (rank_new >= 0 && rank_new < rank_cur)
		return 1;
	if (json_is_true(json_object_get(body, "requestable")) &&
	    !json_is_true(json_object_get(cur, "requestable")))
		return 1;
	if (str(body, "max_duration") && !gh_duration_parse(&secs, str(body, "max_duration")) &&
	    secs > json_integer_value(json_object_get(cur, "max_duration_seconds")))
		return 1;
	if (json_object_get(body, "control_owner_group"))
		return 1;
	for (size_t i = 0; inc && i < json_array_size(json_object_get(cur, "incompatible_with"));
	     i++) {
		const json_t *have = json_array_get(json_object_get(cur, "incompatible_with"), i);
		int kept = 0;

		for (size_t k = 0; k < json_array_size(inc); k++)
			kept |= json_equal(have, json_array_get(inc, k));
		if (!kept)
			return 1;
	}
	if ((v = json_object_get(body, "attributes")) &&
	    !json_equal(json_object_get(v, "target"),
			json_object_get(json_object_get(cur, "attributes"), "target")))
		return 1;
	return 0;
}

static void plan_ent_update(apply *a, conflicts *c, const json_t *e, const json_t *cur,
			    const char *label, const json_t *want_inc, const char *env_path)
{
	json_t *step = json_pack("{s:[]}", "changes"), *body = json_object();
	json_t *cog = find_named(a->groups, str(e, "control_owner_group"));
	int64_t secs = 0;

	diff_text(step, body, e, cur, "description");
	diff_text(step, body, e, cur, "risk_tier");
	diff_text(step, body, e, cur, "data_sensitivity");
	if (!same_text(str(e, "environment"), str(cur, "environment")))
		gh_yaml_problem(a->d, env_path, "is %s on the server and an entitlement's environment"
				" cannot be changed", str(cur, "environment"));
	if (!cog || !same_text(str(cog, "id"), str(cur, "control_owner_group"))) {
		step_line(step, "changes", "control_owner_group %s -> %s",
			  name_of(a->groups, str(cur, "control_owner_group")),
			  str(e, "control_owner_group"));
		json_object_set_new(body, "control_owner_group",
				    json_string(str(e, "control_owner_group")));
	}
	gh_duration_parse(&secs, str(e, "max_duration"));
	if (secs != json_integer_value(json_object_get(cur, "max_duration_seconds"))) {
		char to[32];

		gh_duration_format(to, sizeof(to), secs);
		step_line(step, "changes", "max_duration %s -> %s", str(cur, "max_duration"), to);
		json_object_set_new(body, "max_duration", json_string(str(e, "max_duration")));
	}
	if (json_object_get(e, "requestable"))
		diff_value(step, body, "requestable", json_object_get(cur, "requestable"),
			   json_object_get(e, "requestable"));
	if (json_object_get(e, "tags")) {
		json_t *have = sorted_set(json_object_get(cur, "tags"));
		json_t *want = sorted_set(json_object_get(e, "tags"));

		diff_value(step, body, "tags", have, want);
		json_decref(have);
		json_decref(want);
	}
	if (json_object_get(e, "attributes")) {
		json_t *have = json_object_get(cur, "attributes");
		json_t *none = json_object();

		diff_value(step, body, "attributes", have ? have : none,
			   json_object_get(e, "attributes"));
		json_decref(none);
	}
	if (want_inc) {
		json_t *have = sorted_set(proj_set(c, label));

		if (!json_equal(have, want_inc)) {
			json_t *send = apply_conflicts(c, label, want_inc);
			json_t *now = sorted_set(send);
			char from[600], to[600];

			show(from, sizeof(from), have);
			show(to, sizeof(to), want_inc);
			step_line(step, "changes", "incompatible_with %s -> %s", from, to);
			/* pairs with an entitlement created later go with its create */
			if (!json_equal(now, have))
				json_object_set(body, "incompatible_with", send);
			json_decref(now);
			json_decref(send);
		}
		json_decref(have);
	}
	if (json_array_size(json_object_get(step, "changes"))) {
		json_t *real = step_add(a->steps, "~", "entitlement", label);

		json_object_set(real, "changes", json_object_get(step, "changes"));
		if (ent_weakens(cur, body))
			step_proposed(real);
		if (json_object_size(body))
			step_call(real, "PATCH", "/v1/entitlements/{}", str(cur, "id"), NULL,
				  json_incref(body));
	} else {
		a->unchanged++;
	}
	json_decref(body);
	json_decref(step);
}

static int plan_entitlements(apply *a)
{
	json_t *ents = list(a->root, "entitlements");
	char path[GH_YAML_MAX_PATH], cog_path[GH_YAML_MAX_PATH], env_path[GH_YAML_MAX_PATH];
	char label[300];
	conflicts c;
	int rc;

	if ((rc = conflicts_init(&c, a)))
		goto cleanup;
	for (size_t i = 0; i < json_array_size(ents); i++) {
		json_t *e = json_array_get(ents, i);
		json_t *sys = find_named(a->systems, str(e, "system"));

		snprintf(label, sizeof(label), "%s/%s", sys ? str(sys, "name") : str(e, "system"),
			 str(e, "name"));
		json_object_set_new(c.declared, label, json_true());
	}
	for (size_t i = 0; i < json_array_size(ents); i++) {
		json_t *e = json_array_get(ents, i), *cur = NULL, *want_inc, *step;
		const char *sys_ref = str(e, "system"), *cog_ref = str(e, "control_owner_group");
		json_t *sys = find_named(a->systems, sys_ref);
		const char *sys_name = sys ? str(sys, "name") : sys_ref;

		item_path(path, "entitlements", i, "system");
		item_path(cog_path, "entitlements", i, "control_owner_group");
		item_path(env_path, "entitlements", i, "environment");
		if (!sys && !in_file(a, "systems", sys_ref)) {
			gh_yaml_problem(a->d, path, "no system named %s on the server or in this file",
					sys_ref);
			continue;
		}
		if (!find_named(a->groups, cog_ref) && !in_file(a, "groups", cog_ref))
			gh_yaml_problem(a->d, cog_path, "no group named %s on the server or in this"
					" file", cog_ref);
		snprintf(label, sizeof(label), "%s/%s", sys_name, str(e, "name"));
		for (size_t k = 0; sys && k < json_array_size(a->ents) && !cur; k++) {
			json_t *x = json_array_get(a->ents, k);

			if (same_text(str(x, "system"), str(sys, "id")) &&
			    same_text(str(x, "name"), str(e, "name")))
				cur = x;
		}
		want_inc = wanted_conflicts(a, &c, e, i);
		if (cur) {
			plan_ent_update(a, &c, e, cur, label, want_inc, env_path);
		} else {
			/* what earlier steps paired with it is sent with its create */
			json_t *all = want_inc ? json_deep_copy(want_inc)
					       : json_deep_copy(proj_set(&c, label));
			json_t *send = apply_conflicts(&c, label, all);

			step = step_add(a->steps, "+", "entitlement", label);
			ent_details(step, e, all);
			step_call(step, "POST", "/v1/entitlements", NULL, NULL,
				  ent_create_body(e, sys_name, send));
			json_object_set_new(c.exists, label, json_true());
			json_decref(send);
			json_decref(all);
		}
		json_decref(want_inc);
	}
cleanup:
	conflicts_free(&c);
	return rc;
}

/* A delegation is identified by (from_group, to_group, scope); another expiry
 * replaces it (revoke, then create), since a delegation is never edited. */
static void plan_delegations(apply *a)
{
	json_t *dl = list(a->root, "delegations");
	char path[GH_YAML_MAX_PATH], label[800], when[32];

	for (size_t i = 0; i < json_array_size(dl); i++) {
		json_t *x = json_array_get(dl, i), *match = NULL, *step, *body;
		const char *from = str(x, "from_group"), *to = str(x, "to_group");
		const char *sys_ref = str(x, "system"), *tag = str(x, "tag");
		json_t *fg = find_named(a->groups, from), *tg = find_named(a->groups, to);
		json_t *sys = sys_ref ? find_named(a->systems, sys_ref) : NULL;
		int64_t exp = 0, have = 0;
		int bad = 0;

		item_path(path, "delegations", i, "from_group");
		if (!fg && !in_file(a, "groups", from))
			bad = 1, gh_yaml_problem(a->d, path, "no group named %s on the server or in"
						 " this file", from);
		item_path(path, "delegations", i, "to_group");
		if (!tg && !in_file(a, "groups", to))
			bad = 1, gh_yaml_problem(a->d, path, "no group named %s on the server or in"
						 " this file", to);
		item_path(path, "delegations", i, "system");
		if (sys_ref && !sys && !in_file(a, "systems", sys_ref))
			bad = 1, gh_yaml_problem(a->d, path, "no system named %s on the server or in"
						 " this file", sys_ref);
		if (bad)
			continue;
		snprintf(label, sizeof(label), "%s -> %s (%s %s)", fg ? str(fg, "name") : from,
			 tg ? str(tg, "name") : to, sys_ref ? "system" : "tag",
			 sys ? str(sys, "name") : sys_ref ? sys_ref : tag);
		gh_time_parse(&exp, str(x, "expires_at"));
		for (size_t k = 0; fg && tg && k < json_array_size(a->dlgs) && !match; k++) {
			json_t *d = json_array_get(a->dlgs, k), *scope = json_object_get(d, "scope");

			if (!same_text(str(json_object_get(d, "from_group"), "id"), str(fg, "id")) ||
			    !same_text(str(json_object_get(d, "to_group"), "id"), str(tg, "id")) ||
			    !same_text(str(d, "status"), "active"))
				continue;
			if (sys_ref ? sys && same_text(str(scope, "type"), "system") &&
					  same_text(str(scope, "id"), str(sys, "id"))
				    : same_text(str(scope, "type"), "tag") &&
					  same_text(str(scope, "tag"), tag))
				match = d;
		}
		if (match && gh_time_parse(&have, str(match, "expires_at")) == 0 && have == exp) {
			a->unchanged++;
			continue;
		}
		item_path(path, "delegations", i, "expires_at");
		if (exp <= a->now) {
			gh_yaml_problem(a->d, path, "is in the past");
			continue;
		}
		gh_time_format(when, sizeof(when), exp);
		body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "from_group", from, "to_group", to,
				 sys_ref ? "system" : "tag", sys_ref ? sys_ref : tag, "expires_at",
				 str(x, "expires_at"), "reason", str(x, "reason"));
		if (match) {
			char reason[200];

			step = step_add(a->steps, "-/+", "delegation", label);
			step_line(step, "changes", "expires_at %s -> %s", str(match, "expires_at"),
				  when);
			snprintf(reason, sizeof(reason), "replaced by gatehouse apply: expires_at %s -> %s",
				 str(match, "expires_at"), when);
			step_call(step, "POST", "/v1/delegations/{}/revoke", str(match, "id"), NULL,
				  json_pack("{s:s}", "reason", reason));
		} else {
			step = step_add(a->steps, "+", "delegation", label);
			step_line(step, "details", "expires_at: %s", when);
			detail_field(step, "reason", json_object_get(x, "reason"));
		}
		step_call(step, "POST", "/v1/delegations", NULL, NULL, body);
	}
}

/* A policy text is proposed unless a version with the same SHA-256 is active or
 * proposed already; activation stays with a second person (four eyes). */
static void plan_policies(apply *a)
{
	json_t *pols = list(a->root, "policies");
	char hex[65], label[1100];

	for (size_t i = 0; i < json_array_size(pols); i++) {
		json_t *p = json_array_get(pols, i), *step, *same = NULL;
		json_t *text = json_array_get(a->texts, i);

		sha256_hex(hex, json_string_value(text), json_string_length(text));
		for (size_t k = 0; k < json_array_size(a->pols) && !same; k++) {
			json_t *v = json_array_get(a->pols, k);

			if (same_text(str(v, "sha256"), hex) &&
			    (same_text(str(v, "state"), "active") || same_text(str(v, "state"), "proposed")))
				same = v;
		}
		if (same) {
			a->unchanged++;
			continue;
		}
		if (str(p, "file"))
			snprintf(label, sizeof(label), "%s", str(p, "file"));
		else
			snprintf(label, sizeof(label), "policies[%zu] (inline)", i);
		step = step_add(a->steps, "+", "policy", label);
		step_line(step, "details", "sha256: %s", hex);
		detail_field(step, "comment", json_object_get(p, "comment"));
		step_line(step, "details", "proposed only: a second person activates it");
		step_call(step, "POST", "/v1/policies", NULL, NULL,
			  json_pack("{s:O, s:O?}", "text", text, "comment",
				    json_object_get(p, "comment")));
	}
}

static void print_plan(const apply *a)
{
	size_t create = 0, update = 0, replace = 0, propose = 0;

	for (size_t i = 0; i < json_array_size(a->steps); i++) {
		json_t *s = json_array_get(a->steps, i), *changes = json_object_get(s, "changes");
		json_t *details = json_object_get(s, "details");
		const char *sign = str(s, "sign");

		printf("%s %s %s", sign, str(s, "kind"), str(s, "label"));
		for (size_t k = 0; k < json_array_size(changes); k++)
			printf("%s%s", k ? "; " : ": ", json_string_value(json_array_get(changes, k)));
		printf("\n");
		for (size_t k = 0; k < json_array_size(details); k++)
			printf("    %s\n", json_string_value(json_array_get(details, k)));
		if (strcmp(str(s, "kind"), "policy") == 0 || json_is_true(json_object_get(s, "proposed")))
			propose++;
		else if (strcmp(sign, "+") == 0)
			create++;
		else if (strcmp(sign, "~") == 0)
			update++;
		else
			replace++;
	}
	printf("plan: %zu to create, %zu to update, %zu to replace, %zu to propose; %zu unchanged\n",
	       create, update, replace, propose, a->unchanged);
}

static void print_proposed(const json_t *v)
{
	json_t *problems = json_object_get(v, "validation");

	printf("proposed policy version %" JSON_INTEGER_FORMAT " (%s); a second person activates"
	       " it: gatehouse policies activate %" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(v, "version")), str(v, "id"),
	       json_integer_value(json_object_get(v, "version")));
	for (size_t k = 0; k < json_array_size(problems); k++) {
		json_t *p = json_array_get(problems, k);

		printf("  warning: %s: %s (it cannot be activated as it is)\n",
		       str(p, "policy") ? str(p, "policy") : "?", str(p, "message"));
	}
}

/* Runs the plan in order; stops at the first refusal. An exit code. */
static int execute(apply *a)
{
	size_t done = 0;

	for (size_t i = 0; i < json_array_size(a->steps); i++) {
		json_t *s = json_array_get(a->steps, i), *calls = json_object_get(s, "calls");

		for (size_t k = 0; k < json_array_size(calls); k++) {
			json_t *c = json_array_get(calls, k), *out = NULL;
			json_t *body = json_object_get(c, "body");
			int rc = call(a, str(c, "method"), str(c, "path"),
				      json_is_object(body) ? body : NULL, &out);

			if (rc) {
				if (rc != GH_EINVALID)
					gh_cli_error(NULL);
				fprintf(stderr, "gatehouse: apply stopped at: %s %s %s (%zu of %zu"
					" changes applied before it)\n", str(s, "sign"), str(s, "kind"),
					str(s, "label"), done, json_array_size(a->steps));
				return GH_EXIT_FAIL;
			}
			a->writes++;
			if (strcmp(str(s, "kind"), "policy") == 0)
				print_proposed(out);
			if (a->last_status == 202) {
				json_t *ch = json_object_get(out, "change");

				a->proposed++;
				printf("proposed change %s (%s %s): a second admin or iam person confirms"
				       " it: gatehouse changes confirm %s\n", str(ch, "id"),
				       str(s, "kind"), str(s, "label"), str(ch, "id"));
			}
			json_decref(out);
		}
		done++;
	}
	printf("applied: %zu changes (%zu calls)", done, a->writes);
	if (a->proposed)
		printf("; %zu of the calls proposed, not applied: they wait for a second admin or"
		       " iam person (gatehouse changes list --state proposed)", a->proposed);
	printf("\n");
	return GH_EXIT_OK;
}

/* --- the command ------------------------------------------------------------ */

void gh_cmd_apply_usage(FILE *f)
{
	fprintf(f,
		"usage: gatehouse apply -f FILE.yaml [--dry-run] [--url URL] [--token TOKEN]\n"
		"  Makes the server's catalog match FILE: creates and updates groups (and their\n"
		"  members), systems and entitlements, replaces delegations whose expiry changed\n"
		"  and proposes policy texts not proposed yet (never activates them). Prints the\n"
		"  plan as a diff first; --dry-run stops there. Nothing the file does not name is\n"
		"  touched. See docs/catalog-as-code.md.\n"
		"  exit status: 0 applied (or nothing to do), 1 the plan was refused or a call\n"
		"  failed, 2 a bad file or command line\n");
}

static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');

	if (strcmp(file, "-") == 0 || !slash)
		return strdup(".");
	if (slash == file)
		return strdup("/");
	return strndup(file, (size_t)(slash - file));
}

static int dry_run_flag(const gh_cli *c, int *out)
{
	const char *v = gh_cli_get(c, "dry-run");

	*out = gh_cli_has(c, "dry-run");
	if (*out && v && strcmp(v, "true") != 0) {
		if (strcmp(v, "false") == 0) {
			*out = 0;
			return 0;
		}
		return gh_error_set(GH_EINVALID, "--dry-run takes no value (got \"%s\")", v);
	}
	return 0;
}

int gh_cmd_apply(gh_cli *c)
{
	static const char *const allowed[] = {"file", "dry-run", "url", NULL};
	apply a;
	gh_yaml_doc d;
	const char *file = gh_cli_get(c, "file");
	char *text = NULL, *dir = NULL;
	size_t len = 0;
	int dry = 0, rc = GH_EXIT_OK, r;

	memset(&a, 0, sizeof(a));
	memset(&d, 0, sizeof(d));
	if (c->help) {
		gh_cmd_apply_usage(stdout);
		return GH_EXIT_OK;
	}
	if (gh_cli_check_options(c, "apply", allowed) || dry_run_flag(c, &dry)) {
		gh_cli_error(NULL);
		gh_cmd_apply_usage(stderr);
		return GH_EXIT_USAGE;
	}
	if (!file || c->npos > 1) {
		fprintf(stderr, "gatehouse: apply needs -f FILE and no other arguments\n");
		gh_cmd_apply_usage(stderr);
		return GH_EXIT_USAGE;
	}
	a.cl.server = gh_cli_get(c, "url") ? gh_cli_get(c, "url") : c->server;
	a.cl.token = c->token;
	a.cl.command = "apply";
	a.cl.timeout_s = 60;
	a.d = &d;
	a.now = gh_now();

	if ((r = gh_cli_read_file(&text, &len, file, GH_YAML_MAX_BYTES))) {
		if (r == GH_ETOOLARGE)
			fprintf(stderr, "%s:1:1: the file is larger than 1 MiB\n", file);
		else
			gh_cli_error(NULL);
		rc = GH_EXIT_USAGE;
		goto cleanup;
	}
	if (!(dir = dir_of(file))) {
		rc = GH_EXIT_FAIL;
		goto cleanup;
	}
	if ((r = gh_apply_check(&d, &a.texts, text, len, dir))) {
		if (r == GH_ERROR)
			gh_cli_error(NULL);
		gh_yaml_print_problems(stderr, &d, file);
		fprintf(stderr, "gatehouse: %s was not applied; nothing was changed\n", file);
		rc = GH_EXIT_USAGE;
		goto cleanup;
	}
	a.root = d.root;
	if (!(a.idents = json_object()) || !(a.steps = json_array())) {
		rc = GH_EXIT_FAIL;
		goto cleanup;
	}
	if ((r = load_state(&a)) || (r = plan_groups(&a)) || (r = plan_systems(&a)) ||
	    (r = plan_entitlements(&a))) {
		if (r != GH_EINVALID)
			gh_cli_error(NULL);
		fprintf(stderr, "gatehouse: cannot read the server's catalog; nothing was changed\n");
		rc = r == GH_ERROR ? GH_EXIT_USAGE : GH_EXIT_FAIL;
		goto cleanup;
	}
	plan_delegations(&a);
	plan_policies(&a);
	if (json_array_size(d.problems)) {
		gh_yaml_print_problems(stderr, &d, file);
		fprintf(stderr, "gatehouse: the plan cannot be applied to this server; nothing was"
			" changed\n");
		rc = GH_EXIT_FAIL;
		goto cleanup;
	}
	if (!json_array_size(a.steps)) {
		printf("no changes (%zu unchanged)\n", a.unchanged);
		goto cleanup;
	}
	print_plan(&a);
	if (dry) {
		printf("dry run: nothing was changed\n");
		goto cleanup;
	}
	rc = execute(&a);
cleanup:
	free(text);
	free(dir);
	gh_yaml_doc_free(&d);
	json_decref(a.texts);
	json_decref(a.groups);
	json_decref(a.systems);
	json_decref(a.ents);
	json_decref(a.dlgs);
	json_decref(a.pols);
	json_decref(a.idents);
	json_decref(a.steps);
	return rc;
}
