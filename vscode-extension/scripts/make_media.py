"""Draws the extension icon (media/icon.png) and shrinks the code-server e2e screenshots (test-artifacts/, from
scripts/test.sh) into media/ for the marketplace README. Needs Pillow: any venv with `pip install pillow`."""
from pathlib import Path
from PIL import Image, ImageDraw

EXT = Path(__file__).resolve().parent.parent
ART = EXT / "test-artifacts"
MEDIA = EXT / "media"

# icon: 128x128, drawn at 4x and scaled down for smooth edges
S = 512
img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
d.rounded_rectangle((0, 0, S - 1, S - 1), radius=96, fill=(16, 42, 67, 255))
# fish body
d.ellipse((70, 150, 370, 362), fill=(79, 195, 247, 255))
# tail
d.polygon([(340, 256), (462, 150), (432, 256), (462, 362)], fill=(79, 195, 247, 255))
# belly stripe
d.chord((90, 230, 350, 352), 0, 180, fill=(179, 229, 252, 255))
# eye
d.ellipse((128, 214, 168, 254), fill=(16, 42, 67, 255))
d.ellipse((140, 222, 152, 234), fill=(255, 255, 255, 255))
# dorsal fin
d.polygon([(200, 160), (250, 92), (290, 168)], fill=(79, 195, 247, 255))
# status-bar strip at the bottom
d.rounded_rectangle((64, 410, 448, 450), radius=20, fill=(255, 183, 77, 255))
icon = img.resize((128, 128), Image.LANCZOS)
icon.save(MEDIA / "icon.png", optimize=True)

def shrink(src, box, dest, width):
    im = Image.open(ART / src).convert("RGB").crop(box)
    if im.width > width:
        im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    im = im.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    im.save(MEDIA / dest, optimize=True)
    print(dest, im.size, (MEDIA / dest).stat().st_size)

shrink("main-quickpick-initial.png", (330, 0, 950, 410), "picker.png", 620)
shrink("main-status-tooltip.png", (740, 540, 1280, 800), "status-bar.png", 540)
shrink("workspace-status-workspace.png", (900, 0, 1280, 22), "status-bar-workspace.png", 380)
print("icon", (MEDIA / "icon.png").stat().st_size)
