import CTesseract
import Foundation

/// A rectangle in image pixels, origin top left.
struct PixelRect: Sendable, Equatable, CustomStringConvertible {
    var x: Int
    var y: Int
    var width: Int
    var height: Int

    var right: Int { x + width }
    var bottom: Int { y + height }
    var midY: Int { y + height / 2 }

    /// The smallest rectangle holding both.
    func union(_ other: PixelRect) -> PixelRect {
        let l = min(x, other.x), t = min(y, other.y)
        return PixelRect(x: l, y: t, width: max(right, other.right) - l, height: max(bottom, other.bottom) - t)
    }

    /// This rectangle grown by `dx`, `dy` on every side and cut to `width` x `height`.
    func padded(_ dx: Int, _ dy: Int, within w: Int, _ h: Int) -> PixelRect {
        let l = max(0, x - dx), t = max(0, y - dy)
        return PixelRect(x: l, y: t, width: min(w, right + dx) - l, height: min(h, bottom + dy) - t)
    }

    var description: String { "(\(x),\(y) \(width)x\(height))" }
}

/// What a single-line read gave: the characters (spaces removed) and the least sure character's confidence.
struct OCRText: Sendable, Equatable {
    var text: String
    var minConfidence: Float
}

/// A decoded image in leptonica's form; destroyed with this object.
final class LeptonicaImage {
    let pix: UnsafeMutablePointer<Pix>

    init(owning pix: UnsafeMutablePointer<Pix>) {
        self.pix = pix
    }

    deinit {
        var p: UnsafeMutablePointer<Pix>? = pix
        pixDestroy(&p)
    }

    var width: Int { Int(pixGetWidth(pix)) }
    var height: Int { Int(pixGetHeight(pix)) }

    /// Decodes PNG, JPEG, WebP, TIFF, GIF or BMP bytes; nil for anything else, and for images over `maxPixels`
    /// (read from the header first, so a small file that claims a huge picture is refused before it is decoded).
    static func decode(_ data: Data, maxPixels: Int) -> LeptonicaImage? {
        guard data.count >= 8 else { return nil }
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> LeptonicaImage? in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return nil }
            var format: Int32 = 0, w: Int32 = 0, h: Int32 = 0, bps: Int32 = 0, spp: Int32 = 0, cmap: Int32 = 0
            guard let size = headerSize(data), size.width * size.height <= maxPixels,
                pixReadHeaderMem(base, raw.count, &format, &w, &h, &bps, &spp, &cmap) == 0,
                Int(w) * Int(h) <= maxPixels,
                let pix = pixReadMem(base, raw.count)
            else { return nil }
            return LeptonicaImage(owning: pix)
        }
    }

    /// What the header of `data` says: nil if it is no image leptonica knows (or is cut off inside its header), else
    /// its size. PNG (IHDR) and JPEG (the SOF marker) are parsed here, needing only their first bytes; other formats
    /// are asked of leptonica.
    static func headerSize(_ data: Data) -> (width: Int, height: Int)? {
        let b = [UInt8](data.prefix(65_536))
        func be16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            guard b.count >= 24, b[12...15].elementsEqual([0x49, 0x48, 0x44, 0x52]) else { return nil }
            let w = be16(16) << 16 | be16(18), h = be16(20) << 16 | be16(22)
            return w > 0 && h > 0 ? (w, h) : nil
        }
        if b.starts(with: [0xFF, 0xD8]) {
            var i = 2
            while i + 9 < b.count {
                guard b[i] == 0xFF else { return nil }
                let marker = b[i + 1]
                if marker == 0xFF { i += 1; continue }
                if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                    let h = be16(i + 5), w = be16(i + 7)
                    return w > 0 && h > 0 ? (w, h) : nil
                }
                if marker == 0xD8 || (0xD0...0xD7).contains(marker) { i += 2; continue }
                i += 2 + be16(i + 2)
            }
            return nil
        }
        guard data.count >= 8 else { return nil }
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> (width: Int, height: Int)? in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return nil }
            var format: Int32 = 0, w: Int32 = 0, h: Int32 = 0, bps: Int32 = 0, spp: Int32 = 0, cmap: Int32 = 0
            guard pixReadHeaderMem(base, raw.count, &format, &w, &h, &bps, &spp, &cmap) == 0, w > 0, h > 0 else { return nil }
            return (Int(w), Int(h))
        }
    }

    /// The spread of grey levels (standard deviation, 0 to 127) of an 8-bit grey image: near 0 for a blank photo.
    func greySpread() -> Double {
        guard let histogram = pixGetGrayHistogram(pix, 2) else { return 0 }
        var h: UnsafeMutablePointer<Numa>? = histogram
        defer { numaDestroy(&h) }
        var n = 0.0, sum = 0.0, squares = 0.0
        for level in 0..<Int32(256) {
            var count: Float = 0
            numaGetFValue(histogram, level, &count)
            n += Double(count)
            sum += Double(count) * Double(level)
            squares += Double(count) * Double(level) * Double(level)
        }
        guard n > 0 else { return 0 }
        let mean = sum / n
        return max(0, squares / n - mean * mean).squareRoot()
    }

    /// One grey channel for reading: the green one of a colour image, where the red of seals, stamps and
    /// watermarks is light and the dark ink of the printed fields stays dark.
    func textGrey() -> LeptonicaImage? {
        guard let rgb = pixConvertTo32(pix) else { return nil }
        var p: UnsafeMutablePointer<Pix>? = rgb
        defer { pixDestroy(&p) }
        return pixGetRGBComponent(rgb, Int32(COLOR_GREEN)).map(LeptonicaImage.init(owning:))
    }

    /// The darkest of the three channels of a colour image: high only where a pixel is light in every colour, as a
    /// card's white is, and low on a coloured background however bright (the green channel alone, which the print
    /// is read from, makes a green cloth as light as the card).
    func whiteness() -> LeptonicaImage? {
        guard let rgb = pixConvertTo32(pix) else { return nil }
        var p: UnsafeMutablePointer<Pix>? = rgb
        defer { pixDestroy(&p) }
        return pixConvertRGBToGrayMinMax(rgb, Int32(L_CHOOSE_MIN)).map(LeptonicaImage.init(owning:))
    }

    /// Straightened: the skew of the text lines (up to `maxDegrees` either way) found and turned back, the corners
    /// brought in white; a copy if no skew is found with confidence.
    func deskewed(maxDegrees: Float) -> LeptonicaImage? {
        turned(byDegrees: skew(maxDegrees: maxDegrees))
    }

    /// The skew of the print in degrees (up to `maxDegrees` either way), or 0 if none is found with confidence.
    func skew(maxDegrees: Float) -> Float {
        // Full resolution sweeps in 1° steps, then a finer search; the print is what is darker than 130 (grey).
        var angle: Float = 0, confidence: Float = 0
        if let binary = pixConvertTo1(pix, 130) {
            var b: UnsafeMutablePointer<Pix>? = binary
            defer { pixDestroy(&b) }
            if pixFindSkewSweepAndSearch(binary, &angle, &confidence, 1, 1, maxDegrees, 1, 0.01) != 0 { angle = 0 }
        }
        return abs(angle) >= 0.2 && confidence >= 1 ? angle : 0
    }

    /// Turned by `degrees` (a copy when 0), the corners brought in white, or black (a photo about to be searched for
    /// a bright card, which white corners would join where the card runs off the picture).
    func turned(byDegrees degrees: Float, bringingInBlack: Bool = false) -> LeptonicaImage? {
        guard degrees != 0 else { return copy() }
        let fill = bringingInBlack ? L_BRING_IN_BLACK : L_BRING_IN_WHITE
        return pixRotate(pix, degrees * .pi / 180, Int32(L_ROTATE_AREA_MAP), Int32(fill), 0, 0).map(LeptonicaImage.init(owning:))
    }

    /// Where the card is: the bounding box of the largest region brighter than a threshold (a card on a darker
    /// surface), if it is shaped like a card (width 1.35 to 1.85 times its height, allowing for a little perspective)
    /// and covers at least `minFraction` of the picture. Grey images only. The threshold starts at the picture's split
    /// between light and dark and rises: a lighter patch of what the card lies on can join it at the split, and the
    /// card, the brightest large thing, stands alone a little higher.
    func cardRegion(minFraction: Double = 0.25) -> PixelRect? {
        var split: Int32 = 0
        guard pixSplitDistributionFgBg(pix, 0.1, 1, &split, nil, nil, nil) == 0 else { return nil }
        for threshold in stride(from: split, through: max(split, 215), by: 12) {
            if let card = largestBright(above: threshold, minFraction: minFraction) { return card }
        }
        return nil
    }

    private func largestBright(above threshold: Int32, minFraction: Double) -> PixelRect? {
        guard let dark = pixThresholdToBinary(pix, threshold) else { return nil }
        var d: UnsafeMutablePointer<Pix>? = dark
        defer { pixDestroy(&d) }
        guard let bright = pixInvert(nil, dark) else { return nil }
        var b: UnsafeMutablePointer<Pix>? = bright
        defer { pixDestroy(&b) }
        guard let boxa = pixConnCompBB(bright, 4) else { return nil }
        var ba: UnsafeMutablePointer<Boxa>? = boxa
        defer { boxaDestroy(&ba) }
        var best: PixelRect?
        for i in 0..<boxaGetCount(boxa) {
            var x: Int32 = 0, y: Int32 = 0, w: Int32 = 0, h: Int32 = 0
            guard boxaGetBoxGeometry(boxa, i, &x, &y, &w, &h) == 0 else { continue }
            if w * h > (best.map { Int32($0.width * $0.height) } ?? 0) {
                best = PixelRect(x: Int(x), y: Int(y), width: Int(w), height: Int(h))
            }
        }
        guard let best, Double(best.width * best.height) >= minFraction * Double(width * height) else { return nil }
        let long = Double(max(best.width, best.height)), short = Double(min(best.width, best.height))
        guard (1.35...1.85).contains(long / short) else { return nil }
        return best
    }

    func clipped(to rect: PixelRect) -> LeptonicaImage? {
        let box = boxCreate(Int32(rect.x), Int32(rect.y), Int32(rect.width), Int32(rect.height))
        var b: UnsafeMutablePointer<Box>? = box
        defer { boxDestroy(&b) }
        return pixClipRectangle(pix, box, nil).map(LeptonicaImage.init(owning:))
    }

    /// Uneven light evened out: the background (paper, card) brought to one level, the print kept dark (8 bpp grey).
    func evenedLight() -> LeptonicaImage? {
        pixBackgroundNormSimple(pix, nil, nil).map(LeptonicaImage.init(owning:))
    }

    /// Its grey levels stretched so that the darkest print is black and the lightest background white (a blurred,
    /// faint line reads as well as a sharp one); itself when it has no spread to stretch.
    func stretched() -> LeptonicaImage? {
        guard let levels = greyLevels(), let low = levels.min(), let high = levels.max() else { return self }
        guard Int(high) - Int(low) >= 16 else { return self }
        return pixGammaTRC(nil, pix, 1.0, Int32(low), Int32(high)).map(LeptonicaImage.init(owning:))
    }

    func scaled(by factor: Float) -> LeptonicaImage? {
        pixScale(pix, factor, factor).map(LeptonicaImage.init(owning:))
    }

    /// Turned clockwise by `quarters` quarter turns.
    func rotated(quarters: Int) -> LeptonicaImage? {
        let q = ((quarters % 4) + 4) % 4
        return (q == 0 ? pixCopy(nil, pix) : pixRotateOrth(pix, Int32(q))).map(LeptonicaImage.init(owning:))
    }

    /// PNG bytes of this image (tests make altered photos with it).
    func pngData() -> Data? {
        var bytes: UnsafeMutablePointer<UInt8>?
        var count = 0
        guard pixWriteMem(&bytes, &count, pix, Int32(IFF_PNG)) == 0, let bytes else { return nil }
        defer { lept_free(bytes) }
        return Data(bytes: bytes, count: count)
    }

    /// JPEG bytes of this image at `quality` (1 to 100), as a phone would send a photo.
    func jpegData(quality: Int) -> Data? {
        guard let rgb = pixConvertTo32(pix) else { return nil }
        var p: UnsafeMutablePointer<Pix>? = rgb
        defer { pixDestroy(&p) }
        var bytes: UnsafeMutablePointer<UInt8>?
        var count = 0
        guard pixWriteMemJpeg(&bytes, &count, rgb, Int32(quality), 0) == 0, let bytes else { return nil }
        defer { lept_free(bytes) }
        return Data(bytes: bytes, count: count)
    }

    /// A copy with `rect` painted white (the portrait on a card's front, which only confuses the layout); for a grey
    /// image (a colour-mapped one keeps its colours).
    func whitened(_ rect: PixelRect) -> LeptonicaImage? {
        guard let copy = pixCopy(nil, pix) else { return nil }
        let box = boxCreate(Int32(rect.x), Int32(rect.y), Int32(rect.width), Int32(rect.height))
        var b: UnsafeMutablePointer<Box>? = box
        defer { boxDestroy(&b) }
        pixSetInRect(copy, box)
        return LeptonicaImage(owning: copy)
    }
}

/// One Tesseract engine with a language loaded. Not thread-safe: one read at a time (TesseractIDCardOCR keeps a pool).
final class TesseractEngine {
    private let api: OpaquePointer

    /// nil when the engine or the language's traineddata cannot be loaded (`dataPath` nil: Tesseract's own default,
    /// or TESSDATA_PREFIX).
    init?(dataPath: String?, language: String) {
        guard let api = TessBaseAPICreate() else { return nil }
        guard TessBaseAPIInit3(api, dataPath, language) == 0 else {
            TessBaseAPIDelete(api)
            return nil
        }
        self.api = api
        // Phone photos carry no usable resolution; 300 dpi keeps Tesseract from guessing (and saying so on stderr).
        TessBaseAPISetVariable(api, "user_defined_dpi", "300")
        TessBaseAPISetVariable(api, "debug_file", "/dev/null")
    }

    deinit {
        TessBaseAPIEnd(api)
        TessBaseAPIDelete(api)
    }

    /// The image every following read looks at (Tesseract keeps its own copy).
    func setImage(_ image: LeptonicaImage) {
        TessBaseAPISetImage2(api, image.pix)
        TessBaseAPISetSourceResolution(api, 300)
    }

    /// Reads `rect` of the image set last as one line of text, optionally only from the characters in `allowed`.
    func readLine(_ rect: PixelRect, allowed: String? = nil, raw: Bool = false, deadline: Date) -> OCRText {
        TessBaseAPISetPageSegMode(api, raw ? PSM_RAW_LINE : PSM_SINGLE_LINE)
        TessBaseAPISetRectangle(api, Int32(rect.x), Int32(rect.y), Int32(rect.width), Int32(rect.height))
        TessBaseAPISetVariable(api, "tessedit_char_whitelist", allowed ?? "")
        defer { TessBaseAPISetVariable(api, "tessedit_char_whitelist", "") }
        guard recognize(deadline: deadline), let it = TessBaseAPIGetIterator(api) else { return OCRText(text: "", minConfidence: 0) }
        defer { TessResultIteratorDelete(it) }
        var text = ""
        var least: Float = 100
        repeat {
            guard let cText = TessResultIteratorGetUTF8Text(it, RIL_SYMBOL) else { continue }
            let symbol = String(cString: cText).filter { !$0.isWhitespace }
            TessDeleteText(cText)
            guard !symbol.isEmpty else { continue }
            text += symbol
            least = min(least, TessResultIteratorConfidence(it, RIL_SYMBOL))
        } while TessResultIteratorNext(it, RIL_SYMBOL) != 0
        return OCRText(text: text, minConfidence: text.isEmpty ? 0 : least)
    }

    /// Reads `rect` of `image` as one line, from a copy of that part enlarged `zoom` times (then set as the image).
    /// `raw`: the rectangle is taken as one line of text as it is (Tesseract's PSM_RAW_LINE), without the engine's own
    /// search for the text in it, which misses faint print.
    func readLine(_ rect: PixelRect, of image: LeptonicaImage, zoom: Float, allowed: String? = nil, raw: Bool = false, deadline: Date) -> OCRText {
        guard let clip = image.clipped(to: rect), let big = zoom == 1 ? clip.stretched() : clip.scaled(by: zoom)?.stretched() else {
            setImage(image)
            return readLine(rect, allowed: allowed, raw: raw, deadline: deadline)
        }
        setImage(big)
        return readLine(PixelRect(x: 0, y: 0, width: big.width, height: big.height), allowed: allowed, raw: raw, deadline: deadline)
    }

    /// Runs recognition, stopping at `deadline`; false if it failed or ran out of time.
    private func recognize(deadline: Date) -> Bool {
        let ms = Int32(clamping: Int(deadline.timeIntervalSinceNow * 1000))
        guard ms > 0, let monitor = TessMonitorCreate() else { return false }
        defer { TessMonitorDelete(monitor) }
        TessMonitorSetDeadlineMSecs(monitor, ms)
        return TessBaseAPIRecognize(api, monitor) == 0 && Date() < deadline
    }
}
