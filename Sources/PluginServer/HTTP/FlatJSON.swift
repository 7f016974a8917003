/// A scanner for the body GOST sends: one flat JSON object whose values are plain strings.
/// It reads the five fields straight from the request bytes, without Foundation's
/// `JSONDecoder`, a `Data` copy or an intermediate array. It gives up (returns nil) on
/// anything else: escapes, non-ASCII bytes, numbers, `null`, nesting, a repeated field or
/// malformed text; the caller then decodes with `JSONDecoder`, which accepts what JSON allows
/// and words every refusal.
enum FlatJSON {
    /// The fields of `bytes`, or nil when the body is not a flat object of plain ASCII strings.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> ServiceFields? {
        var scanner = Scanner(bytes: bytes)
        return scanner.object()
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func object() -> ServiceFields? {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            var fields = ServiceFields()
            var seen: UInt8 = 0
            skipSpace()
            if take(UInt8(ascii: "}")) { return end() ? fields : nil }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                guard let value = string() else { return nil }
                if let bit = Self.field(key, in: bytes) {
                    guard seen & bit == 0 else { return nil }
                    seen |= bit
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[value]), as: UTF8.self)
                    switch bit {
                    case 1: fields.id = text
                    case 2: fields.name = text
                    case 4: fields.node = text
                    case 8: fields.network = text
                    default: fields.address = text
                    }
                }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                return end() ? fields : nil
            }
        }

        /// The bit of a known field name, nil for any other key.
        private static func field(_ key: Range<Int>, in bytes: UnsafeRawBufferPointer) -> UInt8? {
            let name = UnsafeRawBufferPointer(rebasing: bytes[key])
            switch name.count {
            case 2 where name.elementsEqual("id".utf8): return 1
            case 4 where name.elementsEqual("name".utf8): return 2
            case 4 where name.elementsEqual("node".utf8): return 4
            case 7 where name.elementsEqual("network".utf8): return 8
            case 7 where name.elementsEqual("address".utf8): return 16
            default: return nil
            }
        }

        /// The byte range of a string's contents; nil on an escape, a control or non-ASCII byte.
        private mutating func string() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return start..<(index - 1)
                }
                guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else { return nil }
                index += 1
            }
            return nil
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// True when only whitespace follows.
        private mutating func end() -> Bool {
            skipSpace()
            return index == bytes.count
        }
    }
}
