import Crypto
import Foundation
import Leaf
import LendingCore
import NIOConcurrencyHelpers
import Vapor

/// The files under Public/ by content: pages link `/css/console.3f9a1c2b0d4e.css`, served with a year-long
/// immutable cache (a changed file gets a new name, so no visitor ever holds a stale one); small SVGs go into the
/// page itself as `data:` URIs, and the applicant's stylesheet is inlined (about 5 KB compressed): on a slow phone
/// network every extra request costs a round trip before the first paint, more than the bytes it saves.
///
/// Outside release builds the files are looked at again when they change on disk, so CSS can be edited against
/// a running server.
final class StaticAssets: Sendable {
    struct Snapshot: Sendable {
        /// "/css/app.css" → "/css/app.<hash>.css" (or a data: URI for a small SVG).
        var urls: [String: String] = [:]
        /// "/css/app.<hash>.css" → the file's bytes and media type.
        var files: [String: (bytes: [UInt8], type: HTTPMediaType)] = [:]
        /// The minified applicant stylesheet and its CSP source ('sha256-…').
        var inlineStyle = ""
        var inlineStyleSource = ""
        var stamp: [String: Date] = [:]
        /// "/img/logo.svg" → the file as it is on the disk, for its plain name (`PublicFilesMiddleware`).
        var plain: [String: PlainFile] = [:]
    }

    /// A file under its plain name: its bytes as on the disk, its type, and an ETag from its content.
    struct PlainFile: Sendable {
        let body: ByteBuffer
        let type: HTTPMediaType
        let etag: String
    }

    /// The stylesheet inlined into every applicant page (until the browser holds its file).
    static let inlinedStylesheet = "/css/app.css"
    /// Set by the stylesheet file's own response: the hash of the stylesheet the browser has in its cache.
    static let stylesheetCookie = "yd_css"

    /// "abc123def456" of "/css/app.abc123def456.css".
    static func hash(in url: String) -> String? {
        let parts = url.split(separator: ".")
        guard parts.count >= 3 else { return nil }
        return String(parts[parts.count - 2])
    }
    /// SVGs up to this size go into the page; larger files keep a URL of their own.
    static let inlineImageLimit = 2048

    private let root: URL
    private let reloads: Bool
    private let state: NIOLockedValueBox<Snapshot>

    init(publicDirectory: String, reloads: Bool) throws {
        self.root = URL(fileURLWithPath: publicDirectory, isDirectory: true)
        self.reloads = reloads
        self.state = NIOLockedValueBox(try Self.load(root))
    }

    /// The URL a page uses for a file under Public/ (given as "/img/logo.svg"); a path that is not a file there
    /// is returned unchanged.
    func url(for path: String) -> String {
        current().urls[path] ?? path
    }

    func file(at hashedPath: String) -> (bytes: [UInt8], type: HTTPMediaType)? {
        current().files[hashedPath]
    }

    /// The file at a plain name ("/img/logo.svg"), as on the disk; nil when it is not one of Public/'s files.
    func plainFile(at path: String) -> PlainFile? {
        current().plain[path]
    }

    var inlineStyle: String { current().inlineStyle }
    /// For the Content-Security-Policy's style-src.
    var inlineStyleSource: String { current().inlineStyleSource }

    private func current() -> Snapshot {
        guard reloads else { return state.withLockedValue { $0 } }
        return state.withLockedValue { snapshot in
            if Self.stamps(root) != snapshot.stamp, let fresh = try? Self.load(root) { snapshot = fresh }
            return snapshot
        }
    }

    private static func stamps(_ root: URL) -> [String: Date] {
        var result: [String: Date] = [:]
        for (path, url) in files(root) {
            result[path] = (try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate
        }
        return result
    }

    private static func files(_ root: URL) -> [(String, URL)] {
        var found: [(String, URL)] = []
        for folder in ["css", "js", "img"] {
            let dir = root.appendingPathComponent(folder, isDirectory: true)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                found.append(("/\(folder)/\(name)", dir.appendingPathComponent(name)))
            }
        }
        return found
    }

    private static func load(_ root: URL) throws -> Snapshot {
        var snapshot = Snapshot()
        snapshot.stamp = stamps(root)
        // Stylesheets last: their url(...)s take the names (or data: URIs) of the images.
        let all = files(root)
        for (path, url) in all.filter({ $0.1.pathExtension != "css" }) + all.filter({ $0.1.pathExtension == "css" }) {
            var bytes = [UInt8](try Data(contentsOf: url))
            let ext = url.pathExtension
            snapshot.plain[path] = PlainFile(
                body: ByteBuffer(bytes: bytes), type: HTTPMediaType.fileExtension(ext) ?? .binary,
                etag: "\"" + Hex.string(SHA256.hash(data: bytes).prefix(8)) + "\"")
            if ext == "css" {
                var css = minifyCSS(String(decoding: bytes, as: UTF8.self))
                for (plain, named) in snapshot.urls where plain.hasPrefix("/img/") {
                    css = css.replacingOccurrences(of: "url(\"\(plain)\")", with: "url(\"\(named)\")")
                }
                bytes = Array(css.utf8)
            }
            let type = HTTPMediaType.fileExtension(ext) ?? .binary
            if ext == "svg" && bytes.count <= inlineImageLimit {
                snapshot.urls[path] = "data:image/svg+xml;base64," + Data(bytes).base64EncodedString()
                continue
            }
            let digest = Hex.string(SHA256.hash(data: bytes).prefix(6))
            let stem = url.deletingPathExtension().lastPathComponent
            let hashed = "/\(url.deletingLastPathComponent().lastPathComponent)/\(stem).\(digest).\(ext)"
            snapshot.urls[path] = hashed
            snapshot.files[hashed] = (bytes, type)
            if path == inlinedStylesheet {
                snapshot.inlineStyle = String(decoding: bytes, as: UTF8.self)
                snapshot.inlineStyleSource = "'sha256-" + Data(SHA256.hash(data: bytes)).base64EncodedString() + "'"
            }
        }
        return snapshot
    }

    /// Comments out, runs of white space folded, none around braces, semicolons and commas. Enough for our own
    /// hand-written stylesheets (no strings hold those characters), which is all it is used on.
    static func minifyCSS(_ css: String) -> String {
        var text = css
        while let start = text.range(of: "/*"), let end = text.range(of: "*/", range: start.upperBound..<text.endIndex) {
            text.removeSubrange(start.lowerBound..<end.upperBound)
        }
        var out = ""
        var pendingSpace = false
        let tight: Set<Character> = ["{", "}", ";", ",", ">"]
        for character in text {
            if character.isWhitespace {
                pendingSpace = true
                continue
            }
            if pendingSpace, let last = out.last, !tight.contains(last), !tight.contains(character), last != ":" {
                out.append(" ")
            }
            pendingSpace = false
            if character == "}", out.last == ";" { out.removeLast() }
            out.append(character)
        }
        return out
    }
}

/// Serves the content-hashed names: a year, immutable. An outdated hash is simply not found.
struct HashedAssetMiddleware: AsyncMiddleware {
    let assets: StaticAssets

    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        guard request.method == .GET || request.method == .HEAD, let file = assets.file(at: request.path) else {
            return try await next.respond(to: request)
        }
        var headers = HTTPHeaders()
        headers.contentType = file.type
        headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=31536000, immutable")
        let response = Response(status: .ok, headers: headers, body: .init(data: Data(file.bytes)))
        let path = request.path
        if path == assets.url(for: StaticAssets.inlinedStylesheet), let hash = StaticAssets.hash(in: path) {
            // The browser now holds this stylesheet: pages may link it instead of inlining it.
            response.cookies[StaticAssets.stylesheetCookie] = HTTPCookies.Value(
                string: hash, maxAge: 31_536_000, path: "/", isSecure: PageCookies.secure(for: request), isHTTPOnly: true,
                sameSite: .lax)
        }
        return response
    }
}

/// `#asset("/img/logo.svg")`: the URL to use for a file under Public/.
struct AssetTag: LeafTag {
    let assets: StaticAssets

    func render(_ ctx: LeafContext) throws -> LeafData {
        guard ctx.parameters.count == 1, let path = ctx.parameters[0].string else {
            throw Abort(.internalServerError, reason: "#asset needs one path, like #asset(\"/img/logo.svg\")")
        }
        return .string(assets.url(for: path))
    }
}

/// `#inlineStyle()`: the applicant stylesheet. On a first visit it is inlined as a <style> element (its hash is
/// allowed by the CSP), so the first paint waits for no second request; its content-hashed file is then fetched
/// at low priority after the page (`rel=prefetch`), and that file's response sets the cookie `yd_css` to its hash.
/// A page whose request carries that cookie (the browser holds this very file) links the file instead: the HTML
/// shrinks by ~5 KB and a warm page is one short round trip. A request that bypasses the browser's cache
/// (`Cache-Control: no-cache` or `Pragma: no-cache`, as with "disable cache" or a hard reload) gets it inline.
struct InlineStyleTag: UnsafeUnescapedLeafTag {
    let assets: StaticAssets

    func render(_ ctx: LeafContext) throws -> LeafData {
        let url = assets.url(for: StaticAssets.inlinedStylesheet)
        if let request = ctx.request, Self.holdsStylesheet(request, hash: StaticAssets.hash(in: url)) {
            return .string("<link rel=\"stylesheet\" href=\"\(url)\">")
        }
        return .string("<style>" + assets.inlineStyle + "</style><link rel=\"prefetch\" href=\"\(url)\" as=\"style\">")
    }

    static func holdsStylesheet(_ request: Request, hash: String?) -> Bool {
        guard let hash, request.cookies[StaticAssets.stylesheetCookie]?.string == hash else { return false }
        let bypass = request.headers[.cacheControl].contains { $0.lowercased().contains("no-cache") }
            || request.headers[.pragma].contains { $0.lowercased().contains("no-cache") }
        return !bypass
    }
}

/// Public/'s files under their plain names (Vapor's `FileMiddleware`), asked for only where one can be: a path whose
/// first part names an entry at Public/'s top (`css`, `img`, `js`). `FileMiddleware` looks every path that reaches
/// it up on the disk, an I/O thread's stat and two thread hops, and nearly every request is an API call or a page
/// that no file answers. Public/'s top is read once at start: a new top-level entry needs a restart (its files
/// below may change at any time).
struct PublicFilesMiddleware: AsyncMiddleware {
    let files: FileMiddleware
    let topLevel: Set<String>
    /// Public/'s files read at start (`StaticAssets`), answered from memory under their plain names.
    let assets: StaticAssets?

    init(publicDirectory: String, assets: StaticAssets? = nil) {
        files = FileMiddleware(publicDirectory: publicDirectory, defaultFile: nil)
        topLevel = Set((try? FileManager.default.contentsOfDirectory(atPath: publicDirectory)) ?? [])
        self.assets = assets
    }

    /// The first part of a request's path, percent-decoded as `FileMiddleware` decodes it.
    static func firstPart(of path: String) -> Substring? {
        // Foundation's decoding is dear, and a path without a % has nothing to decode.
        guard !path.utf8.contains(UInt8(ascii: "%")) else {
            return path.removingPercentEncoding.map { $0.drop { $0 == "/" }.prefix { $0 != "/" } }
        }
        return path.drop { $0 == "/" }.prefix { $0 != "/" }
    }

    func respond(to request: Request, chainingTo next: AsyncResponder) async throws -> Response {
        guard let first = Self.firstPart(of: request.path), topLevel.contains(String(first)) else {
            return try await next.respond(to: request)
        }
        // Public/'s own files from memory, with an ETag of their content: Vapor's file streaming made a date formatter
        // for every Last-Modified, which cost a plain file more than a signed-in API request. A range, a
        // percent-encoded path or a file added since the start is read from the disk as before.
        if request.method == .GET || request.method == .HEAD, !request.headers.contains(name: .range),
            let file = assets?.plainFile(at: request.path)
        {
            return Self.answer(file, to: request)
        }
        return try await files.respond(to: request, chainingTo: next)
    }

    /// 304 when the request's If-None-Match names the file's ETag (weak or strong, or `*`), else the file.
    static func answer(_ file: StaticAssets.PlainFile, to request: Request) -> Response {
        var headers = HTTPHeaders()
        headers.contentType = file.type
        headers.replaceOrAdd(name: .eTag, value: file.etag)
        let named = request.headers[.ifNoneMatch].flatMap { $0.split(separator: ",") }.map { tag in
            let trimmed = tag.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed
        }
        if named.contains(file.etag) || named.contains("*") {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(buffer: file.body))
    }
}
