// The C boundary: CSystemd. Only the thin wrapper targets import this module.
#include <systemd/sd-daemon.h>
