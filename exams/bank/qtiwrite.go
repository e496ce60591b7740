package bank

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// keyQTICannotExpress is why an export leaves an item out of a QTI package.
const keyQTICannotExpress = "bank.qti.cannot_express"

const qtiTemplates = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"

// qtiSumOfMaps recognises the response processing a cloze export writes: SCORE set to the sum of
// each gap's mapped response.
func qtiSumOfMaps(rp *qtiNode) bool {
	var set []*qtiNode
	for _, k := range rp.Kids {
		if k.Name != "" {
			set = append(set, k)
		}
	}
	if len(set) != 1 || set[0].Name != "qti-set-outcome-value" || set[0].attr("identifier") != "SCORE" {
		return false
	}
	sum := set[0].child("qti-sum")
	if sum == nil {
		return false
	}
	for _, k := range sum.Kids {
		if k.Name != "" && k.Name != "qti-map-response" {
			return false
		}
	}
	return hasElements(sum)
}

// qtiPositionShare recognises the response processing WriteQTI writes for a partial-credit ordering
// item: SCORE set to 0, then one condition per place adding the same share when the response holds
// the right identifier there. It returns the identifiers by place, nil for anything else.
func qtiPositionShare(rp *qtiNode) []string {
	if rp == nil {
		return nil
	}
	var ids []string
	var share string
	for i, k := range elements(rp) {
		if i == 0 {
			if k.Name != "qti-set-outcome-value" || k.attr("identifier") != "SCORE" || strings.TrimSpace(k.child("qti-base-value").textOrEmpty()) != "0" {
				return nil
			}
			continue
		}
		rif := k.child("qti-response-if")
		if k.Name != "qti-response-condition" || len(elements(k)) != 1 || rif == nil || len(elements(rif)) != 2 {
			return nil
		}
		m, set := elements(rif)[0], elements(rif)[1]
		idx, val := m.child("qti-index"), m.child("qti-base-value")
		if m.Name != "qti-match" || idx == nil || val == nil || idx.attr("n") != strconv.Itoa(i) ||
			idx.child("qti-variable") == nil || idx.child("qti-variable").attr("identifier") != "RESPONSE" {
			return nil
		}
		sum := set.child("qti-sum")
		if set.Name != "qti-set-outcome-value" || set.attr("identifier") != "SCORE" || sum == nil || len(elements(sum)) != 2 ||
			elements(sum)[0].Name != "qti-variable" || elements(sum)[0].attr("identifier") != "SCORE" || elements(sum)[1].Name != "qti-base-value" {
			return nil
		}
		add := strings.TrimSpace(elements(sum)[1].text())
		if share != "" && add != share {
			return nil
		}
		share = add
		ids = append(ids, strings.TrimSpace(val.text()))
	}
	return ids
}

func elements(n *qtiNode) []*qtiNode {
	var out []*qtiNode
	for _, k := range n.Kids {
		if k.Name != "" {
			out = append(out, k)
		}
	}
	return out
}

// WriteQTI writes items as a QTI 3.0 content package: imsmanifest.xml and items/item-N.xml. Items QTI's
// standard response processing cannot express (numbers with a tolerance, practical tasks) are left out
// and listed.
func WriteQTI(w io.Writer, items []Item) ([]Skip, error) {
	skipped := []Skip{}
	zw := zip.NewWriter(w)
	var hrefs []string
	for i, it := range items {
		doc, why := qtiDocument(it, fmt.Sprintf("item-%d", i+1))
		if why != "" {
			skipped = append(skipped, Skip{Element: fmt.Sprintf("item[%d]", i+1), Type: string(it.Type), Reason: keyQTICannotExpress, Detail: why})
			continue
		}
		href := fmt.Sprintf("items/item-%d.xml", i+1)
		f, err := zw.Create(href)
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(f, doc); err != nil {
			return nil, err
		}
		hrefs = append(hrefs, href)
	}
	f, err := zw.Create("imsmanifest.xml")
	if err != nil {
		return nil, err
	}
	var m strings.Builder
	m.WriteString(xml.Header)
	m.WriteString(`<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="shanyu-bank">` + "\n")
	m.WriteString("<metadata><schema>QTI Package</schema><schemaversion>3.0.0</schemaversion></metadata>\n<organizations/>\n<resources>\n")
	for i, h := range hrefs {
		id := strings.TrimSuffix(strings.TrimPrefix(h, "items/"), ".xml")
		fmt.Fprintf(&m, `<resource identifier="%s" type="imsqti_item_xmlv3p0" href="%s"><file href="%s"/></resource>`+"\n", id, h, h)
		_ = i
	}
	m.WriteString("</resources>\n</manifest>\n")
	if _, err := io.WriteString(f, m.String()); err != nil {
		return nil, err
	}
	return skipped, zw.Close()
}

// qx is an XML builder for one item file.
type qx struct{ strings.Builder }

func (b *qx) text(s string) { xml.EscapeText(b, []byte(s)) }

func (b *qx) attr(s string) string {
	var e strings.Builder
	xml.EscapeText(&e, []byte(s))
	return e.String()
}

func qtiNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// content writes a text of the item in its format: plain text escaped, HTML as XHTML.
func (b *qx) content(s string, f TextFormat) {
	if f != HTML {
		b.text(s)
		return
	}
	nodes, err := html.ParseFragment(strings.NewReader(s), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		b.text(s)
		return
	}
	for _, n := range nodes {
		b.xhtml(n)
	}
}

var voidElements = map[string]bool{"br": true, "img": true, "hr": true, "col": true, "wbr": true}

func (b *qx) xhtml(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		b.text(n.Data)
	case html.ElementNode:
		b.WriteString("<" + n.Data)
		for _, a := range n.Attr {
			if a.Namespace == "" && !strings.ContainsAny(a.Key, ":") {
				b.WriteString(" " + a.Key + `="` + b.attr(a.Val) + `"`)
			}
		}
		if voidElements[n.Data] {
			b.WriteString("/>")
			return
		}
		b.WriteString(">")
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.xhtml(c)
		}
		b.WriteString("</" + n.Data + ">")
	}
}

type qtiResp struct {
	id, cardinality, baseType string
	correct                   []string
	mapKeys                   []string
	mapVals                   []float64
	upper                     float64
	caseInsensitive           bool
}

func (b *qx) declare(r qtiResp) {
	fmt.Fprintf(b, `<qti-response-declaration identifier="%s" cardinality="%s" base-type="%s">`, r.id, r.cardinality, r.baseType)
	if len(r.correct) > 0 {
		b.WriteString("<qti-correct-response>")
		for _, v := range r.correct {
			b.WriteString("<qti-value>")
			b.text(v)
			b.WriteString("</qti-value>")
		}
		b.WriteString("</qti-correct-response>")
	}
	if len(r.mapKeys) > 0 {
		fmt.Fprintf(b, `<qti-mapping lower-bound="0" upper-bound="%s" default-value="0">`, qtiNum(r.upper))
		for i, k := range r.mapKeys {
			cs := ""
			if r.caseInsensitive {
				cs = ` case-sensitive="false"`
			}
			fmt.Fprintf(b, `<qti-map-entry map-key="%s" mapped-value="%s"%s/>`, b.attr(k), qtiNum(r.mapVals[i]), cs)
		}
		b.WriteString("</qti-mapping>")
	}
	b.WriteString("</qti-response-declaration>\n")
}

// qtiDocument is an item's QTI file, or why the item cannot be one.
func qtiDocument(it Item, id string) (string, string) {
	if len(it.Images) > 0 {
		return "", "pictures are not yet written into QTI packages"
	}
	var resp []qtiResp
	var body qx
	tmpl := "match_correct"
	stem := func() {
		if it.Format == HTML {
			body.WriteString("<div>")
			body.content(it.Stem, HTML)
			body.WriteString("</div>")
		} else {
			body.WriteString("<p>")
			body.text(it.Stem)
			body.WriteString("</p>")
		}
	}
	switch it.Type {
	case SingleChoice, MultipleChoice, TrueFalse:
		choices, class := it.Choices, ""
		if it.Type == TrueFalse {
			class = ` class="` + qtiTrueFalseClass + `"`
			choices = []Option{{Text: trueText}, {Text: falseText}}
			choices[map[bool]int{true: 0, false: 1}[it.Truth]].Weight = 1
		}
		r := qtiResp{id: "RESPONSE", cardinality: "single", baseType: "identifier", upper: it.Points}
		max := 1
		if it.Type == MultipleChoice {
			r.cardinality, max = "multiple", 0
			if it.Scoring == Partial {
				tmpl = "map_response"
			}
		}
		stem()
		fmt.Fprintf(&body, `<qti-choice-interaction response-identifier="RESPONSE" shuffle="false" max-choices="%d"%s>`, max, class)
		for i, c := range choices {
			cid := "C" + strconv.Itoa(i+1)
			if c.Weight > 0 {
				r.correct = append(r.correct, cid)
			}
			if c.Weight != 0 {
				r.mapKeys, r.mapVals = append(r.mapKeys, cid), append(r.mapVals, c.Weight*it.Points)
			}
			if it.Type == SingleChoice && c.Weight != 0 && c.Weight != 1 {
				tmpl = "map_response"
			}
			fmt.Fprintf(&body, `<qti-simple-choice identifier="%s">`, cid)
			body.content(c.Text, it.Format)
			if c.Feedback != "" {
				fmt.Fprintf(&body, `<qti-feedback-inline outcome-identifier="FEEDBACK" identifier="%s" show-hide="show">`, cid)
				body.text(c.Feedback)
				body.WriteString("</qti-feedback-inline>")
			}
			body.WriteString("</qti-simple-choice>")
		}
		body.WriteString("</qti-choice-interaction>")
		resp = append(resp, r)
	case Matching:
		r := qtiResp{id: "RESPONSE", cardinality: "multiple", baseType: "directedPair"}
		var rights []string
		rid := map[string]string{}
		uses := map[string]int{}
		for _, p := range it.Pairs {
			if _, ok := rid[p.Right]; !ok {
				rid[p.Right] = "R" + strconv.Itoa(len(rights)+1)
				rights = append(rights, p.Right)
			}
			if p.Left != "" {
				uses[p.Right]++
			}
		}
		stem()
		lefts := 0
		var ls qx
		for _, p := range it.Pairs {
			if p.Left == "" {
				continue
			}
			lefts++
			lid := "L" + strconv.Itoa(lefts)
			r.correct = append(r.correct, lid+" "+rid[p.Right])
			fmt.Fprintf(&ls, `<qti-simple-associable-choice identifier="%s" match-max="1">`, lid)
			ls.text(p.Left)
			ls.WriteString("</qti-simple-associable-choice>")
		}
		fmt.Fprintf(&body, `<qti-match-interaction response-identifier="RESPONSE" shuffle="false" max-associations="%d"><qti-simple-match-set>%s</qti-simple-match-set><qti-simple-match-set>`, lefts, ls.String())
		for _, rt := range rights {
			fmt.Fprintf(&body, `<qti-simple-associable-choice identifier="%s" match-max="%d">`, rid[rt], max(uses[rt], 1))
			body.text(rt)
			body.WriteString("</qti-simple-associable-choice>")
		}
		body.WriteString("</qti-simple-match-set></qti-match-interaction>")
		resp = append(resp, r)
	case Ordering:
		// The elements are written in their right order and shuffled by the player; all or nothing is
		// match_correct, the share of elements in place is one condition per place (qtiPositionShare).
		r := qtiResp{id: "RESPONSE", cardinality: "ordered", baseType: "identifier"}
		stem()
		body.WriteString(`<qti-order-interaction response-identifier="RESPONSE" shuffle="true">`)
		for i, e := range it.Sequence {
			cid := "C" + strconv.Itoa(i+1)
			r.correct = append(r.correct, cid)
			fmt.Fprintf(&body, `<qti-simple-choice identifier="%s">`, cid)
			body.text(e)
			body.WriteString("</qti-simple-choice>")
		}
		body.WriteString("</qti-order-interaction>")
		resp = append(resp, r)
		if it.Scoring == Partial {
			tmpl = "position"
		}
	case Essay:
		if len(it.Rubric) > 0 {
			return "", "QTI has no place for an essay's marking rubric"
		}
		tmpl = ""
		stem()
		body.WriteString(`<qti-extended-text-interaction response-identifier="RESPONSE"/>`)
		resp = append(resp, qtiResp{id: "RESPONSE", cardinality: "single", baseType: "string"})
	case Cloze:
		tmpl = "sum"
		parts := gapMarker.Split(it.Stem, -1)
		marks := gapMarker.FindAllStringSubmatch(it.Stem, -1)
		var s strings.Builder
		for i, p := range parts {
			s.WriteString(p)
			if i < len(marks) {
				n, _ := strconv.Atoi(marks[i][1])
				s.WriteString("\ue000" + strconv.Itoa(n) + "\ue001")
			}
		}
		var inner qx
		if it.Format == HTML {
			inner.content(s.String(), HTML)
		} else {
			inner.text(s.String())
		}
		out := inner.String()
		for i, g := range it.Gaps {
			rid := "RESPONSE-" + strconv.Itoa(i+1)
			r := qtiResp{id: rid, cardinality: "single", upper: g.Weight}
			var el string
			switch g.Kind {
			case GapChoice:
				if g.Display != ShowSelect {
					return "", "a choice gap shown as radio buttons has no QTI inline form"
				}
				r.baseType = "identifier"
				el = fmt.Sprintf(`<qti-inline-choice-interaction response-identifier="%s" shuffle="%t">`, rid, g.Shuffle)
				for j, o := range g.Options {
					cid := "G" + strconv.Itoa(i+1) + "C" + strconv.Itoa(j+1)
					if o.Weight == 1 {
						r.correct = append(r.correct, cid)
					}
					r.mapKeys, r.mapVals = append(r.mapKeys, cid), append(r.mapVals, o.Weight*g.Weight)
					el += fmt.Sprintf(`<qti-inline-choice identifier="%s">%s</qti-inline-choice>`, cid, inner.attr(o.Text))
				}
				el += "</qti-inline-choice-interaction>"
			case GapText:
				r.baseType, r.caseInsensitive = "string", !g.CaseSensitive
				for _, o := range g.Options {
					if strings.Contains(o.Text, "*") {
						return "", "a text gap with a * wildcard has no QTI mapping"
					}
					if o.Weight == 1 && len(r.correct) == 0 {
						r.correct = append(r.correct, o.Text)
					}
					r.mapKeys, r.mapVals = append(r.mapKeys, o.Text), append(r.mapVals, o.Weight*g.Weight)
				}
				el = fmt.Sprintf(`<qti-text-entry-interaction response-identifier="%s"/>`, rid)
			case GapNumber:
				r.baseType = "float"
				for _, n := range g.Numbers {
					if n.Tolerance != 0 {
						return "", "a number gap with a tolerance needs custom response processing"
					}
					r.mapKeys, r.mapVals = append(r.mapKeys, qtiNum(n.Value)), append(r.mapVals, n.Weight*g.Weight)
				}
				el = fmt.Sprintf(`<qti-text-entry-interaction response-identifier="%s"/>`, rid)
			default:
				return "", "a multiple-response gap (check boxes in the sentence) has no QTI inline form"
			}
			out = strings.Replace(out, "\ue000"+strconv.Itoa(i+1)+"\ue001", el, 1)
			resp = append(resp, r)
		}
		if strings.ContainsAny(out, "\ue000\ue001") {
			return "", "the gap markers do not match the gaps"
		}
		if it.Format == HTML {
			body.WriteString("<div>" + out + "</div>")
		} else {
			body.WriteString("<p>" + out + "</p>")
		}
	default:
		return "", "QTI's standard response processing cannot express a " + string(it.Type) + " item"
	}
	var b qx
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<qti-assessment-item xmlns="%s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="%s https://purl.imsglobal.org/spec/qti/v3p0/schema/xsd/imsqti_asiv3p0_v1p0.xsd" identifier="%s" title="%s" adaptive="false" time-dependent="false">`+"\n",
		QTINamespace, QTINamespace, id, b.attr(it.Title))
	for _, r := range resp {
		b.declare(r)
	}
	b.WriteString(`<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>` + "\n")
	fmt.Fprintf(&b, `<qti-outcome-declaration identifier="MAXSCORE" cardinality="single" base-type="float"><qti-default-value><qti-value>%s</qti-value></qti-default-value></qti-outcome-declaration>`+"\n", qtiNum(it.Points))
	b.WriteString(`<qti-outcome-declaration identifier="FEEDBACK" cardinality="single" base-type="identifier"/>` + "\n")
	b.WriteString("<qti-item-body>" + body.String() + "</qti-item-body>\n")
	switch tmpl {
	case "match_correct", "map_response":
		fmt.Fprintf(&b, `<qti-response-processing template="%s%s.xml"/>`+"\n", qtiTemplates, tmpl)
	case "sum":
		b.WriteString(`<qti-response-processing><qti-set-outcome-value identifier="SCORE"><qti-sum>`)
		for _, r := range resp {
			fmt.Fprintf(&b, `<qti-map-response identifier="%s"/>`, r.id)
		}
		b.WriteString("</qti-sum></qti-set-outcome-value></qti-response-processing>\n")
	case "position":
		share := qtiNum(it.Points / float64(len(it.Sequence)))
		b.WriteString(`<qti-response-processing><qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">0</qti-base-value></qti-set-outcome-value>`)
		for i, id := range resp[0].correct {
			fmt.Fprintf(&b, `<qti-response-condition><qti-response-if><qti-match><qti-index n="%d"><qti-variable identifier="RESPONSE"/></qti-index>`+
				`<qti-base-value base-type="identifier">%s</qti-base-value></qti-match><qti-set-outcome-value identifier="SCORE"><qti-sum>`+
				`<qti-variable identifier="SCORE"/><qti-base-value base-type="float">%s</qti-base-value></qti-sum></qti-set-outcome-value>`+
				`</qti-response-if></qti-response-condition>`, i+1, id, share)
		}
		b.WriteString("</qti-response-processing>\n")
	}
	if it.Explanation != "" {
		// The explanation is shown once the item is answered, as modal feedback.
		b.WriteString(`<qti-modal-feedback outcome-identifier="FEEDBACK" identifier="EXPLANATION" show-hide="hide"><qti-content-body>`)
		b.text(it.Explanation)
		b.WriteString("</qti-content-body></qti-modal-feedback>\n")
	}
	b.WriteString("</qti-assessment-item>\n")
	return b.String(), ""
}
