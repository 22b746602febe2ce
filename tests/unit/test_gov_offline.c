/* test_gov_offline.c - what the command checks without a server, through the
 * public headers alone (gatehouse/gov.h, as a front end sees them): the
 * proofs a server hands out, signed checkpoints, the signing key's verifier
 * key and rotation, and the SIEM export's formats and state file. */
#include "gatehouse/common.h"
#include "gatehouse/errors.h"
#include "gatehouse/gov.h"
#include "harness.h"
#include "store_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void path_for(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s", gh_test_tmpdir(), name);
	remove(out);
}

/* A new database with its admin, a signing key at keypath and a few events. */
static gh_gov *open_gov(gh_actor *admin, const char *name, char *keypath, size_t keylen)
{
	char path[512], origin[64], vkey[256];
	char *token = NULL;
	gh_gov *g = NULL;
	json_t *out = NULL, *in;

	sf_target(path, sizeof(path), name, 1);
	snprintf(keypath, keylen, "%s/%s.signing-key", gh_test_tmpdir(), name);
	remove(keypath);
	if (!CHECK_INT(gh_gov_open(&g, path, 1, NULL), 0))
		return NULL;
	CHECK_INT(gh_gov_bootstrap(&token, g, "admin"), 0);
	CHECK_INT(gh_gov_authenticate(admin, g, token), 0);
	free(token);
	CHECK_INT(gh_gov_checkpoint_key_create(origin, sizeof(origin), vkey, sizeof(vkey), g,
					       keypath), 0);
	for (int i = 0; i < 3; i++) {
		char n[32];

		snprintf(n, sizeof(n), "group-%d", i);
		in = json_pack("{s:s}", "name", n);
		CHECK_INT(gh_gov_group_create(&out, g, admin, in), 0);
		json_decref(in);
		json_decref(out);
		out = NULL;
	}
	return g;
}

/* Replaces member key of answer with a valid hash that is not the right one. */
static void wrong_hash(json_t *answer, const char *key)
{
	json_object_set_new(answer, key,
			    json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
}

static void test_proofs__server_answers_hold_and_tampered_ones_do_not(void)
{
	char keypath[600];
	gh_actor admin;
	gh_gov *g = open_gov(&admin, "proofs.db", keypath, sizeof(keypath));
	json_t *inc = NULL, *cons = NULL;

	if (!g)
		return;
	CHECK_INT(gh_gov_audit_inclusion(&inc, g, &admin, "2", NULL), 0);
	CHECK_INT(gh_gov_audit_inclusion_check(inc), 0);
	CHECK_INT(gh_gov_audit_consistency(&cons, g, &admin, "1", NULL), 0);
	CHECK_INT(gh_gov_audit_consistency_check(cons), 0);

	/* the other kind's check finds no hashes where it looks: malformed */
	CHECK_INT(gh_gov_audit_consistency_check(inc), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "malformed") != NULL);

	wrong_hash(inc, "root");
	CHECK_INT(gh_gov_audit_inclusion_check(inc), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "malformed") == NULL);
	wrong_hash(cons, "old_root");
	CHECK_INT(gh_gov_audit_consistency_check(cons), GH_EINVALID);

	json_object_set_new(inc, "proof", json_string("not an array"));
	CHECK_INT(gh_gov_audit_inclusion_check(inc), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "malformed") != NULL);
	json_decref(inc);
	json_decref(cons);
	gh_gov_free(g);
}

static void test_checkpoint__verifies_offline_with_the_verifier_key(void)
{
	char keypath[600], keypath2[600], vkey[256], vkey2[256], size[32];
	gh_gov_checkpoint_options o = {0};
	gh_gov_checkpoint_check check;
	gh_actor admin;
	gh_gov *g = open_gov(&admin, "checkpoint.db", keypath, sizeof(keypath));
	json_t *cp = NULL, *tree = NULL;
	const char *note;
	int off = 1;

	if (!g)
		return;
	o.key_path = keypath;
	o.key_required = 1;
	o.after_ms = -1;
	o.every_ms = 3600 * 1000;
	CHECK_INT(gh_gov_checkpoints_start(g, &o, &off), 0);
	CHECK_INT(off, 0);
	CHECK_INT(gh_gov_checkpoint_sign(&cp, g, &admin), 0);
	note = json_string_value(json_object_get(cp, "note"));
	CHECK(note != NULL);
	CHECK_INT(gh_gov_checkpoint_key_vkey(vkey, sizeof(vkey), keypath), 0);

	CHECK_INT(gh_gov_checkpoint_verify(&check, note ? note : "", vkey), 0);
	CHECK_INT(check.size, json_integer_value(json_object_get(cp, "size")));
	CHECK_STR(check.root, json_string_value(json_object_get(cp, "root")));
	CHECK_STR(check.origin, json_string_value(json_object_get(cp, "origin")));
	CHECK_STR(check.why, "");
	/* it signs the root the server reports for its size */
	snprintf(size, sizeof(size), "%lld", (long long)check.size);
	CHECK_INT(gh_gov_audit_tree(&tree, g, &admin, size), 0);
	CHECK_STR(check.root, json_string_value(json_object_get(tree, "root")));

	/* a rotated key is for the same origin, and the old note does not verify under it */
	path_for(keypath2, sizeof(keypath2), "checkpoint.db.key2");
	CHECK_INT(gh_gov_checkpoint_key_rotate(vkey2, sizeof(vkey2), g, keypath2), 0);
	CHECK(strcmp(vkey, vkey2) != 0);
	CHECK(strncmp(vkey2, check.origin, strlen(check.origin)) == 0);
	CHECK_INT(gh_gov_checkpoint_verify(&check, note ? note : "", vkey2), GH_EINVALID);
	CHECK(check.why[0] != '\0');
	CHECK_INT(check.size, 0);
	/* never over an existing file */
	CHECK_INT(gh_gov_checkpoint_key_rotate(NULL, 0, g, keypath), GH_ECONFLICT);
	CHECK_INT(gh_gov_checkpoint_key_vkey(vkey2, sizeof(vkey2), "/nonexistent/key"),
		  GH_ENOTFOUND);
	json_decref(cp);
	json_decref(tree);
	gh_gov_free(g);
}

static void test_export__cef_syslog_and_state(void)
{
	gh_gov_export_state st = {0}, back;
	json_t *ev = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:{}}", "seq", (json_int_t)7,
			       "ts_us", (json_int_t)1700000000000000LL, "actor", "idn_x",
			       "action", "grant.revoked", "object_type", "grant", "object_id",
			       "grt_1", "details");
	json_t *arr = json_array();
	char *line = NULL, *msg = NULL, path[512];
	size_t len = 0, mlen = 0;

	CHECK_INT(gh_gov_export_cef(&line, &len, ev), 0);
	CHECK(line && strncmp(line, "CEF:0|Gatehouse|Gatehouse|", 26) == 0);
	CHECK(line && strstr(line, "cn1=7") != NULL);
	CHECK_INT(gh_gov_export_syslog(&msg, &mlen, ev, "host", 42, line ? line : "", len), 0);
	/* authpriv (10) * 8 + notice (5) for a revocation: severity 6 */
	CHECK(msg && strncmp(msg, "<85>1 2023-11-14T22:13:20", 25) == 0);
	CHECK(msg && strstr(msg, " host gatehouse 42 audit - CEF:0|") != NULL);
	free(line);
	line = NULL;
	CHECK_INT(gh_gov_export_cef(&line, &len, arr), GH_EINVALID);

	path_for(path, sizeof(path), "export.state");
	CHECK_INT(gh_gov_export_state_read(&back, path), GH_ENOTFOUND);
	st.seq = 1234;
	snprintf(st.format, sizeof(st.format), "cef");
	snprintf(st.output, sizeof(st.output), "file");
	st.offset = 99;
	st.dev = 3;
	st.ino = 4;
	CHECK_INT(gh_gov_export_state_write(path, &st), 0);
	CHECK_INT(gh_gov_export_state_read(&back, path), 0);
	CHECK_INT(back.seq, 1234);
	CHECK_STR(back.format, "cef");
	CHECK_STR(back.output, "file");
	CHECK_INT(back.offset, 99);
	CHECK_INT(back.dev, 3);
	CHECK_INT(back.ino, 4);
	free(line);
	free(msg);
	json_decref(ev);
	json_decref(arr);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"proofs__server_answers_hold_and_tampered_ones_do_not",
		 test_proofs__server_answers_hold_and_tampered_ones_do_not},
		{"checkpoint__verifies_offline_with_the_verifier_key",
		 test_checkpoint__verifies_offline_with_the_verifier_key},
		{"export__cef_syslog_and_state", test_export__cef_syslog_and_state},
		{NULL, NULL},
	};

	if (gh_init())
		return 2;
	return gh_test_run(cases, argc, argv);
}
