// GET /metrics (Prometheus text format) and GET /healthz on the configured TCP address.
import EdgeConfig
import EdgeRPC
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

enum MetricsHTTPService {
    static func make(listen: ListenAddress, metrics: AgentMetrics, collector: TelemetryCollector,
                     logger: Logger) -> some Service {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok,
                     headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.get("/healthz") { _, _ -> Response in
            let ok = collector.ticks > 0
            return Response(status: ok ? .ok : .serviceUnavailable,
                            body: .init(byteBuffer: ByteBuffer(string: ok ? "ok\n" : "starting\n")))
        }
        let listening = ListeningFlag()
        let app = Application(router: router,
                              configuration: .init(address: .hostname(listen.host, port: listen.port),
                                                   serverName: "edge-agent"),
                              onServerRunning: { _ in listening.set() },
                              logger: logger)
        // A port in use ends the agent with the address and metrics.listen, not NIO's errno text.
        return ListenReportingService(app, address: listen.description, key: "metrics.listen", listening: listening)
    }
}
