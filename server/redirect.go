package server

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// localPath returns next when it is a path on this site, and "/" otherwise. It is the one check
// behind every `next` (language switch, sign-in). next is parsed with net/url and must come out as a
// bare absolute path: no scheme, no host, no user. Anything a browser might read differently from
// net/url is refused outright rather than cleaned: control characters and spaces of any kind
// (browsers drop tabs and new lines, so "/\t/evil" becomes "//evil"), invisible format characters, backslashes (read as slashes),
// percent-encoded slashes, backslashes and dots, and a second slash at the start.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || len(next) > 2048 {
		return "/"
	}
	for _, r := range next {
		if r == '\\' || r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return "/"
		}
	}
	lower := strings.ToLower(next)
	for _, enc := range []string{"%2f", "%5c", "%2e", "%09", "%0a", "%0d", "%00"} {
		if strings.Contains(lower, enc) {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}
