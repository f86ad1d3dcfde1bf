package gate

import (
	"bufio"
	"crypto/ed25519"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"zos-build/agent/internal/clog"
	"zos-build/agent/internal/reaper"
	"zos-build/agent/internal/redisd"
	"zos-build/agent/internal/redisd/redistest"
)

func init() { clog.SetOutput(io.Discard) }

// startRedis runs a real redis-server on a unix socket only, as on a node.
func startRedis(t *testing.T) string {
	_, cfg := redistest.Start(t, redisd.Config{}, reaper.New())
	return cfg.SocketPath()
}

type session struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func (s *session) send(raw string) {
	s.t.Helper()
	if _, err := io.WriteString(s.c, raw); err != nil {
		s.t.Fatal(err)
	}
}

// line reads one reply line (the first line of aggregate replies).
func (s *session) line() string {
	s.t.Helper()
	s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := s.r.ReadString('\n')
	if err != nil {
		s.t.Fatalf("reading a reply: %v (got %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

func cmd(args ...string) string { return string(encodeCommand(args)) }

func startFront(t *testing.T, withTLS bool, v *Verifier) (*Front, string, *Identity) {
	sock := startRedis(t)
	f := &Front{Verifier: v, Upstream: func() (net.Conn, error) { return net.Dial("unix", sock) }}
	var id *Identity
	if withTLS {
		var err error
		if id, err = NewIdentity("zos-test"); err != nil {
			t.Fatal(err)
		}
		f.TLS = id.ServerConfig()
	}
	if err := f.Listen([]string{"127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	go f.Serve()
	t.Cleanup(f.Close)
	return f, f.Addrs()[0].String(), id
}

func TestFrontTLSAndTokens(t *testing.T) {
	pub, priv := newKey(t)
	v := &Verifier{Keys: []ed25519.PublicKey{pub}, Audiences: []string{"zos-test"}}
	_, addr, id := startFront(t, true, v)
	good := mint(t, priv, eddsa, map[string]interface{}{"aud": "zos-test", "exp": time.Now().Add(time.Minute).Unix()})
	expired := mint(t, priv, eddsa, map[string]interface{}{"aud": "zos-test", "exp": time.Now().Add(-time.Minute).Unix()})

	dial := func() *session {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if got := Fingerprint(c.ConnectionState().PeerCertificates[0].Raw); got != id.Fingerprint {
			t.Fatalf("served certificate %s, identity %s", got, id.Fingerprint)
		}
		return &session{t, c, bufio.NewReader(c)}
	}

	s := dial()
	s.send(cmd("PING"))
	if l := s.line(); !strings.HasPrefix(l, "-NOAUTH") {
		t.Fatalf("PING before AUTH: %q", l)
	}
	s.send(cmd("AUTH", expired))
	if l := s.line(); l != strings.TrimSpace(replyWrongPass) {
		t.Fatalf("expired token: %q", l)
	}
	s.send(cmd("HELLO", "3"))
	if l := s.line(); !strings.HasPrefix(l, "-NOAUTH HELLO") {
		t.Fatalf("HELLO without AUTH: %q", l)
	}
	// AUTH with a user name, and commands pipelined behind it in the same write, as clients do.
	s.send(cmd("AUTH", "default", good) + cmd("SET", "k", "v") + cmd("GET", "k"))
	for _, want := range []string{"+OK", "+OK", "$1", "v"} {
		if l := s.line(); l != want {
			t.Fatalf("after AUTH: got %q, want %q", l, want)
		}
	}

	// HELLO 3 AUTH: redis itself answers the protocol switch with a map.
	s = dial()
	s.send(cmd("HELLO", "3", "AUTH", "default", good, "SETNAME", "t") + cmd("CLIENT", "GETNAME"))
	if l := s.line(); !strings.HasPrefix(l, "%") {
		t.Fatalf("HELLO 3 AUTH: %q", l)
	}
	for l := s.line(); l != "t"; l = s.line() {
	}

	// Three refused tokens close the connection.
	s = dial()
	for i := 0; i < maxFailures; i++ {
		s.send(cmd("AUTH", "not-a-token"))
		if l := s.line(); !strings.HasPrefix(l, "-WRONGPASS") {
			t.Fatalf("bad token %d: %q", i, l)
		}
	}
	s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.r.ReadByte(); err == nil {
		t.Fatal("connection still open after repeated refused tokens")
	}

	// Plain RESP on a TLS port gets nothing.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, cmd("AUTH", good))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(c); strings.Contains(string(b), "+OK") {
		t.Fatalf("plain client was answered %q", b)
	}
}

func TestFrontInsecurePassesThrough(t *testing.T) {
	_, addr, _ := startFront(t, false, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := &session{t, c, bufio.NewReader(c)}
	s.send(cmd("PING") + "PING\r\n")
	if a, b := s.line(), s.line(); a != "+PONG" || b != "+PONG" {
		t.Fatalf("%q %q", a, b)
	}
	// QUIT: redis answers before the splice closes.
	s.send(cmd("QUIT"))
	if l := s.line(); l != "+OK" {
		t.Fatalf("QUIT: %q", l)
	}
}
