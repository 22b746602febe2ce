/* authlimit.h - failed authentications counted per source address: a source
 * that fails too often is refused for a while without its token being
 * checked, and its failures are summed for the audit log (one event a source
 * a window, never one a request). In memory only, bounded, thread-safe; the
 * clock is a parameter so that tests can drive it. */
#ifndef GH_GOV_AUTHLIMIT_H
#define GH_GOV_AUTHLIMIT_H

#include <stddef.h>
#include <stdint.h>

/* Why an authentication failed (the presented token is never kept). */
enum gov_auth_reason {
	GOV_AUTH_MALFORMED,      /* not a Gatehouse token, or a bad Authorization header */
	GOV_AUTH_UNKNOWN,        /* no such token, or the wrong secret */
	GOV_AUTH_EXPIRED,        /* the token is past its expires_at */
	GOV_AUTH_REVOKED,        /* the token was revoked (or rotated) */
	GOV_AUTH_INACTIVE,       /* its identity is not active, or has expired */
	GOV_AUTH_REASONS
};

/* The names used in audit details, by reason. */
extern const char *const gov_auth_reason_names[GOV_AUTH_REASONS];

typedef struct gov_authlimit_config {
	int threshold;           /* failures within window that start a block (10) */
	int64_t window_ms;       /* counting window, from a source's first failure (60 s) */
	int64_t block_ms;        /* the first block (15 s); each further one doubles */
	int64_t block_max_ms;    /* the longest block (15 min) */
	size_t slots;            /* sources tracked at once (4096); the least recently
				  * seen is forgotten first */
} gov_authlimit_config;

/* What one source did, for one audit event. */
typedef struct gov_authlimit_report {
	char source[48];         /* the address, or "*" for sources forgotten to make room */
	uint32_t failures;       /* tokens checked and refused */
	uint32_t refused;        /* attempts refused (429) without checking the token */
	uint32_t reasons[GOV_AUTH_REASONS];
	int64_t first_ms;        /* first and last attempt, ms since the epoch */
	int64_t last_ms;
} gov_authlimit_report;

typedef struct gov_authlimit gov_authlimit;

/* cfg NULL or zero fields: the defaults above. 0 or GH_ERROR. */
int gov_authlimit_new(gov_authlimit **out, const gov_authlimit_config *cfg);
void gov_authlimit_free(gov_authlimit *l);

/* Before checking a token from source: 0 when it may be checked, else the
 * ms until the source's block ends (the attempt is counted as refused). */
int64_t gov_authlimit_check(gov_authlimit *l, const char *source, int64_t now_ms);

/* A token from source failed for reason. A success changes nothing: it
 * neither resets the count nor lifts a block. */
void gov_authlimit_fail(gov_authlimit *l, const char *source, int reason, int64_t now_ms);

/* Moves into out (at most max) the summaries whose window (window_ms from
 * their first attempt) has ended by now_ms, or every one when all is set;
 * returns how many. Call again while it returns max. */
size_t gov_authlimit_drain(gov_authlimit *l, gov_authlimit_report *out, size_t max,
			   int64_t now_ms, int all);

#endif
