// What keeps the controller honest towards systemd and across restarts:
// - the watchdog ping is earned, not free: before each WATCHDOG=1 the controller asks its own
//   HTTP listener for /healthz (over the same event loops and router kube-scheduler's calls use),
//   and the registry lock is taken for the STATUS line. A hung event loop, router or registry
//   stops the pings, and systemd (WatchdogSec=) kills and restarts the controller. Without the
//   probe the ping task, which runs on its own thread pool, would ping on while every extender
//   call hangs: kube-scheduler would then pay 2 × httpTimeout per pod for as long as the hang lasts.
// - the registry is saved to `registry.state_file` every `registry.save_interval` and on a clean stop.
import AsyncHTTPClient
import EdgeCore
import Foundation
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// GET /healthz on the controller's own listener, with a deadline.
final class SelfProbe: Sendable {
    let url: String
    let timeout: Duration
    private let client: HTTPClient

    /// `host`/`port` as bound; a wildcard listener is probed on loopback. TLS is probed without
    /// verifying the certificate: the peer is our own listener on this host.
    init(host: String, port: Int, tls: Bool, timeout: Duration) {
        let h: String
        switch host {
        case "0.0.0.0", "": h = "127.0.0.1"
        case "::", "[::]": h = "[::1]"
        default: h = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
        url = "\(tls ? "https" : "http")://\(h):\(port)/healthz"
        self.timeout = timeout
        var tlsConfig = TLSConfiguration.makeClientConfiguration()
        tlsConfig.certificateVerification = .none
        var cfg = HTTPClient.Configuration(tlsConfiguration: tlsConfig)
        let ms = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        cfg.timeout = .init(connect: .milliseconds(ms), read: .milliseconds(ms))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: cfg)
    }

    /// nil when the listener answered 200 within `timeout` (the probe's own by default), else why not.
    func check(timeout: Duration? = nil) async -> String? {
        do {
            let timeout = min(timeout ?? self.timeout, self.timeout)
            let ms = max(1, Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .milliseconds(ms))
            _ = try? await response.body.collect(upTo: 4096)
            return response.status.code == 200 ? nil : "HTTP \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}

/// How long a failing self-probe is retried before the watchdog ping is withheld. Pings are due
/// every `interval` (half of WatchdogSec); retries go on until the last ping is 7/8 of
/// WatchdogSec old, so a listener that answers late but within the window still earns the ping
/// in time, and one that stays silent is left to systemd.
struct WatchdogProbeBudget: Sendable, Equatable {
    let interval: Duration
    /// Between retries, so that a refused connection is not retried in a busy loop.
    var retryPause: Duration { min(interval / 8, .milliseconds(250)) }
    /// The last moment (since the last ping) a retry may still end.
    var withholdAfter: Duration { interval * 2 * 7 / 8 }

    /// The timeout of the next retry, or nil when it is time to withhold the ping.
    func retryTimeout(sinceLastPing elapsed: Duration) -> Duration? {
        let left = withholdAfter - elapsed - retryPause
        return left > .milliseconds(10) ? left : nil
    }
}

/// Saves the registry every `registry.save_interval` and once more on graceful shutdown.
struct RegistrySaveService: Service {
    let registry: NodeRegistry
    let path: String
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var failing = false
        func save() {
            do {
                try RegistryStore.save(registry, to: path)
                if failing { logger.notice("registry saved again to \(path)") }
                failing = false
            } catch {
                // once per failure streak: a read-only state directory must not flood the journal
                if !failing { logger.error("cannot save the registry: \(error); retrying every save_interval") }
                failing = true
            }
        }
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: interval)
                    save()
                }
            }
        } catch {
            // graceful shutdown: fall through to the last save
        }
        save()
    }
}
