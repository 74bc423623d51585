// The man pages in man/ against the real binaries: every edgectl subcommand and option that
// `--help` shows must be documented in edgectl(1) (and nothing it no longer has), every key that
// `--check-config` prints must be documented in the section-5 pages and listed in the shipped
// conffiles, and every page must be `mandoc -Tlint` clean.
import EdgeTestSupport
import Foundation
import XCTest

final class ManPageTests: XCTestCase {
    /// The repository root: this file is Tests/EdgeAgentTests/ManPageTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
    }

    // MARK: edgectl(1)

    func testEveryEdgectlCommandAndOptionIsInTheManPage() throws {
        let commands = try CLIHelp.commands(of: Products.path("edgectl"))
        let page = try MdocPage(text: Self.text("man/edgectl.1"))
        // Sanity: the walk found the subcommands edgectl has had from the start.
        for known in [["status"], ["telemetry"], ["reasons"]] {
            XCTAssertTrue(commands.contains { $0.path == known }, "help walk missed `edgectl \(known.joined(separator: " "))`")
        }

        var missing: [String] = []
        for command in commands {
            let name = (["edgectl"] + command.path).joined(separator: " ")
            let block: Set<String>
            if command.path.isEmpty {
                block = page.optionsSection
            } else if let b = page.commandBlocks[command.path] {
                block = b
            } else {
                missing.append("subcommand `\(name)` (no `.Ss \(name)` section)")
                continue
            }
            for option in command.options where !block.contains(option) && !page.optionsSection.contains(option) {
                missing.append("option \(option) of `\(name)`")
            }
        }
        XCTAssertTrue(missing.isEmpty, "man/edgectl.1 does not document:\n  " + missing.joined(separator: "\n  "))
    }

    func testEdgectlManPageDocumentsNothingTheCLILacks() throws {
        let commands = try CLIHelp.commands(of: Products.path("edgectl"))
        let page = try MdocPage(text: Self.text("man/edgectl.1"))
        let byPath = Dictionary(commands.map { ($0.path, Set($0.options)) }, uniquingKeysWith: { a, _ in a })
        let allOptions = commands.reduce(into: Set<String>()) { $0.formUnion($1.options) }

        var stale: [String] = []
        for (path, flags) in page.commandBlocks.sorted(by: { $0.key.joined() < $1.key.joined() }) {
            let name = (["edgectl"] + path).joined(separator: " ")
            guard let options = byPath[path] else {
                stale.append("`\(name)`, which edgectl does not have")
                continue
            }
            for flag in flags.sorted() where !options.contains(flag) {
                stale.append("option \(flag) under `\(name)`, which that command does not take")
            }
        }
        for flag in page.optionsSection.sorted() where !allOptions.contains(flag) {
            stale.append("option \(flag) in OPTIONS, which no command takes")
        }
        XCTAssertTrue(stale.isEmpty, "man/edgectl.1 documents:\n  " + stale.joined(separator: "\n  "))
    }

    // MARK: configuration files

    func testEveryAgentConfigKeyIsDocumentedAndShipped() throws {
        try checkConfigKeys(daemon: "edge-agent", page: "man/edge-agent.toml.5",
                            conffile: "packaging/etc/edgenode/agent.toml")
    }

    func testEveryControllerConfigKeyIsDocumentedAndShipped() throws {
        try checkConfigKeys(daemon: "edge-controller", page: "man/edge-controller.toml.5",
                            conffile: "packaging/etc/edgenode/controller.toml")
    }

    /// The daemon's `--check-config` of an empty file lists every key with its default; the man page
    /// must describe each one in its section (and no key the daemon does not know), the conffile must
    /// list each one, and the conffile as shipped must mean exactly the defaults.
    private func checkConfigKeys(daemon: String, page pagePath: String, conffile: String) throws {
        let binary = try Products.path(daemon)
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-empty-\(UUID().uuidString).toml")
        try Data().write(to: empty)
        defer { try? FileManager.default.removeItem(at: empty) }

        // The default token file (/etc/edgenode/token) need not exist here: --check-config then
        // still prints the configuration, and fails on the file alone (StartupChecks.swift).
        let defaults = try sh([binary, "--check-config", "--config", empty.path], check: false).stdout
        let keys = TOMLKeys(text: defaults, includeCommented: false)
        XCTAssertGreaterThan(keys.all.count, 10, "\(daemon) --check-config printed too few keys:\n\(defaults)")

        let page = try MdocPage(text: Self.text(pagePath))
        var problems: [String] = []
        for (section, names) in keys.sections.sorted(by: { $0.key < $1.key }) {
            guard let documented = page.configSections[section] else {
                problems.append("\(pagePath) has no section [\(section)]")
                continue
            }
            for name in names.subtracting(documented).sorted() {
                problems.append("\(pagePath) does not document \(section).\(name)")
            }
            for name in documented.subtracting(names).sorted() {
                problems.append("\(pagePath) documents \(section).\(name), which \(daemon) does not know")
            }
        }
        for section in Set(page.configSections.keys).subtracting(keys.sections.keys).sorted() {
            problems.append("\(pagePath) documents section [\(section)], which \(daemon) does not know")
        }

        let shipped = TOMLKeys(text: try Self.text(conffile), includeCommented: true)
        for key in keys.all.subtracting(shipped.all).sorted() {
            problems.append("\(conffile) does not list \(key)")
        }
        let effective = try sh([binary, "--check-config", "--config", Self.root.appendingPathComponent(conffile).path],
                               check: false)
        if effective.status != 0 && !(effective.stderr.contains("token_file") && !effective.stdout.isEmpty) {
            problems.append("\(conffile) is rejected by \(daemon): \(effective.stderr)\(effective.stdout)")
        } else if effective.stdout != defaults {
            problems.append("\(conffile) does not mean the defaults; \(daemon) --check-config prints:\n\(effective.stdout)")
        }
        XCTAssertTrue(problems.isEmpty, problems.joined(separator: "\n"))
    }

    // MARK: mandoc

    /// Our own pages cross-reference each other; until they are installed mandoc cannot find them,
    /// which is the only message it may give.
    static let ownPages = ["edgectl", "edge-agent", "edge-controller", "edge-agent.toml", "edge-controller.toml"]

    func testEveryPageIsMandocLintClean() throws {
        let mandoc = try sh("command -v mandoc", check: false)
        if mandoc.status != 0 {
            try unmet("needs mandoc (apt-get install mandoc; `make deps` installs it)")
        }
        let pages = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("man").path)
            .filter { $0.range(of: #"\.[1-8]$"#, options: .regularExpression) != nil }.sorted()
        XCTAssertEqual(Set(pages), ["edgectl.1", "edge-agent.8", "edge-controller.8", "edge-agent.toml.5",
                                    "edge-controller.toml.5"])
        for page in pages {
            let path = Self.root.appendingPathComponent("man/\(page)").path
            let r = try sh(["mandoc", "-Tlint", path], check: false)
            let messages = (r.stdout + r.stderr).split(separator: "\n").map(String.init).filter { line in
                // Lines without our path are about the system's mandoc.db, not the page.
                line.contains(path) && !Self.ownPages.contains { line.contains("referenced manual not found: Xr \($0) ") }
            }
            XCTAssertTrue(messages.isEmpty, "mandoc -Tlint \(page):\n" + messages.joined(separator: "\n"))
        }
    }
}

/// One command of a swift-argument-parser CLI, as its `--help` shows it.
struct CLICommand {
    /// Subcommand words after the program name; empty for the program itself.
    var path: [String]
    /// Every spelling of every option and flag: "--json", "-h", "--help".
    var options: [String]
}

/// The help output could not be walked.
struct HelpWalkError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Walks a CLI's help output: the root's `--help`, then each listed subcommand's, recursively.
enum CLIHelp {
    static func commands(of binary: String) throws -> [CLICommand] {
        var found: [CLICommand] = []
        var queue: [[String]] = [[]]
        while !queue.isEmpty {
            let path = queue.removeFirst()
            let r = try sh([binary] + path + ["--help"], check: false)
            guard r.status == 0 else {
                throw HelpWalkError(message: "`\(binary) \(path.joined(separator: " ")) --help` exited \(r.status): \(r.stderr)")
            }
            let help = parse(r.stdout)
            found.append(CLICommand(path: path, options: help.options))
            queue += help.subcommands.map { path + [$0] }
            guard found.count < 200 else { throw HelpWalkError(message: "help walk does not end after 200 commands (a loop?)") }
        }
        return found
    }

    /// Options and subcommands from one help text. Sections start with an unindented
    /// "NAME:" line; entries are indented two spaces; an entry's help text starts after a
    /// run of spaces (or on the next, deeper-indented line).
    static func parse(_ text: String) -> (options: [String], subcommands: [String]) {
        var options: [String] = []
        var subcommands: [String] = []
        var section = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let first = line.first, first != " " {
                section = line.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                continue
            }
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            let entry = String(line.dropFirst(2).components(separatedBy: "  ").first ?? "")
            switch section {
            case "OPTIONS":
                for spelling in entry.components(separatedBy: ", ") {
                    // "--json", "-c", "--socket <socket>", "--color/--no-color"
                    let word = spelling.split(separator: " ").first.map(String.init) ?? ""
                    options += word.split(separator: "/").map(String.init).filter { $0.hasPrefix("-") }
                }
            case "SUBCOMMANDS":
                guard !entry.hasPrefix("See ") else { continue }
                // "list (default)", "del, delete" (a name and its aliases): the name is the first word.
                let name = entry.split(whereSeparator: { $0 == " " || $0 == "," }).first
                if let name { subcommands.append(String(name)) }
            default:
                continue
            }
        }
        return (options, subcommands)
    }
}

/// What a man page in mdoc documents: the `Fl` options of each `.Ss edgectl …` block and of the
/// OPTIONS section, and the `.It Cm key` entries below each `.Ss [section]` heading.
struct MdocPage {
    /// Subcommand words ("shape", "set") to the options named with `Fl` in that block.
    var commandBlocks: [[String]: Set<String>] = [:]
    /// Options named in `.Sh OPTIONS` (common to every command).
    var optionsSection: Set<String> = []
    /// TOML section ("telemetry.drop_weights") to the keys documented under it.
    var configSections: [String: Set<String>] = [:]

    init(text: String) throws {
        enum Block { case none, options, command([String]), config(String) }
        var block = Block.none
        let flag = try NSRegularExpression(pattern: #"\bFl\s+(-?[A-Za-z0-9][A-Za-z0-9-]*)"#)
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix(".Sh ") {
                block = line == ".Sh OPTIONS" ? .options : .none
                continue
            }
            if line.hasPrefix(".Ss ") {
                let title = line.dropFirst(4).replacingOccurrences(of: "\\&", with: "")
                let words = title.split(separator: " ").map(String.init)
                if words.first == "edgectl" {
                    let path = Array(words.dropFirst())
                    block = .command(path)
                    commandBlocks[path, default: []] = commandBlocks[path] ?? []
                } else if title.hasPrefix("["), title.hasSuffix("]") {
                    let section = String(title.dropFirst().dropLast())
                    block = .config(section)
                    configSections[section, default: []] = configSections[section] ?? []
                } else {
                    block = .none
                }
                continue
            }
            switch block {
            case .none:
                break
            case .options, .command:
                let range = NSRange(line.startIndex..., in: line)
                let flags = flag.matches(in: line, range: range).map { "-" + (line as NSString).substring(with: $0.range(at: 1)) }
                if case .command(let path) = block {
                    commandBlocks[path, default: []].formUnion(flags)
                } else {
                    optionsSection.formUnion(flags)
                }
            case .config(let section):
                // ".It Cm max_peers Pq integer"
                let words = line.split(separator: " ")
                if words.count >= 3, words[0] == ".It", words[1] == "Cm" {
                    configSections[section, default: []].insert(String(words[2]))
                }
            }
        }
    }
}

/// Dotted keys of a TOML text by section: live `key = value` lines, and with
/// `includeCommented` also `# key = value` lines (how the shipped conffiles list defaults).
struct TOMLKeys {
    var sections: [String: Set<String>] = [:]
    var all: Set<String> { Set(sections.flatMap { section, keys in keys.map { "\(section).\($0)" } }) }

    init(text: String, includeCommented: Bool) {
        var section = ""
        for raw in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if raw.hasPrefix("["), raw.hasSuffix("]") {
                section = String(raw.dropFirst().dropLast())
                sections[section, default: []] = sections[section] ?? []
                continue
            }
            var line = raw
            if line.hasPrefix("#") {
                guard includeCommented else { continue }
                line = String(line.drop { $0 == "#" || $0 == " " })
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            // Only bare keys: comment prose that happens to contain "=" is not a key.
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            sections[section, default: []].insert(key)
        }
    }
}
