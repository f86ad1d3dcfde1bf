// Package outbound is core0's outbound mode (docs/protocol.md, "Outbound
// mode"): instead of listening, the node dials a management redis over
// TLS, proves who it is with an identity generated at boot, and serves the
// usual protocol under its own key prefix there.
package outbound

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"zos-build/agent/internal/resp"
)

// Commands are the only commands a node's ACL user may run on the management
// redis (AUTH is always allowed): what the command loop and its result and
// stream writers send. `zos-build agent admit` grants exactly these.
var Commands = []string{"ping", "blpop", "rpush", "expire", "ltrim"}

// Target is a parsed management URL.
type Target struct {
	URL  string // as given, for messages
	Addr string // host:port
	TLS  bool
}

// ParseURL reads zos.mgmt=. rediss:// is required; plain redis:// is
// accepted only on an insecure (development) node.
func ParseURL(raw string, insecure bool) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Target{}, fmt.Errorf("zos.mgmt=%q: not a URL like rediss://HOST:PORT", raw)
	}
	t := Target{URL: raw}
	switch u.Scheme {
	case "rediss":
		t.TLS = true
	case "redis":
		if !insecure {
			return Target{}, fmt.Errorf("zos.mgmt=%q: plain redis:// sends everything in clear; use rediss:// "+
				"(redis:// is accepted only with zos.insecure)", raw)
		}
	default:
		return Target{}, fmt.Errorf("zos.mgmt=%q: scheme must be rediss://", raw)
	}
	if u.User != nil {
		return Target{}, fmt.Errorf("zos.mgmt=%q: no credentials in the URL: the node authenticates with the "+
			"identity it generates at boot", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return Target{}, fmt.Errorf("zos.mgmt=%q: only rediss://HOST:PORT is accepted (no path or query)", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "6379"
	}
	t.Addr = net.JoinHostPort(host, port)
	return t, nil
}

// ParsePin reads zos.mgmt-pin=sha256:<hex> (64 hex digits, colons allowed,
// any case) and returns the digest.
func ParsePin(raw string) ([]byte, error) {
	v := strings.TrimPrefix(strings.ToLower(raw), "sha256:")
	if v == strings.ToLower(raw) {
		return nil, fmt.Errorf("zos.mgmt-pin=%q: must start with sha256:", raw)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(v, ":", ""))
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("zos.mgmt-pin=%q: expected sha256: and 64 hex digits (the SHA-256 of the "+
			"management redis certificate, e.g. openssl x509 -noout -fingerprint -sha256)", raw)
	}
	return b, nil
}

// Fingerprint is how pins are written: sha256:<hex of the DER certificate>.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TLSConfig trusts exactly the certificate whose SHA-256 is pin (no CA, no
// host name: the pin is the server's identity). With a nil pin (insecure
// development nodes only) it accepts any certificate and reports its
// fingerprint to seen.
func TLSConfig(pin []byte, seen func(fingerprint string)) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyConnection's pin check
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("management redis sent no certificate")
			}
			der := cs.PeerCertificates[0].Raw
			if pin == nil {
				seen(Fingerprint(der))
				return nil
			}
			sum := sha256.Sum256(der)
			if !bytes.Equal(sum[:], pin) {
				return fmt.Errorf("management redis certificate is %s, not the pinned sha256:%x: refusing it",
					Fingerprint(der), pin)
			}
			return nil
		},
	}
}

// Identity is who the node is on the management redis: its name and a
// secret generated at boot that lives only in core0's memory. The operator
// sees only its SHA-256, which is what a redis ACL `#<hash>` password holds.
type Identity struct {
	Node   string
	secret string
}

// NewIdentity draws a fresh 256-bit secret for node.
func NewIdentity(node string) (Identity, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Identity{}, err
	}
	return Identity{Node: node, secret: hex.EncodeToString(b)}, nil
}

// Hash is the SHA-256 (hex) of the secret: public, printed on the console.
func (i Identity) Hash() string {
	sum := sha256.Sum256([]byte(i.secret))
	return hex.EncodeToString(sum[:])
}

// User is the node's ACL user name on the management redis.
func (i Identity) User() string { return "node-" + i.Node }

// Prefix is the key prefix of everything the node reads and writes.
func (i Identity) Prefix() string { return KeyPrefix(i.Node) }

// KeyPrefix is node:<id>: (the only keys node id may touch).
func KeyPrefix(node string) string { return "node:" + node + ":" }

// ACLSetUser is the ACL SETUSER command that admits node with secret hash
// sha256hex: only its own keys, no channels, only Commands.
func ACLSetUser(node, sha256hex string) []string {
	args := []string{"ACL", "SETUSER", "node-" + node, "reset", "on", "#" + sha256hex,
		"~" + KeyPrefix(node) + "*", "resetchannels", "-@all"}
	for _, c := range Commands {
		args = append(args, "+"+c)
	}
	return args
}

// DialOptions connects to t as the node's ACL user.
func DialOptions(t Target, id Identity, tlsConf *tls.Config) resp.Options {
	o := resp.Options{Network: "tcp", Addr: t.Addr, Username: id.User(), Password: id.secret,
		DialTimeout: 10 * time.Second}
	if t.TLS {
		o.TLS = tlsConf
	}
	return o
}

// Hint turns a failure to reach the management redis into console advice.
func Hint(err error, t Target, id Identity) string {
	var e resp.Error
	if errors.As(err, &e) {
		switch e.Prefix() {
		case "WRONGPASS":
			return fmt.Sprintf("waiting for admission on %s: the operator runs `zos-build agent admit --mgmt %s "+
				"--node %s --sha256 %s` (node user %s)", t.URL, t.URL, id.Node, id.Hash(), id.User())
		case "NOPERM":
			return fmt.Sprintf("user %s on %s lacks a command core0 needs (%s): %v; admit the node again",
				id.User(), t.URL, strings.Join(Commands, " "), err)
		}
	}
	return fmt.Sprintf("cannot reach management redis %s: %v", t.URL, err)
}
