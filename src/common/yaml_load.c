/* yaml_load.c - strict YAML (libyaml events) to JSON, and schema checks that name path and line:column. */
#include "common/yaml_load.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/error.h"

/* One open mapping or sequence while the events arrive. */
typedef struct frame {
	json_t *node;            /* borrowed: owned by its parent or the doc */
	int is_map;
	size_t index;            /* sequence: the next item's index */
	char *key;               /* mapping: the key waiting for its value */
	char path[GH_YAML_MAX_PATH];
} frame;

typedef struct loader {
	gh_yaml_doc *d;
	frame stack[GH_YAML_MAX_DEPTH + 1];
	int depth;
	int documents;
	int oom;
} loader;

static int is_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

void gh_yaml_path_key(char *out, const char *parent, const char *key)
{
	if (is_word(key)) {
		snprintf(out, GH_YAML_MAX_PATH, "%s%s%s", parent, *parent ? "." : "", key);
		return;
	}
	/* a key that would read ambiguously in a dotted path: ["a.b"] */
	json_t *s = json_string(key);
	char *q = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;

	snprintf(out, GH_YAML_MAX_PATH, "%s[%s]", parent, q ? q : "\"?\"");
	free(q);
	json_decref(s);
}

void gh_yaml_path_index(char *out, const char *parent, size_t index)
{
	snprintf(out, GH_YAML_MAX_PATH, "%s[%zu]", parent, index);
}

static void add_problem(gh_yaml_doc *d, const char *path, long line, long col, const char *msg)
{
	json_t *p;

	if (!d->problems && !(d->problems = json_array()))
		return;
	if (json_array_size(d->problems) >= GH_YAML_MAX_PROBLEMS) {
		d->dropped++;
		return;
	}
	p = json_pack("{s:s, s:I, s:I, s:s}", "path", path, "line", (json_int_t)line, "column",
		      (json_int_t)col, "message", msg);
	if (p)
		json_array_append_new(d->problems, p);
}

/* line:column of path, else of its nearest ancestor, else 0:0. */
static void position_of(const gh_yaml_doc *d, const char *path, long *line, long *col)
{
	char buf[GH_YAML_MAX_PATH];
	json_t *pos;

	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		if ((pos = json_object_get(d->where, buf))) {
			*line = (long)json_integer_value(json_array_get(pos, 0));
			*col = (long)json_integer_value(json_array_get(pos, 1));
			return;
		}
		if (!*buf)
			break;
		/* drop the last ".key", "[n]" or ["key"] */
		size_t n = strlen(buf);
		char *cut = NULL;

		if (buf[n - 1] == ']') {
			int quoted = n >= 2 && buf[n - 2] == '"';

			for (size_t i = n - 1; i-- > 0;)
				if (buf[i] == '[' && (!quoted || buf[i + 1] == '"')) {
					cut = buf + i;
					break;
				}
		} else {
			cut = strrchr(buf, '.');
		}
		if (cut)
			*cut = '\0';
		else
			buf[0] = '\0';
	}
	*line = 0;
	*col = 0;
}

void gh_yaml_problem(gh_yaml_doc *d, const char *path, const char *fmt, ...)
{
	char msg[512];
	long line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	position_of(d, path, &line, &col);
	add_problem(d, path, line, col, msg);
}

static void problem_at(loader *l, const char *path, const yaml_mark_t *m, const char *msg)
{
	add_problem(l->d, path, (long)m->line + 1, (long)m->column + 1, msg);
}

static void remember(loader *l, const char *path, const yaml_mark_t *m)
{
	json_t *pos = json_pack("[I, I]", (json_int_t)m->line + 1, (json_int_t)m->column + 1);

	if (!pos || json_object_set_new(l->d->where, path, pos))
		l->oom = 1;
}

/* Where a new value goes: its path, and 0; or -1 after recording why it cannot. */
static int place(loader *l, char *path, const yaml_mark_t *m, json_t *value)
{
	frame *top = l->depth ? &l->stack[l->depth - 1] : NULL;
	int rc = 0;

	if (!top) {
		if (l->d->root) {
			problem_at(l, "", m, "only one document is allowed");
			json_decref(value);
			return -1;
		}
		path[0] = '\0';
		l->d->root = value;
		remember(l, path, m);
		return 0;
	}
	if (top->is_map) {
		gh_yaml_path_key(path, top->path, top->key);
		if (json_object_set_new(top->node, top->key, value))
			rc = -1, l->oom = 1;
		free(top->key);
		top->key = NULL;
		return rc;
	}
	gh_yaml_path_index(path, top->path, top->index++);
	remember(l, path, m);
	if (json_array_append_new(top->node, value))
		rc = -1, l->oom = 1;
	return rc;
}

/* Anchors and tags make a file mean more than it says: refused, reading goes on. */
static void refuse_extras(loader *l, const char *path, const yaml_mark_t *m,
			  const yaml_char_t *anchor, const yaml_char_t *tag)
{
	char msg[200];

	if (anchor) {
		snprintf(msg, sizeof(msg), "anchors are not allowed (&%.60s)", (const char *)anchor);
		problem_at(l, path, m, msg);
	}
	if (tag) {
		snprintf(msg, sizeof(msg), "tags are not allowed (%.60s)", (const char *)tag);
		problem_at(l, path, m, msg);
	}
}

/* The path the next value would have (for problems found before it exists). */
static void next_path(loader *l, char *out)
{
	frame *top = l->depth ? &l->stack[l->depth - 1] : NULL;

	if (!top)
		out[0] = '\0';
	else if (top->is_map && top->key)
		gh_yaml_path_key(out, top->path, top->key);
	else if (!top->is_map)
		gh_yaml_path_index(out, top->path, top->index);
	else
		memcpy(out, top->path, GH_YAML_MAX_PATH);
}

/* A scalar that is a mapping key. 0, or -1 when reading must stop. */
static int take_key(loader *l, frame *top, const yaml_event_t *e)
{
	const char *v = (const char *)e->data.scalar.value;
	size_t n = e->data.scalar.length;
	char path[GH_YAML_MAX_PATH];

	if (memchr(v, '\0', n)) {
		problem_at(l, top->path, &e->start_mark, "a key holds a NUL character");
		return -1;
	}
	if (!(top->key = strdup(v))) {
		l->oom = 1;
		return -1;
	}
	gh_yaml_path_key(path, top->path, top->key);
	refuse_extras(l, path, &e->start_mark, e->data.scalar.anchor, e->data.scalar.tag);
	if (json_object_get(top->node, top->key))
		problem_at(l, path, &e->start_mark, "duplicate key");
	remember(l, path, &e->start_mark);
	return 0;
}

static int on_event(loader *l, const yaml_event_t *e)
{
	frame *top = l->depth ? &l->stack[l->depth - 1] : NULL;
	char path[GH_YAML_MAX_PATH];
	json_t *v;

	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (l->documents++) {
			problem_at(l, "", &e->start_mark, "only one document is allowed");
			return -1;
		}
		if (e->data.document_start.tag_directives.start !=
		    e->data.document_start.tag_directives.end)
			problem_at(l, "", &e->start_mark, "%TAG directives are not allowed");
		return 0;
	case YAML_ALIAS_EVENT:
		next_path(l, path);
		problem_at(l, path, &e->start_mark, "aliases are not allowed");
		return -1;
	case YAML_SCALAR_EVENT:
		if (top && top->is_map && !top->key)
			return take_key(l, top, e);
		if (memchr(e->data.scalar.value, '\0', e->data.scalar.length)) {
			next_path(l, path);
			problem_at(l, path, &e->start_mark, "a value holds a NUL character");
			return -1;
		}
		v = json_stringn((const char *)e->data.scalar.value, e->data.scalar.length);
		if (!v || place(l, path, &e->start_mark, v)) {
			l->oom |= !v;
			return -1;
		}
		refuse_extras(l, path, &e->start_mark, e->data.scalar.anchor, e->data.scalar.tag);
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int is_map = e->type == YAML_MAPPING_START_EVENT;

		if (top && top->is_map && !top->key) {
			problem_at(l, top->path, &e->start_mark,
				   "a key must be a plain or quoted scalar");
			return -1;
		}
		if (l->depth >= GH_YAML_MAX_DEPTH) {
			next_path(l, path);
			problem_at(l, path, &e->start_mark, "nested too deeply (at most 32 levels)");
			return -1;
		}
		v = is_map ? json_object() : json_array();
		if (!v || place(l, path, &e->start_mark, v)) {
			l->oom |= !v;
			return -1;
		}
		if (is_map)
			refuse_extras(l, path, &e->start_mark, e->data.mapping_start.anchor,
				      e->data.mapping_start.tag);
		else
			refuse_extras(l, path, &e->start_mark, e->data.sequence_start.anchor,
				      e->data.sequence_start.tag);
		top = &l->stack[l->depth++];
		memset(top, 0, sizeof(*top));
		top->node = v;
		top->is_map = is_map;
		memcpy(top->path, path, sizeof(top->path));
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (top) {
			free(top->key);
			top->key = NULL;
			l->depth--;
		}
		return 0;
	default:
		return 0;
	}
}

int gh_yaml_load(gh_yaml_doc *out, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t e;
	loader l;
	int done = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	l.d = out;
	if (!(out->where = json_object()) || !(out->problems = json_array()))
		return gh_error_set(GH_ERROR, "out of memory");
	if (len > GH_YAML_MAX_BYTES) {
		add_problem(out, "", 1, 1, "the file is larger than 1 MiB");
		return gh_error_set(GH_ETOOLARGE, "the file is larger than 1 MiB");
	}
	if (!yaml_parser_initialize(&parser))
		return gh_error_set(GH_ERROR, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &e)) {
			char msg[300];

			snprintf(msg, sizeof(msg), "%s%s%s", parser.problem ? parser.problem :
				 "malformed YAML", parser.context ? " " : "",
				 parser.context ? parser.context : "");
			char path[GH_YAML_MAX_PATH];

			next_path(&l, path);
			add_problem(out, path, (long)parser.problem_mark.line + 1,
				    (long)parser.problem_mark.column + 1, msg);
			break;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		if (on_event(&l, &e))
			done = 1;
		yaml_event_delete(&e);
		if (l.oom)
			break;
	}
	for (int i = 0; i < l.depth; i++)
		free(l.stack[i].key);
	yaml_parser_delete(&parser);
	if (l.oom)
		return gh_error_set(GH_ERROR, "out of memory");
	if (json_array_size(out->problems) || out->dropped) {
		/* a partial tree would only mislead the schema check */
		rc = gh_error_set(GH_EINVALID, "the file is not valid YAML for gatehouse");
	}
	return rc;
}

void gh_yaml_doc_free(gh_yaml_doc *d)
{
	if (!d)
		return;
	json_decref(d->root);
	json_decref(d->where);
	json_decref(d->problems);
	memset(d, 0, sizeof(*d));
}

static int by_position(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t lx = json_integer_value(json_object_get(x, "line"));
	json_int_t ly = json_integer_value(json_object_get(y, "line"));
	json_int_t cx = json_integer_value(json_object_get(x, "column"));
	json_int_t cy = json_integer_value(json_object_get(y, "column"));

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return cx < cy ? -1 : cx > cy;
}

void gh_yaml_print_problems(FILE *f, const gh_yaml_doc *d, const char *file)
{
	size_t n = json_array_size(d->problems);
	json_t **sorted = n ? calloc(n, sizeof(*sorted)) : NULL;

	for (size_t i = 0; i < n; i++) {
		if (sorted)
			sorted[i] = json_array_get(d->problems, i);
	}
	/* stable enough: positions are distinct or the same problem */
	if (sorted)
		qsort(sorted, n, sizeof(*sorted), by_position);
	for (size_t i = 0; i < n; i++) {
		const json_t *p = sorted ? sorted[i] : json_array_get(d->problems, i);
		const char *path = json_string_value(json_object_get(p, "path"));

		fprintf(f, "%s:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT ": %s%s%s\n", file,
			json_integer_value(json_object_get(p, "line")),
			json_integer_value(json_object_get(p, "column")), path ? path : "",
			path && *path ? ": " : "",
			json_string_value(json_object_get(p, "message")));
	}
	if (d->dropped)
		fprintf(f, "%s: and %zu more problems\n", file, d->dropped);
	free(sorted);
}

/* --- schema checks --------------------------------------------------------- */

static const char *kind_name(const json_t *v)
{
	if (json_is_object(v))
		return "a mapping";
	if (json_is_array(v))
		return "a list";
	return "a scalar";
}

static void check_node(gh_yaml_doc *d, json_t *parent, const char *key, size_t index,
		       json_t *v, const char *path, const gh_yaml_schema *s);

static void check_string(gh_yaml_doc *d, json_t *v, const char *path, const gh_yaml_schema *s)
{
	const char *str = json_string_value(v), *why;
	size_t max = s->max ? s->max : 1024;

	if (!str) {
		gh_yaml_problem(d, path, "must be a scalar, not %s", kind_name(v));
		return;
	}
	if (json_string_length(v) > max) {
		gh_yaml_problem(d, path, "is longer than %zu bytes", max);
		return;
	}
	if (s->values) {
		size_t i;
		char list[256] = "";

		for (i = 0; s->values[i]; i++)
			if (strcmp(s->values[i], str) == 0)
				return;
		for (i = 0; s->values[i]; i++) {
			size_t n = strlen(list);

			snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", s->values[i]);
		}
		gh_yaml_problem(d, path, "must be one of %s, not \"%.60s\"", list, str);
		return;
	}
	if (s->check && (why = s->check(str)))
		gh_yaml_problem(d, path, "%s", why);
}

/* Replaces the scalar at parent[key] or parent[index] with value. */
static void replace(gh_yaml_doc *d, json_t *parent, const char *key, size_t index,
		    json_t *value)
{
	if (!parent) {
		json_decref(d->root);
		d->root = value;
	} else if (key)
		json_object_set_new(parent, key, value);
	else
		json_array_set_new(parent, index, value);
}

static void check_scalar_typed(gh_yaml_doc *d, json_t *parent, const char *key, size_t index,
			       json_t *v, const char *path, const gh_yaml_schema *s)
{
	const char *str = json_string_value(v);

	if (!str) {
		gh_yaml_problem(d, path, "must be %s, not %s",
				s->kind == GH_YAML_BOOL ? "true or false" : "a whole number",
				kind_name(v));
		return;
	}
	if (s->kind == GH_YAML_BOOL) {
		if (strcmp(str, "true") == 0 || strcmp(str, "false") == 0)
			replace(d, parent, key, index, json_boolean(str[0] == 't'));
		else
			gh_yaml_problem(d, path, "must be true or false, not \"%.60s\"", str);
		return;
	}
	char *end;
	long long n;

	errno = 0;
	n = strtoll(str, &end, 10);
	if (!*str || *end || errno || (str[0] == '0' && str[1]) || str[0] == '+' ||
	    n < s->min_int || n > s->max_int) {
		gh_yaml_problem(d, path, "must be a whole number from %lld to %lld, not \"%.60s\"",
				s->min_int, s->max_int, str);
		return;
	}
	replace(d, parent, key, index, json_integer((json_int_t)n));
}

static void check_map(gh_yaml_doc *d, json_t *v, const char *path, const gh_yaml_schema *s)
{
	char child[GH_YAML_MAX_PATH];
	const char *key;
	json_t *value;
	void *tmp;

	if (!json_is_object(v)) {
		gh_yaml_problem(d, path, "must be a mapping, not %s", kind_name(v));
		return;
	}
	json_object_foreach_safe(v, tmp, key, value) {
		const gh_yaml_key *k;

		for (k = s->keys; k->name; k++)
			if (strcmp(k->name, key) == 0)
				break;
		gh_yaml_path_key(child, path, key);
		if (!k->name) {
			char list[300] = "";

			for (k = s->keys; k->name; k++) {
				size_t n = strlen(list);

				snprintf(list + n, sizeof(list) - n, "%s%s", k == s->keys ? "" : ", ",
					 k->name);
			}
			gh_yaml_problem(d, child, "unknown key (expected one of %s)", list);
			continue;
		}
		check_node(d, v, key, 0, value, child, k->schema);
	}
	for (const gh_yaml_key *k = s->keys; k->name; k++)
		if (k->required && !json_object_get(v, k->name))
			gh_yaml_problem(d, path, "missing required key \"%s\"", k->name);
}

/* A free mapping (attributes): any keys and values, strings at the leaves. */
static void check_free(gh_yaml_doc *d, json_t *v, const char *path)
{
	if (!json_is_object(v))
		gh_yaml_problem(d, path, "must be a mapping, not %s", kind_name(v));
}

static void check_node(gh_yaml_doc *d, json_t *parent, const char *key, size_t index,
		       json_t *v, const char *path, const gh_yaml_schema *s)
{
	char child[GH_YAML_MAX_PATH];

	switch (s->kind) {
	case GH_YAML_STRING:
		check_string(d, v, path, s);
		break;
	case GH_YAML_BOOL:
	case GH_YAML_INT:
		check_scalar_typed(d, parent, key, index, v, path, s);
		break;
	case GH_YAML_MAP:
		check_map(d, v, path, s);
		break;
	case GH_YAML_FREE_MAP:
		check_free(d, v, path);
		break;
	case GH_YAML_SCALAR_OR_MAP:
		if (json_is_object(v))
			check_map(d, v, path, s);
		else if (json_is_string(v))
			check_node(d, parent, key, index, v, path, s->item);
		else
			gh_yaml_problem(d, path, "must be a scalar or a mapping, not a list");
		break;
	case GH_YAML_LIST: {
		size_t max = s->max ? s->max : 10000;

		if (!json_is_array(v)) {
			gh_yaml_problem(d, path, "must be a list, not %s", kind_name(v));
			break;
		}
		if (json_array_size(v) > max) {
			gh_yaml_problem(d, path, "has more than %zu items", max);
			break;
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			gh_yaml_path_index(child, path, i);
			check_node(d, v, NULL, i, json_array_get(v, i), child, s->item);
		}
		break;
	}
	}
}

void gh_yaml_check_at(gh_yaml_doc *d, json_t *parent, const char *key, const char *path,
		      const gh_yaml_schema *schema)
{
	json_t *v = json_object_get(parent, key);

	if (v)
		check_node(d, parent, key, 0, v, path, schema);
}

int gh_yaml_check(gh_yaml_doc *d, const gh_yaml_schema *schema)
{
	if (!d->root)
		gh_yaml_problem(d, "", "the file holds no document (expected a mapping)");
	else
		check_node(d, NULL, NULL, 0, d->root, "", schema);
	if (json_array_size(d->problems) || d->dropped)
		return gh_error_set(GH_EINVALID, "%zu problems in the file",
				    json_array_size(d->problems) + d->dropped);
	return 0;
}
