/* table.c - printing JSON answers for people: aligned columns and key/value lines. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "gatehouse/errors.h"

/* Copies at most GH_TABLE_MAX_CELL bytes of s, control characters shown as
 * '?', and marks a cut with "..." so that a cell never breaks the layout. */
static char *cell_text(const char *s)
{
	size_t n = strlen(s), keep = n, i;
	char *out;

	if (n > GH_TABLE_MAX_CELL) {
		keep = GH_TABLE_MAX_CELL - 3;
		/* do not cut a UTF-8 sequence in half */
		while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
			keep--;
	}
	if (!(out = malloc(keep + 4)))
		return NULL;
	for (i = 0; i < keep; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (keep < n)
		memcpy(out + i, "...", 3), i += 3;
	out[i] = '\0';
	return out;
}

/* --- nested values as words ------------------------------------------------ */

#define TEXT_MAX 4096            /* bytes of one value's text; more is cut */
#define TEXT_DEPTH 3             /* nesting shown; deeper values read "..." */

typedef struct tbuf {
	char p[TEXT_MAX + 4];
	size_t len;
	int cut;
} tbuf;

static void put(tbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->cut)
		return;
	if (b->len + n > TEXT_MAX) {
		n = TEXT_MAX - b->len;
		b->cut = 1;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	if (b->cut)
		memcpy(b->p + b->len, "...", 3), b->len += 3;
	b->p[b->len] = '\0';
}

static void put_value(tbuf *b, const char *key, const json_t *v, int depth);

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A decision as stored with a request or shown in evidence:
 * "approval_required, 2 approvals: <reasons>; policy builtin-1 (p1, p2)". */
static void put_decision(tbuf *b, const json_t *d)
{
	const json_t *reasons = json_object_get(d, "reasons");
	const json_t *determining = json_object_get(d, "determining");
	json_int_t need = json_integer_value(json_object_get(d, "required_approvals"));
	char num[48];
	size_t i;

	put(b, str(d, "outcome"));
	if (need > 0) {
		snprintf(num, sizeof(num), ", %" JSON_INTEGER_FORMAT " approval%s", need,
			 need == 1 ? "" : "s");
		put(b, num);
	}
	for (i = 0; i < json_array_size(reasons); i++) {
		put(b, i ? "; " : ": ");
		put_value(b, NULL, json_array_get(reasons, i), TEXT_DEPTH);
	}
	if (str(d, "policy_version")) {
		put(b, "; policy ");
		put(b, str(d, "policy_version"));
	}
	for (i = 0; i < json_array_size(determining); i++) {
		const char *id = str(json_array_get(determining, i), "policy");

		put(b, i ? ", " : " (");
		put(b, id ? id : "?");
		if (i + 1 == json_array_size(determining))
			put(b, ")");
	}
}

/* What activating a policy did: "requests: 12 evaluated, 1 changed;
 * grants: 40 evaluated, 2 revocation candidates". */
static void put_effects(tbuf *b, const json_t *e)
{
	const json_t *rq = json_object_get(e, "requests"), *gr = json_object_get(e, "grants");
	char line[160];

	snprintf(line, sizeof(line),
		 "requests: %" JSON_INTEGER_FORMAT " evaluated, %zu changed; grants: %"
		 JSON_INTEGER_FORMAT " evaluated, %zu revocation candidate%s",
		 json_integer_value(json_object_get(rq, "evaluated")),
		 json_array_size(json_object_get(rq, "flips")),
		 json_integer_value(json_object_get(gr, "evaluated")),
		 json_array_size(json_object_get(gr, "revocation_candidates")),
		 json_array_size(json_object_get(gr, "revocation_candidates")) == 1 ? "" : "s");
	put(b, line);
}

static void put_value(tbuf *b, const char *key, const json_t *v, int depth)
{
	char buf[64];
	const char *k;
	json_t *m;
	size_t i;
	int first = 1;

	switch (json_typeof(v)) {
	case JSON_STRING:
		put(b, json_string_value(v));
		return;
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		put(b, buf);
		return;
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		put(b, buf);
		return;
	case JSON_TRUE:
		put(b, "yes");
		return;
	case JSON_FALSE:
		put(b, "no");
		return;
	case JSON_NULL:
		put(b, "-");
		return;
	case JSON_ARRAY:
		if (json_array_size(v) == 0)
			put(b, "-");
		for (i = 0; i < json_array_size(v); i++) {
			if (i)
				put(b, ", ");
			put_value(b, NULL, json_array_get(v, i), depth + 1);
		}
		return;
	case JSON_OBJECT:
		break;
	}
	if (depth >= TEXT_DEPTH) {
		put(b, "...");
		return;
	}
	if (str(v, "outcome") && json_is_array(json_object_get(v, "reasons"))) {
		put_decision(b, v);
		return;
	}
	if (key && strcmp(key, "effects") == 0 && json_is_object(json_object_get(v, "requests"))) {
		put_effects(b, v);
		return;
	}
	/* an object people know by name: "erin", "billing-db/read-write" */
	if (str(v, "name")) {
		const json_t *sys = json_object_get(v, "system");
		const char *sys_name = json_is_object(sys) ? str(sys, "name") : NULL;

		if (sys_name) {
			put(b, sys_name);
			put(b, "/");
		}
		put(b, str(v, "name"));
		return;
	}
	json_object_foreach((json_t *)v, k, m) {
		if (json_is_null(m))
			continue;
		put(b, first ? "" : ", ");
		put(b, k);
		put(b, ": ");
		put_value(b, k, m, depth + 1);
		first = 0;
	}
	if (first)
		put(b, "-");
}

char *gh_table_text(const char *key, const json_t *v)
{
	tbuf *b = calloc(1, sizeof(*b));
	char *out;

	if (!b)
		return NULL;
	put_value(b, key, v, 0);
	out = strdup(b->p);
	free(b);
	return out;
}

static char *scalar_text(const char *key, const json_t *v)
{
	char *text = gh_table_text(key, v), *out;

	if (!text)
		return NULL;
	out = cell_text(text);
	free(text);
	return out;
}

char *gh_table_cell(const json_t *item, const gh_table_col *col)
{
	const json_t *v = json_is_object(item) ? json_object_get(item, col->key) : NULL;
	char buf[32];

	if (!v)
		return cell_text("-");
	if (col->kind == GH_COL_COUNT) {
		snprintf(buf, sizeof(buf), "%zu", json_is_array(v) ? json_array_size(v) : (size_t)0);
		return cell_text(buf);
	}
	return scalar_text(col->key, v);
}

/* The last column is not padded: no trailing blanks. */
static void put_cell(FILE *f, const char *s, size_t width, int last)
{
	if (last)
		fprintf(f, "%s\n", s);
	else
		fprintf(f, "%-*s  ", (int)width, s);
}

int gh_table_print(FILE *f, const json_t *items, const gh_table_col *cols)
{
	size_t ncols = 0, nrows = json_array_size(items), r, k;
	size_t width[16] = {0};
	char **cells = NULL;
	int rc = 0;

	while (cols[ncols].header && ncols < sizeof(width) / sizeof(width[0]))
		ncols++;
	if (nrows && !(cells = calloc(nrows * ncols, sizeof(*cells))))
		return gh_error_set(GH_ERROR, "out of memory");
	for (k = 0; k < ncols; k++)
		width[k] = strlen(cols[k].header);
	for (r = 0; r < nrows; r++)
		for (k = 0; k < ncols; k++) {
			char *s = gh_table_cell(json_array_get(items, r), &cols[k]);

			if (!s) {
				rc = gh_error_set(GH_ERROR, "out of memory");
				goto cleanup;
			}
			cells[r * ncols + k] = s;
			if (strlen(s) > width[k])
				width[k] = strlen(s);
		}
	for (k = 0; k < ncols; k++)
		put_cell(f, cols[k].header, width[k], k + 1 == ncols);
	for (r = 0; r < nrows; r++)
		for (k = 0; k < ncols; k++)
			put_cell(f, cells[r * ncols + k], width[k], k + 1 == ncols);
cleanup:
	for (r = 0; cells && r < nrows * ncols; r++)
		free(cells[r]);
	free(cells);
	return rc;
}

int gh_table_print_object(FILE *f, const json_t *obj)
{
	const char *key;
	json_t *v;
	size_t width = 0;

	if (!json_is_object(obj))
		return gh_error_set(GH_EINVALID, "the answer is not a JSON object");
	json_object_foreach((json_t *)obj, key, v)
		if (strlen(key) > width)
			width = strlen(key);
	json_object_foreach((json_t *)obj, key, v) {
		char *text;

		/* whole values here, nested ones in words: only the cut in tables
		 * keeps rows short */
		if (!(text = gh_table_text(key, v)))
			return gh_error_set(GH_ERROR, "out of memory");
		fprintf(f, "%-*s  ", (int)width, key);
		for (const char *s = text; *s; s++)
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
		fputc('\n', f);
		free(text);
	}
	return 0;
}
