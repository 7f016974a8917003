/// Placeholder entry point until the tool lands.
@main
enum TunnelReplayCommand {
    static func main() {}
}
