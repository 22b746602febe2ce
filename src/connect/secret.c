/* secret.c - secrets named by reference ("env:NAME", "file:/path"), read only
 * when a connector needs them and wiped after. */
#include "connect/connect.h"
#include "common/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_MAX 4096

int gh_secret_resolve(char **out, const char *ref)
{
	char buf[SECRET_MAX + 2];
	const char *v;
	FILE *f;
	size_t n;

	*out = NULL;
	if (!ref || (strncmp(ref, "env:", 4) != 0 && strncmp(ref, "file:", 5) != 0) ||
	    !ref[strncmp(ref, "env:", 4) == 0 ? 4 : 5])
		return gh_error_set(GH_EINVALID, "a secret reference is \"env:NAME\" or "
				    "\"file:/path\", not \"%.64s\"", ref ? ref : "");
	if (strncmp(ref, "env:", 4) == 0) {
		if (!(v = getenv(ref + 4)))
			return gh_error_set(GH_ENOTFOUND, "secret %s: the variable is not set", ref);
		if (strlen(v) > SECRET_MAX)
			return gh_error_set(GH_EINVALID, "secret %s: longer than %d bytes", ref,
					    SECRET_MAX);
		if (!(*out = strdup(v)))
			return gh_error_set(GH_ERROR, "out of memory reading secret %s", ref);
		return 0;
	}
	if (!(f = fopen(ref + 5, "r")))
		return gh_error_set(GH_ENOTFOUND, "secret %s: cannot be read", ref);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	n = strlen(buf);
	if (n > SECRET_MAX) {
		sodium_memzero(buf, sizeof(buf));
		return gh_error_set(GH_EINVALID, "secret %s: longer than %d bytes", ref, SECRET_MAX);
	}
	*out = strdup(buf);
	sodium_memzero(buf, sizeof(buf));
	return *out ? 0 : gh_error_set(GH_ERROR, "out of memory reading secret %s", ref);
}

void gh_secret_free(char *secret)
{
	if (!secret)
		return;
	sodium_memzero(secret, strlen(secret));
	free(secret);
}
