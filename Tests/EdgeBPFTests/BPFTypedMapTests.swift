// Typed maps check the embedded object's map sizes against the C types from bpf/*.h at open.
import EdgeBPF
import EdgeTelemetry
import XCTest

final class BPFTypedMapTests: XCTestCase {
    func testMapsOpenWithTheirHeaderTypes() throws {
        let edt = try BPFObject(embedded: "edt")
        XCTAssertNoThrow(try edt.map("edt_classes", key: UInt32.self, value: edt_class.self))
        XCTAssertNoThrow(try edt.map("edt_prefixes", key: edt_prefix_key.self, value: UInt32.self))
        XCTAssertNoThrow(try edt.map("edt_class_meta", key: UInt32.self, value: edt_class_meta.self))
        XCTAssertNoThrow(try edt.map("edt_config", key: UInt32.self, value: edt_config.self))
        let telemetry = try BPFObject(embedded: "telemetry")
        XCTAssertNoThrow(try telemetry.map("peer_rtt", key: edge_peer_key.self, value: edge_peer_hist.self))
        XCTAssertEqual(MemoryLayout<edge_peer_hist>.size / 4, LogLinearHistogram.slotCount,
                       "bpf/telemetry.h's histogram slots and EdgeTelemetry's LogLinearHistogram")
    }

    func testAMapOfAnotherLayoutIsRefusedWithItsNameAndSizes() throws {
        let edt = try BPFObject(embedded: "edt")
        XCTAssertThrowsError(try edt.map("edt_classes", key: UInt32.self, value: UInt64.self)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("edt_classes") && text.contains("4/64") && text.contains("4/8"), text)
        }
    }
}
