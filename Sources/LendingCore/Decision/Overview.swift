// Decision engine overview (kept as a comment so SwiftPM has no resource to declare).
//
// # Decision engine (JDM + ZEN expressions)
//
// Evaluates GoRules JSON Decision Model graphs the way zen-engine 2.1.3 does, with exact decimals.
// zen-engine's behaviour is the reference; `Tests/LendingCoreTests/Fixtures/decision/` (graphs) and
// `Tests/ZenEngineTests/Fixtures/` (expressions) hold answers recorded from it and the scripts that record them.
//
// ## Use
//
// ```swift
// let graph = try DecisionGraph.load(contentsOf: url)            // or DecisionGraph(json:loader:)
// let result = try graph.evaluate(input, trace: true, now: clock.now)
// result.output          // ZenValue
// result.trace           // [DecisionTraceEntry]: node, input, output, matched rules
// result.traceJSON()     // zen-engine-shaped trace: node id -> { id, name, input, output, traceData, ... }
// graph.warnings         // what was tolerated as zen-engine does (a table cell that does not parse)
//
// try ZenExpression("round(income * 0.3, 2)").evaluate(context)
// try ZenUnaryExpression("[22..55]").test(30)
// ```
//
// `DecisionGraph.load(contentsOf:)` is the only file access; everything else is pure. The clock is
// never read: pass `now:` for graphs that use `d()`, `date('now')`, `isToday()`; without it they fail.
//
// ## Files
//
// The ZEN expression language is its own target, `Sources/ZenEngine` (Foundation only; what the graph code below
// needs of its internals is `package`, the rest of the package cannot see it):
//
// - `ZenValue.swift`: values; objects keep insertion order; zen-engine's merge and dot-path insert.
// - `ZenNumber.swift`, `ZenDecimalFast.swift`: exact decimal parsing/formatting (rust_decimal scale rules),
//   fast paths that read Foundation's `Decimal` storage (checked once against Foundation at start).
// - `ZenJSON.swift`: JSON with exact decimals.
// - `ZenLexer.swift`, `ZenParser.swift`: zen-engine's grammar (standard and unary/cell mode).
// - `ZenCompiler.swift`, `ZenEval.swift`: compile once to a node tree; operators and closures.
// - `ZenFastCell.swift`: unary cells reduced to direct tests of the column value (what tables run for most cells).
// - `ZenFunctions.swift`, `ZenDate.swift`: built-in functions, dates (UTC) and date methods.
// - `CivilDays.swift`: the calendar's day arithmetic (LendingCore's `CivilDate` counts days with it too).
//
// The JDM decision model is here, in LendingCore's `Decision/`:
//
// - `DecisionGraph.swift`, `DecisionGraphRunner.swift`: loading, the graph walk (switch pruning, merging,
//   passThrough / inputField / outputPath / loop, `$nodes`), trace.
// - `DecisionTable.swift`: tables (first, collect, first with `field[]` collect columns); numeric cells are
//   tested on decimal parts without allocation.
// - `DecisionSchema.swift`: JSON Schema for input/output nodes.
//
// ## Refused at load (naming node and feature)
//
// `functionNode` (JavaScript), `customNode`, unknown node types, unknown functions or methods anywhere,
// expression nodes or `inputField` that do not parse, unsupported JSON Schema keywords (`$ref`, `if`, ...),
// hit policies other than first/collect, cyclic graphs, sub-decisions that refer back to themselves,
// a graph without exactly one input node.
//
// ## Known differences from zen-engine
//
// - `^` with a non-integer exponent uses `Double` (about 16 digits instead of rust_decimal's 28).
// - Text of numbers follows rust_decimal's scale rules (`string(10/4)` is `2.50`), except `-0` prints as `0`
//   and a division that stops at 28 digits may keep a trailing zero zen-engine drops.
// - Dates are UTC only (`tz()` accepts only UTC); `d('Europe/Paris')` means "now" like zen-engine.
// - `$nodes` key order (zen-engine's is a hash order).
