/* handlers_credentials.c - routes of NHI credentials (API keys) and RFC 7662
 * introspection, each a call into gov/, and the introspection body parser. */
#include "api/api_internal.h"
#include "gatehouse/errors.h"
#include "gatehouse/common.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FORM_TYPE "application/x-www-form-urlencoded"

int gh_api_handle_credential_issue(gh_api_req *rq)
{
	int rc = gh_gov_credential_issue(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);

	if (rc == 0)
		rq->status = 201;
	return rc;
}

int gh_api_handle_credential_list(gh_api_req *rq)
{
	gh_page p = {rq->limit ? rq->limit : GH_API_PAGE_DEFAULT, gh_api_query(rq, "after")};

	return gh_gov_credential_list(&rq->out, rq->gov, &rq->actor, &p,
				      gh_api_query(rq, "identity"), gh_api_query(rq, "grant"),
				      gh_api_query(rq, "status"));
}

int gh_api_handle_credential_get(gh_api_req *rq)
{
	return gh_gov_credential_get(&rq->out, rq->gov, &rq->actor, rq->params[0]);
}

int gh_api_handle_credential_rotate(gh_api_req *rq)
{
	int rc = gh_gov_credential_rotate(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);

	if (rc == 0)
		rq->status = 201;
	return rc;
}

int gh_api_handle_credential_revoke(gh_api_req *rq)
{
	return gh_gov_credential_revoke(&rq->out, rq->gov, &rq->actor, rq->params[0], rq->body);
}

/* --- introspection body ---------------------------------------------------- */

/* 1 when ct is the form type, with parameters of which a charset, if any,
 * must be UTF-8. */
static int is_form_type(const char *ct)
{
	const char *cs;

	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, FORM_TYPE, sizeof(FORM_TYPE) - 1) != 0)
		return 0;
	ct += sizeof(FORM_TYPE) - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (!*ct)
		return 1;
	if (*ct != ';')
		return 0;
	for (cs = ct; *cs; cs++) {
		if (strncasecmp(cs, "charset=", 8) != 0)
			continue;
		cs += 8;
		if (*cs == '"')
			cs++;
		return (strncasecmp(cs, "utf-8", 5) == 0 && strchr("\"; \t", cs[5])) ||
		       (strncasecmp(cs, "utf8", 4) == 0 && strchr("\"; \t", cs[4]));
	}
	return 1;
}

/* Decodes one form component of n bytes ('+' is a space) into a new string;
 * NULL when it is badly escaped or not text. */
static char *form_decode(const char *s, size_t n)
{
	char *plus = malloc(n + 1), *out = malloc(n + 1);
	int len;

	if (!plus || !out)
		goto fail;
	for (size_t i = 0; i < n; i++)
		plus[i] = s[i] == '+' ? ' ' : s[i];
	len = gh_api_unescape(out, n + 1, plus, n);
	if (len < 0 || !gh_api_text_ok(out, (size_t)len))
		goto fail;
	free(plus);
	return out;
fail:
	free(plus);
	free(out);
	return NULL;
}

static int form_parse(json_t **out, const char *buf, size_t len)
{
	json_t *obj = json_object();
	const char *p = buf, *end = buf + len;
	int rc = 0;

	if (!obj)
		return gh_error_set(GH_ERROR, "out of memory");
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
		const char *stop = amp ? amp : end;
		char *key = NULL, *value = NULL;

		if (stop == p) {         /* "a=1&&b=2": nothing between */
			p = stop + 1;
			continue;
		}
		eq = memchr(p, '=', (size_t)(stop - p));
		if (!(key = form_decode(p, (size_t)((eq ? eq : stop) - p))) || !*key) {
			gh_error_field("body", "a form field name is empty, badly escaped or not text");
		} else if (!(value = form_decode(eq ? eq + 1 : stop, eq ? (size_t)(stop - eq - 1) : 0))) {
			gh_error_field(key, "is badly escaped or not UTF-8 text");
		} else if (json_object_get(obj, key)) {
			gh_error_field(key, "is given more than once");
		} else if (json_object_set_new(obj, key, json_string(value))) {
			rc = gh_error_set(GH_ERROR, "out of memory");
		}
		if (value)
			sodium_memzero(value, strlen(value));
		free(key);
		free(value);
		if (rc)
			break;
		p = stop + 1;
	}
	if (!rc)
		rc = gh_error_fields_finish();
	if (rc)
		json_decref(obj);
	else
		*out = obj;
	return rc;
}

int gh_api_introspect_body(json_t **out, const char *ct, const char *buf, size_t len)
{
	int rc;

	*out = NULL;
	if (!ct && len == 0)
		return form_parse(out, "", 0);
	if (!ct)
		return gh_error_set(GH_API_EMEDIA, "the body must be " FORM_TYPE " or application/json");
	if (is_form_type(ct))
		return form_parse(out, buf ? buf : "", buf ? len : 0);
	if (!gh_api_is_json_type(ct))
		return gh_error_set(GH_API_EMEDIA, "the body must be " FORM_TYPE " or application/json");
	if ((rc = gh_json_parse(out, buf ? buf : "", buf ? len : 0)))
		return rc;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		gh_error_field("body", "must be a JSON object");
		return gh_error_fields_finish();
	}
	return 0;
}

int gh_api_handle_introspect(gh_api_req *rq)
{
	const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);
	json_t *in = NULL;
	int rc = gh_api_introspect_body(&in, ct, rq->body_buf, rq->body_len);

	if (rc == 0)
		rc = gh_gov_introspect(&rq->out, rq->gov, &rq->actor, in);
	json_decref(in);
	/* the body holds a key: gone before the buffer is */
	if (rq->body_buf)
		sodium_memzero(rq->body_buf, rq->body_len);
	return rc;
}
