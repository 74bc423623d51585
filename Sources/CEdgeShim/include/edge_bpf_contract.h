// The BPF programs' map layouts and limits, as Swift sees them: the very headers the BPF C
// includes (bpf/edt.h, bpf/telemetry.h), so that a struct or a limit changed there changes the
// Swift types with it. EdgeBPF's typed maps check each map's key and value size against these
// types when an object is opened.
#pragma once
#include <linux/types.h>
#include "../../../bpf/edt.h"
#include "../../../bpf/telemetry.h"
