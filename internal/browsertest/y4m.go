package browsertest

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"os"
)

// WriteY4M writes img as a still video (YUV 4:2:0, 10 frames per second) that FakeCamera can play:
// what a phone camera would see when pointed at the picture. Width and height are rounded down to
// even numbers, as 4:2:0 needs.
func WriteY4M(path string, img image.Image, frames int) error {
	b := img.Bounds()
	w, h := b.Dx()&^1, b.Dy()&^1
	y := make([]byte, w*h)
	u := make([]byte, w*h/4)
	v := make([]byte, w*h/4)
	for j := 0; j < h; j++ {
		for i := 0; i < w; i++ {
			c := color.YCbCrModel.Convert(img.At(b.Min.X+i, b.Min.Y+j)).(color.YCbCr)
			y[j*w+i] = c.Y
			if i%2 == 0 && j%2 == 0 {
				u[(j/2)*(w/2)+i/2], v[(j/2)*(w/2)+i/2] = c.Cb, c.Cr
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(f)
	fmt.Fprintf(out, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	for k := 0; k < frames; k++ {
		out.WriteString("FRAME\n")
		out.Write(y)
		out.Write(u)
		out.Write(v)
	}
	if err := out.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
