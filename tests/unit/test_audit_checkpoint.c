/* test_audit_checkpoint.c - signing keys, signed checkpoints (C2SP signed
 * notes) and their offline verification, and the consistency guard. */
#include "audit/audit.h"
#include "store_fixture.h"
#include "audit/checkpoint.h"
#include "common/error.h"
#include "common/util.h"
#include "harness.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ORIGIN "gatehouse/0a1b2c3d"

static void path_for(char *out, size_t outlen, const char *name)
{
	snprintf(out, outlen, "%s/%s", gh_test_tmpdir(), name);
	remove(out);
}

/* A fresh database with n events, one transaction. */
static gh_store *open_log(const char *name, int n)
{
	char path[512];
	gh_store *s = NULL;

	sf_target(path, sizeof(path), name, 1);
	if (!CHECK_INT(gh_store_open(&s, path, 1), 0))
		return NULL;
	CHECK_INT(gh_store_begin(s), 0);
	for (int i = 1; i <= n; i++) {
		json_t *d = json_pack("{s:i}", "n", i);

		CHECK_INT(gh_audit_append(NULL, s, "idn_00000000000000aa", "request.submitted",
					  "request", "req_0123456789abcdef", d), 0);
		json_decref(d);
	}
	CHECK_INT(gh_store_commit(s), 0);
	return s;
}

static gh_signer *new_signer(const char *file, const char *name)
{
	char path[512];
	gh_signer *k = NULL;

	path_for(path, sizeof(path), file);
	CHECK_INT(gh_signer_create(path, name), 0);
	CHECK_INT(gh_signer_load(&k, path), 0);
	return k;
}

static void add_events(gh_store *s, int n)
{
	CHECK_INT(gh_store_begin(s), 0);
	for (int i = 0; i < n; i++)
		CHECK_INT(gh_audit_append(NULL, s, "idn_00000000000000bb", "grant.revoked", "grant",
					  "grt_0123456789abcdef", NULL), 0);
	CHECK_INT(gh_store_commit(s), 0);
}

static void exec_sql(gh_store *s, const char *sql)
{
	CHECK_INT(sf_exec(s, sql), 0);
}

static long long count(gh_store *s, const char *sql)
{
	return sf_int(s, sql, NULL, NULL);
}

static int verify(const char *note, const char *vkey, char *why, size_t whylen)
{
	gh_merkle_hash root;
	char origin[256];
	int64_t size;

	return gh_checkpoint_verify(&size, root, origin, sizeof(origin), note, vkey, why, whylen);
}

static void test_checkpoint_key__file_mode_and_never_overwritten(void)
{
	char path[512], before[512], after[512];
	gh_signer *k = NULL;
	struct stat st;
	FILE *f;
	size_t n1, n2;

	path_for(path, sizeof(path), "mode.key");
	CHECK_INT(gh_signer_create(path, ORIGIN), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	f = fopen(path, "r");
	n1 = f ? fread(before, 1, sizeof(before), f) : 0;
	if (f)
		fclose(f);
	CHECK(n1 > 12 && memcmp(before, "PRIVATE+KEY+" ORIGIN "+", strlen("PRIVATE+KEY+" ORIGIN "+")) == 0);
	/* a second create refuses and leaves the key alone */
	CHECK_INT(gh_signer_create(path, ORIGIN), GH_ECONFLICT);
	CHECK(strstr(gh_error_last()->message, "never overwritten") != NULL);
	f = fopen(path, "r");
	n2 = f ? fread(after, 1, sizeof(after), f) : 0;
	if (f)
		fclose(f);
	CHECK_INT(n1, n2);
	CHECK(memcmp(before, after, n1) == 0);
	/* a key others can read is refused */
	CHECK_INT(chmod(path, 0644), 0);
	CHECK_INT(gh_signer_load(&k, path), GH_EINVALID);
	CHECK(strstr(gh_error_last()->message, "0644") != NULL);
	CHECK(k == NULL);
	CHECK_INT(chmod(path, 0600), 0);
	CHECK_INT(gh_signer_load(&k, path), 0);
	gh_signer_free(k);
	/* bad names are refused before anything is written */
	path_for(path, sizeof(path), "badname.key");
	CHECK_INT(gh_signer_create(path, "has space"), GH_EINVALID);
	CHECK_INT(gh_signer_create(path, "a+b"), GH_EINVALID);
	CHECK_INT(gh_signer_create(path, ""), GH_EINVALID);
	CHECK(stat(path, &st) != 0);
	path_for(path, sizeof(path), "missing.key");
	CHECK_INT(gh_signer_load(&k, path), GH_ENOTFOUND);
}

static void test_checkpoint_key__vkey_format(void)
{
	gh_signer *k = new_signer("vkey.key", ORIGIN);
	unsigned char raw[64], h[32], alg = 1;
	crypto_hash_sha256_state st;
	char vkey[256], hex[9], *plus1, *plus2;
	size_t rawlen = 0;

	if (!k)
		return;
	CHECK_INT(gh_signer_vkey(vkey, sizeof(vkey), k), 0);
	CHECK_STR(gh_signer_name(k), ORIGIN);
	/* NAME+8hex+base64(0x01 || 32-byte key): 44 base64 characters */
	plus1 = strchr(vkey, '+');
	plus2 = plus1 ? strchr(plus1 + 1, '+') : NULL;
	if (!CHECK(plus1 && plus2))
		goto cleanup;
	CHECK_INT(plus1 - vkey, strlen(ORIGIN));
	CHECK(strncmp(vkey, ORIGIN "+", strlen(ORIGIN) + 1) == 0);
	CHECK_INT(plus2 - plus1, 9);
	CHECK_INT(strlen(plus2 + 1), 44);
	CHECK_INT(sodium_base642bin(raw, sizeof(raw), plus2 + 1, strlen(plus2 + 1), NULL, &rawlen,
				    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	CHECK_INT(rawlen, 33);
	CHECK_INT(raw[0], 1);
	/* the key id, recomputed here: SHA-256(name || "\n" || 0x01 || key)[:4] */
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)ORIGIN "\n", strlen(ORIGIN) + 1);
	crypto_hash_sha256_update(&st, &alg, 1);
	crypto_hash_sha256_update(&st, raw + 1, 32);
	crypto_hash_sha256_final(&st, h);
	gh_hex(hex, h, 4);
	CHECK(strncmp(plus1 + 1, hex, 8) == 0);
	/* the private key never shows in the verifier key */
	CHECK(strstr(vkey, "PRIVATE") == NULL);
cleanup:
	gh_signer_free(k);
}

/* The example of golang.org/x/mod/sumdb/note: our key file format loads the
 * Go signer key, derives the Go verifier key, and verifies the Go note. */
static void test_checkpoint_note__go_reference_vector(void)
{
	static const char skey[] =
		"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n";
	static const char vkey_want[] =
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
	static const char text[] = "If you think cryptography is the answer to your problem,\n"
				   "then you don't know what your problem is.\n";
	static const char note[] =
		"If you think cryptography is the answer to your problem,\n"
		"then you don't know what your problem is.\n"
		"\n"
		"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
		"XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
	char path[512], vkey[256], why[256], *bad;
	gh_signer *k = NULL;
	size_t textlen = 0;
	FILE *f;

	path_for(path, sizeof(path), "go.key");
	f = fopen(path, "w");
	if (!CHECK(f != NULL))
		return;
	fputs(skey, f);
	fclose(f);
	CHECK_INT(chmod(path, 0600), 0);
	CHECK_INT(gh_signer_load(&k, path), 0);
	if (k) {
		CHECK_INT(gh_signer_vkey(vkey, sizeof(vkey), k), 0);
		CHECK_STR(vkey, vkey_want);
	}
	gh_signer_free(k);
	CHECK_INT(gh_note_verify(&textlen, note, vkey_want, why, sizeof(why)), 0);
	CHECK_INT(textlen, strlen(text));
	/* not a checkpoint: the signature holds but the body does not parse */
	CHECK_INT(verify(note, vkey_want, why, sizeof(why)), GH_EINVALID);
	CHECK_STR(why, "malformed body: 2 lines, expected origin, size and root hash");
	bad = strdup(note);
	bad[3] ^= 1;
	CHECK_INT(gh_note_verify(&textlen, bad, vkey_want, why, sizeof(why)), GH_EINVALID);
	CHECK_STR(why, "signature by key PeterNeumann+c74f20a3 does not verify");
	free(bad);
}

static void test_checkpoint_sign__round_trip(void)
{
	gh_store *s = open_log("roundtrip.db", 7);
	gh_signer *k = new_signer("roundtrip.key", ORIGIN);
	gh_merkle_hash root, want;
	char vkey[256], origin[256], why[256], *note = NULL, *latest = NULL, line[64];
	int64_t size = -1, now;

	if (!s || !k)
		goto cleanup;
	CHECK_INT(gh_checkpoint_latest(&latest, s), GH_ENOTFOUND);
	CHECK_INT(gh_checkpoint_sign(&note, s, k, ORIGIN), 0);
	if (!CHECK(note != NULL))
		goto cleanup;
	CHECK_INT(gh_signer_vkey(vkey, sizeof(vkey), k), 0);
	CHECK_INT(gh_checkpoint_verify(&size, root, origin, sizeof(origin), note, vkey, why,
				       sizeof(why)), 0);
	CHECK_STR(why, "");
	CHECK_INT(size, 7);
	CHECK_STR(origin, ORIGIN);
	gh_store_read_begin(s);
	CHECK_INT(gh_merkle_root(want, s, 7), 0);
	gh_store_read_end(s);
	CHECK(memcmp(root, want, sizeof(root)) == 0);
	/* the body is exactly origin, size, root, then the blank line */
	CHECK(strncmp(note, ORIGIN "\n7\n", strlen(ORIGIN) + 3) == 0);
	CHECK(strstr(note, "=\n\n\xe2\x80\x94 " ORIGIN " ") != NULL);
	CHECK_INT(gh_checkpoint_latest(&latest, s), 0);
	CHECK_STR(latest, note);
	/* stored and audited; the audit event is the next leaf */
	CHECK_INT(count(s, "SELECT count(*) FROM checkpoints WHERE size = 7"), 1);
	CHECK_INT(count(s, "SELECT count(*) FROM audit_events WHERE seq = 8 AND action ="
			   " 'checkpoint.signed' AND object_type = 'checkpoint' AND object_id = '7'"),
		  1);
	gh_store_read_begin(s);
	CHECK_INT(gh_merkle_size(&now, s), 0);
	gh_store_read_end(s);
	CHECK_INT(now, 8);
	snprintf(line, sizeof(line), "\n%lld\n", 7LL);
	CHECK(strstr(note, line) != NULL);
cleanup:
	free(note);
	free(latest);
	gh_signer_free(k);
	gh_store_free(s);
}

static void test_checkpoint_verify__every_byte_change_fails(void)
{
	gh_store *s = open_log("bytes.db", 3);
	gh_signer *k = new_signer("bytes.key", ORIGIN);
	static const unsigned char flips[] = {0x01, 0x02, 0x20, 0x40, 0x80};
	char vkey[256], why[256], *note = NULL, *bad = NULL;
	size_t len, undetected = 0;

	if (!s || !k || !CHECK_INT(gh_checkpoint_sign(&note, s, k, ORIGIN), 0))
		goto cleanup;
	CHECK_INT(gh_signer_vkey(vkey, sizeof(vkey), k), 0);
	CHECK_INT(verify(note, vkey, why, sizeof(why)), 0);
	len = strlen(note);
	bad = malloc(len + 2);
	for (size_t i = 0; bad && i < len; i++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(bad, note, len + 1);
			bad[i] = (char)(bad[i] ^ flips[f]);
			if (bad[i] == '\0')
				continue;
			if (verify(bad, vkey, why, sizeof(why)) != GH_EINVALID || !why[0]) {
				undetected++;
				fprintf(stderr, "  byte %zu ^ 0x%02x not detected (%s)\n", i, flips[f],
					why);
			}
		}
		/* and each byte removed */
		memcpy(bad, note, i);
		memcpy(bad + i, note + i + 1, len - i);
		if (verify(bad, vkey, why, sizeof(why)) != GH_EINVALID) {
			undetected++;
			fprintf(stderr, "  byte %zu removed not detected\n", i);
		}
	}
	CHECK_INT(undetected, 0);
	/* a byte appended, or the final newline dropped */
	memcpy(bad, note, len + 1);
	strcat(bad, "x");
	CHECK_INT(verify(bad, vkey, why, sizeof(why)), GH_EINVALID);
	CHECK_STR(why, "malformed note: the signatures do not end with a newline");
	/* the body changed and re-signed by nobody: a precise reason */
	memcpy(bad, note, len + 1);
	bad[strlen(ORIGIN) + 1] = '9';
	CHECK_INT(verify(bad, vkey, why, sizeof(why)), GH_EINVALID);
	CHECK(strncmp(why, "signature by key " ORIGIN "+", strlen("signature by key " ORIGIN "+")) == 0);
	CHECK(strstr(why, "does not verify") != NULL);
cleanup:
	free(bad);
	free(note);
	gh_signer_free(k);
	gh_store_free(s);
}

static void test_checkpoint_verify__wrong_key_unknown_signer_wrong_origin(void)
{
	gh_store *s = open_log("wrongkey.db", 2);
	gh_signer *k = new_signer("wrongkey-a.key", ORIGIN);
	gh_signer *other = new_signer("wrongkey-b.key", ORIGIN);      /* same name, other key */
	gh_signer *stranger = new_signer("wrongkey-c.key", "gatehouse/ffffffff");
	char vk_other[256], vk_stranger[256], why[256], *note = NULL, *note2 = NULL;

	if (!s || !k || !other || !stranger ||
	    !CHECK_INT(gh_checkpoint_sign(&note, s, k, ORIGIN), 0))
		goto cleanup;
	CHECK_INT(gh_signer_vkey(vk_other, sizeof(vk_other), other), 0);
	CHECK_INT(gh_signer_vkey(vk_stranger, sizeof(vk_stranger), stranger), 0);
	/* a key of the same name but another key id: no signature by it */
	CHECK_INT(verify(note, vk_other, why, sizeof(why)), GH_EINVALID);
	CHECK(strncmp(why, "no signature by key " ORIGIN "+", strlen("no signature by key "
								     ORIGIN "+")) == 0);
	CHECK(strstr(why, "1 signature by other keys") != NULL);
	/* a note signed only by an unknown signer */
	CHECK_INT(verify(note, vk_stranger, why, sizeof(why)), GH_EINVALID);
	CHECK(strstr(why, "no signature by key gatehouse/ffffffff+") == why);
	/* the stranger signs a checkpoint naming our origin: its own key verifies
	 * the signature, but the origin is not its name */
	CHECK_INT(gh_checkpoint_sign(&note2, s, stranger, ORIGIN), 0);
	CHECK_INT(verify(note2, vk_stranger, why, sizeof(why)), GH_EINVALID);
	CHECK_STR(why, "origin \"" ORIGIN "\" is not the key's name \"gatehouse/ffffffff\"");
	/* malformed verifier keys say so */
	CHECK_INT(verify(note, "nonsense", why, sizeof(why)), GH_EINVALID);
	CHECK(strstr(why, "malformed verifier key") == why);
	vk_other[strlen(ORIGIN) + 2] ^= 1;   /* a key id digit */
	CHECK_INT(verify(note, vk_other, why, sizeof(why)), GH_EINVALID);
	CHECK(strstr(why, "verifier key") != NULL);
cleanup:
	free(note);
	free(note2);
	gh_signer_free(k);
	gh_signer_free(other);
	gh_signer_free(stranger);
	gh_store_free(s);
}

/* A second signature line, made here with libsodium and the documented
 * format (a witness cosigning the checkpoint). */
static char *cosign(const char *note, const char *name, const unsigned char *seed, char *vkey,
		    size_t vkeylen)
{
	unsigned char pk[32], sk[64], raw[33], h[32], sig[68], alg = 1;
	char b64[128], hex[9], kb64[64], *out;
	crypto_hash_sha256_state st;
	const char *split = strstr(note, "\n\n");
	size_t textlen = (size_t)(split - note) + 1, n = strlen(note) + 256;

	crypto_sign_seed_keypair(pk, sk, seed);
	raw[0] = 1;
	memcpy(raw + 1, pk, 32);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
	crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
	crypto_hash_sha256_update(&st, &alg, 1);
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_final(&st, h);
	gh_hex(hex, h, 4);
	sodium_bin2base64(kb64, sizeof(kb64), raw, 33, sodium_base64_VARIANT_ORIGINAL);
	snprintf(vkey, vkeylen, "%s+%s+%s", name, hex, kb64);
	memcpy(sig, h, 4);
	crypto_sign_detached(sig + 4, NULL, (const unsigned char *)note, textlen, sk);
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	if (!(out = malloc(n)))
		return NULL;
	snprintf(out, n, "%s\xe2\x80\x94 %s %s\n", note, name, b64);
	return out;
}

static void test_checkpoint_verify__two_signatures(void)
{
	gh_store *s = open_log("twosig.db", 4);
	gh_signer *k = new_signer("twosig.key", ORIGIN);
	unsigned char seed[32];
	char vkey[256], wkey[256], why[256], *note = NULL, *both = NULL;
	size_t textlen = 0;

	memset(seed, 0x42, sizeof(seed));
	if (!s || !k || !CHECK_INT(gh_checkpoint_sign(&note, s, k, ORIGIN), 0))
		goto cleanup;
	CHECK_INT(gh_signer_vkey(vkey, sizeof(vkey), k), 0);
	if (!CHECK((both = cosign(note, "witness.example/w1", seed, wkey, sizeof(wkey))) != NULL))
		goto cleanup;
	/* ours verifies with the witness's line present, and the witness's too */
	if (!CHECK_INT(verify(both, vkey, why, sizeof(why)), 0))
		fprintf(stderr, "  %s\n%s", why, both);
	CHECK_INT(gh_note_verify(&textlen, both, wkey, why, sizeof(why)), 0);
	CHECK_INT(textlen, strstr(note, "\n\n") - note + 1);
	/* the witness alone is not the log: no signature by the log's key */
	CHECK_INT(verify(both, wkey, why, sizeof(why)), GH_EINVALID);
	/* a broken witness line does not hide a valid log signature, but is
	 * caught when the witness's key is asked for */
	both[strlen(both) - 20] = both[strlen(both) - 20] == 'A' ? 'B' : 'A';
	CHECK_INT(verify(both, vkey, why, sizeof(why)), 0);
	CHECK_INT(gh_note_verify(&textlen, both, wkey, why, sizeof(why)), GH_EINVALID);
cleanup:
	free(note);
	free(both);
	gh_signer_free(k);
	gh_store_free(s);
}

/* The guard: once a checkpoint is signed, a log whose earlier part was
 * rewritten (and its tree recomputed to match) is never signed again. */
static void test_checkpoint_sign__refuses_after_rewrite(void)
{
	gh_store *s = open_log("rewrite.db", 6);
	gh_signer *k = new_signer("rewrite.key", ORIGIN);
	char *note = NULL, *again = NULL;

	if (!s || !k || !CHECK_INT(gh_checkpoint_sign(&note, s, k, ORIGIN), 0))
		goto cleanup;
	add_events(s, 2);
	/* an intact log that grew signs fine */
	CHECK_INT(gh_checkpoint_sign(&again, s, k, ORIGIN), 0);
	free(again);
	again = NULL;
	CHECK_INT(count(s, "SELECT count(*) FROM checkpoints"), 2);
	/* a forger rewrites event 3 and rebuilds the stored tree consistently:
	 * the root of every earlier checkpoint size changes */
	exec_sql(s, "UPDATE audit_events SET details = '{\"n\":33}' WHERE seq = 3;"
		    "DELETE FROM merkle_nodes");
	CHECK_INT(sf_backfill(s), 0);
	CHECK_INT(gh_checkpoint_sign(&again, s, k, ORIGIN), GH_ECONFLICT);
	CHECK(again == NULL);
	CHECK(strstr(gh_error_last()->message, "refusing to sign") != NULL);
	CHECK_INT(count(s, "SELECT count(*) FROM checkpoints"), 2);
	/* and nothing was appended for the refused attempt */
	CHECK_INT(count(s, "SELECT count(*) FROM audit_events WHERE action = 'checkpoint.signed'"),
		  2);
	/* the truncated log (fewer leaves than signed) is refused too */
	exec_sql(s, "UPDATE audit_events SET details = '{\"n\":3}' WHERE seq = 3;"
		    "DELETE FROM audit_events WHERE seq > 5; UPDATE audit_head SET seq = 5,"
		    " hash = (SELECT hash FROM audit_events WHERE seq = 5);"
		    "DELETE FROM merkle_nodes");
	CHECK_INT(sf_backfill(s), 0);
	CHECK_INT(gh_checkpoint_sign(&again, s, k, ORIGIN), GH_ECONFLICT);
	CHECK(strstr(gh_error_last()->message, "fewer than") != NULL);
cleanup:
	free(note);
	free(again);
	gh_signer_free(k);
	gh_store_free(s);
}

static void test_checkpoint_sign__if_grew(void)
{
	gh_store *s = open_log("grew.db", 0);
	gh_signer *k = new_signer("grew.key", ORIGIN);
	char *note = NULL;

	if (!s || !k)
		goto cleanup;
	/* an empty log gets its first checkpoint (size 0, SHA-256 of "") */
	CHECK_INT(gh_checkpoint_sign_if_grew(&note, s, k, ORIGIN), 0);
	CHECK(note && strstr(note, ORIGIN "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"));
	free(note);
	/* only its own event since: nothing to sign */
	CHECK_INT(gh_checkpoint_sign_if_grew(&note, s, k, ORIGIN), 0);
	CHECK(note == NULL);
	add_events(s, 1);
	CHECK_INT(gh_checkpoint_sign_if_grew(&note, s, k, ORIGIN), 0);
	CHECK(note && strstr(note, ORIGIN "\n2\n") == note);
	free(note);
	note = NULL;
	CHECK_INT(gh_checkpoint_sign(&note, s, k, "bad origin"), GH_EINVALID);
cleanup:
	free(note);
	gh_signer_free(k);
	gh_store_free(s);
}

int main(int argc, char **argv)
{
	static const gh_test_case cases[] = {
		{"checkpoint_key__file_mode_and_never_overwritten",
		 test_checkpoint_key__file_mode_and_never_overwritten},
		{"checkpoint_key__vkey_format", test_checkpoint_key__vkey_format},
		{"checkpoint_note__go_reference_vector", test_checkpoint_note__go_reference_vector},
		{"checkpoint_sign__round_trip", test_checkpoint_sign__round_trip},
		{"checkpoint_verify__every_byte_change_fails",
		 test_checkpoint_verify__every_byte_change_fails},
		{"checkpoint_verify__wrong_key_unknown_signer_wrong_origin",
		 test_checkpoint_verify__wrong_key_unknown_signer_wrong_origin},
		{"checkpoint_verify__two_signatures", test_checkpoint_verify__two_signatures},
		{"checkpoint_sign__refuses_after_rewrite", test_checkpoint_sign__refuses_after_rewrite},
		{"checkpoint_sign__if_grew", test_checkpoint_sign__if_grew},
		{NULL, NULL}};

	if (gh_init())
		return 2;
	return gh_test_run(cases, argc, argv);
}
