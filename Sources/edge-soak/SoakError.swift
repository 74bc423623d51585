// A failure of the soak run itself (not of the daemon under load), with what went wrong.
struct SoakError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
