package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"shanyu/internal/pg"
	"shanyu/migrations"
)

// Cluster is a PostgreSQL server of one test's own, for a test that stops the database under a
// running server and starts it again (an outage), which the shared test server must never see. It
// holds one migrated database, URL. Made with the installed PostgreSQL's initdb and pg_ctl (as the
// postgres user when the test runs as root, as scripts/localpg does), stopped and removed when the
// test ends.
type Cluster struct {
	URL    string
	dir    string
	port   int
	bindir string
}

// StartCluster creates, starts and migrates a private cluster, or fails the test.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bindir, err := postgresBin()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	dir, err := os.MkdirTemp("", "shanyu-pgtest-")
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{dir: dir, bindir: bindir}
	tb.Cleanup(func() {
		_ = c.pgctl("stop", "-m", "immediate", "-w")
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("pgtest: PostgreSQL refuses to run as root and there is no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	if out, err := c.run(filepath.Join(bindir, "initdb"), "-D", c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.Start(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	pool, err := pg.Open(ctx, admin)
	if err != nil {
		tb.Fatalf("pgtest: private cluster: %v", err)
	}
	_, err = pool.Exec(ctx, `CREATE DATABASE shanyu`)
	pool.Close()
	if err != nil {
		tb.Fatal(err)
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/shanyu?sslmode=disable", c.port)
	if pool, err = pg.Open(ctx, c.URL); err != nil {
		tb.Fatal(err)
	}
	defer pool.Close()
	if _, err := migrations.Up(ctx, pool); err != nil {
		tb.Fatalf("pgtest: migrate the private cluster: %v", err)
	}
	return c
}

// Stop stops the server in fast mode: its sessions are ended (SQLSTATE 57P01) and new connections
// are refused until Start.
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	if err := c.pgctl("stop", "-m", "fast", "-w", "-t", "60"); err != nil {
		tb.Fatalf("pgtest: stop the private cluster: %v", err)
	}
}

// Start starts the server (again), on the same port, and waits until it accepts connections.
func (c *Cluster) Start(tb testing.TB) {
	tb.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100", c.port, c.dir)
	if err := c.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(c.dir, "postgres.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
		tb.Fatalf("pgtest: start the private cluster: %v\n%s", err, log)
	}
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) pgctl(args ...string) error {
	out, err := c.run(filepath.Join(c.bindir, "pg_ctl"), append([]string{"-D", c.data()}, args...)...)
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// run runs a PostgreSQL program, as the postgres user when we are root.
func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(prog, args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", prog}, args...)...)
	}
	return cmd.CombinedOutput()
}

// postgresBin finds the newest installed PostgreSQL's programs.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("no PostgreSQL installed (initdb, pg_ctl) for a private cluster")
}
