import Foundation
import Vapor

/// Step 3 on the pages: liveness and comparison with the registry photo (the camera page, or a photo).
struct FaceStep: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let step = routes.grouped(JourneyStepGuard(JourneyPaths.face))
        step.get("face", use: facePage)
        step.photoUpload("face", use: facePost)
    }

    struct FaceForm: Content {
        var capture: String?
        var simulate: String?
        var photo: File?
    }

    func facePage(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        return try await renderFace(req, s, form: FormState())
    }

    func facePost(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        let body = try req.content.decode(FaceForm.self)
        var form = FormState()
        var request = FaceCheckRequest(capture: nil, simulate: body.simulate == "true" ? true : nil)
        if request.simulate == nil {
            if let photo = body.photo, photo.data.readableBytes > 0 {
                request.capture = Data(photo.data.readableBytesView).base64EncodedString()
            } else if let capture = body.capture, !capture.isEmpty {
                request.capture =
                    capture.hasPrefix("data:") ? String(capture.drop(while: { $0 != "," }).dropFirst()) : capture
            }
        }
        do {
            let (result, left) = try await s.journey.checkFace(s.application, request)
            if result.passed || left == 0 { return req.redirect(to: JourneyPaths.resume, redirectType: .normal) }
            form.formError =
                (result.livenessPassed
                    ? "人脸比对未通过，请确认由本人操作后重试。"
                    : "活体检测未通过，请正对屏幕、保持光线充足，按提示眨眼后重试。") + "还可尝试\(left)次。"
            return try await renderFace(req, s, form: form, status: .unprocessableEntity)
        } catch let error as APIError {
            if let redirect = try s.redirect(after: error, req) { return redirect }
            if error.status == .locked { return req.redirect(to: JourneyPaths.stopped, redirectType: .normal) }
            form.record(error, fieldMap: ["capture": "capture", "simulate": "capture"], fallbackField: "capture")
            return try await renderFace(req, s, form: form, status: error.status)
        }
    }

    func renderFace(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let max = JourneyService.faceMaxAttempts
        let lockOver = s.application.faceLockedUntil.map { $0 <= s.journey.now } ?? false
        let used = lockOver ? 0 : s.application.faceAttempts
        let context = FacePageContext(
            page: s.chrome(req, .face, script: "/js/camera.js"), form: form, attemptsLeft: Swift.max(0, max - used),
            maxAttempts: max,
            failedBefore: used > 0)
        return try await req.renderPage("journey/face", context, status: status)
    }
}
