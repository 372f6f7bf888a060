#!/usr/bin/env python3
"""Draw the sandbox test ID card images (front and back) for the sandbox persons P01-P11 of
shared/docs/domain.md ("Sandbox data") and write what is printed on them to cards.json.

Output: Sources/Providers/SandboxCards/P01-front.png, P01-back.png, ..., cards.json
The real OCR (Sources/Providers/TesseractIDCardOCR.swift, Tesseract with Debian's chi_sim model) reads these
images like any photo, and Tests/ProvidersTests checks that it reads every field of every card as cards.json says.
So the cards print their fields clear of any mark: the "测试样卡" stamp sits on the portrait and above the back's
fields, and the made-up addresses are ones that model reads (it misreads a few characters, 塔 and 寨 among them,
in this font at this size). Run once and commit the output; re-running may change the bytes (font or Pillow
versions): then run the Providers tests again.

Needs: pip install pillow; apt-get install fonts-noto-cjk
Usage: python3 scripts/make-sandbox-cards.py [output-dir]
"""

import json
import os
import sys

from PIL import Image, ImageDraw, ImageFont

# key, name, ID number, address, issuing authority, valid from, valid until (YYYY-MM-DD or 长期)
# Names and ID numbers copied from shared/docs/domain.md; addresses and authorities made up for each ID's region.
PERSONS = [
    ("P01", "张伟", "440305198803152013", "广东省深圳市南山区科苑路15号科兴科学园A栋1201", "深圳市公安局南山分局", "2018-03-20", "2038-03-20"),
    ("P02", "王芳", "310115199207083020", "上海市浦东新区世纪大道100号8楼", "上海市公安局浦东分局", "2019-08-12", "2039-08-12"),
    ("P03", "李强", "11010819850122401X", "北京市海淀区中关村大街27号3单元502", "北京市公安局海淀分局", "2015-06-01", "2035-06-01"),
    ("P04", "刘敏", "420106199009015026", "湖北省武汉市武昌区中南路99号2栋1808", "武汉市公安局武昌分局", "2017-09-05", "2037-09-05"),
    ("P05", "陈军", "510107197804166017", "四川省成都市武侯区人民南路四段11号", "成都市公安局武侯区分局", "2014-04-20", "2034-04-20"),
    ("P06", "杨静", "330106199512307024", "浙江省杭州市西湖区文三路90号5幢302", "杭州市公安局西湖分局", "2021-01-15", "2031-01-15"),
    ("P07", "赵磊", "320102198305118018", "江苏省南京市玄武区中山路18号1101", "南京市公安局玄武分局", "2016-05-18", "2036-05-18"),
    ("P08", "黄丽", "440106200506209023", "广东省广州市天河区天河北路208号906", "广州市公安局天河分局", "2021-07-01", "2031-07-01"),
    ("P09", "周建国", "370202197002281010", "山东省青岛市市南区香港中路50号2号楼", "青岛市公安局市南分局", "2017-03-10", "长期"),
    ("P10", "吴婷", "120101199603032029", "天津市和平区南京路219号4门601", "天津市公安局和平分局", "2022-03-08", "2042-03-08"),
    ("P11", "孙浩", "610113198909093016", "陕西省西安市雁塔区长安南路126号7号楼", "西安市公安局雁塔分局", "2015-09-15", "2035-09-15"),
]

W, H = 640, 404
INK = (40, 40, 40)
LABEL = (60, 110, 160)
STAMP = (200, 40, 40)
FONT_DIRS = ["/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto"]


def font(size, bold=False):
    names = ["NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc", "NotoSerifCJK-Regular.ttc"]
    for d in FONT_DIRS:
        for n in names:
            p = os.path.join(d, n)
            if os.path.exists(p):
                # index 2 = SC (Simplified Chinese) in the Noto CJK collections
                return ImageFont.truetype(p, size, index=2)
    sys.exit("Noto CJK fonts not found: apt-get install fonts-noto-cjk")


def card_base():
    img = Image.new("RGB", (W, H), (236, 242, 246))
    d = ImageDraw.Draw(img)
    # faint guilloche-like bands
    for y in range(0, H, 6):
        shade = 230 + (y // 6) % 3 * 4
        d.line([(0, y), (W, y)], fill=(shade - 6, shade, shade + 4))
    d.rounded_rectangle([2, 2, W - 3, H - 3], radius=22, outline=(150, 170, 190), width=2)
    return img, d


def stamp(img, text, center, size, angle):
    """A translucent red mark that says this is a test card; placed clear of every printed field."""
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).text(center, text, font=font(size, bold=True), fill=STAMP + (110,), anchor="mm")
    layer = layer.rotate(angle, center=center)
    return Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")


def wrap(text, width):
    return [text[i : i + width] for i in range(0, len(text), width)]


def front(p):
    key, name, idn, address, _, _, _ = p
    img, d = card_base()
    lf, vf = font(18), font(22)
    sex = "男" if int(idn[16]) % 2 == 1 else "女"
    y0 = 40
    d.text((40, y0), "姓名", font=lf, fill=LABEL)
    d.text((100, y0 - 3), name, font=font(24), fill=INK)
    d.text((40, y0 + 50), "性别", font=lf, fill=LABEL)
    d.text((100, y0 + 47), sex, font=vf, fill=INK)
    d.text((170, y0 + 50), "民族", font=lf, fill=LABEL)
    d.text((230, y0 + 47), "汉", font=vf, fill=INK)
    d.text((40, y0 + 100), "出生", font=lf, fill=LABEL)
    d.text((100, y0 + 97), f"{idn[6:10]} 年 {int(idn[10:12])} 月 {int(idn[12:14])} 日", font=vf, fill=INK)
    d.text((40, y0 + 150), "住址", font=lf, fill=LABEL)
    for i, line in enumerate(wrap(address, 13)):
        d.text((100, y0 + 147 + i * 30), line, font=vf, fill=INK)
    d.text((40, 330), "公民身份号码", font=lf, fill=LABEL)
    d.text((170, 325), idn, font=font(28, bold=True), fill=INK)
    # photo box with a grey silhouette
    bx, by, bw, bh = 450, 50, 150, 185
    d.rectangle([bx, by, bx + bw, by + bh], fill=(214, 220, 226), outline=(170, 178, 186))
    cx = bx + bw // 2
    d.ellipse([cx - 38, by + 30, cx + 38, by + 118], fill=(150, 156, 164))
    d.pieslice([cx - 70, by + 120, cx + 70, by + 260], 180, 360, fill=(150, 156, 164))
    d.text((20, 12), key, font=font(14), fill=(150, 150, 150))
    return stamp(img, "测试样卡", (cx, by + bh // 2), 30, 30)


def back(p):
    key, _, _, _, authority, valid_from, valid_until = p
    img, d = card_base()
    # national emblem placeholder
    d.ellipse([40, 30, 140, 130], outline=STAMP, width=4)
    d.text((90, 80), "国徽", font=font(24, bold=True), fill=STAMP, anchor="mm")
    d.text((370, 70), "中华人民共和国", font=font(30, bold=True), fill=INK, anchor="mm")
    d.text((370, 125), "居民身份证", font=font(40, bold=True), fill=INK, anchor="mm")
    lf, vf = font(18), font(22)
    d.text((110, 270), "签发机关", font=lf, fill=LABEL)
    d.text((200, 267), authority, font=vf, fill=INK)
    d.text((110, 320), "有效期限", font=lf, fill=LABEL)
    until = valid_until if valid_until == "长期" else valid_until.replace("-", ".")
    d.text((200, 317), f"{valid_from.replace('-', '.')}-{until}", font=vf, fill=INK)
    d.text((20, 12), key, font=font(14), fill=(150, 150, 150))
    return stamp(img, "测试样卡 SANDBOX", (370, 195), 26, 0)


def save(img, path):
    # a palette image keeps each file small
    img.convert("P", palette=Image.ADAPTIVE, colors=64).save(path, optimize=True)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Sources", "Providers", "SandboxCards")
    os.makedirs(out, exist_ok=True)
    readings = {}
    for p in PERSONS:
        key, name, idn, address, authority, valid_from, valid_until = p
        save(front(p), os.path.join(out, f"{key}-front.png"))
        save(back(p), os.path.join(out, f"{key}-back.png"))
        readings[key] = {
            "name": name,
            "idNumber": idn,
            "address": address,
            "sex": "male" if int(idn[16]) % 2 == 1 else "female",
            "ethnicity": "汉",
            "birthDate": f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}",
            "issuingAuthority": authority,
            "validFrom": valid_from,
            "validUntil": valid_until,
        }
    with open(os.path.join(out, "cards.json"), "w", encoding="utf-8") as f:
        json.dump(readings, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {2 * len(PERSONS)} images and cards.json to {out}")


if __name__ == "__main__":
    main()
