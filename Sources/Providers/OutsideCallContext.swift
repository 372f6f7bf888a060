/// On whose behalf an outside service is being called: the server's request id (`X-Request-Id`), or `job-<id>` for
/// background work. A real provider sends it along (a request header, the provider's own trace or reference field),
/// so the bank's logs and the provider's can be matched; the sandboxes log it. Set by the server around each request
/// and each job; nil elsewhere (commands, tests).
public enum OutsideCallContext {
    @TaskLocal public static var requestID: String?
}
