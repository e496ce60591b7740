// Package browsertest drives a real headless Chromium (Debian's `chromium`) with chromedp for
// end-to-end tests, and saves screenshots under var/screenshots/. It is for tests only.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"shanyu/internal/pgtest"
)

// Sizes used by the tests: a small phone and an ordinary desktop.
var (
	Phone   = Viewport{Width: 360, Height: 740, Mobile: true, Scale: 2}
	Desktop = Viewport{Width: 1280, Height: 860, Scale: 1}
)

// Viewport is a screen size to emulate.
type Viewport struct {
	Width, Height int64
	Mobile        bool
	Scale         float64
}

// Browser finds Chromium: SHANYU_CHROMIUM, then chromium on PATH.
func Browser(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("SHANYU_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Fatal("browsertest: Chromium not found; `make test` installs it (apt-get install -y chromium)")
	return ""
}

// New starts a fresh headless Chromium (its own profile) and returns a tab context for the test.
// Each call gets its own browser, so tests can run in parallel without sharing cookies. Extra
// options add Chromium flags, such as FakeCamera's.
func New(tb testing.TB, vp Viewport, extra ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Browser(tb)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(int(vp.Width), int(vp.Height)),
	}
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, SetViewport(vp)); err != nil {
		tb.Fatalf("browsertest: start Chromium: %v", err)
	}
	return ctx
}

// FakeCamera gives the page a camera that plays a video file (Y4M or MJPEG) in a loop and grants
// it without asking, so getUserMedia works headless.
func FakeCamera(videoPath string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", videoPath),
	}
}

// SetViewport emulates a screen size (and touch, for a phone).
func SetViewport(vp Viewport) chromedp.Action[chromedp.Void] {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(vp.Scale)}
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(vp.Width, vp.Height, opts...)
}

// Screenshot saves a full-page PNG as var/screenshots/<name>.png and returns its path.
func Screenshot(tb testing.TB, ctx context.Context, name string) string {
	tb.Helper()
	// A full-page capture can stall while a page plays live video (the inspector's camera, under a
	// loaded machine); the visible part is then enough of a picture.
	full, cancel := context.WithTimeout(ctx, 30*time.Second)
	buf, err := chromedp.Run(full, chromedp.FullScreenshot(100))
	cancel()
	if err != nil && ctx.Err() == nil {
		tb.Logf("browsertest: full-page screenshot %s: %v; taking the viewport", name, err)
		buf, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		tb.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	root, err := pgtest.RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(root, "var", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// AssertFits fails the test when the page scrolls sideways: the layout does not hold at this width.
func AssertFits(tb testing.TB, ctx context.Context, vp Viewport) {
	tb.Helper()
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int64]("document.documentElement.scrollWidth"))
	if err != nil {
		tb.Fatal(err)
	}
	if width > vp.Width {
		tb.Errorf("page is %d px wide on a %d px screen", width, vp.Width)
	}
}
