/* test_policy_schema.c - Cedar schemas in both syntaxes: the resolved model,
 * equivalence of the syntaxes, errors with positions, and the shared corpora. */
#include "harness.h"
#include "policy/schema_types.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- helpers ----------------------------------------------------------- */

/* The shared Cedar folder: <clone>/../shared/cedar in CI, else /work/shared/cedar. */
static const char *shared_dir(void)
{
	static char dir[4096];
	struct stat st;
	const char *self = __FILE__, *end = strstr(self, "tests/unit/");

	if (dir[0])
		return dir;
	if (end && end - self < 4000) {
		snprintf(dir, sizeof(dir), "%.*s../shared/cedar", (int)(end - self), self);
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return dir;
	}
	snprintf(dir, sizeof(dir), "/work/shared/cedar");
	return dir;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

static int parse_text(gh_policy_schema **s, const char *text, gh_policy_error *err)
{
	return gh_policy_schema_parse(s, text, strlen(text), err);
}

static int parse_json(gh_policy_schema **s, const char *json, gh_policy_error *err)
{
	return gh_policy_schema_parse_json(s, json, strlen(json), err);
}

/* A canonical text of a model, to compare schemas. */
typedef struct dump {
	char *buf;
	size_t len, cap;
} dump;

static void put(dump *d, const char *s, size_t n)
{
	if (d->len + n + 1 > d->cap) {
		d->cap = (d->len + n + 1) * 2;
		d->buf = realloc(d->buf, d->cap);
		if (!d->buf)
			abort();
	}
	memcpy(d->buf + d->len, s, n);
	d->len += n;
	d->buf[d->len] = '\0';
}

static void puts_(dump *d, const char *s)
{
	put(d, s, strlen(s));
}

static void dump_type(dump *d, const ghp_type *t)
{
	switch (t->kind) {
	case GHP_T_BOOL: puts_(d, "Bool"); break;
	case GHP_T_LONG: puts_(d, "Long"); break;
	case GHP_T_STRING: puts_(d, "String"); break;
	case GHP_T_SET:
		puts_(d, "Set<");
		dump_type(d, t->element);
		puts_(d, ">");
		break;
	case GHP_T_RECORD:
		puts_(d, t->open ? "{+" : "{");
		for (size_t i = 0; i < t->nattrs; i++) {
			put(d, t->attrs[i].name, t->attrs[i].name_len);
			puts_(d, t->attrs[i].required ? ":" : "?:");
			dump_type(d, t->attrs[i].type);
			puts_(d, ",");
		}
		puts_(d, "}");
		break;
	case GHP_T_ENTITY:
		puts_(d, "E:");
		puts_(d, t->name);
		break;
	case GHP_T_EXTENSION:
		puts_(d, "X:");
		puts_(d, t->name);
		break;
	}
}

static char *dump_schema(const gh_policy_schema *s)
{
	dump d = {0};

	puts_(&d, "");
	for (size_t i = 0; i < ghp_schema_entity_type_count(s); i++) {
		const ghp_entity_type *e = ghp_schema_entity_type_at(s, i);

		puts_(&d, "entity ");
		puts_(&d, e->name);
		puts_(&d, " in [");
		for (size_t j = 0; j < e->nparents; j++) {
			puts_(&d, e->parents[j]);
			puts_(&d, ",");
		}
		puts_(&d, "] ");
		dump_type(&d, e->attrs);
		if (e->tags) {
			puts_(&d, " tags ");
			dump_type(&d, e->tags);
		}
		if (e->nenum) {
			puts_(&d, " enum [");
			for (size_t j = 0; j < e->nenum; j++) {
				put(&d, e->enum_ids[j], e->enum_id_lens[j]);
				puts_(&d, ",");
			}
			puts_(&d, "]");
		}
		puts_(&d, "\n");
	}
	for (size_t i = 0; i < ghp_schema_action_count(s); i++) {
		const ghp_action *a = ghp_schema_action_at(s, i);

		puts_(&d, "action ");
		puts_(&d, a->type);
		puts_(&d, "::\"");
		put(&d, a->id, a->id_len);
		puts_(&d, "\" in [");
		for (size_t j = 0; j < a->nparents; j++) {
			puts_(&d, a->parent_types[j]);
			puts_(&d, "::");
			put(&d, a->parent_ids[j], a->parent_id_lens[j]);
			puts_(&d, ",");
		}
		puts_(&d, "] principal [");
		for (size_t j = 0; j < a->nprincipals; j++) {
			puts_(&d, a->principals[j]);
			puts_(&d, ",");
		}
		puts_(&d, "] resource [");
		for (size_t j = 0; j < a->nresources; j++) {
			puts_(&d, a->resources[j]);
			puts_(&d, ",");
		}
		puts_(&d, "] context ");
		dump_type(&d, a->context);
		puts_(&d, "\n");
	}
	return d.buf;
}

/* Parses text and returns its dump (or NULL, printing the error). */
static char *dump_text(const char *text)
{
	gh_policy_schema *s;
	gh_policy_error err;
	char *out;

	if (parse_text(&s, text, &err)) {
		printf("    text: %d:%d %s\n", err.line, err.column, err.message);
		return NULL;
	}
	out = dump_schema(s);
	gh_policy_schema_free(s);
	return out;
}

static char *dump_json(const char *json)
{
	gh_policy_schema *s;
	gh_policy_error err;
	char *out;

	if (parse_json(&s, json, &err)) {
		printf("    json: %d:%d %s\n", err.line, err.column, err.message);
		return NULL;
	}
	out = dump_schema(s);
	gh_policy_schema_free(s);
	return out;
}

/* Calls fn on every file under dir whose name ends in suffix; returns the count. */
static int walk(const char *dir, const char *suffix, void (*fn)(const char *path, void *arg),
		void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[4096];
		struct stat st;
		size_t l = strlen(de->d_name), sl = strlen(suffix);

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			n += walk(path, suffix, fn, arg);
		} else if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0) {
			fn(path, arg);
			n++;
		}
	}
	closedir(d);
	return n;
}

typedef struct tally {
	int parsed, failed;
} tally;

static void parse_one(const char *path, void *arg)
{
	tally *t = arg;
	size_t len;
	char *text = read_file(path, &len);
	gh_policy_schema *s = NULL;
	gh_policy_error err;

	if (text && gh_policy_schema_parse(&s, text, len, &err) == 0) {
		t->parsed++;
	} else {
		t->failed++;
		if (t->failed <= 10)
			printf("    %s: %d:%d %s\n", path, text ? err.line : 0, text ? err.column : 0,
			       text ? err.message : "unreadable");
	}
	gh_policy_schema_free(s);
	free(text);
}

/* Every prefix of text parses or fails cleanly (ASan/UBSan watch the rest). */
static int truncations(const char *text, size_t len, int json)
{
	int failed = 0;

	for (size_t n = 0; n < len; n++) {
		gh_policy_schema *s = NULL;
		gh_policy_error err;
		int rc = json ? gh_policy_schema_parse_json(&s, text, n, &err) :
				gh_policy_schema_parse(&s, text, n, &err);

		if (rc == 0) {
			gh_policy_schema_free(s);
			continue;
		}
		failed++;
		if (s != NULL || err.message[0] == '\0')
			return -1;
		if (!json && rc == GH_POLICY_EPARSE && err.line < 1)
			return -1;
	}
	return failed;
}

/* --- schemas used below --------------------------------------------------- */

static const char rich_text[] =
	"// PhotoFlash, with most of the syntax\n"
	"@doc(\"the app\")\n"
	"namespace PhotoFlash {\n"
	"  type Ctx = { authenticated: Bool, \"ip\"?: ipaddr, when?: __cedar::datetime };\n"
	"  type Name = String;\n"
	"  @doc(\"users\") entity User in [UserGroup, Role] = {\n"
	"    \"department\": Name,\n"
	"    jobLevel: Long,\n"
	"    manager?: User,\n"
	"    scores: Set<decimal>,\n"
	"    profile: { @doc(\"x\") nick?: String, age: Long, },\n"
	"  } tags Set<String>;\n"
	"  entity UserGroup, Team in UserGroup;\n"
	"  entity Role enum [\"admin\", \"viewer\"];\n"
	"  entity Album in Album { account: Account, private: Bool };\n"
	"  entity Account = { owner: User, admins?: Set<User> };\n"
	"  entity Photo in [Album] { account: PhotoFlash::Account, taken: duration };\n"
	"  action read;\n"
	"  action \"viewPhoto\", listAlbums in read appliesTo {\n"
	"    principal: User, resource: [Photo, Album], context: Ctx\n"
	"  };\n"
	"  action uploadPhoto in [read, Action::\"viewPhoto\"] appliesTo {\n"
	"    context: { authenticated: Bool, photo: { file_size: Long, file_type: String } },\n"
	"    resource: Album,\n"
	"    principal: [User, Team],\n"
	"  } attributes {};\n"
	"}\n"
	"entity Admin;\n"
	"action \"manage\" in [PhotoFlash::Action::\"read\"] appliesTo { principal: Admin, resource: "
	"PhotoFlash::Album };\n";

static const char rich_json[] =
	"{\"PhotoFlash\": {\"annotations\": {\"doc\": \"the app\"},\n"
	" \"commonTypes\": {\n"
	"  \"Ctx\": {\"type\": \"Record\", \"attributes\": {\"authenticated\": {\"type\": "
	"\"Boolean\"},\n"
	"     \"ip\": {\"type\": \"Extension\", \"name\": \"ipaddr\", \"required\": false},\n"
	"     \"when\": {\"type\": \"EntityOrCommon\", \"name\": \"__cedar::datetime\", \"required\": "
	"false}}},\n"
	"  \"Name\": {\"type\": \"String\"}},\n"
	" \"entityTypes\": {\n"
	"  \"User\": {\"memberOfTypes\": [\"UserGroup\", \"PhotoFlash::Role\"], \"annotations\": "
	"{\"doc\": \"users\"},\n"
	"   \"shape\": {\"type\": \"Record\", \"attributes\": {\n"
	"     \"department\": {\"type\": \"Name\"},\n"
	"     \"jobLevel\": {\"type\": \"Long\"},\n"
	"     \"manager\": {\"type\": \"Entity\", \"name\": \"User\", \"required\": false},\n"
	"     \"scores\": {\"type\": \"Set\", \"element\": {\"type\": \"Extension\", \"name\": "
	"\"decimal\"}},\n"
	"     \"profile\": {\"type\": \"Record\", \"attributes\": {\"nick\": {\"type\": \"String\", "
	"\"required\": false}, \"age\": {\"type\": \"Long\"}}}}},\n"
	"   \"tags\": {\"type\": \"Set\", \"element\": {\"type\": \"String\"}}},\n"
	"  \"UserGroup\": {\"memberOfTypes\": [\"UserGroup\"]},\n"
	"  \"Team\": {\"memberOfTypes\": [\"UserGroup\"]},\n"
	"  \"Role\": {\"enum\": [\"admin\", \"viewer\"]},\n"
	"  \"Album\": {\"memberOfTypes\": [\"Album\"], \"shape\": {\"type\": \"Record\", "
	"\"attributes\": {\"account\": {\"type\": \"EntityOrCommon\", \"name\": \"Account\"}, "
	"\"private\": {\"type\": \"Boolean\"}}}},\n"
	"  \"Account\": {\"shape\": {\"type\": \"Record\", \"attributes\": {\"owner\": {\"type\": "
	"\"Entity\", \"name\": \"User\"}, \"admins\": {\"type\": \"Set\", \"required\": false, "
	"\"element\": {\"type\": \"Entity\", \"name\": \"User\"}}}}},\n"
	"  \"Photo\": {\"memberOfTypes\": [\"Album\"], \"shape\": {\"type\": \"Record\", "
	"\"attributes\": {\"account\": {\"type\": \"Entity\", \"name\": \"PhotoFlash::Account\"}, "
	"\"taken\": {\"type\": \"Extension\", \"name\": \"duration\"}}}}},\n"
	" \"actions\": {\n"
	"  \"read\": {},\n"
	"  \"viewPhoto\": {\"memberOf\": [{\"id\": \"read\"}], \"appliesTo\": {\"principalTypes\": "
	"[\"User\"], \"resourceTypes\": [\"Photo\", \"Album\"], \"context\": {\"type\": \"Ctx\"}}},\n"
	"  \"listAlbums\": {\"memberOf\": [{\"id\": \"read\", \"type\": \"Action\"}], \"appliesTo\": "
	"{\"principalTypes\": [\"User\"], \"resourceTypes\": [\"Album\", \"Photo\"], \"context\": "
	"{\"type\": \"Ctx\"}}},\n"
	"  \"uploadPhoto\": {\"memberOf\": [{\"id\": \"read\"}, {\"id\": \"viewPhoto\", \"type\": "
	"\"PhotoFlash::Action\"}],\n"
	"   \"appliesTo\": {\"principalTypes\": [\"User\", \"Team\"], \"resourceTypes\": "
	"[\"Album\"],\n"
	"    \"context\": {\"type\": \"Record\", \"attributes\": {\"authenticated\": {\"type\": "
	"\"Boolean\"}, \"photo\": {\"type\": \"Record\", \"attributes\": {\"file_size\": "
	"{\"type\": \"Long\"}, \"file_type\": {\"type\": \"String\"}}}}}}}}},\n"
	" \"\": {\"entityTypes\": {\"Admin\": {}}, \"actions\": {\"manage\": {\"memberOf\": "
	"[{\"id\": \"read\", \"type\": \"PhotoFlash::Action\"}], \"appliesTo\": {\"principalTypes\": "
	"[\"Admin\"], \"resourceTypes\": [\"PhotoFlash::Album\"]}}}}\n"
	"}\n";

/* --- cases --------------------------------------------------------------- */

static void test_policy_schema_text__sample_schemas_parse(void)
{
	char dir[4200];
	tally t = {0};
	int n;

	snprintf(dir, sizeof(dir), "%s/sample-data", shared_dir());
	n = walk(dir, ".cedarschema", parse_one, &t);
	snprintf(dir, sizeof(dir), "%s/tests", shared_dir());
	n += walk(dir, ".cedarschema", parse_one, &t);
	printf("    sample schemas: %d of %d parse\n", t.parsed, n);
	CHECK(n >= 3);
	CHECK_INT(t.failed, 0);
	CHECK_INT(t.parsed, n);
}

static void test_policy_schema_text__sandbox_b_model(void)
{
	char path[4200];
	size_t len;
	char *text;
	gh_policy_schema *s = NULL;
	gh_policy_error err;
	const ghp_entity_type *e;
	const ghp_action *a;
	const ghp_attr *at;

	snprintf(path, sizeof(path), "%s/sample-data/sandbox_b/schema.cedarschema", shared_dir());
	text = read_file(path, &len);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK_INT(gh_policy_schema_parse(&s, text, len, &err), 0);
	free(text);
	if (!s)
		return;
	CHECK_INT(ghp_schema_entity_type_count(s), 7);
	e = ghp_schema_entity_type(s, "User");
	CHECK(e != NULL);
	if (e) {
		CHECK_INT(e->attrs->kind, GHP_T_RECORD);
		CHECK_INT(e->attrs->nattrs, 2);
		CHECK_STR(e->attrs->attrs[0].name, "department");
		CHECK_INT(e->attrs->attrs[0].type->kind, GHP_T_STRING);
		CHECK_STR(e->attrs->attrs[1].name, "jobLevel");
		CHECK_INT(e->attrs->attrs[1].type->kind, GHP_T_LONG);
		CHECK_INT(e->attrs->attrs[1].required, 1);
		CHECK_INT(e->nparents, 1);
		CHECK_STR(e->parents[0], "UserGroup");
		CHECK(e->tags == NULL);
	}
	e = ghp_schema_entity_type(s, "Photo");
	CHECK(e != NULL);
	if (e) {
		CHECK_INT(e->nparents, 2);
		CHECK_STR(e->parents[0], "Account");
		CHECK_STR(e->parents[1], "Album");
		at = ghp_type_attr(e->attrs, "admins", 6);
		CHECK(at != NULL && at->type->kind == GHP_T_SET &&
		      at->type->element->kind == GHP_T_ENTITY &&
		      strcmp(at->type->element->name, "User") == 0);
		at = ghp_type_attr(e->attrs, "account", 7);
		CHECK(at != NULL && at->type->kind == GHP_T_ENTITY &&
		      strcmp(at->type->name, "Account") == 0);
		CHECK(ghp_type_attr(e->attrs, "nope", 4) == NULL);
	}
	e = ghp_schema_entity_type(s, "Administrator");
	CHECK(e != NULL && e->attrs->nattrs == 0 && e->nparents == 0);
	CHECK(ghp_schema_entity_type(s, "Video") == NULL);
	CHECK_INT(ghp_schema_action_count(s), 7);
	a = ghp_schema_action(s, "Action", "addPhoto");
	CHECK(a != NULL);
	if (a) {
		CHECK_STR(a->type, "Action");
		CHECK_INT(a->nprincipals, 1);
		CHECK_STR(a->principals[0], "User");
		CHECK_INT(a->nresources, 1);
		CHECK_STR(a->resources[0], "Album");
		CHECK_INT(a->context->kind, GHP_T_RECORD);
		CHECK_INT(a->context->nattrs, 2);
		at = ghp_type_attr(a->context, "photo", 5);
		CHECK(at != NULL && at->type->kind == GHP_T_RECORD && at->type->nattrs == 2);
	}
	a = ghp_schema_action(s, "Action", "view");
	CHECK(a != NULL && a->nprincipals == 1 && a->context->nattrs == 1 &&
	      a->context->attrs[0].type->kind == GHP_T_BOOL);
	CHECK(ghp_schema_action(s, "Action", "nope") == NULL);
	CHECK(ghp_schema_action(s, "NS::Action", "view") == NULL);
	gh_policy_schema_free(s);
}

static void test_policy_schema_text__rich_model(void)
{
	gh_policy_schema *s = NULL;
	gh_policy_error err;
	const ghp_entity_type *e;
	const ghp_action *a;
	const ghp_attr *at;

	CHECK_INT(parse_text(&s, rich_text, &err), 0);
	if (!s) {
		printf("    %d:%d %s\n", err.line, err.column, err.message);
		return;
	}
	e = ghp_schema_entity_type(s, "PhotoFlash::User");
	CHECK(e != NULL);
	if (e) {
		CHECK_INT(e->nparents, 2);
		CHECK_STR(e->parents[0], "PhotoFlash::Role");
		CHECK_STR(e->parents[1], "PhotoFlash::UserGroup");
		CHECK(e->tags && e->tags->kind == GHP_T_SET &&
		      e->tags->element->kind == GHP_T_STRING);
		at = ghp_type_attr(e->attrs, "department", 10);
		CHECK(at && at->type->kind == GHP_T_STRING); /* common type Name inlined */
		at = ghp_type_attr(e->attrs, "manager", 7);
		CHECK(at && !at->required && at->type->kind == GHP_T_ENTITY &&
		      strcmp(at->type->name, "PhotoFlash::User") == 0);
		at = ghp_type_attr(e->attrs, "profile", 7);
		CHECK(at && at->type->kind == GHP_T_RECORD && at->type->nattrs == 2 &&
		      strcmp(at->type->attrs[0].name, "age") == 0 && !at->type->attrs[1].required);
	}
	e = ghp_schema_entity_type(s, "PhotoFlash::Team");
	CHECK(e && e->nparents == 1 && strcmp(e->parents[0], "PhotoFlash::UserGroup") == 0);
	e = ghp_schema_entity_type(s, "PhotoFlash::Role");
	CHECK(e && e->nenum == 2 && strcmp(e->enum_ids[0], "admin") == 0 &&
	      e->enum_id_lens[1] == 6 && e->attrs->nattrs == 0);
	CHECK(ghp_schema_entity_type(s, "Admin") != NULL);
	CHECK(ghp_schema_entity_type(s, "User") == NULL);
	a = ghp_schema_action(s, "PhotoFlash::Action", "viewPhoto");
	CHECK(a != NULL);
	if (a) {
		CHECK_INT(a->nresources, 2);
		CHECK_STR(a->resources[0], "PhotoFlash::Album");
		CHECK_INT(a->nparents, 1);
		CHECK_STR(a->parent_types[0], "PhotoFlash::Action");
		CHECK_STR(a->parent_ids[0], "read");
		at = ghp_type_attr(a->context, "ip", 2);
		CHECK(at && !at->required && at->type->kind == GHP_T_EXTENSION);
		at = ghp_type_attr(a->context, "when", 4);
		CHECK(at && at->type->kind == GHP_T_EXTENSION &&
		      strcmp(at->type->name, "datetime") == 0);
	}
	a = ghp_schema_action(s, "PhotoFlash::Action", "read");
	CHECK(a && a->nprincipals == 0 && a->nresources == 0 && a->context->kind == GHP_T_RECORD &&
	      a->context->nattrs == 0);
	a = ghp_schema_action(s, "PhotoFlash::Action", "uploadPhoto");
	CHECK(a && a->nparents == 2 && a->nprincipals == 2);
	a = ghp_schema_action(s, "Action", "manage");
	CHECK(a && a->nparents == 1 && strcmp(a->parent_types[0], "PhotoFlash::Action") == 0 &&
	      strcmp(a->resources[0], "PhotoFlash::Album") == 0);
	gh_policy_schema_free(s);
}

static void test_policy_schema_text__name_resolution(void)
{
	/* human-readable-schema.md, "Type name disambiguation" */
	static const char demo[] = "namespace Demo {\n"
				   "  entity Host { ip: ipaddr, bandwidth: decimal };\n"
				   "  entity String { groups: Set<__cedar::String> };\n"
				   "  type ipaddr = { repr: String, isV4: Bool };\n"
				   "}\n";
	gh_policy_schema *s = NULL;
	gh_policy_error err;
	const ghp_entity_type *e;
	const ghp_attr *at;

	CHECK_INT(parse_text(&s, demo, &err), 0);
	if (!s)
		return;
	e = ghp_schema_entity_type(s, "Demo::Host");
	CHECK(e != NULL);
	if (e) {
		at = ghp_type_attr(e->attrs, "ip", 2);
		CHECK(at && at->type->kind == GHP_T_RECORD); /* the common type */
		if (at && at->type->kind == GHP_T_RECORD) {
			const ghp_attr *r = ghp_type_attr(at->type, "repr", 4);

			CHECK(r && r->type->kind == GHP_T_ENTITY &&
			      strcmp(r->type->name, "Demo::String") == 0);
			r = ghp_type_attr(at->type, "isV4", 4);
			CHECK(r && r->type->kind == GHP_T_BOOL);
		}
		at = ghp_type_attr(e->attrs, "bandwidth", 9);
		CHECK(at && at->type->kind == GHP_T_EXTENSION);
	}
	e = ghp_schema_entity_type(s, "Demo::String");
	at = e ? ghp_type_attr(e->attrs, "groups", 6) : NULL;
	CHECK(at && at->type->element->kind == GHP_T_STRING);
	gh_policy_schema_free(s);

	/* an unqualified name falls back to the empty namespace */
	CHECK_INT(parse_text(&s, "entity G; type T = Long; namespace N { entity U in G { t: T }; }",
			     &err), 0);
	e = s ? ghp_schema_entity_type(s, "N::U") : NULL;
	CHECK(e && strcmp(e->parents[0], "G") == 0 && e->attrs->attrs[0].type->kind == GHP_T_LONG);
	gh_policy_schema_free(s);

	/* the current namespace first, and a common type before an entity type */
	CHECK_INT(parse_text(&s, "namespace N { entity T; type T = Long; entity U { a: T, b: N::T }; }",
			     &err), 0);
	e = s ? ghp_schema_entity_type(s, "N::U") : NULL;
	CHECK(e && e->attrs->attrs[0].type->kind == GHP_T_LONG &&
	      e->attrs->attrs[1].type->kind == GHP_T_LONG);
	gh_policy_schema_free(s);

	/* an entity type of the empty namespace named like a primitive wins over it */
	CHECK_INT(parse_text(&s, "entity Long; entity U { a: Long, b: __cedar::Long };", &err), 0);
	e = s ? ghp_schema_entity_type(s, "U") : NULL;
	CHECK(e && e->attrs->attrs[0].type->kind == GHP_T_ENTITY &&
	      e->attrs->attrs[1].type->kind == GHP_T_LONG);
	gh_policy_schema_free(s);
}

static void test_policy_schema_json__equals_text(void)
{
	static const char *const pairs[][2] = {
		{"", "{}"},
		{"entity A;", "{\"\": {\"entityTypes\": {\"A\": {}}, \"actions\": {}}}"},
		{"namespace N { entity A { a?: Set<Long> }; action go appliesTo { principal: A, "
		 "resource: A, context: {} }; }",
		 "{\"N\": {\"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Record\", \"attributes\": "
		 "{\"a\": {\"type\": \"Set\", \"element\": {\"type\": \"Long\"}, \"required\": "
		 "false}}}}}, \"actions\": {\"go\": {\"appliesTo\": {\"principalTypes\": [\"A\"], "
		 "\"resourceTypes\": [\"A\"], \"context\": {\"type\": \"Record\", \"attributes\": "
		 "{}}}}}}}"},
		{"entity E enum [\"a\", \"b\\u{e9}\"]; entity F tags E;",
		 "{\"\": {\"entityTypes\": {\"E\": {\"enum\": [\"a\", \"b\\u00e9\"]}, \"F\": "
		 "{\"tags\": {\"type\": \"Entity\", \"name\": \"E\"}}}, \"actions\": {}}}"},
		{"type C = { x: Long }; entity A { c: C }; action go appliesTo { principal: A, "
		 "resource: A, context: C };",
		 "{\"\": {\"commonTypes\": {\"C\": {\"type\": \"Record\", \"attributes\": {\"x\": "
		 "{\"type\": \"Long\"}}}}, \"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Record\", "
		 "\"attributes\": {\"c\": {\"type\": \"C\"}}}}}, \"actions\": {\"go\": {\"appliesTo\": "
		 "{\"principalTypes\": [\"A\"], \"resourceTypes\": [\"A\"], \"context\": {\"type\": "
		 "\"C\"}}}}}}"},
		/* a shape may be a common type in JSON */
		{"entity A { x: Long };",
		 "{\"\": {\"commonTypes\": {\"C\": {\"type\": \"Record\", \"attributes\": {\"x\": "
		 "{\"type\": \"Long\"}}}}, \"entityTypes\": {\"A\": {\"shape\": {\"type\": \"C\"}}}, "
		 "\"actions\": {}}}"},
		{rich_text, rich_json},
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char *a = dump_text(pairs[i][0]), *b = dump_json(pairs[i][1]);

		CHECK(a != NULL && b != NULL);
		if (a && b && strcmp(a, b) != 0) {
			printf("    pair %zu differs:\n--- text\n%s--- json\n%s", i, a, b);
			CHECK(0);
		}
		free(a);
		free(b);
	}
}

static void test_policy_schema_text__entity_shape_with_equals(void)
{
	/* "entity A = {...}" and "entity A {...}" are the same */
	char *a = dump_text("entity A = { b: Bool };"), *b = dump_text("entity A { b: Bool };");

	CHECK(a && b && strcmp(a, b) == 0);
	free(a);
	free(b);
}

static void test_policy_schema_text__rejects_with_positions(void)
{
	static const struct {
		const char *text;
		int code, line, column;
		const char *message;   /* a part of it */
	} cases[] = {
		{"entity A in B;", GH_POLICY_EINVALID, 1, 13, "undeclared entity type B"},
		{"entity A {\n  a: Long,\n  a: String };", GH_POLICY_EINVALID, 3, 3, "duplicate attribute"},
		{"entity A;\nentity A;", GH_POLICY_EINVALID, 2, 8, "duplicate entity type"},
		{"namespace N { entity A; }\nnamespace N { entity B; }", GH_POLICY_EINVALID, 2, 11,
		 "duplicate namespace"},
		{"type T = Set<T>;", GH_POLICY_EINVALID, 1, 14, "itself"},
		{"type A = B;\ntype B = { a: A };", GH_POLICY_EINVALID, 0, 0, "itself"},
		{"entity A; action \"x\" in [\"y\"];", GH_POLICY_EINVALID, 1, 26, "undeclared action"},
		{"action a in b; action b in a;", GH_POLICY_EINVALID, 0, 0, "cycle"},
		{"entity A = { x: Long", GH_POLICY_EPARSE, 1, 21, "expected ',' or '}'"},
		{"entity A {", GH_POLICY_EPARSE, 1, 11, "found end of input"},
		{"entity \"A\";", GH_POLICY_EPARSE, 1, 8, "expected an entity type name"},
		{"entity A enum [];", GH_POLICY_EPARSE, 1, 16, "expected a string literal"},
		{"type Long = String;", GH_POLICY_EINVALID, 1, 6, "invalid common type name"},
		{"entity Action;", GH_POLICY_EINVALID, 1, 8, "Action"},
		{"entity A; namespace N { entity A; }", GH_POLICY_EINVALID, 1, 32, "shadows"},
		{"type A = Long; namespace N { entity A; }", GH_POLICY_EINVALID, 1, 37, "shadows"},
		{"action x appliesTo { context: {} };", GH_POLICY_EPARSE, 1, 8, "lacks principal"},
		{"entity A; action x appliesTo { principal: [], resource: A };", GH_POLICY_EPARSE, 1, 32,
		 "at least one"},
		{"entity A; action x appliesTo { principal: A, principal: A, resource: A };",
		 GH_POLICY_EPARSE, 1, 46, "duplicate principal"},
		{"entity A { \"a\\q\": Long };", GH_POLICY_EPARSE, 1, 12, "escape"},
		{"entity A { \"a\\u{110000}\": Long };", GH_POLICY_EPARSE, 1, 12, "escape"},
		{"@a @a entity A;", GH_POLICY_EPARSE, 1, 5, "duplicate annotation"},
		{"namespace __cedar { entity A; }", GH_POLICY_EINVALID, 1, 11, "namespace name"},
		{"entity A { a: N::A };", GH_POLICY_EINVALID, 1, 15, "undeclared"},
		{"entity A { a: foo };", GH_POLICY_EINVALID, 1, 15, "undeclared"},
		{"entity in;", GH_POLICY_EPARSE, 1, 8, "expected an entity type name"},
		{"entity A;\n  \tentity B in [A,];", GH_POLICY_EPARSE, 2, 19, "expected an entity type"},
		{"entity A\n;; ", GH_POLICY_EPARSE, 2, 2, "expected namespace, entity"},
		{"entity A; action x appliesTo { principal: A, resource: A, context: A };",
		 GH_POLICY_EINVALID, 1, 18, "not a record"},
		{"type C = Long; entity A = C;", GH_POLICY_EPARSE, 1, 27, "expected '{'"},
		{"entity A { a: Long } tags;", GH_POLICY_EPARSE, 1, 26, "expected a type"},
		{"entity A { a: Set<Long };", GH_POLICY_EPARSE, 1, 24, "expected '>'"},
		{"entity A; action y; action x in A::\"y\";", GH_POLICY_EINVALID, 1, 33, "undeclared action"},
		{"namespace A { action y; } action x in A::y;", GH_POLICY_EPARSE, 1, 43,
		 "expected '::' and an action id"},
		{"entity A \xff;", GH_POLICY_EPARSE, 1, 10, "UTF-8"},
		{"entity A # ;", GH_POLICY_EPARSE, 1, 10, "unexpected character"},
		{"entity A { \"unterminated: Long };", GH_POLICY_EPARSE, 1, 12, "unterminated"},
		{"entity A enum [\"a\"] { b: Long };", GH_POLICY_EPARSE, 1, 21, "expected ';'"},
		{"namespace N { namespace M { } }", GH_POLICY_EPARSE, 1, 15, "expected entity, action"},
		{"entity A { b: Long }; entity B { c: A::b };", GH_POLICY_EINVALID, 1, 37, "undeclared"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gh_policy_schema *s = (gh_policy_schema *)1;
		gh_policy_error err;
		int rc = parse_text(&s, cases[i].text, &err);

		CHECK(s == NULL);
		CHECK_INT(rc, cases[i].code);
		if (cases[i].line) {
			CHECK_INT(err.line, cases[i].line);
			CHECK_INT(err.column, cases[i].column);
		}
		if (!strstr(err.message, cases[i].message)) {
			printf("    case %zu (%s): message \"%s\"\n", i, cases[i].text, err.message);
			CHECK(0);
		}
		if (rc == 0)
			gh_policy_schema_free(s);
	}
}

static void test_policy_schema_json__rejects(void)
{
	static const struct {
		const char *json;
		int code;
		const char *message;
	} cases[] = {
		{"", GH_POLICY_EPARSE, ""},
		{"[]", GH_POLICY_EINVALID, "object of namespaces"},
		{"{\"N\": {\"entityTypes\": {}}}", GH_POLICY_EINVALID, "\"actions\""},
		{"{\"N\": {\"entityTypes\": {}, \"actions\": {}, \"x\": 1}}", GH_POLICY_EINVALID,
		 "unknown field \"x\""},
		{"{\"N\": {\"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Long\"}}}, \"actions\": "
		 "{}}}",
		 GH_POLICY_EINVALID, "not a record"},
		{"{\"N\": {\"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Record\", \"attributes\": "
		 "{\"a\": {\"type\": \"Set\"}}}}}, \"actions\": {}}}",
		 GH_POLICY_EINVALID, "needs \"element\""},
		{"{\"N\": {\"entityTypes\": {\"A\": {\"memberOfTypes\": [\"B\"]}}, \"actions\": {}}}",
		 GH_POLICY_EINVALID, "undeclared entity type B"},
		{"{\"N\": {\"entityTypes\": {\"A\": {\"enum\": []}}, \"actions\": {}}}",
		 GH_POLICY_EINVALID, "non-empty"},
		{"{\"N\": {\"entityTypes\": {\"A\": {}}, \"actions\": {\"a\": {\"memberOf\": [{\"id\": "
		 "\"b\"}]}}}}",
		 GH_POLICY_EINVALID, "undeclared action"},
		{"{\"N\": {\"entityTypes\": {\"A\": {}, \"A\": {}}, \"actions\": {}}}", GH_POLICY_EPARSE,
		 "duplicate"},
		{"{\"N\": {\"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Record\", \"attributes\": "
		 "{\"a\": {\"type\": \"Extension\", \"name\": \"money\"}}}}}, \"actions\": {}}}",
		 GH_POLICY_EINVALID, "unknown extension type"},
		{"{\"N\": {\"entityTypes\": {\"A B\": {}}, \"actions\": {}}}", GH_POLICY_EINVALID,
		 "invalid entity type name"},
		{"{\"N M\": {\"entityTypes\": {}, \"actions\": {}}}", GH_POLICY_EINVALID,
		 "invalid namespace name"},
		{"{\"\": {\"entityTypes\": {}, \"actions\": {\"a\": {\"attributes\": {\"x\": 1}}}}}",
		 GH_POLICY_EINVALID, "attributes"},
		{"{\"\": {\"commonTypes\": {\"T\": {\"type\": \"T\"}}, \"entityTypes\": {}, \"actions\": "
		 "{}}}",
		 GH_POLICY_EINVALID, "itself"},
		{"{\"\": {\"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Record\", \"required\": "
		 "false}}}, \"actions\": {}}}",
		 GH_POLICY_EINVALID, "only for attributes"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gh_policy_schema *s = (gh_policy_schema *)1;
		gh_policy_error err;
		int rc = parse_json(&s, cases[i].json, &err);

		CHECK(s == NULL);
		CHECK_INT(rc, cases[i].code);
		if (!strstr(err.message, cases[i].message)) {
			printf("    case %zu: message \"%s\"\n", i, err.message);
			CHECK(0);
		}
	}
}

static void test_policy_schema_json__open_records_and_null_actions(void)
{
	gh_policy_schema *s = NULL;
	gh_policy_error err;
	const ghp_entity_type *e;

	CHECK_INT(parse_json(&s,
			     "{\"\": {\"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Record\", "
			     "\"additionalAttributes\": true, \"attributes\": {}}}}, \"actions\": "
			     "{\"go\": null}}}",
			     &err),
		  0);
	e = s ? ghp_schema_entity_type(s, "A") : NULL;
	CHECK(e && e->attrs->kind == GHP_T_RECORD && e->attrs->open == 1);
	CHECK(s && ghp_schema_action(s, "Action", "go") != NULL);
	gh_policy_schema_free(s);
}

static void test_policy_schema_text__nul_in_names(void)
{
	gh_policy_schema *s = NULL;
	gh_policy_error err;
	const ghp_entity_type *e;

	CHECK_INT(parse_text(&s, "entity A { \"a\\0b\": Long, \"a\": String }; action \"x\\0y\";",
			     &err), 0);
	e = s ? ghp_schema_entity_type(s, "A") : NULL;
	CHECK(e && e->attrs->nattrs == 2);
	if (e) {
		const ghp_attr *at = ghp_type_attr(e->attrs, "a\0b", 3);

		CHECK(at && at->name_len == 3 && at->type->kind == GHP_T_LONG);
		at = ghp_type_attr(e->attrs, "a", 1);
		CHECK(at && at->type->kind == GHP_T_STRING);
	}
	CHECK(s && ghp_schema_action_n(s, "Action", "x\0y", 3) != NULL);
	CHECK(s && ghp_schema_action(s, "Action", "x") == NULL);
	gh_policy_schema_free(s);
}

static void test_policy_schema__limits(void)
{
	size_t depth = GH_POLICY_MAX_DEPTH + 10, n = 0;
	char *text = malloc(depth * 5 + 64);
	gh_policy_schema *s = NULL;
	gh_policy_error err;

	if (!text)
		return;
	n += (size_t)sprintf(text, "entity A { a: ");
	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(text + n, "Set<");
	n += (size_t)sprintf(text + n, "Long");
	for (size_t i = 0; i < depth; i++)
		text[n++] = '>';
	sprintf(text + n, " };");
	CHECK_INT(parse_text(&s, text, &err), GH_POLICY_ETOOLARGE);
	CHECK(s == NULL && err.line == 1);
	free(text);

	/* nesting through common types counts too */
	text = malloc(40 * 400);
	if (!text)
		return;
	n = 0;
	for (int i = 0; i < 300; i++)
		n += (size_t)sprintf(text + n, "type T%d = Set<T%d>;\n", i, i + 1);
	sprintf(text + n, "type T300 = Long; entity A { a: T0 };");
	CHECK_INT(parse_text(&s, text, &err), GH_POLICY_ETOOLARGE);
	CHECK(s == NULL);
	free(text);

	CHECK_INT(gh_policy_schema_parse(&s, "entity A;", GH_POLICY_MAX_TEXT + 1, &err),
		  GH_POLICY_ETOOLARGE);
	CHECK_INT(gh_policy_schema_parse_json(&s, "{}", GH_POLICY_MAX_TEXT + 1, &err),
		  GH_POLICY_ETOOLARGE);
}

static void test_policy_schema_text__many_names_share_a_declaration(void)
{
	gh_policy_schema *s = NULL;
	gh_policy_error err;
	const ghp_entity_type *a, *b;
	const ghp_action *x, *y;

	CHECK_INT(parse_text(&s, "entity G; entity A, B in G { x: Set<Long> }; action p; "
				 "action x, y in p appliesTo { principal: [A, B], resource: G };",
			     &err), 0);
	if (!s)
		return;
	a = ghp_schema_entity_type(s, "A");
	b = ghp_schema_entity_type(s, "B");
	CHECK(a && b && a->nparents == 1 && b->nparents == 1 && a->attrs->nattrs == 1 &&
	      b->attrs->nattrs == 1 && b->attrs->attrs[0].type->kind == GHP_T_SET);
	x = ghp_schema_action(s, "Action", "x");
	y = ghp_schema_action(s, "Action", "y");
	CHECK(x && y && x->nprincipals == 2 && y->nprincipals == 2 && y->nparents == 1 &&
	      strcmp(y->parent_ids[0], "p") == 0 && y->nresources == 1);
	gh_policy_schema_free(s);
}

static void test_policy_schema__action_groups_are_capped(void)
{
	/* 1100 actions in the same 1000 groups: over a million memberships */
	size_t cap = 64 * 1024, n = 0;
	char *text = malloc(cap);
	gh_policy_schema *s = NULL;
	gh_policy_error err;

	if (!text)
		return;
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, cap - n, "action g%d;", i);
	n += (size_t)snprintf(text + n, cap - n, "action a0");
	for (int i = 1; i < 1100; i++)
		n += (size_t)snprintf(text + n, cap - n, ",a%d", i);
	n += (size_t)snprintf(text + n, cap - n, " in [g0");
	for (int i = 1; i < 1000; i++)
		n += (size_t)snprintf(text + n, cap - n, ",g%d", i);
	snprintf(text + n, cap - n, "];");
	CHECK_INT(parse_text(&s, text, &err), GH_POLICY_ETOOLARGE);
	CHECK(s == NULL && strstr(err.message, "action group") != NULL);
	free(text);
}

static void test_policy_schema_json__deep_nesting_is_refused(void)
{
	size_t depth = GH_POLICY_MAX_DEPTH + 5, n = 0;
	char *json = malloc(depth * 40 + 200);
	gh_policy_schema *s = NULL;
	gh_policy_error err;

	if (!json)
		return;
	n += (size_t)sprintf(json, "{\"\": {\"entityTypes\": {\"A\": {\"tags\": ");
	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(json + n, "{\"type\": \"Set\", \"element\": ");
	n += (size_t)sprintf(json + n, "{\"type\": \"Long\"}");
	for (size_t i = 0; i < depth; i++)
		json[n++] = '}';
	sprintf(json + n, "}}, \"actions\": {}}}");
	CHECK_INT(parse_json(&s, json, &err), GH_POLICY_ETOOLARGE);
	CHECK(s == NULL);
	free(json);
}

static void test_policy_schema__truncations_never_crash(void)
{
	char path[4200];
	size_t len;
	char *text;
	int failed;

	failed = truncations(rich_text, strlen(rich_text), 0);
	CHECK(failed > 0);
	failed = truncations(rich_json, strlen(rich_json), 1);
	CHECK(failed > 0);
	snprintf(path, sizeof(path), "%s/sample-data/sandbox_b/schema_exts.cedarschema",
		 shared_dir());
	text = read_file(path, &len);
	CHECK(text != NULL);
	if (text) {
		CHECK(truncations(text, len, 0) > 0);
		free(text);
	}
}

static void test_policy_schema__corpus_schemas_parse(void)
{
	char tarball[4200], cmd[8600], dir[4200];
	tally t = {0};
	int n;
	struct stat st;

	snprintf(tarball, sizeof(tarball), "%s/corpus-tests.tar.gz", shared_dir());
	if (stat(tarball, &st) != 0) {
		printf("    corpus: %s not found, skipped\n", tarball);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/cedar-corpus", gh_test_tmpdir());
	mkdir(dir, 0700);
	snprintf(cmd, sizeof(cmd), "tar xzf '%s' -C '%s'", tarball, dir);
	CHECK_INT(system(cmd), 0);
	n = walk(dir, ".cedarschema", parse_one, &t);
	printf("    corpus schemas: %d of %d parse\n", t.parsed, n);
	CHECK(n > 5000);
	CHECK_INT(t.failed, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("    could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"policy_schema_text__sample_schemas_parse", test_policy_schema_text__sample_schemas_parse},
		{"policy_schema_text__sandbox_b_model", test_policy_schema_text__sandbox_b_model},
		{"policy_schema_text__rich_model", test_policy_schema_text__rich_model},
		{"policy_schema_text__name_resolution", test_policy_schema_text__name_resolution},
		{"policy_schema_json__equals_text", test_policy_schema_json__equals_text},
		{"policy_schema_text__entity_shape_with_equals",
		 test_policy_schema_text__entity_shape_with_equals},
		{"policy_schema_text__rejects_with_positions",
		 test_policy_schema_text__rejects_with_positions},
		{"policy_schema_json__rejects", test_policy_schema_json__rejects},
		{"policy_schema_json__open_records_and_null_actions",
		 test_policy_schema_json__open_records_and_null_actions},
		{"policy_schema_text__nul_in_names", test_policy_schema_text__nul_in_names},
		{"policy_schema__limits", test_policy_schema__limits},
		{"policy_schema_text__many_names_share_a_declaration",
		 test_policy_schema_text__many_names_share_a_declaration},
		{"policy_schema__action_groups_are_capped", test_policy_schema__action_groups_are_capped},
		{"policy_schema_json__deep_nesting_is_refused",
		 test_policy_schema_json__deep_nesting_is_refused},
		{"policy_schema__truncations_never_crash", test_policy_schema__truncations_never_crash},
		{"policy_schema__corpus_schemas_parse", test_policy_schema__corpus_schemas_parse},
		{NULL, NULL}};

	return gh_test_run(cases, argc, argv);
}
