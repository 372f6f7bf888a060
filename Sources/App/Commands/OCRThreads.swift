import Foundation

/// Tesseract's OpenMP threads limited to one per read (OMP_THREAD_LIMIT=1, as Tesseract's own documentation advises
/// where reads run side by side): the OCR queue runs one read per core instead.
public enum OCRThreads {
    /// Unless OMP_THREAD_LIMIT is set (an operator's own choice is kept), sets it to 1 and starts this program again
    /// in place (same process id, arguments and open files): OpenMP reads it only when it is loaded, before `main`.
    public static func limitToOne() {
        guard ProcessInfo.processInfo.environment["OMP_THREAD_LIMIT"] == nil else { return }
        setenv("OMP_THREAD_LIMIT", "1", 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        // Not restarted (no /proc): carry on with OpenMP's default, only slower.
    }
}
