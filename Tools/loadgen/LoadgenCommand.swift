/// Placeholder entry point until the tool lands.
@main
enum LoadgenCommand {
    static func main() {}
}
