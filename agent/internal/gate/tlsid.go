package gate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Identity is the TLS key and self-signed certificate the node generates at
// every boot. The private key lives only in this process' memory; clients
// recognise the node by the certificate's fingerprint, printed on the
// console and returned by the core.tls command.
type Identity struct {
	Cert        tls.Certificate
	Fingerprint string // "sha256:AB:CD:..." of the certificate's DER
}

// NewIdentity generates an ECDSA P-256 key and a self-signed certificate
// for host. The certificate is its own CA (a client pins it or trusts it as
// its only root); its validity spans decades because a node's clock may be
// wrong at boot and the pin, not the dates, is what identifies it.
func NewIdentity(host string) (*Identity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		NotBefore:             time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &Identity{
		Cert:        tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		Fingerprint: Fingerprint(der),
	}, nil
}

// Fingerprint formats the SHA-256 of a DER certificate as "sha256:" and
// colon-separated upper-case hex (the form Node's fingerprint256 and
// `openssl x509 -fingerprint -sha256` print).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	hex := make([]string, len(sum))
	for i, b := range sum {
		hex[i] = fmt.Sprintf("%02X", b)
	}
	return "sha256:" + strings.Join(hex, ":")
}

// ServerConfig is the TLS configuration of the management port (TLS 1.2+).
func (id *Identity) ServerConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{id.Cert}, MinVersion: tls.VersionTLS12}
}
