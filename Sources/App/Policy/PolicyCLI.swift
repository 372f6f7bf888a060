import Foundation
import LendingCore
import ZenEngine

/// `yidai policy eval | bench | test`: the decision engine from the command line, without the database or Vapor.
/// (`publish` and `replay` need the database and live elsewhere.)
public enum PolicyCLI {
    public static let usage = """
        usage:
          yidai policy eval GRAPH.json --input INPUT.json [--trace]
              Evaluates the JDM graph on the input and prints the output JSON.
              With --trace prints {"performance": "...", "result": OUTPUT, "trace": {NODE_ID: {"id", "name", "type",
              "input", "output", "order", "traceData"}}} like zen-engine's evaluate(..., {"trace": true});
              traceData holds, for a table, the rules that matched.
              Exit 0; 2 when the graph is refused (unreadable, invalid, or using an unsupported feature);
              1 when evaluation fails (invalid input JSON, input rejected by the graph's schema, expression error).
          yidai policy bench GRAPH.json --input INPUT.json --iterations N
              Evaluates N times in-process after a warm-up; the last line is `ns/op: X`.
          yidai policy test DIR
              Runs DIR/cases.json against its graph, prints each failing case and `N passed, N failed`.
              Exit 0 only when every case passed.
        Sub-decisions (decisionNode keys) are read relative to the graph's folder, as zen-engine's filesystem
        loader does. INPUT.json may be `-` for standard input.
        """

    public enum ExitCode {
        public static let success: Int32 = 0
        public static let evaluationFailed: Int32 = 1
        public static let graphRefused: Int32 = 2
        public static let usage: Int32 = 64
    }

    /// True when `arguments` (without the program name) are a policy command this type runs.
    public static func handles(_ arguments: [String]) -> Bool {
        guard arguments.first == "policy" else { return false }
        return ["eval", "bench", "test", "help", "--help", "-h", nil].contains(
            arguments.dropFirst().first)
    }

    /// Runs `policy ...` (the leading "policy" is optional) and returns the process exit code.
    public static func run(_ arguments: [String]) -> Int32 {
        var args = arguments[...]
        if args.first == "policy" { args = args.dropFirst() }
        guard let command = args.first else { return usageError("missing command") }
        let rest = Array(args.dropFirst())
        switch command {
        case "eval": return eval(rest)
        case "bench": return bench(rest)
        case "test": return test(rest)
        case "help", "--help", "-h":
            writeOut(usage + "\n")
            return ExitCode.success
        default: return usageError("unknown command \(command)")
        }
    }

    // MARK: - Commands

    static func eval(_ arguments: [String]) -> Int32 {
        guard let options = Options(arguments, flags: ["--trace"], valued: ["--input"]),
            options.positional.count == 1, let inputPath = options.values["--input"]
        else { return usageError("eval needs GRAPH.json --input INPUT.json [--trace]") }
        let graph: DecisionGraph
        switch loadGraph(at: options.positional[0]) {
        case .success(let loaded): graph = loaded
        case .failure(let refusal): return refused(refusal.message)
        }
        guard let input = readInput(inputPath) else { return ExitCode.evaluationFailed }
        let trace = options.flags.contains("--trace")
        let start = ContinuousClock.now
        let result: DecisionResult
        do {
            result = try graph.evaluate(input, trace: trace, now: Date())
        } catch {
            writeError("evaluation failed: \(error)\n")
            return ExitCode.evaluationFailed
        }
        let elapsed = ContinuousClock.now - start
        if trace {
            let document: ZenValue = .object([
                "performance": .string(formatDuration(elapsed)),
                "result": result.output,
                "trace": result.traceJSON(),
            ])
            writeOut(ZenJSON.serialize(document, pretty: true, sortedKeys: false) + "\n")
        } else {
            writeOut(ZenJSON.serialize(result.output, pretty: true, sortedKeys: false) + "\n")
        }
        return ExitCode.success
    }

    static func bench(_ arguments: [String]) -> Int32 {
        guard let options = Options(arguments, flags: [], valued: ["--input", "--iterations"]),
            options.positional.count == 1, let inputPath = options.values["--input"],
            let iterationsText = options.values["--iterations"], let iterations = Int(iterationsText),
            iterations > 0
        else { return usageError("bench needs GRAPH.json --input INPUT.json --iterations N (N > 0)") }
        let graph: DecisionGraph
        switch loadGraph(at: options.positional[0]) {
        case .success(let loaded): graph = loaded
        case .failure(let refusal): return refused(refusal.message)
        }
        guard let input = readInput(inputPath) else { return ExitCode.evaluationFailed }
        // One clock reading for the whole run, so every iteration does the same work.
        let now = Date()
        let first: DecisionResult
        do {
            first = try graph.evaluate(input, now: now)
        } catch {
            writeError("evaluation failed: \(error)\n")
            return ExitCode.evaluationFailed
        }
        writeOut("output: \(ZenJSON.serialize(first.output, sortedKeys: true))\n")

        var sink = 0
        do {
            for _ in 0..<max(100, min(iterations / 10, 10_000)) {
                sink &+= try graph.evaluate(input, now: now).output.benchWeight
            }
            let start = ContinuousClock.now
            for _ in 0..<iterations {
                sink &+= try graph.evaluate(input, now: now).output.benchWeight
            }
            let elapsed = ContinuousClock.now - start
            let nanoseconds =
                Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            let perOp = nanoseconds / Double(iterations)
            writeOut("iterations: \(iterations)\n")
            writeOut("checksum: \(sink)\n")
            writeOut("evaluations/s: \(Int((1e9 / perOp).rounded()))\n")
            writeOut("ns/op: \(String(format: "%.1f", perOp))\n")
        } catch {
            writeError("evaluation failed: \(error)\n")
            return ExitCode.evaluationFailed
        }
        return ExitCode.success
    }

    static func test(_ arguments: [String]) -> Int32 {
        guard let options = Options(arguments, flags: [], valued: []), options.positional.count == 1
        else {
            return usageError("test needs DIR")
        }
        let folder = URL(fileURLWithPath: options.positional[0], isDirectory: true)
        let caseFileURL = folder.appendingPathComponent(PolicyCaseFile.fileName)
        let caseFile: PolicyCaseFile
        do {
            caseFile = try PolicyCaseFile(json: Data(contentsOf: caseFileURL))
        } catch let error as PolicyCaseFileError {
            writeError("\(caseFileURL.path): \(error)\n")
            return ExitCode.usage
        } catch {
            writeError("cannot read \(caseFileURL.path): \(error.localizedDescription)\n")
            return ExitCode.usage
        }
        let fileNames = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        guard
            let graphName = PolicyCaseFile.entryGraphName(
                caseFile: caseFile, fileNames: fileNames,
                folderName: folder.standardizedFileURL.lastPathComponent)
        else {
            writeError("\(caseFileURL.path) names no graph and \(folder.path) has no single graph file\n")
            return ExitCode.usage
        }
        let graph: DecisionGraph
        switch loadGraph(at: folder.appendingPathComponent(graphName).path) {
        case .success(let loaded): graph = loaded
        case .failure(let refusal): return refused(refusal.message)
        }
        let report = PolicyCaseRunner.run(caseFile.cases, on: graph, now: Date())
        writeOut(report.render() + "\n")
        return report.allPassed ? ExitCode.success : ExitCode.evaluationFailed
    }

    // MARK: - Reading graphs and inputs

    struct Refusal: Error {
        let message: String
    }

    /// Reads and compiles a graph; sub-decisions resolve relative to its folder like zen-engine's filesystem loader.
    static func loadGraph(at path: String) -> Result<DecisionGraph, Refusal> {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            return .failure(Refusal(message: "cannot read graph \(path): \(error.localizedDescription)"))
        }
        let root = url.deletingLastPathComponent()
        do {
            let graph = try DecisionGraph(json: data) { key in
                let target =
                    key.hasPrefix("/") ? URL(fileURLWithPath: key) : root.appendingPathComponent(key)
                return try Data(contentsOf: target)
            }
            return .success(graph)
        } catch {
            return .failure(Refusal(message: "graph refused: \(path): \(error)"))
        }
    }

    static func readInput(_ path: String) -> ZenValue? {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                writeError("cannot read input \(path): \(error.localizedDescription)\n")
                return nil
            }
        }
        do {
            return try ZenJSON.parse(data)
        } catch {
            writeError("input \(path) is not valid JSON: \(error)\n")
            return nil
        }
    }

    // MARK: - Output

    static func refused(_ message: String) -> Int32 {
        writeError(message + "\n")
        return ExitCode.graphRefused
    }

    static func usageError(_ message: String) -> Int32 {
        writeError("\(message)\n\n\(usage)\n")
        return ExitCode.usage
    }

    static func writeOut(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// zen-engine's style: "12.3µs", "1.2ms".
    static func formatDuration(_ duration: Duration) -> String {
        let nanoseconds =
            Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
        if nanoseconds < 1_000 { return String(format: "%.1fns", nanoseconds) }
        if nanoseconds < 1_000_000 { return String(format: "%.1fµs", nanoseconds / 1_000) }
        return String(format: "%.1fms", nanoseconds / 1_000_000)
    }
}

extension PolicyCLI {
    /// Command-line options: positional arguments, boolean flags and `--name value` pairs.
    struct Options {
        var positional: [String] = []
        var flags: Set<String> = []
        var values: [String: String] = [:]

        init?(_ arguments: [String], flags known: Set<String>, valued: Set<String>) {
            var index = 0
            while index < arguments.count {
                let argument = arguments[index]
                if known.contains(argument) {
                    flags.insert(argument)
                } else if valued.contains(argument) {
                    guard index + 1 < arguments.count else { return nil }
                    values[argument] = arguments[index + 1]
                    index += 1
                } else if argument.hasPrefix("--") {
                    return nil
                } else {
                    positional.append(argument)
                }
                index += 1
            }
        }
    }
}

extension ZenValue {
    /// A cheap value derived from an output so the benchmark loop's work cannot be optimized away.
    fileprivate var benchWeight: Int {
        if case .object(let object) = self { return object.count }
        return 1
    }
}
