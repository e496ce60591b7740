package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	c, err := Parse(env(map[string]string{"DATABASE_URL": "postgres://u:pw@h/db"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.Env != "development" || c.BaseURL != "http://localhost:8080" || len(c.SecretKey) != 32 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	cases := map[string]map[string]string{
		"production without a secret": {"SHANYU_ENV": "production"},
		"unknown env":                 {"SHANYU_ENV": "staging"},
		"short secret":                {"SHANYU_SECRET_KEY": "c2hvcnQ="},
		"bad log format":              {"SHANYU_LOG_FORMAT": "xml"},
		"bad timeout":                 {"SHANYU_SHUTDOWN_TIMEOUT": "soon"},
	}
	for name, m := range cases {
		if _, err := Parse(env(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestMaskURL(t *testing.T) {
	t.Parallel()
	got := MaskURL("postgres://shanyu:hunter2@db:5432/shanyu")
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "shanyu:xxxxx@db") {
		t.Fatalf("MaskURL = %q", got)
	}
}
