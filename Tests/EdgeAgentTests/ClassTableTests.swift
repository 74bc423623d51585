// The class logic of shaping, without root: ClassTable over the in-memory twin of the EDT maps.
// The same table runs over the kernel's maps in ShapingKernelTests and ShapingIdentityKernelTests.
@testable import EdgeAgent
import EdgeBPF
import EdgeCore
import Logging
import XCTest

final class ClassTableTests: XCTestCase {
    let maps = InMemoryClassMaps()
    var table: ClassTable { ClassTable(maps: maps, ecn: true, logger: Logger(label: "test")) }

    func selector(_ text: String) throws -> ShapingSelector { try ShapingSelector.parse(text, cgroupRoot: nil) }
    func rate(_ text: String) throws -> BandwidthRate { try BandwidthRate(parsing: text) }

    func testANewClassGetsTheLowestFreeIdAndIsBound() throws {
        let a = try table.set(try selector("10.1.0.0/16"), rate: try rate("20mbit"), horizonSeconds: 0.05)
        let b = try table.set(try selector("fd00::/64"), rate: try rate("1gbit"), horizonSeconds: 0.002)
        XCTAssertEqual([a.classId, b.classId], [1, 2])
        XCTAssertEqual(a.selector, "10.1.0.0/16")
        XCTAssertEqual(a.kind, "prefix")
        XCTAssertEqual(a.rate, try rate("20mbit"))
        XCTAssertEqual(a.horizonSeconds, 0.05, accuracy: 1e-9)
        XCTAssertTrue(a.ecn)
        XCTAssertEqual(maps.classes[1]?.rate, 2_500_000, "bytes per second in the map")
        XCTAssertEqual(maps.classes[1]?.horizon_ns, 50_000_000)
        XCTAssertEqual(maps.bindings[try selector("10.1.0.0/16").classKey], 1)
        XCTAssertEqual(try table.list().map(\.classId), [1, 2])

        _ = try table.delete(key: try selector("10.1.0.0/16").classKey, canonical: "10.1.0.0/16", asked: "10.1.0.0/16")
        let c = try table.set(try selector("192.0.2.0/24"), rate: try rate("5mbit"), horizonSeconds: 0.1)
        XCTAssertEqual(c.classId, 1, "a freed id is used again")
    }

    func testAnUpdateKeepsTheCountersAndAnAliasIsTheSameClass() throws {
        let first = try table.set(try selector("10.77.0.1/32"), rate: try rate("100gbit"), horizonSeconds: 0.001)
        maps.classes[first.classId]!.bytes = 12_345
        maps.classes[first.classId]!.t_last = 99  // departure state of the datapath
        let alias = try table.set(try selector("::ffff:10.77.0.1/128"), rate: try rate("20mbit"), horizonSeconds: 0.05)
        XCTAssertEqual(alias.classId, first.classId, "one trie key, one class")
        XCTAssertEqual(alias.selector, "10.77.0.1/32", "one spelling per class")
        XCTAssertEqual(alias.bytes, 12_345, "counters carry on")
        XCTAssertEqual(maps.classes[first.classId]?.t_last, 99)
        XCTAssertEqual(alias.rate, try rate("20mbit"))
        XCTAssertEqual(try table.list().count, 1)
    }

    func testARecordedSpellingOfAnOlderAgentIsFoundByItsKey() throws {
        maps.selectors[4] = "::ffff:10.77.0.1/128"
        maps.classes[4] = edt_class(rateBytesPerSecond: 1_000_000, horizonNs: 1_000_000, ecn: false)
        let info = try table.set(try selector("10.77.0.1"), rate: try rate("8mbit"), horizonSeconds: 0.01)
        XCTAssertEqual(info.classId, 4)
        XCTAssertEqual(maps.selectors[4], "10.77.0.1/32", "rewritten in the current spelling")
    }

    func testAFullClassTableIsRefusedAndNothingIsWritten() throws {
        for id in 1...ClassTable.maxClasses { maps.selectors[id] = "198.18.\(id / 256).\(id % 256)/32" }
        let writes = maps.writes
        XCTAssertThrowsError(try table.set(try selector("10.9.9.9"), rate: try rate("10mbit"), horizonSeconds: 0.01)) {
            XCTAssertEqual("\($0)", "cannot add a class: the class table (\(EDT_MAX_CLASSES) classes) is full")
        }
        XCTAssertEqual(maps.writes, writes)
    }

    func testAFullSelectorMapLeavesNoHalfClass() throws {
        maps.bindingCapacity = 1
        _ = try table.set(try selector("10.1.0.0/16"), rate: try rate("20mbit"), horizonSeconds: 0.05)
        XCTAssertThrowsError(try table.set(try selector("10.2.0.0/16"), rate: try rate("20mbit"), horizonSeconds: 0.05)) {
            XCTAssertEqual("\($0)", "cannot add a class: the prefix map is full")
        }
        XCTAssertEqual(Array(maps.selectors.keys), [1], "the half-made class 2 is gone")
        XCTAssertEqual(Array(maps.classes.keys), [1])
        XCTAssertEqual(try table.list().map(\.selector), ["10.1.0.0/16"])
    }

    func testDeleteRemovesEveryBindingOfTheClass() throws {
        let info = try table.set(try selector("10.22.0.5"), rate: try rate("30mbit"), horizonSeconds: 0.02)
        try table.bind([try selector("fd22::5"), try selector("10.22.0.6")], toClassOf: "10.22.0.5/32", asked: "10.22.0.5")
        XCTAssertEqual(maps.bindings.values.filter { $0 == info.classId }.count, 3)
        let result = try table.delete(key: try selector("10.22.0.5").classKey, canonical: "10.22.0.5/32", asked: "10.22.0.5")
        XCTAssertEqual(result.actions, ["deleted class \(info.classId) (10.22.0.5/32), 3 selector entries"])
        XCTAssertTrue(maps.bindings.isEmpty)
        XCTAssertTrue(maps.classes.isEmpty)
        XCTAssertThrowsError(try table.delete(key: try selector("10.22.0.5").classKey, canonical: "10.22.0.5/32", asked: "10.22.0.5")) {
            XCTAssertEqual("\($0)", "no shaping class for \"10.22.0.5\" (see shaping.list)")
        }
        XCTAssertThrowsError(try table.bind([try selector("10.0.0.1")], toClassOf: "10.99.0.1/32", asked: "10.99.0.1")) {
            XCTAssertEqual("\($0)", "no shaping class for \"10.99.0.1\" (see shaping.list)")
        }
    }

    func testAForeignRateInAPinnedMapIsShownClamped() throws {
        maps.selectors[7] = "10.3.0.0/16"
        maps.classes[7] = edt_class(rateBytesPerSecond: 1, horizonNs: 2_000_000, ecn: true)
        let listed = try XCTUnwrap(try table.list().first)
        XCTAssertEqual(listed.rate.bitsPerSecond, BandwidthRate.minimum)
        XCTAssertEqual(listed.horizonSeconds, 0.002, accuracy: 1e-12)
        XCTAssertTrue(listed.ecn)
    }
}
