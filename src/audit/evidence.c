/* evidence.c - evidence bundles: built from a request's events and proofs,
 * verified offline against a checkpoint's signature and root. */
#include "audit/evidence.h"
#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "common/error.h"
#include "common/jsonv.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROOF_MAX 64           /* hashes in one proof: a tree of 2^64 leaves */

static const char *const event_fields[] = {"seq", "ts_us", "actor", "action", "object_type",
					   "object_id", "details", NULL};

int gh_evidence_build(char **out, const char *request_id, const char *checkpoint_note,
		      const json_t *events, const json_t *proofs)
{
	json_t *doc = NULL, *list = NULL, *ev, *item;
	size_t i, n;
	char *text = NULL, *full;
	int rc = 0;

	*out = NULL;
	if (!json_is_array(events) || !json_is_array(proofs) ||
	    json_array_size(events) != json_array_size(proofs))
		return gh_error_set(GH_EINVALID, "a bundle needs one proof per event");
	if (!(list = json_array()))
		return gh_error_set(GH_ERROR, "out of memory building a bundle");
	json_array_foreach(events, i, ev) {
		if (!(item = json_object())) {
			rc = gh_error_set(GH_ERROR, "out of memory building a bundle");
			goto cleanup;
		}
		for (n = 0; event_fields[n]; n++) {
			json_t *v = json_object_get(ev, event_fields[n]);

			if (!v) {
				json_decref(item);
				rc = gh_error_set(GH_EINVALID, "event %zu has no \"%s\"", i,
						  event_fields[n]);
				goto cleanup;
			}
			json_object_set(item, event_fields[n], v);
		}
		if (json_object_set(item, "proof", json_array_get(proofs, i)) ||
		    json_array_append_new(list, item)) {
			rc = gh_error_set(GH_ERROR, "out of memory building a bundle");
			goto cleanup;
		}
	}
	doc = json_pack("{s:s, s:s, s:s, s:O}", "format", GH_EVIDENCE_FORMAT, "request", request_id,
			"checkpoint", checkpoint_note, "events", list);
	if (!doc || !(text = gh_json_canonical(doc)) || !(full = malloc(strlen(text) + 2))) {
		rc = gh_error_set(GH_ERROR, "out of memory building a bundle");
		goto cleanup;
	}
	snprintf(full, strlen(text) + 2, "%s\n", text);
	*out = full;
cleanup:
	free(text);
	json_decref(doc);
	json_decref(list);
	return rc;
}

/* --- verification ------------------------------------------------------- */

typedef struct check {
	json_t *problems;
	int bad;               /* out of memory */
} check;

static void problem(check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(check *c, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* messages quote what the file holds: keep them printable ASCII, so that
	 * neither a terminal nor the JSON report is fed raw bytes */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	if (json_array_append_new(c->problems, json_string(buf)))
		c->bad = 1;
}

/* 1 when s appears as a string value anywhere in v. */
static int names(const json_t *v, const char *s)
{
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_string(v))
		return strcmp(json_string_value(v), s) == 0;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, x)
			if (names(x, s))
				return 1;
	}
	if (json_is_array(v))
		json_array_foreach(v, i, x)
			if (names(x, s))
				return 1;
	return 0;
}

/* The leaf hash of one bundled event; 0, or -1 with a problem recorded. */
static int leaf_of(gh_merkle_hash leaf, check *c, size_t i, const json_t *ev)
{
	const char *key;
	json_t *v;
	char *details;
	int ok = 1;

	json_object_foreach((json_t *)ev, key, v) {
		size_t k;

		for (k = 0; event_fields[k] && strcmp(event_fields[k], key) != 0; k++)
			;
		if (!event_fields[k] && strcmp(key, "proof") != 0) {
			problem(c, "event %zu: unexpected field \"%s\"", i + 1, key);
			ok = 0;
		}
	}
	if (!json_is_integer(json_object_get(ev, "seq")) ||
	    json_integer_value(json_object_get(ev, "seq")) < 1 ||
	    !json_is_integer(json_object_get(ev, "ts_us")) ||
	    !json_is_string(json_object_get(ev, "actor")) ||
	    !json_is_string(json_object_get(ev, "action")) ||
	    !json_is_string(json_object_get(ev, "object_type")) ||
	    !json_is_string(json_object_get(ev, "object_id")) ||
	    !json_is_object(json_object_get(ev, "details"))) {
		problem(c, "event %zu: seq, ts_us, actor, action, object_type, object_id and "
			   "details must all be present with their types", i + 1);
		return -1;
	}
	if (!ok)
		return -1;
	if (!(details = gh_json_canonical(json_object_get(ev, "details")))) {
		c->bad = 1;
		return -1;
	}
	gh_merkle_leaf_hash(leaf, json_integer_value(json_object_get(ev, "seq")),
			    json_integer_value(json_object_get(ev, "ts_us")),
			    json_string_value(json_object_get(ev, "actor")),
			    json_string_value(json_object_get(ev, "action")),
			    json_string_value(json_object_get(ev, "object_type")),
			    json_string_value(json_object_get(ev, "object_id")), details,
			    strlen(details));
	free(details);
	return 0;
}

/* The proof's hashes into out (n of them); 0, or -1 with a problem recorded. */
static int proof_of(gh_merkle_hash out[PROOF_MAX], size_t *n, check *c, size_t i,
		    const json_t *ev)
{
	const json_t *proof = json_object_get(ev, "proof");
	json_t *h;
	size_t k, len;

	*n = 0;
	if (!json_is_array(proof) || json_array_size(proof) > PROOF_MAX) {
		problem(c, "event %zu: \"proof\" must be an array of at most %d hashes", i + 1,
			PROOF_MAX);
		return -1;
	}
	json_array_foreach(proof, k, h) {
		const char *s = json_string_value(h);

		if (!s || sodium_base642bin(out[k], GH_MERKLE_HASH_LEN, s, strlen(s), NULL, &len,
					    NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    len != GH_MERKLE_HASH_LEN) {
			problem(c, "event %zu: proof hash %zu is not a base64 SHA-256 hash", i + 1,
				k + 1);
			return -1;
		}
	}
	*n = json_array_size(proof);
	return 0;
}

static void check_events(check *c, const json_t *doc, int64_t size, const gh_merkle_hash root)
{
	const char *request = json_string_value(json_object_get(doc, "request"));
	const json_t *events = json_object_get(doc, "events");
	json_t *ev, *about = json_array();
	gh_merkle_hash leaf, proof[PROOF_MAX];
	int64_t last = 0, seq;
	size_t i, n;

	if (!about) {
		c->bad = 1;
		return;
	}
	if (!json_is_array(events) || json_array_size(events) == 0) {
		problem(c, "\"events\" must be a non-empty array");
		json_decref(about);
		return;
	}
	/* what the request's own events name: its grant, the approvals' ids */
	json_array_foreach(events, i, ev)
		if (names(json_object_get(ev, "object_id"), request ? request : ""))
			json_array_append(about, json_object_get(ev, "details"));
	json_array_foreach(events, i, ev) {
		const char *action = json_string_value(json_object_get(ev, "action"));
		const char *object = json_string_value(json_object_get(ev, "object_id"));

		if (!json_is_object(ev)) {
			problem(c, "event %zu is not an object", i + 1);
			continue;
		}
		if (leaf_of(leaf, c, i, ev) || proof_of(proof, &n, c, i, ev))
			continue;
		seq = json_integer_value(json_object_get(ev, "seq"));
		if (seq <= last)
			problem(c, "event %zu (seq %lld): events must be in ascending seq order",
				i + 1, (long long)seq);
		last = seq;
		if (seq > size) {
			problem(c, "event %zu (seq %lld, %s): the checkpoint covers only %lld events",
				i + 1, (long long)seq, action, (long long)size);
			continue;
		}
		if (gh_merkle_verify_inclusion(leaf, seq - 1, size, proof, n, root) != 0)
			problem(c, "event %zu (seq %lld, %s): its inclusion proof does not lead to the "
				   "checkpoint's root: the event or its proof was changed", i + 1,
				(long long)seq, action);
		if (!request || (strcmp(object, request) != 0 && !names(about, object)))
			problem(c, "event %zu (seq %lld, %s): it is about %s, which is neither request "
				   "%s nor named by its events", i + 1, (long long)seq, action, object,
				request ? request : "?");
	}
	gh_error_clear();   /* the verifier's own messages are in problems */
	json_decref(about);
}

int gh_evidence_verify(json_t **report, const char *text, size_t len, const char *vkey)
{
	check c = {json_array(), 0};
	json_t *doc = NULL;
	json_error_t je;
	gh_merkle_hash root;
	char origin[256] = "", why[256] = "", *canon = NULL;
	const char *key, *note;
	int64_t size = 0;
	json_t *v;
	int rc;

	*report = NULL;
	if (!c.problems)
		return gh_error_set(GH_ERROR, "out of memory verifying a bundle");
	if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(doc)) {
		problem(&c, "not a JSON object: %s (line %d, column %d)", doc ? "not an object" :
			je.text, je.line, je.column);
		goto done;
	}
	canon = gh_json_canonical(doc);
	if (!canon || strlen(canon) + 1 != len || memcmp(canon, text, len - 1) != 0 ||
	    text[len - 1] != '\n')
		problem(&c, "the file is not in the bundle's canonical form (sorted keys, compact, "
			    "one final newline): it was edited");
	json_object_foreach(doc, key, v)
		if (strcmp(key, "format") && strcmp(key, "request") && strcmp(key, "checkpoint") &&
		    strcmp(key, "events"))
			problem(&c, "unexpected field \"%s\"", key);
	if (!json_is_string(json_object_get(doc, "format")) ||
	    strcmp(json_string_value(json_object_get(doc, "format")), GH_EVIDENCE_FORMAT) != 0)
		problem(&c, "\"format\" is not \"%s\"", GH_EVIDENCE_FORMAT);
	if (!json_is_string(json_object_get(doc, "request")))
		problem(&c, "\"request\" must be the request's id");
	if (!(note = json_string_value(json_object_get(doc, "checkpoint")))) {
		problem(&c, "\"checkpoint\" must be the signed checkpoint's text");
		goto done;
	}
	if (gh_checkpoint_verify(&size, root, origin, sizeof(origin), note, vkey, why,
				 sizeof(why)) != 0) {
		problem(&c, "the checkpoint does not verify with this key: %s", why);
		goto done;
	}
	check_events(&c, doc, size, root);
done:
	gh_error_clear();
	free(canon);
	*report = json_pack("{s:b, s:O?, s:s, s:I, s:I, s:O}", "ok",
			    !c.bad && json_array_size(c.problems) == 0, "request",
			    doc ? json_object_get(doc, "request") : NULL, "origin", origin,
			    "size", (json_int_t)size, "events",
			    (json_int_t)json_array_size(doc ? json_object_get(doc, "events") : NULL),
			    "problems", c.problems);
	rc = c.bad || !*report ? gh_error_set(GH_ERROR, "out of memory verifying a bundle")
	     : json_array_size(c.problems) ? gh_error_set(GH_EINVALID, "the bundle does not verify")
					   : 0;
	json_decref(c.problems);
	json_decref(doc);
	return rc;
}
