/* gatehouse/api.h - the HTTP front end: libmicrohttpd, routing,
 * authentication and RFC 9457 problem documents over the domain
 * (gatehouse/gov.h). Public: `gatehouse serve` starts it over a gh_gov. */
#ifndef GATEHOUSE_API_H
#define GATEHOUSE_API_H

#include <stddef.h>

#include "gatehouse/gov.h"

typedef struct gh_api gh_api;

typedef struct gh_api_options {
	const char *listen;      /* "127.0.0.1:8080"; host must be an IPv4 literal or "localhost" */
	int threads;             /* worker threads; 0 picks the core count */
	size_t max_body;         /* bytes; 0 means GH_JSON_MAX_BODY (gatehouse/common.h) */
	int per_address_connections; /* open connections one address may hold; 0: 32 */
	size_t header_limit;     /* bytes of request line and headers; 0: 16 KiB */
	int request_timeout;     /* seconds to receive a whole request; 0: 30 */
} gh_api_options;

/* Starts serving g in background threads. The caller keeps g alive until
 * gh_api_stop. */
int gh_api_start(gh_api **out, gh_gov *g, const gh_api_options *opts);
void gh_api_stop(gh_api *api);

/* The port actually bound (useful with port 0). */
unsigned gh_api_port(const gh_api *api);

#endif
