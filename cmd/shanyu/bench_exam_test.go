package main

import (
	"context"
	"io"
	"testing"
	"time"

	"shanyu/internal/pgtest"
	"shanyu/internal/servertest"
)

// TestExamBenchSmallBurstLosesNothing runs the exam bench on 40 candidates pressing start at once
// against a fresh server: every phase succeeds for every candidate (no error of any kind), and no
// acknowledged save is missing from the database. It asserts correctness only, never speed.
func TestExamBenchSmallBurstLosesNothing(t *testing.T) {
	t.Parallel()
	// The sign-in queue's deadline is longer than the default 30 s, as in the bounds test: on a loaded
	// machine, under -race, 40 argon2id hashes at once can take longer than that, and this test checks
	// the exam path, not the hashing speed.
	srv := servertest.Start(t, servertest.Options{Env: map[string]string{"SHANYU_AUTH_QUEUE_S": "120"}})
	const n = 40
	res, err := runExamBench(context.Background(), srv.Config, pgtest.Open(t, srv.DBURL), examBenchOptions{Base: srv.URL, Candidates: n,
		Duration: 3 * time.Second, Think: 300 * time.Millisecond, LoginConcurrency: 8, Login: true, Poll: time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Errors != 0 || len(res.ErrorKinds) != 0 {
		t.Errorf("%d errors: %v", res.Errors, res.ErrorKinds)
	}
	for name, p := range map[string]phase{"login": *res.Login, "open": res.Open, "start": res.Start, "first paper": res.FirstPaper, "submit": res.Submit} {
		if p.OK != n || p.Failed != 0 {
			t.Errorf("%s: %d ok, %d failed; want %d and 0", name, p.OK, p.Failed, n)
		}
	}
	if res.Save.OK == 0 || res.Save.Failed != 0 {
		t.Errorf("saves: %d ok, %d failed", res.Save.OK, res.Save.Failed)
	}
	if res.LostSaves != 0 {
		t.Errorf("%d acknowledged saves are not in the database", res.LostSaves)
	}
}
