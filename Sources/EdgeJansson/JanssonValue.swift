// Read-only access to one value inside a `JanssonDocument`.
internal import CJansson

/// One value of a parsed document. Holds the document alive, so values can be kept after the
/// document variable is gone; reading never copies the tree.
public struct JanssonValue {
    /// JSON's value kinds (jansson keeps integers and reals apart).
    public enum Kind: Sendable, Equatable {
        case object, array, string, integer, real, `true`, `false`, null
    }

    let document: JanssonDocument
    let pointer: UnsafeMutablePointer<json_t>

    init(document: JanssonDocument, pointer: UnsafeMutablePointer<json_t>) {
        self.document = document
        self.pointer = pointer
    }

    /// What this value is.
    public var kind: Kind {
        switch pointer.pointee.type {
        case JSON_OBJECT: return .object
        case JSON_ARRAY: return .array
        case JSON_STRING: return .string
        case JSON_INTEGER: return .integer
        case JSON_REAL: return .real
        case JSON_TRUE: return .true
        case JSON_FALSE: return .false
        default: return .null
        }
    }

    /// "an object", "a string", …: for error messages that say what was found instead.
    public var kindDescription: String {
        switch kind {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .integer, .real: return "a number"
        case .true, .false: return "a boolean"
        case .null: return "null"
        }
    }

    /// True for JSON `null`.
    public var isNull: Bool { kind == .null }

    /// The member `key` of an object; nil when absent or when this is not an object.
    public subscript(key: String) -> JanssonValue? {
        guard kind == .object else { return nil }
        var key = key
        let member = key.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { json_object_getn(pointer, $0.baseAddress, $0.count) }
        }
        return member.map { JanssonValue(document: document, pointer: $0) }
    }

    /// Elements of an array or members of an object; 0 for other values.
    public var count: Int {
        switch kind {
        case .array: return json_array_size(pointer)
        case .object: return json_object_size(pointer)
        default: return 0
        }
    }

    /// The elements of an array (empty for other values).
    public var elements: [JanssonValue] {
        guard kind == .array else { return [] }
        let n = json_array_size(pointer)
        var out: [JanssonValue] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            out.append(JanssonValue(document: document, pointer: json_array_get(pointer, i)))
        }
        return out
    }

    /// The elements of an array that must hold only strings, read in one pass (the extender's
    /// `NodeNames`, thousands long, is the reason this exists). Nil when this is not an array;
    /// throws `JanssonElementError` naming the first element that is not a string.
    public func stringElements() throws -> [String]? {
        guard kind == .array else { return nil }
        let n = json_array_size(pointer)
        var out: [String] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let element = json_array_get(pointer, i)!
            guard element.pointee.type == JSON_STRING else {
                throw JanssonElementError(index: i, found: JanssonValue(document: document, pointer: element).kindDescription)
            }
            out.append(String(decoding: UnsafeRawBufferPointer(start: json_string_value(element), count: json_string_length(element)),
                              as: UTF8.self))
        }
        return out
    }

    /// The members of an object in document order (empty for other values).
    public var members: [(key: String, value: JanssonValue)] {
        guard kind == .object else { return [] }
        var out: [(key: String, value: JanssonValue)] = []
        out.reserveCapacity(json_object_size(pointer))
        var iter = json_object_iter(pointer)
        while let i = iter {
            let key = String(decoding: UnsafeRawBufferPointer(start: json_object_iter_key(i), count: json_object_iter_key_len(i)),
                             as: UTF8.self)
            out.append((key, JanssonValue(document: document, pointer: json_object_iter_value(i))))
            iter = json_object_iter_next(pointer, i)
        }
        return out
    }

    /// The text of a string (embedded NULs kept); nil for other values.
    public var stringValue: String? {
        guard kind == .string else { return nil }
        // jansson has already validated the UTF-8, so decoding never substitutes anything.
        return String(decoding: UnsafeRawBufferPointer(start: json_string_value(pointer), count: json_string_length(pointer)),
                      as: UTF8.self)
    }

    /// The value of an integer; nil for other values (reals included).
    public var integerValue: Int64? {
        kind == .integer ? Int64(json_integer_value(pointer)) : nil
    }

    /// The value of a real; nil for other values (integers included).
    public var realValue: Double? {
        kind == .real ? json_real_value(pointer) : nil
    }

    /// The value of `true`/`false`; nil for other values.
    public var boolValue: Bool? {
        switch kind {
        case .true: return true
        case .false: return false
        default: return nil
        }
    }
}

/// An array element of the wrong kind: which one, and what it was.
public struct JanssonElementError: Error, Equatable, Sendable {
    /// 0-based index of the element.
    public let index: Int
    /// What was found instead, e.g. "a number".
    public let found: String

    public init(index: Int, found: String) {
        self.index = index
        self.found = found
    }
}
