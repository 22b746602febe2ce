/* checkpoint.c - Ed25519 signing keys, signed C2SP checkpoints of the audit
 * tree and their offline verification (docs/internals/audit.md). */
#include "audit/checkpoint.h"
#include "audit/audit.h"
#include "common/error.h"
#include "common/util.h"
#include "store/checkpoints.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 128         /* bytes of a key name (and of an origin) */
#define KEY_FILE_MAX 1024        /* bytes of a key file */
#define NOTE_MAX (64 * 1024)     /* bytes of a note we verify */
#define SIGS_MAX 100             /* signature lines of a note (as Go's note package) */
#define ALG_ED25519 0x01
#define KEY_PREFIX "PRIVATE+KEY+"
#define EM_DASH "\xe2\x80\x94 "  /* U+2014 and a space start a signature line */

struct gh_signer {
	char name[NAME_MAX_LEN + 1];
	unsigned char id[4];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

/* C2SP signed-note key names: non-empty, no spaces, no '+'; we also refuse
 * control characters and anything past NAME_MAX_LEN. */
static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '+')
			return 0;
	}
	return 1;
}

/* key id = SHA-256(name || "\n" || 0x01 || public key)[:4] */
static void key_id(unsigned char out[4], const char *name, const unsigned char *pk)
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES], alg = ALG_ED25519;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name));
	crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
	crypto_hash_sha256_update(&st, &alg, 1);
	crypto_hash_sha256_update(&st, pk, crypto_sign_PUBLICKEYBYTES);
	crypto_hash_sha256_final(&st, h);
	memcpy(out, h, 4);
}

/* Strict standard base64 (padding required, no spaces, no stray bits) of
 * exactly n bytes of s; returns the decoded length or -1. */
static long b64_decode(unsigned char *out, size_t cap, const char *s, size_t n)
{
	size_t len = 0;
	const char *end = NULL;

	/* libsodium's decoder maps some bytes >= 0x80 onto base64 digits, so
	 * the alphabet is checked here first */
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '='))
			return -1;
	}
	if (n == 0 || sodium_base642bin(out, cap, s, n, NULL, &len, &end,
					sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + n)
		return -1;
	return (long)len;
}

static void b64_encode(char *out, size_t outlen, const unsigned char *in, size_t n)
{
	sodium_bin2base64(out, outlen, in, n, sodium_base64_VARIANT_ORIGINAL);
}

static int hex_decode(unsigned char *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		int v = 0;

		for (int j = 0; j < 2; j++) {
			char c = s[2 * i + j];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* --- keys ---------------------------------------------------------------- */

/* The key file is one line in the Go note package's signer format:
 *   PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte Ed25519 seed)>
 * so it can also be used by golang.org/x/mod/sumdb/note.NewSigner. */
int gh_signer_create(const char *path, const char *name)
{
	unsigned char seed[1 + crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES], id[4];
	char line[KEY_FILE_MAX], b64[sodium_base64_ENCODED_LEN(sizeof(seed),
							    sodium_base64_VARIANT_ORIGINAL)];
	char hex[9];
	int fd = -1, rc = 0, n;

	if (!name_ok(name, strlen(name)))
		return gh_error_set(GH_EINVALID, "key name \"%s\" must be 1 to %d bytes without"
				    " spaces, control characters or '+'", name, NAME_MAX_LEN);
	if (sodium_init() < 0)
		return gh_error_set(GH_ERROR, "libsodium cannot be initialised");
	seed[0] = ALG_ED25519;
	randombytes_buf(seed + 1, crypto_sign_SEEDBYTES);
	crypto_sign_seed_keypair(pk, sk, seed + 1);
	key_id(id, name, pk);
	gh_hex(hex, id, 4);
	b64_encode(b64, sizeof(b64), seed, sizeof(seed));
	n = snprintf(line, sizeof(line), KEY_PREFIX "%s+%s+%s\n", name, hex, b64);
	/* O_EXCL: a key is never overwritten, whoever created the file */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = errno == EEXIST ? gh_error_set(GH_ECONFLICT, "signing key %s already exists;"
						    " it is never overwritten", path)
				     : gh_error_set(GH_ERROR, "cannot create signing key %s: %s",
						    path, strerror(errno));
		goto cleanup;
	}
	if (fchmod(fd, 0600) != 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
		rc = gh_error_set(GH_ERROR, "cannot write signing key %s: %s", path,
				  strerror(errno));
		unlink(path);
	}
cleanup:
	if (fd >= 0)
		close(fd);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(line, sizeof(line));
	sodium_memzero(b64, sizeof(b64));
	return rc;
}

static int key_parse(gh_signer *k, const char *text, size_t len, const char *path)
{
	unsigned char seed[1 + crypto_sign_SEEDBYTES + 4], id[4];
	const char *p, *plus1, *plus2;
	size_t namelen;
	int rc = 0;

	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len < strlen(KEY_PREFIX) || memcmp(text, KEY_PREFIX, strlen(KEY_PREFIX)) != 0)
		return gh_error_set(GH_EINVALID, "signing key %s: not a PRIVATE+KEY+ line", path);
	p = text + strlen(KEY_PREFIX);
	if (!(plus1 = memchr(p, '+', len - (size_t)(p - text))) ||
	    !(plus2 = memchr(plus1 + 1, '+', len - (size_t)(plus1 + 1 - text))) ||
	    plus2 - plus1 != 9)
		return gh_error_set(GH_EINVALID, "signing key %s: expected"
				    " PRIVATE+KEY+NAME+KEYID+KEY", path);
	namelen = (size_t)(plus1 - p);
	if (!name_ok(p, namelen))
		return gh_error_set(GH_EINVALID, "signing key %s: bad key name", path);
	memcpy(k->name, p, namelen);
	k->name[namelen] = '\0';
	if (hex_decode(id, plus1 + 1, 8) ||
	    b64_decode(seed, sizeof(seed), plus2 + 1, len - (size_t)(plus2 + 1 - text)) !=
		    1 + crypto_sign_SEEDBYTES ||
	    seed[0] != ALG_ED25519) {
		rc = gh_error_set(GH_EINVALID, "signing key %s: bad key id or key", path);
		goto cleanup;
	}
	crypto_sign_seed_keypair(k->pk, k->sk, seed + 1);
	key_id(k->id, k->name, k->pk);
	if (memcmp(id, k->id, 4) != 0)
		rc = gh_error_set(GH_EINVALID, "signing key %s: the key id does not match the key",
				  path);
cleanup:
	sodium_memzero(seed, sizeof(seed));
	return rc;
}

int gh_signer_load(gh_signer **out, const char *path)
{
	char buf[KEY_FILE_MAX + 1];
	gh_signer *k = NULL;
	struct stat st;
	ssize_t n = 0, r;
	int fd, rc;

	*out = NULL;
	if (sodium_init() < 0)
		return gh_error_set(GH_ERROR, "libsodium cannot be initialised");
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return gh_error_set(errno == ENOENT ? GH_ENOTFOUND : GH_ERROR,
				    "cannot open signing key %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = gh_error_set(GH_EINVALID, "signing key %s is not a regular file", path);
		goto cleanup;
	}
	/* like ssh: a private key others can read is refused, not used */
	if (st.st_mode & 077) {
		rc = gh_error_set(GH_EINVALID, "signing key %s has mode %04o; it must be readable"
				  " by its owner only (chmod 600)", path,
				  (unsigned)(st.st_mode & 07777));
		goto cleanup;
	}
	while (n < KEY_FILE_MAX && (r = read(fd, buf + n, (size_t)(KEY_FILE_MAX - n))) > 0)
		n += r;
	if (n >= KEY_FILE_MAX) {
		rc = gh_error_set(GH_ETOOLARGE, "signing key %s is too large", path);
		goto cleanup;
	}
	if (!(k = sodium_malloc(sizeof(*k)))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	memset(k, 0, sizeof(*k));
	if ((rc = key_parse(k, buf, (size_t)n, path)))
		goto cleanup;
	*out = k;
	k = NULL;
cleanup:
	close(fd);
	sodium_memzero(buf, sizeof(buf));
	gh_signer_free(k);
	return rc;
}

void gh_signer_free(gh_signer *k)
{
	if (k)
		sodium_free(k);   /* zeroes the memory */
}

static int vkey_text(char *out, size_t outlen, const char *name, const unsigned char id[4],
		     const unsigned char *pk)
{
	unsigned char raw[1 + crypto_sign_PUBLICKEYBYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_ORIGINAL)], hex[9];
	int n;

	raw[0] = ALG_ED25519;
	memcpy(raw + 1, pk, crypto_sign_PUBLICKEYBYTES);
	gh_hex(hex, id, 4);
	b64_encode(b64, sizeof(b64), raw, sizeof(raw));
	n = snprintf(out, outlen, "%s+%s+%s", name, hex, b64);
	if (n < 0 || (size_t)n >= outlen)
		return gh_error_set(GH_ETOOLARGE, "verifier key buffer too small");
	return 0;
}

int gh_signer_vkey(char *out, size_t outlen, const gh_signer *k)
{
	return vkey_text(out, outlen, k->name, k->id, k->pk);
}

const char *gh_signer_name(const gh_signer *k)
{
	return k->name;
}

/* --- signing ------------------------------------------------------------- */

/* The note for body signed by k: body, a blank line, one signature line. */
static char *note_sign(const gh_signer *k, const char *body)
{
	unsigned char sig[4 + crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(sizeof(sig), sodium_base64_VARIANT_ORIGINAL)];
	size_t n = strlen(body) + strlen(k->name) + sizeof(b64) + 16;
	char *note = malloc(n);

	if (!note)
		return NULL;
	memcpy(sig, k->id, 4);
	crypto_sign_detached(sig + 4, NULL, (const unsigned char *)body, strlen(body), k->sk);
	b64_encode(b64, sizeof(b64), sig, sizeof(sig));
	snprintf(note, n, "%s\n" EM_DASH "%s %s\n", body, k->name, b64);
	return note;
}

typedef struct last_checkpoint {
	int found;
	int64_t size;
	gh_merkle_hash root;
} last_checkpoint;

static int load_last(last_checkpoint *out, gh_store *s)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = gh_store_checkpoint_latest(&out->size, out->root, NULL, s);
	if (rc == GH_ENOTFOUND)
		return 0;
	out->found = rc == 0;
	return rc;
}

/* Inside the caller's transaction. With only_if_grew, signs nothing (0,
 * *note NULL) unless events other than the last checkpoint's own were
 * appended since it. */
static int sign_locked(char **note, gh_store *s, const gh_signer *k, const char *origin,
		       int only_if_grew)
{
	char body[NAME_MAX_LEN + 128], b64[sodium_base64_ENCODED_LEN(GH_MERKLE_HASH_LEN,
								  sodium_base64_VARIANT_ORIGINAL)];
	char size_text[24];
	gh_merkle_hash root, old_root;
	last_checkpoint last;
	json_t *details = NULL;
	int64_t size;
	int rc;

	if ((rc = gh_merkle_size(&size, s)) || (rc = gh_merkle_root(root, s, size)) ||
	    (rc = load_last(&last, s)))
		return rc;
	/* the last checkpoint's own event is leaf last.size: nothing new after it */
	if (only_if_grew && last.found && size <= last.size + 1)
		return 0;
	/* never sign a tree the last signed checkpoint is not a prefix of */
	if (last.found && last.size > size)
		return gh_error_set(GH_ECONFLICT, "refusing to sign: the tree has %lld leaves,"
				    " fewer than the %lld of the last signed checkpoint",
				    (long long)size, (long long)last.size);
	if (last.found) {
		if ((rc = gh_merkle_root(old_root, s, last.size)))
			return rc;
		if (sodium_memcmp(old_root, last.root, GH_MERKLE_HASH_LEN) != 0)
			return gh_error_set(GH_ECONFLICT, "refusing to sign: the root of the first"
					    " %lld leaves is no longer the one of the last signed"
					    " checkpoint (the log was changed)",
					    (long long)last.size);
	}
	b64_encode(b64, sizeof(b64), root, GH_MERKLE_HASH_LEN);
	snprintf(body, sizeof(body), "%s\n%lld\n%s\n", origin, (long long)size, b64);
	if (!(*note = note_sign(k, body)))
		return gh_error_set(GH_ERROR, "out of memory");
	if ((rc = gh_store_checkpoint_insert(s, size, root, *note, gh_now())))
		goto cleanup;
	snprintf(size_text, sizeof(size_text), "%lld", (long long)size);
	if (!(details = json_pack("{s:s, s:I, s:s}", "origin", origin, "size", (json_int_t)size,
				  "root", b64))) {
		rc = gh_error_set(GH_ERROR, "out of memory");
		goto cleanup;
	}
	rc = gh_audit_append(NULL, s, "system:checkpoint", "checkpoint.signed", "checkpoint",
			     size_text, details);
cleanup:
	json_decref(details);
	if (rc) {
		free(*note);
		*note = NULL;
	}
	return rc;
}

static int sign_tx(char **note, gh_store *s, const gh_signer *k, const char *origin,
		   int only_if_grew)
{
	int rc;

	*note = NULL;
	if (!name_ok(origin, strlen(origin)))
		return gh_error_set(GH_EINVALID, "origin \"%s\" must be 1 to %d bytes without"
				    " spaces, control characters or '+'", origin, NAME_MAX_LEN);
	if ((rc = gh_store_begin(s)))
		return rc;
	rc = sign_locked(note, s, k, origin, only_if_grew);
	if (rc) {
		gh_store_rollback(s);
		return rc;
	}
	if ((rc = gh_store_commit(s))) {
		free(*note);
		*note = NULL;
	}
	return rc;
}

int gh_checkpoint_sign(char **note, gh_store *s, const gh_signer *k, const char *origin)
{
	return sign_tx(note, s, k, origin, 0);
}

int gh_checkpoint_sign_if_grew(char **note, gh_store *s, const gh_signer *k, const char *origin)
{
	return sign_tx(note, s, k, origin, 1);
}

int gh_checkpoint_latest(char **note, gh_store *s)
{
	int64_t size;
	int rc;

	gh_store_read_begin(s);
	rc = gh_store_checkpoint_latest(&size, NULL, note, s);
	gh_store_read_end(s);
	return rc;
}

int gh_checkpoint_latest_size(int64_t *size, gh_store *s)
{
	int rc;

	gh_store_read_begin(s);
	rc = gh_store_checkpoint_latest(size, NULL, NULL, s);
	gh_store_read_end(s);
	if (rc == GH_ENOTFOUND) {
		gh_error_clear();
		return 0;     /* *size is -1: none yet */
	}
	return rc;
}

/* --- verification -------------------------------------------------------- */

typedef struct vkey {
	char name[NAME_MAX_LEN + 1];
	unsigned char id[4];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
} vkey;

static int fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
	return gh_error_set(GH_EINVALID, "%s", msg);
}

/* "<name>+<8 hex key id>+<base64(0x01 || public key)>", surrounding
 * whitespace ignored (a file's final newline). */
static int vkey_parse(vkey *out, const char *text, char *why, size_t whylen)
{
	unsigned char raw[1 + crypto_sign_PUBLICKEYBYTES + 4], id[4];
	const char *end, *plus1, *plus2;
	size_t len;

	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	len = strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
			   text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	end = text + len;
	if (!(plus1 = memchr(text, '+', len)) ||
	    !(plus2 = memchr(plus1 + 1, '+', (size_t)(end - plus1 - 1))) || plus2 - plus1 != 9)
		return fail(why, whylen, "malformed verifier key: expected NAME+KEYID+KEY");
	if (!name_ok(text, (size_t)(plus1 - text)))
		return fail(why, whylen, "malformed verifier key: bad key name");
	memcpy(out->name, text, (size_t)(plus1 - text));
	out->name[plus1 - text] = '\0';
	if (hex_decode(id, plus1 + 1, 8))
		return fail(why, whylen, "malformed verifier key: the key id is not 8 hex digits");
	if (b64_decode(raw, sizeof(raw), plus2 + 1, (size_t)(end - plus2 - 1)) !=
	    1 + crypto_sign_PUBLICKEYBYTES)
		return fail(why, whylen, "malformed verifier key: the key is not base64 of 33 bytes");
	if (raw[0] != ALG_ED25519)
		return fail(why, whylen, "verifier key: algorithm %u is not Ed25519 (1)", raw[0]);
	memcpy(out->pk, raw + 1, crypto_sign_PUBLICKEYBYTES);
	key_id(out->id, out->name, out->pk);
	if (memcmp(id, out->id, 4) != 0)
		return fail(why, whylen, "verifier key: the key id does not match the key");
	return 0;
}

/* C2SP signed note: the text up to and including the newline before the
 * last blank line is signed; then signature lines "— name base64". Every
 * line by vk (name and key id) must verify and there must be one; lines by
 * other keys are ignored. *textlen receives the signed text's length. */
static int note_open(size_t *textlen, const char *note, const vkey *vk, char *why, size_t whylen)
{
	size_t len = strlen(note), split = 0, nsigs = 0, mine = 0;
	const char *p, *end;
	char hex[9];

	gh_hex(hex, vk->id, 4);
	if (len > NOTE_MAX)
		return fail(why, whylen, "note is larger than %d bytes", NOTE_MAX);
	for (size_t i = 0; i + 1 < len; i++)
		if (note[i] == '\n' && note[i + 1] == '\n')
			split = i + 1;
	if (!split)
		return fail(why, whylen, "malformed note: no blank line before the signatures");
	for (size_t i = 0; i < split; i++) {
		unsigned char c = (unsigned char)note[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return fail(why, whylen, "malformed note: control character in the text");
	}
	p = note + split + 1;
	end = note + len;
	if (p == end || end[-1] != '\n')
		return fail(why, whylen, "malformed note: the signatures do not end with a newline");
	for (; p < end; nsigs++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *sp;
		unsigned char sig[4 + crypto_sign_BYTES + 4];
		long n;

		if (nsigs >= SIGS_MAX)
			return fail(why, whylen, "note has more than %d signatures", SIGS_MAX);
		if ((size_t)(eol - p) < strlen(EM_DASH) || memcmp(p, EM_DASH, strlen(EM_DASH)))
			return fail(why, whylen, "malformed signature line %zu: does not start with"
				    " an em dash and a space", nsigs + 1);
		p += strlen(EM_DASH);
		if (!(sp = memchr(p, ' ', (size_t)(eol - p))) || !name_ok(p, (size_t)(sp - p)))
			return fail(why, whylen, "malformed signature line %zu: bad key name",
				    nsigs + 1);
		n = b64_decode(sig, sizeof(sig), sp + 1, (size_t)(eol - sp - 1));
		if (n < 5)
			return fail(why, whylen, "malformed signature line %zu: not base64 of a key"
				    " id and a signature", nsigs + 1);
		if ((size_t)(sp - p) == strlen(vk->name) && memcmp(p, vk->name, strlen(vk->name)) == 0 &&
		    memcmp(sig, vk->id, 4) == 0) {
			if (n != 4 + crypto_sign_BYTES ||
			    crypto_sign_verify_detached(sig + 4, (const unsigned char *)note, split,
							vk->pk) != 0)
				return fail(why, whylen, "signature by key %s+%s does not verify",
					    vk->name, hex);
			mine++;
		}
		p = eol + 1;
	}
	if (!mine)
		return fail(why, whylen, "no signature by key %s+%s (the note has %zu signature%s"
			    " by other keys)", vk->name, hex, nsigs, nsigs == 1 ? "" : "s");
	*textlen = split;
	return 0;
}

/* tlog-checkpoint body: origin, decimal size, base64 root, then optional
 * extension lines. */
static int body_parse(int64_t *size, gh_merkle_hash root, char *origin, size_t originlen,
		      const char *text, size_t len, char *why, size_t whylen)
{
	const char *line[3], *end = text + len, *p = text;
	size_t linelen[3];
	unsigned char hash[GH_MERKLE_HASH_LEN + 4];
	int64_t v = 0;

	for (int i = 0; i < 3; i++) {
		const char *eol = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;

		if (!eol)
			return fail(why, whylen, "malformed body: %d line%s, expected origin, size"
				    " and root hash", i, i == 1 ? "" : "s");
		line[i] = p;
		linelen[i] = (size_t)(eol - p);
		p = eol + 1;
	}
	for (; p < end; p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1)
		if (*p == '\n')
			return fail(why, whylen, "malformed body: empty extension line");
	if (linelen[0] == 0)
		return fail(why, whylen, "malformed body line 1: empty origin");
	if (linelen[1] == 0 || linelen[1] > 18 || (line[1][0] == '0' && linelen[1] > 1))
		return fail(why, whylen, "malformed body line 2: tree size is not a decimal number");
	for (size_t i = 0; i < linelen[1]; i++) {
		if (line[1][i] < '0' || line[1][i] > '9')
			return fail(why, whylen, "malformed body line 2: tree size is not a decimal"
				    " number");
		v = v * 10 + (line[1][i] - '0');
	}
	if (b64_decode(hash, sizeof(hash), line[2], linelen[2]) != GH_MERKLE_HASH_LEN)
		return fail(why, whylen, "malformed body line 3: root hash is not base64 of 32 bytes");
	if (linelen[0] >= originlen)
		return fail(why, whylen, "origin is too long");
	memcpy(origin, line[0], linelen[0]);
	origin[linelen[0]] = '\0';
	*size = v;
	memcpy(root, hash, GH_MERKLE_HASH_LEN);
	return 0;
}

int gh_checkpoint_verify(int64_t *size, gh_merkle_hash root, char *origin, size_t originlen,
			 const char *note, const char *vkey_text_in, char *why, size_t whylen)
{
	char got[NAME_MAX_LEN + 2];
	size_t textlen = 0;
	vkey vk;
	int rc;

	if (why && whylen)
		why[0] = '\0';
	if ((rc = vkey_parse(&vk, vkey_text_in, why, whylen)) ||
	    (rc = note_open(&textlen, note, &vk, why, whylen)) ||
	    (rc = body_parse(size, root, got, sizeof(got), note, textlen, why, whylen)))
		return rc;
	/* Gatehouse names its key after the log's origin: a note for another
	 * origin is not a checkpoint of this log, whoever signed it */
	if (strcmp(got, vk.name) != 0)
		return fail(why, whylen, "origin \"%s\" is not the key's name \"%s\"", got, vk.name);
	if (strlen(got) >= originlen)
		return fail(why, whylen, "origin is too long");
	memcpy(origin, got, strlen(got) + 1);
	return 0;
}

int gh_note_verify(size_t *textlen, const char *note, const char *vkey_text_in, char *why,
		   size_t whylen)
{
	vkey vk;
	int rc;

	if ((rc = vkey_parse(&vk, vkey_text_in, why, whylen)))
		return rc;
	return note_open(textlen, note, &vk, why, whylen);
}
