package bank

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"shanyu/internal/limits"
)

// QTI is 1EdTech Question and Test Interoperability 3.0: a content package (a zip with
// imsmanifest.xml and one qti-assessment-item file per question) or a single item file.
const QTI Format = "qti"

// QTINamespace is the namespace of QTI 3.0 assessment items.
const QTINamespace = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"

// Reasons a QTI item is skipped; each is a translation key.
const (
	keyQTIUnsupported = "bank.qti.unsupported" // an interaction or construct the bank has no type for
	keyQTIProcessing  = "bank.qti.processing"  // response processing that is not a standard template
	keyQTINoInteract  = "bank.qti.no_interaction"
	keyQTIResource    = "bank.qti.resource" // a manifest resource whose file is missing or unreadable
)

// qtiZipLimits bound what a content package may inflate: every file is read into memory.
var qtiZipLimits = limits.XLSX{Total: 64 << 20, Part: 4 << 20, Sheet: 4 << 20, Strings: 4 << 20, Entries: MaxItems + 64}

// qtiNode is an element of a QTI file, kept whole because item bodies mix text and elements.
type qtiNode struct {
	Name string
	Attr map[string]string
	Kids []*qtiNode // elements and text nodes in order
	Text string     // a text node when Name is ""
	Line int
}

func (n *qtiNode) attr(k string) string { return n.Attr[k] }

func (n *qtiNode) child(name string) *qtiNode {
	for _, k := range n.Kids {
		if k.Name == name {
			return k
		}
	}
	return nil
}

func (n *qtiNode) children(name string) []*qtiNode {
	var out []*qtiNode
	for _, k := range n.Kids {
		if k.Name == name {
			out = append(out, k)
		}
	}
	return out
}

// text is the node's text content with the elements dropped.
func (n *qtiNode) text() string {
	if n.Name == "" {
		return n.Text
	}
	var b strings.Builder
	for _, k := range n.Kids {
		b.WriteString(k.text())
	}
	return b.String()
}

// parseQTIXML reads one XML file into a tree, refusing DTDs, invalid UTF-8, too deep nesting and too
// long texts.
func parseQTIXML(data []byte, file string) (*qtiNode, error) {
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:invalidUTF8At(data)], []byte("\n"))
		return nil, at(ErrNotUTF8, Place{Line: line, Element: file}, "invalid UTF-8")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var root *qtiNode
	var stack []*qtiNode
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			l, _ := dec.InputPos()
			return nil, at(ErrMalformed, Place{Line: l, Element: file}, err.Error())
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, at(ErrUnsafeXML, Place{Line: line, Element: file}, "DOCTYPE or ENTITY declarations are not allowed")
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, at(ErrMalformed, Place{Line: line, Element: file}, fmt.Sprintf("elements nested deeper than %d", maxXMLDepth))
			}
			n := &qtiNode{Name: t.Name.Local, Attr: map[string]string{}, Line: line}
			for _, a := range t.Attr {
				if len(a.Value) > MaxTextBytes {
					return nil, at(ErrMalformed, Place{Line: line, Element: file}, "attribute too long")
				}
				n.Attr[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, at(ErrMalformed, Place{Line: line, Element: file}, "more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Kids = append(p.Kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			if len(t) > MaxTextBytes {
				return nil, at(ErrMalformed, Place{Line: line, Element: file}, "text too long")
			}
			p := stack[len(stack)-1]
			p.Kids = append(p.Kids, &qtiNode{Text: string(t), Line: line})
		}
	}
	if root == nil {
		return nil, at(ErrMalformed, Place{Line: 1, Element: file}, "no root element")
	}
	return root, nil
}

// ParseQTI reads a QTI 3.0 content package or a single qti-assessment-item file.
func ParseQTI(r io.Reader) (*Result, error) {
	data, err := readLimited(r)
	if err != nil {
		return nil, err
	}
	res := &Result{Format: QTI}
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		root, err := parseQTIXML(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), "")
		if err != nil {
			return nil, err
		}
		if root.Name != "qti-assessment-item" {
			return nil, at(ErrMalformed, Place{Line: root.Line, Element: root.Name}, "the root element must be <qti-assessment-item> or the file a content package")
		}
		res.addQTI(root, Place{Line: root.Line, Element: "qti-assessment-item"})
		return res, nil
	}
	if err := qtiZipLimits.CheckZip(data); err != nil {
		if errors.Is(err, limits.ErrTooLarge) {
			return nil, ErrFileTooLarge.Wrap(err)
		}
		return nil, ErrMalformed.Wrap(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, ErrMalformed.Wrap(err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[path.Clean(f.Name)] = f
	}
	read := func(name string) ([]byte, error) {
		f, ok := files[path.Clean(name)]
		if !ok {
			return nil, fmt.Errorf("%s is not in the package", name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, int64(qtiZipLimits.Part)+1))
	}
	mdata, err := read("imsmanifest.xml")
	if err != nil {
		return nil, at(ErrMalformed, Place{Element: "imsmanifest.xml"}, err.Error())
	}
	manifest, err := parseQTIXML(bytes.TrimPrefix(mdata, []byte("\xef\xbb\xbf")), "imsmanifest.xml")
	if err != nil {
		return nil, err
	}
	resources := manifest.child("resources")
	if manifest.Name != "manifest" || resources == nil {
		return nil, at(ErrMalformed, Place{Element: "imsmanifest.xml"}, "no <manifest> with <resources>")
	}
	for i, rsc := range resources.children("resource") {
		typ := rsc.attr("type")
		if !strings.HasPrefix(typ, "imsqti_item_xmlv3p0") {
			continue // tests, sections, media and stylesheets: the bank keeps items
		}
		href := rsc.attr("href")
		place := Place{Element: href}
		if href == "" {
			place.Element = fmt.Sprintf("resource[%d]", i+1)
		}
		if err := res.full(place); err != nil {
			return nil, err
		}
		b, err := read(path.Join(path.Dir("imsmanifest.xml"), href))
		if err == nil && int64(len(b)) > qtiZipLimits.Part {
			err = errors.New("item file too large")
		}
		var root *qtiNode
		if err == nil {
			root, err = parseQTIXML(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), href)
		}
		if err == nil && root.Name != "qti-assessment-item" {
			err = errors.New("the root element is not <qti-assessment-item>")
		}
		if err != nil {
			res.add(Item{}, place, Problem{Key: keyQTIResource, Detail: clip(err.Error())})
			res.typed(typ)
			continue
		}
		place.Line = root.Line
		res.addQTI(root, place)
	}
	if len(res.Entries) == 0 {
		return nil, ErrEmptyFile
	}
	return res, nil
}

// addQTI turns one qti-assessment-item into an entry.
func (r *Result) addQTI(root *qtiNode, place Place) {
	it, kind, problem := qtiItem(root)
	if problem != nil {
		r.add(it, place, *problem)
	} else {
		r.add(it, place)
	}
	r.typed(kind)
}

// qtiDecl is a response declaration: the correct response and the mapping of values to scores.
type qtiDecl struct {
	baseType, cardinality string
	correct               []string
	mapping               map[string]float64
	mapOrder              []string
	mapped                bool
	lower, upper          *float64
	deflt                 float64
	caseInsensitive       bool
}

func qtiDecls(root *qtiNode) map[string]*qtiDecl {
	out := map[string]*qtiDecl{}
	for _, d := range root.children("qti-response-declaration") {
		rd := &qtiDecl{baseType: d.attr("base-type"), cardinality: d.attr("cardinality"), mapping: map[string]float64{}}
		if c := d.child("qti-correct-response"); c != nil {
			for _, v := range c.children("qti-value") {
				rd.correct = append(rd.correct, strings.TrimSpace(v.text()))
			}
		}
		if m := d.child("qti-mapping"); m != nil {
			rd.mapped = true
			rd.lower, rd.upper = qtiFloat(m.attr("lower-bound")), qtiFloat(m.attr("upper-bound"))
			if v := qtiFloat(m.attr("default-value")); v != nil {
				rd.deflt = *v
			}
			for _, e := range m.children("qti-map-entry") {
				k := strings.TrimSpace(e.attr("map-key"))
				rd.caseInsensitive = rd.caseInsensitive || e.attr("case-sensitive") == "false"
				if v := qtiFloat(e.attr("mapped-value")); v != nil {
					if _, dup := rd.mapping[k]; !dup {
						rd.mapOrder = append(rd.mapOrder, k)
					}
					rd.mapping[k] = *v
				}
			}
		}
		out[d.attr("identifier")] = rd
	}
	return out
}

func qtiFloat(s string) *float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// value is what a response value earns under the declaration, as a fraction of max.
func (d *qtiDecl) weight(v string, max float64) float64 {
	if d.mapped {
		w, ok := d.mapping[v]
		if !ok {
			w = d.deflt
		}
		return roundWeight(clampWeight(w / max))
	}
	for _, c := range d.correct {
		if c == v {
			return 1
		}
	}
	return 0
}

func clampWeight(w float64) float64 { return math.Max(-1, math.Min(1, w)) }

// qtiInteractions the bank has a type for; all other qti-*-interaction elements are skipped by name.
var qtiBlock = map[string]bool{"qti-choice-interaction": true, "qti-extended-text-interaction": true, "qti-match-interaction": true,
	"qti-order-interaction": true}
var qtiInline = map[string]bool{"qti-text-entry-interaction": true, "qti-inline-choice-interaction": true}

// qtiItem reads an item; kind names what it was (its interactions) for the skipped list.
func qtiItem(root *qtiNode) (it Item, kind string, problem *Problem) {
	it.Title = clip(strings.TrimSpace(root.attr("title")))
	it.Points = 1
	for _, f := range root.children("qti-modal-feedback") {
		if f.attr("identifier") == "EXPLANATION" {
			it.Explanation = strings.TrimSpace(f.text())
		}
	}
	decls := qtiDecls(root)
	for _, o := range root.children("qti-outcome-declaration") {
		if o.attr("identifier") == "MAXSCORE" {
			if d := o.child("qti-default-value"); d != nil {
				if v := qtiFloat(d.child("qti-value").textOrEmpty()); v != nil && *v > 0 {
					it.Points = *v
				}
			}
		}
	}
	body := root.child("qti-item-body")
	if body == nil {
		return it, "qti-assessment-item", &Problem{Key: keyQTINoInteract, Detail: "no qti-item-body"}
	}
	// Find the interactions; anything else named *-interaction is unsupported.
	var blocks, inlines []*qtiNode
	var unknown string
	var walk func(n *qtiNode)
	walk = func(n *qtiNode) {
		for _, k := range n.Kids {
			switch {
			case qtiBlock[k.Name]:
				blocks = append(blocks, k)
			case qtiInline[k.Name]:
				inlines = append(inlines, k)
			case strings.HasSuffix(k.Name, "-interaction") || k.Name == "qti-portable-custom-interaction" || k.Name == "qti-custom-interaction":
				if unknown == "" {
					unknown = k.Name
				}
			default:
				walk(k)
			}
		}
	}
	walk(body)
	kind = qtiKind(blocks, inlines, unknown)
	it.Stem, it.Format = qtiStem(body)
	if unknown != "" {
		return it, kind, &Problem{Key: keyQTIUnsupported, Detail: unknown + " is not supported"}
	}
	if len(blocks)+len(inlines) == 0 {
		return it, kind, &Problem{Key: keyQTINoInteract, Detail: "the item has no interaction"}
	}
	if len(blocks) > 1 || (len(blocks) == 1 && len(inlines) > 0) {
		return it, kind, &Problem{Key: keyQTIUnsupported, Detail: "more than one interaction outside a sentence (composite item)"}
	}
	tmpl := ""
	if rp := root.child("qti-response-processing"); rp != nil {
		t := rp.attr("template")
		switch {
		case strings.HasSuffix(t, "match_correct") || strings.HasSuffix(t, "match_correct.xml"):
			tmpl = "match_correct"
		case strings.HasSuffix(t, "map_response") || strings.HasSuffix(t, "map_response.xml"):
			tmpl = "map_response"
		case strings.HasSuffix(t, "map_response_point") || strings.HasSuffix(t, "map_response_point.xml"):
			return it, kind, &Problem{Key: keyQTIProcessing, Detail: "map_response_point needs a graphic interaction, which is not supported"}
		case t == "" && qtiSumOfMaps(rp):
			tmpl = "map_response"
		case t == "" && qtiPositionShare(rp) != nil:
			tmpl = "position"
		case t == "" && hasElements(rp):
			return it, kind, &Problem{Key: keyQTIProcessing, Detail: "custom response processing is not supported; use a standard template"}
		default:
			if t != "" {
				return it, kind, &Problem{Key: keyQTIProcessing, Detail: "response processing template " + clip(t) + " is not supported"}
			}
		}
	}
	if len(inlines) > 0 {
		return qtiCloze(it, body, inlines, decls, tmpl, kind)
	}
	in := blocks[0]
	d := decls[in.attr("response-identifier")]
	if d == nil && in.Name != "qti-extended-text-interaction" {
		return it, kind, &Problem{Key: keyQTIProcessing, Detail: "no response declaration for " + in.attr("response-identifier")}
	}
	if tmpl == "position" && in.Name != "qti-order-interaction" {
		return it, kind, &Problem{Key: keyQTIProcessing, Detail: "custom response processing is not supported; use a standard template"}
	}
	if tmpl == "map_response" && d != nil && !d.mapped && in.Name != "qti-order-interaction" {
		return it, kind, &Problem{Key: keyQTIProcessing, Detail: "map_response without a qti-mapping"}
	}
	if p := in.child("qti-prompt"); p != nil {
		ps, pf := qtiStem(p)
		it.Stem, it.Format = joinStem(it.Stem, it.Format, ps, pf)
	}
	switch in.Name {
	case "qti-extended-text-interaction":
		it.Type = Essay
	case "qti-choice-interaction":
		max, _ := strconv.Atoi(in.attr("max-choices"))
		it.Type = SingleChoice
		if max != 1 {
			it.Type, it.Scoring = MultipleChoice, AllOrNothing
			if tmpl == "map_response" {
				it.Scoring = Partial
			}
		}
		if in.attr("class") == qtiTrueFalseClass && it.Type == SingleChoice {
			defer func() { qtiTrueFalse(&it) }()
		}
		if tmpl == "map_response" && d.upper != nil && *d.upper > 0 {
			it.Points = *d.upper
		}
		for _, c := range in.children("qti-simple-choice") {
			text, f := qtiChoiceText(c)
			if f == HTML && it.Format == Plain {
				it.Format = HTML
			}
			o := Option{Text: text, Weight: d.weight(c.attr("identifier"), it.Points)}
			if fb := c.child("qti-feedback-inline"); fb != nil {
				o.Feedback = strings.TrimSpace(fb.text())
			}
			it.Choices = append(it.Choices, o)
		}
	case "qti-order-interaction":
		if p := qtiOrder(&it, in, d, tmpl, root.child("qti-response-processing")); p != nil {
			return it, kind, p
		}
	case "qti-match-interaction":
		it.Type = Matching
		sets := in.children("qti-simple-match-set")
		if len(sets) != 2 {
			return it, kind, &Problem{Key: keyQTIUnsupported, Detail: "a match interaction needs two qti-simple-match-set"}
		}
		text := func(set *qtiNode) (ids []string, texts map[string]string) {
			texts = map[string]string{}
			for _, c := range set.children("qti-simple-associable-choice") {
				ids = append(ids, c.attr("identifier"))
				texts[c.attr("identifier")] = strings.TrimSpace(c.text())
			}
			return
		}
		lids, lt := text(sets[0])
		rids, rt := text(sets[1])
		pairs := d.correct
		if tmpl == "map_response" {
			pairs = nil
			for _, k := range d.mapOrder {
				if d.mapping[k] > 0 {
					pairs = append(pairs, k)
				}
			}
		}
		matched := map[string]string{}
		used := map[string]bool{}
		for _, p := range pairs {
			f := strings.Fields(p)
			if len(f) == 2 && matched[f[0]] == "" {
				matched[f[0]] = f[1]
			}
		}
		for _, l := range lids {
			if r, ok := matched[l]; ok {
				it.Pairs = append(it.Pairs, Pair{Left: lt[l], Right: rt[r]})
				used[r] = true
			}
		}
		for _, r := range rids {
			if !used[r] {
				it.Pairs = append(it.Pairs, Pair{Right: rt[r]})
			}
		}
	}
	return it, kind, nil
}

// qtiOrder reads an order interaction as an ordering item: its simple choices put in the order of the
// correct response. match_correct (or no processing) is all or nothing. map_response maps each
// identifier whatever its place, which does not grade an order, so it is read as the bank's partial
// credit: the share of elements in their right place. That share is what the processing WriteQTI
// writes for a partial-credit item (see qtiPositionShare), which comes back the same.
func qtiOrder(it *Item, in *qtiNode, d *qtiDecl, tmpl string, rp *qtiNode) *Problem {
	it.Type, it.Scoring = Ordering, AllOrNothing
	if d.cardinality != "ordered" {
		return &Problem{Key: keyQTIProcessing, Detail: "an order interaction needs a response declaration with cardinality ordered"}
	}
	choices := in.children("qti-simple-choice")
	if mn, mx := in.attr("min-choices"), in.attr("max-choices"); (mn != "" && mn != "0" && mn != strconv.Itoa(len(choices))) ||
		(mx != "" && mx != "0" && mx != strconv.Itoa(len(choices))) {
		return &Problem{Key: keyQTIUnsupported, Detail: "qti-order-interaction with min-choices or max-choices (ordering a subset) is not supported"}
	}
	texts := map[string]string{}
	for _, c := range choices {
		texts[c.attr("identifier")] = strings.TrimSpace(c.text())
	}
	for _, id := range d.correct {
		t, ok := texts[id]
		if !ok {
			return &Problem{Key: keyQTIProcessing, Detail: "the correct order names " + clip(id) + ", which is not a choice"}
		}
		delete(texts, id)
		it.Sequence = append(it.Sequence, t)
	}
	if len(texts) > 0 || len(d.correct) == 0 {
		return &Problem{Key: keyQTIProcessing, Detail: "the correct response must put every choice in order, once"}
	}
	switch tmpl {
	case "map_response":
		it.Scoring = Partial
		if d.upper != nil && *d.upper > 0 {
			it.Points = *d.upper
		}
	case "position":
		if ids := qtiPositionShare(rp); len(ids) != len(d.correct) || strings.Join(ids, " ") != strings.Join(d.correct, " ") {
			return &Problem{Key: keyQTIProcessing, Detail: "custom response processing is not supported; use a standard template"}
		}
		it.Scoring = Partial
	}
	return nil
}

func (n *qtiNode) textOrEmpty() string {
	if n == nil {
		return ""
	}
	return n.text()
}

func hasElements(n *qtiNode) bool {
	for _, k := range n.Kids {
		if k.Name != "" {
			return true
		}
	}
	return false
}

// qtiTrueFalseClass marks the choice interaction of a true/false question so that it comes back as one.
const qtiTrueFalseClass = "shanyu-true-false"

func qtiTrueFalse(it *Item) {
	if len(it.Choices) == 2 && it.Choices[0].Text == trueText && it.Choices[1].Text == falseText {
		it.Type, it.Truth, it.Choices = TrueFalse, it.Choices[0].Weight > 0, nil
	}
}

const (
	trueText  = "正确"
	falseText = "错误"
)

func qtiKind(blocks, inlines []*qtiNode, unknown string) string {
	var names []string
	seen := map[string]bool{}
	for _, n := range append(append([]*qtiNode{}, blocks...), inlines...) {
		if !seen[n.Name] {
			seen[n.Name] = true
			names = append(names, n.Name)
		}
	}
	if unknown != "" && !seen[unknown] {
		names = append(names, unknown)
	}
	if len(names) == 0 {
		return "qti-assessment-item"
	}
	return strings.Join(names, "+")
}

// qtiCloze reads text entries and inline choices in the body's sentences as a cloze item.
func qtiCloze(it Item, body *qtiNode, inlines []*qtiNode, decls map[string]*qtiDecl, tmpl, kind string) (Item, string, *Problem) {
	it.Type = Cloze
	for _, in := range inlines {
		d := decls[in.attr("response-identifier")]
		if d == nil {
			return it, kind, &Problem{Key: keyQTIProcessing, Detail: "no response declaration for " + in.attr("response-identifier")}
		}
		g := Gap{Weight: 1}
		max := 1.0
		if d.mapped && d.upper != nil && *d.upper > 0 {
			max = *d.upper
		}
		if tmpl == "map_response" && d.mapped {
			// The gap's weight is what it can earn.
			g.Weight = max
		}
		if w := qtiFloat(in.attr("data-weight")); w != nil && *w > 0 && *w <= maxGapWeight {
			g.Weight = *w
		}
		switch in.Name {
		case "qti-inline-choice-interaction":
			g.Kind, g.Display, g.Shuffle = GapChoice, ShowSelect, in.attr("shuffle") == "true"
			for _, c := range in.children("qti-inline-choice") {
				g.Options = append(g.Options, Option{Text: strings.TrimSpace(c.text()), Weight: d.weight(c.attr("identifier"), max)})
			}
		default:
			if d.baseType == "float" || d.baseType == "integer" {
				g.Kind = GapNumber
				if d.mapped {
					for _, k := range d.mapOrder {
						if f := qtiFloat(k); f != nil {
							g.Numbers = append(g.Numbers, NumericAnswer{Value: *f, Weight: roundWeight(clampWeight(d.mapping[k] / max))})
						}
					}
					break
				}
				for _, v := range d.correct {
					if f := qtiFloat(v); f != nil {
						g.Numbers = append(g.Numbers, NumericAnswer{Value: *f, Weight: 1})
					}
				}
				break
			}
			g.Kind = GapText
			if d.mapped {
				for _, k := range d.mapOrder {
					g.Options = append(g.Options, Option{Text: k, Weight: roundWeight(clampWeight(d.mapping[k] / max))})
				}
				g.CaseSensitive = !d.caseInsensitive
			} else {
				g.CaseSensitive = true
				for _, v := range d.correct {
					g.Options = append(g.Options, Option{Text: v, Weight: 1})
				}
			}
		}
		it.Gaps = append(it.Gaps, g)
	}
	return it, kind, nil
}

// qtiSkipInBody are body elements that are not part of the question's text.
var qtiSkipInBody = map[string]bool{"qti-rubric-block": true, "qti-modal-feedback": true, "qti-feedback-block": true,
	"qti-feedback-inline": true, "qti-prompt": true}

// qtiStem is the text of a body or prompt with each inline interaction replaced by its gap marker:
// plain when it is a single paragraph of text, otherwise sanitised HTML.
func qtiStem(n *qtiNode) (string, TextFormat) {
	var content []*qtiNode
	for _, k := range n.Kids {
		if (k.Name == "" && strings.TrimSpace(k.Text) == "") || qtiBlock[k.Name] || qtiSkipInBody[k.Name] {
			continue
		}
		content = append(content, k)
	}
	gap := 0
	plain := func(ks []*qtiNode) (string, bool) {
		var b strings.Builder
		for _, k := range ks {
			switch {
			case k.Name == "":
				b.WriteString(k.Text)
			case qtiInline[k.Name]:
				b.WriteString(GapMarker(gap))
				gap++
			default:
				return "", false
			}
		}
		return b.String(), true
	}
	if len(content) == 1 && content[0].Name == "p" && len(content[0].Attr) == 0 {
		if s, ok := plain(content[0].Kids); ok {
			return strings.TrimSpace(s), Plain
		}
	}
	gap = 0
	if s, ok := plain(content); ok && n.Name == "qti-prompt" {
		return strings.TrimSpace(s), Plain
	}
	if len(content) == 1 && content[0].Name == "div" && len(content[0].Attr) == 0 && n.Name != "div" {
		// The export wraps an HTML text in one <div>.
		return qtiStem(content[0])
	}
	gap = 0
	var b strings.Builder
	var write func(k *qtiNode)
	write = func(k *qtiNode) {
		switch {
		case k.Name == "":
			xml.EscapeText(&b, []byte(k.Text))
		case qtiInline[k.Name]:
			b.WriteString(GapMarker(gap))
			gap++
		case qtiBlock[k.Name] || qtiSkipInBody[k.Name]:
		default:
			b.WriteString("<" + k.Name)
			for a, v := range k.Attr {
				b.WriteString(" " + a + `="`)
				xml.EscapeText(&b, []byte(v))
				b.WriteString(`"`)
			}
			b.WriteString(">")
			for _, c := range k.Kids {
				write(c)
			}
			b.WriteString("</" + k.Name + ">")
		}
	}
	for _, k := range content {
		write(k)
	}
	return SanitizeHTML(b.String()), HTML
}

// joinStem adds a prompt to the text before an interaction.
func joinStem(s string, f TextFormat, p string, pf TextFormat) (string, TextFormat) {
	switch {
	case p == "":
		return s, f
	case s == "":
		return p, pf
	case f == Plain && pf == Plain:
		return s + "\n" + p, Plain
	}
	esc := func(t string, tf TextFormat) string {
		if tf == HTML {
			return t
		}
		var b strings.Builder
		xml.EscapeText(&b, []byte(t))
		return "<p>" + b.String() + "</p>"
	}
	return SanitizeHTML(esc(s, f) + esc(p, pf)), HTML
}

// qtiChoiceText is a choice's text without its inline feedback.
func qtiChoiceText(c *qtiNode) (string, TextFormat) {
	cp := *c
	cp.Kids = nil
	for _, k := range c.Kids {
		if k.Name != "qti-feedback-inline" {
			cp.Kids = append(cp.Kids, k)
		}
	}
	if !hasElements(&cp) {
		return strings.TrimSpace(cp.text()), Plain
	}
	s, _ := qtiStem(&qtiNode{Name: "qti-prompt", Kids: []*qtiNode{{Name: "div", Attr: map[string]string{}, Kids: cp.Kids}}})
	return s, HTML
}

// isQTIPackage reports a zip whose directory holds imsmanifest.xml at its root.
func isQTIPackage(data []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		if f.Name == "imsmanifest.xml" {
			return true
		}
	}
	return false
}

// isQTIItem reports an XML file whose root element is qti-assessment-item.
func isQTIItem(text []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(text))
	for i := 0; i < 64; i++ {
		tok, err := dec.RawToken()
		if err != nil {
			return false
		}
		if s, ok := tok.(xml.StartElement); ok {
			return s.Name.Local == "qti-assessment-item"
		}
	}
	return false
}
