/* ldap.c - the ldap connector: a grant is a member value on a group entry of a
 * directory (libldap, LDAPv3, simple bind).
 *
 * The member value is member_dn_template with {account} replaced; the account
 * goes in as an attribute value of the parsed template and ldap_dn2str writes
 * the DN, so RFC 4514 escaping is the library's and an account can never add
 * an RDN or an attribute. Reading back (list) parses each member DN and maps
 * it to an account only when it has the template's shape.
 *
 * groupOfNames requires at least one member: removing the last one is refused
 * by the directory (object class violation), reported as GH_EINVALID naming
 * the group; directories keep a placeholder member (any DN that does not match
 * the template, ignored by list) in such groups. Revoking an absent member
 * succeeds. Each call opens, binds and closes its own handle: libldap handles
 * are not shared between worker threads. */
#include "connect/connect.h"
#include "common/error.h"

#include <ldap.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MARK "{account}"
#define SENTINEL "gh0account0sentinel"
#define TIMEOUT_DEFAULT 5
#define TIMEOUT_MAX 300
#define ACCOUNT_MAX 256
#define ATTR_MAX 64
#define LIST_MAX 1000000 /* memberships read back in one call */

static const char *const fields[] = {"url",	      "bind_dn",	   "password_ref",
				     "member_attribute", "member_dn_template", "account_attribute",
				     "timeout",	      "group_base",	   NULL};
static const char *const system_fields[] = {"account_attribute", NULL};

typedef struct conf {
	const char *url, *bind_dn, *password_ref, *tmpl;
	char member_attr[ATTR_MAX + 1];
	int timeout; /* seconds, for connecting and for each operation */
} conf;

/* The parsed template and where the account stands in it. */
typedef struct shape {
	LDAPDN dn;
	int rdn, ava;	       /* the attribute value holding the account */
	struct berval pre, post; /* the rest of that value around the account */
} shape;

static const char *str_setting(const json_t *settings, const char *key)
{
	return json_string_value(json_object_get(settings, key));
}

/* An attribute description: a name (letter, then letters, digits, '-') or an OID. */
static int attr_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ATTR_MAX)
		return 0;
	if ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))
		return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
		       n;
	return strspn(s, "0123456789.") == n && s[n - 1] != '.';
}

static int dn_ok(const char *s)
{
	LDAPDN dn = NULL;

	if (!s || !*s || ldap_str2dn(s, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return 0;
	ldap_dnfree(dn);
	return 1;
}

/* Parses tmpl with the account as SENTINEL; GH_EINVALID with a reason when
 * {account} is not once inside one attribute value of a DN. */
static int shape_parse(shape *out, const char *tmpl, const char **why)
{
	const char *at = strstr(tmpl, MARK);
	char *text = NULL;
	size_t n;
	int rc = GH_EINVALID;

	memset(out, 0, sizeof(*out));
	if (!at || strstr(at + strlen(MARK), MARK)) {
		*why = "must hold {account} exactly once";
		return GH_EINVALID;
	}
	n = strlen(tmpl) - strlen(MARK) + strlen(SENTINEL);
	if (!(text = malloc(n + 1))) {
		*why = "out of memory";
		return GH_ERROR;
	}
	snprintf(text, n + 1, "%.*s%s%s", (int)(at - tmpl), tmpl, SENTINEL, at + strlen(MARK));
	*why = "must be a DN with {account} inside an attribute value, e.g. "
	       "\"uid={account},ou=people,dc=example,dc=org\"";
	if (ldap_str2dn(text, &out->dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !out->dn)
		goto cleanup;
	for (int i = 0; out->dn[i]; i++)
		for (int j = 0; out->dn[i][j]; j++) {
			struct berval *v = &out->dn[i][j]->la_value;
			char *p;

			if ((out->dn[i][j]->la_flags & LDAP_AVA_BINARY) || !v->bv_val ||
			    v->bv_len < strlen(SENTINEL))
				continue;
			for (p = v->bv_val; p + strlen(SENTINEL) <= v->bv_val + v->bv_len; p++)
				if (memcmp(p, SENTINEL, strlen(SENTINEL)) == 0)
					break;
			if (p + strlen(SENTINEL) > v->bv_val + v->bv_len)
				continue;
			out->rdn = i;
			out->ava = j;
			out->pre.bv_val = v->bv_val;
			out->pre.bv_len = (size_t)(p - v->bv_val);
			out->post.bv_val = p + strlen(SENTINEL);
			out->post.bv_len = v->bv_len - out->pre.bv_len - strlen(SENTINEL);
			rc = 0;
			goto cleanup;
		}
cleanup:
	free(text);
	if (rc && out->dn) {
		ldap_dnfree(out->dn);
		out->dn = NULL;
	}
	return rc;
}

static void shape_free(shape *s)
{
	if (s->dn)
		ldap_dnfree(s->dn);
	s->dn = NULL;
}

static int bv_caseeq(const struct berval *a, const char *b, size_t blen)
{
	return a->bv_len == blen && strncasecmp(a->bv_val, b, blen) == 0;
}

/* The account of a member DN of the template's shape, malloc'd; NULL when the
 * DN does not match (another kind of member, a placeholder) or on no memory.
 * Attribute types and the template's own values compare without case, as DN
 * matching does for the usual naming attributes. */
static char *shape_match(const shape *s, const char *member)
{
	LDAPDN dn = NULL;
	char *account = NULL;
	int i, j;

	if (ldap_str2dn(member, &dn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !dn)
		return NULL;
	for (i = 0; s->dn[i]; i++) {
		if (!dn[i])
			goto cleanup;
		for (j = 0; s->dn[i][j]; j++) {
			LDAPAVA *want = s->dn[i][j], *got = dn[i][j];
			const struct berval *v;

			if (!got || !bv_caseeq(&got->la_attr, want->la_attr.bv_val,
					       want->la_attr.bv_len))
				goto cleanup;
			v = &got->la_value;
			if (i != s->rdn || j != s->ava) {
				if (!bv_caseeq(v, want->la_value.bv_val, want->la_value.bv_len))
					goto cleanup;
				continue;
			}
			if ((got->la_flags & LDAP_AVA_BINARY) ||
			    v->bv_len <= s->pre.bv_len + s->post.bv_len ||
			    strncasecmp(v->bv_val, s->pre.bv_val, s->pre.bv_len) != 0 ||
			    strncasecmp(v->bv_val + v->bv_len - s->post.bv_len, s->post.bv_val,
					s->post.bv_len) != 0 ||
			    memchr(v->bv_val, '\0', v->bv_len))
				goto cleanup;
		}
		if (dn[i][j])
			goto cleanup;
	}
	if (dn[i])
		goto cleanup;
	{
		const struct berval *v = &dn[s->rdn][s->ava]->la_value;
		size_t n = v->bv_len - s->pre.bv_len - s->post.bv_len;

		if ((account = malloc(n + 1))) {
			memcpy(account, v->bv_val + s->pre.bv_len, n);
			account[n] = '\0';
		}
	}
cleanup:
	ldap_dnfree(dn);
	return account;
}

/* The member DN for account (malloc'd by libldap: free with ldap_memfree). */
static int member_dn(char **out, shape *s, const char *account)
{
	LDAPAVA *ava = s->dn[s->rdn][s->ava];
	struct berval saved = ava->la_value;
	size_t n = strlen(account), len = s->pre.bv_len + n + s->post.bv_len;
	char *value, *back = NULL;
	int rc;

	*out = NULL;
	if (n == 0 || n > ACCOUNT_MAX)
		return gh_error_set(GH_EINVALID, "ldap: the account must be 1 to %d bytes",
				    ACCOUNT_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)account[i] < 0x20 || account[i] == 0x7f)
			return gh_error_set(GH_EINVALID,
					    "ldap: the account \"%.64s\" holds a control character",
					    account);
	if (!(value = malloc(len + 1)))
		return gh_error_set(GH_ERROR, "ldap: out of memory");
	snprintf(value, len + 1, "%.*s%s%.*s", (int)s->pre.bv_len, s->pre.bv_val, account,
		 (int)s->post.bv_len, s->post.bv_val);
	ava->la_value.bv_val = value;
	ava->la_value.bv_len = len;
	rc = ldap_dn2str(s->dn, out, LDAP_DN_FORMAT_LDAPV3);
	ava->la_value = saved;
	free(value);
	/* belt and braces: the DN must read back as exactly this account */
	if (rc == LDAP_SUCCESS && *out && (back = shape_match(s, *out)) && strcmp(back, account) == 0)
		rc = 0;
	else
		rc = gh_error_set(GH_EINVALID, "ldap: the account \"%.64s\" cannot be written into "
				  "member_dn_template", account);
	free(back);
	if (rc && *out) {
		ldap_memfree(*out);
		*out = NULL;
	}
	return rc;
}

static int check(const json_t *settings)
{
	const char *keys[] = {"url", "bind_dn", "password_ref", "member_dn_template"};
	const char *s, *why;
	char field[64];
	json_t *v;
	LDAPURLDesc *lud = NULL;
	shape sh;

	if (!json_is_object(settings)) {
		gh_error_field("connector_settings", "the ldap connector needs url, bind_dn, "
			       "password_ref and member_dn_template");
		return gh_error_fields_finish();
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(field, sizeof(field), "connector_settings.%s", keys[i]);
		v = json_object_get(settings, keys[i]);
		if (!v)
			gh_error_field(field, "is required");
		else if (!json_is_string(v) || !*json_string_value(v))
			gh_error_field(field, "must be a non-empty string");
	}
	if ((s = str_setting(settings, "url")) && *s) {
		if (ldap_url_parse(s, &lud) != LDAP_URL_SUCCESS || !lud->lud_scheme ||
		    (strcmp(lud->lud_scheme, "ldap") != 0 && strcmp(lud->lud_scheme, "ldaps") != 0 &&
		     strcmp(lud->lud_scheme, "ldapi") != 0))
			gh_error_field("connector_settings.url", "must be an ldap://, ldaps:// or "
				       "ldapi:// URL");
		if (lud)
			ldap_free_urldesc(lud);
	}
	if ((s = str_setting(settings, "bind_dn")) && *s && !dn_ok(s))
		gh_error_field("connector_settings.bind_dn", "is not a DN");
	if ((v = json_object_get(settings, "group_base")) &&
	    (!json_is_string(v) || !dn_ok(json_string_value(v))))
		gh_error_field("connector_settings.group_base", "is not a DN");
	if ((s = str_setting(settings, "password_ref")) && *s && strncmp(s, "env:", 4) != 0 &&
	    strncmp(s, "file:", 5) != 0)
		gh_error_field("connector_settings.password_ref", "must be \"env:NAME\" or "
			       "\"file:/path\"");
	if ((s = str_setting(settings, "member_dn_template")) && *s) {
		int rc = shape_parse(&sh, s, &why);

		if (rc == GH_ERROR)
			return gh_error_set(GH_ERROR, "ldap: out of memory");
		if (rc)
			gh_error_field("connector_settings.member_dn_template", "%s", why);
		shape_free(&sh);
	}
	if ((v = json_object_get(settings, "member_attribute")) &&
	    (!json_is_string(v) || !attr_name_ok(json_string_value(v))))
		gh_error_field("connector_settings.member_attribute", "must be an attribute name "
			       "such as \"member\" or \"uniqueMember\"");
	if ((v = json_object_get(settings, "account_attribute")) &&
	    (!json_is_string(v) || !*json_string_value(v)))
		gh_error_field("connector_settings.account_attribute", "must be a non-empty string");
	if ((v = json_object_get(settings, "timeout")) &&
	    (!json_is_integer(v) || json_integer_value(v) < 1 ||
	     json_integer_value(v) > TIMEOUT_MAX))
		gh_error_field("connector_settings.timeout", "must be a number of seconds from 1 "
			       "to %d", TIMEOUT_MAX);
	return gh_error_fields_finish();
}

/* Checked settings into c (borrowed strings). */
static int conf_load(conf *c, const json_t *settings)
{
	const char *attr;

	gh_error_clear(); /* an entry point: earlier field errors are not ours */
	if (check(settings))
		return GH_EINVALID;
	c->url = str_setting(settings, "url");
	c->bind_dn = str_setting(settings, "bind_dn");
	c->password_ref = str_setting(settings, "password_ref");
	c->tmpl = str_setting(settings, "member_dn_template");
	attr = str_setting(settings, "member_attribute");
	snprintf(c->member_attr, sizeof(c->member_attr), "%s", attr ? attr : "member");
	c->timeout = json_object_get(settings, "timeout")
			     ? (int)json_integer_value(json_object_get(settings, "timeout"))
			     : TIMEOUT_DEFAULT;
	return 0;
}

/* Result codes that retrying will not change: the settings or the job are wrong. */
static int permanent(int lrc)
{
	switch (lrc) {
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_AUTH_METHOD_NOT_SUPPORTED:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_NO_SUCH_OBJECT:
	case LDAP_INVALID_DN_SYNTAX:
	case LDAP_OBJECT_CLASS_VIOLATION:
	case LDAP_UNDEFINED_TYPE:
	case LDAP_INVALID_SYNTAX:
	case LDAP_CONSTRAINT_VIOLATION:
	case LDAP_NOT_ALLOWED_ON_RDN:
	case LDAP_NAMING_VIOLATION:
	case LDAP_INAPPROPRIATE_MATCHING:
	case LDAP_REFERRAL:
	case LDAP_PROTOCOL_ERROR:
	case LDAP_PARAM_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* Sets the error for a failed libldap call: what was tried, the result and the
 * server's diagnostic (bounded; never holds the password). */
static int fail(LDAP *ld, int lrc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(LDAP *ld, int lrc, const char *fmt, ...)
{
	char what[256];
	char *diag = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ld)
		ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	rc = gh_error_set(permanent(lrc) ? GH_EINVALID : GH_ERROR, "ldap: %s: %s%s%.160s", what,
			  ldap_err2string(lrc), diag && *diag ? " - " : "", diag ? diag : "");
	ldap_memfree(diag);
	return rc;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* libldap's global defaults are read on first use; do it once, not racing. */
static void ldap_init_once(void)
{
	int v;

	ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &v);
}

/* A handle bound as the configured DN; *out is unbound by the caller. */
static int session_open(LDAP **out, const conf *c)
{
	struct timeval tv = {c->timeout, 0};
	int v3 = LDAP_VERSION3, lrc, rc;
	struct berval cred;
	char *pw = NULL;
	LDAP *ld = NULL;

	*out = NULL;
	pthread_once(&init_once, ldap_init_once);
	if ((lrc = ldap_initialize(&ld, c->url)) != LDAP_SUCCESS)
		return fail(NULL, LDAP_PARAM_ERROR, "url %s: %s", c->url, ldap_err2string(lrc));
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS) {
		rc = gh_error_set(GH_ERROR, "ldap: cannot set the connection options");
		goto cleanup;
	}
	if ((rc = gh_secret_resolve(&pw, c->password_ref))) {
		/* a missing or malformed secret is the settings' problem */
		char msg[sizeof(gh_error_last()->message)];

		snprintf(msg, sizeof(msg), "%s", gh_error_last()->message);
		rc = gh_error_set(GH_EINVALID, "ldap: password_ref: %s", msg);
		goto cleanup;
	}
	cred.bv_val = pw;
	cred.bv_len = strlen(pw);
	lrc = ldap_sasl_bind_s(ld, c->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	gh_secret_free(pw);
	if (lrc != LDAP_SUCCESS) {
		rc = fail(ld, lrc, "bind to %s as %s", c->url, c->bind_dn);
		goto cleanup;
	}
	*out = ld;
	ld = NULL;
	rc = 0;
cleanup:
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return rc;
}

static int apply(const json_t *settings, const gh_conn_job *job, json_t **receipt)
{
	int grant = job->op && strcmp(job->op, "grant") == 0, lrc, rc, changed = 0;
	struct berval value, *values[] = {&value, NULL};
	LDAPMod mod, *mods[] = {&mod, NULL};
	const char *why;
	char *dn = NULL;
	LDAP *ld = NULL;
	conf c;
	shape sh = {0};

	*receipt = NULL;
	if ((rc = conf_load(&c, settings)))
		return rc;
	if (!grant && !(job->op && strcmp(job->op, "revoke") == 0))
		return gh_error_set(GH_EINVALID, "ldap: unknown operation \"%s\"",
				    job->op ? job->op : "");
	if (!dn_ok(job->target))
		return gh_error_set(GH_EINVALID, "ldap: the target \"%.200s\" is not a group DN",
				    job->target ? job->target : "");
	if ((rc = shape_parse(&sh, c.tmpl, &why)))
		return gh_error_set(rc, "ldap: member_dn_template %s", why);
	if ((rc = member_dn(&dn, &sh, job->account ? job->account : "")))
		goto cleanup;
	if ((rc = session_open(&ld, &c)))
		goto cleanup;
	value.bv_val = dn;
	value.bv_len = strlen(dn);
	memset(&mod, 0, sizeof(mod));
	mod.mod_op = (grant ? LDAP_MOD_ADD : LDAP_MOD_DELETE) | LDAP_MOD_BVALUES;
	mod.mod_type = c.member_attr;
	mod.mod_bvalues = values;
	lrc = ldap_modify_ext_s(ld, job->target, mods, NULL, NULL);
	if (lrc == LDAP_SUCCESS)
		changed = 1;
	else if (lrc == (grant ? LDAP_TYPE_OR_VALUE_EXISTS : LDAP_NO_SUCH_ATTRIBUTE))
		changed = 0; /* already as wanted */
	else if (lrc == LDAP_NO_SUCH_OBJECT) {
		rc = gh_error_set(GH_EINVALID, "ldap: the group %.200s does not exist", job->target);
		goto cleanup;
	} else if (!grant && lrc == LDAP_OBJECT_CLASS_VIOLATION) {
		rc = gh_error_set(GH_EINVALID, "ldap: removing %.200s would leave the group %.200s "
				  "without the %s its object class requires; keep a placeholder "
				  "member in the group", dn, job->target, c.member_attr);
		goto cleanup;
	} else {
		rc = fail(ld, lrc, "%s %s %s %s", grant ? "adding" : "removing", dn,
			  grant ? "to" : "from", job->target);
		goto cleanup;
	}
	*receipt = json_pack("{s:s, s:s, s:s, s:b}", "group", job->target, "member", dn,
			     "attribute", c.member_attr, "changed", changed);
	rc = 0;
cleanup:
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	ldap_memfree(dn);
	shape_free(&sh);
	return rc;
}

/* Appends (account, target) to the growing list; takes account. */
static int list_push(gh_conn_access **out, size_t *n, size_t *cap, char *account,
		     const char *target)
{
	gh_conn_access *grown;

	if (*n == *cap) {
		if (*cap >= LIST_MAX) {
			free(account);
			return gh_error_set(GH_ETOOLARGE, "ldap: more than %d memberships",
					    LIST_MAX);
		}
		*cap = *cap ? *cap * 2 : 16;
		if (!(grown = realloc(*out, *cap * sizeof(**out)))) {
			free(account);
			return gh_error_set(GH_ERROR, "ldap: out of memory");
		}
		*out = grown;
	}
	(*out)[*n].account = account;
	if (!((*out)[*n].target = strdup(target))) {
		free(account);
		return gh_error_set(GH_ERROR, "ldap: out of memory");
	}
	(*n)++;
	return 0;
}

/* Members of one group that have the template's shape. */
static int list_group(LDAP *ld, const conf *c, const shape *sh, const char *target,
		      gh_conn_access **out, size_t *n, size_t *cap)
{
	char *attrs[] = {(char *)c->member_attr, NULL};
	struct timeval tv = {c->timeout, 0};
	struct berval **vals = NULL;
	LDAPMessage *res = NULL, *entry;
	int lrc, rc = 0;

	if (!dn_ok(target))
		return gh_error_set(GH_EINVALID, "ldap: the target \"%.200s\" is not a group DN",
				    target ? target : "");
	lrc = ldap_search_ext_s(ld, target, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
				NULL, &tv, 1, &res);
	if (lrc == LDAP_NO_SUCH_OBJECT) {
		rc = gh_error_set(GH_EINVALID, "ldap: the group %.200s does not exist", target);
		goto cleanup;
	}
	if (lrc != LDAP_SUCCESS) {
		rc = fail(ld, lrc, "reading %s of %s", c->member_attr, target);
		goto cleanup;
	}
	if (!(entry = ldap_first_entry(ld, res)))
		goto cleanup;
	vals = ldap_get_values_len(ld, entry, c->member_attr);
	for (size_t i = 0; vals && vals[i] && !rc; i++) {
		char *member, *account;

		if (memchr(vals[i]->bv_val, '\0', vals[i]->bv_len))
			continue;
		if (!(member = strndup(vals[i]->bv_val, vals[i]->bv_len))) {
			rc = gh_error_set(GH_ERROR, "ldap: out of memory");
			break;
		}
		account = shape_match(sh, member);
		free(member);
		if (account)
			rc = list_push(out, n, cap, account, target);
	}
cleanup:
	if (vals)
		ldap_value_free_len(vals);
	if (res)
		ldap_msgfree(res);
	return rc;
}

static int list(const json_t *settings, const char *const *targets, size_t ntargets,
		gh_conn_access **out, size_t *n)
{
	size_t cap = 0;
	const char *why;
	LDAP *ld = NULL;
	shape sh = {0};
	conf c;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = conf_load(&c, settings)))
		return rc;
	if ((rc = shape_parse(&sh, c.tmpl, &why)))
		return gh_error_set(rc, "ldap: member_dn_template %s", why);
	if (ntargets && (rc = session_open(&ld, &c)))
		goto cleanup;
	for (size_t i = 0; i < ntargets && !rc; i++)
		rc = list_group(ld, &c, &sh, targets[i], out, n, &cap);
cleanup:
	if (ld)
		ldap_unbind_ext_s(ld, NULL, NULL);
	shape_free(&sh);
	if (rc) {
		gh_conn_access_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Same attribute and value, both compared without case (DN matching of the
 * usual group naming attributes). */
static int ava_eq(const LDAPAVA *a, const LDAPAVA *b)
{
	return a->la_attr.bv_len == b->la_attr.bv_len &&
	       strncasecmp(a->la_attr.bv_val, b->la_attr.bv_val, a->la_attr.bv_len) == 0 &&
	       a->la_value.bv_len == b->la_value.bv_len &&
	       strncasecmp(a->la_value.bv_val, b->la_value.bv_val, a->la_value.bv_len) == 0;
}

/* A group DN strictly under the instance's group_base (any DN when it has
 * none). */
static int target(const json_t *settings, const char *dn_text)
{
	const char *base_text = str_setting(settings, "group_base");
	LDAPDN dn = NULL, base = NULL;
	int n = 0, nb = 0, under = 0;

	if (!base_text)
		return dn_ok(dn_text) ? 0 : gh_error_set(GH_EINVALID, "ldap: the target \"%.200s\" "
							 "is not a group DN", dn_text);
	if (ldap_str2dn(dn_text, &dn, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && dn &&
	    ldap_str2dn(base_text, &base, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && base) {
		while (dn[n])
			n++;
		while (base[nb])
			nb++;
		under = n > nb;
		for (int i = 0; under && i < nb; i++) {
			LDAPRDN r = dn[n - nb + i], rb = base[i];
			int j;

			for (j = 0; under && r[j] && rb[j]; j++)
				under = ava_eq(r[j], rb[j]);
			under = under && !r[j] && !rb[j];
		}
	}
	if (dn)
		ldap_dnfree(dn);
	if (base)
		ldap_dnfree(base);
	return under ? 0 : gh_error_set(GH_EINVALID, "ldap: the target \"%.200s\" is not a DN "
					 "under this connector instance's group_base %.200s",
					 dn_text, base_text);
}

const gh_connector_kind gh_connector_ldap = {"ldap", fields, check, apply, list, system_fields,
					     target};
