package certificates

import "shanyu/internal/failure"

// Errors of this package; the server maps their kinds to responses and translates their keys.
var (
	ErrNumberInvalid    = failure.New(failure.Invalid, "certificates.number_invalid")
	ErrNoActiveKey      = failure.New(failure.NotFound, "certificates.no_active_key")
	ErrTokenInvalid     = failure.New(failure.Invalid, "certificates.token_invalid")
	ErrTokenUnknownKey  = failure.New(failure.Invalid, "certificates.token_unknown_key")
	ErrNoPDFSigner      = failure.New(failure.NotFound, "certificates.no_pdf_signer")
	ErrPhotoUnsupported = failure.New(failure.Invalid, "certificates.photo_unsupported")
	ErrDocumentInvalid  = failure.New(failure.Invalid, "certificates.document_invalid")
	ErrUnknownLevel     = failure.New(failure.Invalid, "certificates.unknown_level")
	ErrStatusIndex      = failure.New(failure.Invalid, "certificates.status_index_invalid")
)
