/* format.h - (internal) helpers format.c shares with est.c (policy JSON). */
#ifndef GH_POLICY_FORMAT_H
#define GH_POLICY_FORMAT_H

#include "policy/ast.h"

/* 1 when s is an identifier the parser takes as a name (not a reserved word). */
int ghp_plain_ident(ghp_str s);
/* A datetime's text that datetime() parses back: UTC, or with an offset for
 * the instants just outside years 0000..9999 that literals with offsets reach. */
void ghp_datetime_text(char *out, size_t outlen, int64_t ms);

#endif
