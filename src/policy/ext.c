/* ext.c - placeholder until the extension types are implemented. */
#include "policy/ext.h"
