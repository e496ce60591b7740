package server

// routesCertificates registers the certificates pages and JSON endpoints (owned by the certificates work).
func (s *Server) routesCertificates() {}
