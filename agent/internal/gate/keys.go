// Package gate serves the node's management port: a RESP front that lets a
// client in only after AUTH with a token signed by an operator key, then
// splices the connection to the local redis-server's unix socket.
package gate

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
)

// KeyPrefix starts the text form of an operator public key:
// "ed25519:" + unpadded base64url of the 32 key bytes.
const KeyPrefix = "ed25519:"

// ParseKeys reads a comma or space separated list of operator public keys.
// An empty list is not an error (the caller decides what a node without
// keys does); a malformed key is, naming the key by its position.
func ParseKeys(list string) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	fields := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for i, f := range fields {
		k, err := ParseKey(f)
		if err != nil {
			return nil, fmt.Errorf("operator key %d (%.20s...): %v", i+1, f, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// ParseKey reads one key in its text form.
func ParseKey(s string) (ed25519.PublicKey, error) {
	if !strings.HasPrefix(s, KeyPrefix) {
		return nil, fmt.Errorf("must start with %q", KeyPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s[len(KeyPrefix):], "="))
	if err != nil {
		return nil, fmt.Errorf("not base64url: %v", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%d bytes, an Ed25519 public key has %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// FormatKey is the text form of a public key (the inverse of ParseKey).
func FormatKey(k ed25519.PublicKey) string {
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(k)
}
