package gate

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxTokenBytes bounds a token before any decoding.
const MaxTokenBytes = 8 << 10

// MaxLifetime is the longest validity (exp minus now) a token may claim:
// tokens are meant to be minted per session, a long-lived one is refused.
const MaxLifetime = 24 * time.Hour

// ClockSkew is how far in the future iat/nbf may be (the node's clock and
// the operator's are not synchronised).
const ClockSkew = 2 * time.Minute

// Verifier checks the tokens a client presents as its AUTH password: a
// compact JWS (JWT) with header alg "EdDSA", signed by one of Keys, not
// expired, and whose aud names one of Audiences.
type Verifier struct {
	Keys      []ed25519.PublicKey
	Audiences []string
	Now       func() time.Time // time.Now when nil
}

// Claims are the registered claims the node reads; others are ignored.
type Claims struct {
	Aud audience `json:"aud"`
	Exp *float64 `json:"exp"`
	Nbf *float64 `json:"nbf"`
	Iat *float64 `json:"iat"`
	Sub string   `json:"sub"`
}

// audience is a JWT "aud": one string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

func decodeSegment(name, s string, dst interface{}) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64url: %v", name, err)
	}
	if dst != nil {
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, fmt.Errorf("%s is not a JSON object: %v", name, err)
		}
	}
	return b, nil
}

func unix(f float64) time.Time { return time.Unix(0, int64(f*1e9)) }

// Verify returns the token's claims, or an error saying why it is refused
// (for the console log; the client only ever sees WRONGPASS).
func (v *Verifier) Verify(token string) (*Claims, error) {
	if len(token) > MaxTokenBytes {
		return nil, fmt.Errorf("token longer than %d bytes", MaxTokenBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT (want header.payload.signature)")
	}
	var hdr struct {
		Alg  string   `json:"alg"`
		Typ  string   `json:"typ"`
		Crit []string `json:"crit"`
	}
	if _, err := decodeSegment("header", parts[0], &hdr); err != nil {
		return nil, err
	}
	if hdr.Alg != "EdDSA" {
		return nil, fmt.Errorf("header alg %q, only EdDSA is accepted", hdr.Alg)
	}
	if len(hdr.Crit) > 0 {
		return nil, fmt.Errorf("header has critical extensions %v the node does not know", hdr.Crit)
	}
	sig, err := decodeSegment("signature", parts[2], nil)
	if err != nil {
		return nil, err
	}
	signed := []byte(parts[0] + "." + parts[1])
	key := -1
	for i, k := range v.Keys {
		if len(sig) == ed25519.SignatureSize && ed25519.Verify(k, signed, sig) {
			key = i
			break
		}
	}
	if key < 0 {
		return nil, fmt.Errorf("signature matches none of the %d operator key(s)", len(v.Keys))
	}
	var c Claims
	if _, err := decodeSegment("payload", parts[1], &c); err != nil {
		return nil, err
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if c.Exp == nil {
		return nil, errors.New("no exp claim (tokens must expire)")
	}
	exp := unix(*c.Exp)
	at := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	if !now.Before(exp) {
		return nil, fmt.Errorf("expired at %s (node time %s)", at(exp), at(now))
	}
	if exp.Sub(now) > MaxLifetime {
		return nil, fmt.Errorf("exp %s is more than %s away: mint short-lived tokens", at(exp), MaxLifetime)
	}
	if c.Nbf != nil && now.Add(ClockSkew).Before(unix(*c.Nbf)) {
		return nil, fmt.Errorf("not valid before %s (node time %s)", at(unix(*c.Nbf)), at(now))
	}
	if c.Iat != nil && now.Add(ClockSkew).Before(unix(*c.Iat)) {
		return nil, fmt.Errorf("issued in the future, at %s (node time %s)", at(unix(*c.Iat)), at(now))
	}
	for _, a := range c.Aud {
		for _, want := range v.Audiences {
			if a == want {
				return &c, nil
			}
		}
	}
	return nil, fmt.Errorf("audience %q names neither this node nor its farm %q", []string(c.Aud), v.Audiences)
}
