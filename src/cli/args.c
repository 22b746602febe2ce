/* args.c - the command line: splitting argv, options to JSON bodies and queries. */
#include "cli/cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gatehouse/errors.h"
#include "gatehouse/common.h"

/* Options that never take a value. */
static const char *const flags[] = {"json", "help", "all", "version", NULL};

/* The only options allowed before the command word (see gh_cli_parse). */
const char *const gh_cli_global_options[] = {"db", "server", "token", "json", "all", "help",
					     "version", NULL};

static int is_flag(const char *name)
{
	for (size_t i = 0; flags[i]; i++)
		if (strcmp(flags[i], name) == 0)
			return 1;
	return 0;
}

static int set_flag(gh_cli *c, const char *name)
{
	if (strcmp(name, "json") == 0)
		c->json = 1;
	else if (strcmp(name, "help") == 0)
		c->help = 1;
	else if (strcmp(name, "version") == 0)
		c->version = 1;
	else
		c->all = 1;
	return 0;
}

/* Levenshtein distance of a and b (each at most 64 bytes; longer: far). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[65], cur[65];

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *gh_cli_nearest(const char *word, const char *const candidates[])
{
	size_t len = strlen(word), max = len <= 4 ? 1 : len <= 8 ? 2 : 3, best = max + 1;
	const char *found = NULL;

	for (size_t i = 0; candidates && candidates[i]; i++) {
		size_t d = distance(word, candidates[i]);

		if (d < best) {
			best = d;
			found = candidates[i];
		}
	}
	return found;
}

int gh_cli_parse(gh_cli *out, int argc, char **argv)
{
	int i, options_done = 0;

	memset(out, 0, sizeof(*out));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *value = NULL;
		char name[GH_CLI_MAX_OPTNAME];
		size_t n;

		if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
			if (out->npos == GH_CLI_MAX_ARGS)
				return gh_error_set(GH_EINVALID, "too many arguments (at most %d)",
						    GH_CLI_MAX_ARGS);
			out->pos[out->npos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			options_done = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0) {
			out->help = 1;
			continue;
		}
		if (a[1] != '-' || a[2] == '\0' || a[2] == '-' || a[2] == '=')
			return gh_error_set(GH_EINVALID, "unknown option %s", a);
		a += 2;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		if (n >= sizeof(name))
			return gh_error_set(GH_EINVALID, "option --%.*s... is too long", 16, a);
		for (size_t k = 0; k < n; k++)
			name[k] = a[k] == '_' ? '-' : a[k];
		name[n] = '\0';
		/* before the command word only global options: an unknown one must
		 * not take the command word as its value */
		if (out->npos == 0) {
			size_t k;

			for (k = 0; gh_cli_global_options[k]; k++)
				if (strcmp(gh_cli_global_options[k], name) == 0)
					break;
			if (!gh_cli_global_options[k]) {
				const char *near = gh_cli_nearest(name, gh_cli_global_options);

				return near ? gh_error_set(GH_EINVALID, "unknown global option --%s;"
							   " did you mean --%s?", name, near)
					    : gh_error_set(GH_EINVALID, "unknown global option --%s",
							   name);
			}
		}
		if (is_flag(name)) {
			if (eq)
				return gh_error_set(GH_EINVALID, "option --%s takes no value", name);
			set_flag(out, name);
			continue;
		}
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
			value = argv[++i];
		if (strcmp(name, "db") == 0 || strcmp(name, "server") == 0 ||
		    strcmp(name, "token") == 0) {
			if (!value)
				return gh_error_set(GH_EINVALID, "option --%s needs a value", name);
			if (name[0] == 'd')
				out->db = value;
			else if (name[0] == 's')
				out->server = value;
			else
				out->token = value;
			continue;
		}
		if (out->nopt == GH_CLI_MAX_ARGS)
			return gh_error_set(GH_EINVALID, "too many options (at most %d)",
					    GH_CLI_MAX_ARGS);
		memcpy(out->opt[out->nopt].name, name, n + 1);
		out->opt[out->nopt].value = value;
		out->nopt++;
	}
	return 0;
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

int gh_cli_db_is_url(const char *db)
{
	return db && (strncasecmp(db, "postgresql://", 13) == 0 ||
		      strncasecmp(db, "postgres://", 11) == 0);
}

void gh_cli_db_redact(char *out, size_t outlen, const char *db)
{
	const char *start, *p, *at;
	size_t o = 0, host_end;

	if (!outlen)
		return;
	out[0] = '\0';
	if (!db)
		return;
	if (!gh_cli_db_is_url(db)) {
		snprintf(out, outlen, "%s", db);
		return;
	}
	start = strstr(db, "://") + 3;
	host_end = strcspn(start, "/?");
	p = db;
#define PUT(ch) do { if (o + 1 < outlen) out[o++] = (ch); } while (0)
	/* user:password@host: keep "user", drop ":password" */
	if ((at = memchr(start, '@', host_end)) != NULL) {
		const char *colon = memchr(start, ':', (size_t)(at - start));

		if (colon) {
			while (p < colon)
				PUT(*p++);
			p = at;
		}
	}
	while (*p) {
		/* ...?password=x&... in the query: left out up to the next '&' */
		if (p > start + host_end && (p[-1] == '?' || p[-1] == '&') &&
		    strncasecmp(p, "password=", 9) == 0) {
			p += strcspn(p, "&");
			if (*p == '&')
				p++;
			else if (o > 0 && (out[o - 1] == '&' || out[o - 1] == '?'))
				o--;
			continue;
		}
		PUT(*p++);
	}
#undef PUT
	out[o] = '\0';
}

void gh_cli_defaults(gh_cli *c)
{
	if (!c->db)
		c->db = env_or("GATEHOUSE_DB", GH_CLI_DEFAULT_DB);
	gh_cli_db_redact(c->db_shown, sizeof(c->db_shown), c->db);
	if (!c->server)
		c->server = env_or("GATEHOUSE_SERVER", GH_CLI_DEFAULT_SERVER);
	if (!c->token)
		c->token = env_or("GATEHOUSE_TOKEN", NULL);
}

static const gh_cli_opt *find(const gh_cli *c, const char *name)
{
	const gh_cli_opt *found = NULL;

	/* the last one wins, as with most commands */
	for (int i = 0; i < c->nopt; i++)
		if (strcmp(c->opt[i].name, name) == 0)
			found = &c->opt[i];
	return found;
}

const char *gh_cli_get(const gh_cli *c, const char *name)
{
	const gh_cli_opt *o = find(c, name);

	return o ? o->value : NULL;
}

int gh_cli_has(const gh_cli *c, const char *name)
{
	return find(c, name) != NULL;
}

int gh_cli_check_options(const gh_cli *c, const char *what, const char *const allowed[])
{
	for (int i = 0; i < c->nopt; i++) {
		const char *near;
		size_t k;

		for (k = 0; allowed && allowed[k]; k++)
			if (strcmp(allowed[k], c->opt[i].name) == 0)
				break;
		if (allowed && allowed[k])
			continue;
		if ((near = gh_cli_nearest(c->opt[i].name, allowed)))
			return gh_error_set(GH_EINVALID, "unknown option --%s for '%s'; did you"
					    " mean --%s?", c->opt[i].name, what, near);
		return gh_error_set(GH_EINVALID, "unknown option --%s for '%s'",
				    c->opt[i].name, what);
	}
	return 0;
}

static int parse_bool(int *out, const char *s)
{
	static const char *const yes[] = {"true", "yes", "1", "on", NULL};
	static const char *const no[] = {"false", "no", "0", "off", NULL};

	for (size_t i = 0; yes[i]; i++)
		if (strcmp(s, yes[i]) == 0)
			return *out = 1, 0;
	for (size_t i = 0; no[i]; i++)
		if (strcmp(s, no[i]) == 0)
			return *out = 0, 0;
	return GH_EINVALID;
}

static int parse_int(long long *out, const char *s)
{
	char *end;

	if (!*s || !(*s == '-' || (*s >= '0' && *s <= '9')))
		return GH_EINVALID;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? GH_EINVALID : 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static json_t *split_list(const char *s)
{
	json_t *a = json_array();
	const char *p = s;

	if (!a || !*s)
		return a;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		/* skip blanks around items: "a, b" is two names */
		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && json_array_append_new(a, json_stringn(p, n))) {
			json_decref(a);
			return NULL;
		}
		if (!comma)
			return a;
		p = comma + 1;
	}
}


#define FILE_TEXT_MAX (1024 * 1024)

/* The text of path ("-": standard input) as a JSON string; NULL with the
 * error set when it cannot be read, is too large or is not UTF-8. */
static json_t *file_text(const char *option, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;
	json_t *v;

	if (!f) {
		gh_error_set(GH_EINVALID, "option --%s %s: %s", option, path, strerror(errno));
		return NULL;
	}
	if (!(buf = malloc(FILE_TEXT_MAX + 1))) {
		if (f != stdin)
			fclose(f);
		gh_error_set(GH_ERROR, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, FILE_TEXT_MAX + 1, f);
	if (f != stdin)
		fclose(f);
	if (n > FILE_TEXT_MAX) {
		free(buf);
		gh_error_set(GH_EINVALID, "option --%s %s: more than %d bytes", option, path,
			     FILE_TEXT_MAX);
		return NULL;
	}
	v = json_stringn(buf, n);
	free(buf);
	if (!v)
		gh_error_set(GH_EINVALID, "option --%s %s: not UTF-8 text", option, path);
	return v;
}

/* The JSON value for one option's text, or NULL with the error set. */
static json_t *field_value(const gh_cli_field *f, const char *text)
{
	json_t *v = NULL;
	long long n;
	int b;

	if (!text && f->type != GH_CLI_BOOL) {
		gh_error_set(GH_EINVALID, "option --%s needs a value", f->option);
		return NULL;
	}
	switch (f->type) {
	case GH_CLI_STRING:
		v = json_string(text);
		break;
	case GH_CLI_BOOL:
		if (!text)
			b = 1;
		else if (parse_bool(&b, text)) {
			gh_error_set(GH_EINVALID, "option --%s: expected true or false, not '%s'",
				     f->option, text);
			return NULL;
		}
		v = json_boolean(b);
		break;
	case GH_CLI_LIST:
		v = split_list(text);
		break;
	case GH_CLI_FILE:
		v = file_text(f->option, text);
		if (!v)
			return NULL;
		break;
	case GH_CLI_OBJECT:
		if (gh_json_parse(&v, text, strlen(text))) {
			gh_error_set(GH_EINVALID, "option --%s: %s", f->option,
				     gh_error_last()->message);
			return NULL;
		}
		if (!json_is_object(v)) {
			json_decref(v);
			gh_error_set(GH_EINVALID, "option --%s: expected a JSON object", f->option);
			return NULL;
		}
		break;
	case GH_CLI_DURATION:
		if (all_digits(text) && !parse_int(&n, text))
			v = json_integer(n);
		else
			v = json_string(text);
		break;
	case GH_CLI_INT:
		if (parse_int(&n, text)) {
			gh_error_set(GH_EINVALID, "option --%s: expected a whole number, not '%s'",
				     f->option, text);
			return NULL;
		}
		v = json_integer(n);
		break;
	}
	if (!v)
		gh_error_set(GH_EINVALID, "option --%s: not valid text", f->option);
	return v;
}

/* Reads at most GH_JSON_MAX_BODY bytes of path ("-" for stdin). */
static int read_body(json_t **out, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, n;
	int rc = 0;

	*out = NULL;
	if (!f)
		return gh_error_set(GH_EINVALID, "--body %s: %s", path, strerror(errno));
	if (!(buf = malloc(GH_JSON_MAX_BODY + 1))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	/* one byte past the cap tells a full file from an over-long one */
	while (len <= GH_JSON_MAX_BODY &&
	       (n = fread(buf + len, 1, GH_JSON_MAX_BODY + 1 - len, f)) > 0)
		len += n;
	if (ferror(f)) {
		rc = gh_error_set(GH_EINVALID, "--body %s: read error", path);
		goto cleanup;
	}
	if (len > GH_JSON_MAX_BODY) {
		rc = gh_error_set(GH_EINVALID, "--body %s: more than %d bytes", path,
				  GH_JSON_MAX_BODY);
		goto cleanup;
	}
	if (gh_json_parse(out, buf, len)) {
		rc = gh_error_set(GH_EINVALID, "--body %s: %s", path, gh_error_last()->message);
		goto cleanup;
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		rc = gh_error_set(GH_EINVALID, "--body %s: expected a JSON object", path);
	}
cleanup:
	free(buf);
	if (f != stdin)
		fclose(f);
	return rc;
}

int gh_cli_body(json_t **out, const gh_cli *c, const gh_cli_field *fields)
{
	json_t *body = NULL;
	int rc;

	*out = NULL;
	if (gh_cli_has(c, "body")) {
		const char *path = gh_cli_get(c, "body");

		if (!path)
			return gh_error_set(GH_EINVALID, "option --body needs a file name or -");
		if ((rc = read_body(&body, path)))
			return rc;
	} else if (!(body = json_object())) {
		return gh_error_set(GH_ERROR, "out of memory");
	}
	for (const gh_cli_field *f = fields; f && f->option; f++) {
		json_t *v;

		if (!gh_cli_has(c, f->option))
			continue;
		if (!(v = field_value(f, gh_cli_get(c, f->option)))) {
			json_decref(body);
			return GH_EINVALID;
		}
		json_object_set_new(body, f->key, v);
	}
	*out = body;
	return 0;
}

char *gh_cli_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *p = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*p++ = (char)ch;
		} else {
			*p++ = '%';
			*p++ = hex[ch >> 4];
			*p++ = hex[ch & 15];
		}
	}
	*p = '\0';
	return out;
}

/* A growable string with a hard cap, enough for URLs. */
typedef struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
} sbuf;

#define SBUF_MAX (64 * 1024)

static void sb_add(sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > SBUF_MAX || !(p = realloc(b->p, cap))) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void sb_add_escaped(sbuf *b, const char *s)
{
	char *e = gh_cli_escape(s);

	if (!e) {
		b->failed = 1;
		return;
	}
	sb_add(b, e);
	free(e);
}

static int sb_finish(char **out, sbuf *b)
{
	if (b->failed) {
		free(b->p);
		*out = NULL;
		return gh_error_set(GH_ETOOLARGE, "the URL is too long");
	}
	if (!b->p)
		b->p = strdup("");
	*out = b->p;
	return *out ? 0 : gh_error_set(GH_ERROR, "out of memory");
}

static void query_pair(sbuf *b, const char *key, const char *value)
{
	sb_add(b, b->len ? "&" : "?");
	sb_add_escaped(b, key);
	sb_add(b, "=");
	sb_add_escaped(b, value);
}

int gh_cli_query(char **out, const gh_cli *c, const gh_cli_field *fields,
		 const char *extra_key, const char *extra_value)
{
	sbuf b = {0};

	*out = NULL;
	for (const gh_cli_field *f = fields; f && f->option; f++) {
		const char *v;
		long long n;
		int bv;

		if (!gh_cli_has(c, f->option))
			continue;
		/* the extra pair (a paging cursor) replaces the option's own */
		if (extra_key && extra_value && strcmp(extra_key, f->key) == 0)
			continue;
		v = gh_cli_get(c, f->option);
		if (!v && f->type == GH_CLI_BOOL)
			v = "true";
		if (!v) {
			free(b.p);
			return gh_error_set(GH_EINVALID, "option --%s needs a value", f->option);
		}
		if (f->type == GH_CLI_INT && parse_int(&n, v)) {
			free(b.p);
			return gh_error_set(GH_EINVALID, "option --%s: expected a whole number, not '%s'",
					    f->option, v);
		}
		if (f->type == GH_CLI_BOOL) {
			if (parse_bool(&bv, v)) {
				free(b.p);
				return gh_error_set(GH_EINVALID,
						    "option --%s: expected true or false, not '%s'",
						    f->option, v);
			}
			v = bv ? "true" : "false";
		}
		query_pair(&b, f->key, v);
	}
	if (extra_key && extra_value)
		query_pair(&b, extra_key, extra_value);
	return sb_finish(out, &b);
}

int gh_cli_path(char **out, const char *tmpl, const char *const args[], int nargs)
{
	sbuf b = {0};
	int used = 0;
	char piece[2] = {0};

	*out = NULL;
	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '{' && p[1] == '}') {
			if (used == nargs) {
				free(b.p);
				return gh_error_set(GH_EINVALID, "too few arguments");
			}
			if (!*args[used]) {
				free(b.p);
				return gh_error_set(GH_EINVALID, "an empty argument is not a reference");
			}
			sb_add_escaped(&b, args[used++]);
			p++;
			continue;
		}
		piece[0] = *p;
		sb_add(&b, piece);
	}
	if (used != nargs) {
		free(b.p);
		return gh_error_set(GH_EINVALID, "too many arguments");
	}
	return sb_finish(out, &b);
}
