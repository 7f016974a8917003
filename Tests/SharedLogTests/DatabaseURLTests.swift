import Registry
import Testing

@testable import SharedLog

/// Parsing of `--postgres` URLs, without a database.
@Suite struct DatabaseURLTests {
    @Test func fullURLParses() throws {
        // Every part of a complete URL lands where it belongs, with libpq's sslmode names.
        let url = try DatabaseURL("postgres://reg%40istry:p%2Fss@db.example:6543/tunnels?sslmode=require")
        #expect(url.host == "db.example" && url.port == 6543)
        #expect(url.user == "reg@istry" && url.password == "p/ss")
        #expect(url.database == "tunnels" && url.tlsMode == .require)
    }

    @Test func defaultsFollowLibpq() throws {
        // Without port, database or sslmode: 5432, the user's name, prefer.
        let url = try DatabaseURL("postgresql://registry@10.0.0.5")
        #expect(url.port == 5432 && url.database == "registry" && url.tlsMode == .prefer)
    }

    @Test(arguments: [
        "mysql://u@h/db", "postgres:///db", "postgres://u@h/db?sslmode=sometimes", "postgres://u@h/db?colour=red",
        "postgres://u@h:99999/db", "not a url at all",
    ])
    func badURLsGiveOneLine(_ text: String) {
        // A bad URL is one line saying what is wrong and what a good URL looks like, password hidden.
        do {
            _ = try DatabaseURL(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.kind == .invalidURL)
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains("postgres://user:password@host:5432/database"))
        }
    }

    @Test func passwordsNeverAppearInErrors() {
        // The password of a rejected URL is replaced by *** in the message.
        do {
            _ = try DatabaseURL("postgres://u:hunter2@h/db?sslmode=bogus")
            Issue.record("parsed")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }
}
