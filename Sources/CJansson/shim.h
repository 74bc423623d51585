// The C boundary: CJansson. Only the thin wrapper targets import this module.
#include <jansson.h>
