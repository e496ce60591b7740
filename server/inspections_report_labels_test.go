package server

import (
	"reflect"
	"strings"
	"testing"
)

// Every word of the inspection report comes from the locales in both languages: no field is empty
// or left as its key, and the maps name the posts, reasons and severities.
func TestInspectionReportLabelsComeFromTheLocales(t *testing.T) {
	t.Parallel()
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	l := inspectionReportLabels(c)
	for lang, w := range map[string]any{"zh-CN": l.ZH, "en": l.EN} {
		v := reflect.ValueOf(w)
		for i := 0; i < v.NumField(); i++ {
			f, name := v.Field(i), v.Type().Field(i).Name
			switch f.Kind() {
			case reflect.String:
				if s := f.String(); s == "" || strings.HasPrefix(s, "audits.") {
					t.Errorf("%s %s: %q", lang, name, s)
				}
			case reflect.Map:
				if f.Len() == 0 {
					t.Errorf("%s %s: empty", lang, name)
				}
			}
		}
	}
	if l.ZH.Title == l.EN.Title || l.ZH.PostNames["caregiver"] == "" || l.EN.Reasons["barred"] == "" || l.ZH.Severities["major"] == "" {
		t.Errorf("labels: %+v", l)
	}
}
