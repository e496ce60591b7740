package server

import (
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"shanyu/internal/failure"
)

// bindJSON decodes a JSON body into v, answering a clear 400-class error for anything else, and then
// range-checks every number in it (checkNumbers): a 422 naming the field, never a 500 from the
// database.
func bindJSON(c *fiber.Ctx, v any) error {
	if err := c.BodyParser(v); err != nil {
		return failure.New(failure.Invalid, "error.bad_request").Wrap(err)
	}
	return checkNumbers(v)
}

// Bounds every JSON number must keep unless its field says otherwise with a `max` tag: Go ints are
// stored in PostgreSQL integer columns (positions, sequence numbers, counts, minutes), int64s are
// ids (bigint) and must not be negative, floats are marks and weights.
const (
	maxJSONInt   = math.MaxInt32
	maxJSONFloat = 1e9
)

// checkNumbers walks a decoded body (structs, slices, pointers) and refuses any number out of its
// bounds, naming the field by its JSON name (a nested one as parent.child).
func checkNumbers(v any) error {
	var f failure.Fields
	walkNumbers(reflect.ValueOf(v), "", &f)
	return f.Err()
}

func walkNumbers(v reflect.Value, name string, f *failure.Fields) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkNumbers(v.Elem(), name, f)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			field := strings.Split(sf.Tag.Get("json"), ",")[0]
			if field == "-" {
				continue
			}
			if field == "" {
				field = sf.Name
			}
			if sf.Anonymous {
				field = strings.TrimSuffix(name, ".")
			} else if name != "" {
				field = name + "." + field
			}
			walkNumbers(v.Field(i), field, f)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes (json.RawMessage, base64 data), not numbers
		}
		for i := range v.Len() {
			walkNumbers(v.Index(i), name, f)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
		if n := v.Int(); n > maxJSONInt || n < -maxJSONInt {
			f.Add(name, "error.number_out_of_range", name)
		}
	case reflect.Int64:
		if v.Int() < 0 {
			f.Add(name, "error.number_out_of_range", name)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() > maxJSONInt {
			f.Add(name, "error.number_out_of_range", name)
		}
	case reflect.Float32, reflect.Float64:
		if x := v.Float(); math.IsNaN(x) || x > maxJSONFloat || x < -maxJSONFloat {
			f.Add(name, "error.number_out_of_range", name)
		}
	}
}

// pageParams reads limit and offset query parameters with sane bounds.
func pageParams(c *fiber.Ctx) (limit, offset int) {
	limit, _ = strconv.Atoi(c.Query("limit", "20"))
	offset, _ = strconv.Atoi(c.Query("offset", "0"))
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	return limit, max(offset, 0)
}

// idParam reads a positive integer path parameter.
func idParam(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, failure.New(failure.NotFound, "error.not_found")
	}
	return id, nil
}
