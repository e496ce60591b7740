package server

// routesCurriculum registers the curriculum pages and JSON endpoints (owned by the curriculum work).
func (s *Server) routesCurriculum() {}
