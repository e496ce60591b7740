// Package config reads Shanyu's configuration from the environment (DATABASE_URL and SHANYU_*).
// It knows nothing of HTTP or the database; it only parses, validates and masks.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"shanyu/internal/clock"
)

// Config is everything the binary reads from its environment.
type Config struct {
	DatabaseURL      string         // DATABASE_URL (may list several hosts, with target_session_attrs=read-write)
	ReadDatabaseURL  string         // SHANYU_READ_DATABASE_URL: a streaming standby for the reads that may be slightly stale; none when empty
	ReadMaxLag       time.Duration  // SHANYU_READ_MAX_LAG: how stale those reads may be before they go to the primary
	Addr             string         // SHANYU_ADDR
	Env              string         // SHANYU_ENV: development or production
	LogFormat        string         // SHANYU_LOG_FORMAT: text or json
	LogLevel         slog.Level     // SHANYU_LOG_LEVEL
	BaseURL          string         // SHANYU_BASE_URL: the public address, used in links and QR codes
	SecretKey        []byte         // SHANYU_SECRET_KEY (or _FILE): 32 bytes, base64; encrypts personal data
	ShutdownTimeout  time.Duration  // SHANYU_SHUTDOWN_TIMEOUT
	DrainDelay       time.Duration  // SHANYU_DRAIN_DELAY: after SIGTERM, how long /readyz answers 503 before the listener closes (0: none)
	BodyLimit        int            // SHANYU_BODY_LIMIT_MB, in bytes
	DBAcquireTimeout time.Duration  // SHANYU_DB_ACQUIRE_TIMEOUT: a request waiting longer for a database connection gets 503
	MetricsAddr      string         // SHANYU_METRICS_ADDR: where Prometheus metrics are served; off when empty
	PprofAddr        string         // SHANYU_PPROF_ADDR: where net/http/pprof is served (a loopback address: it is unauthenticated); off when empty
	CJKFont          string         // SHANYU_CJK_FONT: TrueType font for PDFs (DefaultCJKFont when unset)
	PDFCertFile      string         // SHANYU_PDF_CERT_FILE: PEM issuing certificate, then its CA chain
	PDFKeyFile       string         // SHANYU_PDF_KEY_FILE: PEM private key of the issuing certificate
	MemoryLimit      int64          // SHANYU_MEMORY_LIMIT_MB, in bytes: the Go memory limit serve sets
	AuthMemory       int64          // SHANYU_AUTH_MEMORY_MB, in bytes: what password hashes may use at once
	AuthQueue        time.Duration  // SHANYU_AUTH_QUEUE_S: how long a sign-in waits for that memory
	TrustedProxies   []netip.Prefix // SHANYU_TRUSTED_PROXIES: peers whose X-Forwarded-For is believed
	TSAURL           string         // SHANYU_TSA_URL: RFC 3161 TSA that timestamps PDF signatures; none when empty
	Zone             *time.Location // SHANYU_TIMEZONE: where times are shown and dates counted (see internal/clock)
	TokenAlg         string         // SHANYU_TOKEN_ALG: EdDSA (default) or SM2, the QR tokens' signature algorithm
	JobTimeout       time.Duration  // SHANYU_JOB_TIMEOUT: how long one background job may run before River cancels it
	JobRescueAfter   time.Duration  // SHANYU_JOB_RESCUE_AFTER: how long a job may stay running (its node dead) before River's leader runs it again
	NotifySender     string         // SHANYU_NOTIFY_SENDER: how SMS and e-mail leave the product; "log" (the development sender) writes them to the log
}

// DefaultCJKFont is the CJK TrueType font used when SHANYU_CJK_FONT is unset (Debian package
// fonts-lxgw-wenkai). gofpdf needs a TrueType (glyf) font: TTC collections and CFF-flavoured OTF fonts
// are rejected by it.
const DefaultCJKFont = "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"

// devSecret is used only outside production so that `make run` needs no set-up. Production refuses it.
const devSecret = "c2hhbnl1LWRldmVsb3BtZW50LW9ubHktbm90LWtleSE="

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) { return Parse(os.Getenv) }

// Parse reads the configuration through getenv, which makes it testable.
func Parse(getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		if file := strings.TrimSpace(getenv(key + "_FILE")); file != "" {
			b, err := os.ReadFile(file)
			if err == nil {
				return strings.TrimSpace(string(b))
			}
		}
		return def
	}
	c := Config{
		DatabaseURL:     get("DATABASE_URL", ""),
		ReadDatabaseURL: get("SHANYU_READ_DATABASE_URL", ""),
		Addr:            get("SHANYU_ADDR", ":8080"),
		Env:             get("SHANYU_ENV", "development"),
		LogFormat:       get("SHANYU_LOG_FORMAT", "text"),
		BaseURL:         strings.TrimRight(get("SHANYU_BASE_URL", ""), "/"),
		CJKFont:         get("SHANYU_CJK_FONT", DefaultCJKFont),
		MetricsAddr:     get("SHANYU_METRICS_ADDR", ""),
		PprofAddr:       get("SHANYU_PPROF_ADDR", ""),
		PDFCertFile:     get("SHANYU_PDF_CERT_FILE", ""),
		PDFKeyFile:      get("SHANYU_PDF_KEY_FILE", ""),
		TSAURL:          get("SHANYU_TSA_URL", ""),
		TokenAlg:        get("SHANYU_TOKEN_ALG", "EdDSA"),
		NotifySender:    get("SHANYU_NOTIFY_SENDER", "log"),
	}
	var errs []error
	if c.Env != "development" && c.Env != "production" {
		errs = append(errs, fmt.Errorf("SHANYU_ENV must be development or production, not %q", c.Env))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("SHANYU_LOG_FORMAT must be text or json, not %q", c.LogFormat))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("SHANYU_LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("SHANYU_LOG_LEVEL: %w", err))
	}
	timeout, err := time.ParseDuration(get("SHANYU_SHUTDOWN_TIMEOUT", "15s"))
	if err != nil || timeout <= 0 {
		errs = append(errs, fmt.Errorf("SHANYU_SHUTDOWN_TIMEOUT must be a positive duration such as 15s"))
	}
	c.ShutdownTimeout = timeout
	drain, err := time.ParseDuration(get("SHANYU_DRAIN_DELAY", "0s"))
	if err != nil || drain < 0 {
		errs = append(errs, fmt.Errorf("SHANYU_DRAIN_DELAY must be a duration such as 2s, or 0s"))
	}
	c.DrainDelay = drain
	mb, err := strconv.Atoi(get("SHANYU_BODY_LIMIT_MB", "16"))
	if err != nil || mb <= 0 {
		errs = append(errs, fmt.Errorf("SHANYU_BODY_LIMIT_MB must be a positive whole number"))
	}
	c.BodyLimit = mb << 20
	acquire, err := time.ParseDuration(get("SHANYU_DB_ACQUIRE_TIMEOUT", "5s"))
	if err != nil || acquire <= 0 {
		errs = append(errs, fmt.Errorf("SHANYU_DB_ACQUIRE_TIMEOUT must be a positive duration such as 5s"))
	}
	c.DBAcquireTimeout = acquire
	// Verification must show a revocation within a second: the bound leaves room for the measurement
	// interval and the query itself.
	c.ReadMaxLag, err = time.ParseDuration(get("SHANYU_READ_MAX_LAG", "500ms"))
	if err != nil || c.ReadMaxLag < 200*time.Millisecond || c.ReadMaxLag > time.Minute {
		errs = append(errs, fmt.Errorf("SHANYU_READ_MAX_LAG must be a duration from 200ms to 1m, such as 500ms"))
	}
	// A job whose node died stays "running" until River's leader rescues it after JobRescueAfter; it
	// must exceed JobTimeout, or a slow job still at work elsewhere would be run a second time.
	c.JobTimeout, err = time.ParseDuration(get("SHANYU_JOB_TIMEOUT", "5m"))
	if err != nil || c.JobTimeout < time.Second || c.JobTimeout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("SHANYU_JOB_TIMEOUT must be a duration from 1s to 24h, such as 5m"))
	}
	c.JobRescueAfter, err = time.ParseDuration(get("SHANYU_JOB_RESCUE_AFTER", "1h"))
	if err != nil || c.JobRescueAfter <= c.JobTimeout || c.JobRescueAfter > 7*24*time.Hour {
		errs = append(errs, fmt.Errorf("SHANYU_JOB_RESCUE_AFTER must be a duration longer than SHANYU_JOB_TIMEOUT and at most 168h, such as 1h"))
	}
	positive := func(key, def string) int64 {
		n, err := strconv.ParseInt(get(key, def), 10, 64)
		if err != nil || n <= 0 || n > 1<<20 {
			errs = append(errs, fmt.Errorf("%s must be a positive whole number", key))
		}
		return n
	}
	c.MemoryLimit = positive("SHANYU_MEMORY_LIMIT_MB", "1536") << 20
	c.AuthMemory = positive("SHANYU_AUTH_MEMORY_MB", "512") << 20
	c.AuthQueue = time.Duration(positive("SHANYU_AUTH_QUEUE_S", "30")) * time.Second
	for _, p := range strings.FieldsFunc(get("SHANYU_TRUSTED_PROXIES", ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			// A bare address is a prefix of one.
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				errs = append(errs, fmt.Errorf("SHANYU_TRUSTED_PROXIES: %q is neither a CIDR prefix nor an address", p))
				continue
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	zoneName := get("SHANYU_TIMEZONE", clock.DefaultZone)
	if c.Zone, err = time.LoadLocation(zoneName); err != nil || zoneName == "Local" {
		errs = append(errs, fmt.Errorf("SHANYU_TIMEZONE must be an IANA zone such as Asia/Shanghai, not %q", zoneName))
	}
	secret := get("SHANYU_SECRET_KEY", "")
	if secret == "" {
		if c.Env == "production" {
			errs = append(errs, errors.New("SHANYU_SECRET_KEY (32 bytes, base64) is required in production"))
		}
		secret = devSecret
	}
	key, err := base64.StdEncoding.DecodeString(secret)
	if err != nil || len(key) != 32 {
		errs = append(errs, errors.New("SHANYU_SECRET_KEY must be 32 bytes encoded in base64 (openssl rand -base64 32)"))
	}
	c.SecretKey = key
	if (c.PDFCertFile == "") != (c.PDFKeyFile == "") {
		errs = append(errs, errors.New("SHANYU_PDF_CERT_FILE and SHANYU_PDF_KEY_FILE go together: set both or neither"))
	}
	if c.BaseURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.BaseURL = "http://" + host
	}
	if _, err := url.Parse(c.BaseURL); err != nil {
		errs = append(errs, fmt.Errorf("SHANYU_BASE_URL: %w", err))
	}
	if u, err := url.Parse(c.TSAURL); c.TSAURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("SHANYU_TSA_URL must be an http or https URL, not %q", c.TSAURL))
	}
	if c.NotifySender != "log" {
		errs = append(errs, fmt.Errorf("SHANYU_NOTIFY_SENDER must be log (the only sender built so far), not %q", c.NotifySender))
	}
	if c.TokenAlg != "EdDSA" && c.TokenAlg != "SM2" {
		errs = append(errs, fmt.Errorf("SHANYU_TOKEN_ALG must be EdDSA or SM2, not %q", c.TokenAlg))
	}
	return c, errors.Join(errs...)
}

// Production reports whether the binary runs in production mode.
func (c Config) Production() bool { return c.Env == "production" }

// LogValue lets slog print the configuration with its secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database_url", MaskURL(c.DatabaseURL)),
		slog.String("read_database_url", MaskURL(c.ReadDatabaseURL)),
		slog.Duration("read_max_lag", c.ReadMaxLag),
		slog.String("addr", c.Addr),
		slog.String("env", c.Env),
		slog.String("base_url", c.BaseURL),
		slog.String("log_format", c.LogFormat),
		slog.String("secret_key", "***"),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Duration("drain_delay", c.DrainDelay),
		slog.Int("body_limit_mb", c.BodyLimit>>20),
		slog.Duration("db_acquire_timeout", c.DBAcquireTimeout),
		slog.String("cjk_font", c.CJKFont),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.String("pprof_addr", c.PprofAddr),
		slog.String("pdf_cert_file", c.PDFCertFile),
		slog.Int64("memory_limit_mb", c.MemoryLimit>>20),
		slog.Int64("auth_memory_mb", c.AuthMemory>>20),
		slog.Duration("auth_queue", c.AuthQueue),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("tsa_url", MaskURL(c.TSAURL)),
		slog.String("timezone", c.Zone.String()),
		slog.String("token_alg", c.TokenAlg),
		slog.String("notify_sender", c.NotifySender),
		slog.Duration("job_timeout", c.JobTimeout),
		slog.Duration("job_rescue_after", c.JobRescueAfter),
	)
}

// MaskURL hides the password of a connection URL.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
