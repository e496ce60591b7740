package server

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
)

// JSON Schemas of response bodies, derived from the Go types the handlers encode, so that the
// OpenAPI document says what encoding/json really writes. The document is OpenAPI 3.1, whose schemas
// are JSON Schema 2020-12: the same schema documents a route and checks its answers in tests
// (responses.go).

var (
	timeType       = reflect.TypeFor[time.Time]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	marshalerType  = reflect.TypeFor[json.Marshaler]()
)

// schemaOf is the JSON Schema of T as encoding/json encodes it.
func schemaOf[T any]() map[string]any { return typeSchema(reflect.TypeFor[T](), nil) }

// arrayOf is the schema of a JSON array of T (never null: handlers answer [] for none).
func arrayOf[T any]() map[string]any {
	return map[string]any{"type": "array", "items": schemaOf[T]()}
}

// itemsOf is the schema of the list shape most routes answer: {"items": [T…]} and the other
// properties given (total, limit, offset…), all required.
func itemsOf[T any](more map[string]any) map[string]any {
	props := map[string]any{"items": nullable(arrayOf[T]())}
	required := []string{"items"}
	for k, v := range more {
		props[k] = v
		required = append(required, k)
	}
	return object(sortedStrings(required), props)
}

// page is the paging properties of a list: total, limit and offset.
var paging = map[string]any{"total": integer, "limit": integer, "offset": integer}

// nullable lets a schema also match null (a nil slice, map or pointer).
func nullable(s map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		out[k] = v
	}
	switch t := s["type"].(type) {
	case string:
		out["type"] = []string{t, "null"}
	case []string:
		out["type"] = append(append([]string{}, t...), "null")
	default:
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	return out
}

// typeSchema follows encoding/json's rules: exported fields under their json names, omitempty
// fields not required, embedded structs flattened, nil slices, maps and pointers as null. seen
// stops a type that contains itself (it is then left open).
func typeSchema(t reflect.Type, seen map[reflect.Type]bool) map[string]any {
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return map[string]any{}
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if t.Kind() == reflect.Pointer {
		return nullable(typeSchema(t.Elem(), seen))
	}
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		return map[string]any{} // it writes what it likes
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": []string{"string", "null"}, "contentEncoding": "base64"}
		}
		return map[string]any{"type": []string{"array", "null"}, "items": typeSchema(t.Elem(), seen)}
	case reflect.Array:
		return map[string]any{"type": "array", "items": typeSchema(t.Elem(), seen), "minItems": t.Len(), "maxItems": t.Len()}
	case reflect.Map:
		return map[string]any{"type": []string{"object", "null"}, "additionalProperties": typeSchema(t.Elem(), seen)}
	case reflect.Struct:
		if seen[t] {
			return map[string]any{"type": "object"}
		}
		inner := map[reflect.Type]bool{t: true}
		for k := range seen {
			inner[k] = true
		}
		props, required := map[string]any{}, []string{}
		structFields(t, inner, props, &required)
		return object(sortedStrings(required), props)
	}
	return map[string]any{} // chan, func: encoding/json refuses them; say nothing
}

// structFields adds t's JSON fields to props: its own first, then those of embedded structs (a
// shallower field wins, as in encoding/json).
func structFields(t reflect.Type, seen map[reflect.Type]bool, props map[string]any, required *[]string) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := typeSchema(f.Type, seen)
		if strings.Contains(","+opts+",", ",string,") {
			s = map[string]any{"type": "string"}
		}
		props[name] = s
		if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
			*required = append(*required, name)
		}
	}
	for _, et := range embedded {
		sub, subRequired := map[string]any{}, []string{}
		structFields(et, seen, sub, &subRequired)
		for k, v := range sub {
			if _, dup := props[k]; !dup {
				props[k] = v
				if slices.Contains(subRequired, k) {
					*required = append(*required, k)
				}
			}
		}
	}
}

func sortedStrings(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// Small pieces of hand-described bodies (for answers built as maps).
var (
	boolean   = map[string]any{"type": "boolean"}
	anything  = map[string]any{}
	anyObject = map[string]any{"type": "object"}
	dateTime  = map[string]any{"type": "string", "format": "date-time"}
	ok        = props(map[string]any{"ok": boolean})
	statusOf  = props(map[string]any{"status": str})
)

// props is an object whose properties are all required.
func props(p map[string]any) map[string]any {
	required := make([]string, 0, len(p))
	for k := range p {
		required = append(required, k)
	}
	return object(sortedStrings(required), p)
}

// arr is an array of s.
func arr(s map[string]any) map[string]any { return map[string]any{"type": "array", "items": s} }
