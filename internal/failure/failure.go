// Package failure gives domain errors a kind that the HTTP layer can map to a status, and a
// translation key (not a sentence) so that the user reads it in their own language. Domain packages
// declare their sentinel errors with it; only the server turns them into responses. It depends on
// nothing but the standard library.
package failure

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind is the small set of error classes the whole product uses.
type Kind int

const (
	Internal        Kind = iota // a bug or an outage: details go to the log, never to the user
	Invalid                     // the input is wrong; Fields say where
	NotFound                    // no such thing, or the caller may not know it exists
	Conflict                    // the thing exists already, or changed under the caller
	Unauthenticated             // sign in first
	Forbidden                   // signed in, but not allowed
	TooMany                     // slow down; RetryAfter says how long
	Unavailable                 // busy for now (no database connection, or no room to hash a password, free in time); RetryAfter says when to try again
)

var kindCodes = map[Kind]string{
	Internal:        "internal",
	Invalid:         "invalid",
	NotFound:        "not_found",
	Conflict:        "conflict",
	Unauthenticated: "unauthenticated",
	Forbidden:       "forbidden",
	TooMany:         "too_many_requests",
	Unavailable:     "unavailable",
}

// Code is the stable machine-readable name of the kind, used in JSON error bodies.
func (k Kind) Code() string { return kindCodes[k] }

// Msg is a translation key with optional arguments for its placeholders (fmt verbs).
type Msg struct {
	Key  string
	Args []any
}

// Error is a domain error: a kind, a message key, optional per-field messages and a cause.
type Error struct {
	Kind       Kind
	Msg        Msg
	Fields     map[string]Msg
	RetryAfter int // seconds, for TooMany and Unavailable
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Code())
	if e.Msg.Key != "" {
		b.WriteString(": " + e.Msg.Key)
	}
	if len(e.Fields) > 0 {
		names := make([]string, 0, len(e.Fields))
		for f, m := range e.Fields {
			names = append(names, f+"="+m.Key)
		}
		sort.Strings(names)
		b.WriteString(" [" + strings.Join(names, " ") + "]")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is match two *Error values of the same kind and key, so sentinels work even after
// being wrapped or copied with a cause.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Msg.Key == e.Msg.Key && t.Fields == nil && t.Err == nil
}

// New makes an error of a kind with a message key; use it for package-level sentinels.
func New(kind Kind, key string, args ...any) *Error {
	return &Error{Kind: kind, Msg: Msg{Key: key, Args: args}}
}

// Wrap returns a copy of e with a cause attached, keeping errors.Is(result, e) true.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// Fields collects per-field validation messages; its zero value is ready to use.
type Fields map[string]Msg

// Add records a problem with a field; the first problem per field wins.
func (f *Fields) Add(field, key string, args ...any) {
	if *f == nil {
		*f = Fields{}
	}
	if _, ok := (*f)[field]; !ok {
		(*f)[field] = Msg{Key: key, Args: args}
	}
}

// Err returns an Invalid error naming the fields, or nil when there are none.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Msg: Msg{Key: "error.invalid"}, Fields: f}
}

// Field is a validation error about one field.
func Field(field, key string, args ...any) error {
	var f Fields
	f.Add(field, key, args...)
	return f.Err()
}

// As returns the *Error inside err; anything else becomes Internal with err as its cause.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Msg: Msg{Key: "error.internal"}, Err: err}
}

// Errorf wraps err with context like fmt.Errorf("%s: %w"), keeping its kind.
func Errorf(err error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}
