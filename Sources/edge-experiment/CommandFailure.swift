// The runner's own failures (a bed that did not come up, a template without a value). Commands
// run through the lab's `sh`, long-running processes are the lab's `DaemonProcess`, and CPU times
// come from the lab's `ProcessSample` helpers (EdgeLab).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}
