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
	if c.JobTimeout.String() != "5m0s" || c.JobRescueAfter.String() != "1h0m0s" {
		t.Fatalf("job timing defaults: %v, %v", c.JobTimeout, c.JobRescueAfter)
	}
	if c.ReadDatabaseURL != "" || c.ReadMaxLag.String() != "500ms" {
		t.Fatalf("read defaults: %q, %v", c.ReadDatabaseURL, c.ReadMaxLag)
	}
	if c.Zone.String() != "Asia/Shanghai" {
		t.Fatalf("default zone = %s, want Asia/Shanghai", c.Zone)
	}
	c, err = Parse(env(map[string]string{"SHANYU_TIMEZONE": "Asia/Urumqi"}))
	if err != nil || c.Zone.String() != "Asia/Urumqi" {
		t.Fatalf("SHANYU_TIMEZONE=Asia/Urumqi: %v, %v", c.Zone, err)
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
		"bad memory limit":            {"SHANYU_MEMORY_LIMIT_MB": "-1"},
		"bad auth memory":             {"SHANYU_AUTH_MEMORY_MB": "lots"},
		"bad auth queue":              {"SHANYU_AUTH_QUEUE_S": "0"},
		"bad trusted proxy":           {"SHANYU_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example"},
		"unknown zone":                {"SHANYU_TIMEZONE": "Mars/Olympus"},
		"the process's zone":          {"SHANYU_TIMEZONE": "Local"},
		"job timeout not a duration":  {"SHANYU_JOB_TIMEOUT": "long"},
		"job timeout under 1s":        {"SHANYU_JOB_TIMEOUT": "500ms"},
		"rescue not after timeout":    {"SHANYU_JOB_TIMEOUT": "10s", "SHANYU_JOB_RESCUE_AFTER": "10s"},
		"rescue over a week":          {"SHANYU_JOB_RESCUE_AFTER": "200h"},
		"read lag not a duration":     {"SHANYU_READ_MAX_LAG": "fresh"},
		"read lag under 200ms":        {"SHANYU_READ_MAX_LAG": "50ms"},
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
	// A failover URL lists the primary and the standby; the password is hidden all the same.
	got = MaskURL("postgres://shanyu:hunter2@db1:5432,db2:5432/shanyu?target_session_attrs=read-write")
	if strings.Contains(got, "hunter2") || !strings.Contains(got, "db1:5432,db2:5432") {
		t.Fatalf("MaskURL of two hosts = %q", got)
	}
}

func TestParseBounds(t *testing.T) {
	t.Parallel()
	c, err := Parse(env(map[string]string{"SHANYU_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7 ,fd00::/8"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthMemory != 512<<20 || c.AuthQueue.Seconds() != 30 || c.MemoryLimit != 1536<<20 {
		t.Fatalf("bounds defaults: %+v", c)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.168.1.7/32 fd00::/8" {
		t.Fatalf("trusted proxies = %v", got)
	}
}
