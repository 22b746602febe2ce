/* config.h - the server configuration: the file's type and reading are in
 * the public gatehouse/config.h; here what the domain and the connectors
 * look up in it, and what tests add to it. */
#ifndef GH_COMMON_CONFIG_H
#define GH_COMMON_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "common/yaml_load.h"
#include "gatehouse/config.h"

/* The instance named name, or NULL (c may be NULL: no configuration). */
const gh_config_instance *gh_config_instance_find(const gh_config *c, const char *name);
/* The secret reference declared as name ("env:X" or "file:/p"), or NULL. */
const char *gh_config_secret_ref(const gh_config *c, const char *name);
/* Adds an instance (settings taken); for tests, whose fake kinds have no
 * section in the file. GH_ECONFLICT when the name exists. */
int gh_config_add_instance(gh_config *c, const char *name, const char *kind, json_t *settings);
/* The configured instance names, ", "-separated, into out ("" when none). */
void gh_config_instance_names(char *out, size_t outlen, const gh_config *c);

#endif
