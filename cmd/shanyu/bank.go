package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"shanyu/accounts"
	"shanyu/exams/bank"
	"shanyu/internal/config"
)

const bankUsage = `usage:
  shanyu bank import --centre CODE --format gift|moodlexml|xlsx|qti [--dry-run] FILE
  shanyu bank export --centre CODE --format moodlexml|xlsx|gift|qti FILE
  shanyu bank template FILE      write the Excel import template`

// bankCmd imports and exports a training centre's question bank. The last line of an import is a
// JSON report, so that scripts can read it.
func bankCmd(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bank needs import, export or template\n%s", bankUsage)
	}
	switch args[0] {
	case "import":
		return bankImport(ctx, cfg, pool, args[1:], stdout)
	case "export":
		return bankExport(ctx, cfg, pool, args[1:], stdout)
	case "template":
		if len(args) != 2 {
			return fmt.Errorf("bank template needs a FILE\n%s", bankUsage)
		}
		return writeFile(args[1], bank.WriteXLSXTemplate)
	}
	return fmt.Errorf("bank %s: unknown subcommand\n%s", args[0], bankUsage)
}

type bankFlags struct {
	centre, format, file string
	dryRun               bool
}

func parseBankFlags(name string, args []string, withDryRun bool) (bankFlags, error) {
	var bf bankFlags
	fs := flag.NewFlagSet("bank "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&bf.centre, "centre", "", "training centre code")
	fs.StringVar(&bf.format, "format", "", "file format")
	if withDryRun {
		fs.BoolVar(&bf.dryRun, "dry-run", false, "preview only")
	}
	// Flags may come after the file too: parse, take one positional, parse the rest.
	if err := fs.Parse(args); err != nil {
		return bf, fmt.Errorf("bank %s: %v\n%s", name, err, bankUsage)
	}
	rest := fs.Args()
	if len(rest) > 0 {
		bf.file = rest[0]
		if err := fs.Parse(rest[1:]); err != nil {
			return bf, fmt.Errorf("bank %s: %v\n%s", name, err, bankUsage)
		}
		if len(fs.Args()) > 0 {
			return bf, fmt.Errorf("bank %s: one FILE only, got also %q\n%s", name, fs.Args(), bankUsage)
		}
	}
	if bf.centre == "" || bf.format == "" || bf.file == "" {
		return bf, fmt.Errorf("bank %s needs --centre, --format and a FILE\n%s", name, bankUsage)
	}
	return bf, nil
}

func bankImport(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	bf, err := parseBankFlags("import", args, true)
	if err != nil {
		return err
	}
	format, err := bank.ParseFormat(bf.format)
	if err != nil {
		return fmt.Errorf("bank import: format %q: use gift, moodlexml, xlsx or qti", bf.format)
	}
	centreID, err := centreByCode(ctx, cfg, pool, bf.centre)
	if err != nil {
		return err
	}
	f, err := os.Open(bf.file)
	if err != nil {
		return fmt.Errorf("bank import: %w", err)
	}
	defer f.Close()
	rep, err := bank.Import(ctx, pool, centreID, format, f, bf.dryRun)
	if err != nil {
		return fmt.Errorf("bank import %s: %w", bf.file, err)
	}
	verb := "created"
	if rep.DryRun {
		verb = "would create (dry run, nothing saved)"
	}
	fmt.Fprintf(stdout, "%s: %d questions found, %s %d, skipped %d\n", bf.file, rep.Questions, verb, rep.Created, len(rep.Skipped))
	for _, s := range rep.Skipped {
		place := bank.Place{Line: s.Line, Element: s.Element}
		kind := ""
		if s.Type != "" {
			kind = " (" + s.Type + ")"
		}
		fmt.Fprintf(stdout, "  skipped %s%s: %s %s\n", place, kind, s.Reason, s.Detail)
	}
	out, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(out))
	return nil
}

func bankExport(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, args []string, stdout io.Writer) error {
	bf, err := parseBankFlags("export", args, false)
	if err != nil {
		return err
	}
	format, err := bank.ParseFormat(bf.format)
	if err != nil {
		return fmt.Errorf("bank export: format %q: use moodlexml, xlsx, gift or qti", bf.format)
	}
	centreID, err := centreByCode(ctx, cfg, pool, bf.centre)
	if err != nil {
		return err
	}
	items, err := bank.Items(ctx, pool, centreID, bank.Filter{Status: bank.Active})
	if err != nil {
		return fmt.Errorf("bank export: %w", err)
	}
	skipped := []bank.Skip{}
	write := bank.WriteXLSX
	switch format {
	case bank.MoodleXML:
		write = bank.WriteMoodleXML
	case bank.GIFT:
		// GIFT cannot hold every item; those left out are listed with why.
		write = func(w io.Writer, items []bank.Item) (err error) {
			skipped, err = bank.WriteGIFT(w, items)
			return err
		}
	case bank.QTI:
		write = func(w io.Writer, items []bank.Item) (err error) {
			skipped, err = bank.WriteQTI(w, items)
			return err
		}
	}
	if err := writeFile(bf.file, func(w io.Writer) error { return write(w, items) }); err != nil {
		return fmt.Errorf("bank export: %w", err)
	}
	fmt.Fprintf(stdout, "%s: exported %d items\n", bf.file, len(items)-len(skipped))
	for _, s := range skipped {
		fmt.Fprintf(stdout, "  skipped %s (%s): %s\n", s.Element, s.Type, s.Detail)
	}
	out, _ := json.Marshal(map[string]any{"exported": len(items) - len(skipped), "format": format, "file": bf.file, "skipped": skipped})
	fmt.Fprintln(stdout, string(out))
	return nil
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	return f.Close()
}

// centreByCode finds a training centre's id by its code through the accounts domain.
func centreByCode(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, code string) (int64, error) {
	acc, err := accounts.New(pool, cfg.SecretKey, accounts.DefaultPolicy)
	if err != nil {
		return 0, err
	}
	o, err := acc.OrganisationByCode(ctx, strings.TrimSpace(code))
	if err != nil || o.Kind != accounts.KindTrainingCentre {
		return 0, fmt.Errorf("no training centre with code %q", code)
	}
	return o.ID, nil
}
