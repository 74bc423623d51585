// edge-controller(8): the control-plane daemon. Everything but argument parsing and logging
// setup lives in EdgeController.
import ArgumentParser
import EdgeConfig
import EdgeController
import EdgeCore
import Foundation
import Logging

@main
struct EdgeControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-controller",
        abstract: "Score edge nodes from their agents' kernel telemetry and serve the kube-scheduler extender.",
        version: EdgenodeVersion.current)

    @Option(name: .long, help: "Configuration file (TOML).")
    var config: String = "/etc/edgenode/controller.toml"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(name: .long, help: "Check the configuration file, print the effective configuration and exit.")
    var checkConfig = false

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "edge-controller")
        let settings: ControllerConfig
        do {
            settings = try ControllerConfig.load(path: config)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(2)
        }
        if checkConfig {
            print(settings.tomlText, terminator: "")
            // The files the daemon opens before it listens: a missing token stops it at start, so
            // it fails the check too (StartupChecks.swift).
            let problems = settings.startupFileProblems()
            for p in problems { logger.critical("\(config): \(p)") }
            if !problems.isEmpty { throw ExitCode(2) }
            return
        }
        do {
            try await ControllerDaemon.run(config: settings, configPath: config, logger: logger)
        } catch {
            logger.critical("edge-controller failed: \(error)")
            throw ExitCode(1)
        }
    }
}
