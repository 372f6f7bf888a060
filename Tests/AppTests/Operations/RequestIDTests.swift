import Fluent
import Foundation
import LendingCore
import NIOConcurrencyHelpers
import Providers
import Testing
import Vapor

@testable import App

/// An SMS gateway that remembers on whose behalf each message was sent, then sends it with the sandbox.
final class RecordingSMSGateway: SMSGateway {
    let inner: any SMSGateway
    let requestIDs = NIOLockedValueBox<[String?]>([])
    init(_ inner: any SMSGateway) { self.inner = inner }
    var serviceName: String { inner.serviceName }
    var isSandbox: Bool { inner.isSandbox }
    func send(to phone: MobileNumber, text: String, reference: String?) async throws {
        requestIDs.withLockedValue { $0.append(OutsideCallContext.requestID) }
        try await inner.send(to: phone, text: text, reference: reference)
    }
}

@Suite("The request id reaches the outside services")
struct RequestIDTests {
    @Test("an SMS sent for a request carries that request's id, and one sent by a background job the job's")
    func requestIDReachesProviders() async throws {
        try await withYidai { app, clock, providers in
            // setup
            let recording = RecordingSMSGateway(providers.sms)
            var swapped = app.yidai.providers
            swapped.sms = recording
            let s = app.yidai
            app.yidai = YidaiServices(
                config: s.config, cipher: s.cipher, providers: swapped, clock: s.clock, limiter: s.limiter, policies: s.policies, metrics: s.metrics)
            // MUT: a request with its own id
            let (status, _, headers) = try await TestHTTP.call(
                app, .POST, "/api/v1/sms-codes", json: ["phone": "13900000055"], headers: ["X-Request-Id": "trace-77"])
            // validation
            #expect(status == .accepted)
            #expect(headers.first(name: "X-Request-Id") == "trace-77")
            #expect(recording.requestIDs.withLockedValue { $0 } == ["trace-77"])
            // MUT: a notification sent by the job queue
            var p = Applicant("P01", app: app, clock: clock, providers: providers)
            try await p.signIn()
            let application = try #require(UUID(uuidString: p.applicationID))
            let services = app.yidai
            try await app.db.writeTransaction { tx in
                try await Notifications.enqueue(.decisionDeclined, application: application, eventKey: "test:\(application)", on: tx, services: services)
            }
            #expect(try await Notifications(db: app.db, services: app.yidai).runDue() == 1)
            let job = try #require(try await BackgroundJob.query(on: app.db).filter(\.$kind == Notifications.jobKind).first())
            #expect(recording.requestIDs.withLockedValue { $0 }.last == "job-" + job.id!.uuidString.lowercased())
        }
    }

    @Test("a request that sent no id, or one that is not letters, digits and dashes, gets a new id of its own back")
    func requestsWithoutAUsableIDGetANewOne() async throws {
        try await withYidai { app, _, _ in
            var seen: Set<String> = []
            for sent in [nil, "not ok; DROP", String(repeating: "a", count: 65)] as [String?] {
                // MUT
                let (_, _, headers) = try await TestHTTP.call(
                    app, .POST, "/api/v1/sms-codes", json: ["phone": "12345"], headers: sent.map { ["X-Request-Id": $0] } ?? [:])
                // validation: a fresh random id (a version 4 UUID), never the one sent, never one given before
                let id = try #require(headers.first(name: "X-Request-Id"))
                let uuid = try #require(UUID(uuidString: id), "\(id)")
                #expect(uuid.uuid.6 >> 4 == 4)
                #expect(id != sent)
                #expect(seen.insert(id).inserted)
            }
        }
    }
}
