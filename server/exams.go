package server

// routesExams registers the exams pages and JSON endpoints (owned by the exams work).
func (s *Server) routesExams() {}
