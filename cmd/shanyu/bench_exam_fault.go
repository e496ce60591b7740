package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The exam bench as a drill (scripts/drill): a fault runs once during the saving, and the bench says
// how the candidates came through it. Saves and submits are retried as the exam page retries them,
// with the same seq and answer and the same session cookie, so that what a drill counts is what a
// candidate would see: lost acknowledged saves, sessions lost (sign in again), and how long saving
// stopped.

// faultFigures is what the bench reports about its fault.
type faultFigures struct {
	Command  string  `json:"command"`
	AfterS   float64 `json:"after_s"`   // when into the saving it ran
	CommandS float64 `json:"command_s"` // how long the command took
	Error    string  `json:"error,omitempty"`
	// FailedSaves is the saves that failed at least once at or after the fault; RecoverS is the time
	// from the fault to the first of them acknowledged (null when one failed and none was), and
	// AllRecoveredS to the last (every candidate the fault hit saving again).
	FailedSaves   int      `json:"failed_saves"`
	RecoverS      *float64 `json:"recover_s"`
	AllRecoveredS *float64 `json:"all_recovered_s"`
}

// faultTimeline is when the fault ran and when the saves it made fail were acknowledged.
type faultTimeline struct {
	mu          sync.Mutex
	at          time.Time
	failed      int
	first, last time.Time
}

// start marks the fault's time.
func (t *faultTimeline) start(at time.Time) {
	t.mu.Lock()
	t.at = at
	t.mu.Unlock()
}

// hit says whether a save that failed at the given time failed at or after the fault, and counts it.
func (t *faultTimeline) hit(failedAt time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.at.IsZero() || failedAt.Before(t.at) {
		return false
	}
	t.failed++
	return true
}

// recovered records the acknowledgement of a save that hit said failed after the fault.
func (t *faultTimeline) recovered(at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first.IsZero() || at.Before(t.first) {
		t.first = at
	}
	if at.After(t.last) {
		t.last = at
	}
}

// figures fills in f's recovery figures.
func (t *faultTimeline) figures(f *faultFigures) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f.FailedSaves = t.failed
	if t.at.IsZero() {
		return
	}
	since := func(at time.Time) *float64 {
		s := float64(at.Sub(t.at).Round(10*time.Millisecond)) / float64(time.Second)
		return &s
	}
	switch {
	case t.failed == 0:
		zero := 0.0
		f.RecoverS, f.AllRecoveredS = &zero, &zero // saving never stopped
	case !t.first.IsZero():
		f.RecoverS, f.AllRecoveredS = since(t.first), since(t.last)
	}
}

// runFault runs o.Fault once, o.FaultAfter after the saving began.
func runFault(ctx context.Context, o examBenchOptions, saveStart time.Time, tl *faultTimeline, stdout io.Writer) *faultFigures {
	f := &faultFigures{Command: o.FaultName, AfterS: round1(o.FaultAfter.Seconds())}
	select {
	case <-ctx.Done():
		f.Error = ctx.Err().Error()
		return f
	case <-time.After(time.Until(saveStart.Add(o.FaultAfter))):
	}
	at := time.Now()
	tl.start(at)
	fmt.Fprintf(stdout, "  fault at %.1f s: %s\n", at.Sub(saveStart).Seconds(), o.FaultName)
	if err := o.Fault(ctx); err != nil {
		f.Error = err.Error()
		fmt.Fprintf(stdout, "  fault failed: %v\n", err)
	}
	f.CommandS = round1(time.Since(at).Seconds())
	return f
}

// shellFault is a fault that runs command with sh -c, its output going to out.
func shellFault(command string, out io.Writer) func(context.Context) error {
	return func(ctx context.Context) error {
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		cmd.Stdout, cmd.Stderr = out, out
		return cmd.Run()
	}
}

// retryFirst is the first wait before a failed request is sent again; backoff doubles it up to 2 s
// (the exam page's own interval), with jitter so that the candidates a fault hit do not come back in
// step.
const retryFirst = 200 * time.Millisecond

// backoff sleeps about wait and returns the next wait.
func backoff(wait time.Duration, rng *rand.Rand) time.Duration {
	time.Sleep(time.Duration(float64(wait) * (0.75 + rng.Float64()/2)))
	return min(2*wait, 2*time.Second)
}

// retryable says whether the exam page would send a request again after err: no answer at all
// (a connection refused or cut), 5xx (502 and 503 from the load balancer or a server without its
// database) and 429.
func retryable(err error) bool {
	var he *httpError
	if errors.As(err, &he) {
		return he.Status >= 500 || he.Status == 429
	}
	return !errors.Is(err, context.Canceled)
}

// transportKind names a request's failure without an HTTP answer, for the error kinds.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(err.Error(), "EOF"):
		return "eof"
	}
	return "other"
}
