import Foundation
import Logging

/// WeChat's mini-program code (小程序码): `wxa/getwxacodeunlimit` (getUnlimitedQRCode) makes a code for one mini-program
/// page with a `scene` of at most 32 characters, which the page reads on opening. A customer manager's code carries
/// their manager code as the scene, so a scan opens the loan's mini-program page attributed to them.
public protocol MiniProgramCodes: OutsideService {
    func unlimitedCode(_ request: MiniProgramCodeRequest) async throws -> MiniProgramCodeImage
}

public struct MiniProgramCodeRequest: Sendable, Equatable {
    /// The `scene` parameter: the manager code (at most 32 visible ASCII characters, WeChat's rule).
    public let scene: String
    /// The mini-program page that opens (`page`), e.g. `pages/index/index`.
    public let page: String
    /// Width in pixels (`width`; WeChat draws 280–1280).
    public let width: Int
    /// The H5 address the same person would reach without the mini-program (the plain QR code's URL): the sandbox
    /// draws this, since it cannot draw WeChat's own code.
    public let fallbackURL: String

    public init(scene: String, page: String, width: Int, fallbackURL: String) {
        self.scene = scene
        self.page = page
        self.width = width
        self.fallbackURL = fallbackURL
    }

    /// WeChat's limits on `scene` and `width`; nil when the request may be sent.
    public var problem: String? {
        if scene.isEmpty || scene.count > 32 { return "scene must be 1 to 32 characters" }
        if !scene.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue.map { $0 >= 0x21 && $0 <= 0x7e } == true }) {
            return "scene may only hold visible ASCII characters"
        }
        if width < 280 || width > 1280 { return "width must be between 280 and 1280" }
        return nil
    }
}

public struct MiniProgramCodeImage: Sendable, Equatable {
    public let png: Data
    /// True when this is the sandbox's stand-in (a plain QR code of `fallbackURL`), not WeChat's code.
    public let isSandbox: Bool

    public init(png: Data, isSandbox: Bool) {
        self.png = png
        self.isSandbox = isSandbox
    }
}

/// The sandbox: WeChat is not called; it draws the plain QR code of the request's fallback URL (the same code as the
/// manager's QR code) at the asked width, logs that it did, and marks the image as the sandbox's.
public struct SandboxMiniProgramCodes: MiniProgramCodes {
    public let serviceName = "miniprogram"
    public let isSandbox = true
    public let logger: Logger

    public init(logger: Logger? = nil) {
        self.logger = logger ?? Logger(label: "yidai.sandbox.miniprogram")
    }

    public func unlimitedCode(_ request: MiniProgramCodeRequest) async throws -> MiniProgramCodeImage {
        if let problem = request.problem {
            throw ProviderError(code: "invalid_request", message: "getUnlimitedQRCode: \(problem)", messageZh: "小程序码参数不正确")
        }
        guard let png = try QRCode(request.fallbackURL).png(pixels: request.width) else { throw ProviderError.unavailable }
        logger.sandboxInfo("mini-program code for scene \(request.scene) drawn as a plain QR code of \(request.fallbackURL) (WeChat not called)")
        return MiniProgramCodeImage(png: png, isSandbox: true)
    }
}
