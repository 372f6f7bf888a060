import Foundation
import LendingCore
import Providers
import Vapor

/// Step 2 on the pages: photograph both sides of the ID card (or, in the sandbox, use a sample card), then check what
/// was read and confirm it against the citizen registry.
struct IDCardStep: RouteCollection {
    func boot(routes: RoutesBuilder) throws {
        let step = routes.grouped(JourneyStepGuard(JourneyPaths.idCard))
        step.get("id-card", use: idCardPage)
        step.photoUpload("id-card", use: idCardUpload)
        step.post("id-card", "sample", use: idCardSample)
        step.post("id-card", "confirm", use: idCardConfirm)
    }

    struct IDCardUploadForm: Content {
        var frontImage: File?
        var backImage: File?
    }

    struct SampleForm: Content {
        var person: String?
    }

    struct IDCardConfirmForm: Content {
        var name: String?
        var idNumber: String?
        var address: String?
        var validUntil: String?
    }

    static let idCardFields = FormState.same("frontImage", "backImage")
    static let confirmFields = FormState.same("name", "idNumber", "address", "validUntil")

    func idCardPage(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        if req.query[String.self, at: "retake"] != "1", let reading = try await s.journey.ocrReading(s.application) {
            let form = FormState(values: [
                "name": reading.name, "idNumber": reading.idNumber, "address": reading.address,
                "validUntil": reading.validUntil,
            ])
            return try await renderConfirm(req, s, form: form)
        }
        return try await renderUpload(req, s, form: FormState())
    }

    func idCardUpload(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        let body = try req.content.decode(IDCardUploadForm.self)
        var form = FormState()
        do {
            for (field, file) in [("frontImage", body.frontImage), ("backImage", body.backImage)] {
                if let file, file.data.readableBytes > 5 * 1024 * 1024 {
                    throw APIError(
                        .payloadTooLarge, code: "image_too_large", message: "\(field) must be at most 5 MB.",
                        messageZh: "图片过大（不超过5MB），请重新拍摄。", field: field)
                }
            }
            _ = try await s.journey.uploadIDCard(
                s.application, front: body.frontImage.map { Data($0.data.readableBytesView) },
                back: body.backImage.map { Data($0.data.readableBytesView) })
            return req.redirect(to: JourneyPaths.idCard, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try s.redirect(after: error, req) { return redirect }
            form.record(error, fieldMap: Self.idCardFields)
            return try await renderUpload(req, s, form: form, status: error.status)
        }
    }

    func idCardSample(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        guard s.journey.services.providers.isSandbox else { throw APIError.notFound("page") }
        let person = try req.content.decode(SampleForm.self).person ?? ""
        guard let front = SandboxCards.image(person: person, side: .front),
            let back = SandboxCards.image(person: person, side: .back)
        else {
            var form = FormState()
            form.formError = "没有这张测试样卡。"
            return try await renderUpload(req, s, form: form, status: .unprocessableEntity)
        }
        do {
            _ = try await s.journey.uploadIDCard(s.application, front: front, back: back)
            return req.redirect(to: JourneyPaths.idCard, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try s.redirect(after: error, req) { return redirect }
            var form = FormState()
            form.record(error, fieldMap: Self.idCardFields)
            return try await renderUpload(req, s, form: form, status: error.status)
        }
    }

    func idCardConfirm(_ req: Request) async throws -> Response {
        let s = try req.pageSession
        let body = try req.content.decode(IDCardConfirmForm.self)
        let form0 = FormState(values: [
            "name": body.name ?? "", "idNumber": body.idNumber ?? "", "address": body.address ?? "",
            "validUntil": body.validUntil ?? "",
        ])
        do {
            let request = IDCardConfirmRequest(
                name: body.name, idNumber: body.idNumber.map { $0.filter { !$0.isWhitespace }.uppercased() },
                address: body.address,
                validUntil: body.validUntil)
            try await s.journey.confirmIDCard(s.application, request)
            return req.redirect(to: JourneyPaths.resume, redirectType: .normal)
        } catch let error as APIError {
            if let redirect = try s.redirect(after: error, req) { return redirect }
            var form = form0
            form.record(error, fieldMap: Self.confirmFields)
            return try await renderConfirm(req, s, form: form, status: error.status)
        }
    }

    func renderUpload(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let samples =
            s.view.sandbox
            ? SandboxCards.persons.map { key in
                IDCardUploadPageContext.SampleCard(
                    key: key, name: SandboxPersona.forKey(key)?.name ?? "", front: "/sandbox/cards/\(key)-front.png")
            }
            : []
        let context = IDCardUploadPageContext(
            page: s.chrome(req, .idCard), form: form, samples: samples, hasReading: s.application.ocrSealed != nil)
        return try await req.renderPage("journey/id-card", context, status: status)
    }

    func renderConfirm(_ req: Request, _ s: PageSession, form: FormState, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let context = IDCardConfirmPageContext(page: s.chrome(req, .idCard, title: "核对身份证信息"), form: form)
        return try await req.renderPage("journey/id-card-confirm", context, status: status)
    }
}
