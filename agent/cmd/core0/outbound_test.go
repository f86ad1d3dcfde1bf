package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"zos-build/agent/internal/outbound"
	"zos-build/agent/internal/outbound/mgmttest"
	"zos-build/agent/internal/protocol"
)

// The test binary doubles as core0 (not PID 1) when CORE0_UNDER_TEST is set.
func TestMain(m *testing.M) {
	if os.Getenv("CORE0_UNDER_TEST") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// proc is a core0 process with its console lines.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	seen  []string
}

func startCore0(t *testing.T, cmdline string) *proc {
	dir := t.TempDir()
	cl := filepath.Join(dir, "cmdline")
	if err := os.WriteFile(cl, []byte(cmdline), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-cmdline", cl, "-config", filepath.Join(dir, "none.conf"), "-run-dir", dir)
	cmd.Env = append(os.Environ(), "CORE0_UNDER_TEST=1")
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return p
}

// waitLine returns the submatches of the first console line matching re.
func (p *proc) waitLine(t *testing.T, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("core0 exited before printing %q:\n%s", re, strings.Join(p.seen, "\n"))
			}
			p.seen = append(p.seen, l)
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("no %q within %s:\n%s", re, timeout, strings.Join(p.seen, "\n"))
		}
	}
}

func (p *proc) exitCode(t *testing.T, timeout time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatal("core0 did not exit")
	}
	return -1
}

func TestOutboundRefusesWithoutPinOrTLS(t *testing.T) {
	for cmdline, want := range map[string]string{
		"zos.mgmt=rediss://127.0.0.1:1 hostname=zos-t":                    "WITHOUT zos.mgmt-pin: core0 refuses to dial",
		"zos.mgmt=redis://127.0.0.1:1 hostname=zos-t":                     "plain redis:// sends everything in clear",
		"zos.mgmt=rediss://127.0.0.1:1 zos.mgmt-pin=sha256:ab hostname=x": "expected sha256: and 64 hex digits",
	} {
		p := startCore0(t, cmdline)
		p.waitLine(t, regexp.QuoteMeta(want), 10*time.Second)
		if code := p.exitCode(t, 10*time.Second); code != 2 {
			t.Errorf("%s: exit code %d, want 2", cmdline, code)
		}
	}
}

// listeningSockets returns the listening TCP sockets (IPv4 and IPv6) process pid holds.
func listeningSockets(t *testing.T, pid int) []string {
	listen := map[string]string{} // inode -> local address
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(l)
			if len(fs) > 9 && fs[3] == "0A" {
				listen[fs[9]] = fs[1]
			}
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range fds {
		link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if strings.HasPrefix(link, "socket:[") {
			if addr, ok := listen[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")]; ok {
				out = append(out, addr)
			}
		}
	}
	return out
}

func TestOutboundCore0ServesThroughManagementAndListensNowhere(t *testing.T) {
	// The check can fail: this test process's own listener is found.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if len(listeningSockets(t, os.Getpid())) == 0 {
		t.Fatal("listeningSockets does not see this test's own listener")
	}
	l.Close()

	m := mgmttest.New(t)
	p := startCore0(t, fmt.Sprintf("zos.mgmt=%s zos.mgmt-pin=%s hostname=zos-e2e",
		m.Target().URL, outbound.Fingerprint(m.DER)))
	id := p.waitLine(t, `outbound identity node=(\S+) sha256=([0-9a-f]{64})`, 10*time.Second)
	if id[1] != "zos-e2e" {
		t.Fatalf("node id %s", id[1])
	}
	p.waitLine(t, `waiting for admission on `+regexp.QuoteMeta(m.Target().URL), 10*time.Second)
	m.Do(outbound.ACLSetUser(id[1], id[2])...)
	p.waitLine(t, `connected to redis .*, queue node:zos-e2e:core:default`, 20*time.Second)

	prefix := outbound.KeyPrefix("zos-e2e")
	m.Do("RPUSH", prefix+protocol.QueueKey, `{"id":"e1","command":"core.ping"}`)
	v := m.Do("BLPOP", prefix+protocol.ResultPrefix+"e1", "10")
	if v.Nil {
		t.Fatal("no result")
	}
	var r protocol.Result
	json.Unmarshal([]byte(v.Array[1].Str), &r)
	if r.State != protocol.StateSuccess || !strings.HasPrefix(r.Data, `"PONG `) {
		t.Fatalf("%+v", r)
	}
	if socks := listeningSockets(t, p.cmd.Process.Pid); len(socks) != 0 {
		t.Fatalf("core0 in outbound mode listens on %v", socks)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.exitCode(t, 20*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
}
