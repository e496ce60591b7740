// Package tsa is a small RFC 3161 Time-Stamp Authority for development and tests, so that signed PDFs
// carry a signature timestamp (PAdES B-T) without calling a service outside this machine. It answers
// time-stamp queries over HTTP (RFC 3161 §3.4: POST application/timestamp-query) with tokens signed by
// its own key and certificate (issued by the deployment's CA, extended key usage timeStamping,
// critical). Production deployments point SHANYU_TSA_URL at a qualified TSA instead.
package tsa

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// Policy is the TSA policy written in every token. It is a development policy ("Shanyu development
// TSA: the server's clock, no accuracy guarantee") under an arc that is not registered: a UUID-based
// OID (2.25) would need no registration but does not fit encoding/asn1's ints. A production TSA
// names its own policy.
var Policy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 3161, 1}

// maxQuery bounds a request body: a query is a hash and a few fields, well under 1 KB.
const maxQuery = 4 << 10

// Server answers time-stamp queries. Chain holds the CA certificates above Certificate, sent in the
// token when the query asks for certificates.
type Server struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	Key         crypto.Signer
	Now         func() time.Time // time.Now when nil
}

// Stamp answers one DER time-stamp query with a DER time-stamp response.
func (s *Server) Stamp(query []byte) ([]byte, error) {
	req, err := timestamp.ParseRequest(query)
	if err != nil {
		return nil, err
	}
	if req.HashAlgorithm != crypto.SHA256 && req.HashAlgorithm != crypto.SHA384 && req.HashAlgorithm != crypto.SHA512 {
		return nil, errors.New("tsa: unsupported hash algorithm")
	}
	if len(req.HashedMessage) != req.HashAlgorithm.Size() {
		return nil, errors.New("tsa: message imprint has the wrong length")
	}
	if req.TSAPolicyOID != nil && !req.TSAPolicyOID.Equal(Policy) {
		return nil, errors.New("tsa: unknown policy")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              now().UTC(),
		Accuracy:          time.Second,
		Policy:            Policy,
		Nonce:             req.Nonce,
		AddTSACertificate: req.Certificates,
	}
	if req.Certificates {
		ts.Certificates = s.Chain
	}
	return ts.CreateResponseWithOpts(s.Certificate, s.Key, crypto.SHA256)
}

// ServeHTTP is the RFC 3161 HTTP transport: POST a query, get a response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST an application/timestamp-query", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxQuery+1))
	if err != nil || len(body) > maxQuery {
		http.Error(w, "query too large", http.StatusRequestEntityTooLarge)
		return
	}
	resp, err := s.Stamp(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}
