/* secret.c - secrets named by reference ("env:NAME", "file:/path"), read only
 * when a connector needs them and wiped after. */
#include "connect/connect.h"
#include "common/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_MAX 4096
#define REF_MAX 1024

int gh_secret_ref_valid(const char *ref)
{
	const char *p;

	if (!ref || strlen(ref) > REF_MAX)
		return 0;
	if (strncmp(ref, "env:", 4) == 0) {
		p = ref + 4;
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
			return 0;
		for (; *p; p++)
			if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			      (*p >= '0' && *p <= '9')))
				return 0;
		return 1;
	}
	if (strncmp(ref, "file:", 5) == 0) {
		p = ref + 5;
		if (p[0] != '/' || !p[1])
			return 0;
		for (; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return 0;
		return 1;
	}
	return 0;
}

/* The file's first line into out (SECRET_MAX + 1 bytes); out is wiped on error. */
static int read_first_line(char *out, const char *ref)
{
	char buf[SECRET_MAX + 2];
	FILE *f = fopen(ref + 5, "r");
	size_t n;
	int failed;

	if (!f)
		return gh_error_set(GH_ENOTFOUND, "secret %s: the file cannot be opened", ref);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	failed = ferror(f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	n = strlen(buf);
	if (!failed && n <= SECRET_MAX)
		memcpy(out, buf, n + 1);
	sodium_memzero(buf, sizeof(buf));
	if (failed)
		return gh_error_set(GH_ENOTFOUND, "secret %s: the file cannot be read", ref);
	if (n > SECRET_MAX)
		return gh_error_set(GH_EINVALID, "secret %s: longer than %d bytes", ref, SECRET_MAX);
	return 0;
}

int gh_secret_resolve(char **out, const char *ref)
{
	char *s = NULL;
	const char *v;
	int rc = 0;

	*out = NULL;
	/* a malformed ref is not echoed: it may be the secret pasted inline */
	if (!gh_secret_ref_valid(ref))
		return gh_error_set(GH_EINVALID, "a secret reference is \"env:NAME\" or "
				    "\"file:/path\"");
	if (!(s = malloc(SECRET_MAX + 1)))
		return gh_error_set(GH_ERROR, "out of memory reading secret %s", ref);
	if (strncmp(ref, "env:", 4) == 0) {
		if (!(v = getenv(ref + 4)))
			rc = gh_error_set(GH_ENOTFOUND, "secret %s: the variable is not set", ref);
		else if (strlen(v) > SECRET_MAX)
			rc = gh_error_set(GH_EINVALID, "secret %s: longer than %d bytes", ref,
					  SECRET_MAX);
		else
			memcpy(s, v, strlen(v) + 1);
	} else {
		rc = read_first_line(s, ref);
	}
	if (rc == 0 && !s[0])
		rc = gh_error_set(GH_EINVALID, "secret %s is empty", ref);
	if (rc) {
		sodium_memzero(s, SECRET_MAX + 1);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void gh_secret_free(char *secret)
{
	if (!secret)
		return;
	sodium_memzero(secret, strlen(secret));
	free(secret);
}
