/* gatehouse/config.h - the server configuration file: what the operator
 * alone decides (the secrets that exist, the connector instances systems may
 * name, NHI and token lifetimes, HTTP limits). Read once at start (`gatehouse serve
 * --config FILE`), strictly: every problem is reported with its line and
 * column, and a file with any problem is not used. docs/operations.md,
 * "Server configuration", describes the format.
 *
 * Conventions: 0 or a GH_E* code with gh_error_last() set; what comes back
 * in *out belongs to the caller (gh_config_free); getters return borrowed
 * pointers that live as long as the configuration.
 *
 * Public: the command reads the file and hands it to the domain
 * (gh_gov_options.config); what the domain and the connectors look up in it
 * is internal (src/common/config.h). */
#ifndef GATEHOUSE_CONFIG_H
#define GATEHOUSE_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gatehouse/yaml.h"

/* Names of secrets and connector instances: [a-z0-9][a-z0-9._-]{0,63}. */
#define GH_CONFIG_NAME_MAX 64

/* One connector instance: a kind and its settings, as the kind reads them. */
typedef struct gh_config_instance {
	char *name;              /* what a system names in "connector" */
	char *kind;              /* "postgres", "ldap", "exec", "webhook" (or a test's kind) */
	json_t *settings;        /* the kind's settings; a secret is a "*_ref" reference
				  * ("env:NAME" or "file:/path") copied from the secrets
				  * table, never a value */
} gh_config_instance;

typedef struct gh_config {
	json_t *secrets;         /* declared name -> "env:NAME" | "file:/absolute/path" */
	gh_config_instance *instances;
	size_t ninstances;
	/* identities:, tokens:, http: (0 when absent: the default applies) */
	int64_t nhi_max_lifetime;        /* seconds */
	int64_t orphan_grace;            /* seconds */
	int64_t token_lifetime;          /* seconds */
	int per_address_connections;
	size_t header_limit;             /* bytes */
	int request_timeout;             /* seconds */
	int auth_failures;               /* failed sign-ins per address a minute */
	gh_yaml_doc doc;                 /* the file as read, with its problems */
} gh_config;

/* Reads text (len bytes, need not be NUL-terminated) into out, which the
 * caller frees with gh_config_free whatever the result. 0 when the file is
 * fine; GH_EINVALID (or GH_ETOOLARGE) with every problem in out->doc.problems
 * (print them with gh_config_print_problems); GH_ERROR when out of memory.
 * filename is only for messages. */
int gh_config_parse(gh_config *out, const char *text, size_t len, const char *filename);
/* The same from a file; GH_ENOTFOUND when it cannot be read. */
int gh_config_load(gh_config *out, const char *path);
void gh_config_free(gh_config *c);

/* "FILE:LINE:COLUMN: PATH: MESSAGE", one problem a line. */
void gh_config_print_problems(FILE *f, const gh_config *c, const char *filename);

#endif
