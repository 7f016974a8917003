@main enum SharedBench { static func main() {} }
