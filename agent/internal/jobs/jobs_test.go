package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/protocol"
	"zos-build/agent/internal/reaper"
)

var testReaper *reaper.Reaper

func init() {
	clog.SetOutput(io.Discard)
	testReaper = reaper.New()
}

type collector struct {
	mu       sync.Mutex
	results  map[string]chan *protocol.Result
	lines    map[string][]string
	lineAt   map[string]time.Time
	accepted []string
}

func newCollector() *collector {
	return &collector{results: map[string]chan *protocol.Result{}, lines: map[string][]string{}, lineAt: map[string]time.Time{}}
}

func (c *collector) ch(id string) chan *protocol.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.results[id] == nil {
		c.results[id] = make(chan *protocol.Result, 4)
	}
	return c.results[id]
}

func (c *collector) wait(t *testing.T, id string, d time.Duration) *protocol.Result {
	t.Helper()
	select {
	case r := <-c.ch(id):
		return r
	case <-time.After(d):
		t.Fatalf("no result for %s within %s", id, d)
		return nil
	}
}

func newManager(cfg Config) (*Manager, *collector) {
	c := newCollector()
	m := NewManager(cfg, testReaper, Sinks{
		Result: func(r *protocol.Result) { c.ch(r.ID) <- r },
		Accept: func(id string) {
			c.mu.Lock()
			c.accepted = append(c.accepted, id)
			c.mu.Unlock()
		},
		Line: func(id string, level int, line string) {
			stream := map[int]string{protocol.LevelStdout: "stdout", protocol.LevelStderr: "stderr"}[level]
			c.mu.Lock()
			if _, ok := c.lineAt[id]; !ok {
				c.lineAt[id] = time.Now()
			}
			c.lines[id] = append(c.lines[id], stream+":"+line)
			c.mu.Unlock()
		},
	})
	m.Handle("core.system", func(ctx context.Context, j *Job) Outcome {
		var spec ProcessSpec
		if err := protocol.DecodeArgs(j.Cmd, &spec); err != nil {
			return Fail(400, err)
		}
		return j.RunProcess(ctx, spec)
	})
	m.Handle("test.panic", func(ctx context.Context, j *Job) Outcome { panic("boom") })
	m.Handle("test.block", func(ctx context.Context, j *Job) Outcome { <-ctx.Done(); return OK("stopped") })
	return m, c
}

func testCfg() Config {
	c := DefaultConfig
	c.KillGrace = 500 * time.Millisecond
	c.HandlerGrace = 2 * time.Second
	return c
}

func sys(id string, name string, args ...string) *protocol.Command {
	a, _ := json.Marshal(ProcessSpec{Name: name, Args: args})
	return &protocol.Command{ID: id, Command: "core.system", Arguments: a}
}

func TestExitCodesAndOutput(t *testing.T) {
	m, c := newManager(testCfg())
	m.Submit(sys("ok", "sh", "-c", "echo out; echo err >&2"))
	m.Submit(sys("fail", "sh", "-c", "exit 7"))
	r := c.wait(t, "ok", 10*time.Second)
	if r.State != protocol.StateSuccess || r.Code != 0 || r.Streams[0] != "out\n" || r.Streams[1] != "err\n" {
		t.Fatalf("%+v", r)
	}
	r = c.wait(t, "fail", 10*time.Second)
	if r.State != protocol.StateError || r.Code != 1007 || r.Level != protocol.LevelNone {
		t.Fatalf("%+v", r)
	}
}

func TestStdinEnvDir(t *testing.T) {
	m, c := newManager(testCfg())
	a, _ := json.Marshal(ProcessSpec{Name: "sh", Args: []string{"-c", "cat; echo $FOO; pwd"}, Env: map[string]string{"FOO": "bar"}, Dir: "/tmp", Stdin: "in\n"})
	m.Submit(&protocol.Command{ID: "x", Command: "core.system", Arguments: a})
	r := c.wait(t, "x", 10*time.Second)
	if r.Streams[0] != "in\nbar\n/tmp\n" {
		t.Fatalf("%q", r.Streams[0])
	}
}

func TestMissingBinary(t *testing.T) {
	m, c := newManager(testCfg())
	m.Submit(sys("nf", "/nonexistent/binary"))
	m.Submit(sys("nf2", "no-such-program-zos"))
	for _, id := range []string{"nf", "nf2"} {
		r := c.wait(t, id, 5*time.Second)
		if r.State != protocol.StateError || r.Code != protocol.CodeNotFound {
			t.Fatalf("%+v", r)
		}
	}
}

func TestTimeout(t *testing.T) {
	m, c := newManager(testCfg())
	cmd := sys("to", "sleep", "60")
	cmd.MaxTime = 1
	start := time.Now()
	m.Submit(cmd)
	r := c.wait(t, "to", 10*time.Second)
	if r.State != protocol.StateTimeout || time.Since(start) > 5*time.Second {
		t.Fatalf("%+v after %s", r, time.Since(start))
	}
}

func TestTimeoutEscalatesToSIGKILL(t *testing.T) {
	m, c := newManager(testCfg())
	cmd := sys("stubborn", "sh", "-c", "trap '' TERM; sleep 60 & wait; sleep 60")
	cmd.MaxTime = 1
	m.Submit(cmd)
	r := c.wait(t, "stubborn", 10*time.Second)
	if r.State != protocol.StateTimeout {
		t.Fatalf("%+v", r)
	}
}

func TestNonProcessTimeoutAndKill(t *testing.T) {
	m, c := newManager(testCfg())
	cmd := &protocol.Command{ID: "blk", Command: "test.block", MaxTime: 1}
	m.Submit(cmd)
	if r := c.wait(t, "blk", 5*time.Second); r.State != protocol.StateTimeout {
		t.Fatalf("%+v", r)
	}
	m.Submit(&protocol.Command{ID: "blk2", Command: "test.block"})
	time.Sleep(50 * time.Millisecond)
	if err := m.Kill("blk2", 0); err != nil {
		t.Fatal(err)
	}
	if r := c.wait(t, "blk2", 5*time.Second); r.State != protocol.StateKilled {
		t.Fatalf("%+v", r)
	}
}

func TestKill(t *testing.T) {
	m, c := newManager(testCfg())
	m.Submit(sys("k", "sleep", "60"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if in := m.List(); len(in) == 1 && len(in[0].Pids) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("job did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Kill("k", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := c.wait(t, "k", 5*time.Second)
	if r.State != protocol.StateKilled || r.Code != 1000+128+9 {
		t.Fatalf("%+v", r)
	}
	if err := m.Kill("k", 0); err != ErrNoJob {
		t.Fatalf("kill of finished job: %v", err)
	}
}

func TestQueueRunsInOrderOneAtATime(t *testing.T) {
	m, c := newManager(testCfg())
	dir := t.TempDir()
	for i := 0; i < 5; i++ {
		cmd := sys(fmt.Sprintf("q%d", i), "sh", "-c", fmt.Sprintf("if [ -e %[1]s/busy ]; then echo overlap; fi; touch %[1]s/busy; sleep 0.1; rm %[1]s/busy; date +%%s%%N", dir))
		cmd.Queue = "serial"
		m.Submit(cmd)
	}
	var last string
	for i := 0; i < 5; i++ {
		r := c.wait(t, fmt.Sprintf("q%d", i), 10*time.Second)
		if strings.Contains(r.Streams[0], "overlap") || r.State != protocol.StateSuccess {
			t.Fatalf("%+v", r)
		}
		if last != "" && len(r.Streams[0]) == len(last) && r.Streams[0] < last {
			t.Fatalf("out of order: %s before %s", last, r.Streams[0])
		}
		last = r.Streams[0]
	}
}

func TestKillQueuedJob(t *testing.T) {
	m, c := newManager(testCfg())
	first := sys("first", "sleep", "1")
	first.Queue = "q"
	second := sys("second", "echo", "never")
	second.Queue = "q"
	m.Submit(first)
	m.Submit(second)
	if err := m.Kill("second", 0); err != nil {
		t.Fatal(err)
	}
	if r := c.wait(t, "second", 5*time.Second); r.State != protocol.StateKilled || r.Streams[0] != "" {
		t.Fatalf("%+v", r)
	}
	c.wait(t, "first", 5*time.Second)
}

func TestDuplicateAndUnknown(t *testing.T) {
	m, c := newManager(testCfg())
	m.Submit(sys("d", "sleep", "0.5"))
	m.Submit(sys("d", "false")) // running: dropped, as in 0-core
	if r := c.wait(t, "d", 5*time.Second); r.State != protocol.StateSuccess {
		t.Fatalf("%+v", r)
	}
	m.Submit(sys("d", "false")) // recently finished: still dropped
	select {
	case r := <-c.ch("d"):
		t.Fatalf("a duplicate got a result: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	c.mu.Lock()
	if len(c.accepted) != 1 || c.accepted[0] != "d" {
		t.Fatalf("accepted %v", c.accepted)
	}
	c.mu.Unlock()
	m.Submit(&protocol.Command{ID: "u", Command: "no.such", Tags: json.RawMessage(`"t"`)})
	if r := c.wait(t, "u", 5*time.Second); r.State != protocol.StateUnknownCmd || string(r.Tags) != `"t"` {
		t.Fatalf("%+v", r)
	}
}

func TestPanicBecomesError(t *testing.T) {
	m, c := newManager(testCfg())
	m.Submit(&protocol.Command{ID: "p", Command: "test.panic"})
	r := c.wait(t, "p", 5*time.Second)
	if r.State != protocol.StateError || r.Code != protocol.CodeInternal || !strings.Contains(r.Data, "boom") {
		t.Fatalf("%+v", r)
	}
}

func TestStreamingAndTruncation(t *testing.T) {
	cfg := testCfg()
	cfg.OutputLimit = 1000
	m, c := newManager(cfg)
	cmd := sys("s", "sh", "-c", "for i in $(seq 1 500); do echo line$i; done; echo e >&2")
	cmd.Stream = true
	m.Submit(cmd)
	r := c.wait(t, "s", 10*time.Second)
	if len(r.Streams[0]) > 1100 || !strings.Contains(r.Streams[0], "truncated") || !strings.HasSuffix(r.Streams[0], "line500\n") {
		t.Fatalf("%d %q", len(r.Streams[0]), r.Streams[0][:60])
	}
	c.mu.Lock()
	n := len(c.lines["s"])
	c.mu.Unlock()
	if n != 501 {
		t.Fatalf("streamed %d lines", n)
	}
}

func TestBackgroundChildDoesNotHang(t *testing.T) {
	m, c := newManager(testCfg())
	m.Submit(sys("bg", "sh", "-c", "sleep 30 & echo started"))
	r := c.wait(t, "bg", 8*time.Second)
	if r.State != protocol.StateSuccess || r.Streams[0] != "started\n" {
		t.Fatalf("%+v", r)
	}
}

func TestBusy(t *testing.T) {
	cfg := testCfg()
	cfg.MaxJobs = 1
	m, c := newManager(cfg)
	m.Submit(&protocol.Command{ID: "b1", Command: "test.block"})
	m.Submit(&protocol.Command{ID: "b2", Command: "test.block"})
	if r := c.wait(t, "b2", 5*time.Second); r.State != protocol.StateError || r.Code != protocol.CodeBusy {
		t.Fatalf("%+v", r)
	}
	m.Shutdown(5 * time.Second)
	if r := c.wait(t, "b1", 5*time.Second); r.State != protocol.StateKilled {
		t.Fatalf("%+v", r)
	}
}

func TestLookPath(t *testing.T) {
	if p, err := LookPath("sh", DefaultPath); err != nil || !strings.HasSuffix(p, "/sh") {
		t.Fatal(p, err)
	}
	if _, err := LookPath("/tmp", DefaultPath); err == nil {
		t.Fatal("directory accepted")
	}
}

func TestMaxRestartRecurringAndLogLevels(t *testing.T) {
	restartDelay = 50 * time.Millisecond
	m, c := newManager(testCfg())
	dir := t.TempDir()
	a, _ := json.Marshal(ProcessSpec{Name: "sh", Args: []string{"-c", "echo x >> " + dir + "/runs; exit 3"}})
	m.Submit(&protocol.Command{ID: "r", Command: "core.system", Arguments: a, MaxRestart: 3})
	if r := c.wait(t, "r", 10*time.Second); r.State != protocol.StateError || r.Code != 1003 {
		t.Fatalf("%+v", r)
	}
	b, _ := os.ReadFile(dir + "/runs")
	if string(b) != "x\nx\nx\n" {
		t.Fatalf("max_restart 3 ran %q", b)
	}
	a, _ = json.Marshal(ProcessSpec{Name: "sh", Args: []string{"-c", "echo y >> " + dir + "/rec"}})
	m.Submit(&protocol.Command{ID: "rec", Command: "core.system", Arguments: a, RecurringPeriod: 1})
	time.Sleep(2500 * time.Millisecond)
	if err := m.Kill("rec", 0); err != nil {
		t.Fatal(err)
	}
	if r := c.wait(t, "rec", 5*time.Second); r.State != protocol.StateKilled {
		t.Fatalf("%+v", r)
	}
	b, _ = os.ReadFile(dir + "/rec")
	if n := strings.Count(string(b), "y"); n < 2 || n > 4 {
		t.Fatalf("recurring every 1s for 2.5s ran %d times", n)
	}
	a, _ = json.Marshal(ProcessSpec{Name: "sh", Args: []string{"-c", "echo out; echo err >&2"}})
	m.Submit(&protocol.Command{ID: "lv", Command: "core.system", Arguments: a, LogLevels: []int{2}, Stream: true})
	r := c.wait(t, "lv", 5*time.Second)
	if r.Streams[0] != "" || r.Streams[1] != "err\n" {
		t.Fatalf("log_levels [2] kept %q", r.Streams)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines["lv"]) != 1 || c.lines["lv"][0] != "stderr:err" {
		t.Fatalf("log_levels [2] streamed %q", c.lines["lv"])
	}
}

func TestSubscribe(t *testing.T) {
	m, c := newManager(testCfg())
	m.Submit(sys("src", "sh", "-c", "sleep 0.3; echo one; echo two >&2"))
	done, err := m.Subscribe("src", "sub")
	if err != nil {
		t.Fatal(err)
	}
	<-done
	c.wait(t, "src", 5*time.Second)
	c.mu.Lock()
	defer c.mu.Unlock()
	got := append([]string(nil), c.lines["sub"]...)
	sort.Strings(got) // stdout and stderr are read by separate goroutines
	if strings.Join(got, ",") != "stderr:two,stdout:one" || len(c.lines["src"]) != 0 {
		t.Fatalf("sub %q src %q", c.lines["sub"], c.lines["src"])
	}
	if _, err := m.Subscribe("nope", "sub"); err != ErrNoJob {
		t.Fatalf("subscribe to unknown job: %v", err)
	}
}
