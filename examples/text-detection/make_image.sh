#!/bin/sh
# make_image.sh OUT.png [SCALE] - the quickstart's test image: five lines of text in four DejaVu
# faces (fonts-dejavu-core), 22 to 44 pt, two of them rotated by 3-4 degrees, on a 640x480 canvas,
# every size multiplied by SCALE (default 1). Rendered by ImageMagick's convert (imagemagick), as an
# 8-bit RGB PNG. Prints "lines: 5": the number of text lines, which a detector must find as boxes.
set -eu
[ $# -ge 1 ] || { echo "usage: make_image.sh OUT.png [SCALE]" >&2; exit 1; }
out=$1 scale=${2:-1}
fonts=/usr/share/fonts/truetype/dejavu
for f in DejaVuSans.ttf DejaVuSerif.ttf DejaVuSans-Bold.ttf DejaVuSansMono.ttf; do
  [ -f "$fonts/$f" ] || { echo "make_image.sh: $fonts/$f not found (apt-get install fonts-dejavu-core)" >&2; exit 1; }
done
command -v convert >/dev/null || { echo "make_image.sh: convert not found (apt-get install imagemagick)" >&2; exit 1; }
s() { awk -v v="$1" -v k="$scale" 'BEGIN { printf "%d", v * k + 0.5 }'; }
at() { echo "+$(s "$1")+$(s "$2")"; }
convert -size "$(s 640)x$(s 480)" xc:'#fbfaf5' -fill black \
  -font $fonts/DejaVuSans.ttf -pointsize "$(s 44)" -annotate "$(at 30 70)" 'Kiln compiles ONNX' \
  -font $fonts/DejaVuSerif.ttf -pointsize "$(s 32)" -annotate "4x4$(at 40 170)" 'Text detection on OpenCL' \
  -font $fonts/DejaVuSans-Bold.ttf -pointsize "$(s 28)" -annotate "-3x-3$(at 60 270)" 'PP-OCRv4 det model' \
  -font $fonts/DejaVuSansMono.ttf -pointsize "$(s 22)" -annotate "$(at 40 360)" 'threshold 0.3, unclip 1.5' \
  -font $fonts/DejaVuSans.ttf -pointsize "$(s 36)" -fill '#1a3a8a' -annotate "$(at 200 440)" 'Hello, world 2026' \
  -strip -depth 8 "PNG24:$out"
echo "lines: 5"
