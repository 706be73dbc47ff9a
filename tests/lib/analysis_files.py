"""Checks the files an analysis wrote in a directory: every NAME.png is a
PNG (signature and IHDR chunk), every NAME.svg parses as XML with an <svg>
root, every NAME.tsv has a header and rows of the header's width, and
report.html parses, embeds its figures as PNG data URIs and refers to no
external URL. Usage: analysis_files.py DIR [FIGURE...] (the figures that
must exist, as NAME); exits non-zero naming the first problem."""
import base64
import html.parser
import os
import re
import struct
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("analysis_files: " + msg)
    sys.exit(1)


def check_png(data, what):
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        fail(what + ": not a PNG")
    w, h = struct.unpack(">II", data[16:24])
    if w < 100 or h < 100:
        fail("%s: a %dx%d image" % (what, w, h))


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.images, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "action", "data", "poster") and v is not None:
                self.urls.append(v)
            if tag == "img" and k == "src":
                self.images.append(v)
            if k == "style" and v and "url(" in v:
                self.urls.append(v)


def main():
    d, want = sys.argv[1], sys.argv[2:]
    names = os.listdir(d)
    for n in want:
        for ext in ("png", "svg", "tsv"):
            if n + "." + ext not in names:
                fail("%s.%s missing in %s" % (n, ext, d))
    for n in names:
        p = os.path.join(d, n)
        if n.endswith(".png"):
            check_png(open(p, "rb").read(), p)
        elif n.endswith(".svg"):
            root = ET.parse(p).getroot()
            if not root.tag.endswith("svg"):
                fail(p + ": root is " + root.tag)
        elif n.endswith(".tsv"):
            rows = [l.rstrip("\n").split("\t") for l in open(p)]
            if len(rows) < 2 or any(len(r) != len(rows[0]) for r in rows):
                fail(p + ": not a TSV with a header and rows of its width")
    page = Page()
    text = open(os.path.join(d, "report.html"), encoding="utf-8").read()
    page.feed(text)
    page.close()
    if "html" not in page.tags or "table" not in page.tags:
        fail("report.html has no html or table element")
    for u in page.urls:
        if re.match(r"^\s*(https?:|//|ftp:)", u) or re.search(r"url\(\s*['\"]?(https?:|//)", u):
            fail("report.html refers to an external URL: " + u[:80])
    for src in page.images:
        if not src.startswith("data:image/png;base64,"):
            fail("report.html has an image that is not embedded: " + src[:60])
        check_png(base64.b64decode(src.split(",", 1)[1]), "an embedded image")
    pngs = [n for n in names if n.endswith(".png")]
    if len(page.images) < len(pngs):
        fail("report.html embeds %d of the %d figures" % (len(page.images), len(pngs)))
    print("ok %s: %d figures, %d embedded" % (d, len(pngs), len(page.images)))


main()
