// A failure of the lab itself (a bed that did not come up, a probe that gave no result), as
// opposed to a finding about the code under test.
public struct LabError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
