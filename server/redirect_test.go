package server

import "testing"

// A corpus of known open-redirect bypasses (OWASP's unvalidated-redirects cheat sheet, PortSwigger's
// URL validation bypass list, and the issue's own /%09/evil.example): every one must come back "/".
// Query strings arrive decoded once, as c.Query returns them, so both forms are listed.
func TestLocalPathRefusesRedirectBypasses(t *testing.T) {
	t.Parallel()
	bypasses := []string{
		"", "evil.example", "//evil.example", "///evil.example", "////evil.example",
		"https://evil.example", "http:evil.example", "javascript:alert(1)", "data:text/html,x",
		"/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example",
		"/\t/evil.example", "/%09/evil.example", "/\n/evil.example", "/%0a/evil.example", "/\r/evil.example",
		"/%0d/evil.example", "/\x00/evil.example", "/%00/evil.example",
		"/%2f/evil.example", "/%2F%2Fevil.example", "/%5cevil.example", "/%5C%5Cevil.example",
		"/　/evil.example", "/\u00a0/evil.example", "/\u2028/evil.example", "/\ufeff/evil.example", "/\u200b/evil.example",
		" //evil.example", "/ /evil.example", "/.%2e/evil.example",
		"//evil.example@good.example", "/\\@evil.example",
		"//\u3000evil.example", "/\u202e/evil.example", "/\xff/evil.example",
	}
	for _, next := range bypasses {
		if got := localPath(next); got != "/" {
			t.Errorf("localPath(%q) = %q, want /", next, got)
		}
	}
	for _, ok := range []string{"/", "/account", "/exams/results?session=3", "/bank?q=保育#top", "/centres/HZ001/bank/import"} {
		if got := localPath(ok); got != ok {
			t.Errorf("localPath(%q) = %q, want it kept", ok, got)
		}
	}
}
