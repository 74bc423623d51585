// The tests' fixtures are the lab's (EdgeLab: commands, namespaces and veths, daemons, the
// notify socket, statistics), re-exported so that a test importing EdgeTestSupport has them.
// What this target adds is what needs XCTest: skips that fail under CI=true, and where the
// package's own products were built.
@_exported import EdgeLab
