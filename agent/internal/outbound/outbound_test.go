package outbound_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"zos-build/agent/internal/agent"
	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/jobs"
	"zos-build/agent/internal/outbound"
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

// mgmt is a real redis-server with TLS only (no plain port) and an admin
// password for the default user, as an operator's management redis.
type mgmt struct {
	t        *testing.T
	port     int
	dir      string
	certFile string
	der      []byte
	cmd      *exec.Cmd
}

func newMgmt(t *testing.T) *mgmt {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	m := &mgmt{t: t, dir: t.TempDir()}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mgmt"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	m.der = der
	kb, _ := x509.MarshalECPrivateKey(key)
	m.certFile = filepath.Join(m.dir, "cert.pem")
	os.WriteFile(m.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(m.dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	m.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	m.start()
	return m
}

func (m *mgmt) start() {
	m.cmd = exec.Command("redis-server", "--port", "0", "--tls-port", strconv.Itoa(m.port), "--bind", "127.0.0.1",
		"--tls-cert-file", m.certFile, "--tls-key-file", filepath.Join(m.dir, "key.pem"), "--tls-auth-clients", "no",
		"--requirepass", "admin", "--save", "", "--appendonly", "no", "--dir", m.dir)
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(m.stop)
	for i := 0; i < 100; i++ {
		if c, err := m.admin(); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.t.Fatal("management redis did not start")
}

func (m *mgmt) stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
}

func (m *mgmt) target() outbound.Target {
	addr := "127.0.0.1:" + strconv.Itoa(m.port)
	return outbound.Target{URL: "rediss://" + addr, Addr: addr, TLS: true}
}

func (m *mgmt) pin() []byte {
	sum := sha256.Sum256(m.der)
	return sum[:]
}

func (m *mgmt) admin() (*resp.Conn, error) {
	return resp.Dial(resp.Options{Network: "tcp", Addr: m.target().Addr, Password: "admin",
		TLS: outbound.TLSConfig(m.pin(), nil), DialTimeout: 2 * time.Second})
}

func (m *mgmt) do(args ...string) resp.Value {
	m.t.Helper()
	c, err := m.admin()
	if err != nil {
		m.t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Do(15*time.Second, args...)
	if err != nil {
		m.t.Fatalf("%v: %v", args, err)
	}
	return v
}

func (m *mgmt) admit(id outbound.Identity) { m.do(outbound.ACLSetUser(id.Node, id.Hash())...) }

// node runs the real command loop for id against m, as core0 does in outbound mode.
func node(t *testing.T, m *mgmt, id outbound.Identity, hints chan<- string) *agent.Server {
	pool := resp.NewPool(outbound.DialOptions(m.target(), id, outbound.TLSConfig(m.pin(), nil)), 4)
	srv := agent.New("test", pool, reaper.New(), jobs.DefaultConfig)
	srv.KeyPrefix = id.Prefix()
	srv.MaxBackoff = 200 * time.Millisecond
	srv.DialHint = func(err error) string {
		h := outbound.Hint(err, m.target(), id)
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
func run(t *testing.T, m *mgmt, id outbound.Identity, jobID, word string) (protocol.Result, []string) {
	t.Helper()
	p := id.Prefix()
	cmd := `{"id":"` + jobID + `","command":"core.system",` +
		`"arguments":{"name":"echo","args":["` + word + `"]},"stream":true}`
	m.do("RPUSH", p+protocol.QueueKey, cmd)
	v := m.do("BLPOP", p+protocol.ResultPrefix+jobID, "10")
	if v.Nil {
		t.Fatalf("no result for %s under %s", jobID, p)
	}
	var r protocol.Result
	if err := json.Unmarshal([]byte(v.Array[1].Str), &r); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range m.do("LRANGE", p+protocol.StreamPrefix+jobID, "0", "-1").Array {
		var rec struct{ Message struct{ Message string } }
		json.Unmarshal([]byte(e.Str), &rec)
		lines = append(lines, rec.Message.Message)
	}
	return r, lines
}

func TestNodeWaitsForAdmissionThenServesUnderItsPrefix(t *testing.T) {
	m := newMgmt(t)
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
	m.admit(id)
	r, lines := run(t, m, id, "j1", "hello")
	if r.State != protocol.StateSuccess || r.Streams[0] != "hello\n" {
		t.Fatalf("result %+v", r)
	}
	if len(lines) != 2 || lines[0] != "hello" || lines[1] != "" {
		t.Fatalf("stream %q", lines)
	}
	// Nothing was written outside the node's prefix.
	for _, k := range m.do("KEYS", "*").Array {
		if !strings.HasPrefix(k.Str, id.Prefix()) {
			t.Errorf("key %s outside %s", k.Str, id.Prefix())
		}
	}
}

func TestNodeCannotTouchAnotherNodesKeys(t *testing.T) {
	m := newMgmt(t)
	a, _ := outbound.NewIdentity("zos-a")
	b, _ := outbound.NewIdentity("zos-b")
	m.admit(a)
	m.admit(b)
	m.do("RPUSH", b.Prefix()+"result:x", "secret")
	c, err := resp.Dial(outbound.DialOptions(m.target(), a, outbound.TLSConfig(m.pin(), nil)))
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
	if v := m.do("LRANGE", b.Prefix()+"result:x", "0", "-1"); len(v.Array) != 1 || v.Array[0].Str != "secret" {
		t.Fatalf("node b's key changed: %+v", v)
	}
	// B's secret is not A's: A's password does not log in as B.
	_, err = resp.Dial(resp.Options{Network: "tcp", Addr: m.target().Addr, Username: b.User(),
		Password: "wrong", TLS: outbound.TLSConfig(m.pin(), nil)})
	if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password for %s: %v", b.User(), err)
	}
}

func TestWrongPinIsRefused(t *testing.T) {
	m := newMgmt(t)
	id, _ := outbound.NewIdentity("zos-a")
	m.admit(id)
	bad := sha256.Sum256([]byte("another certificate"))
	_, err := resp.Dial(outbound.DialOptions(m.target(), id, outbound.TLSConfig(bad[:], nil)))
	if err == nil || !strings.Contains(err.Error(), "not the pinned") {
		t.Fatalf("dial with a wrong pin: %v", err)
	}
	var mu sync.Mutex
	var seen string
	c, err := resp.Dial(outbound.DialOptions(m.target(), id, outbound.TLSConfig(nil, func(fp string) {
		mu.Lock()
		seen = fp
		mu.Unlock()
	})))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if seen != outbound.Fingerprint(m.der) {
		t.Fatalf("unpinned dial saw %s, want %s", seen, outbound.Fingerprint(m.der))
	}
}

func TestNodeReconnectsAfterManagementRestart(t *testing.T) {
	m := newMgmt(t)
	id, _ := outbound.NewIdentity("zos-a")
	m.admit(id)
	hints := make(chan string, 16)
	node(t, m, id, hints)
	if r, _ := run(t, m, id, "r1", "before"); r.State != protocol.StateSuccess {
		t.Fatalf("%+v", r)
	}
	m.stop()
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
	m.start() // a fresh server: users are gone until the operator admits again
	m.admit(id)
	if r, lines := run(t, m, id, "r2", "after"); r.State != protocol.StateSuccess || len(lines) != 2 {
		t.Fatalf("after restart: %+v %q", r, lines)
	}
}

func TestNodeWithTooNarrowACLSaysSo(t *testing.T) {
	m := newMgmt(t)
	id, _ := outbound.NewIdentity("zos-a")
	// An ACL written by hand without BLPOP: the node logs in but cannot pop its queue.
	m.do("ACL", "SETUSER", id.User(), "on", "#"+id.Hash(), "~"+id.Prefix()+"*", "-@all", "+ping", "+rpush")
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
