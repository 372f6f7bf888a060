import Foundation
import Testing
import Vapor
import VaporTesting

@testable import App

/// What the applicant reads about a stopped, locked or referred application: named for what it is, with the reason,
/// what to do, until when, and who will call.
@Suite("Words on the applicant's pages")
struct JourneyWordsTests {
    static func page(_ app: Application, _ path: String, token: String) async throws -> String {
        var html = ""
        try await app.testing().test(.GET, path, headers: ["Cookie": "yd_session=\(token)", "Accept": "text/html"]) { res async in
            html = String(buffer: res.body)
        }
        return html
    }

    @Test("a referred application names the customer manager who will call and by when, in 我的贷款 too")
    func referral() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P11", app: app, clock: clock, providers: providers)
            try await p.signIn(cm: "SZ-0001", ch: "qr")
            let decided = try await p.walkOnToDecision()
            #expect(decided["state"] as? String == "referred")
            let result = try await Self.page(app, "/apply/result", token: p.token)
            #expect(result.contains("人工审核中"))
            #expect(result.contains("您的客户经理林晓（深圳南山支行）将在"))
            #expect(!result.contains("已转人工审核，客户经理将与您联系"))
            let loans = try await Self.page(app, "/loans", token: p.token)
            #expect(loans.contains(">审核中<"))
            #expect(loans.contains("前完成审核，您的客户经理林晓"))
            #expect(loans.contains("查看审核进度"))
            #expect(!loans.contains("继续申请"))
            #expect(loans.contains("今日："))
            #expect(!loans.contains("业务日期"))
        }
    }

    @Test("without a manager the referral names the branch")
    func referralWithoutManager() async throws {
        try await withYidai { app, clock, providers in
            var p = Applicant("P11", app: app, clock: clock, providers: providers)
            try await p.signIn()
            _ = try await p.walkOnToDecision()
            let result = try await Self.page(app, "/apply/result", token: p.token)
            #expect(result.contains("总行的工作人员将在"))
        }
    }

    @Test("a face check failed three times shows 已锁定 with the time it opens again; a stop at identity 暂不可继续 with what to do")
    func lockedAndStopped() async throws {
        try await withYidai { app, clock, providers in
            var p04 = Applicant("P04", app: app, clock: clock, providers: providers)
            try await p04.signIn()
            #expect(try await p04.uploadIDCard().0 == .ok)
            #expect(try await p04.confirmIDCard().0 == .ok)
            for _ in 0..<3 { _ = try await p04.face() }
            let locked = try await Self.page(app, "/loans", token: p04.token)
            #expect(locked.contains(">已锁定<"))
            #expect(locked.contains("已锁定至"))
            #expect(!locked.contains("暂未通过"))
            #expect(!locked.contains("继续申请 ›"))

            var p03 = Applicant("P03", app: app, clock: clock, providers: providers)
            try await p03.signIn()
            #expect(try await p03.uploadIDCard().0 == .ok)
            _ = try await p03.confirmIDCard()
            let stopped = try await Self.page(app, "/loans", token: p03.token)
            #expect(stopped.contains(">暂不可继续<"))
            #expect(stopped.contains("请携带身份证到网点办理"))
            #expect(stopped.contains("查看原因与办理方式"))
        }
    }
}

extension Applicant {
    /// From a signed-in applicant to the decision, every step expected to pass.
    mutating func walkOnToDecision() async throws -> [String: Any] {
        #expect(try await uploadIDCard().0 == .ok)
        #expect(try await confirmIDCard().0 == .ok)
        #expect(try await face().0 == .ok)
        #expect(try await bankCard().0 == .accepted)
        #expect(try await confirmBankCard().0 == .ok)
        #expect(try await authorize().0 == .ok)
        #expect(try await aboutYou().0 == .ok)
        return try await decide().1
    }
}
