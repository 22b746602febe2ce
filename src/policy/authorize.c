/* authorize.c - Cedar authorization (docs/authorization.md) and the policy set's accessors. */
#include "policy/eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gh_policy_set_parse(gh_policy_set **out, const char *text, size_t len, gh_policy_error *err)
{
	gh_policy_set *ps;
	int rc;

	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	if (len > GH_POLICY_MAX_TEXT) {
		if (err)
			snprintf(err->message, sizeof(err->message), "policy text over %u bytes",
				 GH_POLICY_MAX_TEXT);
		return GH_POLICY_ETOOLARGE;
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return GH_POLICY_ERROR;
	ghp_arena_init(&ps->arena, NULL, 0, 0);
	rc = ghp_parse(ps, text ? text : "", text ? len : 0, err);
	if (rc) {
		gh_policy_set_free(ps);
		return rc;
	}
	*out = ps;
	return 0;
}

void gh_policy_set_free(gh_policy_set *ps)
{
	if (!ps)
		return;
	ghp_arena_free(&ps->arena);
	free(ps->policies);
	free(ps);
}

size_t gh_policy_set_count(const gh_policy_set *ps)
{
	return ps ? ps->n : 0;
}

const char *gh_policy_set_id(const gh_policy_set *ps, size_t i)
{
	return ps && i < ps->n ? ps->policies[i]->id : NULL;
}

const char *gh_policy_set_annotation(const gh_policy_set *ps, const char *policy_id,
				     const char *key)
{
	if (!ps || !policy_id || !key)
		return NULL;
	for (size_t i = 0; i < ps->n; i++) {
		const ghp_policy *p = ps->policies[i];
		if (strcmp(p->id, policy_id))
			continue;
		for (size_t k = 0; k < p->nannots; k++)
			if (!strcmp(p->annots[k].key, key))
				return p->annots[k].value;
		return NULL;
	}
	return NULL;
}

/* The response, its arrays and messages in one allocation. */

int gh_policy_authorize(gh_policy_response **out, const gh_policy_set *ps,
			const gh_policy_entities *es, const gh_policy_request *req)
{
	char scratch[8192];
	ghp_arena arena;
	ghp_eval ev;
	size_t n = ps ? ps->n : 0;
	int rc = 0;
	/* per policy: 0 not applicable, 1 satisfied, -1 error */
	signed char stack_res[256];
	signed char *res = n <= sizeof(stack_res) ? stack_res : malloc(n);
	char **msgs = NULL;
	size_t nerr = 0, npermit = 0, nforbid = 0;

	*out = NULL;
	if (!res || !req)
		return res != stack_res && res ? (free(res), GH_POLICY_ERROR) : GH_POLICY_ERROR;
	ghp_arena_init(&arena, scratch, sizeof(scratch), 64u * 1024 * 1024);
	memset(&ev, 0, sizeof(ev));
	ev.es = es;
	ev.req = req;
	ev.a = &arena;
	for (size_t i = 0; i < n; i++) {
		const ghp_policy *p = ps->policies[i];
		res[i] = 0;
		if (p->is_template && !p->template_id)
			continue;
		ev.slot_principal = p->link_principal;
		ev.slot_resource = p->link_resource;
		int r = ghp_eval_policy(&ev, p);
		if (r < 0) {
			if (!msgs && !(msgs = calloc(n, sizeof(*msgs)))) {
				rc = GH_POLICY_ERROR;
				goto cleanup;
			}
			msgs[i] = strdup(ev.msg);
			if (!msgs[i]) {
				rc = GH_POLICY_ERROR;
				goto cleanup;
			}
			nerr++;
			res[i] = -1;
		} else if (r > 0) {
			res[i] = 1;
			if (p->forbid)
				nforbid++;
			else
				npermit++;
		}
	}
	int allow = npermit > 0 && nforbid == 0;
	size_t nreasons = nforbid ? nforbid : npermit;
	size_t msglen = 0;
	for (size_t i = 0; msgs && i < n; i++)
		if (msgs[i])
			msglen += strlen(msgs[i]) + 1;
	size_t ptrs = nreasons + 2 * nerr;
	gh_policy_response *resp = malloc(sizeof(*resp) + (ptrs ? ptrs : 1) * sizeof(char *) + msglen);
	if (!resp) {
		rc = GH_POLICY_ERROR;
		goto cleanup;
	}
	const char **arr = (const char **)(resp + 1);
	char *text = (char *)(arr + (ptrs ? ptrs : 1));
	resp->allow = allow;
	resp->nreasons = 0;
	resp->reasons = arr;
	resp->nerrors = 0;
	resp->errors = arr + nreasons;
	resp->error_messages = arr + nreasons + nerr;
	for (size_t i = 0; i < n; i++) {
		const ghp_policy *p = ps->policies[i];
		if (res[i] == 1 && (nforbid ? p->forbid : !p->forbid))
			arr[resp->nreasons++] = p->id;
		if (res[i] == -1) {
			size_t l = strlen(msgs[i]) + 1;
			memcpy(text, msgs[i], l);
			((const char **)resp->errors)[resp->nerrors] = p->id;
			((const char **)resp->error_messages)[resp->nerrors] = text;
			resp->nerrors++;
			text += l;
		}
	}
	*out = resp;
cleanup:
	if (msgs) {
		for (size_t i = 0; i < n; i++)
			free(msgs[i]);
		free(msgs);
	}
	if (res != stack_res)
		free(res);
	ghp_arena_free(&arena);
	return rc;
}

void gh_policy_response_free(gh_policy_response *resp)
{
	free(resp);
}
