// edge-agent(8): the per-node daemon. Parses flags and the config file, then hands over to
// AgentDaemon. Start-up errors end with one line on stderr (the journal) and a distinct exit
// status, so systemd shows why and does not restart in a loop.
import ArgumentParser
import EdgeAgent
import EdgeConfig
import EdgeCore
import Foundation
import Logging

@main
struct EdgeAgentCommand: AsyncParsableCommand {
    static let defaultConfigPath = "/etc/edgenode/agent.toml"

    static let configuration = CommandConfiguration(
        commandName: "edge-agent",
        abstract: "edgenode node agent: eBPF telemetry, EDT shaping, local JSON-RPC API, Prometheus metrics.",
        version: EdgenodeVersion.current)

    @Option(name: .shortAndLong, help: "Configuration file (TOML). A missing default file means built-in defaults.")
    var config: String = EdgeAgentCommand.defaultConfigPath

    @Flag(help: "Validate the configuration, print it with defaults filled in, and exit.")
    var checkConfig = false

    @Flag(help: "Check what edgenode needs on this node (BTF, each telemetry hook and the EDT program by a real load, mq/sch_fq/clsact/cls_bpf in a throwaway namespace, bpffs, capabilities, cgroups, kernel version), print one line each and exit 0 (all OK), 1 (something DEGRADED) or 2 (something MISSING). Needs root. edgectl doctor runs this.")
    var doctor = false

    @Flag(help: "With --doctor: print the report as JSON.")
    var json = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'; use one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "edge-agent")

        let settings: AgentConfig
        var configPath: String? = config
        do {
            if config == Self.defaultConfigPath && !FileManager.default.fileExists(atPath: config) {
                settings = AgentConfig.defaults
                configPath = nil
                if !checkConfig { logger.info("no \(config); using built-in defaults") }
            } else {
                settings = try AgentConfig.load(path: config)
            }
        } catch {
            Self.fail("edge-agent: invalid configuration: \(error)", status: AgentStartupError.Kind.config.rawValue)
        }
        if checkConfig {
            print(settings.tomlText)
            // The files the daemon opens at start fail the check as they would fail the start.
            let problems = settings.startupFileProblems()
            if !problems.isEmpty {
                Self.fail(problems.map { "edge-agent: invalid configuration: \(config): \($0)" }.joined(separator: "\n"),
                          status: AgentStartupError.Kind.config.rawValue)
            }
            return
        }
        if doctor { Self.runDoctor(config: settings, json: json) }
        do {
            try await AgentDaemon.run(config: settings, configPath: configPath, logger: logger)
        } catch let e as AgentStartupError {
            Self.fail("edge-agent: \(e.message)", status: e.exitStatus)
        } catch let e as ConfigError {
            Self.fail("edge-agent: invalid configuration: \(e)", status: AgentStartupError.Kind.config.rawValue)
        }
    }

    static func runDoctor(config: AgentConfig, json: Bool) -> Never {
        guard getuid() == 0 || geteuid() == 0 else {
            fail("edge-agent --doctor: needs root (it loads BPF programs and creates a throwaway network namespace)", status: 2)
        }
        let report = NodeDoctor.run(config: config)
        if json {
            let e = EdgeJSON.encoder()
            e.outputFormatting.insert(.prettyPrinted)
            print(String(decoding: (try? e.encode(report)) ?? Data(), as: UTF8.self))
        } else {
            print(report.rendered())
        }
        Foundation.exit(report.status.exitCode)
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        Foundation.exit(status)
    }
}
