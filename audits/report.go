package audits

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jung-kurt/gofpdf"

	"shanyu/accounts"
	"shanyu/certificates"
	"shanyu/internal/failure"
	"shanyu/internal/pg"
)

// ReportTools is what the inspection report needs from the certificates domain: the font certificates
// print with and the PDF signer they are signed with. *certificates.Service offers both.
type ReportTools interface {
	ReportFont() (*certificates.Font, error)
	ReportSigner(ctx context.Context) (*certificates.PDFSigner, error)
}

// ErrNoReport: the inspection is not finished, so there is no report yet.
var ErrNoReport = failure.New(failure.NotFound, "audits.report_not_ready")

// reportTools holds the tools per service (kept beside Service so that its struct stays as it is).
var reportTools sync.Map // *Service → ReportTools

// SetReportTools plugs in the font and signer of the inspection reports.
func (s *Service) SetReportTools(t ReportTools) { reportTools.Store(s, t) }

func (s *Service) tools() ReportTools {
	t, _ := reportTools.Load(s)
	rt, _ := t.(ReportTools)
	return rt
}

// InspectionReport is a stored, signed report PDF.
type InspectionReport struct {
	InspectionID int64
	PDF          []byte
	SHA256       [32]byte
	CreatedAt    time.Time
}

// reportOnFinish makes the report of a just finished inspection; a failure is logged and the report
// is made on its first download instead.
func (s *Service) reportOnFinish(ctx context.Context, inspectionID int64) {
	if s.tools() == nil {
		return // no font and signer here (a bare service, as in the demo seed): made on first download
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
	t := s.tools()
	if t == nil {
		return rep, fmt.Errorf("inspection report: no font and signer configured")
	}
	font, err := t.ReportFont()
	if err != nil {
		return rep, err
	}
	signer, err := t.ReportSigner(ctx)
	if err != nil {
		return rep, err
	}
	data, err := s.reportData(ctx, x)
	if err != nil {
		return rep, err
	}
	un, err := RenderReport(font, data)
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

// ReportData is everything printed on an inspection report.
type ReportData struct {
	InspectionID   int64
	RoundName      string
	Institution    string
	InstitutionEN  string
	Code           string
	FinishedAt     time.Time
	Inspectors     []string
	Posts          []ReportPost
	Classes        []ReportClass
	Findings       []Finding
	UnknownCodes   int
	MissingPosts   []string
	Passed         bool
	StaffChecked   int
	PostsQualified int
	PostsChecked   int
}

// ReportPost is one post checked on site.
type ReportPost struct {
	Person      string
	Certificate string
	Decision    Decision
}

// ReportClass is one class counted on site.
type ReportClass struct {
	Name, Type                   string
	Children, Caregivers, Needed int
	MaxChildren, PerCaregiver    int
	OverSize, UnderStaffed       bool
}

func (s *Service) reportData(ctx context.Context, x Inspection) (ReportData, error) {
	d := ReportData{InspectionID: x.ID, RoundName: x.RoundName, FinishedAt: *x.FinishedAt, Passed: x.Passed != nil && *x.Passed,
		Findings: x.Findings, UnknownCodes: x.Summary.UnknownCodes, StaffChecked: x.Summary.StaffChecked,
		PostsChecked: x.Summary.PostsChecked, PostsQualified: x.Summary.PostsQualified}
	o, err := s.accounts.OrganisationByID(ctx, x.OrganisationID)
	if err != nil {
		return d, err
	}
	d.Institution, d.InstitutionEN, d.Code = o.Name, o.NameEN, o.Code
	for _, sg := range x.Inspectors {
		u, err := s.accounts.UserByID(ctx, sg.UserID)
		if err != nil {
			return d, err
		}
		d.Inspectors = append(d.Inspectors, u.Name)
	}
	seen := map[int64]bool{}
	for _, sc := range x.Scans {
		r := sc.Result
		if !r.Known || !r.OnRoster || seen[r.RosterID] {
			continue
		}
		seen[r.RosterID] = true
		num := ""
		if r.Certificate != nil {
			num = r.Certificate.Number
		}
		for _, dec := range r.Decisions {
			d.Posts = append(d.Posts, ReportPost{Person: r.Name, Certificate: num, Decision: dec})
		}
	}
	rows, err := s.db.Query(ctx, `SELECT c.name, t.name, h.children, h.caregivers, t.max_children, t.children_per_caregiver
		FROM audit_headcounts h JOIN audit_classes c ON c.id = h.class_id JOIN audit_class_types t ON t.code = c.class_type
		WHERE h.inspection_id = $1 ORDER BY c.name`, x.ID)
	if err != nil {
		return d, err
	}
	d.Classes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReportClass, error) {
		var c ReportClass
		if err := r.Scan(&c.Name, &c.Type, &c.Children, &c.Caregivers, &c.MaxChildren, &c.PerCaregiver); err != nil {
			return c, err
		}
		chk := CheckClass(ClassType{MaxChildren: c.MaxChildren, ChildrenPerCaregiver: c.PerCaregiver}, c.Children, c.Caregivers)
		c.Needed, c.OverSize, c.UnderStaffed = chk.NeededCaregivers, chk.OverSize, chk.UnderStaffed
		return c, nil
	})
	return d, err
}

var reasonLabels = map[string]string{
	"absent": "缺失 absent", "expired": "已过期 expired", "suspended": "已暂停 suspended", "revoked": "已撤销 revoked",
	"level_too_low": "等级不足 level too low", "barred": "不得从事托育工作 not permitted to work in childcare",
}

var severityLabels = map[string]string{"info": "提示 Info", "minor": "一般 Minor", "major": "严重 Major"}

// Explain is a decision in words: the rule that matched, or what is missing.
func Explain(d Decision) string {
	if d.Qualified {
		return "合格 Qualified — " + strings.Join(d.Matched, "; ")
	}
	var gaps []string
	for _, g := range d.Gaps {
		r := reasonLabels[g.Reason]
		if r == "" {
			r = g.Reason
		}
		s := g.Group + ": " + r
		if g.Detail != "" && g.Reason != "barred" {
			s += " (" + g.Detail + ")"
		}
		gaps = append(gaps, s)
	}
	return "不合格 Not qualified — " + strings.Join(gaps, "; ")
}

// reportWriter lays lines out on A4 portrait pages, wrapping and breaking pages.
type reportWriter struct {
	pdf *gofpdf.Fpdf
	tw  *certificates.TextWriter
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
	w.tw.Ink(142, 27, 31)
	w.line(s, 12.5, 0)
	w.pdf.SetDrawColor(178, 142, 66)
	w.pdf.SetLineWidth(0.3)
	w.pdf.Line(repLeft, w.y+0.5, repRight, w.y+0.5)
	w.y += 2
	w.tw.Ink(34, 30, 28)
}

// reportLines is the report as (size, indent, text) lines; headings have size 0.
func reportLines(d ReportData) [][3]any {
	var out [][3]any
	add := func(pt, indent float64, s string) { out = append(out, [3]any{pt, indent, s}) }
	head := func(s string) { add(0, 0, s) }
	date := d.FinishedAt.In(time.FixedZone("CST", 8*3600))
	add(18, 0, "托育机构监督检查报告")
	add(12, 0, "Childcare institution inspection report")
	add(10, 0, fmt.Sprintf("检查编号 Inspection No. %d · %s", d.InspectionID, d.RoundName))
	head("机构 Institution")
	add(10.5, 0, d.Institution)
	if d.InstitutionEN != "" {
		add(10, 0, d.InstitutionEN)
	}
	add(10, 0, "机构代码 Code: "+d.Code)
	add(10, 0, fmt.Sprintf("检查日期 Date: %d年%d月%d日 · %s", date.Year(), int(date.Month()), date.Day(), date.Format("2 January 2006")))
	add(10, 0, "检查人员 Inspectors: "+strings.Join(d.Inspectors, "、"))
	head("岗位核查 Posts checked")
	if len(d.Posts) == 0 {
		add(10, 0, "无 None")
	}
	for _, p := range d.Posts {
		add(10, 0, fmt.Sprintf("%s · %s · %s", p.Person, p.Decision.Post, p.Certificate))
		add(9, 6, Explain(p.Decision))
	}
	if d.UnknownCodes > 0 {
		add(10, 0, fmt.Sprintf("未能核实或不在花名册的证书 Certificates unknown or not on the roster: %d", d.UnknownCodes))
	}
	head("班级师生比 Class ratios (head counts of the day)")
	if len(d.Classes) == 0 {
		add(10, 0, "无 None")
	}
	for _, c := range d.Classes {
		st := "符合 Within ratio"
		if c.OverSize {
			st = fmt.Sprintf("超额 Over size (max %d)", c.MaxChildren)
		}
		if c.UnderStaffed {
			st += fmt.Sprintf(" 保育人员不足 Under-staffed (need %d)", c.Needed)
		}
		add(10, 0, fmt.Sprintf("%s（%s）幼儿 children %d · 保育人员 caregivers %d · 1:%d · %s", c.Name, c.Type, c.Children, c.Caregivers, c.PerCaregiver, st))
	}
	head("检查发现 Findings")
	if len(d.Findings) == 0 {
		add(10, 0, "无 None")
	}
	for _, f := range d.Findings {
		sev := severityLabels[f.Severity]
		if sev == "" {
			sev = f.Severity
		}
		add(10, 0, "["+sev+"] "+f.Note)
	}
	head("结论 Result")
	res := "不通过 Not passed"
	if d.Passed {
		res = "通过 Passed"
	}
	add(14, 0, res)
	add(10, 0, fmt.Sprintf("核查人员 Staff checked %d · 合格岗位 Posts qualified %d / %d · 班级 Classes counted %d", d.StaffChecked, d.PostsQualified, d.PostsChecked, len(d.Classes)))
	add(8.5, 0, "本报告由善育平台生成并以数字签名签署，任何改动都会使签名失效。This report was generated by Shanyu and signed inside; any change invalidates the signature.")
	return out
}

// RenderReport lays out an unsigned report PDF: A4 portrait, the font embedded and subset.
func RenderReport(font *certificates.Font, d ReportData) ([]byte, error) {
	lines := reportLines(d)
	var runes []rune
	for _, l := range lines {
		runes = append(runes, []rune(l[2].(string))...)
	}
	runes = append(runes, []rune(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~")...)
	subset, err := font.Subset(runes)
	if err != nil {
		return nil, err
	}
	pdf := gofpdf.New("P", "mm", "A4", "")
	stamp := d.FinishedAt.UTC()
	pdf.SetCreationDate(stamp)
	pdf.SetModificationDate(stamp)
	pdf.SetCatalogSort(true)
	pdf.SetProducer("Shanyu", false)
	pdf.SetCreator("Shanyu", false)
	pdf.SetTitle(fmt.Sprintf("Inspection report %d", d.InspectionID), false)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	w := &reportWriter{pdf: pdf, tw: certificates.NewTextWriter(pdf, font, subset), y: repTop}
	pdf.AddPage()
	w.tw.Ink(34, 30, 28)
	for _, l := range lines {
		pt, indent, s := l[0].(float64), l[1].(float64), l[2].(string)
		if pt == 0 {
			w.heading(s)
			continue
		}
		w.line(s, pt, indent)
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
	return certificates.TagSubset(buf.Bytes(), subset), nil
}

func (s *Service) auditReport(ctx context.Context, tx pgx.Tx, inspectionID int64, sum [32]byte) error {
	return accounts.Audit(ctx, tx, accounts.Event{Action: "inspection.report", Subject: fmt.Sprintf("inspection:%d", inspectionID),
		Details: map[string]any{"sha256": fmt.Sprintf("%x", sum)}})
}
