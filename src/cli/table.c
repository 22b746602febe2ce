/* table.c - printing JSON answers for people: aligned columns and key/value lines. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

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

static char *scalar_text(const json_t *v)
{
	char buf[64];
	char *dump, *out;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return cell_text(json_string_value(v));
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return cell_text(buf);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%g", json_real_value(v));
		return cell_text(buf);
	case JSON_TRUE:
		return cell_text("yes");
	case JSON_FALSE:
		return cell_text("no");
	case JSON_NULL:
		return cell_text("-");
	default:
		if (!(dump = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER)))
			return NULL;
		out = cell_text(dump);
		free(dump);
		return out;
	}
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
	return scalar_text(v);
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

		if (json_is_string(v)) {
			/* whole values here: only the cut in tables keeps rows short */
			const char *s = json_string_value(v);

			fprintf(f, "%-*s  ", (int)width, key);
			for (; *s; s++)
				fputc((unsigned char)*s < 0x20 ? '?' : *s, f);
			fputc('\n', f);
			continue;
		}
		if (json_is_object(v) || json_is_array(v))
			text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
		else
			text = scalar_text(v);
		if (!text)
			return gh_error_set(GH_ERROR, "out of memory");
		fprintf(f, "%-*s  %s\n", (int)width, key, text);
		free(text);
	}
	return 0;
}
