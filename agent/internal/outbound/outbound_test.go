package outbound_test

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"zos-build/agent/internal/agent"
	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/outbound"
	"zos-build/agent/internal/outbound/mgmttest"
	"zos-build/agent/internal/protocol"
	"zos-build/agent/internal/reaper"
	"zos-build/agent/internal/resp"
)

func init() { clog.SetOutput(io.Discard) }

func TestParseURL(t *testing.T) {
	tg, err := outbound.ParseURL("rediss://10.0.2.2:6380", false)
	if err != nil || tg.Addr != "10.0.2.2:6380" || !tg.TLS {
		t.Fatalf("%+v %v", tg, err)
	}
	if tg, err = outbound.ParseURL("rediss://[fd00::1]", false); err != nil || tg.Addr != "[fd00::1]:6379" {
		t.Fatalf("%+v %v", tg, err)
	}
	for raw, want := range map[string]string{
		"redis://h:1":         "only with zos.insecure",
		"http://h:1":          "scheme must be rediss",
		"rediss://u:pw@h:1":   "no credentials",
		"rediss://h:1/0":      "no path",
		"h:1":                 "rediss",
		"rediss:///only-path": "not a URL",
	} {
		if _, err := outbound.ParseURL(raw, false); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", raw, err, want)
		}
	}
	if _, err := outbound.ParseURL("redis://h:1", true); err != nil {
		t.Errorf("redis:// on an insecure node: %v", err)
	}
}

func TestParsePin(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	hexs := strings.ToUpper(strings.TrimPrefix(outbound.Fingerprint([]byte("x")), "sha256:"))
	var colons []string
	for i := 0; i < len(hexs); i += 2 {
		colons = append(colons, hexs[i:i+2])
	}
	for _, p := range []string{"sha256:" + hexs, "SHA256:" + strings.Join(colons, ":")} {
		b, err := outbound.ParsePin(p)
		if err != nil || string(b) != string(sum[:]) {
			t.Errorf("%s: %x %v", p, b, err)
		}
	}
	for _, p := range []string{hexs, "sha256:abc", "sha1:" + hexs} {
		if _, err := outbound.ParsePin(p); err == nil {
			t.Errorf("%s accepted", p)
		}
	}
}

func TestACLSetUser(t *testing.T) {
	got := strings.Join(outbound.ACLSetUser("zos-5254", "ab"), " ")
	want := "ACL SETUSER node-zos-5254 reset on #ab ~node:zos-5254:* resetchannels -@all " +
		"+ping +blpop +rpush +expire +ltrim"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// node runs the real command loop for id against m, as core0 does in outbound mode.
func node(t *testing.T, m *mgmttest.Mgmt, id outbound.Identity, hints chan<- string) *agent.Server {
	pool := resp.NewPool(outbound.DialOptions(m.Target(), id, outbound.TLSConfig(m.Pin(), nil)), 4)
	srv := agent.New("test", pool, reaper.New(), jobs.DefaultConfig)
	srv.KeyPrefix = id.Prefix()
	srv.MaxBackoff = 200 * time.Millisecond
	srv.DialHint = func(err error) string {
		h := outbound.Hint(err, m.Target(), id)
		select {
		case hints <- h:
		default:
		}
		return h
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Stop(2 * time.Second) })
	return srv
}

// run pushes a streamed echo to node id's queue and returns its result and streamed lines.
func run(t *testing.T, m *mgmttest.Mgmt, id outbound.Identity, jobID, word string) (protocol.Result, []string) {
	t.Helper()
	p := id.Prefix()
	cmd := `{"id":"` + jobID + `","command":"core.system",` +
		`"arguments":{"name":"echo","args":["` + word + `"]},"stream":true}`
	m.Do("RPUSH", p+protocol.QueueKey, cmd)
	v := m.Do("BLPOP", p+protocol.ResultPrefix+jobID, "10")
	if v.Nil {
		t.Fatalf("no result for %s under %s", jobID, p)
	}
	var r protocol.Result
	if err := json.Unmarshal([]byte(v.Array[1].Str), &r); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range m.Do("LRANGE", p+protocol.StreamPrefix+jobID, "0", "-1").Array {
		var rec struct{ Message struct{ Message string } }
		json.Unmarshal([]byte(e.Str), &rec)
		lines = append(lines, rec.Message.Message)
	}
	return r, lines
}

func TestNodeWaitsForAdmissionThenServesUnderItsPrefix(t *testing.T) {
	m := mgmttest.New(t)
	id, _ := outbound.NewIdentity("zos-a")
	hints := make(chan string, 1)
	node(t, m, id, hints)
	select {
	case h := <-hints:
		if !strings.Contains(h, "waiting for admission") || !strings.Contains(h, id.Hash()) {
			t.Fatalf("hint before admission: %s", h)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no dial failure reported before admission")
	}
	m.Admit(id)
	r, lines := run(t, m, id, "j1", "hello")
	if r.State != protocol.StateSuccess || r.Streams[0] != "hello\n" {
		t.Fatalf("result %+v", r)
	}
	if len(lines) != 2 || lines[0] != "hello" || lines[1] != "" {
		t.Fatalf("stream %q", lines)
	}
	// Nothing was written outside the node's prefix.
	for _, k := range m.Do("KEYS", "*").Array {
		if !strings.HasPrefix(k.Str, id.Prefix()) {
			t.Errorf("key %s outside %s", k.Str, id.Prefix())
		}
	}
}

func TestNodeCannotTouchAnotherNodesKeys(t *testing.T) {
	m := mgmttest.New(t)
	a, _ := outbound.NewIdentity("zos-a")
	b, _ := outbound.NewIdentity("zos-b")
	m.Admit(a)
	m.Admit(b)
	m.Do("RPUSH", b.Prefix()+"result:x", "secret")
	c, err := resp.Dial(outbound.DialOptions(m.Target(), a, outbound.TLSConfig(m.Pin(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do(time.Second, "RPUSH", a.Prefix()+"result:x", "mine"); err != nil {
		t.Fatalf("own key: %v", err)
	}
	for _, cmd := range [][]string{
		{"RPUSH", b.Prefix() + "core:default", "{}"},
		{"BLPOP", b.Prefix() + "result:x", "1"},
		{"EXPIRE", b.Prefix() + "result:x", "1"},
		{"RPUSH", "core:default", "{}"},
		{"LRANGE", a.Prefix() + "result:x", "0", "-1"}, // not a command core0 needs
		{"GET", b.Prefix() + "result:x"},
		{"KEYS", "*"},
		{"ACL", "LIST"},
	} {
		_, err := c.Do(2*time.Second, cmd...)
		if err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
			t.Errorf("%v as %s: %v, want NOPERM", cmd, a.User(), err)
		}
	}
	if v := m.Do("LRANGE", b.Prefix()+"result:x", "0", "-1"); len(v.Array) != 1 || v.Array[0].Str != "secret" {
		t.Fatalf("node b's key changed: %+v", v)
	}
	// B's secret is not A's: A's password does not log in as B.
	_, err = resp.Dial(resp.Options{Network: "tcp", Addr: m.Target().Addr, Username: b.User(),
		Password: "wrong", TLS: outbound.TLSConfig(m.Pin(), nil)})
	if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password for %s: %v", b.User(), err)
	}
}

func TestWrongPinIsRefused(t *testing.T) {
	m := mgmttest.New(t)
	id, _ := outbound.NewIdentity("zos-a")
	m.Admit(id)
	bad := sha256.Sum256([]byte("another certificate"))
	_, err := resp.Dial(outbound.DialOptions(m.Target(), id, outbound.TLSConfig(bad[:], nil)))
	if err == nil || !strings.Contains(err.Error(), "not the pinned") {
		t.Fatalf("dial with a wrong pin: %v", err)
	}
	var mu sync.Mutex
	var seen string
	c, err := resp.Dial(outbound.DialOptions(m.Target(), id, outbound.TLSConfig(nil, func(fp string) {
		mu.Lock()
		seen = fp
		mu.Unlock()
	})))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if seen != outbound.Fingerprint(m.DER) {
		t.Fatalf("unpinned dial saw %s, want %s", seen, outbound.Fingerprint(m.DER))
	}
}

func TestNodeReconnectsAfterManagementRestart(t *testing.T) {
	m := mgmttest.New(t)
	id, _ := outbound.NewIdentity("zos-a")
	m.Admit(id)
	hints := make(chan string, 16)
	node(t, m, id, hints)
	if r, _ := run(t, m, id, "r1", "before"); r.State != protocol.StateSuccess {
		t.Fatalf("%+v", r)
	}
	m.Stop()
	for len(hints) > 0 {
		<-hints
	}
	select {
	case h := <-hints:
		if !strings.Contains(h, "cannot reach management redis") {
			t.Fatalf("hint while down: %s", h)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no dial failure reported while the management redis is down")
	}
	m.Start() // a fresh server: users are gone until the operator admits again
	m.Admit(id)
	if r, lines := run(t, m, id, "r2", "after"); r.State != protocol.StateSuccess || len(lines) != 2 {
		t.Fatalf("after restart: %+v %q", r, lines)
	}
}

func TestNodeWithTooNarrowACLSaysSo(t *testing.T) {
	m := mgmttest.New(t)
	id, _ := outbound.NewIdentity("zos-a")
	// An ACL written by hand without BLPOP: the node logs in but cannot pop its queue.
	m.Do("ACL", "SETUSER", id.User(), "on", "#"+id.Hash(), "~"+id.Prefix()+"*", "-@all", "+ping", "+rpush")
	hints := make(chan string, 1)
	node(t, m, id, hints)
	select {
	case h := <-hints:
		if !strings.Contains(h, "lacks a command core0 needs") {
			t.Fatalf("hint: %s", h)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no hint for a NOPERM on BLPOP")
	}
}
