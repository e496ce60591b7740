package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"shanyu/internal/browsertest"
	"shanyu/internal/servertest"
)

// mapDrawn waits until dashboard.js has drawn the map of region and answers how many regions its
// boundaries hold and how many figures its series was given.
func mapDrawn(t *testing.T, ctx context.Context, region string) (features, figures int) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!(window.shanyuDashboard && shanyuDashboard["chart-map"] && echarts.getMap(`+"`"+region+"`"+`))`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the map of %s was not drawn: %v", region, err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[echarts.getMap(`+"`"+region+"`"+`).geoJSON.features.length,
		shanyuDashboard["chart-map"].getOption().series[0].data.filter(d => d.value !== null && d.value !== undefined).length]`))
	if err != nil {
		t.Fatal(err)
	}
	return n[0], n[1]
}

// rowCodes is the region codes of the table beside the map, in order.
func rowCodes(t *testing.T, ctx context.Context) []string {
	t.Helper()
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#children-table tbody tr[data-code]")).map(tr => tr.dataset.code)`))
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// The province admin's dashboard at 1280 px and at 360 px: the map of the 11 cities is drawn from the
// bundled boundaries and coloured with a figure for each, the bar and trend charts are there, the
// table beside them has the same regions; a click on Hangzhou on the map opens Hangzhou's dashboard,
// whose map is its 13 counties, and the breadcrumb leads back to the province.
func TestDashboardMapDrillsDownFromTheProvince(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	for _, vp := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		ctx := browsertest.New(t, vp)
		signIn(t, ctx, srv.URL, "/dashboard", "admin")
		features, figures := mapDrawn(t, ctx, "33")
		if features != 11 {
			t.Errorf("%d px: the province's map has %d regions, want Zhejiang's 11 cities", vp.Width, features)
		}
		codes := rowCodes(t, ctx)
		if len(codes) != 11 || codes[0] != "3301" {
			t.Errorf("%d px: the table beside the map lists %v, want the 11 cities from 3301", vp.Width, codes)
		}
		if figures == 0 {
			t.Errorf("%d px: no city has a figure on the map", vp.Width)
		}
		charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[shanyuDashboard["chart-bars"].getOption().series[0].data.length,
			document.querySelectorAll("#chart-map canvas, #chart-bars canvas").length]`))
		if err != nil {
			t.Fatal(err)
		}
		if charts[0] != 11 || charts[1] < 2 {
			t.Errorf("%d px: bar chart of %d cities, %d canvases drawn", vp.Width, charts[0], charts[1])
		}
		// The caption and the headers make the tables readable without the charts.
		heads, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.figures caption").length * 100 + document.querySelectorAll("#children-table th[scope=row]").length`))
		if err != nil || heads < 312 {
			t.Errorf("%d px: captions×100 + row headers = %d, %v; want 3 captions and 12 row headers", vp.Width, heads, err)
		}
		browsertest.AssertFits(t, ctx, vp)
		if vp == browsertest.Phone {
			// A screen as tall as the page, so that the phone's bottom bar lies under the page in the
			// screenshot instead of across the map.
			tall, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
			if err != nil {
				t.Fatal(err)
			}
			long := vp
			long.Height = tall
			if err := chromedp.Do(ctx, browsertest.SetViewport(long)); err != nil {
				t.Fatal(err)
			}
			browsertest.Screenshot(t, ctx, "dashboard-province-360")
			if err := chromedp.Do(ctx, browsertest.SetViewport(vp)); err != nil {
				t.Fatal(err)
			}
		} else {
			browsertest.FullScreenshot(t, ctx, "dashboard-province-1280") // docs/screenshots/dashboard-1280.png
		}

		// A real click on Hangzhou (a point of 桐庐县, inside the city's boundary).
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("chart-map").scrollIntoView({block: "center"}), true`)); err != nil {
			t.Fatal(err)
		}
		xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(function () {
			var el = document.getElementById("chart-map"), box = el.getBoundingClientRect();
			var p = shanyuDashboard["chart-map"].convertToPixel({seriesIndex: 0}, [119.6, 29.8]);
			return [box.left + p[0], box.top + p[1]];
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.MouseClickXY(xy[0], xy[1]))); err != nil {
			t.Fatalf("%d px: click on Hangzhou at %v: %v", vp.Width, xy, err)
		}
		url, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
		if !strings.Contains(url, "region=3301") {
			t.Fatalf("%d px: the click on Hangzhou opened %q", vp.Width, url)
		}
		if features, _ := mapDrawn(t, ctx, "3301"); features != 13 {
			t.Errorf("%d px: Hangzhou's map has %d regions, want its 13 counties", vp.Width, features)
		}
		if codes := rowCodes(t, ctx); len(codes) != 13 || !strings.HasPrefix(codes[0], "3301") {
			t.Errorf("%d px: Hangzhou's table lists %v", vp.Width, codes)
		}
		browsertest.AssertFits(t, ctx, vp)
		if vp == browsertest.Desktop {
			browsertest.Screenshot(t, ctx, "dashboard-hangzhou-1280")
		}
		clickAndLoad(t, ctx, `.crumbs a[href^="/dashboard?region=33&"]`)
		if codes := rowCodes(t, ctx); len(codes) != 11 {
			t.Errorf("%d px: the breadcrumb back to the province shows %v", vp.Width, codes)
		}
	}
}

// The Ningbo regulator lands on Ningbo's counties; Hangzhou's dashboard and boundaries are refused
// (403) and the page says why, with the way back.
func TestDashboardNingboRegulatorSeesOnlyNingbo(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	ctx := browsertest.New(t, browsertest.Desktop)
	signIn(t, ctx, srv.URL, "/dashboard", "regulator.nb")
	if features, _ := mapDrawn(t, ctx, "3302"); features != 10 {
		t.Errorf("Ningbo's map has %d regions, want its 10 counties", features)
	}
	if codes := rowCodes(t, ctx); len(codes) != 10 || !strings.HasPrefix(codes[0], "3302") {
		t.Errorf("Ningbo's table lists %v", codes)
	}
	// The province is named in the breadcrumb but is no link for a city regulator.
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".crumbs a")).map(a => a.textContent)`))
	if err != nil || len(links) != 0 {
		t.Errorf("Ningbo regulator's breadcrumb links: %v, %v; want none", links, err)
	}
	browsertest.Screenshot(t, ctx, "dashboard-ningbo-1280")
	status, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`Promise.all(["/dashboard?region=3301", "/dashboard/geo/3301.json", "/dashboard/geo/33.json", "/dashboard/geo/3302.json"]
		.map(u => fetch(u, {credentials: "same-origin"}).then(r => r.status)))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{403, 403, 403, 200}; !slices.Equal(status, want) {
		t.Errorf("Hangzhou's dashboard, Hangzhou's, the province's and Ningbo's boundaries answer %v, want %v", status, want)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/dashboard?region=3301")); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#dashboard-forbidden")))
	if err != nil || !strings.Contains(msg, "杭州市") || !strings.Contains(msg, "无权") {
		t.Errorf("the refusal says %q, %v", msg, err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#chart-map, #children-table").length`)); n != 0 {
		t.Errorf("the refused page still shows %d charts or tables", n)
	}
	browsertest.Screenshot(t, ctx, "dashboard-ningbo-refused-1280")
}

// The public indicator page (一公开), anonymous, at 360 px: the province and its 11 cities in one table
// of the five headline indicators, no map, no boundary file fetched; a malformed year is refused
// with 422 beside the field.
func TestPublicIndicatorsPage(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, servertest.Options{Seeded: demoSeeded})
	ctx := browsertest.New(t, browsertest.Phone)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/public/indicators")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll("#public-indicators tbody tr").length,
		document.querySelectorAll("#public-indicators thead th").length, document.querySelectorAll("canvas, svg.map, #chart-map").length,
		performance.getEntriesByType("resource").filter(e => e.name.includes("/geo/") || e.name.includes("echarts")).length]`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{11, 6, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("public page: rows, headers, maps, boundary or chart fetches = %v, want %v", got, want)
	}
	browsertest.AssertFits(t, ctx, browsertest.Phone)
	browsertest.Screenshot(t, ctx, "public-indicators-360")
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(srv.URL+"/public/indicators?year=20x6&region=3301"))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#piy-error")))
	if resp.Status != 422 || !strings.Contains(msg, "年份") {
		t.Errorf("a malformed year: %d, %q; want 422 with the year's message", resp.Status, msg)
	}
}
