#!/usr/bin/env python3
"""Draw synthetic resident ID cards (made-up people) and "photograph" them in software, for measuring the OCR.

Each card is drawn in the standard layout of the sandbox cards (scripts/make-sandbox-cards.py: the Noto CJK fonts,
姓名 / 性别 民族 / 出生 / 住址 of one to three lines / 公民身份号码 on the front, 签发机关 / 有效期限 on the back) for a
made-up person with a valid ID number (region, birth date, sequence with the sex, MOD 11-2 check character), then
photographed: laid on a background so that it fills 60-100 % of the picture's width, turned up to +-10 degrees, with
the mild perspective of a hand-held phone, blurred, noised, lit unevenly, and saved as a JPEG of quality 50-95.

Output: <dir>/C001-front.jpg, C001-back.jpg, ... and truth.json (what each card prints, in IDCardReading's terms,
plus how it was photographed). Deterministic for a given seed.

Needs: pip install pillow; apt-get install fonts-noto-cjk
Usage: python3 scripts/make-ocr-photos.py [output-dir] [count] [seed]
   (default Tests/ProvidersTests/OCRPhotos 100 14)
   OCR_NAME_FONT=<font file> prints the names in another typeface.
"""

import importlib.util
import io
import json
import math
import os
import random
import sys
from datetime import date, timedelta

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("sandboxcards", os.path.join(HERE, "make-sandbox-cards.py"))
cards = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cards)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国家宇浩宁晨欣怡佳雪琳晓东海波志宏梅亮斌飞婷丹文博凯俊峰雨思源子轩梓涵一诺嘉豪"
ETHNIC = ["汉"] * 12 + ["回", "满", "壮", "苗", "蒙古", "维吾尔", "土家", "彝", "朝鲜", "藏"]
# region code, province + city, city for the authority, districts
REGIONS = [
    ("440305", "广东省深圳市", "深圳市", "南山区"),
    ("440106", "广东省广州市", "广州市", "天河区"),
    ("310115", "上海市", "上海市", "浦东新区"),
    ("110108", "北京市", "北京市", "海淀区"),
    ("420106", "湖北省武汉市", "武汉市", "武昌区"),
    ("510107", "四川省成都市", "成都市", "武侯区"),
    ("330106", "浙江省杭州市", "杭州市", "西湖区"),
    ("320102", "江苏省南京市", "南京市", "玄武区"),
    ("370202", "山东省青岛市", "青岛市", "市南区"),
    ("120101", "天津市", "天津市", "和平区"),
    ("610113", "陕西省西安市", "西安市", "雁塔区"),
    ("430104", "湖南省长沙市", "长沙市", "岳麓区"),
    ("350203", "福建省厦门市", "厦门市", "思明区"),
    ("500103", "重庆市", "重庆市", "渝中区"),
]
ROADS = ["人民路", "中山路", "解放路", "建设大道", "和平街", "文化路", "科技园路", "长江路", "东风路", "新华街", "光明路", "滨海大道"]
PLACES = ["花园小区", "阳光新村", "幸福家园", "锦绣华庭", "东方明珠苑", "翠湖山庄", "金地广场", "城市花园", "", ""]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def check_char(first17):
    s = sum(int(c) * w for c, w in zip(first17, WEIGHTS))
    return "10X98765432"[s % 11]


def person(rng):
    code, place, city, district = rng.choice(REGIONS)
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 1, 2])))
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    male = rng.random() < 0.5
    seq = rng.randrange(0, 100) * 10 + rng.choice([1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8])
    first17 = f"{code}{born:%Y%m%d}{seq:03d}"
    idn = first17 + check_char(first17)
    lines = rng.choice([1, 2, 2, 3])
    address = f"{place}{district}{rng.choice(ROADS)}{rng.randrange(1, 400)}号"
    extras = [rng.choice(PLACES), f"{rng.randrange(1, 30)}栋", f"{rng.randrange(1, 9)}单元", f"{rng.randrange(101, 3300)}室"]
    for extra in extras:
        if len(address) + len(extra) <= 13 * lines:
            address += extra
    address = address[: 13 * lines]
    # issued some years ago, after the 16th birthday; the term follows the age at issue
    issued = max(born + timedelta(days=365 * 16 + 30), date(2008, 1, 1)) + timedelta(days=rng.randrange(0, 365 * 12))
    issued = min(issued, date(2025, 12, 1))
    age = (issued - born).days // 365
    if age >= 46:
        until = "长期"
    else:
        years = 10 if age < 26 else 20
        until = f"{issued.year + years}-{issued:%m-%d}" if not (issued.month == 2 and issued.day == 29) else f"{issued.year + years}-03-01"
    return {
        "name": name,
        "idNumber": idn,
        "address": address,
        "sex": "male" if male else "female",
        "ethnicity": rng.choice(ETHNIC),
        "birthDate": f"{born:%Y-%m-%d}",
        "issuingAuthority": f"{city}公安局{district[:-1] if district.endswith('区') and len(district) > 2 else district}分局",
        "validFrom": f"{issued:%Y-%m-%d}",
        "validUntil": until,
    }


def front(p):
    """The sandbox card's front (make-sandbox-cards.py) with this person's ethnicity and no sandbox key."""
    img, d = cards.card_base()
    lf, vf = cards.font(18), cards.font(22)
    idn = p["idNumber"]
    y0 = 40
    d.text((40, y0), "姓名", font=lf, fill=cards.LABEL)
    # OCR_NAME_FONT (a font file): the name in another typeface, to see what the OCR does with a card not printed
    # in the fonts it compares glyphs with.
    name_font = ImageFont.truetype(os.environ["OCR_NAME_FONT"], 24) if os.environ.get("OCR_NAME_FONT") else cards.font(24)
    d.text((100, y0 - 3), p["name"], font=name_font, fill=cards.INK)
    d.text((40, y0 + 50), "性别", font=lf, fill=cards.LABEL)
    d.text((100, y0 + 47), "男" if p["sex"] == "male" else "女", font=vf, fill=cards.INK)
    d.text((170, y0 + 50), "民族", font=lf, fill=cards.LABEL)
    d.text((230, y0 + 47), p["ethnicity"], font=vf, fill=cards.INK)
    d.text((40, y0 + 100), "出生", font=lf, fill=cards.LABEL)
    d.text((100, y0 + 97), f"{idn[6:10]} 年 {int(idn[10:12])} 月 {int(idn[12:14])} 日", font=vf, fill=cards.INK)
    d.text((40, y0 + 150), "住址", font=lf, fill=cards.LABEL)
    for i, line in enumerate(cards.wrap(p["address"], 13)):
        d.text((100, y0 + 147 + i * 30), line, font=vf, fill=cards.INK)
    d.text((40, 330), "公民身份号码", font=lf, fill=cards.LABEL)
    d.text((170, 325), idn, font=cards.font(28, bold=True), fill=cards.INK)
    bx, by, bw, bh = 450, 50, 150, 185
    d.rectangle([bx, by, bx + bw, by + bh], fill=(214, 220, 226), outline=(170, 178, 186))
    cx = bx + bw // 2
    d.ellipse([cx - 38, by + 30, cx + 38, by + 118], fill=(150, 156, 164))
    d.pieslice([cx - 70, by + 120, cx + 70, by + 260], 180, 360, fill=(150, 156, 164))
    return img


def back(p):
    row = ("", "", "", "", p["issuingAuthority"], p["validFrom"], p["validUntil"])
    img = cards.back(row)
    return img


def solve(a, b):
    """Gaussian elimination for the 8 perspective coefficients."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


def perspective_coeffs(dst, src):
    """Coefficients that map each output point of `dst` to the input point of `src` (PIL's PERSPECTIVE)."""
    a, b = [], []
    for (x, y), (u, v) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    return solve(a, b)


def background(rng, w, h):
    base = tuple(rng.randrange(40, 220) for _ in range(3))
    img = Image.new("RGB", (w, h), base)
    d = ImageDraw.Draw(img)
    for _ in range(rng.randrange(0, 12)):  # a table's grain, a keyboard's edge: shapes in nearby colours
        c = tuple(max(0, min(255, v + rng.randrange(-40, 40))) for v in base)
        x, y = rng.randrange(0, w), rng.randrange(0, h)
        d.rectangle([x, y, x + rng.randrange(20, w // 2), y + rng.randrange(5, h // 3)], fill=c)
    return img.filter(ImageFilter.GaussianBlur(3))


def photograph(card, rng):
    """The card on a background, turned, in perspective, blurred, noised, lit unevenly; JPEG bytes and the settings."""
    scale_up = 2  # draw the card larger first so that resampling does not lose the print
    card = card.resize((card.width * scale_up, card.height * scale_up), Image.LANCZOS)
    cw, ch = card.size
    fill = rng.uniform(0.6, 1.0)
    angle = rng.uniform(-10, 10)
    out_w = rng.choice([640, 720, 800, 880])
    # the card's width in the photo is `fill` of the photo's width; a card turned by `angle` needs some more room
    rad = math.radians(angle)
    card_w = out_w * fill / (abs(math.cos(rad)) + abs(math.sin(rad)) * ch / cw)
    card_h = card_w * ch / cw
    bound_h = card_w * abs(math.sin(rad)) + card_h * abs(math.cos(rad))
    out_h = int(max(bound_h / rng.uniform(0.8, 1.0), out_w * rng.uniform(0.62, 0.8)))
    cx = out_w / 2 + rng.uniform(-1, 1) * (out_w - out_w * fill) / 2
    cy = out_h / 2 + rng.uniform(-1, 1) * max(0, out_h - bound_h) / 2
    corners = []
    jitter = card_w * rng.uniform(0, 0.035)
    for sx, sy in [(-1, -1), (1, -1), (1, 1), (-1, 1)]:
        x, y = sx * card_w / 2, sy * card_h / 2
        x, y = x * math.cos(rad) - y * math.sin(rad), x * math.sin(rad) + y * math.cos(rad)
        corners.append((cx + x + rng.uniform(-jitter, jitter), cy + y + rng.uniform(-jitter, jitter)))
    coeffs = perspective_coeffs(corners, [(0, 0), (cw, 0), (cw, ch), (0, ch)])
    photo = background(rng, out_w, out_h)
    warped = card.transform((out_w, out_h), Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    mask = Image.new("L", card.size, 255).transform((out_w, out_h), Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    photo.paste(warped, (0, 0), mask)
    # uneven light: a brightness ramp in a random direction, 70-110 %
    ramp = Image.linear_gradient("L").resize((768, 768)).rotate(rng.uniform(0, 360), resample=Image.BILINEAR)
    light = ramp.crop((256, 256, 512, 512)).resize((out_w, out_h))
    lo, hi = rng.uniform(0.7, 0.9), rng.uniform(0.95, 1.1)
    light = light.point(lambda v: int(255 * (lo + (hi - lo) * v / 255) / 1.1))
    photo = _lit(photo, light)
    sigma = rng.uniform(0, 6)
    noise = Image.effect_noise((out_w, out_h), sigma).convert("RGB")
    photo = ImageChops.add(photo, noise, scale=1.0, offset=-128)  # grey noise (mean 128) added around zero
    blur = rng.uniform(0, 1.2)
    photo = photo.filter(ImageFilter.GaussianBlur(blur))
    quality = rng.randrange(50, 96)
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=quality)
    return buf.getvalue(), {
        "fill": round(fill, 3), "angle": round(angle, 2), "perspective": round(jitter / card_w, 4), "blur": round(blur, 2),
        "noise": round(sigma, 1), "light": [round(lo / 1.1, 2), round(hi / 1.1, 2)], "jpegQuality": quality,
        "size": [out_w, out_h],
    }


def _lit(photo, light):
    """Each pixel times the light (0-255 meaning 0-1.1 of its brightness, capped)."""
    return Image.merge("RGB", [ImageChops.multiply(c, light) for c in photo.split()]).point(lambda v: min(255, int(v * 1.1)))


def main():
    root = os.path.dirname(HERE)
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests", "ProvidersTests", "OCRPhotos")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 14
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    truth = {}
    for i in range(1, count + 1):
        key = f"C{i:03d}"
        p = person(rng)
        shots = {}
        for side, img in (("front", front(p)), ("back", back(p))):
            data, how = photograph(img, rng)
            with open(os.path.join(out, f"{key}-{side}.jpg"), "wb") as f:
                f.write(data)
            shots[side] = how
        truth[key] = dict(p, photos=shots)
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {2 * count} photos and truth.json to {out}")


if __name__ == "__main__":
    main()
