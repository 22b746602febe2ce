/* tokens.h - typed operations on API bearer tokens, for the domain's tokens
 * (gov/tokens.c) and an identity's decommissioning (gov/identity.c). Only
 * SHA-256 of a token's secret is stored; comparing it is the domain's (in
 * constant time), never SQL's. Every function runs inside the caller's
 * transaction or read section; JSON coming back through **out is the
 * caller's. Times are unix seconds. */
#ifndef GH_STORE_TOKENS_H
#define GH_STORE_TOKENS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define GH_STORE_TOKEN_HASH_BYTES 32
#define GH_STORE_TOKEN_ID_LEN 64

/* A token as the API lists it (never its hash): {"id","identity","name",
 * "status" ("active","expired" or "revoked" at now),"created_at",
 * "expires_at"?,"last_used_at"?,"revoked_at"?,"rotated_to"?}: times RFC 3339,
 * absent when not set. */

/* A stored token, for revoking and rotating it. */
typedef struct gh_store_token {
	char identity[GH_STORE_TOKEN_ID_LEN];
	char name[80];
	int revoked;               /* revoked_at is set */
} gh_store_token;

/* What authenticating a token reads: the token and its identity. */
typedef struct gh_store_token_auth {
	unsigned char secret_hash[GH_STORE_TOKEN_HASH_BYTES];
	int hash_ok;               /* a hash of the right size was stored and copied */
	int has_expires;
	int64_t expires_at;        /* 0 when not set */
	int revoked;
	int64_t last_used_at;      /* 0 when never */
	char identity[GH_STORE_TOKEN_ID_LEN];
	char identity_status[32];
	int identity_has_expires;
	int64_t identity_expires_at;
	json_t *roles;             /* the identity's roles (array, [] when unreadable);
				    * the caller's */
} gh_store_token_auth;

/* Inserts a token: its secret's hash (hash_len bytes), expires_at 0 for none. */
int gh_store_tokens_insert(gh_store *s, const char *id, const char *identity_id,
			   const char *name, const unsigned char *hash, size_t hash_len,
			   int64_t created_at, int64_t expires_at);
/* Token id. GH_ENOTFOUND "token <id> not found". */
int gh_store_tokens_get(gh_store_token *out, gh_store *s, const char *id);
/* Token id with its identity, for authentication: 1 found, 0 not, <0 on
 * error. out->roles is set only when found. */
int gh_store_tokens_auth(gh_store_token_auth *out, gh_store *s, const char *id);
/* Up to limit tokens after the row with pk after_pk, oldest first, into the
 * new array *items; identity (an id) and status NULL for any. */
int gh_store_tokens_list(json_t **items, gh_store *s, int64_t after_pk, int limit,
			 const char *identity, const char *status, int64_t now);
/* revoked_at becomes at. */
int gh_store_tokens_revoke(gh_store *s, const char *id, int64_t at);
/* revoked_at becomes at and rotated_to the new token's id. */
int gh_store_tokens_rotated(gh_store *s, const char *id, int64_t at, const char *rotated_to);
/* Revokes (at) every token of identity_id not yet revoked; *count gets how many. */
int gh_store_tokens_revoke_identity(int *count, gh_store *s, const char *identity_id, int64_t at);
/* last_used_at becomes at (bookkeeping, inside a write of the caller's). */
int gh_store_tokens_touch(gh_store *s, const char *id, int64_t at);

#endif
