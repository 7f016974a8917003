/// Placeholder entry point until the tool lands.
@main
enum LogBenchCommand {
    static func main() {}
}
