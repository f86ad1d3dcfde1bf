// Package mgmttest runs a real management redis (TLS, ACLs) for tests of
// outbound mode, in the spirit of net/http/httptest.
package mgmttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"zos-build/agent/internal/outbound"
	"zos-build/agent/internal/resp"
)

// Mgmt is a real redis-server with TLS only (no plain port) and the
// password "admin" for the default user, as an operator's management redis.
type Mgmt struct {
	DER      []byte // its certificate
	t        *testing.T
	port     int
	dir      string
	certFile string
	cmd      *exec.Cmd
}

// New starts one for the test (skipped without redis-server); it stops with the test.
func New(t *testing.T) *Mgmt {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	m := &Mgmt{t: t, dir: t.TempDir()}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mgmt"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	m.DER = der
	kb, _ := x509.MarshalECPrivateKey(key)
	m.certFile = filepath.Join(m.dir, "cert.pem")
	os.WriteFile(m.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(m.dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	m.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	m.Start()
	return m
}

// Start starts (or restarts, on the same port and certificate) the server; ACL users do not survive.
func (m *Mgmt) Start() {
	m.cmd = exec.Command("redis-server", "--port", "0", "--tls-port", strconv.Itoa(m.port), "--bind", "127.0.0.1",
		"--tls-cert-file", m.certFile, "--tls-key-file", filepath.Join(m.dir, "key.pem"), "--tls-auth-clients", "no",
		"--requirepass", "admin", "--save", "", "--appendonly", "no", "--dir", m.dir)
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(m.Stop)
	for i := 0; i < 100; i++ {
		if c, err := m.Admin(); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.t.Fatal("management redis did not start")
}

// Stop kills the server.
func (m *Mgmt) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
}

// Target is its rediss:// address.
func (m *Mgmt) Target() outbound.Target {
	addr := "127.0.0.1:" + strconv.Itoa(m.port)
	return outbound.Target{URL: "rediss://" + addr, Addr: addr, TLS: true}
}

// Pin is the SHA-256 of its certificate.
func (m *Mgmt) Pin() []byte {
	sum := sha256.Sum256(m.DER)
	return sum[:]
}

// Admin is a connection as the operator.
func (m *Mgmt) Admin() (*resp.Conn, error) {
	return resp.Dial(resp.Options{Network: "tcp", Addr: m.Target().Addr, Password: "admin",
		TLS: outbound.TLSConfig(m.Pin(), nil), DialTimeout: 2 * time.Second})
}

// Do runs one command as the operator; an error reply fails the test.
func (m *Mgmt) Do(args ...string) resp.Value {
	m.t.Helper()
	c, err := m.Admin()
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

// Admit runs the ACL SETUSER of zos-build agent admit for id.
func (m *Mgmt) Admit(id outbound.Identity) { m.Do(outbound.ACLSetUser(id.Node, id.Hash())...) }
