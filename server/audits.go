package server

// routesAudits registers the audits pages and JSON endpoints (owned by the audits work).
func (s *Server) routesAudits() {}
