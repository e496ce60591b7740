// Package browsertest drives a real headless Chromium (Debian's `chromium`) with chromedp for
// end-to-end tests, and saves screenshots under var/screenshots/. It is for tests only.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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

// flags are the Chromium flags of every browser the tests start.
func flags(tb testing.TB, vp Viewport, dataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
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
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(int(vp.Width), int(vp.Height)),
	}
}

// shared is the one Chromium of a test binary whose TestMain runs Main.
var shared struct {
	on     bool // Main runs the tests
	once   sync.Once
	ctx    context.Context // the browser's first tab: children of it are tabs of the same process
	cancel context.CancelFunc
	dir    string
	err    error
}

// Main runs a package's tests (from its TestMain: os.Exit(browsertest.Main(m))) with one Chromium
// process shared by every New without extra flags, started when a test first asks and stopped when
// the tests end. Starting a browser costs about 0.7 s of CPU and 1.2 s of wall time here (a headless
// start and quit, measured on the 2-core test machine), and a package of browser tests
// starts dozens. Each test still gets a tab in a browser context of its own (Chromium's incognito
// profile: cookies, storage, caches and service workers are not shared), so tests stay independent
// and can run in parallel. Without Main, each New starts a browser of its own.
func Main(m *testing.M) int {
	shared.on = true
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	return code
}

// sharedBrowser starts the shared Chromium once and returns its first tab's context.
func sharedBrowser(tb testing.TB) (context.Context, error) {
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "shanyu-chromium-")
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = dir
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags(tb, Desktop, dir)...)
		ctx, cancelCtx := chromedp.NewContext(allocCtx)
		shared.ctx = ctx
		shared.cancel = func() { cancelCtx(); cancelAlloc() }
		// The first Run binds the browser's life to ctx: it must have no deadline.
		if err := chromedp.Do(ctx); err != nil {
			shared.err = fmt.Errorf("start the shared Chromium: %w", err)
		}
	})
	return shared.ctx, shared.err
}

// New returns a tab context for the test, emulating vp, closed when the test ends. Under Main it is
// a tab of the shared Chromium in a browser context of its own; otherwise, or when extra options add
// Chromium flags (such as FakeCamera's, which are the whole browser's), it is the first tab of a
// fresh headless Chromium with its own profile. Either way tests can run in parallel without
// sharing cookies.
func New(tb testing.TB, vp Viewport, extra ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	var ctx context.Context
	var cancels []context.CancelFunc
	if shared.on && len(extra) == 0 {
		Browser(tb) // fails this test, outside the shared start, when there is no Chromium
		browser, err := sharedBrowser(tb)
		if err != nil {
			tb.Fatalf("browsertest: %v", err)
		}
		tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		ctx, cancels = tab, []context.CancelFunc{cancelTab}
	} else {
		opts := append(flags(tb, vp, tb.TempDir()), extra...)
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		tab, cancelCtx := chromedp.NewContext(allocCtx)
		ctx, cancels = tab, []context.CancelFunc{cancelCtx, cancelAlloc}
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	tb.Cleanup(func() {
		cancelTimeout()
		for _, c := range cancels {
			c()
		}
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

// Screenshot saves what the screen shows (the viewport) as var/screenshots/<name>.png and returns
// its path: a picture to look at, checked by nothing. A full-page capture (FullScreenshot) costs
// Chromium a relayout at the page's height and a larger encode; about 80 calls took one each.
func Screenshot(tb testing.TB, ctx context.Context, name string) string {
	tb.Helper()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	return save(tb, name, buf)
}

// FullScreenshot saves the whole page as var/screenshots/<name>.png (for the copies in
// docs/screenshots) and returns its path.
func FullScreenshot(tb testing.TB, ctx context.Context, name string) string {
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
	return save(tb, name, buf)
}

func save(tb testing.TB, name string, buf []byte) string {
	tb.Helper()
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
