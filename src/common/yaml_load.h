/* yaml_load.h - the strict YAML reader, defined in the public header
 * gatehouse/yaml.h; this name stays for the library's own files. */
#ifndef GH_COMMON_YAML_LOAD_H
#define GH_COMMON_YAML_LOAD_H

#include "gatehouse/yaml.h"

#endif
