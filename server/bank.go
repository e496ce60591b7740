package server

// routesBank registers the bank pages and JSON endpoints (owned by the bank work).
func (s *Server) routesBank() {}
