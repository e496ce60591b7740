package audits

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jung-kurt/gofpdf"

	"shanyu/accounts"
	"shanyu/internal/clock"
	"shanyu/internal/failure"
	"shanyu/internal/pdfdoc"
	"shanyu/internal/pg"
)

// ReportTools is what the inspection report needs to be printed and signed: the font certificates
// print with and the PDF signer they are signed with (both pdfdoc plumbing). app wires the
// certificates service in, which offers both; audits imports no other domain.
type ReportTools interface {
	ReportFont() (*pdfdoc.Font, error)
	ReportSigner(ctx context.Context) (*pdfdoc.PDFSigner, error)
}

// ErrNoReport: the inspection is not finished, so there is no report yet.
var ErrNoReport = failure.New(failure.NotFound, "audits.report_not_ready")

// InspectionReport is a stored, signed report PDF.
type InspectionReport struct {
	InspectionID int64
	PDF          []byte
	SHA256       [32]byte
	CreatedAt    time.Time
}

// reportOnFinish makes the report of a just finished inspection; a failure is logged and the report
// is made on its first download instead, as it is when this service makes none (Deps.ReportsElsewhere).
func (s *Service) reportOnFinish(ctx context.Context, inspectionID int64) {
	if s.reportsElsewhere {
		return
	}
	if _, err := s.InspectionReportPDF(ctx, inspectionID); err != nil {
		s.log.Error("inspection report", "inspection", inspectionID, "err", err)
	}
}

// InspectionReportPDF returns the signed report of a finished inspection, making and storing it the
// first time.
func (s *Service) InspectionReportPDF(ctx context.Context, inspectionID int64) (InspectionReport, error) {
	rep := InspectionReport{InspectionID: inspectionID}
	var sum []byte
	err := s.db.QueryRow(ctx, `SELECT pdf, sha256, created_at FROM audit_inspection_reports WHERE inspection_id = $1`, inspectionID).Scan(&rep.PDF, &sum, &rep.CreatedAt)
	if err == nil {
		copy(rep.SHA256[:], sum)
		return rep, nil
	}
	if !pg.IsNoRows(err) {
		return rep, err
	}
	x, err := s.Inspection(ctx, inspectionID)
	if err != nil {
		return rep, err
	}
	if x.Status != "finished" || x.FinishedAt == nil {
		return rep, ErrNoReport
	}
	if s.reportsElsewhere {
		return rep, errReportsElsewhere
	}
	font, err := s.tools.ReportFont()
	if err != nil {
		return rep, err
	}
	signer, err := s.tools.ReportSigner(ctx)
	if err != nil {
		return rep, err
	}
	labels := s.reportLabels.Load()
	data, err := s.reportData(ctx, x)
	if err != nil {
		return rep, err
	}
	un, err := RenderReport(font, data, *labels)
	if err != nil {
		return rep, err
	}
	signed, err := signer.SignPDF(ctx, un, *x.FinishedAt)
	if err != nil {
		return rep, err
	}
	rep.PDF, rep.SHA256 = signed, sha256.Sum256(signed)
	err = pg.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO audit_inspection_reports (inspection_id, pdf, sha256) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			inspectionID, rep.PDF, rep.SHA256[:])
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return s.auditReport(ctx, tx, inspectionID, rep.SHA256)
	})
	if err != nil {
		return rep, err
	}
	// A concurrent maker may have stored its own first: hand out the stored one.
	err = s.db.QueryRow(ctx, `SELECT pdf, sha256, created_at FROM audit_inspection_reports WHERE inspection_id = $1`, inspectionID).Scan(&rep.PDF, &sum, &rep.CreatedAt)
	copy(rep.SHA256[:], sum)
	return rep, err
}

// ReportData is everything printed on an inspection report: the assessment frozen by the first
// signature, and who signed.
type ReportData struct {
	InspectionID  int64
	RoundName     string
	Institution   string
	InstitutionEN string
	Code          string
	SignedAt      time.Time // the moment of the snapshot
	FinishedAt    time.Time
	Inspectors    []string
	A             Assessment
	Photos        map[int64][]PhotoFile // by finding
}

func (s *Service) reportData(ctx context.Context, x Inspection) (ReportData, error) {
	d := ReportData{InspectionID: x.ID, RoundName: x.RoundName, FinishedAt: *x.FinishedAt}
	if x.Snapshot == nil {
		return d, ErrNoReport
	}
	d.A, d.SignedAt = *x.Snapshot, x.Snapshot.At
	o, err := s.accounts.OrganisationByID(ctx, x.OrganisationID)
	if err != nil {
		return d, err
	}
	d.Institution, d.InstitutionEN, d.Code = o.Name, o.NameEN, o.Code
	if d.Photos, err = s.inspectionPhotos(ctx, s.db, x.ID); err != nil {
		return d, err
	}
	for _, sg := range x.Inspectors {
		u, err := s.accounts.UserByID(ctx, sg.UserID)
		if err != nil {
			return d, err
		}
		d.Inspectors = append(d.Inspectors, u.Name)
	}
	return d, nil
}

// ReportWords are one language's words on the inspection report. The caller (the server, from its
// locales) supplies them; the report prints Chinese and English side by side. Formats take the
// verbs noted.
type ReportWords struct {
	Title, InspectionNo                          string // InspectionNo: the number follows
	Institution, Code, Date, Inspectors          string
	Posts, None, UnknownCodes                    string // UnknownCodes: the count follows
	Classes, WithinRatio, Children, Caregivers   string
	OverSize, UnderStaffed                       string // %d: the maximum size; the caregivers needed
	Findings, Photos, PhotoNotPrinted            string
	Result, Passed, NotPassed                    string
	StaffChecked, PostsQualified, ClassesCounted string
	Qualified, NotQualified, Footer              string
	PostNames, Groups, Reasons, Severities       map[string]string
	Explain                                      ExplainWords
	Absent                                       string // %s: the reason
	NotScanned                                   string
	Snapshot                                     string            // %s: the moment the first signature froze
	Observed, Rule                               string            // %s: a ratio "1:n"
	CertStates                                   map[string]string // valid, expired, suspended, revoked
	CertProblems                                 string
	NotIssuedHere                                string
	Faults                                       map[string]string
	MissingPosts                                 string
	HomePoint                                    string // %d: the most children a home point may take
	CheckKinds, CheckIssues                      map[string]string
	Times                                        clock.Formatter // dates and times in this language
}

// ReportLabels are the report's words in Chinese and in English.
type ReportLabels struct{ ZH, EN ReportWords }

// errReportsElsewhere: this service was built to make no report (Deps.ReportsElsewhere); the
// server's service makes it on the first download.
var errReportsElsewhere = errors.New("inspection report: this service makes no reports (Deps.ReportsElsewhere)")

// both prints a label in Chinese, then in English.
func (l ReportLabels) both(f func(ReportWords) string) string {
	zh, en := f(l.ZH), f(l.EN)
	if zh == en {
		return zh
	}
	return zh + " " + en
}

func lookup(m map[string]string, k string) string {
	if v, ok := m[k]; ok && v != "" {
		return v
	}
	return k
}

// Explain is a decision in words, in Chinese then in English: what the post requires, what the
// person holds and what is missing (a barred person's record itself is never printed, nor any
// policy line).
func (l ReportLabels) Explain(d Decision) string {
	verdict := l.both(func(w ReportWords) string { return w.NotQualified })
	if d.Qualified {
		verdict = l.both(func(w ReportWords) string { return w.Qualified })
	}
	zh := l.ZH.Explain.Sentence(lookup(l.ZH.PostNames, d.Post), d, l.ZH.Reasons)
	en := l.EN.Explain.Sentence(lookup(l.EN.PostNames, d.Post), d, l.EN.Reasons)
	return verdict + " — " + zh + " / " + en
}

// CertLine is a certificate as a report prints it: number, status in words with reason and date, and
// whether this platform issued it.
func (l ReportLabels) CertLine(c Cert, on time.Time) string {
	st := c.StateOn(on)
	out := c.Number + " · " + l.both(func(w ReportWords) string { return lookup(w.CertStates, st) })
	if st != CertValid {
		if c.StatusReason != "" {
			out += " · " + c.StatusReason
		}
		if !c.StatusChangedAt.IsZero() {
			out += " · " + clock.Format(c.StatusChangedAt, "2006-01-02")
		} else if st == CertExpired && !c.ExpiresOn.IsZero() {
			out += " · " + c.ExpiresOn.Format("2006-01-02")
		}
	}
	if !c.Verified {
		out += " · " + l.both(func(w ReportWords) string { return w.NotIssuedHere })
	}
	return out
}

// reportWriter lays lines out on A4 portrait pages, wrapping and breaking pages.
type reportWriter struct {
	pdf *gofpdf.Fpdf
	tw  *pdfdoc.Page
	y   float64
}

const (
	repLeft, repRight, repTop, repBottom = 18.0, 192.0, 20.0, 282.0
)

func (w *reportWriter) line(s string, pt, indent float64) {
	w.tw.Size(pt)
	lh := pt * 0.5
	for _, l := range w.wrap(s, repRight-repLeft-indent) {
		if w.y+lh > repBottom {
			w.pdf.AddPage()
			w.y = repTop
			w.tw.Size(pt)
		}
		w.y += lh
		w.tw.Text(repLeft+indent, w.y, l)
	}
	w.y += pt * 0.12
}

func (w *reportWriter) wrap(s string, width float64) []string {
	var out []string
	var cur []rune
	for _, r := range s {
		cur = append(cur, r)
		if w.tw.Width(string(cur)) > width && len(cur) > 1 {
			out = append(out, string(cur[:len(cur)-1]))
			cur = []rune{r}
		}
	}
	return append(out, string(cur))
}

func (w *reportWriter) heading(s string) {
	w.y += 3
	w.tw.Ink([3]int{142, 27, 31})
	w.line(s, 12.5, 0)
	w.pdf.SetDrawColor(178, 142, 66)
	w.pdf.SetLineWidth(0.3)
	w.pdf.Line(repLeft, w.y+0.5, repRight, w.y+0.5)
	w.y += 2
	w.tw.Ink([3]int{34, 30, 28})
}

// reportLine is a line of the report: text at a size (0: a heading), or a row of photos.
type reportLine struct {
	pt, indent float64
	text       string
	photos     []PhotoFile
}

// reportLines is the report, line by line, in both languages, all from the frozen assessment.
func reportLines(d ReportData, l ReportLabels) []reportLine {
	var out []reportLine
	add := func(pt, indent float64, s string) { out = append(out, reportLine{pt: pt, indent: indent, text: s}) }
	b := l.both
	head := func(f func(ReportWords) string) { add(0, 0, b(f)) }
	a := d.A
	add(18, 0, l.ZH.Title)
	add(12, 0, l.EN.Title)
	add(10, 0, fmt.Sprintf("%s %d · %s", b(func(w ReportWords) string { return w.InspectionNo }), d.InspectionID, d.RoundName))
	head(func(w ReportWords) string { return w.Institution })
	add(10.5, 0, d.Institution)
	if d.InstitutionEN != "" {
		add(10, 0, d.InstitutionEN)
	}
	add(10, 0, b(func(w ReportWords) string { return w.Code })+": "+d.Code)
	if a.Kind == KindHomePoint {
		add(10, 0, b(func(w ReportWords) string { return fmt.Sprintf(w.HomePoint, a.Capacity) }))
	}
	add(10, 0, fmt.Sprintf("%s: %s · %s", b(func(w ReportWords) string { return w.Date }), l.ZH.Times.Day(d.FinishedAt), l.EN.Times.Day(d.FinishedAt)))
	add(10, 0, b(func(w ReportWords) string { return w.Inspectors })+": "+strings.Join(d.Inspectors, "、"))
	add(9, 0, b(func(w ReportWords) string { return fmt.Sprintf(w.Snapshot, w.Times.DateTime(d.SignedAt)) }))
	none := b(func(w ReportWords) string { return w.None })
	head(func(w ReportWords) string { return w.Posts })
	if len(a.People) == 0 {
		add(10, 0, none)
	}
	for _, p := range a.People {
		line := p.Name
		switch {
		case p.Scanned:
			for _, c := range p.Presented {
				line += " · " + l.CertLine(c, a.At)
			}
		case p.Absent:
			line += " · " + b(func(w ReportWords) string { return fmt.Sprintf(w.Absent, p.AbsentReason) })
		default:
			line += " · " + b(func(w ReportWords) string { return w.NotScanned })
		}
		add(10, 0, line)
		for _, ci := range p.CheckIssues {
			add(9, 6, b(func(w ReportWords) string {
				line := lookup(w.CheckKinds, ci.Kind) + ": " + lookup(w.CheckIssues, ci.Reason)
				if !ci.On.IsZero() {
					line += " (" + ci.On.Format("2006-01-02") + ")"
				}
				if ci.Required {
					line += " · " + lookup(w.CheckIssues, "required_by_post")
				}
				return line
			}))
		}
		for _, pc := range p.Posts {
			post := b(func(w ReportWords) string { return lookup(w.PostNames, pc.Post) })
			if pc.ClassName != "" {
				post += "（" + pc.ClassName + "）"
			}
			add(9, 6, post+": "+l.Explain(pc.Decision))
		}
	}
	if len(a.MissingPosts) > 0 {
		var names []string
		for _, p := range a.MissingPosts {
			names = append(names, b(func(w ReportWords) string { return lookup(w.PostNames, p) }))
		}
		add(10, 0, b(func(w ReportWords) string { return w.MissingPosts })+": "+strings.Join(names, "、"))
	}
	if len(a.Unknown) > 0 {
		add(10, 0, fmt.Sprintf("%s: %d", b(func(w ReportWords) string { return w.UnknownCodes }), len(a.Unknown)))
		for _, u := range a.Unknown {
			if u.Cert != nil {
				add(9, 6, l.CertLine(*u.Cert, a.At))
			} else {
				add(9, 6, u.Code)
			}
		}
	}
	if len(a.CertProblems) > 0 {
		head(func(w ReportWords) string { return w.CertProblems })
		for _, cp := range a.CertProblems {
			add(10, 0, cp.Name+" · "+l.CertLine(cp.Cert, a.At))
		}
	}
	head(func(w ReportWords) string { return w.Classes })
	if len(a.Classes) == 0 {
		add(10, 0, none)
	}
	for _, c := range a.Classes {
		var st string
		switch {
		case c.OverSize && c.UnderStaffed:
			st = b(func(w ReportWords) string { return fmt.Sprintf(w.OverSize, c.MaxChildren) }) + " · " + b(func(w ReportWords) string { return fmt.Sprintf(w.UnderStaffed, c.Needed) })
		case c.OverSize:
			st = b(func(w ReportWords) string { return fmt.Sprintf(w.OverSize, c.MaxChildren) })
		case c.UnderStaffed:
			st = b(func(w ReportWords) string { return fmt.Sprintf(w.UnderStaffed, c.Needed) })
		default:
			st = b(func(w ReportWords) string { return w.WithinRatio })
		}
		obs := c.Observed()
		if obs == "" {
			obs = "—"
		}
		add(10, 0, fmt.Sprintf("%s（%s）%s %d · %s %d · %s · %s · %s", c.Name, c.TypeName, b(func(w ReportWords) string { return w.Children }), c.Children,
			b(func(w ReportWords) string { return w.Caregivers }), c.Caregivers, b(func(w ReportWords) string { return fmt.Sprintf(w.Observed, obs) }),
			b(func(w ReportWords) string { return fmt.Sprintf(w.Rule, fmt.Sprintf("1:%d", c.PerCaregiver)) }), st))
	}
	head(func(w ReportWords) string { return w.Findings })
	if len(a.Findings) == 0 {
		add(10, 0, none)
	}
	for _, f := range a.Findings {
		add(10, 0, "["+b(func(w ReportWords) string { return lookup(w.Severities, f.Severity) })+"] "+f.Note)
		var printable []PhotoFile
		skipped := 0
		for _, p := range d.Photos[f.ID] {
			if p.ContentType == "image/jpeg" || p.ContentType == "image/png" {
				printable = append(printable, p)
			} else {
				skipped++
			}
		}
		if len(d.Photos[f.ID]) > 0 {
			add(9, 6, fmt.Sprintf("%s: %d", b(func(w ReportWords) string { return w.Photos }), len(d.Photos[f.ID])))
		}
		if len(printable) > 0 {
			out = append(out, reportLine{indent: 6, photos: printable})
		}
		if skipped > 0 {
			add(8.5, 6, fmt.Sprintf("%s (%d)", b(func(w ReportWords) string { return w.PhotoNotPrinted }), skipped))
		}
	}
	head(func(w ReportWords) string { return w.Result })
	res := b(func(w ReportWords) string { return w.NotPassed })
	if a.Passed {
		res = b(func(w ReportWords) string { return w.Passed })
	}
	add(14, 0, res)
	for _, f := range a.Faults {
		add(10, 6, "· "+b(func(w ReportWords) string { return lookup(w.Faults, f) }))
	}
	sum := a.Summary()
	add(10, 0, fmt.Sprintf("%s %d / %d · %s %d / %d · %s %d / %d", b(func(w ReportWords) string { return w.StaffChecked }), sum.StaffChecked, sum.StaffOnRoster,
		b(func(w ReportWords) string { return w.PostsQualified }), sum.PostsQualified, sum.PostsChecked, b(func(w ReportWords) string { return w.ClassesCounted }), sum.ClassesCounted, len(a.Classes)))
	add(8.5, 0, b(func(w ReportWords) string { return w.Footer }))
	return out
}

// photoRow prints photos as a row of thumbnails (at most 40 mm on a side), breaking the page first
// when they do not fit.
func (w *reportWriter) photoRow(photos []PhotoFile, indent float64) {
	const side, gap = 40.0, 4.0
	x := repLeft + indent
	if w.y+side+2 > repBottom {
		w.pdf.AddPage()
		w.y = repTop
	}
	top, rowH := w.y+1.5, 0.0
	for _, p := range photos {
		typ := "JPG"
		if p.ContentType == "image/png" {
			typ = "PNG"
		}
		name := fmt.Sprintf("photo-%d", p.ID)
		info := w.pdf.RegisterImageOptionsReader(name, gofpdf.ImageOptions{ImageType: typ}, bytes.NewReader(p.Data))
		if w.pdf.Err() || info == nil || info.Width() <= 0 || info.Height() <= 0 {
			w.pdf.ClearError() // a photo gofpdf cannot read is left out, not the report
			continue
		}
		iw, ih := side, side*info.Height()/info.Width()
		if ih > side {
			iw, ih = side*info.Width()/info.Height(), side
		}
		if x+iw > repRight {
			x, top, rowH = repLeft+indent, top+rowH+gap, 0
			if top+side > repBottom {
				w.pdf.AddPage()
				top = repTop + 1.5
			}
		}
		w.pdf.ImageOptions(name, x, top, iw, ih, false, gofpdf.ImageOptions{ImageType: typ}, 0, "")
		x += iw + gap
		rowH = max(rowH, ih)
	}
	w.y = top + rowH + 2
}

// RenderReport lays out an unsigned report PDF: A4 portrait, the font embedded and subset.
func RenderReport(font *pdfdoc.Font, d ReportData, labels ReportLabels) ([]byte, error) {
	lines := reportLines(d, labels)
	var runes []rune
	for _, l := range lines {
		runes = append(runes, []rune(l.text)...)
	}
	runes = append(runes, []rune(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~")...)
	subset, err := font.Subset(runes)
	if err != nil {
		return nil, err
	}
	pdf := pdfdoc.NewDocument("P", d.FinishedAt.UTC(), "Shanyu", fmt.Sprintf("Inspection report %d", d.InspectionID))
	w := &reportWriter{pdf: pdf, tw: pdfdoc.NewPage(pdf, font, subset), y: repTop}
	pdf.AddPage()
	w.tw.Ink([3]int{34, 30, 28})
	for _, l := range lines {
		switch {
		case l.photos != nil:
			w.photoRow(l.photos, l.indent)
		case l.pt == 0:
			w.heading(l.text)
		default:
			w.line(l.text, l.pt, l.indent)
		}
	}
	if err := w.tw.Err(); err != nil {
		return nil, err
	}
	if err := pdf.Error(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("write pdf: %w", err)
	}
	return pdfdoc.TagSubset(buf.Bytes(), subset), nil
}

func (s *Service) auditReport(ctx context.Context, tx pgx.Tx, inspectionID int64, sum [32]byte) error {
	return accounts.Audit(ctx, tx, accounts.Event{Action: "inspection.report", Subject: fmt.Sprintf("inspection:%d", inspectionID),
		Details: map[string]any{"sha256": fmt.Sprintf("%x", sum)}})
}
