"""The archival copy: one PDF/A-2b per record, each page the scan's image with the OCR's
invisible text layer over it, as the digitization rules ask (Circular 05/2025/TT-BNV).

Built with pikepdf rather than Ghostscript (Ghostscript's PDF/A conversion cost 1.64x the
OCR time here, pikepdf 1.33x) and after ocrmypdf's approach: tesseract writes the text layer
alone, we draw the page image under it, then add what PDF/A-2b asks of the whole file: XMP
metadata with the PDF/A identification, an output intent with an ICC profile, embedded fonts
(tesseract's GlyphLessFont is), no encryption, no JavaScript, no transparency.

The page image is the scan as scanned (colour kept: stamps and signatures are red and blue),
turned and straightened like the page OCR read, so the text layer lies on its words. Colour
and grey pages are stored as JPEG, black-and-white ones losslessly; the original file stays
in the record byte for byte.
"""

from __future__ import annotations

import io
import math
import zlib
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata as package_metadata
from pathlib import Path

import pikepdf
from pikepdf import Name
from PIL import Image, ImageCms

from archive.fsutil import atomic_write
from ingest.cleanup import from_lab

PDFA_PART = "2"
PDFA_CONFORMANCE = "B"
JPEG_QUALITY = 85
SRGB_CONDITION = "sRGB IEC61966-2.1"
# PDF/A-2 is based on PDF 1.7 (ISO 32000-1).
PDF_VERSION = "1.7"


def _software_version() -> str:
    try:
        return package_metadata.version("luutru")
    except package_metadata.PackageNotFoundError:
        return "unknown"


PRODUCER = f"luutru {_software_version()}"


@dataclass(frozen=True)
class ArchivalMetadata:
    title: str
    created: datetime
    producer: str
    language: str = "vi"
    subject: str = ""
    creator: str = ""


class ArchivalCopy:
    """Pages are added as OCR reads them; ``save`` writes the PDF/A file.

    The encoded page images stay in memory until ``save`` (JPEG, a few hundred KB a page);
    the input's pixel budget bounds how many there can be.
    """

    def __init__(self) -> None:
        self._pdf = pikepdf.Pdf.new()
        # Pages copied from the text-layer PDFs read their streams from them until saved.
        self._layers: list[pikepdf.Pdf] = []

    @property
    def page_count(self) -> int:
        return len(self._pdf.pages)

    def add_page(self, visual: Image.Image, text_layer_pdf: bytes, tilt: float = 0.0) -> None:
        """``visual`` under the page's text layer, turned clockwise by ``tilt`` degrees about
        the page's centre (the deskew of the image the layer was read from)."""
        layer = pikepdf.Pdf.open(io.BytesIO(text_layer_pdf))
        if len(layer.pages) != 1:
            raise ValueError(f"a text layer must be one page, not {len(layer.pages)}")
        self._layers.append(layer)
        self._pdf.pages.append(layer.pages[0])
        page = self._pdf.pages[-1]
        box = tuple(float(v) for v in page.mediabox)
        image = page.add_resource(_image_stream(self._pdf, visual), Name.XObject, prefix="Scan")
        matrix = " ".join(f"{v:.6f}" for v in _placement(box, visual.size, tilt))
        draw = f"q {matrix} cm {image} Do Q\n"
        # Under the text layer: prepended, so the invisible words stay on top for selection.
        page.contents_add(pikepdf.Stream(self._pdf, draw.encode("ascii")), prepend=True)

    def save(self, target: Path, metadata: ArchivalMetadata) -> None:
        pdf = self._pdf
        pdf.Root.Lang = pikepdf.String(metadata.language)
        pdf.Root.OutputIntents = pikepdf.Array([_srgb_output_intent(pdf)])
        pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=False)
        with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp["pdfaid:part"] = PDFA_PART
            xmp["pdfaid:conformance"] = PDFA_CONFORMANCE
            xmp["dc:title"] = metadata.title
            if metadata.subject:
                xmp["dc:description"] = metadata.subject
            if metadata.creator:
                xmp["dc:creator"] = [metadata.creator]
            xmp["dc:language"] = [metadata.language]
            stamp = metadata.created.isoformat()
            xmp["xmp:CreateDate"] = stamp
            xmp["xmp:ModifyDate"] = stamp
            xmp["xmp:MetadataDate"] = stamp
            xmp["xmp:CreatorTool"] = metadata.producer
            xmp["pdf:Producer"] = metadata.producer
        buffer = io.BytesIO()
        pdf.save(buffer, min_version=PDF_VERSION, fix_metadata_version=False)
        atomic_write(target, [buffer.getvalue()])

    def close(self) -> None:
        self._pdf.close()
        for layer in self._layers:
            layer.close()
        self._layers.clear()


def _placement(
    box: tuple[float, ...], size: tuple[int, int], tilt: float
) -> tuple[float, float, float, float, float, float]:
    """The ``cm`` matrix drawing an image of ``size`` pixels (PDF's unit square) over the
    page ``box``, turned clockwise by ``tilt`` degrees about its centre. The box is the
    turned page's, as Pillow's ``rotate(expand=True)`` made it: the unturned page is the
    rectangle of the image's proportions whose turned bounds fill it."""
    left, bottom, right, top = box
    width, height = right - left, top - bottom
    if not tilt:
        return (width, 0.0, 0.0, height, left, bottom)
    theta = math.radians(-tilt)  # PDF's y runs up: clockwise on the page is negative
    cos, sin = math.cos(theta), math.sin(theta)
    aspect = size[0] / size[1]
    # The turned bounds: width = w|cos| + h|sin|, with w = aspect * h.
    h = width / (aspect * abs(cos) + abs(sin))
    w = aspect * h
    centre_x, centre_y = left + width / 2, bottom + height / 2
    return (
        cos * w,
        sin * w,
        -sin * h,
        cos * h,
        centre_x - (cos * w - sin * h) / 2,
        centre_y - (sin * w + cos * h) / 2,
    )


def _image_stream(pdf: pikepdf.Pdf, visual: Image.Image) -> pikepdf.Stream:
    """The page image as a PDF image XObject (no alpha, no interpolation: PDF/A forbids
    both)."""
    if visual.mode == "1":
        # 1 bit a pixel, 1 = white in both Pillow and DeviceGray.
        return pikepdf.Stream(
            pdf,
            zlib.compress(visual.tobytes()),
            Type=Name.XObject,
            Subtype=Name.Image,
            Width=visual.width,
            Height=visual.height,
            ColorSpace=Name.DeviceGray,
            BitsPerComponent=1,
            Filter=Name.FlateDecode,
        )
    if visual.mode != "L":
        visual = _as_rgb(visual)
    encoded = io.BytesIO()
    visual.save(encoded, format="JPEG", quality=JPEG_QUALITY)
    return pikepdf.Stream(
        pdf,
        encoded.getvalue(),
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=visual.width,
        Height=visual.height,
        ColorSpace=Name.DeviceGray if visual.mode == "L" else Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=Name.DCTDecode,
    )


def _as_rgb(visual: Image.Image) -> Image.Image:
    if visual.mode in ("RGBA", "LA", "PA") or "transparency" in visual.info:
        background = Image.new("RGB", visual.size, (255, 255, 255))
        background.paste(visual.convert("RGBA"), mask=visual.convert("RGBA").getchannel("A"))
        return background
    if visual.mode.startswith("I") or visual.mode == "F":  # 16/32-bit grey scans
        return visual.convert("I").point(lambda v: v / 256).convert("L")
    if visual.mode == "LAB":
        return from_lab(visual)
    return visual if visual.mode == "RGB" else visual.convert("RGB")  # convert would copy


def _srgb_output_intent(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    icc = pikepdf.Stream(pdf, profile, N=3)
    return pikepdf.Dictionary(
        Type=Name.OutputIntent,
        S=Name.GTS_PDFA1,
        OutputConditionIdentifier=pikepdf.String(SRGB_CONDITION),
        Info=pikepdf.String(SRGB_CONDITION),
        DestOutputProfile=icc,
    )
