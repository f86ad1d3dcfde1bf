package redisd

import (
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/reaper"
	"zos-build/agent/internal/resp"
)

func init() { clog.SetOutput(io.Discard) }

func TestRenderRefusesNoPassword(t *testing.T) {
	if _, err := Render(Config{Port: 6379, Bind: "0.0.0.0", RunDir: "/run/core0"}); err == nil {
		t.Fatal("rendered without password")
	}
	s, err := Render(Config{Port: 6379, Bind: "0.0.0.0", RunDir: "/run/core0", Insecure: true})
	if err != nil || !strings.Contains(s, "protected-mode no") || strings.Contains(s, "requirepass") {
		t.Fatalf("%v\n%s", err, s)
	}
}

func TestRender(t *testing.T) {
	s, err := Render(Config{Port: 6379, Bind: "0.0.0.0", RunDir: "/run/core0", Password: `a"b\c d`})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"port 6379\n", "bind 0.0.0.0\n", "protected-mode yes\n", `requirepass "a\"b\\c d"`,
		"save \"\"\n", "appendonly no\n", `rename-command CONFIG ""`, `rename-command FLUSHALL ""`, `rename-command SHUTDOWN ""`,
		`unixsocket "/run/core0/redis.sock"`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("x\ny\x01é"); got != `"x\x0ay\x01\xc3\xa9"` {
		t.Fatal(got)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestSupervisorRestartsRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	s := New(Config{Binary: bin, Port: freePort(t), Bind: "127.0.0.1", Password: "pw", RunDir: t.TempDir()}, reaper.New())
	if err := s.Prepare(); err != nil {
		t.Fatal(err)
	}
	go s.Run()
	defer s.Stop(5 * time.Second)
	if err := s.WaitReady(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	c, err := resp.Dial(s.DialOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(time.Second, "CONFIG", "GET", "dir"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("CONFIG not disabled: %v", err)
	}
	c.Close()
	pid := s.Pid()
	syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for (s.Pid() == 0 || s.Pid() == pid) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.WaitReady(10 * time.Second); err != nil || s.Restarts() != 1 {
		t.Fatalf("not restarted: %v restarts=%d", err, s.Restarts())
	}
	s.Stop(5 * time.Second)
	if s.Pid() != 0 {
		t.Fatal("still running after Stop")
	}
}

// A node's redis: no TCP port, no password, only the 0700 unix socket the management port splices to.
func TestRenderSocketOnly(t *testing.T) {
	s, err := Render(Config{RunDir: "/run/core0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"port 0\n", "protected-mode yes\n", `unixsocket "/run/core0/redis.sock"`,
		"unixsocketperm 700\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
	if strings.Contains(s, "bind ") || strings.Contains(s, "requirepass") {
		t.Errorf("socket-only config binds or has a password:\n%s", s)
	}
	_, err = Render(Config{RunDir: "/" + strings.Repeat("x", 100)})
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("a socket path too long for a unix socket: %v", err)
	}
}
