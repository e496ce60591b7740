// Package server is Shanyu's HTTP face: the fiber app, its middleware (request ids, access log,
// security headers, language, limits), the HTML pages and the JSON API, templates, static assets and
// translations. It turns domain errors into responses in one place (errors.go). It owns no SQL and
// no business rules: handlers parse the request, call a domain package with c.UserContext() and plain
// values, and render what comes back.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/app"
	"shanyu/internal/config"
	"shanyu/internal/metrics"
)

// Deps is what the server needs from main: the domain services, built once by app.
type Deps struct {
	Config config.Config
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	App    *app.App
	// Metrics, when not nil, counts requests and events for the metrics endpoint.
	Metrics *metrics.Metrics
}

// Server holds the fiber app and everything its handlers share.
type Server struct {
	cfg     config.Config
	pool    *pgxpool.Pool
	log     *slog.Logger
	app     *fiber.App
	i18n    *catalog
	views   *views
	geo     map[string]geoFile // the bundled boundaries, by region (dashboard_geo.go)
	apiDocs []apiRoute
	// respCheck, when set (tests: CheckResponses), validates every JSON answer of the API.
	respCheck atomic.Pointer[responseCheck]
	// routeTable is every route with its permission and scope (scope.go), in registration order.
	routeTable []*route
	chain      chainCheck      // how far the audit chain has been verified (audit_log.go)
	guardOnly  atomic.Bool     // tests only: the guard answers 204 instead of running the handler (see passed)
	basic      []fiber.Handler // the middleware every request runs, public API included

	metrics *metrics.Metrics
	// schema is the last check that the database's schema is this binary's (schemaGate).
	schema         atomic.Pointer[schemaState]
	schemaChecking atomic.Bool
	domains        *app.App
	accounts       *accounts.Service
	access         *accounts.Access

	// submitting holds a token per candidate's submit in progress (submitSlot); a submit waits at
	// most submitWait for one (submitQueueWait; tests shorten it before the server serves).
	submitting chan struct{}
	submitWait time.Duration

	// draining is set by Drain: /readyz answers 503 so that a load balancer stops sending new requests.
	draining atomic.Bool
}

// New builds the app: it parses templates and translations now, so a broken one stops the start.
func New(d Deps) (*Server, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.App == nil {
		return nil, errors.New("server: Deps.App is required")
	}
	s := &Server{cfg: d.Config, pool: d.Pool, log: d.Logger, metrics: d.Metrics, domains: d.App, accounts: d.App.Accounts, access: d.App.Access,
		submitting: make(chan struct{}, submitSlots(d.Pool)), submitWait: submitQueueWait}
	var err error
	if s.i18n, err = loadCatalog(); err != nil {
		return nil, fmt.Errorf("translations: %w", err)
	}
	if s.views, err = loadViews(s.i18n); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if s.geo, err = loadGeo(); err != nil {
		return nil, fmt.Errorf("boundaries: %w", err)
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "shanyu",
		ErrorHandler:          s.handleError,
		BodyLimit:             d.Config.BodyLimit,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		StrictRouting:         false,
		CaseSensitive:         true,
	})
	// Every request gets a request id, an access log line and panic recovery. The public read-only
	// JSON endpoints are registered next, before the rest of the middleware, so that they skip it
	// (fiber runs handlers in the order they were added): see routesPublicAPI.
	s.basic = []fiber.Handler{
		requestid.New(requestid.Config{ContextKey: "requestid"}),
		s.accessLog,
		recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: s.logPanic}),
		s.schemaGate,
	}
	s.routesPublicAPI()
	for _, h := range s.basic {
		s.app.Use(h)
	}
	s.app.Use(
		securityHeaders,
		compress.New(compress.Config{Level: compress.LevelBestSpeed}),
		s.authenticate,
		s.csrf,
	)
	s.routes()
	return s, nil
}

// App exposes the fiber app, for tests that call app.Test.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.app.Listener(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// Drain makes /readyz answer 503 ("draining") while the server still answers everything else, so that
// a load balancer checking /readyz takes this replica out before Shutdown closes its listener.
func (s *Server) Drain() { s.draining.Store(true) }

// Shutdown stops accepting connections and waits for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.app.ShutdownWithContext(ctx)
}

// routes lists every resource's routes; each resource keeps its handlers in a file of its own.
func (s *Server) routes() {
	s.routesStatic()
	s.routesHealth()
	s.routesHome()
	s.routesAPIDocs()
	s.routesAuth()
	s.routesInbox()
	s.routesPasswordReset()
	s.routesAdmin()
	s.routesAuditLog()
	s.routesCurriculum()
	s.routesBank()
	s.routesExams()
	s.routesCertificates()
	s.routesAudits()
	// Unknown /api paths answer JSON 404 through the error handler, like every other API error.
	s.app.All("/api/*", func(*fiber.Ctx) error { return fiber.ErrNotFound })
}
