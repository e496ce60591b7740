package server_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// TestPhoneNavigationReachesEveryDestinationInTwoTaps signs each role in on a 360 px phone: the
// page never scrolls sideways, the header's links give way to a bottom bar of at most five cells,
// every destination the role has is either in the bar (one tap) or in 菜单 (two taps), each inside
// the screen and at least 44 px tall, and a tap in the menu goes there. During an exam the page
// shows no navigation at all.
func TestPhoneNavigationReachesEveryDestinationInTwoTaps(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	vp := browsertest.Phone
	for _, user := range []string{"caregiver", "centre", "institution", "inspector", "admin"} {
		ctx := browsertest.New(t, vp)
		signIn(t, ctx, srv.URL, "/", user)
		type link struct {
			Href            string
			Left, Right, H  float64
			Visible, InMenu bool
		}
		read := func() (all []string, shown []link) {
			t.Helper()
			all, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('.top .nav a')).map(a => a.getAttribute('href'))`))
			if err != nil {
				t.Fatal(err)
			}
			shown, err = chromedp.Run(ctx, chromedp.Evaluate[[]link](`Array.from(document.querySelectorAll('.tabbar a')).map(a => {
				const r = a.getBoundingClientRect();
				return {Href: a.getAttribute('href'), Left: r.left, Right: r.right, H: r.height, Visible: r.width > 0 && r.height > 0 && getComputedStyle(a).visibility !== 'hidden',
					InMenu: !!a.closest('.tabmenu-list')};
			})`))
			if err != nil {
				t.Fatal(err)
			}
			return all, shown
		}
		browsertest.AssertFits(t, ctx, vp)
		headerShown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector('.top .nav')).display !== 'none'`))
		if err != nil || headerShown {
			t.Errorf("%s: the header's link row is shown on a phone (%v)", user, err)
		}
		all, before := read()
		var bar, menu []string
		for _, l := range before {
			if l.InMenu {
				menu = append(menu, l.Href)
				continue
			}
			bar = append(bar, l.Href)
			if !l.Visible || l.Left < 0 || l.Right > float64(vp.Width)+0.5 || l.H < 44 {
				t.Errorf("%s: bar link %s is not a full tap target on screen: %+v", user, l.Href, l)
			}
		}
		cells := len(bar)
		if len(menu) > 0 {
			cells++
		}
		if cells > 5 {
			t.Errorf("%s: the bar has %d cells", user, cells)
		}
		got := append(append([]string(nil), bar...), menu...)
		sort.Strings(got)
		sort.Strings(all)
		if strings.Join(got, " ") != strings.Join(all, " ") {
			t.Errorf("%s: bar %v + menu %v ≠ the role's destinations %v", user, bar, menu, all)
		}
		if len(menu) == 0 {
			continue
		}
		// Tap one: 菜单 opens; every other destination is then on screen.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".tabmenu summary"))); err != nil {
			t.Fatal(err)
		}
		_, after := read()
		for _, l := range after {
			if l.InMenu && (!l.Visible || l.Left < 0 || l.Right > float64(vp.Width)+0.5 || l.H < 44) {
				t.Errorf("%s: menu link %s is not a full tap target on screen once 菜单 is open: %+v", user, l.Href, l)
			}
		}
		browsertest.AssertFits(t, ctx, vp)
		browsertest.Screenshot(t, ctx, "nav-phone-menu-"+user)
		// Tap two: the last destination of the menu.
		target := menu[len(menu)-1]
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`.tabmenu-list a[href="`+target+`"]`)))); err != nil {
			t.Fatalf("%s: tap %s in the menu: %v", user, target, err)
		}
		path, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
		if path != target {
			t.Errorf("%s: the menu's %s led to %s", user, target, path)
		}
	}

	// During an exam: the exam only.
	ctx := browsertest.New(t, vp)
	signIn(t, ctx, srv.URL, "/exams", "caregiver")
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.exam-card a.button').getAttribute('href')`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+href)); err != nil {
		t.Fatal(err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.tabbar, .top .nav, .session, a.brand').length`))
	if err != nil || n != 0 {
		t.Errorf("the exam page %s shows %d navigation elements (%v)", href, n, err)
	}
}
