import Foundation

/// A sliding-window limiter kept in memory, for limits per client address and per application
/// (login attempts, decision requests). Limits that must survive restarts and span instances
/// (SMS sends per phone) are counted from the database instead.
actor RateLimiter {
    struct Rule: Sendable {
        let limit: Int
        let window: TimeInterval
    }

    private var events: [String: [Date]] = [:]
    private var checks = 0

    /// Records one event for `key` if it is within `rule`; otherwise returns the seconds until it would be.
    func attempt(_ key: String, rule: Rule, now: Date) -> Int? {
        checks += 1
        if checks % 1000 == 0 { prune(now: now) }
        var list = events[key, default: []].filter { now.timeIntervalSince($0) < rule.window }
        if list.count >= rule.limit {
            events[key] = list
            let oldest = list.first ?? now
            return Int((rule.window - now.timeIntervalSince(oldest)).rounded(.up))
        }
        list.append(now)
        events[key] = list
        return nil
    }

    func reset() { events.removeAll() }

    private func prune(now: Date) {
        events = events.filter { _, dates in dates.contains { now.timeIntervalSince($0) < 86_400 } }
    }
}

enum RateRules {
    static let smsPerClientPerHour = RateLimiter.Rule(limit: 30, window: 3600)
    static let signInPerClient = RateLimiter.Rule(limit: 20, window: 600)
    static let decisionPerApplication = RateLimiter.Rule(limit: 5, window: 3600)
    static let uploadsPerApplication = RateLimiter.Rule(limit: 20, window: 3600)
}
