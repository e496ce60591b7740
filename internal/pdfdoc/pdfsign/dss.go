package pdfsign

// Shanyu addition: writing the Document Security Store (DSS) of PAdES B-LT into the signed revision.

import (
	"fmt"
	"strconv"
	"strings"
)

// addDSS writes each certificate, CRL and OCSP response of SignData.DSS as a stream and the DSS
// dictionary that lists them; createCatalog then refers to it.
func (context *SignContext) addDSS() error {
	context.dssObjectId = 0
	d := context.SignData.DSS
	if d == nil || len(d.Certs)+len(d.CRLs)+len(d.OCSPs) == 0 {
		return nil
	}
	streams := func(items [][]byte) (string, error) {
		refs := make([]string, 0, len(items))
		for _, der := range items {
			obj := make([]byte, 0, len(der)+64)
			obj = append(obj, "<< /Length "+strconv.Itoa(len(der))+" >>\nstream\n"...)
			obj = append(obj, der...)
			obj = append(obj, "\nendstream"...)
			id, err := context.addObject(obj)
			if err != nil {
				return "", err
			}
			refs = append(refs, fmt.Sprintf("%d 0 R", id))
		}
		return "[" + strings.Join(refs, " ") + "]", nil
	}
	var dict strings.Builder
	dict.WriteString("<<\n /Type /DSS\n")
	for _, part := range []struct {
		key   string
		items [][]byte
	}{{"Certs", d.Certs}, {"CRLs", d.CRLs}, {"OCSPs", d.OCSPs}} {
		if len(part.items) == 0 {
			continue
		}
		arr, err := streams(part.items)
		if err != nil {
			return err
		}
		dict.WriteString(" /" + part.key + " " + arr + "\n")
	}
	dict.WriteString(">>\n")
	id, err := context.addObject([]byte(dict.String()))
	if err != nil {
		return err
	}
	context.dssObjectId = id
	return nil
}
