/// Placeholder entry point until the server lands.
@main
enum TunnelRegistryCommand {
    static func main() {}
}
